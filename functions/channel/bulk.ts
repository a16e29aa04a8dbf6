/**
 * The subscriber-channel sender (SMS, email, webhooks): one job carries many subscribers, and costs a handful of
 * requests besides the messages themselves —
 *   claim the job item (a conditional write with a lease: one worker sends a job at a time, as with receipts)
 *   → read the subscribers, strongly consistent, right before sending (a STOP stored before this read wins)
 *   → render once per (version, channel, language) → send, paced at this sender's share of the SMS rate
 *   → write receipts 25 to a BatchWriteItem as outcomes come in → count the settled ones once
 *   → end the job, adding the recipients it reached to the job's `sent` set (the audience updates go to).
 * A first claim writes receipts without reading any (there are none yet); a re-claim reads the job's receipts in
 * one BatchGetItem per 100 and sends only to recipients without a final one.
 */
import type { SQSRecord } from 'aws-lambda';
import type { ChannelJob } from '../../schemas/messages';
import { toCapXml } from '../core/cap';
import { classifyFailure, retryDelayMs, UNKNOWN_OUTCOME_POLICY } from '../core/delivery';
import { audienceKindOf, rosterZonesOf } from '../core/fanout';
import {
  ALL_ZONES,
  type Receipt,
  type ReceiptEvent,
  type StoredVersion,
  type Subscriber,
  type SubscriberChannel,
} from '../core/model';
import { renderContent } from '../core/render';
import { subscriberReaches } from '../core/roster';
import type { OutboundMessage, PiiCipher, ProviderAccepted, SendJobKey, SubscriberStore } from '../ports';
import { channelQueue, type ProviderError } from '../ports';
import { untilAborted } from '../shared/abort';
import { boundedMemo, type ChannelDeps, capOptionsOf, loadVersion, RetryLater } from './deliver';
import { type Pacer, TokenBucket, UNPACED } from './rate';

export interface BulkDeps extends ChannelDeps {
  subscribers: SubscriberStore;
  pii: PiiCipher;
  /** Pacing for one job; defaults to this sender's share of the SMS rate for SMS, none for the others. */
  pacer?: ((channel: SubscriberChannel) => Pacer) | undefined;
}

/** Messages in flight at once within one job: hides provider latency; the pacer still sets the rate. */
const SEND_CONCURRENCY = 16;
/** Tries per recipient within one attempt of the job, for retryable failures, before leaving them to redelivery. */
const IN_PROCESS_TRIES = 3;
/** Longest pause between those tries: a longer retry-after is honoured by the job's redelivery instead. */
const IN_PROCESS_MAX_WAIT_MS = 2000;
const RECEIPT_BATCH = 25;

const FINAL_RECEIPT = (r: Receipt | undefined) =>
  r !== undefined &&
  (r.status === 'sent' ||
    r.status === 'delivered' ||
    r.status === 'unknown' ||
    (r.status === 'failed' && r.retryable !== true));
const REACHED = (r: Receipt | undefined) => r?.status === 'sent' || r?.status === 'delivered';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Rendered {
  text: string;
  content: OutboundMessage['content'];
}

/** A version says the same on a channel in a language to every subscriber: rendered once per job and warm sender. */
const renderings = boundedMemo<Rendered>(200);

function renderFor(deps: BulkDeps, version: StoredVersion, channel: SubscriberChannel, language: string) {
  return renderings(`${version.alertId}#${version.version}#${channel}#${language}`, async () => {
    const rendered = renderContent(channel, version, deps.config, {
      language,
      ...(channel === 'email' || channel === 'webhook' ? { cap: toCapXml(version, capOptionsOf(deps)) } : {}),
    });
    return { text: rendered.text, content: rendered.content };
  });
}

/** This sender's share of the account's SMS rate; email and webhooks are not paced. */
export function defaultPacer(deps: Pick<BulkDeps, 'config'>, channel: SubscriberChannel): Pacer {
  if (channel !== 'sms') return UNPACED;
  return new TokenBucket(deps.config.smsMessagesPerSecond / deps.config.smsSenderConcurrency);
}

/** How one recipient's turn in this attempt ended. */
type Outcome =
  | { kind: 'sent'; providerMessageId: string; reason?: string | undefined; outcomeUnknown?: boolean }
  | { kind: 'failed'; reason: string }
  | { kind: 'unknown'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number | undefined; outcomeUnknown?: boolean };

/** Signing secrets of webhook subscribers, by message, for the webhook provider's per-message hook. */
const webhookSecrets = new WeakMap<OutboundMessage, string>();
/** The per-subscriber signing secret of a webhook message the bulk sender built; undefined for any other. */
export const subscriberSigningSecret = (message: OutboundMessage): string | undefined =>
  webhookSecrets.get(message);

