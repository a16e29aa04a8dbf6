/**
 * The per-post replies poller, for networks that cannot be searched by conversation as X can (./poller.ts): each
 * live post of an alert (found as X's are, by functions/replies/live-posts.ts) is read on its own, one request a
 * read, with a position kept per post so that the next read asks only for what is newer where the network allows it:
 *
 *   Mastodon  GET /api/v1/statuses/:id/context per post; the position is the newest status id handed over
 *   Bluesky   app.bsky.feed.getPostThread per thread (a thread's posts share one read: the root's); the position is
 *             the newest `indexedAt` seen, less an overlap, since the AppView answers the whole tree every time
 *   Threads   GET /{media-id}/replies, oldest first; the position is the list's `after` cursor
 *
 * A run is bounded like X's: at most `requestsPerRun` reads, none started past the caller's deadline, the least
 * recently read post first (never read, then the longest waiting), so with more live posts than a run affords each
 * is read every ceil(posts / requestsPerRun) runs. After a 429 (or a network's remaining allowance down to
 * `reserveRequests`) the channel is held in the ReplyPollStore until the network's reset, and no run reads before.
 *
 * Each reply is handed to TipIntake, which keeps one tip per reply id: what a position cannot exclude (Bluesky's
 * overlap, a run cut short after the hand-over and before the save) repeats there and costs a conditional write.
 * A post's position is saved after its replies were handed over, so nothing is skipped. A post's read that fails
 * (a 5xx, a refused token) is logged and the post waits its next turn; a run whose every read failed throws, so the
 * replies function's alarm sees a broken token or network.
 */
import type { Channel } from '../../schemas/alert';
import { type Clock, ProviderError, type SocialReply, type TipIntake } from '../ports';
import type { LoggerLike } from '../shared/logger';
import { findLivePosts, type LivePost } from './live-posts';
import { type ConversationCursor, RateLimitedError, type RateLimitState, type ReplyPollStore } from './model';
import { beginPoll, singleFlight } from './poll-run';
import type { PollOutcome, ReplyPollerDeps } from './poller';

export interface ThreadPollConfig {
  /** Reads per run (each one request to the network). */
  requestsPerRun: number;
  /** Stop when the network says this many calls or fewer remain in its window. */
  reserveRequests: number;
  /** An alert's posts are watched while its newest post is younger than this. */
  watchHours: number;
  /** Alerts older than this are not looked at (the store's memory of a post lasts 8 days). */
  searchWindowHours: number;
  /** Each read's time limit. */
  timeoutMs: number;
  /** A throttle that names no reset holds the channel this long. */
  defaultHoldMs: number;
}

export const DEFAULT_THREAD_POLL_CONFIG: ThreadPollConfig = {
  requestsPerRun: 20,
  reserveRequests: 15,
  watchHours: 48,
  searchWindowHours: 7 * 24 - 1,
  timeoutMs: 10_000,
  defaultHoldMs: 15 * 60_000,
};

/** One read of one thread: the residents' replies found, in the intake's terms. */
export interface ThreadRead {
  /** `externalId` is what the network's client can reply to; `inReplyTo` the agency post's providerMessageId. */
  replies: Omit<SocialReply, 'channel'>[];
  /** Where the next read goes on from; unchanged when absent. */
  position?: string | undefined;
  /** The read stopped at a page's end with more to read now (Threads' pages). */
  more?: boolean | undefined;
  /** The post is deleted or hidden: it is not read again. */
  gone?: boolean | undefined;
  rateLimit?: RateLimitState | undefined;
}

/** What the per-post poller asks of a network. `read` makes exactly one request. */
export interface ThreadSource {
  readonly channel: Channel;
  /** The key a post is read under; posts that share one are read once (Bluesky: its thread's root). */
  threadOf?(postId: string): string;
  read(
    request: {
      thread: string;
      /** The live posts read under `thread` (at least one). */
      posts: readonly LivePost[];
      /** Every live post of the channel, by providerMessageId: replies under another one are that one's. */
      live: ReadonlySet<string>;
      position?: string | undefined;
    },
    signal: AbortSignal,
  ): Promise<ThreadRead>;
}

export interface ThreadPollerDeps {
  channel: Channel;
  store: ReplyPollerDeps['store'];
  polls: ReplyPollStore;
  /** The network's source, or why it cannot be polled now (no credentials: nothing is read at all). */
  source: () => Promise<{ ready: ThreadSource } | { unavailable: string }>;
  intake: TipIntake;
  clock: Clock;
  logger: LoggerLike;
  config?: Partial<ThreadPollConfig> | undefined;
}

