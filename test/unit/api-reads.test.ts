/**
 * The reading routes (alerts, versions, lists, deliveries, audit), the router's own answers (404, 405, 500)
 * and the OpenAPI document, through createRouter with API Gateway 2.0 events, against DynamoStore on dynalite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { createRouter } from '../../functions/api/router';
import type { ReceiptKey } from '../../functions/core/model';
import { dispatchVersion } from '../../functions/dispatch/plan';
import type { ReceiptOutcome } from '../../functions/ports';
import { ROUTES } from '../../schemas/routes';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { type ApiRequest, apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
});
afterAll(async () => {
  await db?.close();
});

const OFFICER = claimsFor('officer-1', ['officer']);
const SUPERVISOR = claimsFor('supervisor-1', ['supervisor']);
const SERGEANT = claimsFor('sergeant-1', ['officer', 'supervisor']);
const AUDITOR = claimsFor('auditor-1', ['auditor']);

const draft = (changes: Record<string, unknown> = {}) => ({ ...structuredClone(draftFixture), ...changes });

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: Record<string, unknown> & { errors?: { path: string; message: string }[] };
}

function harness(now = '2030-03-04T10:00:00.000Z', store: ApiDeps['store'] = db.store) {
  const clock = new ManualClock(now);
  const queue = new RecordingQueue();
  const logger = new RecordingLogger();
  const deps: ApiDeps = { ...residents, store, queue, config: testConfig(), clock, newId: newUlid, logger };
  const router = createRouter(deps);
  const call = async (request: ApiRequest): Promise<Answer> => {
    const result = await router(apiEvent(request));
    const text = result.body ?? '';
    const json = /json/.test(result.headers['content-type'] ?? '');
    return {
      status: result.statusCode ?? 0,
      headers: result.headers,
      text,
      body: json ? JSON.parse(text) : {},
    };
  };
  const create = async (body: unknown = draft(), claims = OFFICER) => {
    const res = await call({ method: 'POST', path: '/v1/alerts', body, claims });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  const dispatch = (alertId: string, version: number) =>
    dispatchVersion({ store: db.store, queue, config: testConfig(), clock, logger }, { alertId, version });
  return { deps, clock, queue, logger, call, create, dispatch };
}

/** Takes a receipt through one attempt to `outcome`, as a channel worker would. */
async function settle(
  key: ReceiptKey,
  at: string,
  outcome: Omit<ReceiptOutcome, 'at' | 'actor' | 'attempt'>,
) {
  const claimed = await db.store.claim(key, {
    leaseId: `lease-${newUlid()}`,
    leaseUntil: '2099-01-01T00:00:00.000Z',
    now: at,
    actor: `channel:${key.channel}`,
  });
  if (claimed.kind !== 'claimed') throw new Error(`could not claim: ${claimed.kind}`);
  const ok = await db.store.record(key, claimed.receipt.leaseId!, {
    ...outcome,
    at,
    actor: `channel:${key.channel}`,
    attempt: claimed.receipt.attempts,
  });
  if (!ok) throw new Error('lost the lease');
}

