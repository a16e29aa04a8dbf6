/**
 * The dispatcher and the sweeper against the real DynamoStore on dynalite, with a recording queue, and the
 * dispatcher's Lambda handler fed a real-shaped SQS event.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newAlert, updateAlert } from '../../functions/core/alerts';
import type { Audience, StoredVersion, Subscriber } from '../../functions/core/model';
import { createDispatchHandler } from '../../functions/dispatch/handler';
import { type DispatchDeps, dispatchVersion, sweep } from '../../functions/dispatch/plan';
import { maskPhone } from '../../functions/shared/mask';
import { createSweeperHandler } from '../../functions/sweeper/handler';
import { AlertDraft, type Channel, type Severity, UpdatePatch } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { lambdaContext, sqsEvent, sqsRecord } from '../helpers/events';
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
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

const T0 = '2030-09-01T10:00:00.000Z';

function harness(options: { store?: DynaliteStore; queue?: RecordingQueue; now?: string } = {}) {
  const queue = options.queue ?? new RecordingQueue();
  const clock = new ManualClock(options.now ?? T0);
  const logger = new RecordingLogger();
  const deps: DispatchDeps = {
    store: (options.store ?? db).store,
    queue,
    config: testConfig({ sweepAfterSeconds: 60 }),
    clock,
    logger,
  };
  return { deps, queue, clock, logger };
}

/** Stores a new alert's version 1 as the api handler would. */
async function storeAlert(
  options: { channels?: Channel[]; severity?: Severity; at?: string; store?: DynaliteStore } = {},
): Promise<StoredVersion> {
  const store = (options.store ?? db).store;
  const alertId = newUlid();
  const now = new Date(options.at ?? T0);
  const v1 = newAlert(
    AlertDraft.parse({
      ...structuredClone(draftFixture),
      channels: options.channels ?? ['x', 'facebook', 'instagram', 'sms'],
      severity: options.severity ?? 'Severe',
    }),
    {
      alertId,
      actor: { id: 'officer-1', roles: ['officer'] },
      now,
      sender: 'alerts@herald.example',
      approvalSeverities: new Set(['Extreme']),
    },
  );
  // Writing version 1 creates the alert, head included.
  expect(await store.putVersion(v1)).toBe('created');
  return v1;
}

async function storeUpdate(
  versions: StoredVersion[],
  patch: Record<string, unknown>,
  at: string,
  advance = true,
) {
  const next = updateAlert(versions, UpdatePatch.parse(patch), {
    alertId: versions[0]!.alertId,
    actor: { id: 'officer-2', roles: ['officer'] },
    now: new Date(at),
    sender: 'alerts@herald.example',
    approvalSeverities: new Set(['Extreme']),
  });
  expect(await db.store.putVersion(next)).toBe('created');
  if (advance) await db.store.advanceHead(next.alertId, next.version, at);
  return next;
}

async function markSent(alertId: string, version: number, channel: Channel, recipient: string, id: string) {
  const key = { alertId, version, channel, recipient };
  const claim = await db.store.claim(key, {
    leaseId: 'w1',
    leaseUntil: '2099-01-01T00:00:00.000Z',
    now: T0,
    actor: `channel:${channel}`,
  });
  if (claim.kind !== 'claimed') throw new Error(claim.kind);
  await db.store.record(key, 'w1', {
    status: 'sent',
    providerMessageId: id,
    at: T0,
    actor: `channel:${channel}`,
    attempt: 1,
  });
}

