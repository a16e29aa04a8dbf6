/**
 * Officers' public answers to social tips (api.md, "Tips and replies"): `POST /v1/tips/{id}/replies` with
 * `"public": true` puts the answer in the tip's thread as `queued` and on the SocialAnswerQueue; a run of
 * `postQueuedAnswers` (the replies function's schedule on AWS, a timer in the embedded mode) posts each one as a public
 * reply under the resident's own reply or comment, and settles it: `sent` with the provider's id, or `failed` with why.
 *
 *   X          POST /2/tweets { text, reply: { in_reply_to_tweet_id: <the resident's post> } }
 *   Facebook   POST /{comment-id}/comments { message }            with the Page token
 *   Instagram  POST /{ig-comment-id}/replies { message }          with the Instagram token
 *   Mastodon, Bluesky, Threads, Telegram: each network's own client, replying to the resident's reply
 *              (./social-answers.ts; Telegram in the channel's discussion group, where the comment is)
 *   sandbox    the outbox (embedded mode, a channel without credentials), `inReplyTo` the resident's reply
 *
 * A public reply must never go out twice, and nothing here can ask X whether a post of ours exists (no lookup by our
 * key). So an answer is claimed, with a lease, before the provider is called (AnswerAttempts: a conditional write on
 * its queue item), and settled only once the provider has answered:
 *
 * - two runs at once: one claims the answer, the other passes it by;
 * - the provider refused without posting (429, a 5xx, not reached): the claim is released and the answer stays
 *   queued for a later run; after a 429 nothing more goes to that channel until the provider's reset time;
 * - the provider refused for good (a duplicate, the resident's post deleted, a bad token): `failed` with its reason;
 * - the outcome is lost (a timeout after the request left, a crash between the call and the settle): where the
 *   provider can be asked (Graph lists the replies under a comment, Threads under a reply, Bluesky reads the record
 *   key back, Mastodon answers a repeated Idempotency-Key within the hour, the sandbox its outbox), the claim is left
 *   to run out, and the run that finds it unsettled looks for the reply: `sent` when found, posted when the sandbox or
 *   Bluesky proves there is none, and otherwise — and always on X and Telegram — `failed` with "outcome unknown: check
 *   the post before answering again": a person looks, rather than Herald posting twice;
 * - a settle cut short between the thread and the queue (the thread already says `sent` or `failed`) is finished.
 *
 * A run is bounded: `perRun` answers (20) across the channels, each call `timeoutMs` (10 s), none started past the
 * caller's deadline. The channels run side by side, each oldest first.
 */
import type { Channel } from '../../schemas/alert';
import { withinBudget } from '../channels/bluesky/render';
import { MASTODON_MAX_CHARACTERS, mastodonLength } from '../channels/mastodon/render';
import { TELEGRAM_TEXT_MAX, telegramLength } from '../channels/telegram/render';
import { THREADS_MAX_CHARS, threadsLength } from '../channels/threads/render';
import { weightedLength, X_MAX_WEIGHTED } from '../channels/x/render';
import { longestFitting } from '../core/render/text';
import {
  type Clock,
  ProviderError,
  type SocialAnswer,
  type SocialAnswerQueue,
  type TipStore,
} from '../ports';
import type { LoggerLike } from '../shared/logger';

export type AnswerChannel = SocialAnswer['channel'];
export type AnswerKey = Pick<SocialAnswer, 'tipId' | 'messageId'>;

/** What the thread says when the provider may or may not have posted, and cannot be asked. */
export const OUTCOME_UNKNOWN = 'outcome unknown: check the post before answering again';

/**
 * Whether a public reply fits on the channel: X in weighted characters (twitter-text), Facebook and Instagram in
 * characters, and issue 15's networks as each counts its posts (functions/channels/<name>/render.ts).
 */
