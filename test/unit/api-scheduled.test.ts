/**
 * Scheduled versions through the api router (API Gateway 2.0 events, DynamoStore on dynalite, a manual clock and a
 * recording publish timer): create and update with publishAt, the timer and its fallbacks, replacing, approving and
 * withdrawing waiting steps, and GET /v1/alerts?state=scheduled across pages.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamo/store';
import type { PublishTarget, PublishTimer } from '../../functions/ports';
import { ensureTable } from '../../local/dynalite';
import { type Answer, AUDITOR, apiHarness, draft, OFFICER, SERGEANT, SUPERVISOR } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { UnreachableQueue } from '../helpers/fakes';
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

const NOW = '2030-03-04T10:00:00.000Z';
const at = (hhmm: string) => `2030-03-04T${hhmm}:00.000Z`;
const PROBLEM = 'application/problem+json; charset=utf-8';

/** A PublishTimer that records what it was asked, and fails as told. */
class RecordingTimer implements PublishTimer {
  readonly armed: PublishTarget[] = [];
  readonly disarmed: Omit<PublishTarget, 'at'>[] = [];
  failure: Error | undefined;
  async arm(target: PublishTarget): Promise<void> {
    if (this.failure) throw this.failure;
    this.armed.push(target);
  }
  async disarm(target: Omit<PublishTarget, 'at'>): Promise<void> {
    this.disarmed.push({ alertId: target.alertId, version: target.version });
  }
}

const tooSoon = () => Object.assign(new Error('due too soon for a schedule'), { name: 'PublishTimeTooSoon' });

function setup(store?: DynamoStore) {
  const h = apiHarness(db, residents, NOW, store);
  const timer = new RecordingTimer();
  h.deps.publishTimer = timer;
  const update = (id: string, ifMatch: number, body: Record<string, unknown>) =>
    h.call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body,
      claims: OFFICER,
      headers: { 'if-match': `"${ifMatch}"` },
    });
  const approve = (id: string, body?: Record<string, unknown>, claims = SUPERVISOR) =>
    h.call({ method: 'POST', path: `/v1/alerts/${id}/approve`, body, claims });
  const withdraw = (id: string, n: number | string, claims = OFFICER) =>
    h.call({ method: 'DELETE', path: `/v1/alerts/${id}/versions/${n}`, claims });
  const read = async (id: string) =>
    (await h.call({ method: 'GET', path: `/v1/alerts/${id}`, claims: AUDITOR })).body;
  const stored = async (id: string, n: number) => (await db.store.getVersion(id, n))?.dispatchStatus;
  return { ...h, timer, update, approve, withdraw, read, stored };
}

const states = (alert: Record<string, unknown>) =>
  (alert.versions as { version: number; state: string }[]).map((v) => `${v.version}:${v.state}`);

function expectProblem(res: Answer, status: number, path?: string) {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toBe(PROBLEM);
  expect(res.body).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
  if (path) expect(res.body.errors?.map((e) => e.path)).toContain(path);
}