describe('dispatchVersion', () => {
  it('writes one queued receipt per social channel, queues one job per channel and marks the version planned', async () => {
    // Prepare
    const v1 = await storeAlert();
    const { deps, queue } = harness();

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

    // Assess
    const receipts = await db.store.listForAlert(v1.alertId);
    expect(receipts.map((r) => [r.channel, r.recipient, r.status, r.attempts]).sort()).toEqual([
      ['facebook', 'agency-page', 'queued', 0],
      ['instagram', 'agency', 'queued', 0],
      ['x', '@agency', 'queued', 0],
    ]);
    expect(queue.sent.map((s) => s.queue).sort()).toEqual([
      'channel-facebook',
      'channel-instagram',
      'channel-x',
    ]);
    expect(queue.bodies<ChannelJob>('channel-x')).toEqual([
      { alertId: v1.alertId, version: 1, channel: 'x', recipients: ['@agency'] },
    ]);
    expect(queue.sent.every((s) => s.messages.length === 1)).toBe(true);
    expect(await db.store.getVersion(v1.alertId, 1)).toMatchObject({
      dispatchStatus: 'planned',
      receiptsPlanned: 3,
      plannedAt: T0,
    });
  });

  it('does nothing the second time: no new receipt, no new job, a sent receipt stays sent', async () => {
    // Prepare
    const v1 = await storeAlert({ channels: ['x'] });
    const { deps, queue } = harness();
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });
    await markSent(v1.alertId, 1, 'x', '@agency', 'x-post-1');

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

    // Assess
    expect(queue.sent).toHaveLength(1);
    const receipts = await db.store.listForAlert(v1.alertId);
    expect(receipts).toHaveLength(1);
    expect(receipts[0]).toMatchObject({ status: 'sent', providerMessageId: 'x-post-1', attempts: 1 });
  });

  it('after a failure half-way, a retry finishes the plan without resetting a receipt that was sent meanwhile', async () => {
    // Prepare: the first try wrote the receipts, then the channel queue failed.
    const v1 = await storeAlert({ channels: ['x', 'facebook'] });
    const down = new UnreachableQueue();
    await expect(
      dispatchVersion(harness({ queue: down }).deps, { alertId: v1.alertId, version: 1 }),
    ).rejects.toThrow();
    expect((await db.store.getVersion(v1.alertId, 1))?.dispatchStatus).toBe('pending');
    await markSent(v1.alertId, 1, 'x', '@agency', 'x-post-2');
    const { deps, queue } = harness();

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

    // Assess
    const receipts = await db.store.listForAlert(v1.alertId);
    expect(receipts).toHaveLength(2);
    expect(receipts.find((r) => r.channel === 'x')).toMatchObject({
      status: 'sent',
      providerMessageId: 'x-post-2',
      attempts: 1,
    });
    expect(receipts.find((r) => r.channel === 'facebook')).toMatchObject({ status: 'queued' });
    expect(queue.sent.map((s) => s.queue).sort()).toEqual(['channel-facebook', 'channel-x']);
    expect((await db.store.getVersion(v1.alertId, 1))?.dispatchStatus).toBe('planned');
  });

  it('does not dispatch a version held for approval', async () => {
    // Prepare
    const v1 = await storeAlert({ severity: 'Extreme' });
    const { deps, queue } = harness();

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

    // Assess
    expect(queue.sent).toEqual([]);
    expect(await db.store.listForAlert(v1.alertId)).toEqual([]);
    expect((await db.store.getVersion(v1.alertId, 1))?.dispatchStatus).toBe('held');
  });

  it('does not dispatch a superseded version', async () => {
    // Prepare
    const v1 = await storeAlert({ severity: 'Extreme' });
    await db.store.supersedeVersion(v1.alertId, 1);
    const { deps, queue } = harness();

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

    // Assess
    expect(queue.sent).toEqual([]);
    expect(await db.store.listForAlert(v1.alertId)).toEqual([]);
    expect((await db.store.getVersion(v1.alertId, 1))?.dispatchStatus).toBe('superseded');
  });

  it('sends an update to the channels the alert went out on', async () => {
    // Prepare
    const v1 = await storeAlert({ channels: ['x', 'facebook'] });
    const { deps, queue } = harness();
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });
    const v2 = await storeUpdate(
      [{ ...v1, dispatchStatus: 'planned' }],
      { channels: ['x'] },
      '2030-09-01T10:05:00.000Z',
    );

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 2 });

    // Assess
    expect(v2.msgType).toBe('Update');
    expect(queue.bodies<ChannelJob>('channel-x').map((j) => j.version)).toEqual([1, 2]);
    expect(queue.bodies<ChannelJob>('channel-facebook').map((j) => j.version)).toEqual([1]);
  });

  it('plans a still-pending earlier version first, so the update is queued after what it replies to', async () => {
    // Prepare: both dispatch messages arrive together (a sweep, or a quick update); v2 is handled first.
    const v1 = await storeAlert({ channels: ['x'] });
    await storeUpdate([v1], { headline: 'Seen at the station' }, '2030-09-01T10:00:30.000Z');
    const { deps, queue } = harness();

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 2 });
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

    // Assess
    expect(queue.bodies<ChannelJob>('channel-x').map((j) => j.version)).toEqual([1, 2]);
    expect((await db.store.listForAlert(v1.alertId)).map((r) => [r.version, r.channel])).toEqual([
      [1, 'x'],
      [2, 'x'],
    ]);
    expect((await db.store.getVersion(v1.alertId, 1))?.dispatchStatus).toBe('planned');
    expect((await db.store.getVersion(v1.alertId, 2))?.dispatchStatus).toBe('planned');
  });

  it('sends an update that replaced a held alert on its own channels', async () => {
    // Prepare: an Extreme alert was held; the officer lowered the severity before anyone approved it.
    const v1 = await storeAlert({ channels: ['x', 'facebook'], severity: 'Extreme' });
    await storeUpdate([v1], { severity: 'Severe' }, '2030-09-01T10:02:00.000Z');
    await db.store.supersedeVersion(v1.alertId, 1);
    const { deps, queue } = harness();

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 2 });

    // Assess
    expect(queue.sent.map((s) => s.queue).sort()).toEqual(['channel-facebook', 'channel-x']);
    expect((await db.store.listForAlert(v1.alertId)).map((r) => r.version)).toEqual([2, 2]);
  });

  it('drops, with a warning, a dispatch naming a version that was never stored', async () => {
    // Prepare
    const { deps, queue, logger } = harness();
    const alertId = newUlid();

    // Act
    await dispatchVersion(deps, { alertId, version: 1 });

    // Assess: nothing queued, nothing written, and the drop is said
    expect(queue.sent).toEqual([]);
    expect(await db.store.getAlert(alertId)).toBeUndefined();
    expect(logger.lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringMatching(/never stored/) }),
    );
  });
});

