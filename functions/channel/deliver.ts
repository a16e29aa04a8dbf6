/**
 * Delivering one channel job: for each recipient, claim the receipt (a conditional write, so no two workers
 * post the same thing), render, call the provider, record the outcome. What happens on failure is decided by
 * functions/core/delivery.ts; this file only carries it out.
 */
import type { SQSRecord } from 'aws-lambda';
import { FINAL_STATUSES } from '../../schemas/delivery';
import type { ChannelJob } from '../../schemas/messages';
import { CHANNEL } from '../channels/list';
import { type ChannelRenderer, type ChannelRenderers, MissingImage } from '../channels/renderer';
import { type CapOptions, toCapXml, zoneNamesFrom } from '../core/cap';
import { classifyFailure, retryDelayMs, UNKNOWN_OUTCOME_POLICY } from '../core/delivery';
import type { Receipt, ReceiptKey, StoredVersion } from '../core/model';
import type { ZoneCatalog } from '../core/zones';
import type {
  AlertStore,
  BulkStore,
  ChannelProvider,
  Clock,
  DeferralStore,
  OutboundMessage,
  PiiCipher,
  PublicImage,
  QueuePort,
  ReceiptOutcome,
  ReceiptStore,
  SubscriberStore,
} from '../ports';
import { channelQueue, leaseOwnerOf, ProviderError } from '../ports';
import { untilAborted } from '../shared/abort';
import type { HeraldConfig } from '../shared/config';
import type { LoggerLike } from '../shared/logger';
import { maskRecipient } from '../shared/mask';

export interface ChannelDeps {
  /** BulkStore: the subscriber channels' jobs and batched receipts (functions/channel/bulk.ts). */
  store: AlertStore & ReceiptStore & BulkStore & DeferralStore;
  queue: QueuePort;
  /** Reaches the public (or the sandbox, where no credentials are configured). */
  provider: ChannelProvider;
  /**
   * What each channel sends, from its folder's render.ts: a channel function holds its own channel's only, so its
   * bundle carries no other renderer; the embedded runtime and the tests hold them all (functions/channels/renderers.ts).
   */
  renderers: ChannelRenderers;
  /** Where Test and Exercise alerts go, whatever `provider` is (invariant 4). */
  sandbox: ChannelProvider;
  config: HeraldConfig;
  clock: Clock;
  logger: LoggerLike;
  newId: () => string;
  /** Subscriber channels (functions/channel/bulk.ts): the subscribers and the cipher of their addresses. */
  subscribers?: SubscriberStore | undefined;
  pii?: PiiCipher | undefined;
  /** Instagram's image for an alert that has none: the alert card, stored at a public URL. */
  cardImage?: ((version: StoredVersion) => Promise<PublicImage>) | undefined;
  /** The agency's zones, so the CAP that email and webhooks carry names an area given as a zone id. */
  zones?: ZoneCatalog | undefined;
}

/** The CAP writer's options for what a channel carries: the agency, and the zones' names when the catalogue is wired. */
export const capOptionsOf = (deps: Pick<ChannelDeps, 'config' | 'zones'>): CapOptions => ({
  agencyName: deps.config.agencyName,
  ...(deps.zones ? { zoneName: zoneNamesFrom(deps.zones) } : {}),
});

/** The renderer of a job's channel; a function wired without it is a deployment's mistake, not the alert's. */
export function rendererFor(
  deps: Pick<ChannelDeps, 'renderers'>,
  channel: ReceiptKey['channel'],
): ChannelRenderer {
  const renderer = deps.renderers[channel] as ChannelRenderer | undefined;
  if (!renderer) throw new Error(`the ${channel} channel was wired without its renderer`);
  return renderer;
}