const ANSWER_FITS: Record<AnswerChannel, (text: string) => boolean> = {
  x: (t) => weightedLength(t) <= X_MAX_WEIGHTED,
  // A Facebook comment takes 8,000 characters, an Instagram comment 2,200.
  facebook: (t) => [...t].length <= 8000,
  instagram: (t) => [...t].length <= 2200,
  mastodon: (t) => mastodonLength(t) <= MASTODON_MAX_CHARACTERS,
  bluesky: withinBudget,
  threads: (t) => threadsLength(t) <= THREADS_MAX_CHARS,
  telegram: (t) => telegramLength(t) <= TELEGRAM_TEXT_MAX,
};

export interface AnswerPostConfig {
  /** Answers attempted per run, all channels together. */
  perRun: number;
  /** Each provider call's time limit. */
  timeoutMs: number;
  /** How long a claim keeps other runs off an answer: longer than a call and the settle after it. */
  leaseMs: number;
  /** Refusals that said "try later" (a 5xx, not reached) before the answer fails with the last reason. */
  maxAttempts: number;
}

export const DEFAULT_ANSWER_POST_CONFIG: AnswerPostConfig = {
  perRun: 20,
  timeoutMs: 10_000,
  leaseMs: 60_000,
  maxAttempts: 5,
};

/** One public reply to post. */
export interface ReplyRequest {
  /** The resident's reply or comment it answers: the tip's externalId. */
  inReplyTo: string;
  /** Already fitted to the channel (answerText). */
  text: string;
  /** Unique per answer: `tip-answer:<tipId>:<messageId>` (the sandbox's outbox keeps it). */
  key: string;
  alertId?: string | undefined;
  /** When an earlier claim on this answer ran out unsettled (its outcome lost): set only for `find`. */
  lostAttemptAt?: string | undefined;
}

/**
 * What posts public replies on one channel. `reply` makes exactly one publishing request and throws a ProviderError
 * whose kind says what happened (anything else counts as an unknown outcome). `find`, where the provider can be
 * asked, looks for a reply already posted under `inReplyTo` with this text.
 */
export interface PublicReplyPoster {
  readonly channel: AnswerChannel;
  /** `sandbox` records in the outbox; the thread says so. */
  readonly mode: 'real' | 'sandbox';
  reply(request: ReplyRequest, signal: AbortSignal): Promise<{ providerMessageId: string }>;
  find?(request: ReplyRequest, signal: AbortSignal): Promise<{ providerMessageId: string } | undefined>;
  /** Whether `find` finding nothing proves nothing was posted (the sandbox's own outbox), so posting is safe. */
  readonly findIsConclusive?: boolean | undefined;
}

/**
 * The channel's poster this run, or why there is none: `transient` (the credentials could not be read) leaves its
 * answers queued; otherwise (no credentials and no sandbox: AWS) they fail with the reason.
 */
export type PosterChoice = { poster: PublicReplyPoster } | { unavailable: string; transient?: boolean };

export type Claim =
  /** This run may post it. `lostAttemptAt`: an earlier claim ran out unsettled, so it may have been posted. */
  | { kind: 'claimed'; attemptId: string; attempts: number; lostAttemptAt?: string | undefined }
  /** Another run holds it. */
  | { kind: 'busy' }
  /** Settled already (the queue's index lags), or no such answer. */
  | { kind: 'gone' };

/** The claims on queued answers (functions/adapters/dynamo/answer-attempts.ts). */
export interface AnswerAttempts {
  /** Claims `answer` until `at + leaseMs` if it is queued and nobody holds a live claim; counts the attempt. */
  claim(answer: AnswerKey, at: Date, leaseMs: number): Promise<Claim>;
  /** Gives the claim up (the provider refused without posting); `uncount` when the attempt should not count (429). */
  release(answer: AnswerKey, attemptId: string, options?: { uncount?: boolean }): Promise<void>;
}

