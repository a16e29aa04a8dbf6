/**
 * The subscriber-channel sender (SMS, email, webhooks): one job carries many subscribers, and costs a handful of
 * requests besides the messages themselves —
 *   claim the job item (a conditional write with a lease: one worker sends a job at a time, as with receipts),
 *     writing down the first send window in the same request
 *   → read the subscribers, strongly consistent, right before sending (a STOP stored before this read wins)
 *   → send window by window: the recipients of a window are written on the job item before the first of them is
 *     sent, and every receipt of a window is stored before the next window is written
 *   → count the settled receipts once → end the job, adding the recipients it reached to the job's `sent` set
 *     (the audience updates go to) and removing the window.
 * So after a crash at any instant, the only recipients whose outcome is lost are those of the window left on the
 * job item: at most HERALD_SEND_WINDOW per sender. A re-claim finds them there, sends to them again (the provider
 * cannot say whether the first went out) and says so on their receipts: the outcome of the lost attempt is
 * unknown and they may have received it twice. Every other recipient without a receipt was never sent to, and is
 * sent to once, with nothing flagged.
 */
import type { SQSRecord } from 'aws-lambda';
import type { ChannelJob } from '../../schemas/messages';
import { retryDelayMs, UNKNOWN_OUTCOME_POLICY } from '../core/delivery';
import { audienceKindOf, rosterZonesOf } from '../core/fanout';
import {
  ALL_ZONES,
  type Receipt,
  type ReceiptEvent,
  type Subscriber,
  type SubscriberChannel,
} from '../core/model';
import { subscriberReaches } from '../core/roster';
import type { SendJobKey, SendWindow } from '../ports';
import { channelQueue, leaseOwnerOf } from '../ports';
import { attemptSend, type BulkDeps, defaultPacer, type Outcome, type Try } from './bulk-send';
import { loadVersion, RetryLater } from './deliver';

export { type BulkDeps, defaultPacer, subscriberSigningSecret } from './bulk-send';

/** Messages in flight at once within one window: hides provider latency; the pacer still sets the rate. */
const SEND_CONCURRENCY = 16;

const FINAL_RECEIPT = (r: Receipt | undefined) =>
  r !== undefined &&
  (r.status === 'sent' ||
    r.status === 'delivered' ||
    r.status === 'unknown' ||
    (r.status === 'failed' && r.retryable !== true));
const REACHED = (r: Receipt | undefined) => r?.status === 'sent' || r?.status === 'delivered';

/**
 * The recipients whose outcome an attempt that died has lost: those of the window it left, unless a receipt
 * written since that window began says how it ended.
 */
export function lostInWindow(window: SendWindow | undefined, existing: Map<string, Receipt>): Set<string> {
  if (!window) return new Set();
  return new Set(
    window.recipients.filter((r) => {
      const receipt = existing.get(r);
      return receipt === undefined || (!FINAL_RECEIPT(receipt) && receipt.updatedAt < window.at);
    }),
  );
}

const RECEIPT_BATCH = 25;

