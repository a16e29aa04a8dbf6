/**
 * Dispatching one version: plan its fan-out, write a `queued` receipt per social recipient and a job item per
 * subscriber job, queue the channel jobs, then mark it planned. Each step is safe to repeat, so a redelivered or
 * re-swept dispatch message never posts twice: receipts are only created when absent, the subscriber jobs are
 * written once under a plan record (functions/ports.ts FanoutPlanRecord), and duplicate jobs meet a claimed job
 * or receipt.
 */
import type { ChannelJob, DispatchMessage } from '../../schemas/messages';
import {
  audienceKindOf,
  channelsFor,
  isSubscriberChannel,
  originalOf,
  planFanout,
  rosterZonesOf,
} from '../core/fanout';
import type { StoredVersion, SubscriberChannel } from '../core/model';
import { settledVersions } from '../core/schedule';
import type {
  AlertStore,
  BulkStore,
  Clock,
  QueuePort,
  ReceiptStore,
  SendJob,
  SubscriberStore,
} from '../ports';
import type { HeraldConfig } from '../shared/config';
import type { LoggerLike } from '../shared/logger';
import { dispatchMessage, queueChannelJobs, queueDispatchAt } from '../shared/queue-messages';

export interface DispatchDeps {
  store: AlertStore & ReceiptStore & BulkStore;
  /** The zone rosters; without it subscriber channels have nobody to send to. */
  subscribers?: SubscriberStore | undefined;
  queue: QueuePort;
  config: HeraldConfig;
  clock: Clock;
  logger: LoggerLike;
}

/** The dispatch message must come back later: its handler sets the message's visibility to `seconds`. */
export class DispatchLater extends Error {
  constructor(
    readonly seconds: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'DispatchLater';
  }
}

/**
 * How long one dispatcher may take to write a version's jobs before another may take over (a crash mid-way):
 * 100,000 recipients take a few seconds; the sweeper only re-dispatches after a minute anyway.
 */
const PLAN_LEASE_MS = 120_000;
/** Rosters read at once: an alert may name up to 50 zones. */
const ROSTER_CONCURRENCY = 8;
/** An update waiting for its original re-checks at least this often, and at most this rarely (SQS allows 900 s). */
const WAIT_MIN_SECONDS = 1;
const WAIT_MAX_SECONDS = 60;

const FINAL_JOB = new Set(['done', 'failed']);

async function rosterUnion(
  subscribers: SubscriberStore,
  version: StoredVersion,
  channel: SubscriberChannel,
): Promise<Set<string>> {
  const zones = rosterZonesOf(version);
  const kind = audienceKindOf(version);
  const members = new Set<string>();
  let next = 0;
  const worker = async () => {
    while (next < zones.length) {
      const ids = await subscribers.rosterMembers(zones[next++]!, channel, kind);
      for (const id of ids) members.add(id);
    }
  };
  await Promise.all(Array.from({ length: Math.min(ROSTER_CONCURRENCY, zones.length) }, worker));
  return members;
}

/**
 * Who gets a version on each subscriber channel. An Alert (or the first version to go out) reads the rosters of its
 * zones; an update or cancel goes to whom the original's jobs sent (invariant 3): nobody who joined since, and
 * nobody the original did not reach. Undefined when the original's fan-out is still running: the caller waits.
 */
async function subscriberAudiences(
  deps: DispatchDeps,
  target: StoredVersion,
  earlier: readonly StoredVersion[],
  channels: readonly SubscriberChannel[],
): Promise<{ ready: Map<SubscriberChannel, Set<string>> } | { waitSeconds: number }> {
  const ready = new Map<SubscriberChannel, Set<string>>();
  let unfinished = 0;
  for (const channel of channels) {
    const original = originalOf(target, earlier, channel);
    if (!original) {
      ready.set(channel, deps.subscribers ? await rosterUnion(deps.subscribers, target, channel) : new Set());
      continue;
    }
    const jobs = await deps.store.listJobs(original.alertId, original.version, channel);
    const open = jobs.filter((j) => !FINAL_JOB.has(j.status));
    if (open.length > 0) {
      unfinished += open.reduce((n, j) => n + j.recipients.length, 0);
      continue;
    }
    const audience = new Set<string>();
    // Those the original deferred to the end of their quiet hours are its audience too: the update reaches them (or
    // replaces what waits for them), the cancel decides per resident (functions/channel/quiet.ts).
    for (const job of jobs) for (const id of [...(job.sent ?? []), ...(job.deferred ?? [])]) audience.add(id);
    ready.set(channel, audience);
  }
  if (unfinished === 0) return { ready };
  // Roughly when the original will be done (SMS is the slow one); re-checked then, within bounds.
  const estimate = Math.ceil(unfinished / Math.max(1, deps.config.smsMessagesPerSecond));
  return { waitSeconds: Math.min(WAIT_MAX_SECONDS, Math.max(WAIT_MIN_SECONDS, estimate)) };
}

