/**
 * The pipeline end to end through the embedded runtime: real HTTP, the real handlers, dynalite, the durable
 * queues and the sandbox providers. Each test reads what reached the outbox, the public's side of Herald.
 */
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandler } from '../../functions/api/handler';
import { systemClock } from '../../functions/ports';
import { logger } from '../../functions/shared/logger';
import { createLambdaContext } from '../../local/queues/lambda-context';
import type { Alert } from '../../schemas/alert';
import type { DeliveryReport } from '../../schemas/delivery';
import { DRAFT, settledDeliveries, startTestHerald, type TestHerald, waitFor } from '../helpers/embedded';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald?.cleanup();
});

async function create(body: unknown = DRAFT, headers: Record<string, string> = {}) {
  const res = await herald.call('POST', '/v1/alerts', { role: 'officer', body, headers });
  return { res, alert: (await res.json()) as Alert };
}

async function _deliveries(alertId: string): Promise<DeliveryReport> {
  const res = await herald.call('GET', `/v1/alerts/${alertId}/deliveries`, { role: 'auditor' });
  expect(res.status).toBe(200);
  return (await res.json()) as DeliveryReport;
}

const settled = (alertId: string, count: number) => settledDeliveries(herald, alertId, count, 20_000);

async function outbox(alertId: string) {
  const res = await herald.call('GET', `/v1/sandbox/outbox?alertId=${alertId}`);
  expect(res.status).toBe(200);
  return (await res.json()) as {
    items: { channel: string; version: number; inReplyTo?: string; providerMessageId: string }[];
    total: number;
  };
}

