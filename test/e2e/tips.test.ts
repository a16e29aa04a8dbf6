/**
 * Residents talk back, end to end in the embedded mode over HTTP: a resident joins by SMS, gets an alert by SMS
 * (the sandbox outbox), texts back a sighting, and the tip is linked to that alert; an officer answers through the
 * API and the answer reaches the resident's number (masked in the outbox) from the agency. A reply under the
 * agency's X post becomes a tip through the sandbox's social route. Then every API answer and every log line written
 * (at debug level) is searched for the resident's number: it is in none of them, not even masked.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DeliveryReport } from '../../schemas/delivery';
import { DRAFT, startTestHerald, type TestHerald, waitFor } from '../helpers/embedded';

// Every line, debug included: the logger reads its level when its module loads.
vi.hoisted(() => {
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});

const PHONE = '+34611987654';
const MASKED = '+34•••••••54';
/** The number, its national digits, and the digits as people write them. */
const NEEDLES = [PHONE, PHONE.slice(3), '611 98 76 54', '611987654'];

let herald: TestHerald;
const answers: string[] = [];
const written: string[] = [];
const originalWrites = { out: process.stdout.write, err: process.stderr.write };

function capture(stream: NodeJS.WriteStream, original: typeof process.stdout.write) {
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
  }) as typeof process.stdout.write;
}

beforeAll(async () => {
  herald = await startTestHerald({ env: { HERALD_AGENCY_NAME: 'Guàrdia Urbana' } });
  capture(process.stdout, originalWrites.out);
  capture(process.stderr, originalWrites.err);
});
afterAll(async () => {
  process.stdout.write = originalWrites.out;
  process.stderr.write = originalWrites.err;
  await herald?.cleanup();
});

async function call(
  method: string,
  path: string,
  options: Parameters<TestHerald['call']>[2] = {},
): Promise<{ status: number; body: Record<string, unknown> & { items?: Record<string, unknown>[] } }> {
  const res = await herald.call(method, path, options);
  const text = await res.text();
  answers.push(`${method} ${path} ${res.status} ${JSON.stringify(Object.fromEntries(res.headers))} ${text}`);
  return { status: res.status, body: text ? JSON.parse(text) : {} };
}

const outbox = async (query: string) =>
  (await call('GET', `/v1/sandbox/outbox?${query}`)).body.items as {
    recipient: string;
    text: string;
    providerMessageId: string;
  }[];

/** Waits until every receipt of the alert is final, as the resident's phone would have it by then. */
const delivered = (alertId: string) =>
  waitFor(
    async () => {
      const res = await herald.call('GET', `/v1/alerts/${alertId}/deliveries`, { role: 'auditor' });
      const report = (await res.json()) as DeliveryReport;
      return report.deliveries.length > 0 && report.deliveries.every((d) => d.status === 'sent')
        ? report
        : undefined;
    },
    20_000,
    `the deliveries of ${alertId}`,
  );