describe('POST /v1/alerts with publishAt', () => {
  it('answers 201 scheduled with its ETag, arms the timer and queues no dispatch', async () => {
    // Arrange
    const { call, queue, timer } = setup();

    // Act
    const res = await call({
      method: 'POST',
      path: '/v1/alerts',
      body: draft({ publishAt: '2030-03-04T15:00:00+01:00' }),
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    expect(res.headers).toMatchObject({ etag: '"1"', location: `/v1/alerts/${id}` });
    expect(res.body).toMatchObject({
      state: 'scheduled',
      publishAt: at('14:00'),
      nextPublishAt: at('14:00'),
      sent: '2030-03-04T14:00:00-00:00',
      versions: [expect.objectContaining({ version: 1, state: 'scheduled', publishAt: at('14:00') })],
    });
    expect(queue.sent).toEqual([]);
    expect(timer.armed).toEqual([{ alertId: id, version: 1, at: at('14:00') }]);
  });

  it('sends at once a publishAt within the clock skew: no timer, a dispatch message', async () => {
    // Arrange
    const { create, queue, timer, read } = setup();

    // Act
    const id = await create(draft({ publishAt: '2030-03-04T09:59:30Z' }));

    // Assess
    expect(timer.armed).toEqual([]);
    expect(queue.bodies('dispatch')).toEqual([{ alertId: id, version: 1 }]);
    expect(await read(id)).not.toHaveProperty('publishAt');
  });

  it.each([
    ['in the past', '2030-03-04T09:58:00Z'],
    ['more than 90 days ahead', '2030-06-03T10:00:01Z'],
    ['without an offset', '2030-03-04T14:00:00'],
  ])(
    'refuses a publishAt %s with a 400 naming /publishAt, and stores and arms nothing',
    async (_name, publishAt) => {
      // Arrange
      const { call, queue, timer, logger } = setup();

      // Act
      const res = await call({
        method: 'POST',
        path: '/v1/alerts',
        body: draft({ publishAt }),
        claims: OFFICER,
      });

      // Assess
      expectProblem(res, 400, '/publishAt');
      expect(queue.sent).toEqual([]);
      expect(timer.armed).toEqual([]);
      expect(logger.at('info').filter((l) => l.message === 'alert created')).toEqual([]);
    },
  );

  it('refuses in the preview the publishAt a create would refuse, naming /publishAt', async () => {
    // Arrange
    const { call } = setup();

    // Act
    const past = await call({
      method: 'POST',
      path: '/v1/alerts/preview',
      body: draft({ publishAt: '2030-03-04T09:58:00Z' }),
      claims: OFFICER,
    });
    const ahead = await call({
      method: 'POST',
      path: '/v1/alerts/preview',
      body: draft({ publishAt: '2030-03-05T09:00:00Z' }),
      claims: OFFICER,
    });

    // Assess
    expectProblem(past, 400, '/publishAt');
    expect(ahead.status).toBe(200);
  });

  it('holds a scheduled alert that needs approval: pending-approval, nothing armed or queued', async () => {
    // Arrange
    const { create, queue, timer, read, stored } = setup();

    // Act
    const id = await create(draft({ severity: 'Extreme', publishAt: at('14:00') }));

    // Assess
    expect((await read(id)).state).toBe('pending-approval');
    expect(await stored(id, 1)).toBe('held');
    expect(timer.armed).toEqual([]);
    expect(queue.sent).toEqual([]);
  });

  it('queues the dispatch message with the seconds left when the timer says PublishTimeTooSoon', async () => {
    // Arrange
    const { create, queue, timer } = setup();
    timer.failure = tooSoon();

    // Act
    const id = await create(draft({ publishAt: '2030-03-04T10:00:45.200Z' }));

    // Assess
    const messages = queue.sent.filter((s) => s.queue === 'dispatch').flatMap((s) => s.messages);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.delaySeconds).toBe(46);
    expect(JSON.parse(messages[0]?.body ?? '')).toEqual({ alertId: id, version: 1 });
  });

  it.each([
    ['the timer fails', false],
    ['the timer says too soon and the queue is down', true],
  ])('still answers 201 when %s, and logs a warning', async (_name, queueDown) => {
    // Arrange
    const h = setup();
    if (queueDown) {
      h.deps.queue = new UnreachableQueue();
      h.timer.failure = tooSoon();
    } else h.timer.failure = new Error('Scheduler: ThrottlingException');

    // Act
    const id = await h.create(draft({ publishAt: '2030-03-04T10:00:30.000Z' }));

    // Assess
    expect(await h.stored(id, 1)).toBe('scheduled');
    const warnings = h.logger.at('warn').filter((l) => /publish timer not armed/.test(l.message));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.extra[0]).toMatchObject({ alertId: id, version: 1 });
  });
  it('replays the first answer to a retry with the same Idempotency-Key after the time has passed', async () => {
    // Arrange: the 201 was lost on the way; the client retries two minutes later, past the version's time.
    const { call, clock, timer } = setup();
    const request = {
      method: 'POST',
      path: '/v1/alerts',
      body: draft({ publishAt: '2030-03-04T10:00:30.000Z' }),
      claims: OFFICER,
      headers: { 'idempotency-key': randomUUID() },
    };
    const first = await call(request);
    clock.set('2030-03-04T10:02:00.000Z');

    // Act
    const retry = await call(request);

    // Assess
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.body.id).toBe(first.body.id);
    expect(timer.armed).toHaveLength(1);
  });
});

