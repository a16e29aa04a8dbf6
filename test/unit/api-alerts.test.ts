/**
 * The alert-writing routes through createRouter, fed API Gateway HTTP API 2.0 events with JWT-authorizer
 * claims, against the real DynamoStore on dynalite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { createApiHandler } from '../../functions/api/handler';
import { MAX_BODY_BYTES } from '../../functions/api/http';
import { createRouter } from '../../functions/api/router';
import type { QueuePort } from '../../functions/ports';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { type ApiRequest, apiEvent, type Claims, claimsFor, lambdaContext } from '../helpers/events';
import {
  ManualClock,
  newUlid,
  RecordingLogger,
  RecordingQueue,
  testConfig,
  UnreachableQueue,
} from '../helpers/fakes';
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
const OTHER_OFFICER = claimsFor('officer-2', ['officer']);
const SUPERVISOR = claimsFor('supervisor-1', ['supervisor']);
/** A sergeant may write alerts and approve them, but never their own. */
const SERGEANT = claimsFor('sergeant-1', ['officer', 'supervisor']);
const AUDITOR = claimsFor('auditor-1', ['auditor']);

const ULID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
const CAP_SENT = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-00:00$/;

const draft = (changes: Record<string, unknown> = {}) => ({ ...structuredClone(draftFixture), ...changes });

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown> & { errors?: { path: string; message: string }[] };
}

function harness(options: { queue?: QueuePort; now?: string } = {}) {
  const clock = new ManualClock(options.now ?? '2030-03-04T10:00:00.000Z');
  const queue = options.queue ?? new RecordingQueue();
  const logger = new RecordingLogger();
  const deps: ApiDeps = {
    ...residents,
    store: db.store,
    queue,
    config: testConfig(),
    clock,
    newId: newUlid,
    logger,
  };
  const router = createRouter(deps);
  const call = async (request: ApiRequest): Promise<Answer> => {
    const result = await router(apiEvent(request));
    return {
      status: result.statusCode ?? 0,
      headers: result.headers,
      body: result.body ? (JSON.parse(result.body) as Answer['body']) : {},
    };
  };
  const create = (
    body: unknown = draft(),
    claims: Claims | null = OFFICER,
    headers: Record<string, string> = {},
  ) => call({ method: 'POST', path: '/v1/alerts', body, claims, headers });
  return { deps, clock, queue, logger, call, create };
}

const idOf = (a: Answer) => a.body.id as string;