export async function deliverBulkJob(deps: BulkDeps, job: ChannelJob, record: SQSRecord): Promise<void> {
  const channel = job.channel as SubscriberChannel;
  if (job.job === undefined) throw new Error(`a ${channel} job of ${job.alertId} without its job index`);
  const key: SendJobKey = { alertId: job.alertId, version: job.version, channel, index: job.job };
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  const actor = `channel:${channel}`;
  const log = { alertId: key.alertId, version: key.version, channel, job: key.index };
  const startedAt = deps.clock.now();
  const version = await loadVersion(deps, key.alertId, key.version);

  // The lease covers the job's sending at this sender's share of the rate, twice over, plus a provider timeout: as
  // the stack sizes the SMS sender's timeout (lib/herald-stack.ts), so a live sender never loses its lease.
  const rate = channel === 'sms' ? deps.config.smsMessagesPerSecond / deps.config.smsSenderConcurrency : 50;
  const leaseMs = Math.ceil((2 * job.recipients.length * 1000) / rate) + 2 * deps.config.providerTimeoutMs;
  const leaseId = deps.newId();
  const claim = await deps.store.claimJob(key, {
    leaseId,
    leaseUntil: new Date(startedAt.getTime() + leaseMs).toISOString(),
    now: startedAt.toISOString(),
  });
  if (claim.kind === 'missing')
    throw new Error(`no job item for ${channel} job ${key.index} of ${key.alertId}`);
  if (claim.kind === 'done') return;
  if (claim.kind === 'busy') {
    const until = claim.job.nextAttemptAt ?? claim.job.leaseUntil;
    const seconds = until ? Math.max(1, Math.ceil((Date.parse(until) - startedAt.getTime()) / 1000)) : 5;
    throw new RetryLater(seconds, 'job busy or not yet due');
  }

  const recipients = [...new Set(job.recipients)];
  const receiptKey = (recipient: string) => ({
    alertId: key.alertId,
    version: key.version,
    channel,
    recipient,
  });
  // A first claim finds no receipts (none are written before the sender's): reading them would be 4 wasted requests
  // per 100 recipients. A re-claim reads them, to send only to those without a final one.
  const reclaim = claim.previous.attempts > 0;
  const existing = reclaim
    ? await deps.store.getReceipts(recipients.map(receiptKey))
    : new Map<string, Receipt>();
  // The attempt before this one ended without recording how (its lease ran out: a crash, a timeout): a recipient
  // without a receipt may or may not have been sent.
  const lostAttempt = claim.previous.status === 'sending';
  const reached = recipients.filter((r) => REACHED(existing.get(r)));
  const todo = recipients.filter((r) => !FINAL_RECEIPT(existing.get(r)));

  const subscribers =
    todo.length > 0 ? await deps.subscribers.getSubscribers(todo) : new Map<string, Subscriber>();
  const test = version.content.status !== 'Actual';
  const provider = test ? deps.sandbox : deps.provider;
  const wantedAudience = audienceKindOf(version);
  const alertZones =
    version.msgType === 'Alert' ? rosterZonesOf(version).filter((z) => z !== ALL_ZONES) : undefined;
  const pacer = (deps.pacer ?? ((c) => defaultPacer(deps, c)))(channel);

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
  const retryLater: { recipient: string; outcome: Extract<Outcome, { kind: 'retry' }>; tries: number }[] = [];
  let unknownResent = 0;

  const receiptOf = (
    recipient: string,
    status: Receipt['status'],
    tries: number,
    fields: Partial<Receipt>,
    masked: string | undefined,
  ): Receipt => {
    const previous = existing.get(recipient);
    const at = deps.clock.now().toISOString();
    const attempts = (previous?.attempts ?? 0) + tries;
    const event: ReceiptEvent = {
      at,
      actor,
      status,
      attempt: attempts,
      ...(fields.reason ? { reason: fields.reason } : {}),
      ...(fields.providerMessageId ? { providerMessageId: fields.providerMessageId } : {}),
    };
    return {
      ...receiptKey(recipient),
      status,
      ...((masked ?? previous?.recipientMasked)
        ? { recipientMasked: masked ?? previous?.recipientMasked }
        : {}),
      attempts,
      ...fields,
      // A provider id outlives the attempt that got it: a later failure must not forget what was posted.
      ...((fields.providerMessageId ?? previous?.providerMessageId)
        ? { providerMessageId: fields.providerMessageId ?? previous?.providerMessageId }
        : {}),
      createdAt: previous?.createdAt ?? at,
      updatedAt: at,
      history: [...(previous?.history ?? []), event],
    };
  };
  const finish = (recipient: string, receipt: Receipt) => {
    if (receipt.status !== 'retrying' && !FINAL_RECEIPT(existing.get(recipient))) settled++;
    buffer.push(receipt);
    if (buffer.length >= RECEIPT_BATCH) void flush().catch(() => undefined);
  };

  const sendOne = async (recipient: string): Promise<void> => {
    const subscriber = subscribers.get(recipient);
    if (!subscriber) {
      // Deleted since planning: no address is left to send to, and none is shown.
      finish(recipient, receiptOf(recipient, 'failed', 0, { reason: 'unsubscribed' }, 'deleted subscriber'));
      return;
    }
    const masked = subscriber.addressMasked;
    if (subscriber.status !== 'confirmed') {
      // A STOP (or anything else that unconfirmed them) stored before this read wins over the planned send.
      finish(recipient, receiptOf(recipient, 'failed', 0, { reason: 'opted-out' }, masked));
      return;
    }
    if (subscriber.audience !== wantedAudience) {
      // Invariant 4: a Test or Exercise alert reaches test subscribers only (and an Actual one not them).
      finish(
        recipient,
        receiptOf(recipient, 'failed', 0, { reason: `not in the ${wantedAudience} audience` }, masked),
      );
      return;
    }
    if (alertZones && !subscriberReaches(subscriber, { audience: wantedAudience, zones: alertZones })) {
      // Planned from a roster that still held them after they left the alert's zones (a crash between the store's
      // writes); updates are not checked: they follow whoever got the original.
      finish(
        recipient,
        receiptOf(recipient, 'failed', 0, { reason: "no longer subscribed to the alert's zones" }, masked),
      );
      return;
    }
    const idempotencyKey = `${key.alertId}:${key.version}:${channel}:${recipient}`;
    const previous = existing.get(recipient);
    const outcomeLost = (lostAttempt && previous === undefined) || previous?.outcomeUnknown === true;
    if (outcomeLost) {
      if (provider.lookup) {
        const found = await provider.lookup(idempotencyKey);
        if (found) {
          sentIds.push(recipient);
          const reason = 'confirmed after an attempt whose outcome was lost';
          finish(
            recipient,
            receiptOf(recipient, 'sent', 0, { providerMessageId: found.providerMessageId, reason }, masked),
          );
          return;
        }
      } else if (UNKNOWN_OUTCOME_POLICY[channel] === 'mark-unknown') {
        const reason = 'an earlier attempt ended without an answer; not sending again to avoid a duplicate';
        finish(recipient, receiptOf(recipient, 'unknown', 0, { reason, outcomeUnknown: true }, masked));
        return;
      } else unknownResent++;
    }

    const outcome = await attemptSend(deps, {
      provider,
      pacer,
      version,
      subscriber,
      idempotencyKey,
      test,
    });
    const tries = outcome.tries;
    switch (outcome.result.kind) {
      case 'sent': {
        sentIds.push(recipient);
        const reason =
          outcomeLost && !provider.lookup ? 'sent again after an attempt whose outcome was lost' : undefined;
        finish(
          recipient,
          receiptOf(
            recipient,
            'sent',
            tries,
            {
              providerMessageId: outcome.result.providerMessageId,
              ...(reason ? { reason, outcomeUnknown: true } : {}),
            },
            masked,
          ),
        );
        return;
      }
      case 'failed':
        finish(recipient, receiptOf(recipient, 'failed', tries, { reason: outcome.result.reason }, masked));
        return;
      case 'unknown':
        finish(
          recipient,
          receiptOf(
            recipient,
            'unknown',
            tries,
            { reason: outcome.result.reason, outcomeUnknown: true },
            masked,
          ),
        );
        return;
      case 'retry':
        retryLater.push({ recipient, outcome: outcome.result, tries });
        return;
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < todo.length) await sendOne(todo[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, todo.length) }, worker));

  // ---- what could not be sent in this attempt: back to the queue, or, on the last receive, final
  const now = deps.clock.now();
  const lastReceive = receiveCount >= deps.config.maxReceives;
  let retryInMs = Number.POSITIVE_INFINITY;
  for (const { recipient, outcome, tries } of retryLater) {
    const masked = subscribers.get(recipient)?.addressMasked;
    const unknown = outcome.outcomeUnknown ? { outcomeUnknown: true } : {};
    if (lastReceive) {
      finish(
        recipient,
        receiptOf(
          recipient,
          'failed',
          tries,
          {
            reason: `gave up after ${receiveCount} receives: ${outcome.reason}`,
            retryable: true,
            ...unknown,
          },
          masked,
        ),
      );
      continue;
    }
    const delayMs = retryDelayMs(claim.job.attempts, {
      baseMs: deps.config.retryBaseMs,
      retryAfterMs: outcome.retryAfterMs,
    });
    retryInMs = Math.min(retryInMs, delayMs);
    const nextAttemptAt = new Date(now.getTime() + delayMs).toISOString();
    finish(
      recipient,
      receiptOf(recipient, 'retrying', tries, { reason: outcome.reason, nextAttemptAt, ...unknown }, masked),
    );
  }
  await flush();
  if (settled > 0) await deps.store.countSettled(key.alertId, key.version, settled);

  const at = deps.clock.now().toISOString();
  const status = retryLater.length === 0 ? 'done' : lastReceive ? 'failed' : 'retrying';
  const nextAttemptAt = status === 'retrying' ? new Date(now.getTime() + retryInMs).toISOString() : undefined;
  const kept = await deps.store.finishJob(key, leaseId, {
    status,
    at,
    sent: sentIds,
    ...(nextAttemptAt ? { nextAttemptAt } : {}),
    ...(status === 'failed' ? { retryable: true } : {}),
  });
  if (!kept) deps.logger.warn('lost the job lease before ending it; another worker owns it now', log);
  const summary = {
    ...log,
    attempt: claim.job.attempts,
    recipients: recipients.length,
    alreadyFinal: recipients.length - todo.length,
    sent: sentIds.length - reached.length,
    settled,
    retrying: status === 'retrying' ? retryLater.length : 0,
    ...(unknownResent > 0 ? { sentAgainAfterLostOutcome: unknownResent } : {}),
  };
  if (status === 'done') {
    deps.logger.info('job delivered', summary);
    return;
  }
  const seconds = status === 'failed' ? 0 : Math.max(1, Math.ceil(retryInMs / 1000));
  deps.logger.warn(status === 'failed' ? 'job dead-lettered' : 'job will be retried', summary);
  // Zero is meant: on the last receive it sends the record on to the dead-letter queue at once.
  await deps.queue.changeVisibility(channelQueue(channel), record.receiptHandle, seconds);
  throw new RetryLater(seconds, `${retryLater.length} recipients of the job must be tried again`);
}