describe('POST /v1/alerts/{id}/updates with publishAt and replaces', () => {
  it('replaces a scheduled alert not out yet by an update sent now, and disarms its timer', async () => {
    // Arrange
    const { create, update, queue, timer, stored } = setup();
    const id = await create(draft({ publishAt: at('14:00') }));

    // Act
    const res = await update(id, 1, { headline: 'Sent now instead' });

    // Assess
    expect(res.status).toBe(201);
    expect(res.headers.etag).toBe('"2"');
    expect(res.body).toMatchObject({ version: 2, replaces: [1], state: 'dispatching' });
    expect(states(res.body)).toEqual(['1:superseded', '2:dispatching']);
    expect(res.body).not.toHaveProperty('nextPublishAt');
    expect(await stored(id, 1)).toBe('superseded');
    expect(timer.disarmed).toEqual([{ alertId: id, version: 1 }]);
    expect(queue.bodies('dispatch')).toEqual([{ alertId: id, version: 2 }]);
  });

  it('adds a later step to a scheduled alert: both wait, both armed, nothing replaced', async () => {
    // Arrange
    const { create, update, timer, queue } = setup();
    const id = await create(draft({ publishAt: at('14:00') }));

    // Act
    const res = await update(id, 1, { headline: 'Reopened', publishAt: at('16:00') });

    // Assess
    expect(res.status).toBe(201);
    expect(res.body).not.toHaveProperty('replaces');
    expect(states(res.body)).toEqual(['1:scheduled', '2:scheduled']);
    expect(res.body.nextPublishAt).toBe(at('14:00'));
    expect(timer.armed.map((t) => t.version)).toEqual([1, 2]);
    expect(timer.disarmed).toEqual([]);
    expect(queue.sent).toEqual([]);
  });

  it('replaces a named step of a live alert, leaving the alert live', async () => {
    // Arrange
    const { create, update, timer, stored } = setup();
    const id = await create();
    await update(id, 1, { headline: 'Closing at 14:00', publishAt: at('14:00') });

    // Act
    const res = await update(id, 2, { headline: 'Closing at 15:00', publishAt: at('15:00'), replaces: 2 });

    // Assess
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      version: 3,
      replaces: [2],
      state: 'dispatching',
      nextPublishAt: at('15:00'),
    });
    expect(states(res.body)).toEqual(['1:dispatching', '2:superseded', '3:scheduled']);
    expect(await stored(id, 2)).toBe('superseded');
    expect(timer.disarmed).toEqual([{ alertId: id, version: 2 }]);
    expect(timer.armed.at(-1)).toEqual({ alertId: id, version: 3, at: at('15:00') });
  });

  it('refuses with 409 to replace a version that is not waiting, and stores nothing', async () => {
    // Arrange
    const { create, update, read } = setup();
    const id = await create();

    // Act
    const res = await update(id, 1, { headline: 'x', replaces: 1 });

    // Assess
    expectProblem(res, 409);
    expect(res.body.detail).toMatch(/not waiting/);
    expect((await read(id)).version).toBe(1);
  });

  it('refuses with 400 naming /replaces a version that does not exist', async () => {
    // Arrange
    const { create, update } = setup();
    const id = await create();

    // Act
    const res = await update(id, 1, { headline: 'x', replaces: 9 });

    // Assess
    expectProblem(res, 400, '/replaces');
  });

  it('refuses an update publishAt in the past with a 400 naming /publishAt', async () => {
    // Arrange
    const { create, update } = setup();
    const id = await create();

    // Act
    const res = await update(id, 1, { headline: 'x', publishAt: '2030-03-04T08:00:00Z' });

    // Assess
    expectProblem(res, 400, '/publishAt');
  });
});

describe('POST /v1/alerts/{id}/approve of scheduled versions', () => {
  it('approved before its time: scheduled and armed, nothing dispatched', async () => {
    // Arrange
    const { create, approve, timer, queue, stored } = setup();
    const id = await create(draft({ severity: 'Extreme', publishAt: at('14:00') }));

    // Act
    const res = await approve(id);

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'scheduled', nextPublishAt: at('14:00') });
    expect(await stored(id, 1)).toBe('scheduled');
    expect(timer.armed).toEqual([{ alertId: id, version: 1, at: at('14:00') }]);
    expect(queue.sent).toEqual([]);
  });

  it('approved after its time: pending and dispatched at once, nothing armed', async () => {
    // Arrange
    const { create, approve, timer, queue, clock, stored } = setup();
    const id = await create(draft({ severity: 'Extreme', publishAt: at('14:00') }));
    clock.set(at('14:05'));

    // Act
    const res = await approve(id);

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('dispatching');
    expect(await db.store.getVersion(id, 1)).toMatchObject({
      dispatchStatus: 'pending',
      releasedAt: at('14:05'),
    });
    expect(await stored(id, 1)).toBe('pending');
    expect(timer.armed).toEqual([]);
    expect(queue.bodies('dispatch')).toEqual([{ alertId: id, version: 1 }]);
  });

  it('approves every held step without a version, and only the one named with it', async () => {
    // Arrange: a live alert with two held steps (an Extreme update at 14:00, another at 16:00).
    const { create, update, approve, timer, stored } = setup();
    const id = await create();
    await update(id, 1, { severity: 'Extreme', publishAt: at('14:00') });
    await update(id, 2, { severity: 'Extreme', publishAt: at('16:00') });
    const other = await create();
    await update(other, 1, { severity: 'Extreme', publishAt: at('14:00') });
    await update(other, 2, { severity: 'Extreme', publishAt: at('16:00') });

    // Act
    const one = await approve(other, { version: 3 });
    const all = await approve(id);

    // Assess
    expect(one.status).toBe(200);
    expect(states(one.body)).toEqual(['1:dispatching', '2:pending-approval', '3:scheduled']);
    expect(await stored(other, 2)).toBe('held');
    expect(all.status).toBe(200);
    expect(states(all.body)).toEqual(['1:dispatching', '2:scheduled', '3:scheduled']);
    expect(timer.armed.filter((t) => t.alertId === id).map((t) => t.version)).toEqual([2, 3]);
  });

  it('keeps the two-person rule before the time: the author cannot approve their own schedule', async () => {
    // Arrange
    const { create, approve, stored } = setup();
    const id = await create(draft({ severity: 'Extreme', publishAt: at('14:00') }), SERGEANT);

    // Act
    const res = await approve(id, undefined, SERGEANT);

    // Assess
    expectProblem(res, 403);
    expect(await stored(id, 1)).toBe('held');
  });

  it('answers 409 for a version not waiting for approval', async () => {
    // Arrange
    const { create, approve } = setup();
    const id = await create(draft({ severity: 'Extreme', publishAt: at('14:00') }));

    // Act
    const named = await approve(id, { version: 2 });
    await approve(id);
    const again = await approve(id);

    // Assess
    expectProblem(named, 409);
    expectProblem(again, 409);
  });
});

