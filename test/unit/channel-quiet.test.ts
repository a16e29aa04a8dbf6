/**
 * Residents' quiet hours in the subscriber-channel sender, with the real DynamoStore and subscriber store on dynalite,
 * jobs planned by the real dispatcher and deferrals released by the sweeper's pass: what waits, what wakes, what an
 * update or a cancel does to what waits, and that a crash at any step neither loses a resident nor sends twice.
 *
 * The agency is in Madrid. T0 is 09:00 UTC, 10:00 on the agency's clock; the quiet residents' window is 09:00–12:00,
 * so their quiet hours end at 11:00 UTC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverBulkJob } from '../../functions/channel/bulk';
import { releaseDueDeferrals } from '../../functions/channel/deferrals';
import { RetryLater } from '../../functions/channel/deliver';
import type { Pacer } from '../../functions/channel/rate';
import { cancelAlert, newAlert, updateAlert } from '../../functions/core/alerts';
import type { StoredVersion, Subscriber } from '../../functions/core/model';
import { dispatchVersion } from '../../functions/dispatch/plan';
import type { DeferralStore } from '../../functions/ports';
import { createSweeperHandler } from '../../functions/sweeper/handler';
import { AlertDraft, type UpdatePatch } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import draftFixture from '../fixtures/alert-draft.json';
import { BulkRig, newZone, T0 } from '../helpers/bulk';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { lambdaContext, sqsRecord } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

const MADRID = 'Europe/Madrid';
const QUIET = { from: '09:00', to: '12:00' };
const END = '2030-11-02T11:00:00.000Z';
const MINOR = { urgency: 'Expected', severity: 'Minor' } as const;
const URGENT = { urgency: 'Immediate', severity: 'Extreme' } as const;
const config = { timeZone: MADRID, sendWindow: 5 };

let db: DynaliteStore;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
let rig: BulkRig;
beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
  rig = new BulkRig(db, residents);
});
afterAll(async () => {
  await db?.close();
});

const actor = { id: 'officer-1', roles: ['officer'] as const };
const versionContext = (alertId: string, now: string) => ({
  alertId,
  actor: { ...actor, roles: [...actor.roles] },
  now: new Date(now),
  sender: 'alerts@herald.example',
  // Extreme alerts go out without a second person here: what is tested is the sender.
  approvalSeverities: new Set<string>(),
});

/** Stores a version and dispatches it as the dispatcher would at `now`: its SMS jobs, as queued. */
async function dispatched(version: StoredVersion, now: string): Promise<ChannelJob[]> {
  expect(await db.store.putVersion(version)).toBe('created');
  await db.store.advanceHead(version.alertId, version.version, now);
  const queue = new RecordingQueue();
  await dispatchVersion(
    {
      store: db.store,
      subscribers: residents.subscribers,
      queue,
      config: testConfig(config),
      clock: new ManualClock(now),
      logger: new RecordingLogger(),
    },
    { alertId: version.alertId, version: version.version },
  );
  return queue.bodies<ChannelJob>('channel-sms');
}

async function alertTo(zone: string, fields: Partial<AlertDraft> = {}) {
  const v1 = newAlert(
    AlertDraft.parse({
      ...structuredClone(draftFixture),
      translations: [],
      areas: [{ zone, areaDesc: zone }],
      channels: ['sms'],
      ...fields,
    }),
    versionContext(newUlid(), T0),
  );
  return { v1, jobs: await dispatched(v1, T0) };
}

async function versionsOf(alertId: string) {
  return (await db.store.getAlert(alertId))!.versions;
}

async function updated(alertId: string, patch: UpdatePatch, now: string) {
  const v = updateAlert(await versionsOf(alertId), patch, versionContext(alertId, now));
  return { version: v, jobs: await dispatched(v, now) };
}

async function cancelled(alertId: string, now: string) {
  const v = cancelAlert(await versionsOf(alertId), { reason: 'resolved' }, versionContext(alertId, now));
  return { version: v, jobs: await dispatched(v, now) };
}

/**
 * One sender at `now`; a job that must come back (RetryLater) is answered, not thrown. Its SMS provider, like SNS,
 * cannot say whether a message went out (no lookup).
 */