describe('POST /v1/alerts', () => {
  it('creates version 1: 201 with Location, ETag "1" and the alert, and queues its dispatch', async () => {
    // Prepare
    const { create, queue } = harness();

    // Act
    const res = await create();

    // Assess
    expect(res.status).toBe(201);
    const id = idOf(res);
    expect(id).toMatch(ULID);
    expect(res.headers).toMatchObject({
      location: `/v1/alerts/${id}`,
      etag: '"1"',
      'content-type': 'application/json; charset=utf-8',
    });
    expect(res.body).toMatchObject({
      id,
      version: 1,
      msgType: 'Alert',
      sent: '2030-03-04T10:00:00-00:00',
      sender: 'alerts@herald.example',
      references: [],
      state: 'dispatching',
      author: 'officer-1',
      headline: draftFixture.headline,
      channels: draftFixture.channels,
    });
    expect(res.body.sent).toMatch(CAP_SENT);
    expect((queue as RecordingQueue).bodies('dispatch')).toEqual([{ alertId: id, version: 1 }]);
  });

  it('stores what it answered: GET returns the same alert', async () => {
    // Prepare
    const { create, call } = harness();
    const created = await create();

    // Act
    const read = await call({ method: 'GET', path: `/v1/alerts/${idOf(created)}`, claims: AUDITOR });

    // Assess
    expect(read.status).toBe(200);
    expect(read.headers.etag).toBe('"1"');
    expect(read.body).toEqual(created.body);
  });

  it('answers through the Lambda handler (middy with the Lambda context) as through the router', async () => {
    // Prepare
    const queue = new RecordingQueue();
    const { deps } = harness({ queue });
    const handler = createApiHandler(deps);

    // Act
    const result = await handler(
      apiEvent({ method: 'POST', path: '/v1/alerts', body: draft(), claims: OFFICER }),
      lambdaContext('herald-api'),
    );

    // Assess
    expect(result.statusCode).toBe(201);
    expect(queue.bodies('dispatch')).toHaveLength(1);
  });

  it('refuses a request without a token with 401 problem+json and a Bearer challenge', async () => {
    // Prepare
    const { create, queue } = harness();

    // Act
    const res = await create(draft(), null);

    // Assess
    expect(res.status).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.body).toMatchObject({
      type: 'urn:herald:problem:unauthorized',
      status: 401,
      instance: '/v1/alerts',
    });
    expect(typeof res.body.title).toBe('string');
    expect(typeof res.body.detail).toBe('string');
    expect((queue as RecordingQueue).sent).toEqual([]);
  });

  it.each([
    ['an auditor', AUDITOR],
    ['a supervisor', SUPERVISOR],
    ['a user in no Herald group', claimsFor('visitor', [])],
  ])('refuses %s with 403 problem+json', async (_who, claims) => {
    // Prepare
    const { create, queue } = harness();

    // Act
    const res = await create(draft(), claims);

    // Assess
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body).toMatchObject({ type: 'urn:herald:problem:forbidden', status: 403 });
    expect((queue as RecordingQueue).sent).toEqual([]);
  });

  it('names every bad field by JSON pointer, all in one answer, and stores nothing', async () => {
    // Prepare
    const { create, queue } = harness();
    const bad = draft({
      severity: 'Huge',
      headline: '',
      channels: ['x', 'fax'],
      web: 'ftp://files.example/a',
    });
    delete (bad as Record<string, unknown>).event;

    // Act
    const res = await create(bad);

    // Assess
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.body.type).toBe('urn:herald:problem:validation');
    expect(res.body.errors?.map((e) => e.path).sort()).toEqual(
      ['/channels/1', '/event', '/headline', '/severity', '/web'].sort(),
    );
    expect(res.body.errors?.find((e) => e.path === '/event')?.message).toBe('is required');
    expect(res.body.errors?.find((e) => e.path === '/headline')?.message).toBe('must not be empty');
    expect((queue as RecordingQueue).sent).toEqual([]);
  });

  it('names a nested bad field by its full pointer', async () => {
    // Prepare
    const { create } = harness();

    // Act
    const res = await create(draft({ translations: [{ language: 'ca', headline: 'Hola' }] }));

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toEqual(['/translations/0/description']);
  });

  it('refuses unknown fields with 400, each named', async () => {
    // Prepare
    const { create } = harness();

    // Act
    const res = await create(draft({ colour: 'red', priority: 1 }));

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: '/colour', message: 'is not a known field' },
      { path: '/priority', message: 'is not a known field' },
    ]);
  });

  it('refuses a body over 256 KiB with 413', async () => {
    // Prepare
    const { create, queue } = harness();
    const huge = JSON.stringify(draft({ description: 'x'.repeat(MAX_BODY_BYTES) }));

    // Act
    const res = await create(huge);

    // Assess
    expect(MAX_BODY_BYTES).toBe(256 * 1024);
    expect(res.status).toBe(413);
    expect(res.body.type).toBe('urn:herald:problem:payload-too-large');
    expect((queue as RecordingQueue).sent).toEqual([]);
  });

  it('accepts a body of exactly 256 KiB as far as size goes (then validates it)', async () => {
    // Prepare
    const { create } = harness();
    const base = Buffer.byteLength(JSON.stringify(draft({ description: '' })));
    const exact = JSON.stringify(draft({ description: 'x'.repeat(MAX_BODY_BYTES - base) }));

    // Act
    const res = await create(exact);

    // Assess
    expect(Buffer.byteLength(exact)).toBe(MAX_BODY_BYTES);
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toEqual(['/description']);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])(
    'refuses content type %s with 415',
    async (type) => {
      // Prepare
      const { create } = harness();

      // Act
      const res = await create(draft(), OFFICER, { 'Content-Type': type });

      // Assess
      expect(res.status).toBe(415);
      expect(res.body.type).toBe('urn:herald:problem:unsupported-media-type');
    },
  );

  it('accepts application/json with a charset parameter', async () => {
    // Prepare
    const { create } = harness();

    // Act
    const res = await create(draft(), OFFICER, { 'content-type': 'application/json; charset=UTF-8' });

    // Assess
    expect(res.status).toBe(201);
  });

  it.each([
    ['broken JSON', '{"status": "Actual",'],
    ['a JSON array', '[1, 2]'],
    ['a JSON string', '"alert"'],
    ['JSON null', 'null'],
  ])('refuses %s with 400', async (_what, body) => {
    // Prepare
    const { create } = harness();

    // Act
    const res = await create(body);

    // Assess
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
  });

  it('refuses a request with no body with 400', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'POST', path: '/v1/alerts', claims: OFFICER });

    // Assess
    expect(res.status).toBe(400);
  });

  it('reads a base64-encoded body as API Gateway passes it', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({
      method: 'POST',
      path: '/v1/alerts',
      body: Buffer.from(JSON.stringify(draft())).toString('base64'),
      isBase64Encoded: true,
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(201);
  });

  it('still answers 201 when the dispatch queue is down: the version waits for the sweeper', async () => {
    // Prepare
    const queue = new UnreachableQueue();
    const { create, logger, clock } = harness({ queue, now: '2030-03-05T08:00:00.000Z' });

    // Act
    const res = await create();

    // Assess
    expect(res.status).toBe(201);
    expect(res.body.state).toBe('dispatching');
    expect(queue.attempts).toBe(1);
    expect(logger.at('warn')[0]?.message).toMatch(/sweeper/);
    clock.advance(61_000);
    const unplanned = await db.store.findUnplanned(clock.now().toISOString(), 1000);
    expect(unplanned).toContainEqual({ alertId: idOf(res), version: 1 });
  });
});