describe('embedded: tips and replies', () => {
  let alertId: string;
  let tipId: string;
  let reference: string;

  it("links a resident's text to the alert SMS they received, and acknowledges it with the reference", async () => {
    // Prepare: the resident joins by SMS and gets an alert
    const joined = await call('POST', '/v1/sandbox/inbound/sms', {
      body: { from: PHONE, body: 'JOIN eixample' },
    });
    expect(joined.status).toBe(200);
    const created = await call('POST', '/v1/alerts', {
      role: 'officer',
      body: {
        ...DRAFT,
        category: 'Rescue',
        event: 'Missing person',
        headline: 'Missing girl, 9, last seen in Eixample',
        areas: [{ zone: 'eixample', areaDesc: 'Eixample' }],
        channels: ['sms'],
      },
    });
    alertId = created.body.id as string;
    await delivered(alertId);
    const received = await outbox(`channel=sms&alertId=${alertId}`);
    expect(received.map((i) => i.recipient)).toEqual([MASKED]);

    // Act
    const texted = await call('POST', '/v1/sandbox/inbound/sms', {
      body: { from: PHONE, body: 'I saw her at the station' },
    });

    // Assess
    expect(texted.body).toMatchObject({
      keyword: 'tip',
      reply: expect.stringMatching(/\(ref\. T-[0-9A-Z]{4}\)/),
    });
    const listed = await call('GET', `/v1/tips?alertId=${alertId}`, { role: 'officer' });
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        alertId,
        source: 'sms',
        text: 'I saw her at the station',
        from: expect.stringMatching(/^Tipster [0-9A-HJKMNP-TV-Z]{4}$/),
        replyBy: 'sms',
      }),
    ]);
    tipId = listed.body.items![0]!.id as string;
    reference = listed.body.items![0]!.reference as string;
    const ack = (await outbox('channel=sms&alertId=notice')).find((i) => i.text.includes(reference));
    expect(ack?.recipient).toBe(MASKED);
  });

  it("sends an officer's answer to the resident's number from the agency, and audits every step", async () => {
    // Act
    const read = await call('GET', `/v1/tips/${tipId}`, { role: 'officer' });
    const answered = await call('POST', `/v1/tips/${tipId}/replies`, {
      role: 'officer',
      body: { text: 'Thank you. Which station, and when?' },
    });
    const closed = await call('POST', `/v1/tips/${tipId}/close`, {
      role: 'supervisor',
      body: { note: 'CID' },
    });
    const audit = await call('GET', `/v1/tips/${tipId}/audit`, { role: 'auditor' });
    await call('GET', '/v1/tips?state=closed', { role: 'auditor' });
    await call('GET', '/v1/tips/count?state=open', { role: 'officer' });

    // Assess
    expect(read.status).toBe(200);
    expect(answered.status).toBe(201);
    expect(closed.body.state).toBe('closed');
    const sent = (await outbox('channel=sms&alertId=notice')).find((i) =>
      i.text.includes('Which station, and when?'),
    );
    expect(sent).toEqual(
      expect.objectContaining({
        recipient: MASKED,
        text: `Guàrdia Urbana (${reference}): Thank you. Which station, and when?`,
      }),
    );
    expect((audit.body.entries as { action: string }[]).map((e) => e.action)).toEqual([
      'tip.received',
      'tip.read',
      'tip.replied',
      'tip.closed',
    ]);
  });

  it("turns a reply under the agency's X post into a tip linked to the alert (the sandbox social route)", async () => {
    // Prepare
    const created = await call('POST', '/v1/alerts', {
      role: 'officer',
      body: { ...DRAFT, channels: ['x'] },
    });
    const posted = created.body.id as string;
    const [post] = await waitFor(async () => {
      const items = await outbox(`channel=x&alertId=${posted}`);
      return items.length > 0 ? items : undefined;
    });
    await delivered(posted);

    // Act
    const replied = await call('POST', '/v1/sandbox/inbound/social', {
      body: {
        channel: 'x',
        inReplyTo: post!.providerMessageId,
        author: '@corredora',
        text: 'Barriers down at km 3',
      },
    });
    const stranger = await call('POST', '/v1/sandbox/inbound/social', {
      body: { channel: 'x', inReplyTo: 'not-our-post', author: '@someone', text: 'hello' },
    });
    const listed = await call('GET', '/v1/tips?source=x', { role: 'officer' });
    const privately = await call('POST', `/v1/tips/${replied.body.tipId}/replies`, {
      role: 'officer',
      body: { text: 'Thanks!' },
    });

    // Assess
    expect(replied.body).toMatchObject({ created: true, reference: expect.stringMatching(/^T-/) });
    expect(stranger.body).toEqual({ ignored: expect.stringMatching(/not a reply to a post Herald made/) });
    expect(listed.body.items).toEqual([
      expect.objectContaining({ alertId: posted, from: '@corredora', text: 'Barriers down at km 3' }),
    ]);
    expect(privately.status).toBe(409);
  });

  it('refuses oversized, empty, blank and flooding web tips with problem+json, and stores none of them', async () => {
    // Prepare
    const refusals = [{ text: 'x'.repeat(2001) }, { text: '' }, { text: '\u200B \u00A0\u2060' }, {}];

    // Act
    const refused = [];
    for (const body of refusals) refused.push(await herald.call('POST', '/v1/tips', { body }));
    const accepted = [];
    for (let i = 0; i < 10; i++)
      accepted.push((await call('POST', '/v1/tips', { body: { text: `web tip ${i}`, alertId } })).status);
    const flooded = await herald.call('POST', '/v1/tips', { body: { text: 'one too many' } });
    const listed = await call('GET', '/v1/tips?source=web&limit=100', { role: 'officer' });

    // Assess
    for (const res of refused) {
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect(((await res.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual([
        '/text',
      ]);
    }
    expect(accepted).toEqual(Array(10).fill(202));
    expect(flooded.status).toBe(429);
    expect(flooded.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(listed.body.items?.map((i) => i.text).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `web tip ${i}`).sort(),
    );
  });

  it("shows the resident's number in no API answer and no log line, not even masked", () => {
    // Assess: the flows above were logged...
    const logLines = written.join('');
    expect(logLines).toContain('tip.received');
    expect(logLines).toContain('tip.replied');
    // ...and the tips' answers carry no trace of the number, masked or not (the outbox, which is not the API's, shows
    // it masked on purpose: it stands for the resident's phone)
    const tipAnswers = answers.filter((a) => / \/v1\/tips/.test(a)).join('\n');
    expect(tipAnswers).not.toContain(MASKED);
    for (const needle of NEEDLES) {
      expect(answers.join('\n').includes(needle), `${needle} in an answer`).toBe(false);
      expect(logLines.includes(needle), `${needle} in a log line`).toBe(false);
    }
  });
});
