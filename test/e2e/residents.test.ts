/**
 * Residents and media through the embedded runtime over HTTP: a resident texting the agency's number (the sandbox
 * inbound route), the web sign-up with the code read back from the sandbox outbox, an officer's import and a
 * media webhook. What the resident receives is in the outbox, with the number masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHerald, type TestHerald } from '../helpers/embedded';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald({
    env: { HERALD_WEBHOOK_ALLOW_LOOPBACK: 'true', HERALD_AGENCY_NAME: 'Guàrdia Urbana' },
  });
});
afterAll(async () => {
  await herald?.cleanup();
});

interface OutboxItem {
  channel: string;
  alertId: string;
  version: number;
  recipient: string;
  text: string;
}

const outbox = async (channel: string): Promise<OutboxItem[]> =>
  (
    (await (await herald.call('GET', `/v1/sandbox/outbox?channel=${channel}&alertId=notice`)).json()) as {
      items: OutboxItem[];
    }
  ).items;

const texts = (from: string, body: string) =>
  herald.call('POST', '/v1/sandbox/inbound/sms', { body: { from, body } });

describe('embedded: residents and media over HTTP', () => {
  it('lists the zones publicly', async () => {
    // Act
    const res = await herald.call('GET', '/v1/zones');

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBeTruthy();
    const body = (await res.json()) as { zones: { id: string }[] };
    expect(body.zones.map((z) => z.id)).toContain('eixample');
  });

  it('JOIN by text subscribes, the reply lands in the outbox masked, STOP stops, START resumes', async () => {
    // Prepare
    const phone = '+34611223344';

    // Act
    const joined = await texts(phone, 'JOIN eixample ca');
    const stopped = await texts(phone, 'stop');
    const afterStop = await herald.subscribers.findSubscriber('sms', await herald.pii.hash(phone));
    const started = await texts(phone, 'START');

    // Assess
    expect(joined.status).toBe(200);
    expect(await joined.json()).toMatchObject({
      keyword: 'join',
      reply: expect.stringContaining('Eixample'),
    });
    expect(stopped.status).toBe(200);
    expect(afterStop?.status).toBe('stopped');
    expect(started.status).toBe(200);
    const items = (await outbox('sms')).filter((i) => i.recipient === '+34•••••••44');
    expect(items.map((i) => i.text)).toEqual([
      expect.stringMatching(/tornaràs a rebre alertes de Eixample/),
      expect.stringMatching(/t'has donat de baixa/),
      expect.stringMatching(/rebràs alertes de Eixample/),
    ]);
    expect(items[0]).toMatchObject({ alertId: 'notice', version: 0 });
    const subscriber = await herald.subscribers.findSubscriber('sms', await herald.pii.hash(phone));
    expect(subscriber).toMatchObject({ status: 'confirmed', zones: ['eixample'], language: 'ca' });
  });

  it('refuses a sandbox text that is not valid with 400 naming the field', async () => {
    // Act
    const res = await herald.call('POST', '/v1/sandbox/inbound/sms', { body: { body: 'JOIN eixample' } });

    // Assess
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/problem\+json/);
    expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual([
      '/from',
    ]);
  });

  it('signs up on the web with the code from the outbox', async () => {
    // Prepare
    const email = 'vecina@example.org';

    // Act
    const requested = await herald.call('POST', '/v1/subscriptions', {
      body: { channel: 'email', address: email, zones: ['gracia'], language: 'es' },
    });
    const mail = (await outbox('email')).find((i) => i.recipient === 'v•••@e•••.org');
    const code = /\b(\d{6})\b/.exec(mail?.text ?? '')?.[1];
    const confirmed = await herald.call('POST', '/v1/subscriptions/confirm', {
      body: { address: email, code },
    });

    // Assess
    expect(requested.status).toBe(202);
    expect(code).toMatch(/^\d{6}$/);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.json()).toMatchObject({
      status: 'confirmed',
      zones: ['gracia'],
      address: 'v•••@e•••.org',
    });
  });

  it('imports a CSV sent as text/csv through the gateway', async () => {
    // Prepare
    const csv =
      'channel,address,zones,language,consent\nsms,+34622334455,sant-marti,es,Nixle 2029\nsms,bad,gracia,en,x\n';

    // Act
    const res = await herald.call('POST', '/v1/subscriptions/import', {
      role: 'officer',
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });

    // Assess
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      rows: 2,
      imported: 1,
      skipped: 1,
      errors: [{ row: 3, field: 'address' }],
    });
  });

  it('accepts a loopback webhook when the embedded mode allows it, and shows its secret once', async () => {
    // Act
    const created = await herald.call('POST', '/v1/webhooks', {
      role: 'officer',
      body: { url: 'http://127.0.0.1:9/hook', name: 'Test receiver', zones: ['eixample'] },
    });
    const listed = await herald.call('GET', '/v1/webhooks', { role: 'auditor' });

    // Assess
    expect(created.status).toBe(201);
    const body = (await created.json()) as { id: string; secret: string };
    expect(body.secret).toMatch(/^whsec_/);
    const text = await listed.text();
    expect(text).toContain(body.id);
    expect(text).not.toContain('whsec_');
    expect(text).not.toContain('/hook');
  });
});