describe('Embedded pipeline', () => {
  it('delivers a new alert to every channel it names, once each, and the alert reads as sent', async () => {
    // Act
    const { res, alert } = await create();
    // Assess
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"1"');
    expect(res.headers.get('location')).toBe(`/v1/alerts/${alert.id}`);
    const report = await settled(alert.id, 3);
    expect(report.totals).toEqual({ sent: 3 });
    expect(report.deliveries.map((d) => d.channel).sort()).toEqual(['facebook', 'instagram', 'x']);
    const posted = await outbox(alert.id);
    expect(posted.total).toBe(3);
    const read = await herald.call('GET', `/v1/alerts/${alert.id}`, { role: 'supervisor' });
    expect(((await read.json()) as Alert).state).toBe('sent');
  });

  it('answers a replayed request with the first response and posts once', async () => {
    // Prepare
    const key = ulid();
    // Act
    const first = await create(DRAFT, { 'idempotency-key': key });
    const replay = await create(DRAFT, { 'idempotency-key': key });
    // Assess
    expect(first.res.status).toBe(201);
    expect(replay.res.status).toBe(201);
    expect(replay.res.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.alert.id).toBe(first.alert.id);
    await settled(first.alert.id, 3);
    expect((await outbox(first.alert.id)).total).toBe(3);
    const other = await create({ ...DRAFT, headline: 'Another headline' }, { 'idempotency-key': key });
    expect(other.res.status).toBe(422);
    expect(other.res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('refuses an update made against a stale version with 412, and one without If-Match with 428', async () => {
    // Prepare
    const { alert } = await create();
    const update = (ifMatch?: string) =>
      herald.call('POST', `/v1/alerts/${alert.id}/updates`, {
        role: 'officer',
        body: { description: 'Main Street reopens at 13:00.' },
        headers: ifMatch ? { 'if-match': ifMatch } : {},
      });
    // Act
    const ok = await update('"1"');
    const stale = await update('"1"');
    const missing = await update();
    // Assess
    expect(ok.status).toBe(201);
    expect(ok.headers.get('etag')).toBe('"2"');
    expect(stale.status).toBe(412);
    expect(missing.status).toBe(428);
    // Let both versions' deliveries finish, so none is left to take a fault another test injects.
    await settled(alert.id, 6);
  });

  it('threads an update under the original post and sends a cancel, then refuses further updates', async () => {
    // Prepare
    const { alert } = await create({ ...DRAFT, channels: ['x'] });
    await settled(alert.id, 1);
    // Act
    const updated = await herald.call('POST', `/v1/alerts/${alert.id}/updates`, {
      role: 'officer',
      body: { headline: 'Main Street reopens early', instruction: null },
      headers: { 'if-match': '"1"' },
    });
    const cancelled = await herald.call('POST', `/v1/alerts/${alert.id}/cancel`, {
      role: 'supervisor',
      body: { reason: 'The race was called off.' },
    });
    // Assess
    expect(updated.status).toBe(201);
    expect(cancelled.status).toBe(201);
    const body = (await cancelled.json()) as Alert;
    expect(body.msgType).toBe('Cancel');
    expect(body.state).toBe('cancelled');
    expect(body.references).toHaveLength(2);
    await settled(alert.id, 3);
    const posts = (await outbox(alert.id)).items.sort((a, b) => a.version - b.version);
    expect(posts.map((p) => p.version)).toEqual([1, 2, 3]);
    expect(posts[1]?.inReplyTo).toBe(posts[0]?.providerMessageId);
    expect(posts[2]?.inReplyTo).toBe(posts[1]?.providerMessageId);
    const after = await herald.call('POST', `/v1/alerts/${alert.id}/updates`, {
      role: 'officer',
      body: { description: 'x' },
      headers: { 'if-match': '"3"' },
    });
    expect(after.status).toBe(409);
  });

  it('retries a provider answering 429 twice and posts once, after at least three attempts', async () => {
    // Prepare
    const faults = await herald.call('PUT', '/v1/sandbox/faults', { body: { x: { status: 429, times: 2 } } });
    expect(faults.status).toBe(200);
    // Act
    const { alert } = await create({ ...DRAFT, channels: ['x'] });
    // Assess
    const report = await settled(alert.id, 1);
    expect(report.deliveries[0]).toMatchObject({ channel: 'x', status: 'sent' });
    expect(report.deliveries[0]!.attempts).toBeGreaterThanOrEqual(3);
    expect((await outbox(alert.id)).total).toBe(1);
  });

  it('records a provider answering 400 as failed, with its reason, after one attempt', async () => {
    // Prepare
    await herald.call('PUT', '/v1/sandbox/faults', { body: { facebook: { status: 400, times: 1 } } });
    // Act
    const { alert } = await create({ ...DRAFT, channels: ['facebook'] });
    // Assess
    const report = await settled(alert.id, 1);
    expect(report.deliveries[0]).toMatchObject({ status: 'failed', attempts: 1 });
    expect(report.deliveries[0]!.reason).toMatch(/400/);
    expect((await outbox(alert.id)).total).toBe(0);
  });

  it('dead-letters a job after five receives of a provider that keeps failing, and says so on the receipt', async () => {
    // Prepare
    await herald.call('PUT', '/v1/sandbox/faults', { body: { instagram: { status: 500, times: 50 } } });
    // Act
    const { alert } = await create({ ...DRAFT, channels: ['instagram'] });
    // Assess
    const report = await settled(alert.id, 1);
    expect(report.deliveries[0]).toMatchObject({ status: 'failed', attempts: 5 });
    expect(report.deliveries[0]!.reason).toMatch(/gave up after 5 attempts: 500/);
    await waitFor(async () =>
      (await herald.queues.attributes('channel-instagram-dlq')).ApproximateNumberOfMessages === 1
        ? true
        : undefined,
    );
    await herald.call('PUT', '/v1/sandbox/faults', { body: { instagram: { status: 500, times: 0 } } });
  });

  it('holds an Extreme alert for a second person, then fans it out once a supervisor approves', async () => {
    // Prepare
    const { res, alert } = await create({ ...DRAFT, severity: 'Extreme', channels: ['x'] });
    expect(res.status).toBe(201);
    expect(alert.state).toBe('pending-approval');
    // Act
    const early = await outbox(alert.id);
    const approved = await herald.call('POST', `/v1/alerts/${alert.id}/approve`, {
      role: 'supervisor',
      body: { note: 'Checked with the incident commander.' },
    });
    // Assess
    expect(early.total).toBe(0);
    expect(approved.status).toBe(200);
    await settled(alert.id, 1);
    expect((await outbox(alert.id)).total).toBe(1);
  });

  it('delivers a version whose dispatch was lost between storing and queueing: the sweeper finds it', async () => {
    // Prepare: the api handler of a process that stores the version and then cannot queue it
    const crashingApi = createApiHandler({
      store: herald.store,
      subscribers: herald.subscribers,
      pii: herald.pii,
      zones: herald.zones,
      notifier: herald.notifier,
      queue: {
        send: async () => {
          throw new Error('process died before the dispatch message was sent');
        },
        changeVisibility: async () => undefined,
      },
      config: herald.config,
      clock: systemClock,
      logger,
      newId: ulid,
    });
    const token = await herald.token('officer');
    const event = {
      version: '2.0',
      routeKey: 'POST /v1/alerts',
      rawPath: '/v1/alerts',
      rawQueryString: '',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      requestContext: {
        accountId: '000000000000',
        apiId: 'embedded',
        domainName: 'localhost',
        domainPrefix: 'localhost',
        http: {
          method: 'POST',
          path: '/v1/alerts',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'test',
        },
        requestId: 'crash-test',
        routeKey: 'POST /v1/alerts',
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
        authorizer: {
          jwt: { claims: { sub: 'embedded-officer', 'cognito:groups': '[officer]' }, scopes: null },
        },
      },
      body: JSON.stringify({ ...DRAFT, channels: ['facebook'] }),
      isBase64Encoded: false,
    };
    // Act
    const result = await crashingApi(
      event as never,
      createLambdaContext({ functionName: 'api', timeoutMs: 29_000 }),
    );
    // Assess: the caller got 201; nothing was queued; the sweeper delivers it within its interval
    expect(result.statusCode).toBe(201);
    const alert = JSON.parse(result.body ?? '{}') as Alert;
    const report = await settled(alert.id, 1);
    expect(report.deliveries[0]?.status).toBe('sent');
    expect((await outbox(alert.id)).total).toBe(1);
  });
});