describe('Idempotency-Key on POST /v1/alerts', () => {
  it('replays the first answer for the same key and body: same status, same id, one alert stored', async () => {
    // Prepare
    const now = '2030-04-01T09:00:00.000Z';
    const { create, queue } = harness({ now });
    const body = draft();
    const reordered = Object.fromEntries(Object.entries(body).reverse());
    const first = await create(body, OFFICER, { 'Idempotency-Key': 'cad-4711' });

    // Act
    const replay = await create(reordered, OFFICER, { 'Idempotency-Key': 'cad-4711' });

    // Assess
    expect(first.status).toBe(201);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(replay.status).toBe(201);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.headers.location).toBe(first.headers.location);
    expect(replay.body).toEqual(first.body);
    const stored = await db.store.listAlerts({ limit: 100 });
    expect(stored.items.filter((i) => i.head.createdAt === now)).toHaveLength(1);
    expect((queue as RecordingQueue).bodies('dispatch')).toHaveLength(1);
  });

  it('refuses the same key with another body with 422, and keeps the first alert', async () => {
    // Prepare
    const { create } = harness();
    const first = await create(draft(), OFFICER, { 'Idempotency-Key': 'cad-4712' });

    // Act
    const res = await create(draft({ headline: 'Another alert' }), OFFICER, {
      'Idempotency-Key': 'cad-4712',
    });

    // Assess
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(await db.store.getAlert(idOf(first))).toBeDefined();
  });

  it("keeps each caller's keys apart", async () => {
    // Prepare
    const { create } = harness();
    const mine = await create(draft(), OFFICER, { 'Idempotency-Key': 'shared-key' });

    // Act
    const theirs = await create(draft(), OTHER_OFFICER, { 'Idempotency-Key': 'shared-key' });

    // Assess
    expect(theirs.status).toBe(201);
    expect(theirs.headers['idempotent-replayed']).toBeUndefined();
    expect(idOf(theirs)).not.toBe(idOf(mine));
  });

  it('replays a refusal as a refusal', async () => {
    // Prepare
    const { call, create } = harness();
    const alert = await create();
    const path = `/v1/alerts/${idOf(alert)}/updates`;
    const body = { channels: ['x', 'instagram'] };
    const first = await call({
      method: 'POST',
      path,
      body,
      claims: OFFICER,
      headers: { 'if-match': '"1"', 'idempotency-key': 'u-1' },
    });

    // Act
    const replay = await call({
      method: 'POST',
      path,
      body,
      claims: OFFICER,
      headers: { 'if-match': '"1"', 'idempotency-key': 'u-1' },
    });

    // Assess
    expect(first.status).toBe(422);
    expect(replay.status).toBe(422);
    expect(replay.headers['idempotent-replayed']).toBe('true');
  });

  it('refuses a key that is not visible ASCII with 400 naming the header', async () => {
    // Prepare
    const { create } = harness();

    // Act
    const res = await create(draft(), OFFICER, { 'Idempotency-Key': 'clé avec espaces' });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ path: '/headers/idempotency-key' })]);
  });
});