/** One recipient's sends within this attempt: paced, with a couple of quick retries for retryable failures. */
async function attemptSend(
  deps: BulkDeps,
  input: {
    provider: BulkDeps['provider'];
    pacer: Pacer;
    version: StoredVersion;
    subscriber: Subscriber;
    idempotencyKey: string;
    test: boolean;
  },
): Promise<{ result: Outcome; tries: number }> {
  const { subscriber, version } = input;
  const channel = subscriber.channel;
  let rendered: Rendered;
  let address: string;
  try {
    rendered = await renderFor(deps, version, channel, subscriber.language);
  } catch (error) {
    // Rendering is pure: what failed once fails every time, and nothing was sent.
    return {
      result: { kind: 'failed', reason: `could not render the message: ${String(error)}` },
      tries: 0,
    };
  }
  try {
    // In memory only, for the provider: never stored, never logged.
    address = await deps.pii.decrypt(subscriber.addressCipher);
  } catch (error) {
    return {
      result: { kind: 'retry', reason: `could not decrypt the address: ${String(error)}` },
      tries: 0,
    };
  }
  const message: OutboundMessage = {
    channel,
    alertId: version.alertId,
    version: version.version,
    recipient: address,
    text: rendered.text,
    content: rendered.content,
    ...(version.content.image ? { image: version.content.image } : {}),
    idempotencyKey: input.idempotencyKey,
    test: input.test,
  };
  if (channel === 'webhook' && subscriber.secretCipher)
    webhookSecrets.set(message, await deps.pii.decrypt(subscriber.secretCipher));

  for (let tries = 1; ; tries++) {
    await input.pacer.take();
    let accepted: ProviderAccepted;
    try {
      const signal = AbortSignal.timeout(deps.config.providerTimeoutMs);
      accepted = await untilAborted(input.provider.send(message, signal), signal);
      return { result: { kind: 'sent', providerMessageId: accepted.providerMessageId }, tries };
    } catch (error) {
      const failure: ProviderError = classifyFailure(error);
      if (failure.kind === 'permanent') return { result: { kind: 'failed', reason: failure.reason }, tries };
      if (failure.kind === 'unknown-outcome') {
        // The message may be out: the channel's policy decides on the job's next attempt, not a quick retry here.
        if (UNKNOWN_OUTCOME_POLICY[channel] === 'mark-unknown')
          return { result: { kind: 'unknown', reason: failure.reason }, tries };
        return { result: { kind: 'retry', reason: failure.reason, outcomeUnknown: true }, tries };
      }
      const waitMs = retryDelayMs(tries, {
        baseMs: Math.min(deps.config.retryBaseMs, 250),
        retryAfterMs: failure.retryAfterMs,
      });
      if (tries >= IN_PROCESS_TRIES || waitMs > IN_PROCESS_MAX_WAIT_MS)
        return {
          result: { kind: 'retry', reason: failure.reason, retryAfterMs: failure.retryAfterMs },
          tries,
        };
      await sleep(waitMs);
    }
  }
}