export interface AnswerPosterDeps {
  queue: SocialAnswerQueue;
  tips: Pick<TipStore, 'getTip' | 'appendAudit'>;
  attempts: AnswerAttempts;
  /** The channel's poster for this run (read once per run, and only when the channel has answers queued). */
  posterFor(channel: AnswerChannel): Promise<PosterChoice>;
  clock: Clock;
  logger: LoggerLike;
  config?: Partial<AnswerPostConfig> | undefined;
  /**
   * Per channel, no call before this instant (epoch ms of `clock`): a 429's reset. Kept by the caller between runs
   * (one map per process); a new process finds the limit again with one refused call.
   */
  holds?: Map<AnswerChannel, number> | undefined;
  /** The channels to serve; every social channel by default. */
  channels?: readonly AnswerChannel[] | undefined;
}

export interface ChannelRun {
  channel: AnswerChannel;
  sent: number;
  failed: number;
  /** Left queued for a later run: a 429, a refusal to try again later. */
  deferred: number;
  /** Why the channel was not served, or stopped early. */
  skipped?: string | undefined;
}

export interface AnswerRunOutcome {
  channels: ChannelRun[];
  sent: number;
  failed: number;
  deferred: number;
}

/** The channels whose residents' replies are read (functions/replies/): only they can have answers queued. */
const ANSWER_CHANNELS: readonly AnswerChannel[] = [
  'x',
  'facebook',
  'instagram',
  'mastodon',
  'bluesky',
  'threads',
  'telegram',
];
/** Room left after the last call for its settle. */
const SETTLE_MARGIN_MS = 3000;
const ACTOR = 'system:replies';

/** The sandbox note in the thread: the answer is `sent`, but only to the outbox. */
export const sandboxNote = (channel: Channel) =>
  `sandbox: recorded in the outbox, not posted to ${channel} (no credentials)`;

const fitsOn = (channel: AnswerChannel) => ANSWER_FITS[channel];

/**
 * The reply as posted: the officer's text with the tip's reference after it when that fits whole, so the resident can
 * quote it (and two answers of the same words stay distinct: X refuses a duplicate); else the text alone, cut
 * between graphemes (never inside a surrogate pair or an emoji sequence) with an ellipsis when it is too long.
 */
export function answerText(channel: AnswerChannel, text: string, reference: string | undefined): string {
  const fits = fitsOn(channel);
  const body = text.trim();
  if (reference) {
    const withReference = `${body} (${reference})`;
    if (fits(withReference)) return withReference;
  }
  return longestFitting(body, fits) ?? '';
}

export const answerKey = (answer: AnswerKey) => `tip-answer:${answer.tipId}:${answer.messageId}`;

const asProviderError = (error: unknown): ProviderError =>
  error instanceof ProviderError
    ? error
    : new ProviderError('unknown-outcome', 'the reply call failed unexpectedly');

type Settled = 'sent' | 'failed' | 'deferred' | 'hold';

/**
 * Posts what is queued, each answer once (see the top of this file), and settles it in the tip's thread. Throws
 * after serving every channel when one of them failed on something other than a provider (the store), so a
 * scheduled run counts as failed; what it settled before stays settled.
 */
export async function postQueuedAnswers(
  deps: AnswerPosterDeps,
  options: { deadline?: number | undefined } = {},
): Promise<AnswerRunOutcome> {
  const config = { ...DEFAULT_ANSWER_POST_CONFIG, ...deps.config };
  const holds = deps.holds ?? new Map<AnswerChannel, number>();
  const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
  const budget = { left: config.perRun };
  const errors: unknown[] = [];

  const runs = await Promise.all(
    (deps.channels ?? ANSWER_CHANNELS).map(async (channel) => {
      const run: ChannelRun = { channel, sent: 0, failed: 0, deferred: 0 };
      try {
        await serveChannel(deps, config, { holds, deadline, budget }, run);
      } catch (error) {
        errors.push(error);
        run.skipped = 'stopped by an error';
        deps.logger.error('public answers: run stopped', {
          channel,
          error: error instanceof Error ? error.message : String(error),
        });
      }
      return run;
    }),
  );
  const outcome: AnswerRunOutcome = {
    channels: runs,
    sent: runs.reduce((n, r) => n + r.sent, 0),
    failed: runs.reduce((n, r) => n + r.failed, 0),
    deferred: runs.reduce((n, r) => n + r.deferred, 0),
  };
  if (outcome.sent + outcome.failed + outcome.deferred > 0)
    deps.logger.info('public answers posted', { ...outcome });
  if (errors.length > 0) throw errors[0];
  return outcome;
}