describe('POST /v1/alerts/{id}/updates', () => {
  it('refuses an update without If-Match with 428', async () => {
    // Prepare
    const { create, call } = harness();
    const alert = await create();

    // Act
    const res = await call({
      method: 'POST',
      path: `/v1/alerts/${idOf(alert)}/updates`,
      body: { headline: 'Seen' },
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(428);
    expect(res.body.type).toBe('urn:herald:problem:precondition-required');
  });

  it('makes version 2 with the right If-Match: 201, ETag "2", msgType Update referencing version 1', async () => {
    // Prepare
    const { create, call, clock, queue } = harness();
    const alert = await create();
    const id = idOf(alert);
    clock.advance(5 * 60_000);

    // Act
    const res = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { headline: 'Missing child seen at the station', instruction: null },
      headers: { 'If-Match': '"1"', 'content-type': 'application/merge-patch+json' },
      claims: OTHER_OFFICER,
    });

    // Assess
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"2"');
    expect(res.headers.location).toBe(`/v1/alerts/${id}/versions/2`);
    expect(res.body).toMatchObject({
      id,
      version: 2,
      msgType: 'Update',
      headline: 'Missing child seen at the station',
      description: draftFixture.description,
      author: 'officer-2',
      sent: '2030-03-04T10:05:00-00:00',
      references: [`alerts@herald.example,herald-${id}-v1,2030-03-04T10:00:00-00:00`],
    });
    expect(res.body).not.toHaveProperty('instruction');
    expect((queue as RecordingQueue).bodies('dispatch')).toEqual([
      { alertId: id, version: 1 },
      { alertId: id, version: 2 },
    ]);
  });

  it('refuses a stale If-Match with 412 and writes nothing', async () => {
    // Prepare
    const { create, call } = harness();
    const id = idOf(await create());
    const path = `/v1/alerts/${id}/updates`;
    await call({
      method: 'POST',
      path,
      body: { headline: 'First change' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });

    // Act
    const res = await call({
      method: 'POST',
      path,
      body: { headline: 'Second change' },
      headers: { 'if-match': '"1"' },
      claims: OTHER_OFFICER,
    });

    // Assess
    expect(res.status).toBe(412);
    expect(res.body.type).toBe('urn:herald:problem:precondition-failed');
    expect((await db.store.getAlert(id))?.versions).toHaveLength(2);
  });

  it('refuses to add a channel with 422 naming /channels/…', async () => {
    // Prepare
    const { create, call } = harness();
    const id = idOf(await create());

    // Act
    const res = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { channels: ['x', 'email'] },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: '/channels/1', message: expect.stringMatching(/email/) }]);
  });

  it('refuses an empty patch and a patch of a field an update may not change, with 400', async () => {
    // Prepare
    const { create, call } = harness();
    const path = `/v1/alerts/${idOf(await create())}/updates`;

    // Act
    const empty = await call({
      method: 'POST',
      path,
      body: {},
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });
    const status = await call({
      method: 'POST',
      path,
      body: { status: 'Test' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });

    // Assess
    expect(empty.status).toBe(400);
    expect(status.status).toBe(400);
    expect(status.body.errors).toContainEqual({ path: '/status', message: 'is not a known field' });
  });

  it('answers 404 for an alert that does not exist', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({
      method: 'POST',
      path: `/v1/alerts/${newUlid()}/updates`,
      body: { headline: 'x' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(404);
  });
});

describe('POST /v1/alerts/{id}/cancel', () => {
  it('cancels: 201, msgType Cancel, state cancelled; then updates and cancels are refused with 409', async () => {
    // Prepare
    const { create, call } = harness();
    const id = idOf(await create());

    // Act
    const cancel = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/cancel`,
      body: { reason: 'Found safe' },
      claims: SUPERVISOR,
    });
    const update = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { headline: 'Too late' },
      headers: { 'if-match': '"2"' },
      claims: OFFICER,
    });
    const again = await call({ method: 'POST', path: `/v1/alerts/${id}/cancel`, claims: OFFICER });

    // Assess
    expect(cancel.status).toBe(201);
    expect(cancel.headers.etag).toBe('"2"');
    expect(cancel.body).toMatchObject({
      msgType: 'Cancel',
      version: 2,
      state: 'cancelled',
      note: 'Found safe',
    });
    expect(update.status).toBe(409);
    expect(again.status).toBe(409);
    expect(update.body.type).toBe('urn:herald:problem:conflict');
  });

  it('cancels without a body or If-Match, and honours an If-Match when sent', async () => {
    // Prepare
    const { create, call } = harness();
    const stale = idOf(await create());
    const fresh = idOf(await create());

    // Act
    const refused = await call({
      method: 'POST',
      path: `/v1/alerts/${stale}/cancel`,
      headers: { 'if-match': '"7"' },
      claims: OFFICER,
    });
    const done = await call({ method: 'POST', path: `/v1/alerts/${fresh}/cancel`, claims: OFFICER });

    // Assess
    expect(refused.status).toBe(412);
    expect(done.status).toBe(201);
  });

  it('refuses an auditor with 403', async () => {
    // Prepare
    const { create, call } = harness();
    const id = idOf(await create());

    // Act
    const res = await call({ method: 'POST', path: `/v1/alerts/${id}/cancel`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(403);
  });
});

describe('the two-person rule', () => {
  it('holds an Extreme alert; its author may not approve it, another supervisor releases it', async () => {
    // Prepare
    const { create, call, queue, clock } = harness();
    const created = await create(draft({ severity: 'Extreme' }), SERGEANT);
    const id = idOf(created);
    clock.advance(60_000);

    // Act
    const byAuthor = await call({ method: 'POST', path: `/v1/alerts/${id}/approve`, claims: SERGEANT });
    const byOfficer = await call({ method: 'POST', path: `/v1/alerts/${id}/approve`, claims: OFFICER });
    const queuedWhileHeld = (queue as RecordingQueue).bodies('dispatch').length;
    const approved = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/approve`,
      body: { note: 'Checked with the duty inspector' },
      claims: SUPERVISOR,
    });
    const twice = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/approve`,
      claims: claimsFor('supervisor-2', ['supervisor']),
    });

    // Assess
    expect(created.status).toBe(201);
    expect(created.body.state).toBe('pending-approval');
    expect(byAuthor.status).toBe(403);
    expect(byAuthor.body.detail).toMatch(/two-person/);
    expect(byOfficer.status).toBe(403);
    expect(queuedWhileHeld).toBe(0);
    expect(approved.status).toBe(200);
    expect(approved.headers.etag).toBe('"1"');
    expect(approved.body).toMatchObject({
      state: 'dispatching',
      approval: {
        required: true,
        approvedBy: 'supervisor-1',
        approvedAt: '2030-03-04T10:01:00.000Z',
        note: 'Checked with the duty inspector',
      },
      updatedAt: '2030-03-04T10:01:00.000Z',
    });
    expect((queue as RecordingQueue).bodies('dispatch')).toEqual([{ alertId: id, version: 1 }]);
    expect(twice.status).toBe(409);
  });

  it('answers 409 to an approval of an alert that was never held', async () => {
    // Prepare
    const { create, call } = harness();
    const id = idOf(await create());

    // Act
    const res = await call({ method: 'POST', path: `/v1/alerts/${id}/approve`, claims: SUPERVISOR });

    // Assess
    expect(res.status).toBe(409);
  });

  it('lets an officer cancel a held alert at once, without approval, and replaces the held version', async () => {
    // Prepare
    const { create, call, queue } = harness();
    const id = idOf(await create(draft({ severity: 'Extreme' })));

    // Act
    const res = await call({ method: 'POST', path: `/v1/alerts/${id}/cancel`, claims: OFFICER });

    // Assess
    expect(res.status).toBe(201);
    expect(res.body.state).toBe('cancelled');
    expect(res.body.references).toEqual([]);
    expect((res.body.versions as { state: string }[]).map((v) => v.state)).toEqual([
      'superseded',
      'dispatching',
    ]);
    expect((queue as RecordingQueue).bodies('dispatch')).toEqual([{ alertId: id, version: 2 }]);
    const approve = await call({ method: 'POST', path: `/v1/alerts/${id}/approve`, claims: SUPERVISOR });
    expect(approve.status).toBe(409);
  });

  it('queues an update that lowered a held alert below the approval bar, replacing the held version', async () => {
    // Prepare
    const { create, call, queue } = harness();
    const id = idOf(await create(draft({ severity: 'Extreme' })));

    // Act
    const res = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { severity: 'Severe' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(201);
    expect(res.body.state).toBe('dispatching');
    expect((await db.store.getVersion(id, 1))?.dispatchStatus).toBe('superseded');
    expect((queue as RecordingQueue).bodies('dispatch')).toEqual([{ alertId: id, version: 2 }]);
  });
});