/**
 * A scheduled version whose time has come becomes pending (the store's conditional release: a cancel, replacement or
 * withdrawal that got there first wins, and of two releasers one does it). Undefined when it is not to go out now.
 *
 * A wake-up that came early (EventBridge Scheduler fires within its minute, so its schedules are set a minute early)
 * is put back on the queue as a new message delayed until the version's second: a new message, not a longer
 * visibility, so waiting does not count as a failed receive towards the dead-letter queue. One further off than a
 * queue can delay is dropped: the version's own timer, or the sweeper, releases it at its time.
 */
async function releaseIfDue(deps: DispatchDeps, v: StoredVersion): Promise<StoredVersion | undefined> {
  const now = deps.clock.now();
  const wait = v.publishAt === undefined ? 0 : Date.parse(v.publishAt) - now.getTime();
  if (wait > 0 && v.publishAt) {
    const queued = await queueDispatchAt(
      deps.queue,
      { alertId: v.alertId, version: v.version, at: v.publishAt },
      now,
    );
    deps.logger.info('scheduled version woken early', {
      alertId: v.alertId,
      version: v.version,
      publishAt: v.publishAt,
      comesBack: queued ? `in ${Math.ceil(wait / 1000)} s` : 'with its timer or the sweeper',
    });
    return undefined;
  }
  const at = now.toISOString();
  if ((await deps.store.releaseScheduled(v.alertId, v.version, at)) === 'released') {
    // A replacement written between this dispatcher's read and its release names this version in `replaces` but
    // could not mark it (it was no longer scheduled): read again, and take the release back before anything is planned.
    const after = (await deps.store.getAlert(v.alertId))?.versions ?? [];
    if (after.some((x) => x.replaces?.includes(v.version))) {
      const revoked = await deps.store.revokeRelease(v.alertId, v.version);
      deps.logger.info('scheduled version replaced as it was released', {
        alertId: v.alertId,
        version: v.version,
        revoked,
      });
      if (revoked) return undefined;
    }
    deps.logger.info('scheduled version released', {
      alertId: v.alertId,
      version: v.version,
      publishAt: v.publishAt,
      lateMs: -wait,
    });
    return { ...v, dispatchStatus: 'pending', releasedAt: at };
  }
  // Released by someone else a moment ago (then dispatching it again is harmless), or no longer to go out.
  const current = await deps.store.getVersion(v.alertId, v.version);
  return current?.dispatchStatus === 'pending' ? current : undefined;
}