describe('DELETE /v1/alerts/{id}/versions/{n}', () => {
  it('withdraws a waiting step: it reads withdrawn, stays on record, and its timer is disarmed', async () => {
    // Arrange
    const { create, update, withdraw, timer, stored, read } = setup();
    const id = await create();
    await update(id, 1, { headline: 'Closing now', publishAt: at('14:00') });

    // Act
    const res = await withdraw(id, 2);

    // Assess
    expect(res.status).toBe(200);
    expect(states(res.body)).toEqual(['1:dispatching', '2:withdrawn']);
    expect(res.body).not.toHaveProperty('nextPublishAt');
    expect(await db.store.getVersion(id, 2)).toMatchObject({
      dispatchStatus: 'withdrawn',
      withdrawn: { by: 'officer-1', at: NOW },
    });
    expect(timer.disarmed).toEqual([{ alertId: id, version: 2 }]);
    expect(states(await read(id))).toEqual(['1:dispatching', '2:withdrawn']);
    expect(await stored(id, 2)).toBe('withdrawn');
  });

  it('answers 409 for a version out, or withdrawn already', async () => {
    // Arrange
    const { create, update, withdraw } = setup();
    const id = await create();
    await update(id, 1, { headline: 'Closing now', publishAt: at('14:00') });
    await withdraw(id, 2);

    // Act
    const outAlready = await withdraw(id, 1);
    const twice = await withdraw(id, 2);

    // Assess
    expectProblem(outAlready, 409);
    expect(outAlready.body.detail).toMatch(/out/);
    expectProblem(twice, 409);
    expect(twice.body.detail).toMatch(/withdrawn already/);
  });

  it.each([
    ['a version that does not exist', 'existing', '5'],
    ['a version that is not a number', 'existing', 'two'],
    ['an alert that does not exist', 'missing', '1'],
  ])('answers 404 for %s', async (_name, which, n) => {
    // Arrange
    const { create, withdraw } = setup();
    const id =
      which === 'existing' ? await create(draft({ publishAt: at('14:00') })) : '01HZZZZZZZZZZZZZZZZZZZZZZZ';

    // Act
    const res = await withdraw(id, n);

    // Assess
    expectProblem(res, 404);
  });

  it('refuses an auditor with 403', async () => {
    // Arrange
    const { create, withdraw, stored } = setup();
    const id = await create(draft({ publishAt: at('14:00') }));

    // Act
    const res = await withdraw(id, 1, AUDITOR);

    // Assess
    expectProblem(res, 403);
    expect(await stored(id, 1)).toBe('scheduled');
  });
});