describe('sweep', () => {
  let own: DynaliteStore;
  beforeAll(async () => {
    own = await startDynaliteStore();
  });
  afterAll(async () => {
    await own?.close();
  });

  it('re-queues versions released longer ago than sweepAfterSeconds and still unplanned, and no others', async () => {
    // Prepare
    const stale = await storeAlert({ store: own, at: '2030-09-01T09:58:00.000Z' });
    const fresh = await storeAlert({ store: own, at: '2030-09-01T09:59:30.000Z' });
    const done = await storeAlert({ store: own, at: '2030-09-01T09:50:00.000Z' });
    await own.store.markPlanned(done.alertId, 1, 0, '2030-09-01T09:50:01.000Z');
    const held = await storeAlert({ store: own, at: '2030-09-01T09:50:00.000Z', severity: 'Extreme' });
    const { deps, queue } = harness({ store: own, now: T0 });

    // Act
    const swept = await sweep(deps);

    // Assess
    expect(swept).toBe(1);
    expect(queue.bodies('dispatch')).toEqual([{ alertId: stale.alertId, version: 1 }]);
    const queuedIds = queue.bodies<{ alertId: string }>('dispatch').map((m) => m.alertId);
    expect(queuedIds).not.toContain(fresh.alertId);
    expect(queuedIds).not.toContain(done.alertId);
    expect(queuedIds).not.toContain(held.alertId);
  });

  it('picks up the fresh one once it is old enough, and sends nothing when nothing is stale', async () => {
    // Prepare
    const { deps, queue, clock } = harness({ store: own, now: '2030-09-01T10:01:00.000Z' });
    const first = await sweep(deps);
    clock.advance(60_000);
    const stillPending = (await own.store.findUnplanned(clock.now().toISOString(), 100)).length;
    const empty = new RecordingQueue();

    // Act
    const none = await sweep({ ...deps, queue: empty, clock: new ManualClock('2030-09-01T09:00:00.000Z') });

    // Assess
    expect(first).toBe(2);
    expect(queue.sent).toHaveLength(1);
    expect(stillPending).toBe(2);
    expect(none).toBe(0);
    expect(empty.sent).toEqual([]);
  });

  it('moves a head forward that a crashed request left behind its newest version', async () => {
    // Prepare: version 2 was stored, but the request died before advancing the head.
    const v1 = await storeAlert({ store: own, at: '2030-09-02T09:00:00.000Z' });
    await own.store.markPlanned(v1.alertId, 1, 0, '2030-09-02T09:00:01.000Z');
    const v2 = updateAlert([{ ...v1, dispatchStatus: 'planned' }], UpdatePatch.parse({ headline: 'x' }), {
      alertId: v1.alertId,
      actor: { id: 'officer-1', roles: ['officer'] },
      now: new Date('2030-09-02T09:01:00.000Z'),
      sender: 'alerts@herald.example',
      approvalSeverities: new Set(),
    });
    await own.store.putVersion(v2);
    const { deps, queue } = harness({ store: own, now: '2030-09-02T09:05:00.000Z' });

    // Act
    await sweep(deps);

    // Assess
    expect(queue.bodies('dispatch')).toContainEqual({ alertId: v1.alertId, version: 2 });
    expect((await own.store.getAlert(v1.alertId))?.head?.latestVersion).toBe(2);
  });

  it('runs as the scheduled Lambda and reports how many it re-queued', async () => {
    // Prepare
    await storeAlert({ store: own, at: '2030-09-03T09:00:00.000Z' });
    const { deps, queue } = harness({ store: own, now: '2030-09-03T10:00:00.000Z' });
    const handler = createSweeperHandler(deps);

    // Act
    const result = await handler({ source: 'aws.scheduler' }, lambdaContext('herald-sweeper'));

    // Assess
    expect(result.swept).toBeGreaterThanOrEqual(1);
    expect(queue.bodies('dispatch')).toHaveLength(result.swept);
  });
});

