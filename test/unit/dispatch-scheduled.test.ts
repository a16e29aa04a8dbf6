/**
 * Scheduled versions at their time: the dispatcher releases a due one (conditionally, once), puts an early one back
 * on the queue until its second, plans nothing for a withdrawn, replaced or held one, and releases earlier due steps
 * first; the sweeper's release pass (functions/dispatch/release.ts) queues what is due, before its other work.
 * Versions are written through the api router, as an officer would, on dynalite.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamo/store';
import { type DispatchDeps, dispatchVersion } from '../../functions/dispatch/plan';
import { dueVersions, releaseDueVersions } from '../../functions/dispatch/release';
import { createSweeperHandler } from '../../functions/sweeper/handler';
import { ensureTable } from '../../local/dynalite';
import { apiHarness, draft, OFFICER, SUPERVISOR } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { lambdaContext } from '../helpers/events';
import { testConfig } from '../helpers/fakes';
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
const at = (hhmm: string, seconds = '00.000') => `2030-03-04T${hhmm}:${seconds}Z`;

function setup(store?: DynamoStore) {
  const h = apiHarness(db, residents, NOW, store);
  const update = async (id: string, ifMatch: number, body: Record<string, unknown>) => {
    const res = await h.call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body,
      claims: OFFICER,
      headers: { 'if-match': `"${ifMatch}"` },
    });
    expect(res.status).toBe(201);
  };
  const status = async (id: string, n: number) => (await db.store.getVersion(id, n))?.dispatchStatus;
  /** The versions whose X post was queued, in the order they were queued. */
  const postedToX = () =>
    h.queue.sent
      .filter((s) => s.queue === 'channel-x')
      .flatMap((s) => s.messages.map((m) => (JSON.parse(m.body) as { version: number }).version));
  return { ...h, update, status, postedToX };
}

