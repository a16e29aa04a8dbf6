/**
 * The Telegram replies poller. Comments on the agency's channel posts are messages of its linked discussion group,
 * which the bot reads with getUpdates (functions/channels/telegram/replies.ts): one queue for the whole bot, not a
 * read per post. So a run reads pages of that queue, oldest first, until it is empty or the run's budget is spent:
 *
 * - a page's comments are handed to TipIntake before its offset is saved, and the offset confirms them to Telegram
 *   only on the next read: a run that dies in between reads them again (the intake keeps one tip per comment id);
 * - a comment names its thread (the post's automatic forward in the group), and the thread's post is learned from
 *   the forward, seen once when the post went out, or from a comment replying to the forward itself. Those
 *   thread → post pairs are kept in the poller's partition (REPLIES#telegram, one item per post, refreshed while
 *   comments arrive) and passed back to every read, so a comment answering a comment days later still finds its post;
 * - a comment whose thread was never learned (a post from before Herald read this bot, or one whose forward was
 *   confirmed by another program) is logged, without its text, and dropped;
 * - after a 429 the channel is held until Telegram's `retry_after`.
 *
 * Cost: one getUpdates a page of up to 100 updates (every group message and every forward, not only comments), at
 * most `pagesPerRun` a run. Telegram keeps an unconfirmed update 24 hours: runs at least that often lose nothing.
 * Comments on posts in other chats, edits and reactions are not read.
 */
import type { TelegramComment, TelegramReplies } from '../channels/telegram/replies';
import type { Clock, TipIntake } from '../ports';
import type { LoggerLike } from '../shared/logger';
import type { ReplyPollStore, WatchedPost } from './model';
import { beginPoll, singleFlight } from './poll-run';
import type { PollOutcome } from './poller';
import { holdOf } from './thread-poller';

export interface TelegramPollConfig {
  /** getUpdates calls per run (each up to 100 updates). */
  pagesPerRun: number;
  timeoutMs: number;
  /** A refusal that names no wait holds the channel this long. */
  defaultHoldMs: number;
}

export const DEFAULT_TELEGRAM_POLL_CONFIG: TelegramPollConfig = {
  pagesPerRun: 10,
  timeoutMs: 10_000,
  defaultHoldMs: 60_000,
};

/** The queue's position in the poller's partition: a cursor item no post can be named. */
export const TELEGRAM_QUEUE = 'updates';

export interface TelegramPollerDeps {
  polls: ReplyPollStore;
  source: () => Promise<{ ready: TelegramReplies } | { unavailable: string }>;
  intake: TipIntake;
  clock: Clock;
  logger: LoggerLike;
  config?: Partial<TelegramPollConfig> | undefined;
}

export function createTelegramPoller(deps: TelegramPollerDeps) {
  const config = { ...DEFAULT_TELEGRAM_POLL_CONFIG, ...deps.config };
  const channel = 'telegram' as const;

  async function run(deadline?: number): Promise<PollOutcome> {
    const begun = await beginPoll(deps, {
      channel,
      requestsPerRun: config.pagesPerRun,
      deadline,
      counters: { dropped: 0 },
    });
    if ('skipped' in begun) return begun.skipped;
    const { now, outcome, source: reader, state, spend, hold } = begun;

    // thread (`<group>:<forward>`) → the channel post's providerMessageId, as kept: one WatchedPost per post.
    const threads: Record<string, string> = {};
    for (const post of state.posts.values())
      if (post.conversationId) threads[post.conversationId] = post.postId;
    const queue = state.conversations.get(TELEGRAM_QUEUE);
    let offset = queue?.position ? Number(queue.position) : undefined;
    const active = new Set<string>();

    try {
      for (;;) {
        if (!spend()) break;
        const page = await reader.readComments(
          { offset, threads, limit: 100 },
          AbortSignal.timeout(config.timeoutMs),
        );
        const learned = Object.entries(page.threads).filter(([thread, post]) => threads[thread] !== post);
        if (learned.length > 0) {
          await deps.polls.putPosts(
            learned.map(([thread, post]) => watched(thread, post)),
            now,
          );
          for (const [thread, post] of learned) threads[thread] = post;
        }
        for (const comment of page.comments) await handOver(comment, outcome, active);
        outcome.conversationsSearched += 1;
        if (page.nextOffset !== undefined && page.nextOffset !== offset) {
          offset = page.nextOffset;
          // Saved once this page's comments are stored: the next read passes it, and Telegram forgets them.
          await deps.polls.putConversation(
            {
              channel,
              conversationId: TELEGRAM_QUEUE,
              position: String(offset),
              lastPolledAt: now.toISOString(),
              createdAt: queue?.createdAt ?? now.toISOString(),
            },
            now,
          );
        }
        if (!page.more) break;
      }
    } catch (error) {
      const until = holdOf(error, deps.clock.now().getTime(), config.defaultHoldMs);
      if (until === undefined) throw error;
      await hold(until);
    }
    // Threads that had comments are kept for another 8 days from now: a live discussion does not expire.
    const refresh = [...active].filter((thread) => threads[thread]);
    if (refresh.length > 0)
      await deps.polls.putPosts(
        refresh.map((thread) => watched(thread, threads[thread]!)),
        now,
      );
    deps.logger.info('replies polled', { ...outcome });
    return outcome;

    function watched(thread: string, post: string): WatchedPost {
      return { channel, postId: post, conversationId: thread, resolvedAt: now.toISOString() };
    }
  }

  const runJoined = singleFlight(run);

  async function handOver(comment: TelegramComment, outcome: PollOutcome, active: Set<string>) {
    if (!comment.postId) {
      outcome.dropped = (outcome.dropped ?? 0) + 1;
      deps.logger.warn('a comment under a post whose thread is not known was dropped', {
        channel,
        threadId: comment.threadId,
      });
      return;
    }
    active.add(comment.threadId);
    const result = await deps.intake.receiveSocialReply({
      channel,
      externalId: comment.id,
      inReplyTo: comment.postId,
      // A resident without a @username is shown as no one in particular: the numeric id is theirs alone.
      author: comment.username ? `@${comment.username}` : '',
      text: comment.text,
      at: comment.createdAt,
    });
    outcome.handedOver += 1;
    if ('ignored' in result)
      deps.logger.info('reply not taken as a tip', {
        channel,
        externalId: comment.id,
        reason: result.ignored,
      });
  }

  return {
    pollOnce(options: { deadline?: number | undefined } = {}): Promise<PollOutcome> {
      return runJoined(options.deadline);
    },
  };
}