describe('createDispatchHandler', () => {
  it('plans the good records and reports each bad one as its own batch item failure', async () => {
    // Prepare
    const good = await storeAlert({ channels: ['x'] });
    const { deps, queue } = harness();
    const handler = createDispatchHandler(deps);
    const records = {
      good: sqsRecord({ alertId: good.alertId, version: 1 }, { queue: 'dispatch' }),
      notJson: sqsRecord('{"alertId": ', { queue: 'dispatch' }),
      badVersion: sqsRecord({ alertId: good.alertId, version: 0 }, { queue: 'dispatch' }),
      extraField: sqsRecord({ alertId: good.alertId, version: 1, priority: 'high' }, { queue: 'dispatch' }),
    };

    // Act
    const result = await handler(sqsEvent(...Object.values(records)), lambdaContext('herald-dispatch'));

    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [records.notJson, records.badVersion, records.extraField].map((r) => r.messageId).sort(),
    );
    expect(queue.bodies<ChannelJob>('channel-x')).toEqual([
      { alertId: good.alertId, version: 1, channel: 'x', recipients: ['@agency'] },
    ]);
    expect((await db.store.getVersion(good.alertId, 1))?.dispatchStatus).toBe('planned');
  });

  it('answers an empty list of failures when every record is fine', async () => {
    // Prepare
    const a = await storeAlert({ channels: ['facebook'] });
    const handler = createDispatchHandler(harness().deps);

    // Act
    const result = await handler(sqsEvent(sqsRecord({ alertId: a.alertId, version: 1 })), lambdaContext());

    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
  });
});