export async function dispatchVersion(deps: DispatchDeps, message: DispatchMessage): Promise<void> {
  const { alertId, version } = message;
  const found = await deps.store.getAlert(alertId);
  // A version named in a later one's `replaces` reads as superseded here even if it was never marked so.
  const versions = found ? settledVersions(found.versions) : [];
  let target = versions.find((v) => v.version === version);
  if (target?.dispatchStatus === 'scheduled') {
    // Steps due at the same moment (a restart after their time) go out in their order: by time, then by number. A
    // step written later for an earlier time (v3 at 12:00 after v2 at 14:00) comes first too; the order is strict, so
    // two steps never wait for each other.
    const at = target.publishAt ?? '';
    for (const v of versions)
      if (
        v.dispatchStatus === 'scheduled' &&
        v.publishAt &&
        (v.publishAt < at || (v.publishAt === at && v.version < version))
      )
        await dispatchVersion(deps, { alertId, version: v.version });
    target = await releaseIfDue(deps, target);
    if (!target) return;
  }
  if (!found || !target) {
    // Versions are stored (consistently) before any dispatch message names them, so this message names one that
    // was never stored: in the embedded mode, a sweeper index entry left by a process killed mid-write (dynalite
    // writes index entries before the item). Retrying cannot make it appear; say so once and drop it.
    deps.logger.warn('dispatch names a version that was never stored; dropped', { alertId, version });
    return;
  }
  if (target.dispatchStatus !== 'pending') {
    // held: waits for approval (approval dispatches it); superseded or withdrawn: never goes out; planned: done.
    deps.logger.debug('nothing to dispatch', { alertId, version, dispatchStatus: target.dispatchStatus });
    return;
  }
  const earlier = versions.filter((v) => v.version < version);
  // Planned in order, so an update's jobs find the receipts of what it replies to (invariant 3): an earlier version
  // whose message is still in flight (or lost) is planned first. Planning is idempotent, so its own message is harmless.
  for (const v of earlier)
    if (v.dispatchStatus === 'pending') await dispatchVersion(deps, { alertId, version: v.version });

  const nowDate = deps.clock.now();
  const now = nowDate.toISOString();
  const subscriberChannels = channelsFor(target, earlier).filter(isSubscriberChannel);
  const socialOnly = planFanout(target, earlier, { socialAccounts: deps.config.socialAccounts });
  let plan = socialOnly;
  let subscriberRecipients = 0;

  if (subscriberChannels.length > 0) {
    const audiences = await subscriberAudiences(deps, target, earlier, subscriberChannels);
    if ('waitSeconds' in audiences) {
      // One waiter at a time: the plan record says who waits until when, so the sweeper's re-dispatches of this
      // pending version are dropped while a delayed message is on its way, and take over if it was lost.
      const until = new Date(nowDate.getTime() + audiences.waitSeconds * 1000 - 500).toISOString();
      const wait = await deps.store.acquirePlan(alertId, version, 'waiting', { now, until });
      if (wait.kind === 'acquired')
        await deps.queue.send('dispatch', [
          dispatchMessage({ alertId, version }, `${alertId}-${version}-wait`, audiences.waitSeconds),
        ]);
      deps.logger.info("update waits for the original's fan-out to finish", {
        alertId,
        version,
        waitSeconds: audiences.waitSeconds,
        waiting: wait.kind === 'acquired' ? 'this dispatch' : 'another dispatch',
      });
      return;
    }
    const acquired = await deps.store.acquirePlan(alertId, version, 'writing', {
      now,
      until: new Date(nowDate.getTime() + PLAN_LEASE_MS).toISOString(),
    });
    if (acquired.kind === 'held') {
      if (acquired.record.state === 'waiting') return; // another dispatch's delayed message will come
      const seconds = Math.max(
        1,
        Math.ceil((Date.parse(acquired.record.until ?? now) - nowDate.getTime()) / 1000),
      );
      throw new DispatchLater(seconds, "another dispatcher is writing this version's jobs");
    }
    if (acquired.kind === 'written') {
      // An earlier dispatch wrote every job and may have queued some: queue again those not final (a duplicate
      // meets a claimed job). The plan is not recomputed: the rosters may have changed since.
      const open: ChannelJob[] = [];
      for (const channel of subscriberChannels)
        for (const job of await deps.store.listJobs(alertId, version, channel))
          if (!FINAL_JOB.has(job.status))
            open.push({ alertId, version, channel, recipients: job.recipients, job: job.index });
      plan = { ...socialOnly, jobs: [...socialOnly.jobs, ...open] };
      subscriberRecipients = Object.values(acquired.record.recipients ?? {}).reduce((a, b) => a + b, 0);
    } else {
      // A dispatcher that died mid-way may have left some job items (never queued: queueing starts once the plan is
      // written); they are replaced, since the rosters may have changed.
      await deps.store.deleteJobs(alertId, version);
      plan = planFanout(
        target,
        earlier,
        {
          socialAccounts: deps.config.socialAccounts,
          subscribers: (channel) => audiences.ready.get(channel) ?? [],
        },
        { recipientsPerJob: deps.config.recipientsPerJob },
      );
      const sendJobs: SendJob[] = [];
      const jobCounts: Partial<Record<SubscriberChannel, number>> = {};
      for (const job of plan.jobs)
        if (isSubscriberChannel(job.channel) && job.job !== undefined) {
          jobCounts[job.channel] = (jobCounts[job.channel] ?? 0) + 1;
          sendJobs.push({
            alertId,
            version,
            channel: job.channel,
            index: job.job,
            recipients: job.recipients,
            status: 'queued',
            attempts: 0,
            createdAt: now,
            updatedAt: now,
          });
        }
      await deps.store.putJobs(sendJobs);
      await deps.store.finishPlan({
        alertId,
        version,
        state: 'written',
        recipients: plan.recipients,
        jobs: jobCounts,
      });
      subscriberRecipients = Object.values(plan.recipients).reduce((a, b) => a + b, 0);
    }
  }

  await deps.store.createReceipts(plan.receipts, now);
  await queueChannelJobs(deps.queue, plan.jobs, `${alertId}-${version}`);
  await deps.store.markPlanned(alertId, version, plan.receipts.length + subscriberRecipients, now);
  deps.logger.info('fan-out planned', {
    alertId,
    version,
    receipts: plan.receipts.length,
    subscriberRecipients,
    jobs: plan.jobs.length,
  });
}

/**
 * The sweeper's pass: any version released for fan-out more than `sweepAfterSeconds` ago and still not planned
 * lost its dispatch message (a crash between storing and queueing, or a queue outage). Queue it again.
 */
export async function sweep(deps: DispatchDeps, limit = 100): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - deps.config.sweepAfterSeconds * 1000).toISOString();
  const unplanned = await deps.store.findUnplanned(before, limit);
  // An update waiting for its original's fan-out to finish is unplanned on purpose, and its delayed dispatch message
  // will come: only a wait whose time is over (its message lost) makes it stale.
  const now = deps.clock.now().toISOString();
  const stale: typeof unplanned = [];
  for (const candidate of unplanned) {
    const plan = (await deps.store.listPlans(candidate.alertId)).find((p) => p.version === candidate.version);
    if (plan?.state === 'waiting' && plan.until !== undefined && plan.until > now) continue;
    stale.push(candidate);
  }
  if (stale.length === 0) return 0;
  for (const { alertId, version } of stale)
    await deps.store.advanceHead(alertId, version, deps.clock.now().toISOString());
  await deps.queue.send(
    'dispatch',
    stale.map((target, i) => dispatchMessage(target, `sweep-${i}`)),
  );
  deps.logger.warn('re-dispatched versions that were never planned', { count: stale.length });
  return stale.length;
}