describe('dispatchVersion of a scheduled version', () => {
  it('puts back one that comes early, delayed by the seconds left: nothing released or posted', async () => {
    // Arrange
    const h = setup();
    const id = await h.create(draft({ publishAt: at('14:00') }));
    h.clock.set(at('13:59', '58.500'));

    // Act
    await h.dispatch(id, 1);

    // Assess
    const messages = h.queue.sent.filter((s) => s.queue === 'dispatch').flatMap((s) => s.messages);
    expect(messages.map((m) => [JSON.parse(m.body), m.delaySeconds])).toEqual([
      [{ alertId: id, version: 1 }, 2],
    ]);
    expect(await h.status(id, 1)).toBe('scheduled');
    expect(h.postedToX()).toEqual([]);
  });

  it('drops a wake-up further off than a queue can delay: its timer or the sweeper releases it', async () => {
    // Arrange
    const h = setup();
    const id = await h.create(draft({ publishAt: at('14:00') }));
    h.clock.set(at('13:00'));

    // Act
    await h.dispatch(id, 1);

    // Assess
    expect(h.queue.sent).toEqual([]);
    expect(await h.status(id, 1)).toBe('scheduled');
    expect(h.logger.at('info').some((l) => l.message === 'scheduled version woken early')).toBe(true);
  });

  it('releases and plans one that is due, once however often it is dispatched', async () => {
    // Arrange
    const h = setup();
    const id = await h.create(draft({ publishAt: at('14:00') }));
    h.clock.set(at('14:00', '20.000'));

    // Act
    await h.dispatch(id, 1);
    await h.dispatch(id, 1);

    // Assess
    expect(await db.store.getVersion(id, 1)).toMatchObject({
      dispatchStatus: 'planned',
      releasedAt: at('14:00', '20.000'),
    });
    expect(h.postedToX()).toEqual([1]);
    const released = h.logger.at('info').filter((l) => l.message === 'scheduled version released');
    expect(released).toHaveLength(1);
    expect(released[0]?.extra[0]).toMatchObject({ alertId: id, version: 1, lateMs: 20_000 });
  });

  it('plans nothing for a withdrawn step', async () => {
    // Arrange
    const h = setup();
    const id = await h.create(draft({ publishAt: at('14:00') }));
    await h.call({ method: 'DELETE', path: `/v1/alerts/${id}/versions/1`, claims: OFFICER });
    h.clock.set(at('14:01'));

    // Act
    await h.dispatch(id, 1);

    // Assess
    expect(await h.status(id, 1)).toBe('withdrawn');
    expect(h.postedToX()).toEqual([]);
  });

  it('plans nothing for a replaced step, and only its replacement goes out', async () => {
    // Arrange
    const h = setup();
    const id = await h.create(draft({ publishAt: at('14:00') }));
    await h.update(id, 1, { headline: 'At 13:00 instead', publishAt: at('13:00') });
    h.clock.set(at('14:01'));

    // Act
    await h.dispatch(id, 1);
    await h.dispatch(id, 2);

    // Assess
    expect(await h.status(id, 1)).toBe('superseded');
    expect(await h.status(id, 2)).toBe('planned');
    expect(h.postedToX()).toEqual([2]);
  });

  it('sends nothing at all for a schedule cancelled before its time, and disarms every step', async () => {
    // Arrange: an alert for 14:00 with a step at 16:00, called off at 10:00.
    const h = setup();
    const disarmed: number[] = [];
    h.deps.publishTimer = {
      arm: async () => undefined,
      disarm: async (t) => void disarmed.push(t.version),
    };
    const id = await h.create(draft({ publishAt: at('14:00') }));
    await h.update(id, 1, { headline: 'Reopened', publishAt: at('16:00') });
    const cancel = await h.call({
      method: 'POST',
      path: `/v1/alerts/${id}/cancel`,
      body: {},
      claims: OFFICER,
    });

    // Act
    await h.dispatch(id, 3);
    h.clock.set(at('16:30'));
    await h.dispatch(id, 1);
    await h.dispatch(id, 2);

    // Assess
    expect(cancel.status).toBe(201);
    expect(cancel.body).toMatchObject({ state: 'cancelled', replaces: [1, 2] });
    expect(disarmed).toEqual([1, 2]);
    expect([await h.status(id, 1), await h.status(id, 2)]).toEqual(['superseded', 'superseded']);
    expect(h.queue.sent.filter((s) => s.queue !== 'dispatch')).toEqual([]);
  });

  it('never releases a step named in a later version whose writer died before marking it', async () => {
    // Arrange: version 2 replaces 1, but version 1 was never marked superseded.
    const h = setup();
    const id = await h.create(draft({ publishAt: at('14:00') }));
    const v1 = await db.store.getVersion(id, 1);
    await db.store.putVersion({
      ...v1!,
      version: 2,
      msgType: 'Update',
      publishAt: at('15:00'),
      replaces: [1],
    });
    h.clock.set(at('14:01'));

    // Act
    await h.dispatch(id, 1);

    // Assess
    expect(await h.status(id, 1)).toBe('scheduled');
    expect(h.postedToX()).toEqual([]);
  });

  it('takes back a release when the replacement was written between its read and its release', async () => {
    // Arrange: the dispatcher reads the alert, then an officer's replacement of version 1 is written (it cannot mark
    // version 1 superseded any more: the dispatcher released it), then the release lands.
    const h = setup();
    const id = await h.create(draft({ publishAt: at('14:00') }));
    const v1 = await db.store.getVersion(id, 1);
    const racing = new DynamoStore({ client: db.client, tableName: db.tableName });
    const release = racing.releaseScheduled.bind(racing);
    racing.releaseScheduled = async (alertId, version, when) => {
      const released = await release(alertId, version, when);
      await db.store.putVersion({
        ...v1!,
        version: 2,
        msgType: 'Update',
        publishAt: at('15:00'),
        replaces: [1],
      });
      return released;
    };
    h.clock.set(at('14:00', '01.000'));

    // Act
    await dispatchVersion({ ...h.deps, store: racing }, { alertId: id, version: 1 });

    // Assess
    expect(await h.status(id, 1)).toBe('superseded');
    expect(h.postedToX()).toEqual([]);
    expect(h.logger.lines.some((r) => r.message === 'scheduled version replaced as it was released')).toBe(
      true,
    );
  });

  it('plans nothing for a step past its time still held for approval; approved, it goes out', async () => {
    // Arrange
    const h = setup();
    const id = await h.create(draft({ severity: 'Extreme', publishAt: at('14:00') }));
    h.clock.set(at('14:01'));

    // Act
    await h.dispatch(id, 1);
    const before = await h.status(id, 1);
    const approved = await h.call({ method: 'POST', path: `/v1/alerts/${id}/approve`, claims: SUPERVISOR });
    await h.dispatch(id, 1);

    // Assess
    expect(before).toBe('held');
    expect(approved.status).toBe(200);
    expect(await h.status(id, 1)).toBe('planned');
    expect(h.postedToX()).toEqual([1]);
  });

  it.each([
    ['written in time order', ['12:00', '14:00'], 3, [2, 3]],
    ['written later for an earlier time', ['14:00', '12:00'], 2, [3, 2]],
  ] as const)(
    'releases earlier due steps first when both are due (%s)',
    async (_name, times, dispatched, expected) => {
      // Arrange: a live alert with two steps; the process was down past both times.
      const h = setup();
      const id = await h.create(draft());
      await h.dispatch(id, 1);
      await h.update(id, 1, { headline: `At ${times[0]}`, publishAt: at(times[0]) });
      await h.update(id, 2, { headline: `At ${times[1]}`, publishAt: at(times[1]) });
      h.clock.set(at('14:30'));

      // Act
      await h.dispatch(id, dispatched);

      // Assess
      expect(await h.status(id, 2)).toBe('planned');
      expect(await h.status(id, 3)).toBe('planned');
      expect(h.postedToX()).toEqual([1, ...expected]);
    },
  );

  it('does not release a later step early with an earlier one that is due', async () => {
    // Arrange
    const h = setup();
    const id = await h.create(draft());
    await h.dispatch(id, 1);
    await h.update(id, 1, { headline: 'At 12:00', publishAt: at('12:00') });
    await h.update(id, 2, { headline: 'At 16:00', publishAt: at('16:00') });
    h.clock.set(at('12:00', '05.000'));

    // Act
    await h.dispatch(id, 2);
    await h.dispatch(id, 3);

    // Assess
    expect(await h.status(id, 2)).toBe('planned');
    expect(await h.status(id, 3)).toBe('scheduled');
  });
});

