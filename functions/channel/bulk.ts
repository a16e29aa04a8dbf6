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
 *
 * Residents' quiet hours (functions/channel/quiet.ts): before the first window, the attempt stores a `deferred`
 * receipt for each recipient a version that is not urgent finds in their quiet hours, then lists them in deferrals
 * that the sweeper releases at the end of the quiet hours (functions/channel/deferrals.ts); they are never in a send
 * window. A release is this same sender on a deferral instead of a job (`deferredUntil`): it sends to whom the
 * deferral lists unless a newer version went out meanwhile (then their receipts say `superseded`), and never defers
 * anyone again.
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
import {
  decideHolds,
  deferredReason,
  listInDeferrals,
  releaseEarlierDeferrals,
  supersedingVersion,
  WAIT_FOR_RELEASE_MS,
  waitingForRelease,
} from './quiet';

export { type BulkDeps, defaultPacer, subscriberSigningSecret } from './bulk-send';

/** Messages in flight at once within one window: hides provider latency; the pacer still sets the rate. */
const SEND_CONCURRENCY = 16;

const FINAL_RECEIPT = (r: Receipt | undefined) =>
  r !== undefined &&
  (r.status === 'sent' ||
    r.status === 'delivered' ||
    r.status === 'unknown' ||
    r.status === 'superseded' ||
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
  // A release of residents whose quiet hours are over: the deferral item is claimed as a job item is.
  const release = job.deferredUntil !== undefined;
  const key: SendJobKey = {
    alertId: job.alertId,
    version: job.version,
    channel,
    index: job.job,
    ...(release ? { deferredUntil: job.deferredUntil } : {}),
  };
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  const actor = `channel:${channel}`;
  const log = {
    alertId: key.alertId,
    version: key.version,
    channel,
    job: key.index,
    ...(release ? { deferredUntil: key.deferredUntil } : {}),
  };
  const startedAt = deps.clock.now();
  const version = await loadVersion(deps, key.alertId, key.version);
  const planned = [...new Set(job.recipients)];
  const windowSize = deps.config.sendWindow;

  // The lease covers the job's sending at this sender's share of the rate, twice over, plus a provider timeout: as
  // the stack sizes the SMS sender's timeout (lib/herald-stack.ts), so a live sender never loses its lease.
  const rate = channel === 'sms' ? deps.config.smsMessagesPerSecond / deps.config.smsSenderConcurrency : 50;
  const leaseMs = Math.ceil((2 * planned.length * 1000) / rate) + 2 * deps.config.providerTimeoutMs;
  const leaseId = deps.newId();
  const claim = await deps.store.claimJob(
    key,
    {
      leaseId,
      leaseUntil: new Date(startedAt.getTime() + leaseMs).toISOString(),
      now: startedAt.toISOString(),
      ...leaseOwnerOf(deps.config),
    },
    // A first attempt has no receipts: it sends to the job's recipients in order, starting with these. A release
    // learns its recipients from the claim, so it writes its first window as it writes every other.
    release ? undefined : { recipients: planned.slice(0, windowSize), at: startedAt.toISOString() },
  );
  if (claim.kind === 'missing')
    throw new Error(`no job item for ${channel} job ${key.index} of ${key.alertId}`);
  if (claim.kind === 'done') return;
  if (claim.kind === 'busy') {
    const until = claim.job.nextAttemptAt ?? claim.job.leaseUntil;
    const seconds = until ? Math.max(1, Math.ceil((Date.parse(until) - startedAt.getTime()) / 1000)) : 5;
    throw new RetryLater(seconds, 'job busy or not yet due');
  }

  // A release sends to whom its deferral lists now: the message named whom it listed when it was queued.
  const recipients = release ? [...new Set(claim.previous.recipients)] : planned;
  const receiptKey = (recipient: string) => ({
    alertId: key.alertId,
    version: key.version,
    channel,
    recipient,
  });
  // A first claim finds no receipts (none are written before the sender's): reading them would be 4 wasted requests
  // per 100 recipients. A re-claim reads them, to send only to recipients without a final one.
  // A release always reads them: it sends only to those still waiting.
  const reclaim = claim.previous.attempts > 0;
  const existing =
    reclaim || release
      ? await deps.store.getReceipts(recipients.map(receiptKey))
      : new Map<string, Receipt>();
  // Those an earlier attempt of this job deferred belong to their deferral's release: never sent by this job.
  const waiting = new Set(release ? [] : recipients.filter((r) => existing.get(r)?.status === 'deferred'));
  const deadWindow = claim.previous.window;
  const lost = lostInWindow(deadWindow, existing);
  for (const r of waiting) lost.delete(r);
  const reached = recipients.filter((r) => REACHED(existing.get(r)));
  // A release leaves alone anyone without a receipt of this version: never handed to it (see quiet.ts).
  const unhanded = release ? recipients.filter((r) => !existing.has(r)) : [];
  // Those whose outcome was lost go first, so they share the first window and are settled soonest.
  const todo = [
    ...recipients.filter((r) => lost.has(r)),
    ...recipients.filter(
      (r) =>
        !lost.has(r) && !FINAL_RECEIPT(existing.get(r)) && !waiting.has(r) && (!release || existing.has(r)),
    ),
  ];
  // A release finds whether a newer version went out before it: then what waited is replaced, not sent.
  const newer = release && todo.length > 0 ? await supersedingVersion(deps, version) : undefined;

  // Those waiting are read too (a re-claim only): one whose deferral could not list them is sent to by this job.
  const toRead = newer ? [] : [...todo, ...waiting];
  const subscribers =
    toRead.length > 0 ? await deps.subscribers.getSubscribers(toRead) : new Map<string, Subscriber>();
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
  /**
   * A receipt written without sending, for one whose outcome a dead attempt lost, still says so: superseded, it may
   * have gone out; deferred with no provider to ask (it was asked otherwise), its release may be a second message.
   */
  const lostFlag = (recipient: string, sendsLater: boolean): Partial<Receipt> => {
    if (!lost.has(recipient) || (sendsLater && provider.lookup)) return {};
    return { outcomeUnknown: true, ...(sendsLater ? { possibleDuplicate: true } : {}) };
  };
  const finish = (recipient: string, receipt: Receipt) => {
    const open = receipt.status === 'retrying' || receipt.status === 'deferred';
    if (!open && !FINAL_RECEIPT(existing.get(recipient))) settled++;
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

  // ---- quiet hours, before anything of this attempt is sent (the order of writes: functions/channel/quiet.ts)
  if (!release) await releaseEarlierDeferrals(deps, version);
  const now = deps.clock.now();
  const holds = await decideHolds(deps, {
    version,
    channel,
    release: release ? { newer } : undefined,
    todo,
    lost,
    subscribers,
    sendable: (s): s is Subscriber => refusal(s) === undefined,
    lookup: provider.lookup
      ? async (r) => (await provider.lookup!(`${key.alertId}:${key.version}:${channel}:${r}`)) !== undefined
      : undefined,
    now,
  });
  for (const [r, reason] of holds.superseded)
    finish(r, receiptOf(subscribers.get(r), r, 'superseded', [], { reason, ...lostFlag(r, false) }));
  // A cancel that waits for an earlier version's release: tried again soon, as a retry is.
  for (const r of holds.waitForRelease) {
    leftForLater++;
    retryInMs = Math.min(retryInMs, WAIT_FOR_RELEASE_MS);
    const wait = waitingForRelease(now, lastReceive ? receiveCount : undefined);
    finish(r, receiptOf(subscribers.get(r), r, wait.status, [], wait.fields));
  }
  const toList = new Map<string, string[]>();
  const listUntil = (until: string, r: string) => toList.set(until, [...(toList.get(until) ?? []), r]);
  for (const [r, until] of holds.deferred) {
    const reason = deferredReason(until, deps.config.timeZone);
    // Deferred after a dead attempt that may have sent it: its release will say it may be a second message.
    const fields = { reason, nextAttemptAt: until.toISOString(), ...lostFlag(r, true) };
    finish(r, receiptOf(subscribers.get(r), r, 'deferred', [], fields));
    listUntil(until.toISOString(), r);
  }
  for (const r of waiting) listUntil(existing.get(r)?.nextAttemptAt ?? '', r);
  toList.delete('');
  // (1) the `deferred` receipts are stored, then (2) their deferrals list them; only then (3) does anything go out.
  await flush();
  const unlisted = await listInDeferrals(deps, key, toList, now.toISOString());
  const deferredIds = [...toList.values()].flat().filter((r) => !unlisted.has(r));
  const held = new Set(
    [...holds.superseded.keys(), ...holds.waitForRelease, ...holds.deferred.keys()].filter(
      (r) => !unlisted.has(r),
    ),
  );
  // Anyone a deferral could not take (its release had begun without them) is this job's to send, now.
  const sendList = [...todo.filter((r) => !held.has(r)), ...[...unlisted].filter((r) => waiting.has(r))];

  // ---- window by window: written down before the first of its recipients is sent, settled before the next
  const windows: string[][] = [];
  // A first attempt's first window was written with the claim: what it sends first is drawn from it alone.
  const claimed = new Set(reclaim || release ? [] : (claim.job.window?.recipients ?? []));
  const first = sendList.filter((r) => claimed.has(r));
  const rest = sendList.filter((r) => !claimed.has(r));
  if (first.length > 0) windows.push(first);
  for (let i = 0; i < rest.length; i += windowSize) windows.push(rest.slice(i, i + windowSize));
  let leaseLost = false;
  for (const [i, window] of windows.entries()) {
    // Every window but the one the claim wrote is written here, once the receipts of the window before are
    // stored, so a crash can only lose the outcomes of this one.
    if (i > 0 || first.length === 0) {
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
    ...(deferredIds.length > 0 ? { deferred: deferredIds.length } : {}),
    ...(holds.superseded.size > 0 ? { superseded: holds.superseded.size } : {}),
    ...(unhanded.length > 0 ? { notHandedToThisRelease: unhanded.length } : {}),
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
    deferred: deferredIds,
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