function sender(now: string, overrides: { pacer?: Pacer; store?: typeof db.store } = {}) {
  const h = rig.harness(config);
  h.provider.lookup = undefined as never;
  h.clock.set(now);
  const deps = {
    ...h.deps,
    ...(overrides.pacer ? { pacer: () => overrides.pacer! } : {}),
    ...(overrides.store ? { store: overrides.store } : {}),
  };
  const deliver = async (job: ChannelJob, receiveCount = 1) => {
    try {
      await deliverBulkJob(deps, job, sqsRecord(job, { receiveCount }));
      return 'done';
    } catch (error) {
      if (error instanceof RetryLater) return 'retry-later';
      throw error;
    }
  };
  return { ...h, deliver };
}

/** The sweeper's pass at `now`: the release jobs it queued. */
async function releasedAt(now: string): Promise<ChannelJob[]> {
  const queue = new RecordingQueue();
  await releaseDueDeferrals({ store: db.store, queue, logger: new RecordingLogger() }, new Date(now));
  return queue.bodies<ChannelJob>('channel-sms');
}

async function receipts(alertId: string, version: number) {
  return new Map(
    (await db.store.listForAlert(alertId)).filter((r) => r.version === version).map((r) => [r.recipient, r]),
  );
}

const addressesOf = (people: Subscriber[]) =>
  Promise.all(people.map((p) => residents.pii.decrypt(p.addressCipher)));

describe('quiet hours: what waits and what wakes', () => {
  it('holds a Minor alert for residents in quiet hours, deferred until 11:00 UTC (12:00 in Madrid), and sends the rest at once', async () => {
    // Prepare
    const zone = newZone();
    const quiet = await rig.residentsOf(zone, 2, 'en', QUIET);
    const awake = await rig.residentsOf(zone, 1);
    const { v1, jobs } = await alertTo(zone, MINOR);
    const s = sender(T0);

    // Act
    await s.deliver(jobs[0]!);

    // Assess: only the one awake got it
    expect(s.provider.sent.map((m) => m.recipient)).toEqual(await addressesOf(awake));
    const byId = await receipts(v1.alertId, 1);
    for (const person of quiet)
      expect(byId.get(person.id)).toMatchObject({
        status: 'deferred',
        nextAttemptAt: END,
        reason: "waits for the end of the resident's quiet hours (12:00, Europe/Madrid)",
        attempts: 0,
      });
    expect(byId.get(awake[0]!.id)?.status).toBe('sent');
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job?.status).toBe('done');
    expect(new Set(job?.deferred)).toEqual(new Set(quiet.map((p) => p.id)));
    const deferral = await db.store.getDeferral({ ...jobKey(v1), deferredUntil: END });
    expect(new Set(deferral?.recipients)).toEqual(new Set(quiet.map((p) => p.id)));
    // Deferred is not settled: the version reads as dispatching until they are released.
    expect((await db.store.getVersion(v1.alertId, 1))?.receiptsSettled).toBe(1);
  });

  it('releases them when their quiet hours end, once, and not before', async () => {
    // Prepare
    const zone = newZone();
    const quiet = await rig.residentsOf(zone, 3, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await sender(T0).deliver(jobs[0]!);

    // Act
    const early = await releasedAt('2030-11-02T10:59:59.999Z');
    const due = (await releasedAt(END)).filter((j) => j.alertId === v1.alertId);
    const s = sender(END);
    await s.deliver(due[0]!);
    await s.deliver(due[0]!); // a duplicate of the release message
    const after = (await releasedAt('2030-11-02T12:00:00.000Z')).filter((j) => j.alertId === v1.alertId);

    // Assess
    expect(early.filter((j) => j.alertId === v1.alertId)).toEqual([]);
    expect(due).toEqual([
      expect.objectContaining({
        alertId: v1.alertId,
        version: 1,
        channel: 'sms',
        job: 0,
        deferredUntil: END,
      }),
    ]);
    expect(s.provider.sent.map((m) => m.recipient).sort()).toEqual((await addressesOf(quiet)).sort());
    const byId = await receipts(v1.alertId, 1);
    for (const person of quiet) {
      const r = byId.get(person.id)!;
      expect(r).toMatchObject({ status: 'sent', attempts: 1 });
      expect(r.possibleDuplicate).toBeUndefined();
      expect(r.history.map((e) => e.status)).toEqual(['deferred', 'sent']);
    }
    expect(after).toEqual([]);
    expect((await db.store.getVersion(v1.alertId, 1))?.receiptsSettled).toBe(3);
  });

  it('sends an Extreme Immediate alert at once, quiet hours or not', async () => {
    // Prepare
    const zone = newZone();
    const quiet = await rig.residentsOf(zone, 2, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, URGENT);
    const s = sender(T0);

    // Act
    await s.deliver(jobs[0]!);

    // Assess
    expect(s.provider.sent.map((m) => m.recipient).sort()).toEqual((await addressesOf(quiet)).sort());
    expect([...(await receipts(v1.alertId, 1)).values()].map((r) => r.status)).toEqual(['sent', 'sent']);
    expect(await releasedAt('2030-11-03T00:00:00.000Z')).not.toContainEqual(
      expect.objectContaining({ alertId: v1.alertId }),
    );
  });

  it('holds Test alerts for test subscribers in quiet hours just the same', async () => {
    // Prepare: the one test subscriber of the zone is in quiet hours
    const zone = newZone();
    const [tester] = await rig.residentsOf(zone, 1, 'en', QUIET);
    await residents.subscribers.saveSubscriber(
      { ...tester!, audience: 'test', updatedAt: `${T0.slice(0, -5)}001Z` },
      tester!.updatedAt,
    );
    const { v1, jobs } = await alertTo(zone, { ...MINOR, status: 'Test' });
    const s = sender(T0);

    // Act
    await s.deliver(jobs[0]!);

    // Assess
    expect((await receipts(v1.alertId, 1)).get(tester!.id)?.status).toBe('deferred');
    expect(s.provider.sent).toEqual([]);
  });
});