describe('GET /v1/alerts?state=scheduled', () => {
  it('lists each alert with waiting steps once, soonest first, across pages of a small limit', async () => {
    // Arrange: A waits at 10:30 and 12:00; B 11:00; C 11:30; D 13:00; E 13:30; F was withdrawn; G went out.
    const tableName = `herald-listing-${randomUUID()}`;
    await ensureTable(db.client, tableName);
    const h = setup(new DynamoStore({ client: db.client, tableName }));
    const named: Record<string, string> = {};
    for (const [name, time] of [
      ['A', '10:30'],
      ['B', '11:00'],
      ['C', '11:30'],
      ['D', '13:00'],
      ['E', '13:30'],
      ['F', '12:30'],
    ] as const)
      named[name] = await h.create(draft({ headline: name, publishAt: at(time) }));
    await h.update(named.A!, 1, { headline: 'A later', publishAt: at('12:00') });
    await h.withdraw(named.F!, 1);
    await h.create(draft({ headline: 'G' }));

    // Act
    const pages: Answer[] = [];
    let cursor: string | undefined;
    do {
      const res = await h.call({
        method: 'GET',
        path: `/v1/alerts?state=scheduled&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        claims: AUDITOR,
      });
      pages.push(res);
      cursor = res.body.cursor as string | undefined;
    } while (cursor && pages.length < 10);

    // Assess
    expect(pages.every((p) => p.status === 200)).toBe(true);
    const listed = pages.map((p) => (p.body.items as { headline: string }[]).map((i) => i.headline));
    expect(listed.flat()).toEqual(['A later', 'B', 'C', 'D', 'E']);
    expect(listed[0]).toEqual(['A later', 'B']);
    const a = (pages[0]?.body.items as Record<string, unknown>[] | undefined)?.[0];
    expect(a).toMatchObject({ id: named.A, state: 'scheduled', nextPublishAt: at('10:30') });
    expect(a?.scheduled).toEqual([
      {
        version: 1,
        msgType: 'Alert',
        publishAt: at('10:30'),
        headline: 'A',
        author: 'officer-1',
        state: 'scheduled',
      },
      {
        version: 2,
        msgType: 'Update',
        publishAt: at('12:00'),
        headline: 'A later',
        author: 'officer-1',
        state: 'scheduled',
      },
    ]);
    expect(pages.at(-1)?.body).not.toHaveProperty('cursor');
  });

  it('refuses another state with a 400 naming /query/state', async () => {
    // Arrange
    const { call } = setup();

    // Act
    const res = await call({ method: 'GET', path: '/v1/alerts?state=sent', claims: AUDITOR });

    // Assess
    expectProblem(res, 400, '/query/state');
  });

  it('refuses a cursor it did not give out with a 400 naming /query/cursor', async () => {
    // Arrange
    const { call } = setup();
    const forged = Buffer.from(
      JSON.stringify({ PK: 'SUB#x', SK: 'V#1', GSI2PK: 'SCHEDULED', GSI2SK: 'x' }),
    ).toString('base64url');

    // Act
    const res = await call({
      method: 'GET',
      path: `/v1/alerts?state=scheduled&cursor=${forged}`,
      claims: AUDITOR,
    });

    // Assess
    expectProblem(res, 400, '/query/cursor');
  });
});

describe('GET /v1/alerts/{id}/audit of a timeline', () => {
  it('records who scheduled each step for when, which replaced which, who withdrew one, and each release', async () => {
    // Arrange: a live alert with two steps; the first edited (replaced), the second withdrawn, the edit released
    const { create, update, withdraw, call, clock, dispatch } = setup();
    const id = await create(draft());
    await update(id, 1, { headline: 'Closing now', publishAt: '2030-03-04T12:00:00Z' });
    await update(id, 2, { headline: 'Reopened', publishAt: '2030-03-04T14:00:00Z' });
    await update(id, 3, {
      headline: 'Closing now, from the north',
      replaces: 2,
      publishAt: '2030-03-04T12:00:00Z',
    });
    await withdraw(id, 3);
    clock.set('2030-03-04T12:00:01.000Z');
    await dispatch(id, 4);

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(200);
    const entries = (
      res.body.entries as { action: string; version: number; actor: string; detail?: string }[]
    ).filter((e) => e.action.startsWith('version.'));
    expect(entries).toEqual(
      expect.arrayContaining([
        {
          at: expect.any(String),
          action: 'version.scheduled',
          version: 2,
          actor: 'officer-1',
          detail: 'to go out at 2030-03-04T12:00:00.000Z',
        },
        {
          at: expect.any(String),
          action: 'version.replaced',
          version: 2,
          actor: 'officer-1',
          detail: 'by version 4, before it went out',
        },
        { at: expect.any(String), action: 'version.withdrawn', version: 3, actor: 'officer-1' },
        { at: '2030-03-04T12:00:01.000Z', action: 'version.released', version: 4, actor: 'system:scheduler' },
      ]),
    );
    expect(entries.filter((e) => e.action === 'version.released').map((e) => e.version)).toEqual([4]);
  });
});