describe('dispatchVersion to subscribers', () => {
  let residents: Awaited<ReturnType<typeof residentsDeps>>;
  let zones = 0;
  let phones = 0;
  beforeAll(async () => {
    residents = await residentsDeps(db);
  });

  async function resident(zone: string, audience: Audience = 'public'): Promise<Subscriber> {
    const phone = `+3463${String(phones++).padStart(7, '0')}`;
    const subscriber: Subscriber = {
      id: newUlid(),
      channel: 'sms',
      addressHash: await residents.pii.hash(phone),
      addressCipher: await residents.pii.encrypt(phone),
      addressMasked: maskPhone(phone),
      zones: [zone],
      language: 'en',
      status: 'confirmed',
      audience,
      createdAt: T0,
      updatedAt: T0,
      confirmedAt: T0,
    };
    expect((await residents.subscribers.createSubscriber(subscriber)).kind).toBe('created');
    return subscriber;
  }

  async function smsAlert(zone: string, status: 'Actual' | 'Test' | 'Exercise' = 'Actual') {
    const v1 = newAlert(
      AlertDraft.parse({ ...structuredClone(draftFixture), status, areas: [{ zone }], channels: ['sms'] }),
      {
        alertId: newUlid(),
        actor: { id: 'officer-1', roles: ['officer'] },
        now: new Date(T0),
        sender: 'alerts@herald.example',
        approvalSeverities: new Set(['Extreme']),
      },
    );
    expect(await db.store.putVersion(v1)).toBe('created');
    return v1;
  }

  function subscriberHarness() {
    const h = harness();
    return { ...h, deps: { ...h.deps, subscribers: residents.subscribers } };
  }

  /** What a sender leaves when every recipient of every job was sent. */
  async function sendAll(alertId: string, version: number) {
    for (const job of await db.store.listJobs(alertId, version, 'sms')) {
      const claim = await db.store.claimJob(job, {
        leaseId: 'w',
        leaseUntil: '2099-01-01T00:00:00.000Z',
        now: T0,
      });
      expect(claim.kind).toBe('claimed');
      await db.store.finishJob(job, 'w', { status: 'done', at: T0, sent: job.recipients });
    }
  }

  it('writes no receipt per subscriber but one job item per 100, queues the jobs and plans every recipient', async () => {
    // Prepare
    const zone = `plan-zone-${zones++}`;
    const people = await Promise.all(Array.from({ length: 3 }, () => resident(zone)));
    const v1 = await smsAlert(zone);
    const { deps, queue } = subscriberHarness();

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

    // Assess
    expect(await db.store.listForAlert(v1.alertId)).toEqual([]);
    const jobs = queue.bodies<ChannelJob>('channel-sms');
    expect(jobs).toHaveLength(1);
    expect(new Set(jobs[0]!.recipients)).toEqual(new Set(people.map((p) => p.id)));
    expect(await db.store.listJobs(v1.alertId, 1, 'sms')).toMatchObject([{ status: 'queued', index: 0 }]);
    expect(await db.store.getVersion(v1.alertId, 1)).toMatchObject({
      dispatchStatus: 'planned',
      receiptsPlanned: 3,
    });
  });

  it.each(['Test', 'Exercise'] as const)(
    'sends a %s alert only to the test audience of its zone',
    async (status) => {
      // Prepare
      const zone = `plan-zone-${zones++}`;
      await resident(zone, 'public');
      const tester = await resident(zone, 'test');
      const v1 = await smsAlert(zone, status);
      const { deps, queue } = subscriberHarness();

      // Act
      await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

      // Assess
      expect(queue.bodies<ChannelJob>('channel-sms').flatMap((j) => j.recipients)).toEqual([tester.id]);
    },
  );

  it('sends an update only to those the original reached, not to a resident who joined in between', async () => {
    // Prepare
    const zone = `plan-zone-${zones++}`;
    const first = await Promise.all([resident(zone), resident(zone)]);
    const v1 = await smsAlert(zone);
    const { deps, queue } = subscriberHarness();
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });
    await sendAll(v1.alertId, 1);
    await resident(zone); // joins after the alert went out
    const v2 = await storeUpdate([{ ...v1, dispatchStatus: 'planned' }], { headline: 'Update' }, T0);

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: v2.version });

    // Assess
    const updateJobs = queue.bodies<ChannelJob>('channel-sms').filter((j) => j.version === 2);
    expect(new Set(updateJobs.flatMap((j) => j.recipients))).toEqual(new Set(first.map((p) => p.id)));
  });

  it("holds an update back while the original's jobs are still sending, and plans it once they are final", async () => {
    // Prepare
    const zone = `plan-zone-${zones++}`;
    await Promise.all([resident(zone), resident(zone)]);
    const v1 = await smsAlert(zone);
    const { deps, queue, clock } = subscriberHarness();
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });
    const v2 = await storeUpdate([{ ...v1, dispatchStatus: 'planned' }], { headline: 'Update' }, T0);

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 2 });
    const waiting = await db.store.getVersion(v1.alertId, 2);
    await dispatchVersion(deps, { alertId: v1.alertId, version: 2 }); // the sweeper's copy, while one waits
    await sendAll(v1.alertId, 1);
    clock.advance(5_000);
    await dispatchVersion(deps, { alertId: v1.alertId, version: 2 }); // the delayed message

    // Assess
    expect(waiting?.dispatchStatus).toBe('pending');
    const delayed = queue.sent.filter((s) => s.queue === 'dispatch').flatMap((s) => s.messages);
    expect(delayed).toHaveLength(1);
    expect(delayed[0]?.delaySeconds).toBeGreaterThanOrEqual(1);
    expect(queue.bodies<ChannelJob>('channel-sms').filter((j) => j.version === v2.version)).toHaveLength(1);
    expect((await db.store.getVersion(v1.alertId, 2))?.dispatchStatus).toBe('planned');
  });

  it('leaves a waiting update to its delayed message: the sweeper re-dispatches it only once the wait is over', async () => {
    // Prepare: an update waiting for its original; a sweeper that counts anything released before now as stale
    const zone = `plan-zone-${zones++}`;
    await resident(zone);
    const v1 = await smsAlert(zone);
    const { deps, queue, clock } = subscriberHarness();
    const sweeper = { ...deps, config: { ...deps.config, sweepAfterSeconds: 0 } };
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });
    await storeUpdate([{ ...v1, dispatchStatus: 'planned' }], { headline: 'Update' }, T0);
    await dispatchVersion(deps, { alertId: v1.alertId, version: 2 });
    const delay = queue.sent.filter((s) => s.queue === 'dispatch').flatMap((s) => s.messages)[0]!
      .delaySeconds!;
    const sweptForThisAlert = () =>
      queue.sent
        .filter((s) => s.queue === 'dispatch')
        .flatMap((s) => s.messages)
        .filter((m) => m.id.startsWith('sweep-') && m.body.includes(v1.alertId)).length;

    // Act
    clock.advance(100);
    await sweep(sweeper, 1000);
    const duringWait = sweptForThisAlert();
    clock.advance(delay * 1000);
    await sweep(sweeper, 1000);

    // Assess
    expect(duringWait).toBe(0);
    expect(sweptForThisAlert()).toBe(1);
  });

  it('queues the jobs again, without rewriting them, when the dispatch is repeated after they were written', async () => {
    // Prepare
    const zone = `plan-zone-${zones++}`;
    await resident(zone);
    const v1 = await smsAlert(zone);
    const failing = new UnreachableQueue();
    const { deps, queue } = subscriberHarness();
    await expect(
      dispatchVersion({ ...deps, queue: failing }, { alertId: v1.alertId, version: 1 }),
    ).rejects.toThrow();
    await resident(zone); // joins after the jobs were written

    // Act
    await dispatchVersion(deps, { alertId: v1.alertId, version: 1 });

    // Assess
    expect(queue.bodies<ChannelJob>('channel-sms').flatMap((j) => j.recipients)).toHaveLength(1);
    expect(await db.store.getVersion(v1.alertId, 1)).toMatchObject({
      dispatchStatus: 'planned',
      receiptsPlanned: 1,
    });
  });
});
