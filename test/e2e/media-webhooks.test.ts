/**
 * Media webhooks and sandboxed channels in the embedded mode, over real HTTP. With no channel-level webhook secret,
 * webhooks registered through POST /v1/webhooks are delivered for real, each signed with its own secret; an auditor
 * reads from the deliveries JSON and CSV which outlets failed, by name, with every try, and no URL in clear. A
 * channel without credentials (SMS here, and X) is the sandbox, and every receipt it writes says so.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeProviders } from '../../functions/shared/providers';
import type { Alert } from '../../schemas/alert';
import type { Delivery } from '../../schemas/delivery';
import { DRAFT, settledDeliveries, startTestHerald, type TestHerald } from '../helpers/embedded';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What each outlet's endpoint answers: two take the alert, one keeps failing, one is gone. */
const ANSWERS: Record<string, number> = {
  '/diari-nord': 204,
  '/radio-sud': 200,
  '/tv-est': 500,
  '/gone': 410,
};
const OUTLETS = [
  { name: 'Diari Nord', path: '/diari-nord' },
  { name: 'Ràdio Sud', path: '/radio-sud' },
  { name: 'TV Est', path: '/tv-est' },
  { name: 'Setmanari Tancat', path: '/gone' },
];
const PATH_TOKEN = 'T0KEN-IN-PATH';
const QUERY_TOKEN = 'k3y-in-query';
const PHONE = '+34612345678';

let herald: TestHerald;
let receiver: Server;
let receiverUrl = '';
const received: Received[] = [];
/** Each outlet's signing secret, as POST /v1/webhooks showed it once. */
const secrets = new Map<string, string>();
const ids = new Map<string, string>();

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = new URL(req.url ?? '/', 'http://receiver').pathname.replace(`/${PATH_TOKEN}`, '');
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(ANSWERS[path] ?? 404).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  herald = await startTestHerald({
    // No HERALD_SECRET_WEBHOOK: each webhook signs with its own secret. Two receives, so the 500 gives up soon.
    env: { HERALD_FETCH_ALLOW_LOOPBACK: 'true', HERALD_MAX_RECEIVES: '2' },
  });
});
afterAll(async () => {
  await herald?.cleanup();
  await new Promise((resolve) => receiver?.close(resolve));
});

const settled = (alertId: string, count: number) => settledDeliveries(herald, alertId, count);

/** The CSV export as rows of named cells (no cell here holds a comma, a quote or a line break). */
async function csvOf(alertId: string): Promise<{ text: string; rows: Record<string, string>[] }> {
  const res = await herald.call('GET', `/v1/alerts/${alertId}/deliveries?format=csv`, { role: 'auditor' });
  expect(res.status).toBe(200);
  const text = await res.text();
  const [head, ...lines] = text.trimEnd().split('\r\n');
  const columns = head!.split(',');
  return {
    text,
    rows: lines.map((line) => Object.fromEntries(line.split(',').map((cell, i) => [columns[i]!, cell]))),
  };
}

