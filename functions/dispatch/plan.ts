/**
 * Dispatching one version: plan its fan-out, write a `queued` receipt per recipient, queue the channel jobs,
 * then mark it planned. Each step is safe to repeat, so a redelivered or re-swept dispatch message never
 * posts twice: receipts are only created when absent, and duplicate jobs meet a claimed receipt.
 */
import type { DispatchMessage } from '../../schemas/messages';
import { planFanout } from '../core/fanout';
import type { AlertStore, Clock, QueuePort, ReceiptStore } from '../ports';
import { channelQueue } from '../ports';
import type { HeraldConfig } from '../shared/config';
import type { LoggerLike } from '../shared/logger';

export interface DispatchDeps {
  store: AlertStore & ReceiptStore;
  queue: QueuePort;
  config: HeraldConfig;
  clock: Clock;
  logger: LoggerLike;
}

export async function dispatchVersion(deps: DispatchDeps, message: DispatchMessage): Promise<void> {
  const { alertId, version } = message;
  const found = await deps.store.getAlert(alertId);
  const target = found?.versions.find((v) => v.version === version);
  if (!found || !target) {
    // Versions are stored (consistently) before any dispatch message names them, so this message names one that
    // was never stored: in the embedded mode, a sweeper index entry left by a process killed mid-write (dynalite
    // writes index entries before the item). Retrying cannot make it appear; say so once and drop it.
    deps.logger.warn('dispatch names a version that was never stored; dropped', { alertId, version });
    return;
  }
  if (target.dispatchStatus !== 'pending') {
    // held: waits for approval (approval dispatches it); superseded: never goes out; planned: done already.
    deps.logger.debug('nothing to dispatch', { alertId, version, dispatchStatus: target.dispatchStatus });
    return;
  }
  const earlier = found.versions.filter((v) => v.version < version);
  // Planned in order, so an update's jobs find the receipts of what it replies to (invariant 3): an earlier version
  // whose message is still in flight (or lost) is planned first. Planning is idempotent, so its own message is harmless.
  for (const v of earlier)
    if (v.dispatchStatus === 'pending') await dispatchVersion(deps, { alertId, version: v.version });
  const plan = planFanout(target, earlier, { socialAccounts: deps.config.socialAccounts });
  const now = deps.clock.now().toISOString();
  await deps.store.createReceipts(plan.receipts, now);
  const byChannel = new Map<string, typeof plan.jobs>();
  for (const job of plan.jobs) byChannel.set(job.channel, [...(byChannel.get(job.channel) ?? []), job]);
  for (const [channel, jobs] of byChannel)
    await deps.queue.send(
      channelQueue(channel as (typeof jobs)[number]['channel']),
      jobs.map((job, i) => ({ id: `${alertId}-${version}-${channel}-${i}`, body: JSON.stringify(job) })),
    );
  await deps.store.markPlanned(alertId, version, plan.receipts.length, now);
  deps.logger.info('fan-out planned', {
    alertId,
    version,
    receipts: plan.receipts.length,
    jobs: plan.jobs.length,
  });
}

/**
 * The sweeper's pass: any version released for fan-out more than `sweepAfterSeconds` ago and still not planned
 * lost its dispatch message (a crash between storing and queueing, or a queue outage). Queue it again.
 */
export async function sweep(deps: DispatchDeps, limit = 100): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - deps.config.sweepAfterSeconds * 1000).toISOString();
  const stale = await deps.store.findUnplanned(before, limit);
  if (stale.length === 0) return 0;
  for (const { alertId, version } of stale)
    await deps.store.advanceHead(alertId, version, deps.clock.now().toISOString());
  await deps.queue.send(
    'dispatch',
    stale.map(({ alertId, version }, i) => ({
      id: `sweep-${i}`,
      body: JSON.stringify({ alertId, version }),
    })),
  );
  deps.logger.warn('re-dispatched versions that were never planned', { count: stale.length });
  return stale.length;
}
