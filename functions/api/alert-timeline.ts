/**
 * The time side of the alert operations: starting a version on its way (queueing its fan-out, or arming its publish
 * timer), the list of what is scheduled, and withdrawing a waiting step. The rules are in functions/core/schedule.ts.
 */
import { toApiAlert } from '../core/alerts';
import { conflict, notFound } from '../core/errors';
import type { StoredVersion } from '../core/model';
import { settledVersions } from '../core/schedule';
import { dispatchMessage, queueDispatchAt } from '../shared/queue-messages';
import {
  alertResult,
  checkIfMatch,
  invalidCursor,
  latest,
  loadVersions,
  versionNumberOf,
} from './alert-versions';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, json } from './http';
/**
 * Starts the version on its way: a pending one's fan-out is queued; a scheduled one's wake-up is armed. If the queue
 * or the timer cannot be reached the version is still safe: it is stored as released-but-unplanned (or scheduled),
 * and the sweeper dispatches (or releases) it within a minute (invariant 1).
 */
export async function startVersion(deps: ApiDeps, version: StoredVersion): Promise<void> {
  if (version.dispatchStatus === 'scheduled' && version.publishAt) {
    await armTimer(deps, { alertId: version.alertId, version: version.version, at: version.publishAt });
    return;
  }
  if (version.dispatchStatus !== 'pending') return;
  try {
    await deps.queue.send('dispatch', [dispatchMessage(version, `${version.alertId}-${version.version}`)]);
  } catch (error) {
    deps.logger.warn('dispatch queue unavailable; the sweeper will dispatch this version', {
      alertId: version.alertId,
      version: version.version,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

async function armTimer(deps: ApiDeps, target: { alertId: string; version: number; at: string }) {
  let failure: unknown;
  try {
    await deps.publishTimer?.arm(target);
    return;
  } catch (error) {
    failure = error;
  }
  // Too soon for a one-time schedule (EventBridge Scheduler fires within its minute, so the adapter arms a minute
  // early and refuses what is due sooner): the dispatch message itself waits on the queue until the time, and the
  // dispatcher puts back anything that arrives early (functions/dispatch/plan.ts releaseIfDue).
  if (failure instanceof Error && failure.name === 'PublishTimeTooSoon') {
    try {
      if (await queueDispatchAt(deps.queue, target, deps.clock.now())) return;
    } catch (error) {
      failure = error;
    }
  }
  deps.logger.warn('publish timer not armed; the sweeper will release this version at its time', {
    ...target,
    error: failure instanceof Error ? failure.message : String(failure),
  });
}

/** A replaced or withdrawn version's wake-up is not needed: if it fires anyway it finds nothing to release. */
export async function disarmTimers(deps: ApiDeps, alertId: string, versions: readonly number[]) {
  for (const version of versions)
    await deps.publishTimer?.disarm({ alertId, version }).catch((error: unknown) =>
      deps.logger.warn('publish timer not disarmed; it will find nothing to release', {
        alertId,
        version,
        error: error instanceof Error ? error.message : String(error),
      }),
    );
}

/**
 * GET /v1/alerts?state=scheduled: the alerts with versions still to go out, soonest first, each with its waiting
 * steps (`scheduled`). An alert is listed once, on the page where its soonest step falls.
 */
export async function listScheduled(
  deps: ApiDeps,
  query: { limit: number; cursor?: string | undefined },
  now: Date,
): Promise<ApiResult> {
  const items: Record<string, unknown>[] = [];
  let cursor = query.cursor;
  const seen = new Set<string>();
  do {
    // Each step lists at most one alert: reading no more steps than items still wanted means a page is never left
    // half-read, so the store's cursor (after the page's last step) skips nothing.
    const page = await deps.store
      .findScheduled({ limit: query.limit - items.length, cursor })
      .catch(invalidCursor);
    for (const step of page.items) {
      if (seen.has(step.alertId)) continue;
      seen.add(step.alertId);
      const versions = settledVersions((await deps.store.getAlert(step.alertId))?.versions ?? []);
      const waiting = versions.filter(
        (v) => (v.dispatchStatus === 'scheduled' || v.dispatchStatus === 'held') && v.publishAt !== undefined,
      );
      // Listed with its soonest step only: a later step of an alert already listed on an earlier page is skipped.
      if (waiting[0] === undefined || !waiting.some((v) => v.version === step.version)) continue;
      const soonest = waiting.reduce((a, b) => (Date.parse(b.publishAt!) < Date.parse(a.publishAt!) ? b : a));
      if (soonest.version !== step.version) continue;
      const { versions: _omitted, ...summary } = toApiAlert(versions, now);
      items.push({
        ...summary,
        scheduled: waiting
          .sort((a, b) => Date.parse(a.publishAt!) - Date.parse(b.publishAt!))
          .map((v) => ({
            version: v.version,
            msgType: v.msgType,
            publishAt: v.publishAt!,
            headline: v.content.headline,
            author: v.author,
            state: v.dispatchStatus === 'held' ? 'pending-approval' : 'scheduled',
          })),
      });
      if (items.length >= query.limit) break;
    }
    cursor = page.cursor;
    if (items.length >= query.limit) break;
  } while (cursor);
  // The cursor resumes after the last step read; a step read but not listed (a later step of a listed alert) is
  // one that must not be listed again anyway.
  return json(200, { items, ...(cursor && items.length >= query.limit ? { cursor } : {}) });
}

/**
 * DELETE /v1/alerts/{id}/versions/{n}: takes a waiting step off the timeline. The version stays on record (who
 * withdrew it, when); it never goes out. A version already out → 409: send an update or a cancel instead.
 */
export async function withdrawVersionOp(
  deps: ApiDeps,
  { event, actor, params }: OperationInput,
): Promise<ApiResult> {
  const n = versionNumberOf(params.n);
  const versions = settledVersions(await loadVersions(deps, params.id));
  const target = versions.find((v) => v.version === n);
  if (!target) throw notFound(`Alert ${params.id} has no version ${n}.`);
  checkIfMatch(event, latest(versions), false);
  if (target.dispatchStatus !== 'held' && target.dispatchStatus !== 'scheduled')
    throw conflict(
      `Version ${target.version} is not waiting (it is ${target.dispatchStatus === 'withdrawn' ? 'withdrawn already' : target.dispatchStatus === 'superseded' ? 'replaced' : 'out'}); only a scheduled or held version can be withdrawn.`,
    );
  const now = deps.clock.now();
  const withdrawn = { by: actor.id, at: now.toISOString() };
  if ((await deps.store.withdrawVersion(target.alertId, target.version, withdrawn)) === 'not-waiting')
    throw conflict(`Version ${target.version} went out or was replaced a moment ago.`);
  await disarmTimers(deps, target.alertId, [target.version]);
  deps.logger.info('scheduled version withdrawn', { alertId: target.alertId, version: target.version });
  return alertResult(
    200,
    versions.map((v) => (v === target ? { ...v, dispatchStatus: 'withdrawn' as const, withdrawn } : v)),
    now,
  );
}
