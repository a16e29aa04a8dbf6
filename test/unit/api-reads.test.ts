/**
 * The reading routes (alerts, versions, lists), the router's own answers (404, 405, 500) and the OpenAPI document,
 * through createRouter with API Gateway 2.0 events, against DynamoStore on dynalite. The receipts' listings and the
 * audit are in api-deliveries.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { ROUTES } from '../../schemas/routes';
import draftFixture from '../fixtures/alert-draft.json';
import { AUDITOR, apiHarness, draft, OFFICER, SUPERVISOR } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { newUlid } from '../helpers/fakes';
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

const harness = (now?: string, store?: ApiDeps['store']) => apiHarness(db, residents, now, store);

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