interface RunState {
  holds: Map<AnswerChannel, number>;
  deadline: number;
  budget: { left: number };
}

async function serveChannel(
  deps: AnswerPosterDeps,
  config: AnswerPostConfig,
  state: RunState,
  run: ChannelRun,
): Promise<void> {
  const { channel } = run;
  const heldUntil = state.holds.get(channel);
  if (heldUntil !== undefined && heldUntil > deps.clock.now().getTime()) {
    run.skipped = `rate limited until ${new Date(heldUntil).toISOString()}`;
    return;
  }
  state.holds.delete(channel);
  if (state.budget.left <= 0) return;
  const queued = await deps.queue.listQueued(channel, config.perRun);
  if (queued.length === 0) return;

  const choice = await deps.posterFor(channel);
  if ('unavailable' in choice && choice.transient) {
    run.skipped = choice.unavailable;
    deps.logger.warn('public answers: channel not served this run', { channel, reason: choice.unavailable });
    return;
  }

  for (const answer of queued) {
    if (state.budget.left <= 0) break;
    if (Date.now() + config.timeoutMs + SETTLE_MARGIN_MS > state.deadline) {
      run.skipped = 'the run reached its deadline';
      break;
    }
    const now = deps.clock.now();
    const claim = await deps.attempts.claim(answer, now, config.leaseMs);
    if (claim.kind !== 'claimed') continue;
    state.budget.left -= 1;
    const result =
      'unavailable' in choice
        ? await settle(deps, answer, { status: 'failed', reason: choice.unavailable })
        : await answerOne(deps, config, choice.poster, answer, claim, state);
    if (result === 'hold') {
      run.deferred += 1;
      run.skipped = `rate limited until ${new Date(state.holds.get(channel) ?? 0).toISOString()}`;
      break;
    }
    run[result] += 1;
  }
}

