/**
 * Releasing residents who waited for the end of their quiet hours: the sweeper's pass (every minute on AWS, every
 * 15 s in the embedded mode) queues a channel job for each deferral whose time has come, and for each deferral of
 * an alert that a newer version has replaced (functions/channel/quiet.ts releaseEarlierDeferrals). The job is the
 * bulk sender on the deferral (functions/channel/bulk.ts): it sends to those still waiting, or supersedes them.
 *
 * Nothing here decides who gets what, so every step may repeat: a deferral queued twice (a crash between queueing
 * and marking it, or a message lost and re-queued after RECHECK_MS) meets a claimed or finished item. What the pass
 * does not reach this time (more than RELEASE_LIMIT due at once) it reaches on the next.
 */
import type { ChannelJob } from '../../schemas/messages';
import type { DeferralStore, QueuePort, SendJob } from '../ports';
import type { LoggerLike } from '../shared/logger';
import { queueChannelJobs } from '../shared/queue-messages';

export interface DeferralReleaseDeps {
  store: DeferralStore;
  queue: QueuePort;
  logger: LoggerLike;
}

/**
 * Deferrals and early releases read per pass: a 100,000-resident alert with 30% in quiet hours leaves about one
 * deferral per job of 100, 1,000 in all, queued in one pass.
 */
const RELEASE_LIMIT = 1_000;
/** Deferrals marked released at once. */
const MARK_CONCURRENCY = 8;
/**
 * When the sweeper looks again at a deferral whose release it queued and that is still not done: its message was
 * lost, or is still waiting behind a long fan-out on the same queue (then the second copy meets a finished item).
 */
export const RECHECK_MS = 30 * 60_000;

/** The deferral store behind a composition's store, when it has one (a test's may not). */
export const deferralStoreOf = (store: object): DeferralStore | undefined =>
  'findDueDeferrals' in store ? (store as DeferralStore) : undefined;

const keyOf = (d: SendJob) => `${d.alertId}#${d.version}#${d.channel}#${d.index}#${d.deferredUntil}`;

/** Queues the release of every deferral due at `now` (or replaced by a newer version); answers how many. */
export async function releaseDueDeferrals(deps: DeferralReleaseDeps, now: Date): Promise<number> {
  const at = now.toISOString();
  const { deferrals, earlier } = await deps.store.findDueDeferrals(at, RELEASE_LIMIT);
  const due = new Map<string, SendJob>();
  for (const d of deferrals) due.set(keyOf(d), d);
  for (const e of earlier)
    for (const d of await deps.store.pendingDeferrals(e.alertId, e.beforeVersion)) due.set(keyOf(d), d);
  const jobs: ChannelJob[] = [];
  for (const d of due.values())
    if (d.deferredUntil !== undefined && (d.recipients?.length ?? 0) > 0)
      jobs.push({
        alertId: d.alertId,
        version: d.version,
        channel: d.channel,
        recipients: d.recipients,
        job: d.index,
        deferredUntil: d.deferredUntil,
      });

  await queueChannelJobs(deps.queue, jobs, 'deferral');
  // Queued first, marked after: a crash in between queues them again next time, never loses one.
  const recheckAt = new Date(now.getTime() + RECHECK_MS).toISOString();
  let next = 0;
  const mark = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      await deps.store.markReleased(
        {
          alertId: job.alertId,
          version: job.version,
          channel: job.channel as SendJob['channel'],
          index: job.job!,
          deferredUntil: job.deferredUntil!,
        },
        recheckAt,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(MARK_CONCURRENCY, jobs.length) }, mark));
  for (const e of earlier) await deps.store.earlierReleased(e.alertId, e.beforeVersion, e.mark);
  if (jobs.length > 0 || earlier.length > 0)
    deps.logger.info('released residents whose quiet hours are over, or whose waiting message was replaced', {
      deferrals: jobs.length,
      recipients: jobs.reduce((n, j) => n + j.recipients.length, 0),
      replacedEarly: earlier.length,
    });
  return jobs.length;
}
