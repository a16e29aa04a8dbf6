/**
 * Releasing scheduled versions at their time. The publish timer (an EventBridge Scheduler one-time schedule on AWS,
 * the embedded runtime's timer) puts a version's dispatch message on the queue at its publishAt; this pass, run by the
 * sweeper every minute, does the same for every due version a timer missed (never armed, a wake-up lost, a process
 * down at that moment). The dispatcher does the release itself (functions/dispatch/plan.ts), conditionally, so two
 * messages for one version release it once.
 */
import type { AlertStore, Clock, PublishTarget } from '../ports';
import { dispatchMessage } from '../shared/queue-messages';
import type { DispatchDeps } from './plan';

/** Due versions queued per pass at most; the rest wait for the next pass (a minute on AWS). */
const RELEASE_LIMIT = 1_000;
const PAGE = 100;

/** Versions whose publishAt has passed and that are still scheduled, soonest first. */
export async function dueVersions(
  deps: { store: Pick<AlertStore, 'findScheduled'>; clock: Clock },
  limit = RELEASE_LIMIT,
) {
  const dueBy = deps.clock.now().toISOString();
  const due: PublishTarget[] = [];
  let cursor: string | undefined;
  do {
    const page = await deps.store.findScheduled({ dueBy, limit: PAGE, cursor });
    // Held versions past their time stay listed until a supervisor approves (then they go out at once) or they are
    // replaced: they are not due for release.
    for (const item of page.items)
      if (item.dispatchStatus === 'scheduled')
        due.push({ alertId: item.alertId, version: item.version, at: item.at });
    cursor = page.cursor;
  } while (cursor && due.length < limit);
  return due.slice(0, limit);
}

/** Queues the dispatch of every due version; answers how many. */
export async function releaseDueVersions(deps: DispatchDeps): Promise<number> {
  const due = await dueVersions(deps);
  if (due.length === 0) return 0;
  await queueDispatches(deps, due, 'release');
  deps.logger.info('released scheduled versions at their time', { count: due.length });
  return due.length;
}

/** The dispatch messages of versions whose time has come, in batches the queue port takes. */
export async function queueDispatches(
  deps: Pick<DispatchDeps, 'queue'>,
  targets: readonly Omit<PublishTarget, 'at'>[],
  tag: string,
): Promise<void> {
  await deps.queue.send(
    'dispatch',
    targets.map((target, i) => dispatchMessage(target, `${tag}-${i}`)),
  );
}