const jobKey = (v: StoredVersion, index = 0) => ({
  alertId: v.alertId,
  version: v.version,
  channel: 'sms' as const,
  index,
});

describe('quiet hours: updates and cancels of what waits', () => {
  it('an update before the end: the resident gets only the newest version, the first one superseded', async () => {
    // Prepare: v1 waits; a Minor update at 10:30 UTC waits too
    const zone = newZone();
    const [resident] = await rig.residentsOf(zone, 1, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await sender(T0).deliver(jobs[0]!);
    const update = await updated(
      v1.alertId,
      { headline: 'Main Street closed until 16:00' },
      '2030-11-02T10:30:00.000Z',
    );
    const s = sender('2030-11-02T10:30:00.000Z');

    // Act: the update's job, then the sweeper (which releases v1's deferral at once), then the end of quiet hours
    await s.deliver(update.jobs[0]!);
    const early = (await releasedAt('2030-11-02T10:30:01.000Z')).filter((j) => j.alertId === v1.alertId);
    for (const job of early) await s.deliver(job);
    const atEnd = (await releasedAt(END)).filter((j) => j.alertId === v1.alertId);
    const later = sender(END);
    for (const job of atEnd) await later.deliver(job);

    // Assess
    expect(update.jobs[0]?.recipients).toEqual([resident!.id]);
    expect(early).toEqual([expect.objectContaining({ version: 1, deferredUntil: END })]);
    expect((await receipts(v1.alertId, 1)).get(resident!.id)).toMatchObject({
      status: 'superseded',
      reason: "not sent: version 2 replaced it before the end of the resident's quiet hours",
    });
    expect(atEnd).toEqual([expect.objectContaining({ version: 2, deferredUntil: END })]);
    expect(s.provider.sent).toEqual([]);
    expect(later.provider.sent).toHaveLength(1);
    expect(later.provider.sent[0]).toMatchObject({ version: 2 });
    expect(later.provider.sent[0]!.text).toMatch(/Main Street closed until 16:00/);
    expect((await receipts(v1.alertId, 2)).get(resident!.id)?.status).toBe('sent');
    expect((await db.store.getVersion(v1.alertId, 1))?.receiptsSettled).toBe(1);
  });

  it('an urgent update reaching a deferred resident goes out at once and supersedes what waited', async () => {
    // Prepare
    const zone = newZone();
    const [resident] = await rig.residentsOf(zone, 1, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await sender(T0).deliver(jobs[0]!);
    const update = await updated(
      v1.alertId,
      { ...URGENT, headline: 'Gas leak: stay indoors' },
      '2030-11-02T10:00:00.000Z',
    );
    const s = sender('2030-11-02T10:00:00.000Z');

    // Act
    await s.deliver(update.jobs[0]!);
    for (const job of await releasedAt('2030-11-02T10:00:01.000Z')) await s.deliver(job);

    // Assess
    expect(s.provider.sent.map((m) => m.version)).toEqual([2]);
    expect((await receipts(v1.alertId, 2)).get(resident!.id)?.status).toBe('sent');
    expect((await receipts(v1.alertId, 1)).get(resident!.id)?.status).toBe('superseded');
    expect((await releasedAt('2030-11-03T00:00:00.000Z')).filter((j) => j.alertId === v1.alertId)).toEqual(
      [],
    );
  });

  it('a cancel before the end: a resident who got nothing gets nothing, one who got the alert gets the cancel', async () => {
    // Prepare: one resident in quiet hours (waits), one awake (gets v1)
    const zone = newZone();
    const [quiet] = await rig.residentsOf(zone, 1, 'en', QUIET);
    const [awake] = await rig.residentsOf(zone, 1);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await sender(T0).deliver(jobs[0]!);
    const cancel = await cancelled(v1.alertId, '2030-11-02T10:00:00.000Z');
    const s = sender('2030-11-02T10:00:00.000Z');

    // Act
    await s.deliver(cancel.jobs[0]!);
    for (const job of await releasedAt('2030-11-02T10:00:01.000Z')) await s.deliver(job);
    const atEnd = sender(END);
    for (const job of await releasedAt(END)) await atEnd.deliver(job);

    // Assess
    expect(new Set(cancel.jobs.flatMap((j) => j.recipients))).toEqual(new Set([quiet!.id, awake!.id]));
    const cancels = await receipts(v1.alertId, 2);
    expect(cancels.get(quiet!.id)).toMatchObject({
      status: 'superseded',
      reason:
        'not sent: nothing of this alert reached the resident before it was cancelled (it waited for their quiet hours)',
    });
    expect(cancels.get(awake!.id)?.status).toBe('sent');
    expect((await receipts(v1.alertId, 1)).get(quiet!.id)).toMatchObject({
      status: 'superseded',
      reason: "not sent: the alert was cancelled (version 2) before the end of the resident's quiet hours",
    });
    const quietAddress = await residents.pii.decrypt(quiet!.addressCipher);
    expect([...s.provider.sent, ...atEnd.provider.sent].filter((m) => m.recipient === quietAddress)).toEqual(
      [],
    );
    expect(s.provider.sent.map((m) => m.version)).toEqual([2]);
    // Every receipt is final: the cancel and the alert both read as settled.
    expect((await db.store.getVersion(v1.alertId, 1))?.receiptsSettled).toBe(2);
    expect((await db.store.getVersion(v1.alertId, 2))?.receiptsSettled).toBe(2);
  });

  it('a cancel whose earlier version may be going out this very moment waits to see, then follows what happened', async () => {
    // Prepare: at 10:59:30 UTC the resident's v1 is due within the minute
    const zone = newZone();
    const [resident] = await rig.residentsOf(zone, 1, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await sender(T0).deliver(jobs[0]!);
    const cancel = await cancelled(v1.alertId, '2030-11-02T10:59:30.000Z');

    // Act: the cancel's job first waits; v1's release (claimed before the cancel went out) sends it; the cancel again
    const first = await sender('2030-11-02T10:59:30.000Z').deliver(cancel.jobs[0]!);
    const waiting = (await receipts(v1.alertId, 2)).get(resident!.id);
    const release = (await releasedAt(END)).filter((j) => j.alertId === v1.alertId && j.version === 1);
    await db.store.claimJob(
      { ...jobKey(v1), deferredUntil: END },
      { leaseId: 'racing-release', leaseUntil: '2030-11-02T10:59:31.000Z', now: '2030-11-02T10:59:30.500Z' },
    );
    await db.store.putReceipts([
      {
        ...(await receipts(v1.alertId, 1)).get(resident!.id)!,
        status: 'sent',
        providerMessageId: 'sns-race',
      },
    ]);
    const again = sender(END);
    const second = await again.deliver(cancel.jobs[0]!, 2);

    // Assess
    expect(first).toBe('retry-later');
    expect(waiting).toMatchObject({ status: 'retrying' });
    expect(release).toHaveLength(1);
    expect(second).toBe('done');
    expect(again.provider.sent.map((m) => m.version)).toEqual([2]);
    expect((await receipts(v1.alertId, 2)).get(resident!.id)?.status).toBe('sent');
  });
});

describe('quiet hours: a crash at any step neither loses a resident nor sends twice', () => {
  /** The store with addDeferred failing (a crash right after the `deferred` receipts were stored). */
  function crashingBeforeListing(): typeof db.store {
    const store = Object.create(db.store) as typeof db.store;
    store.addDeferred = async () => {
      throw new Error('the sender died here');
    };
    return store;
  }
  const AFTER_LEASE = '2030-11-02T09:30:00.000Z';

  it('after the receipts and before the deferral: the next claim lists them, sends them nothing, and the release sends once', async () => {
    // Prepare
    const zone = newZone();
    const quiet = await rig.residentsOf(zone, 2, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await expect(sender(T0, { store: crashingBeforeListing() }).deliver(jobs[0]!)).rejects.toThrow(/died/);

    // Act: the message comes back after the lease; then the end of quiet hours
    const s = sender(AFTER_LEASE);
    await s.deliver(jobs[0]!, 2);
    const atEnd = sender(END);
    for (const job of (await releasedAt(END)).filter((j) => j.alertId === v1.alertId))
      await atEnd.deliver(job);

    // Assess
    expect(s.provider.sent).toEqual([]);
    expect(atEnd.provider.sent.map((m) => m.recipient).sort()).toEqual((await addressesOf(quiet)).sort());
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(new Set(job?.deferred)).toEqual(new Set(quiet.map((p) => p.id)));
    for (const r of (await receipts(v1.alertId, 1)).values())
      expect(r).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('after the deferral and before the job ends: the next claim sends the others, never those who wait', async () => {
    // Prepare: the sender dies while sending to the one awake (its pacer never lets it through)
    const zone = newZone();
    const quiet = await rig.residentsOf(zone, 2, 'en', QUIET);
    const awake = await rig.residentsOf(zone, 1);
    const { v1, jobs } = await alertTo(zone, MINOR);
    const stuck = sender(T0, { pacer: { take: () => new Promise<void>(() => undefined) } });
    void stuck.deliver(jobs[0]!);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Act
    const s = sender(AFTER_LEASE);
    await s.deliver(jobs[0]!, 2);
    const atEnd = sender(END);
    for (const job of (await releasedAt(END)).filter((j) => j.alertId === v1.alertId))
      await atEnd.deliver(job);

    // Assess: the one awake was in the dead window (sent again, flagged); the quiet ones once, at the end
    expect(stuck.provider.sent).toEqual([]);
    expect(s.provider.sent.map((m) => m.recipient)).toEqual(await addressesOf(awake));
    expect(atEnd.provider.sent.map((m) => m.recipient).sort()).toEqual((await addressesOf(quiet)).sort());
    const byId = await receipts(v1.alertId, 1);
    expect(byId.get(awake[0]!.id)).toMatchObject({ status: 'sent', possibleDuplicate: true });
    for (const person of quiet) expect(byId.get(person.id)?.possibleDuplicate).toBeUndefined();
  });

  it('in the middle of a release: only its last window is sent again, flagged; the rest once', async () => {
    // Prepare: 7 wait; the release dies after 6 sends (windows of 5: the second window's outcome is lost)
    const zone = newZone();
    const quiet = await rig.residentsOf(zone, 7, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await sender(T0).deliver(jobs[0]!);
    const [release] = (await releasedAt(END)).filter((j) => j.alertId === v1.alertId);
    let allowed = 6;
    const dying = sender(END, {
      pacer: { take: () => (allowed-- > 0 ? Promise.resolve() : new Promise<void>(() => undefined)) },
    });
    void dying.deliver(release!);
    await new Promise((resolve) => setTimeout(resolve, 300));

    // Act: its message comes back after the lease
    const s = sender('2030-11-02T11:30:00.000Z');
    await s.deliver(release!, 2);

    // Assess
    expect(dying.provider.sent).toHaveLength(6);
    const resent = s.provider.sent.map((m) => m.recipient);
    expect(resent).toHaveLength(2);
    const byId = await receipts(v1.alertId, 1);
    // The dead window's two: one had it already, one had not; neither can be told apart, so both say so.
    const flagged = quiet.filter((p) => byId.get(p.id)?.possibleDuplicate);
    expect(new Set(await addressesOf(flagged))).toEqual(new Set(resent));
    expect(quiet.every((p) => byId.get(p.id)?.status === 'sent')).toBe(true);
    expect(new Set([...dying.provider.sent.map((m) => m.recipient), ...resent]).size).toBe(7);
  });

  it('a cancel that dies after superseding one resident leaves that receipt as it is on the next claim', async () => {
    // Prepare: the quiet one waited for v1; the awake one got it; the cancel's sender dies sending to the awake one
    const zone = newZone();
    const [quiet] = await rig.residentsOf(zone, 1, 'en', QUIET);
    const [awake] = await rig.residentsOf(zone, 1);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await sender(T0).deliver(jobs[0]!);
    const cancel = await cancelled(v1.alertId, '2030-11-02T10:00:00.000Z');
    const stuck = sender('2030-11-02T10:00:00.000Z', {
      pacer: { take: () => new Promise<void>(() => undefined) },
    });
    void stuck.deliver(cancel.jobs[0]!);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = (await receipts(v1.alertId, 2)).get(quiet!.id);

    // Act
    const s = sender('2030-11-02T10:30:00.000Z');
    await s.deliver(cancel.jobs[0]!, 2);

    // Assess
    expect(before?.status).toBe('superseded');
    expect((await receipts(v1.alertId, 2)).get(quiet!.id)).toEqual(before);
    expect(s.provider.sent.map((m) => m.recipient)).toEqual(await addressesOf([awake!]));
  });

  it('when the release began before the deferral listed someone, the job sends to them itself', async () => {
    // Prepare: the first attempt stored the deferred receipt and died; the deferral was claimed meanwhile without them
    const zone = newZone();
    const [resident] = await rig.residentsOf(zone, 1, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await expect(sender(T0, { store: crashingBeforeListing() }).deliver(jobs[0]!)).rejects.toThrow(/died/);
    const key = { ...jobKey(v1), deferredUntil: END };
    const store: DeferralStore = db.store;
    await store.addDeferred(key, ['somebody-else'], END);
    await db.store.claimJob(key, { leaseId: 'release', leaseUntil: '2030-11-02T11:05:00.000Z', now: END });

    // Act
    const s = sender('2030-11-02T11:01:00.000Z');
    await s.deliver(jobs[0]!, 2);

    // Assess
    expect(s.provider.sent.map((m) => m.recipient)).toEqual(await addressesOf([resident!]));
    expect((await receipts(v1.alertId, 1)).get(resident!.id)?.status).toBe('sent');
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job?.sent).toEqual([resident!.id]);
    expect(job?.deferred ?? []).toEqual([]);
  });
});

describe('the sweeper releases deferrals as a step of its own', () => {
  const sweeperDeps = (now: string, store: typeof db.store = db.store) => {
    const queue = new RecordingQueue();
    const logger = new RecordingLogger();
    return {
      queue,
      logger,
      deps: {
        store,
        subscribers: residents.subscribers,
        queue,
        config: testConfig(config),
        clock: new ManualClock(now),
        logger,
      },
    };
  };

  it('queues the release of what is due on the SMS queue, with the rest of its pass', async () => {
    // Prepare
    const zone = newZone();
    await rig.residentsOf(zone, 1, 'en', QUIET);
    const { v1, jobs } = await alertTo(zone, MINOR);
    await sender(T0).deliver(jobs[0]!);
    const { deps, queue } = sweeperDeps(END);

    // Act
    const result = await createSweeperHandler(deps)(
      { source: 'aws.scheduler' },
      lambdaContext('herald-sweeper'),
    );

    // Assess
    expect(result.deferralsReleased).toBeGreaterThanOrEqual(1);
    expect(queue.bodies<ChannelJob>('channel-sms')).toContainEqual(
      expect.objectContaining({ alertId: v1.alertId, version: 1, deferredUntil: END }),
    );
  });

  it('logs a failure to read the deferrals and goes on with the rest of its pass', async () => {
    // Prepare
    const broken = Object.create(db.store) as typeof db.store;
    broken.findDueDeferrals = async () => {
      throw new Error('table unreachable');
    };
    const { deps, logger } = sweeperDeps(END, broken);

    // Act
    const result = await createSweeperHandler(deps)(
      { source: 'aws.scheduler' },
      lambdaContext('herald-sweeper'),
    );

    // Assess
    expect(result.deferralsReleased).toBe(0);
    expect(logger.at('error').map((l) => l.message)).toContain('deferrals not released this run');
  });
});
