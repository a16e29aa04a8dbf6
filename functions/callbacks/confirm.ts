/**
 * What both delivery callbacks do with one provider event: find the receipt by the provider's message id and
 * record what the provider confirmed. Confirmations are conditional writes, so a repeated or late event changes
 * nothing; that is what lets a whole invocation be retried when one of its events could not be placed yet.
 */
import type { Channel } from '../../schemas/alert';
import type { Clock, ReceiptStore } from '../ports';
import type { LoggerLike } from '../shared/logger';

export interface CallbackDeps {
  store: ReceiptStore;
  clock: Clock;
  logger: LoggerLike;
  /**
   * How long after the provider's event a receipt that cannot be found is still worth waiting for. The provider
   * index is eventually consistent, so a fresh miss is retried; an old one belongs to a message Herald did not
   * send (another application on the account, a confirmation code) or never recorded, and is dropped with a
   * warning instead of failing every retry and landing in the dead-letter queue.
   */
  unknownGraceMs?: number | undefined;
}

export const DEFAULT_UNKNOWN_GRACE_MS = 15 * 60 * 1000;

export interface Confirmation {
  channel: Channel;
  providerMessageId: string;
  status: 'delivered' | 'failed';
  reason?: string | undefined;
  /** When the provider says it happened; falls back to now when it gave no usable time. */
  at?: Date | undefined;
  /** Masked; for log lines only. */
  recipient?: string | undefined;
}

export type ConfirmResult = 'confirmed' | 'unchanged' | 'dropped';

/** A confirmation whose receipt is not in the index yet: the invocation fails so the event comes again. */
export class ReceiptNotFoundYet extends Error {
  constructor(channel: Channel, providerMessageId: string) {
    super(`no ${channel} receipt has provider message id ${providerMessageId} (yet)`);
    this.name = 'ReceiptNotFoundYet';
  }
}

export async function confirmDelivery(deps: CallbackDeps, c: Confirmation): Promise<ConfirmResult> {
  const now = deps.clock.now();
  const at = c.at && !Number.isNaN(c.at.getTime()) ? c.at : now;
  const log = { channel: c.channel, providerMessageId: c.providerMessageId, recipient: c.recipient };
  const key = await deps.store.findByProviderMessageId(c.channel, c.providerMessageId);
  if (!key) {
    if (now.getTime() - at.getTime() > (deps.unknownGraceMs ?? DEFAULT_UNKNOWN_GRACE_MS)) {
      deps.logger.warn('delivery status for a message no receipt knows; dropped', log);
      return 'dropped';
    }
    throw new ReceiptNotFoundYet(c.channel, c.providerMessageId);
  }
  const changed = await deps.store.confirm(key, {
    status: c.status,
    at: at.toISOString(),
    actor: `callback:${c.channel}`,
    reason: c.reason,
  });
  const detail = { ...log, alertId: key.alertId, version: key.version, status: c.status, reason: c.reason };
  if (changed) deps.logger.info('delivery confirmed', detail);
  else deps.logger.debug('delivery status already recorded', detail);
  return changed ? 'confirmed' : 'unchanged';
}

/**
 * Runs every event of an invocation, then fails the invocation if any failed, so one missing receipt does not
 * keep the others from being confirmed now. The retry repeats the rest, which is harmless.
 */
export async function confirmAll<T>(
  items: readonly T[],
  handle: (item: T) => Promise<unknown>,
): Promise<void> {
  const failures: unknown[] = [];
  for (const item of items) {
    try {
      await handle(item);
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1)
    throw new AggregateError(failures, `${failures.length} of ${items.length} delivery events failed`);
}
