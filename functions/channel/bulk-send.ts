/**
 * One subscriber's message within a bulk job: rendered once per (version, channel, language), the address decrypted
 * in memory, paced, sent with a couple of quick retries for retryable failures, and every try recorded with its
 * time and reason, so the receipt tells an auditor each attempt that was made.
 */
import { CHANNEL } from '../channels/list';
import { toCapXml } from '../core/cap';
import { classifyFailure, retryDelayMs, UNKNOWN_OUTCOME_POLICY } from '../core/delivery';
import type { StoredVersion, Subscriber, SubscriberChannel } from '../core/model';
import type { ChannelProvider, OutboundMessage, PiiCipher, ProviderError, SubscriberStore } from '../ports';
import { untilAborted } from '../shared/abort';
import { boundedMemo, type ChannelDeps, capOptionsOf, rendererFor } from './deliver';
import { type Pacer, TokenBucket, UNPACED } from './rate';

export interface BulkDeps extends ChannelDeps {
  subscribers: SubscriberStore;
  pii: PiiCipher;
  /** Pacing for one job; defaults to this sender's share of the SMS rate for SMS, none for the others. */
  pacer?: ((channel: SubscriberChannel) => Pacer) | undefined;
}

/** Tries per recipient within one attempt of the job, for retryable failures, before leaving them to redelivery. */
const IN_PROCESS_TRIES = 3;
/** Longest pause between those tries: a longer retry-after is honoured by the job's redelivery instead. */
const IN_PROCESS_MAX_WAIT_MS = 2000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Rendered {
  text: string;
  content: OutboundMessage['content'];
}

/** A version says the same on a channel in a language to every subscriber: rendered once per job and warm sender. */
const renderings = boundedMemo<Rendered>(200);

function renderFor(deps: BulkDeps, version: StoredVersion, channel: SubscriberChannel, language: string) {
  return renderings(`${version.alertId}#${version.version}#${channel}#${language}`, async () => {
    const rendered = rendererFor(deps, channel).content(
      version,
      { ...deps.config, channel },
      {
        language,
        ...(CHANNEL[channel].carriesCap ? { cap: toCapXml(version, capOptionsOf(deps)) } : {}),
      },
    );
    return { text: rendered.text, content: rendered.content };
  });
}

/** This sender's share of the account's SMS rate; email and webhooks are not paced. */
export function defaultPacer(deps: Pick<BulkDeps, 'config'>, channel: SubscriberChannel): Pacer {
  if (channel !== 'sms') return UNPACED;
  return new TokenBucket(deps.config.smsMessagesPerSecond / deps.config.smsSenderConcurrency);
}

/** A call made to the provider: when, and why it failed if it did. */
export interface Try {
  at: string;
  reason?: string | undefined;
}

/** How one recipient's turn in this attempt ended. */
export type Outcome =
  | { kind: 'sent'; providerMessageId: string }
  | { kind: 'failed'; reason: string }
  | { kind: 'unknown'; reason: string }
  | { kind: 'retry'; reason: string; retryAfterMs?: number | undefined; outcomeUnknown?: boolean };

/** Signing secrets of webhook subscribers, by message, for the webhook provider's per-message hook. */
const webhookSecrets = new WeakMap<OutboundMessage, string>();
/** The per-subscriber signing secret of a webhook message the bulk sender built; undefined for any other. */
export const subscriberSigningSecret = (message: OutboundMessage): string | undefined =>
  webhookSecrets.get(message);

/** One recipient's sends within this attempt: paced, with a couple of quick retries for retryable failures. */
export async function attemptSend(
  deps: BulkDeps,
  input: {
    provider: ChannelProvider;
    pacer: Pacer;
    version: StoredVersion;
    subscriber: Subscriber;
    /** The same for every try and every attempt: webhooks send it as `webhook-id`, so a receiver can drop a repeat. */
    idempotencyKey: string;
    test: boolean;
  },
): Promise<{ result: Outcome; tries: Try[] }> {
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
      tries: [],
    };
  }
  try {
    // In memory only, for the provider: never stored, never logged.
    address = await deps.pii.decrypt(subscriber.addressCipher);
  } catch (error) {
    return {
      result: { kind: 'retry', reason: `could not decrypt the address: ${String(error)}` },
      tries: [],
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

  const tries: Try[] = [];
  for (;;) {
    await input.pacer.take();
    const at = deps.clock.now().toISOString();
    try {
      const signal = AbortSignal.timeout(deps.config.providerTimeoutMs);
      const accepted = await untilAborted(input.provider.send(message, signal), signal);
      tries.push({ at });
      return { result: { kind: 'sent', providerMessageId: accepted.providerMessageId }, tries };
    } catch (error) {
      const failure: ProviderError = classifyFailure(error);
      tries.push({ at, reason: failure.reason });
      if (failure.kind === 'permanent') return { result: { kind: 'failed', reason: failure.reason }, tries };
      if (failure.kind === 'unknown-outcome') {
        // The message may be out: the channel's policy decides on the job's next attempt, not a quick retry here.
        if (UNKNOWN_OUTCOME_POLICY[channel] === 'mark-unknown')
          return { result: { kind: 'unknown', reason: failure.reason }, tries };
        return { result: { kind: 'retry', reason: failure.reason, outcomeUnknown: true }, tries };
      }
      const waitMs = retryDelayMs(tries.length, {
        baseMs: Math.min(deps.config.retryBaseMs, 250),
        retryAfterMs: failure.retryAfterMs,
      });
      if (tries.length >= IN_PROCESS_TRIES || waitMs > IN_PROCESS_MAX_WAIT_MS)
        return {
          result: { kind: 'retry', reason: failure.reason, retryAfterMs: failure.retryAfterMs },
          tries,
        };
      await sleep(waitMs);
    }
  }
}