/** The wait a network's refusal asks for, when it is a rate limit; undefined for any other error. */
export function holdOf(error: unknown, now: number, defaultHoldMs: number): number | undefined {
  if (error instanceof RateLimitedError) return error.resetAt;
  if (error instanceof ProviderError && error.kind === 'retryable') {
    if (error.retryAfterMs !== undefined) return now + error.retryAfterMs;
    // Graph's throttles (codes 4, 17, 32, 613) name no reset.
    if (/limit|throttl|too many/i.test(error.reason)) return now + defaultHoldMs;
  }
  return undefined;
}

export function createThreadPoller(deps: ThreadPollerDeps) {
  const config = { ...DEFAULT_THREAD_POLL_CONFIG, ...deps.config };
  const { channel } = deps;

  async function run(deadline?: number): Promise<PollOutcome> {
    const begun = await beginPoll(deps, {
      channel,
      requestsPerRun: config.requestsPerRun,
      deadline,
      counters: { failed: 0 },
    });
    if ('skipped' in begun) return begun.skipped;
    const { now, outcome, source, state, spend, hold } = begun;

    const posts = await findLivePosts(deps.store, {
      channel,
      now,
      watchHours: config.watchHours,
      searchWindowHours: config.searchWindowHours,
    });
    const live = new Set(posts.map((p) => p.postId));
    const threads = new Map<string, LivePost[]>();
    for (const post of posts) {
      const thread = source.threadOf?.(post.postId) ?? post.postId;
      threads.set(thread, [...(threads.get(thread) ?? []), post]);
    }
    const due = [...threads.entries()]
      .map(([thread, members]) => ({
        members,
        cursor: state.conversations.get(thread) ?? {
          channel,
          conversationId: thread,
          alertId: members[0]!.alertId,
          createdAt: now.toISOString(),
        },
      }))
      .filter(({ cursor }) => !cursor.gone)
      // Never read first, then the longest waiting.
      .sort(
        (a, b) =>
          (a.cursor.lastPolledAt ?? '').localeCompare(b.cursor.lastPolledAt ?? '') ||
          a.cursor.conversationId.localeCompare(b.cursor.conversationId),
      );

    let firstError: unknown;
    reading: for (const { members, cursor } of due) {
      let counted = false;
      for (;;) {
        if (!spend()) break reading;
        if (!counted) outcome.conversationsSearched += 1;
        counted = true;
        let read: ThreadRead;
        try {
          const remaining = deadline === undefined ? config.timeoutMs : deadline - deps.clock.now().getTime();
          const signal = AbortSignal.timeout(Math.max(1000, Math.min(config.timeoutMs, remaining)));
          read = await source.read(
            { thread: cursor.conversationId, posts: members, live, position: cursor.position },
            signal,
          );
        } catch (error) {
          const until = holdOf(error, deps.clock.now().getTime(), config.defaultHoldMs);
          if (until !== undefined) {
            await hold(until);
            break reading;
          }
          firstError ??= error;
          outcome.failed = (outcome.failed ?? 0) + 1;
          deps.logger.warn('replies of a post not read; it waits for its next turn', {
            channel,
            alertId: cursor.alertId,
            error: error instanceof Error ? error.message : String(error),
          });
          const next = { ...cursor, lastPolledAt: now.toISOString() };
          await save(next);
          continue reading;
        }
        for (const reply of read.replies) {
          await handOver(reply);
          outcome.handedOver += 1;
        }
        const next: ConversationCursor = {
          ...cursor,
          position: read.position ?? cursor.position,
          ...(read.gone ? { gone: true } : {}),
          lastPolledAt: now.toISOString(),
        };
        await save(next);
        Object.assign(cursor, next);
        if (read.rateLimit && read.rateLimit.remaining <= config.reserveRequests) {
          await hold(read.rateLimit.resetAt);
          break reading;
        }
        if (!read.more || read.gone) break;
      }
    }
    if (firstError !== undefined && outcome.failed === outcome.requests) {
      deps.logger.error('replies poll failed on every post read', { ...outcome });
      throw firstError;
    }
    deps.logger.info('replies polled', { ...outcome });
    return outcome;

    async function save(cursor: ConversationCursor) {
      await deps.polls.putConversation(cursor, now);
      state.conversations.set(cursor.conversationId, cursor);
    }
  }

  const runJoined = singleFlight(run);

  async function handOver(reply: Omit<SocialReply, 'channel'>) {
    const result = await deps.intake.receiveSocialReply({ channel, ...reply });
    if ('ignored' in result)
      deps.logger.info('reply not taken as a tip', {
        channel,
        externalId: reply.externalId,
        reason: result.ignored,
      });
  }

  return {
    /** One pass, no request started past `deadline` (epoch ms); a pass already running in this process is joined. */
    pollOnce(options: { deadline?: number | undefined } = {}): Promise<PollOutcome> {
      return runJoined(options.deadline);
    },
  };
}

export type ThreadPoller = ReturnType<typeof createThreadPoller>;