describe('the release pass', () => {
  async function ownTable() {
    const tableName = `herald-release-${randomUUID()}`;
    await ensureTable(db.client, tableName);
    const store = new DynamoStore({ client: db.client, tableName });
    const h = setup(store);
    const deps: DispatchDeps = {
      store,
      queue: h.queue,
      config: testConfig(),
      clock: h.clock,
      logger: h.logger,
    };
    return { h, deps };
  }

  it('queues the dispatch of every scheduled version due, soonest first; not held or future ones', async () => {
    // Arrange
    const { h, deps } = await ownTable();
    const late = await h.create(draft({ publishAt: at('12:00') }));
    const due = await h.create(draft({ publishAt: at('11:00') }));
    await h.create(draft({ severity: 'Extreme', publishAt: at('11:30') }));
    await h.create(draft({ publishAt: at('12:00', '00.001') }));
    h.clock.set(at('12:00'));

    // Act
    const listed = await dueVersions(deps);
    const count = await releaseDueVersions(deps);

    // Assess
    expect(listed).toEqual([
      { alertId: due, version: 1, at: at('11:00') },
      { alertId: late, version: 1, at: at('12:00') },
    ]);
    expect(count).toBe(2);
    expect(h.queue.bodies('dispatch')).toEqual([
      { alertId: due, version: 1 },
      { alertId: late, version: 1 },
    ]);
  });

  it('reads every page of due versions, up to its limit', async () => {
    // Arrange
    const { h, deps } = await ownTable();
    for (let i = 0; i < 5; i++) await h.create(draft({ publishAt: at(`11:0${i}`) }));
    h.clock.set(at('12:00'));

    // Act
    const all = await dueVersions(deps);
    const three = await dueVersions(deps, 3);

    // Assess
    expect(all.map((d) => d.at)).toEqual([0, 1, 2, 3, 4].map((i) => at(`11:0${i}`)));
    expect(three).toEqual(all.slice(0, 3));
  });

  it('is the sweeper run first: a due version is queued and counted as released', async () => {
    // Arrange
    const { h, deps } = await ownTable();
    const id = await h.create(draft({ publishAt: at('11:00') }));
    h.clock.set(at('11:00', '30.000'));
    const handler = createSweeperHandler(deps);

    // Act
    const result = await handler({ source: 'aws.scheduler' }, lambdaContext('herald-sweeper'));

    // Assess
    expect(result).toMatchObject({ released: 1, swept: 0 });
    expect(h.queue.sent[0]?.queue).toBe('dispatch');
    expect(h.queue.bodies('dispatch')).toEqual([{ alertId: id, version: 1 }]);
  });
});