/** The record must come back later: SQS redelivers it after `seconds`; the batch reports it as failed. */
export class RetryLater extends Error {
  constructor(
    readonly seconds: number,
    reason: string,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

/** A version's content never changes once written, so a warm function may keep it. */
/**
 * A bounded cache of promises, oldest out first. Concurrent callers share one read or one render; a failure is
 * not kept, so the next call tries again.
 */
export function boundedMemo<T>(size: number): (key: string, make: () => Promise<T>) => Promise<T> {
  const entries = new Map<string, Promise<T>>();
  return (key, make) => {
    const cached = entries.get(key);
    if (cached) return cached;
    if (entries.size >= size) entries.delete(entries.keys().next().value as string);
    const made = make();
    entries.set(key, made);
    made.catch(() => {
      if (entries.get(key) === made) entries.delete(key);
    });
    return made;
  };
}

const versions = boundedMemo<StoredVersion>(200);

export function loadVersion(
  deps: Pick<ChannelDeps, 'store'>,
  alertId: string,
  version: number,
): Promise<StoredVersion> {
  return versions(`${alertId}#${version}`, async () => {
    const found = await deps.store.getVersion(alertId, version);
    if (!found) throw new Error(`version ${version} of alert ${alertId} is not in the store`);
    return found;
  });
}

interface Rendered {
  text: string;
  content: OutboundMessage['content'];
  image?: PublicImage | undefined;
}

/** What a version says on a channel is the same for every recipient of a job, and for every retry. */
const renderings = boundedMemo<Rendered>(200);

const secondsUntil = (iso: string | undefined, now: Date, fallback: number) =>
  iso ? Math.max(1, Math.ceil((Date.parse(iso) - now.getTime()) / 1000)) : fallback;

/**
 * An update or cancel replies to the recipient's post of the previous version, so it must wait until that
 * post exists. Returns the provider id to reply to, undefined to post on its own, or throws RetryLater.
 */
async function previousPost(deps: ChannelDeps, key: ReceiptKey, now: Date): Promise<string | undefined> {
  for (let v = key.version - 1; v >= 1; v--) {
    const earlier = await deps.store.get({ ...key, version: v });
    if (!earlier) continue;
    if ((earlier.status === 'sent' || earlier.status === 'delivered') && earlier.providerMessageId)
      return earlier.providerMessageId;
    if (!FINAL_STATUSES.has(earlier.status))
      throw new RetryLater(
        secondsUntil(earlier.nextAttemptAt ?? earlier.leaseUntil, now, 5),
        `waiting for version ${v} to be posted first`,
      );
  }
  return undefined;
}

/** Renders a version for a channel (drawing Instagram's card when the alert has no image); errors classified. */
async function render(
  deps: ChannelDeps,
  version: StoredVersion,
  channel: ReceiptKey['channel'],
): Promise<Rendered> {
  let image: PublicImage | undefined;
  if (CHANNEL[channel].needsImage && !version.content.image) {
    if (!deps.cardImage) throw new ProviderError('permanent', `${channel} needs an image`);
    try {
      image = await deps.cardImage(version);
    } catch (error) {
      // Nothing was posted: rendering or storing the card failed, and a later attempt may succeed.
      throw new ProviderError(
        'retryable',
        `could not make the alert card: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
  try {
    const rendered = rendererFor(deps, channel).content(
      version,
      { ...deps.config, channel },
      {
        image,
        ...(CHANNEL[channel].carriesCap ? { cap: toCapXml(version, capOptionsOf(deps)) } : {}),
      },
    );
    return { text: rendered.text, content: rendered.content, image };
  } catch (error) {
    if (error instanceof MissingImage) throw new ProviderError('permanent', error.message);
    // Rendering is pure: what failed once fails every time, and nothing was posted.
    throw new ProviderError(
      'permanent',
      `could not render the message: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * The message for one recipient, rendered for its channel. Social channels speak the alert's own language
 * (one post per account); subscribers' languages arrive with subscriptions.
 */
async function buildMessage(
  deps: ChannelDeps,
  version: StoredVersion,
  key: ReceiptKey,
  extra: { inReplyTo: string | undefined; idempotencyKey: string; test: boolean },
): Promise<OutboundMessage> {
  const rendered = await renderings(`${key.alertId}#${key.version}#${key.channel}`, () =>
    render(deps, version, key.channel),
  );
  return {
    channel: key.channel,
    alertId: key.alertId,
    version: key.version,
    recipient: key.recipient,
    text: rendered.text,
    content: rendered.content,
    ...(extra.inReplyTo ? { inReplyTo: extra.inReplyTo } : {}),
    ...(version.content.image
      ? { image: version.content.image }
      : rendered.image
        ? { image: rendered.image }
        : {}),
    idempotencyKey: extra.idempotencyKey,
    test: extra.test,
  };
}

interface Attempt {
  receipt: Receipt;
  record(outcome: Omit<ReceiptOutcome, 'at' | 'actor' | 'attempt'>): Promise<void>;
}

async function deliverOne(
  deps: ChannelDeps,
  job: ChannelJob,
  recipient: string,
  receiveCount: number,
): Promise<void> {
  const key: ReceiptKey = { alertId: job.alertId, version: job.version, channel: job.channel, recipient };
  const actor = `channel:${job.channel}`;
  const log = {
    alertId: key.alertId,
    version: key.version,
    channel: key.channel,
    recipient: maskRecipient(key.channel, recipient),
  };
  let now = deps.clock.now();
  const version = await loadVersion(deps, job.alertId, job.version);
  const inReplyTo = version.msgType === 'Alert' ? undefined : await previousPost(deps, key, now);

  const leaseMs = deps.config.providerTimeoutMs * 2;
  const claim = await deps.store.claim(key, {
    leaseId: deps.newId(),
    leaseUntil: new Date(now.getTime() + leaseMs).toISOString(),
    now: now.toISOString(),
    actor,
    ...leaseOwnerOf(deps.config),
  });
  if (claim.kind === 'missing')
    throw new Error(`no receipt for ${key.channel} recipient of ${key.alertId} v${key.version}`);
  if (claim.kind === 'done') return;
  if (claim.kind === 'busy')
    throw new RetryLater(
      secondsUntil(claim.receipt.nextAttemptAt ?? claim.receipt.leaseUntil, now, 5),
      'receipt busy or not yet due',
    );

  const leaseId = claim.receipt.leaseId!;
  const test = version.content.status !== 'Actual';
  const provider = test ? deps.sandbox : deps.provider;
  // Whatever a sandbox records, the receipt says so: a sandbox `sent` reached no one.
  const sandbox = provider.mode === 'sandbox' ? { sandbox: true } : {};
  const attempt: Attempt = {
    receipt: claim.receipt,
    record: async (outcome) => {
      const at = deps.clock.now().toISOString();
      const full: ReceiptOutcome = { ...outcome, ...sandbox, at, actor, attempt: claim.receipt.attempts };
      if (!(await deps.store.record(key, leaseId, full))) {
        deps.logger.warn('lost the receipt lease before recording; another worker owns it now', log);
        return;
      }
      if (FINAL_STATUSES.has(full.status) && !FINAL_STATUSES.has(claim.previous.status))
        await deps.store.countSettled(key.alertId, key.version, 1);
    },
  };

  const idempotencyKey = `${key.alertId}:${key.version}:${key.channel}:${recipient}`;

  // The previous attempt may have posted before it died or timed out: find out before posting again.
  if (claim.previous.status === 'sending' || claim.previous.outcomeUnknown) {
    if (provider.lookup) {
      const found = await provider.lookup(idempotencyKey);
      if (found) {
        await attempt.record({
          status: 'sent',
          providerMessageId: found.providerMessageId,
          reason: 'confirmed after an attempt whose outcome was lost',
        });
        deps.logger.info('delivery reconciled', log);
        return;
      }
    } else if (UNKNOWN_OUTCOME_POLICY[key.channel] === 'mark-unknown') {
      await attempt.record({
        status: 'unknown',
        reason: 'an earlier attempt ended without an answer; not posting again to avoid a duplicate',
      });
      deps.logger.warn('delivery outcome unknown', log);
      return;
    }
  }

  try {
    const message = await buildMessage(deps, version, key, { inReplyTo, idempotencyKey, test });
    const signal = AbortSignal.timeout(deps.config.providerTimeoutMs);
    const accepted = await untilAborted(provider.send(message, signal), signal);
    await attempt.record({ status: 'sent', providerMessageId: accepted.providerMessageId });
    deps.logger.info('delivered', { ...log, attempt: claim.receipt.attempts });
  } catch (error) {
    const failure = classifyFailure(error);
    now = deps.clock.now();
    if (failure.kind === 'permanent') {
      await attempt.record({ status: 'failed', reason: failure.reason });
      deps.logger.warn('delivery failed permanently', { ...log, reason: failure.reason });
      return;
    }
    const unknown = failure.kind === 'unknown-outcome';
    if (receiveCount >= deps.config.maxReceives) {
      // Last try: say so on the receipt; the message still goes to the dead-letter queue so an alarm fires,
      // and a redrive may claim this receipt again (retryable).
      await attempt.record({
        status: 'failed',
        reason: `gave up after ${claim.receipt.attempts} attempts: ${failure.reason}`,
        retryable: true,
        ...(unknown ? { outcomeUnknown: true } : {}),
      });
      throw new RetryLater(0, `dead-lettering after ${receiveCount} receives`);
    }
    const delayMs = retryDelayMs(claim.receipt.attempts, {
      baseMs: deps.config.retryBaseMs,
      retryAfterMs: failure.retryAfterMs,
    });
    const nextAttemptAt = new Date(now.getTime() + delayMs).toISOString();
    await attempt.record({
      status: 'retrying',
      reason: failure.reason,
      nextAttemptAt,
      ...(unknown ? { outcomeUnknown: true } : {}),
    });
    deps.logger.info('delivery will be retried', { ...log, reason: failure.reason, delayMs });
    throw new RetryLater(Math.ceil(delayMs / 1000), failure.reason);
  }
}

/** Handles one SQS record holding a ChannelJob. Throws to report the record as a batch item failure. */
export async function deliverJob(deps: ChannelDeps, job: ChannelJob, record: SQSRecord): Promise<void> {
  const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? '1');
  let retryIn: number | undefined;
  let lastError: unknown;
  for (const recipient of job.recipients) {
    try {
      await deliverOne(deps, job, recipient, receiveCount);
    } catch (error) {
      lastError = error;
      const seconds = error instanceof RetryLater ? error.seconds : 30;
      retryIn = retryIn === undefined ? seconds : Math.min(retryIn, seconds);
    }
  }
  if (retryIn === undefined) return;
  // Recipients already done are skipped on the next delivery (their receipts are final); only the rest wait.
  // Zero is meant: on the last receive it sends the record on to the dead-letter queue at once.
  await deps.queue.changeVisibility(channelQueue(job.channel), record.receiptHandle, retryIn);
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