/** RFC 4180, as a spreadsheet reads it. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

describe('GET /v1/alerts/{id} and /versions/{n}', () => {
  it('answers the alert with its ETag and every version; each version on its own, with its ETag', async () => {
    // Prepare
    const { call, create, clock } = harness();
    const id = await create();
    clock.advance(60_000);
    await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { headline: 'Seen at the station' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });

    // Act
    const alert = await call({ method: 'GET', path: `/v1/alerts/${id}`, claims: AUDITOR });
    const v1 = await call({ method: 'GET', path: `/v1/alerts/${id}/versions/1`, claims: SUPERVISOR });
    const v2 = await call({ method: 'GET', path: `/v1/alerts/${id}/versions/2`, claims: OFFICER });

    // Assess
    expect(alert.status).toBe(200);
    expect(alert.headers.etag).toBe('"2"');
    expect(alert.body).toMatchObject({
      id,
      version: 2,
      headline: 'Seen at the station',
      createdAt: '2030-03-04T10:00:00.000Z',
    });
    expect((alert.body.versions as unknown[]).length).toBe(2);
    expect(v1.status).toBe(200);
    expect(v1.headers.etag).toBe('"1"');
    expect(v1.body).toMatchObject({ id, version: 1, msgType: 'Alert', headline: draftFixture.headline });
    expect(v2.headers.etag).toBe('"2"');
    expect(v2.body).toMatchObject({ version: 2, msgType: 'Update' });
  });

  it.each(['3', '0', 'abc', '1.5', '-1'])('answers 404 for version %s', async (n) => {
    // Prepare
    const { call, create } = harness();
    const id = await create();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${id}/versions/${n}`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });

  it.each([
    ['an id that is no alert', () => newUlid()],
    ['an id that is not an alert id', () => 'not-an-id'],
    ['an id with a malformed escape', () => '%E0%A4%A'],
  ])('answers 404 for %s', async (_what, id) => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${id()}`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ type: 'urn:herald:problem:not-found', status: 404 });
  });
});

describe('GET /v1/alerts', () => {
  it('lists newest first, a page at a time with a cursor; an alert shows its latest version and its creation time', async () => {
    // Prepare: these are the newest alerts in the table.
    const { call, create, clock } = harness('2041-01-01T00:00:00.000Z');
    const a = await create(draft({ headline: 'A' }));
    clock.advance(60_000);
    const b = await create(draft({ headline: 'B' }));
    clock.advance(60_000);
    const c = await create(draft({ headline: 'C' }));
    clock.advance(60_000);
    await call({
      method: 'POST',
      path: `/v1/alerts/${a}/updates`,
      body: { headline: 'A, updated' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });

    // Act
    const first = await call({ method: 'GET', path: '/v1/alerts?limit=2', claims: AUDITOR });
    const second = await call({
      method: 'GET',
      path: `/v1/alerts?limit=2&cursor=${encodeURIComponent(first.body.cursor as string)}`,
      claims: AUDITOR,
    });

    // Assess
    expect(first.status).toBe(200);
    const page1 = first.body.items as Record<string, unknown>[];
    expect(page1.map((i) => i.id)).toEqual([c, b]);
    expect(page1[0]).not.toHaveProperty('versions');
    expect(typeof first.body.cursor).toBe('string');
    const page2 = second.body.items as Record<string, unknown>[];
    expect(page2[0]).toMatchObject({
      id: a,
      version: 2,
      headline: 'A, updated',
      createdAt: '2041-01-01T00:00:00.000Z',
      updatedAt: '2041-01-01T00:03:00.000Z',
    });
  });

  it('has no cursor on the last page', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'GET', path: '/v1/alerts?limit=100', claims: OFFICER });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).not.toHaveProperty('cursor');
  });

  it.each([
    ['limit=0', '/query/limit'],
    ['limit=101', '/query/limit'],
    ['limit=ten', '/query/limit'],
    ['cursor=bm90LWEtY3Vyc29y', '/query/cursor'],
    ['cursor=!!', '/query/cursor'],
    ['sort=oldest', '/query/sort'],
  ])('refuses ?%s with 400 naming %s', async (query, path) => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts?${query}`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toEqual([path]);
  });
});

describe('GET /v1/alerts/{id}/deliveries', () => {
  const SMS = '+34612345678';
  const EMAIL = 'news.desk@example.org';
  const FORMULA = '=HYPERLINK("http://evil.example","click"), then more';

  async function alertWithDeliveries() {
    const h = harness('2030-06-01T08:00:00.000Z');
    const id = await h.create(draft({ channels: ['x', 'facebook', 'sms', 'email'] }));
    await h.dispatch(id, 1);
    await db.store.createReceipts(
      [
        { alertId: id, version: 1, channel: 'sms', recipient: SMS },
        { alertId: id, version: 1, channel: 'email', recipient: EMAIL },
      ],
      '2030-06-01T08:00:01.000Z',
    );
    await settle(
      { alertId: id, version: 1, channel: 'x', recipient: '@agency' },
      '2030-06-01T08:00:02.000Z',
      {
        status: 'sent',
        providerMessageId: '1790000000000000001',
      },
    );
    await settle({ alertId: id, version: 1, channel: 'sms', recipient: SMS }, '2030-06-01T08:00:03.000Z', {
      status: 'failed',
      reason: FORMULA,
    });
    await settle(
      { alertId: id, version: 1, channel: 'email', recipient: EMAIL },
      '2030-06-01T08:00:04.000Z',
      {
        status: 'retrying',
        reason: '421 try later\nsecond line',
        nextAttemptAt: '2030-06-01T08:05:00.000Z',
      },
    );
    return { ...h, id };
  }

  it('answers totals per status and every receipt, phone numbers and addresses masked', async () => {
    // Prepare
    const { call, id } = await alertWithDeliveries();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${id}/deliveries`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual({ sent: 1, failed: 1, retrying: 1, queued: 1 });
    const deliveries = res.body.deliveries as Record<string, unknown>[];
    expect(deliveries).toHaveLength(4);
    expect(deliveries).toContainEqual({
      version: 1,
      channel: 'x',
      recipient: '@agency',
      status: 'sent',
      attempts: 1,
      providerMessageId: '1790000000000000001',
      updatedAt: '2030-06-01T08:00:02.000Z',
    });
    expect(deliveries).toContainEqual(
      expect.objectContaining({
        channel: 'sms',
        recipient: '+34•••••••78',
        status: 'failed',
        reason: FORMULA,
      }),
    );
    expect(deliveries).toContainEqual(
      expect.objectContaining({
        channel: 'email',
        recipient: 'n•••@e•••.org',
        status: 'retrying',
        nextAttemptAt: '2030-06-01T08:05:00.000Z',
      }),
    );
    expect(deliveries).toContainEqual(
      expect.objectContaining({ channel: 'facebook', status: 'queued', attempts: 0 }),
    );
    expect(res.text).not.toContain(SMS);
    expect(res.text).not.toContain(EMAIL);
  });

  it('filters by status and channel, and totals what it shows', async () => {
    // Prepare
    const { call, id } = await alertWithDeliveries();

    // Act
    const sent = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?status=sent`,
      claims: AUDITOR,
    });
    const sms = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?channel=sms&version=1`,
      claims: AUDITOR,
    });

    // Assess
    expect(sent.body.totals).toEqual({ sent: 1 });
    expect(sms.body.totals).toEqual({ failed: 1 });
  });

  it('exports CSV: a header row, RFC 4180 quoting, and no cell a spreadsheet would run as a formula', async () => {
    // Prepare
    const { call, id } = await alertWithDeliveries();

    // Act
    const res = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?format=csv`,
      claims: AUDITOR,
    });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="deliveries-${id}.csv"`);
    expect(res.text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(res.text);
    expect(rows[0]).toEqual([
      'version',
      'channel',
      'recipient',
      'status',
      'attempts',
      'providerMessageId',
      'reason',
      'nextAttemptAt',
      'updatedAt',
    ]);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row).toHaveLength(9);
    const byChannel = Object.fromEntries(rows.slice(1).map((r) => [r[1], r]));
    expect(byChannel.sms?.[6]).toBe(`'${FORMULA}`);
    expect(byChannel.email?.[6]).toBe('421 try later\nsecond line');
    expect(byChannel.x?.[5]).toBe('1790000000000000001');
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(res.text).not.toContain(SMS);
  });

  it('refuses an unknown format with 400', async () => {
    // Prepare
    const { call, create } = harness();
    const id = await create();

    // Act
    const res = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?format=xlsx`,
      claims: AUDITOR,
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toEqual(['/query/format']);
  });

  it('answers 404 for an unknown alert', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${newUlid()}/deliveries`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(404);
  });
});

describe('GET /v1/alerts/{id}/audit', () => {
  it('shows who did what and when: writing, holding, approving, planning and every delivery step', async () => {
    // Prepare
    const h = harness('2030-07-01T09:00:00.000Z');
    const id = await h.create(draft({ severity: 'Extreme', channels: ['x'] }), SERGEANT);
    h.clock.advance(60_000);
    await h.call({
      method: 'POST',
      path: `/v1/alerts/${id}/approve`,
      body: { note: 'ok to send' },
      claims: SUPERVISOR,
    });
    h.clock.advance(1000);
    await h.dispatch(id, 1);
    await settle(
      { alertId: id, version: 1, channel: 'x', recipient: '@agency' },
      '2030-07-01T09:01:05.000Z',
      {
        status: 'sent',
        providerMessageId: 'x-1',
      },
    );

    // Act
    const res = await h.call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.alertId).toBe(id);
    const entries = res.body.entries as Record<string, unknown>[];
    expect(entries.map((e) => [e.at, e.actor, e.action])).toEqual([
      ['2030-07-01T09:00:00.000Z', 'sergeant-1', 'alert.created'],
      ['2030-07-01T09:00:00.000Z', 'system:policy', 'version.held-for-approval'],
      ['2030-07-01T09:01:00.000Z', 'supervisor-1', 'version.approved'],
      ['2030-07-01T09:01:01.000Z', 'system:dispatcher', 'fanout.planned'],
      ['2030-07-01T09:01:01.000Z', 'system:dispatcher', 'delivery.queued'],
      ['2030-07-01T09:01:05.000Z', 'channel:x', 'delivery.sent'],
    ]);
    expect(entries[2]).toMatchObject({ detail: 'ok to send', version: 1 });
    expect(entries[3]).toMatchObject({ detail: '1 receipts' });
    expect(entries[5]).toMatchObject({ channel: 'x', recipient: '@agency' });
  });

  it('counts subscriber-channel receipts per status instead of repeating hundreds of them, and points at each', async () => {
    // Prepare: an SMS alert whose 300 receipts the bulk sender wrote, 297 sent and 3 opted out
    const h = harness('2030-07-03T09:00:00.000Z');
    const id = await h.create(draft({ channels: ['x', 'sms'] }));
    await h.dispatch(id, 1);
    const at = '2030-07-03T09:00:05.000Z';
    await db.store.putReceipts(
      Array.from({ length: 300 }, (_, i) => {
        const failed = i < 3;
        return {
          alertId: id,
          version: 1,
          channel: 'sms' as const,
          recipient: `sub-${String(i).padStart(4, '0')}`,
          recipientMasked: '+34•••••••00',
          status: failed ? ('failed' as const) : ('sent' as const),
          attempts: 1,
          ...(failed ? { reason: 'opted-out' } : { providerMessageId: `sms-${i}` }),
          createdAt: at,
          updatedAt: at,
          history: [
            {
              at,
              actor: 'channel:sms',
              status: failed ? ('failed' as const) : ('sent' as const),
              attempt: 1,
            },
          ],
        };
      }),
    );

    // Act
    const res = await h.call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(200);
    const entries = res.body.entries as Record<string, unknown>[];
    const sms = entries.filter((e) => e.channel === 'sms');
    expect(sms.map((e) => [e.action, e.detail])).toEqual(
      expect.arrayContaining([
        [
          'deliveries.sent',
          `297 recipients; each receipt: /v1/alerts/${id}/deliveries?version=1&channel=sms`,
        ],
        [
          'deliveries.failed',
          `3 recipients; each receipt: /v1/alerts/${id}/deliveries?version=1&channel=sms`,
        ],
      ]),
    );
    expect(sms).toHaveLength(2);
    expect(entries.filter((e) => e.channel === 'x').map((e) => e.action)).toEqual(['delivery.queued']);
  });

  it('records a cancel with its reason', async () => {
    // Prepare
    const h = harness('2030-07-02T09:00:00.000Z');
    const id = await h.create();
    h.clock.advance(60_000);
    await h.call({
      method: 'POST',
      path: `/v1/alerts/${id}/cancel`,
      body: { reason: 'Found safe' },
      claims: OFFICER,
    });

    // Act
    const res = await h.call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: SUPERVISOR });

    // Assess
    expect(res.body.entries).toContainEqual({
      at: '2030-07-02T09:01:00.000Z',
      actor: 'officer-1',
      action: 'alert.cancelled',
      version: 2,
      detail: 'Found safe',
    });
  });

  it('is not for officers (403)', async () => {
    // Prepare
    const { call, create } = harness();
    const id = await create();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: OFFICER });

    // Assess
    expect(res.status).toBe(403);
  });
});

describe('POST /v1/alerts/preview', () => {
  it('renders each named channel per language, stores nothing and queues nothing', async () => {
    // Prepare
    const { call, queue } = harness('2030-08-01T00:00:00.000Z');
    const before = await db.store.listAlerts({ limit: 1 });

    // Act
    const res = await call({
      method: 'POST',
      path: '/v1/alerts/preview',
      body: draft({ severity: 'Extreme', description: 'Long. '.repeat(100) }),
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.approvalRequired).toBe(true);
    type Entry = { language: string; text: string; fits: boolean; warnings: string[] };
    const channels = res.body.channels as Record<
      string,
      Entry & { weightedLength: number; limit: number; languages?: Record<string, Entry> }
    >;
    expect(Object.keys(channels)).toEqual(['x', 'facebook', 'sms']);
    expect(channels.x?.language).toBe('en');
    expect(Object.keys(channels.x?.languages ?? {})).toEqual(['ca']);
    expect(channels.x).toMatchObject({ fits: true, limit: 280 });
    expect(channels.x?.weightedLength).toBeLessThanOrEqual(280);
    expect(channels.x?.warnings.join(' ')).toMatch(/shortened/);
    expect(channels.x?.languages?.ca?.text.startsWith(draftFixture.translations[0]!.headline)).toBe(true);
    expect(queue.sent).toEqual([]);
    expect((await db.store.listAlerts({ limit: 1 })).items[0]?.head.alertId).toBe(
      before.items[0]?.head.alertId,
    );
  });
});

describe('the router', () => {
  it.each([
    ['DELETE', '/v1/alerts', 'POST, GET'],
    ['PUT', `/v1/alerts/${'0'.repeat(26)}`, 'GET'],
    ['GET', `/v1/alerts/${'0'.repeat(26)}/cancel`, 'POST'],
    ['POST', '/v1/openapi.json', 'GET'],
  ])('answers %s %s with 405 and Allow: %s', async (method, path, allow) => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method, path, claims: OFFICER });

    // Assess
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe(allow);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });

  it.each(['/v1/nothing', '/v2/alerts', '/v1/alerts/x/y/z', '/v1/sandbox/outbox'])(
    'answers 404 for %s',
    async (path) => {
      // Prepare
      const { call } = harness();

      // Act
      const res = await call({ method: 'GET', path, claims: OFFICER });

      // Assess
      expect(res.status).toBe(404);
    },
  );

  it('answers a failure of its own with a fixed 500 and logs the error', async () => {
    // Prepare: a store that fails makes the path reachable.
    const broken = new Proxy(db.store, {
      get: (target, prop, receiver) =>
        prop === 'getAlert'
          ? async () => {
              throw new Error('ProvisionedThroughputExceededException: table secret-table-name');
            }
          : Reflect.get(target, prop, receiver),
    });
    const { call, logger } = harness(undefined, broken);

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${newUlid()}`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(500);
    expect(res.body).toMatchObject({ type: 'urn:herald:problem:internal', status: 500 });
    expect(res.text).not.toMatch(/secret-table-name|Provisioned/);
    expect(logger.at('error')).toHaveLength(1);
  });

  it('answers /healthz without a token', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'GET', path: '/healthz', claims: null });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });
});

describe('GET /v1/openapi.json', () => {
  it('is an OpenAPI 3.1 document, public, describing every route the api Lambda serves', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'GET', path: '/v1/openapi.json', claims: null });

    // Assess
    expect(res.status).toBe(200);
    const doc = res.body as {
      openapi: string;
      paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    for (const route of ROUTES.filter((r) => !('embeddedOnly' in r))) {
      const op = doc.paths[route.path]?.[route.method.toLowerCase()];
      expect(op, `${route.method} ${route.path}`).toBeDefined();
      expect(op?.operationId).toBe(route.operationId);
      if (route.auth === 'jwt')
        expect(Object.keys(op?.responses ?? {})).toEqual(expect.arrayContaining(['401', '403']));
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'AlertDraft',
        'Alert',
        'AlertVersion',
        'UpdatePatch',
        'Problem',
        'DeliveryReport',
      ]),
    );
    expect(JSON.stringify(doc)).not.toContain('"#/$defs');
  });

  it('passes an OpenAPI 3.1 schema validator, which also fails on any $ref that does not resolve', async () => {
    // Prepare
    const { Validator } = await import('@seriousme/openapi-schema-validator');
    const { call } = harness();
    const res = await call({ method: 'GET', path: '/v1/openapi.json', claims: null });
    // Act
    const validator = new Validator();
    const result = await validator.validate(res.body as Record<string, unknown>);
    // Assess
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });
});