export async function deliverBulkJob(deps: BulkDeps, job: ChannelJob, record: SQSRecord): Promise<void> {
  const channel = job.channel as SubscriberChannel;
  if (job.job === undefined) throw new Error(`a ${channel} job of ${job.alertId} without its job index`);
  const key: SendJobKey = { alertId: job.alertId, version: job.version, channel, index: job.job };
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  const actor = `channel:${channel}`;
  const log = { alertId: key.alertId, version: key.version, channel, job: key.index };
  const startedAt = deps.clock.now();
  const version = await loadVersion(deps, key.alertId, key.version);
  const recipients = [...new Set(job.recipients)];
  const windowSize = deps.config.sendWindow;

  // The lease covers the job's sending at this sender's share of the rate, twice over, plus a provider timeout: as
  // the stack sizes the SMS sender's timeout (lib/herald-stack.ts), so a live sender never loses its lease.
  const rate = channel === 'sms' ? deps.config.smsMessagesPerSecond / deps.config.smsSenderConcurrency : 50;
  const leaseMs = Math.ceil((2 * recipients.length * 1000) / rate) + 2 * deps.config.providerTimeoutMs;
  const leaseId = deps.newId();
  const claim = await deps.store.claimJob(
    key,
    {
      leaseId,
      leaseUntil: new Date(startedAt.getTime() + leaseMs).toISOString(),
      now: startedAt.toISOString(),
      ...leaseOwnerOf(deps.config),
    },
    // A first attempt has no receipts: it sends to the job's recipients in order, starting with these.
    { recipients: recipients.slice(0, windowSize), at: startedAt.toISOString() },
  );
  if (claim.kind === 'missing')
    throw new Error(`no job item for ${channel} job ${key.index} of ${key.alertId}`);
  if (claim.kind === 'done') return;
  if (claim.kind === 'busy') {
    const until = claim.job.nextAttemptAt ?? claim.job.leaseUntil;
    const seconds = until ? Math.max(1, Math.ceil((Date.parse(until) - startedAt.getTime()) / 1000)) : 5;
    throw new RetryLater(seconds, 'job busy or not yet due');
  }

  const receiptKey = (recipient: string) => ({
    alertId: key.alertId,
    version: key.version,
    channel,
    recipient,
  });
  // A first claim finds no receipts (none are written before the sender's): reading them would be 4 wasted requests
  // per 100 recipients. A re-claim reads them, to send only to recipients without a final one.
  const reclaim = claim.previous.attempts > 0;
  const existing = reclaim
    ? await deps.store.getReceipts(recipients.map(receiptKey))
    : new Map<string, Receipt>();
  const deadWindow = claim.previous.window;
  const lost = lostInWindow(deadWindow, existing);
  const reached = recipients.filter((r) => REACHED(existing.get(r)));
  // Those whose outcome was lost go first, so they share the first window and are settled soonest.
  const todo = [
    ...recipients.filter((r) => lost.has(r)),
    ...recipients.filter((r) => !lost.has(r) && !FINAL_RECEIPT(existing.get(r))),
  ];

  const subscribers =
    todo.length > 0 ? await deps.subscribers.getSubscribers(todo) : new Map<string, Subscriber>();
  const test = version.content.status !== 'Actual';
  const provider = test ? deps.sandbox : deps.provider;
  const wantedAudience = audienceKindOf(version);
  const alertZones =
    version.msgType === 'Alert' ? rosterZonesOf(version).filter((z) => z !== ALL_ZONES) : undefined;
  const pacer = (deps.pacer ?? ((c) => defaultPacer(deps, c)))(channel);
  const lastReceive = receiveCount >= deps.config.maxReceives;

  // ---- receipts, written in batches as outcomes arrive (a delivery callback may come within seconds of a send)
  let buffer: Receipt[] = [];
  let flushing: Promise<void> = Promise.resolve();
  const flush = () => {
    const batch = buffer;
    buffer = [];
    if (batch.length > 0) flushing = flushing.then(() => deps.store.putReceipts(batch));
    return flushing;
  };
  let settled = 0;
  const sentIds: string[] = [...reached];
  let leftForLater = 0;
  let retryInMs = Number.POSITIVE_INFINITY;
  let sentAgain = 0;

  const receiptOf = (
    subscriber: Subscriber | undefined,
    recipient: string,
    status: Receipt['status'],
    tries: readonly Try[],
    fields: Partial<Receipt>,
    masked = subscriber?.addressMasked,
  ): Receipt => {
    const previous = existing.get(recipient);
    const at = deps.clock.now().toISOString();
    let attempt = previous?.attempts ?? 0;
    const events: ReceiptEvent[] = [];
    if (lost.has(recipient) && deadWindow) {
      // The dead attempt may have sent it: counted as made, its outcome unknown, at the time its window began.
      attempt++;
      events.push({
        at: deadWindow.at,
        actor,
        status: 'unknown',
        attempt,
        reason: 'the sender stopped (a crash or a timeout) before it recorded the outcome of this attempt',
      });
    }
    tries.forEach((t, i) => {
      attempt++;
      const last = i === tries.length - 1;
      events.push({
        at: t.at,
        actor,
        status: last ? status : 'retrying',
        attempt,
        ...((last ? fields.reason : t.reason) ? { reason: last ? fields.reason : t.reason } : {}),
        ...(last && fields.providerMessageId ? { providerMessageId: fields.providerMessageId } : {}),
      });
    });
    if (tries.length === 0)
      events.push({ at, actor, status, attempt, ...(fields.reason ? { reason: fields.reason } : {}) });
    const name = subscriber?.name ?? previous?.recipientName;
    return {
      ...receiptKey(recipient),
      status,
      ...((masked ?? previous?.recipientMasked)
        ? { recipientMasked: masked ?? previous?.recipientMasked }
        : {}),
      ...(name ? { recipientName: name } : {}),
      attempts: attempt,
      ...(provider.mode === 'sandbox' ? { sandbox: true } : {}),
      ...fields,
      // A provider id outlives the attempt that got it: a later failure must not forget what was posted.
      ...((fields.providerMessageId ?? previous?.providerMessageId)
        ? { providerMessageId: fields.providerMessageId ?? previous?.providerMessageId }
        : {}),
      ...((fields.possibleDuplicate ?? previous?.possibleDuplicate) ? { possibleDuplicate: true } : {}),
      createdAt: previous?.createdAt ?? at,
      updatedAt: at,
      history: [...(previous?.history ?? []), ...events],
    };
  };
  const finish = (recipient: string, receipt: Receipt) => {
    if (receipt.status !== 'retrying' && !FINAL_RECEIPT(existing.get(recipient))) settled++;
    buffer.push(receipt);
    if (buffer.length >= RECEIPT_BATCH) void flush().catch(() => undefined);
  };

  /** A recipient who cannot be sent to any more, for a reason found before any call to the provider. */
  const refusal = (subscriber: Subscriber | undefined): string | undefined => {
    // Deleted since planning: no address is left to send to, and none is shown.
    if (!subscriber) return 'unsubscribed';
    // A STOP (or anything else that unconfirmed them) stored before this read wins over the planned send.
    if (subscriber.status !== 'confirmed') return 'opted-out';
    // Invariant 4: a Test or Exercise alert reaches test subscribers only (and an Actual one not them).
    if (subscriber.audience !== wantedAudience) return `not in the ${wantedAudience} audience`;
    // Planned from a roster that still held them after they left the alert's zones (a crash between the store's
    // writes); updates are not checked: they follow whoever got the original.
    if (alertZones && !subscriberReaches(subscriber, { audience: wantedAudience, zones: alertZones }))
      return "no longer subscribed to the alert's zones";
    return undefined;
  };

  const sendOne = async (recipient: string): Promise<void> => {
    const subscriber = subscribers.get(recipient);
    const refused = refusal(subscriber);
    if (refused || !subscriber) {
      const masked = subscriber ? subscriber.addressMasked : 'deleted subscriber';
      finish(recipient, receiptOf(subscriber, recipient, 'failed', [], { reason: refused }, masked));
      return;
    }
    const idempotencyKey = `${key.alertId}:${key.version}:${channel}:${recipient}`;
    const outcomeLost = lost.has(recipient) || existing.get(recipient)?.outcomeUnknown === true;
    if (outcomeLost) {
      if (provider.lookup) {
        const found = await provider.lookup(idempotencyKey);
        if (found) {
          sentIds.push(recipient);
          const reason = 'confirmed by the provider after an attempt whose outcome was lost';
          finish(
            recipient,
            receiptOf(subscriber, recipient, 'sent', [], {
              providerMessageId: found.providerMessageId,
              reason,
            }),
          );
          return;
        }
      } else if (UNKNOWN_OUTCOME_POLICY[channel] === 'mark-unknown') {
        const reason = 'an earlier attempt ended without an answer; not sending again to avoid a duplicate';
        finish(recipient, receiptOf(subscriber, recipient, 'unknown', [], { reason, outcomeUnknown: true }));
        return;
      }
    }

    const { result, tries } = await attemptSend(deps, {
      provider,
      pacer,
      version,
      subscriber,
      idempotencyKey,
      test,
    });
    // Sent again with no provider to ask whether the lost attempt went out: this recipient may have it twice.
    const resent = outcomeLost && !provider.lookup && tries.length > 0;
    const flags = resent ? { outcomeUnknown: true, possibleDuplicate: true } : {};
    if (resent) sentAgain++;
    finish(recipient, receiptFor(subscriber, recipient, result, tries, flags));
  };

  const receiptFor = (
    subscriber: Subscriber,
    recipient: string,
    result: Outcome,
    tries: readonly Try[],
    flags: Partial<Receipt>,
  ): Receipt => {
    switch (result.kind) {
      case 'sent': {
        sentIds.push(recipient);
        const reason = flags.possibleDuplicate
          ? 'sent again after an attempt whose outcome was lost: this recipient may have received it twice'
          : undefined;
        return receiptOf(subscriber, recipient, 'sent', tries, {
          providerMessageId: result.providerMessageId,
          ...(reason ? { reason } : {}),
          ...flags,
        });
      }
      case 'failed':
        return receiptOf(subscriber, recipient, 'failed', tries, { reason: result.reason, ...flags });
      case 'unknown':
        return receiptOf(subscriber, recipient, 'unknown', tries, {
          reason: result.reason,
          outcomeUnknown: true,
        });
      case 'retry': {
        // Stored now, with the rest of its window: a crash later must not take this outcome with it.
        const unknown = result.outcomeUnknown ? { outcomeUnknown: true } : {};
        leftForLater++;
        if (lastReceive)
          return receiptOf(subscriber, recipient, 'failed', tries, {
            reason: `gave up after ${receiveCount} receives: ${result.reason}`,
            retryable: true,
            ...unknown,
            ...flags,
          });
        const delayMs = retryDelayMs(claim.job.attempts, {
          baseMs: deps.config.retryBaseMs,
          retryAfterMs: result.retryAfterMs,
        });
        retryInMs = Math.min(retryInMs, delayMs);
        const nextAttemptAt = new Date(deps.clock.now().getTime() + delayMs).toISOString();
        return receiptOf(subscriber, recipient, 'retrying', tries, {
          reason: result.reason,
          nextAttemptAt,
          ...unknown,
          ...flags,
        });
      }
    }
  };

  // ---- window by window: written down before the first of its recipients is sent, settled before the next
  let leaseLost = false;
  for (let from = 0; from < todo.length; from += windowSize) {
    const window = todo.slice(from, from + windowSize);
    // A first attempt's first window was written with the claim; every other is written here, once the receipts
    // of the window before are stored, so a crash can only lose the outcomes of this one.
    if (from > 0 || reclaim) {
      await flush();
      const at = deps.clock.now().toISOString();
      if (!(await deps.store.markWindow(key, leaseId, { recipients: window, at }))) {
        leaseLost = true;
        break;
      }
    }
    let next = 0;
    const worker = async () => {
      while (next < window.length) await sendOne(window[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, window.length) }, worker));
  }
  await flush();
  if (settled > 0) await deps.store.countSettled(key.alertId, key.version, settled);
  const summary = {
    ...log,
    attempt: claim.job.attempts,
    recipients: recipients.length,
    alreadyFinal: recipients.length - todo.length,
    sent: sentIds.length - reached.length,
    settled,
    ...(lost.size > 0 ? { outcomeLost: lost.size, sentAgainPossibleDuplicate: sentAgain } : {}),
  };
  if (leaseLost) {
    // Another worker took the job over (this one outlived its lease): it sends the rest; this one stops here.
    deps.logger.warn('lost the job lease while sending; stopped and left the rest to its new owner', summary);
    return;
  }

  const at = deps.clock.now().toISOString();
  const status = leftForLater === 0 ? 'done' : lastReceive ? 'failed' : 'retrying';
  const nextAttemptAt =
    status === 'retrying' ? new Date(deps.clock.now().getTime() + retryInMs).toISOString() : undefined;
  const kept = await deps.store.finishJob(key, leaseId, {
    status,
    at,
    sent: sentIds,
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
    ...(status === 'failed' ? { retryable: true } : {}),
  });
  if (!kept) deps.logger.warn('lost the job lease before ending it; another worker owns it now', log);
  if (status === 'done') {
    deps.logger.info('job delivered', summary);
    return;
  }
  const seconds = status === 'failed' ? 0 : Math.max(1, Math.ceil(retryInMs / 1000));
  deps.logger.warn(status === 'failed' ? 'job dead-lettered' : 'job will be retried', {
    ...summary,
    retrying: leftForLater,
  });
  // Zero is meant: on the last receive it sends the record on to the dead-letter queue at once.
  await deps.queue.changeVisibility(channelQueue(channel), record.receiptHandle, seconds);
  throw new RetryLater(seconds, `${leftForLater} recipients of the job must be tried again`);
}