describe('embedded: media webhooks delivered for real, sandboxed channels said to be', () => {
  it('makes the webhook channel real without a channel secret, and says so in the start-up banner', () => {
    expect(herald.providerChoices.webhook).toMatchObject({
      mode: 'real',
      reason: 'webhook needs no channel credentials',
    });
    expect(herald.providerChoices.sms.mode).toBe('sandbox');
    const banner = describeProviders(herald.providerChoices);
    expect(banner.find((line) => line.startsWith('webhook'))).toMatch(/^webhook\s+real$/);
    expect(banner.find((line) => line.startsWith('sms'))).toMatch(/sandbox \(no credentials for sms\)/);
  });

  it('delivers to each outlet signed with its own secret, and an auditor tells by name which outlets failed', async () => {
    // Prepare: four outlets, registered as an officer would; each secret is shown once
    for (const outlet of OUTLETS) {
      const res = await herald.call('POST', '/v1/webhooks', {
        role: 'officer',
        body: { url: `${receiverUrl}/${PATH_TOKEN}${outlet.path}?key=${QUERY_TOKEN}`, name: outlet.name },
      });
      expect(res.status).toBe(201);
      const body = (await res.json()) as { id: string; secret: string };
      secrets.set(outlet.path, body.secret);
      ids.set(outlet.name, body.id);
    }

    // Act
    const created = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      body: { ...DRAFT, areas: [{ zone: 'eixample', areaDesc: 'Eixample' }], channels: ['webhook'] },
    });
    const alert = (await created.json()) as Alert;
    const report = await settled(alert.id, OUTLETS.length);
    const csv = await csvOf(alert.id);

    // Assess: the outlets that answered 2xx got the alert, signed with their own secret
    for (const path of ['/diari-nord', '/radio-sud']) {
      const request = received.find((r) => r.path === path);
      expect(request, path).toBeDefined();
      const headers = {
        'webhook-id': String(request!.headers['webhook-id']),
        'webhook-timestamp': String(request!.headers['webhook-timestamp']),
        'webhook-signature': String(request!.headers['webhook-signature']),
      };
      expect(() => new Webhook(secrets.get(path)!).verify(request!.body, headers)).not.toThrow();
      // ...and only with it: another outlet's secret does not verify it
      const other = secrets.get(path === '/diari-nord' ? '/radio-sud' : '/diari-nord')!;
      expect(() => new Webhook(other).verify(request!.body, headers)).toThrow();
    }

    // ...and the JSON names each outlet, its webhook, its tries and why it failed
    const byName = new Map(report.deliveries.map((d) => [d.name, d] as [string, Delivery]));
    expect([...byName.keys()].sort()).toEqual(OUTLETS.map((o) => o.name).sort());
    for (const outlet of OUTLETS) {
      const d = byName.get(outlet.name)!;
      expect(d).toMatchObject({ channel: 'webhook', subscriberId: ids.get(outlet.name) });
      expect(d.webhookId).toBe(ids.get(outlet.name));
      expect(d.recipient).toBe(`${receiverUrl}/…`);
      // Delivered for real: no receipt says sandbox
      expect(d).not.toHaveProperty('sandbox');
    }
    expect(byName.get('Diari Nord')).toMatchObject({ status: 'sent', attempts: 1 });
    expect(byName.get('Ràdio Sud')).toMatchObject({ status: 'sent', attempts: 1 });
    expect(byName.get('Setmanari Tancat')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(byName.get('Setmanari Tancat')?.reason).toMatch(/endpoint gone \(410\)/);
    const failing = byName.get('TV Est')!;
    expect(failing.status).toBe('failed');
    expect(failing.reason).toMatch(/^gave up after 2 receives: .*HTTP 500$/);
    // Every try counted, each with its time and reason, as many as the receiver saw
    const tries = received.filter((r) => r.path === '/tv-est').length;
    expect(failing.attempts).toBe(tries);
    const attemptLog = failing.attemptLog.filter((e) => e.attempt > 0);
    expect(attemptLog.map((e) => e.attempt)).toEqual(Array.from({ length: tries }, (_, i) => i + 1));
    for (const e of attemptLog) {
      expect(e.reason).toMatch(/HTTP 500/);
      expect(Date.parse(e.at)).not.toBeNaN();
    }

    // ...and so does the CSV, row by outlet name
    const rows = new Map(csv.rows.map((r) => [r.name, r]));
    expect(rows.get('Setmanari Tancat')).toMatchObject({
      status: 'failed',
      webhookId: ids.get('Setmanari Tancat'),
      subscriberId: ids.get('Setmanari Tancat'),
      sandbox: '',
    });
    expect(rows.get('Setmanari Tancat')?.failures).toMatch(/^attempt 1 at \S+: .*endpoint gone \(410\)$/);
    expect(rows.get('Diari Nord')).toMatchObject({ status: 'sent', attempts: '1', failures: '' });
    const tvEst = rows.get('TV Est')!;
    expect(tvEst).toMatchObject({ status: 'failed', attempts: String(tries), webhookId: ids.get('TV Est') });
    expect(tvEst.attemptTimes?.split(' ')).toEqual(attemptLog.map((e) => e.at));
    expect(tvEst.failures?.split(' | ')).toHaveLength(tries);
    expect(tvEst.failures?.split(' | ')[0]).toMatch(/^attempt 1 at \S+: .*HTTP 500$/);

    // No outlet's URL path or key in either answer
    for (const shown of [JSON.stringify(report), csv.text]) {
      expect(shown).not.toContain(PATH_TOKEN);
      expect(shown).not.toContain(QUERY_TOKEN);
      for (const outlet of OUTLETS) expect(shown).not.toContain(outlet.path);
    }
  });

  it('marks every receipt of a sandboxed channel sandbox: in the JSON, the CSV and the audit, numbers masked', async () => {
    // Prepare: a resident on SMS, which has no credentials here
    const resident = await herald.call('POST', '/v1/subscribers', {
      role: 'officer',
      body: { channel: 'sms', address: PHONE, zones: ['gracia'], consent: 'Signed at the front desk' },
    });
    expect(resident.status).toBe(201);
    const { id: subscriberId } = (await resident.json()) as { id: string };

    // Act: an SMS alert (and X, also without credentials: the social path)
    const created = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      body: { ...DRAFT, areas: [{ zone: 'gracia', areaDesc: 'Gràcia' }], channels: ['sms', 'x'] },
    });
    const alert = (await created.json()) as Alert;
    const report = await settled(alert.id, 2);
    const csv = await csvOf(alert.id);
    const audit = await (
      await herald.call('GET', `/v1/alerts/${alert.id}/audit`, { role: 'auditor' })
    ).text();

    // Assess
    const sms = report.deliveries.find((d) => d.channel === 'sms');
    expect(sms).toMatchObject({
      status: 'sent',
      sandbox: true,
      subscriberId,
      recipient: '+34•••••••78',
    });
    expect(sms).not.toHaveProperty('webhookId');
    expect(report.deliveries.find((d) => d.channel === 'x')).toMatchObject({ status: 'sent', sandbox: true });
    expect(csv.rows.map((r) => [r.channel, r.status, r.sandbox])).toEqual(
      expect.arrayContaining([
        ['sms', 'sent', 'true'],
        ['x', 'sent', 'true'],
      ]),
    );
    const entries = (
      JSON.parse(audit) as { entries: { action: string; channel?: string; detail?: string }[] }
    ).entries;
    expect(entries.find((e) => e.channel === 'sms' && e.action === 'deliveries.sent')?.detail).toMatch(
      /^1 recipient \(sandbox: nothing reached the public\); each receipt: /,
    );
    expect(entries.find((e) => e.channel === 'x' && e.action === 'delivery.sent')?.detail).toBe(
      'sandbox: nothing reached the public',
    );
    for (const shown of [JSON.stringify(report), csv.text, audit]) expect(shown).not.toContain(PHONE);
  });
});