async function answerOne(
  deps: AnswerPosterDeps,
  config: AnswerPostConfig,
  poster: PublicReplyPoster,
  answer: SocialAnswer,
  claim: Extract<Claim, { kind: 'claimed' }>,
  state: RunState,
): Promise<Settled> {
  const tip = await deps.tips.getTip(answer.tipId);
  const message = tip?.messages?.find((m) => m.id === answer.messageId);
  // A settle cut short after the thread was written: finish it with what the thread says.
  if (message?.status === 'sent' || message?.status === 'failed')
    return settle(deps, answer, {
      status: message.status,
      providerMessageId: message.providerMessageId,
      reason: message.reason,
    });
  if (!tip || !message)
    return settle(deps, answer, { status: 'failed', reason: "the answer is no longer in the tip's thread" });

  const request: ReplyRequest = {
    inReplyTo: answer.inReplyTo,
    text: answerText(answer.channel, answer.text, tip.reference),
    key: answerKey(answer),
    alertId: answer.alertId,
    ...(claim.lostAttemptAt !== undefined ? { lostAttemptAt: claim.lostAttemptAt } : {}),
  };
  const sent = (providerMessageId: string) =>
    settle(deps, answer, {
      status: 'sent',
      providerMessageId,
      reason: poster.mode === 'sandbox' ? sandboxNote(answer.channel) : undefined,
    });

  if (claim.lostAttemptAt !== undefined) {
    // An earlier run claimed it and never settled it: it may have posted. Ask, where the provider can be asked.
    const looked = await look(poster, request, config);
    // Graph could not be asked: the claim is kept, so it runs out and a later run asks again, until the attempts
    // are spent.
    if (looked === 'unreachable')
      return claim.attempts >= config.maxAttempts
        ? settle(deps, answer, { status: 'failed', reason: OUTCOME_UNKNOWN })
        : 'deferred';
    if (looked) return sent(looked.providerMessageId);
    if (!poster.findIsConclusive) {
      deps.logger.warn('public answer: an earlier attempt was lost', {
        channel: answer.channel,
        tipId: answer.tipId,
        messageId: answer.messageId,
        attemptedAt: claim.lostAttemptAt,
      });
      return settle(deps, answer, { status: 'failed', reason: OUTCOME_UNKNOWN });
    }
  }

  if (!request.text)
    return settle(deps, answer, {
      status: 'failed',
      reason: `nothing of the answer fits on ${answer.channel}`,
    });

  let error: ProviderError;
  try {
    const accepted = await poster.reply(request, AbortSignal.timeout(config.timeoutMs));
    return sent(accepted.providerMessageId);
  } catch (caught) {
    error = asProviderError(caught);
  }

  const log = {
    channel: answer.channel,
    tipId: answer.tipId,
    messageId: answer.messageId,
    kind: error.kind,
    reason: error.reason,
  };
  if (error.kind === 'permanent') return settle(deps, answer, { status: 'failed', reason: error.reason });
  if (error.kind === 'retryable') {
    if (error.retryAfterMs !== undefined) {
      // The provider's limit: nothing more to this channel until it resets; the answer waits, its attempt uncounted.
      state.holds.set(answer.channel, deps.clock.now().getTime() + error.retryAfterMs);
      await deps.attempts.release(answer, claim.attemptId, { uncount: true });
      deps.logger.warn('public answer: rate limited, left queued', {
        ...log,
        retryAfterMs: error.retryAfterMs,
      });
      return 'hold';
    }
    if (claim.attempts >= config.maxAttempts)
      return settle(deps, answer, {
        status: 'failed',
        reason: `${error.reason} (gave up after ${claim.attempts} attempts)`,
      });
    await deps.attempts.release(answer, claim.attemptId);
    deps.logger.warn('public answer: refused for now, left queued', log);
    return 'deferred';
  }

  // Unknown outcome: the request may have been posted, and may still be, after our time limit. Where the provider
  // can be asked, the claim is kept: once its lease runs out, a later run looks for the reply (above).
  deps.logger.warn('public answer: outcome unknown', log);
  if (poster.find) return 'deferred';
  return settle(deps, answer, { status: 'failed', reason: OUTCOME_UNKNOWN });
}

/** The reply already posted, undefined when the provider says there is none, `unreachable` when it could not say. */
async function look(
  poster: PublicReplyPoster,
  request: ReplyRequest,
  config: AnswerPostConfig,
): Promise<{ providerMessageId: string } | undefined | 'unreachable'> {
  if (!poster.find) return undefined;
  try {
    return await poster.find(request, AbortSignal.timeout(config.timeoutMs));
  } catch {
    return 'unreachable';
  }
}

/** Records the outcome in the thread and takes the answer off the queue, then audits it. */
async function settle(
  deps: AnswerPosterDeps,
  answer: SocialAnswer,
  outcome: { status: 'sent' | 'failed'; providerMessageId?: string | undefined; reason?: string | undefined },
): Promise<'sent' | 'failed'> {
  const at = deps.clock.now().toISOString();
  await deps.queue.settle(answer, {
    status: outcome.status,
    at,
    ...(outcome.providerMessageId ? { providerMessageId: outcome.providerMessageId } : {}),
    ...(outcome.reason ? { reason: outcome.reason } : {}),
  });
  await deps.tips.appendAudit({
    tipId: answer.tipId,
    at,
    actor: ACTOR,
    action: 'tip.replied',
    detail: `public reply on ${answer.channel}: ${outcome.status}${outcome.reason ? ` (${outcome.reason})` : ''}`,
  });
  if (outcome.status === 'failed')
    deps.logger.warn('public answer failed', {
      channel: answer.channel,
      tipId: answer.tipId,
      messageId: answer.messageId,
      reason: outcome.reason,
    });
  return outcome.status;
}
