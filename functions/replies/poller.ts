/**
 * The replies poller: every two minutes (an EventBridge schedule on AWS, a timer in the embedded mode) it searches
 * the conversations of the agency's live X posts for replies newer than the last one it handed over, and hands each
 * new reply to TipIntake once. Meta's channels need none of this: their comments arrive by webhook
 * (functions/api/meta-webhook.ts). Networks that cannot be searched by conversation are read post by post
 * (./thread-poller.ts: Mastodon, Bluesky, Threads) or as a queue (./telegram-poller.ts); ./compose.ts runs them all.
 *
 * What one run costs is bounded, whatever the number of live alerts. X's limit for GET /2/tweets/search/recent is
 * 300 requests per 15 minutes per user (OAuth 1.0a user context, which Herald uses; 450 per app with a bearer
 * token). A run makes at most `requestsPerRun` requests (20 by default); at one run every 2 minutes, 7.5 runs fit
 * in a 15-minute window: 7.5 × 20 = 150 searches, half the per-user limit, leaving the other half to anything else
 * the agency runs on the same account. A page holds up to 100 replies, so a window reads up to 15,000 replies, and
 * `since_id` makes each reply cost one read (X bills reads per post on pay-per-use plans). When more conversations
 * are live than a run can afford, the least recently searched go first, so each is searched every
 * ceil(conversations / 20) runs: 40 live conversations are each searched every 4 minutes. The run also stops when
 * X says fewer than `reserveRequests` remain, and after a 429 no run searches before X's reset time.
 *
 * Each reply is handed over once: a conversation's `sinceId` advances only after every page of a search was read
 * and every reply on it handed over; a run cut short resumes from the saved page token. What can repeat (a page
 * whose hand-over failed halfway, a page token X no longer takes) is deduplicated by the intake on the reply's id.
 * X's recent search stops 30 seconds before the request by default, so a reply still being indexed is not skipped
 * past by a newer one.
 */
import type { Channel } from '../../schemas/alert';
import type { AlertStore, BulkStore, Clock, TipIntake } from '../ports';
import type { LoggerLike } from '../shared/logger';
import { findLivePosts } from './live-posts';
import {
  type ConversationCursor,
  compareIds,
  type FoundReply,
  newestOf,
  RateLimitedError,
  type ReplyPollStore,
  type ReplySource,
  StaleCursorError,
  type WatchedPost,
} from './model';
import { beginPoll, singleFlight } from './poll-run';

export interface ReplyPollConfig {
  /** Requests to the provider per run, lookups included (see the arithmetic above). */
  requestsPerRun: number;
  /** Replies per search page (X: 10 to 100). */
  maxResults: number;
  /** Stop when the provider says this many calls or fewer remain in its window. */
  reserveRequests: number;
  /** An alert's posts are watched while its newest post is younger than this. */
  watchHours: number;
  /** How far back the provider searches (X recent search: 7 days; a little less, to stay inside it). */
  searchWindowHours: number;
}

export const DEFAULT_REPLY_POLL_CONFIG: ReplyPollConfig = {
  requestsPerRun: 20,
  maxResults: 100,
  reserveRequests: 15,
  watchHours: 48,
  searchWindowHours: 7 * 24 - 1,
};

export interface ReplyPollerDeps {
  store: Pick<AlertStore, 'listAlerts'> & Pick<BulkStore, 'listReceiptsPage'>;
  polls: ReplyPollStore;
  /** The channel's source, or why it cannot be polled now (no credentials: nothing is read at all). */
  source: () => Promise<{ ready: ReplySource } | { unavailable: string }>;
  intake: TipIntake;
  clock: Clock;
  logger: LoggerLike;
  config?: Partial<ReplyPollConfig> | undefined;
}

export interface PollOutcome {
  channel: Channel;
  /** Why nothing was searched: no credentials, or the rate limit's hold. */
  skipped?: string | undefined;
  requests: number;
  conversationsSearched: number;
  /** Replies given to the intake (new tips and ones it already had). */
  handedOver: number;
  ownSkipped: number;
  /** Why the run ended before every live conversation was searched. */
  stoppedBy?: 'budget' | 'rate-limit' | 'deadline' | undefined;
  /** Replies read but not handed over: Telegram comments under a post whose thread is not known. */
  dropped?: number | undefined;
  /** Posts whose read failed this run (./thread-poller.ts); they wait for their next turn. */
  failed?: number | undefined;
}

const LOOKUP_BATCH = 100;

/** A poller for one channel; `pollOnce` runs one pass (never two at once in this process). */
export function createReplyPoller(deps: ReplyPollerDeps) {
  const config = { ...DEFAULT_REPLY_POLL_CONFIG, ...deps.config };
  // The account the credentials act for, asked once per process (per warm container on AWS).
  let account: { id: string; username: string } | undefined;

  async function run(deadline?: number): Promise<PollOutcome> {
    const begun = await beginPoll(deps, {
      channel: (source) => (source ? source.channel : 'x'),
      requestsPerRun: config.requestsPerRun,
      deadline,
    });
    if ('skipped' in begun) return begun.skipped;
    const { now, outcome, source, state, spend, hold } = begun;
    const { channel } = outcome;

    const save = async (cursor: ConversationCursor) => {
      await deps.polls.putConversation(cursor, now);
      state.conversations.set(cursor.conversationId, cursor);
    };

    try {
      // ---- which conversations are live: the live alerts' posts, each resolved once to its conversation
      const live = await findLivePosts(deps.store, {
        channel,
        now,
        watchHours: config.watchHours,
        searchWindowHours: config.searchWindowHours,
      });
      const unresolved = [...new Set(live.filter((p) => !state.posts.has(p.postId)).map((p) => p.postId))];
      for (let i = 0; i < unresolved.length; i += LOOKUP_BATCH) {
        if (!spend()) break;
        const batch = unresolved.slice(i, i + LOOKUP_BATCH);
        const found = await source.conversationsOf(batch);
        const posts: WatchedPost[] = batch.map((postId) => ({
          channel,
          postId,
          alertId: live.find((p) => p.postId === postId)!.alertId,
          conversationId: found.get(postId),
          resolvedAt: now.toISOString(),
        }));
        await deps.polls.putPosts(posts, now);
        for (const post of posts) state.posts.set(post.postId, post);
      }
      const due = new Map<string, ConversationCursor>();
      for (const post of live) {
        const conversationId = state.posts.get(post.postId)?.conversationId;
        if (!conversationId || due.has(conversationId)) continue;
        due.set(
          conversationId,
          state.conversations.get(conversationId) ?? {
            channel,
            conversationId,
            alertId: post.alertId,
            createdAt: now.toISOString(),
          },
        );
      }
      // Never searched first, then the longest waiting.
      const order = [...due.values()].sort(
        (a, b) =>
          (a.lastPolledAt ?? '').localeCompare(b.lastPolledAt ?? '') ||
          compareIds(a.conversationId, b.conversationId),
      );
      if (order.length === 0) return outcome;

      if (!account) {
        if (!spend()) return outcome;
        account = await source.account();
      }
      const self = account;

      // ---- search each conversation, page by page, until the budget, the deadline or the rate limit says stop
      conversations: for (const cursor of order) {
        let searched = false;
        for (;;) {
          if (!spend()) break conversations;
          if (!searched) outcome.conversationsSearched += 1;
          searched = true;
          let page: Awaited<ReturnType<ReplySource['searchReplies']>>;
          try {
            page = await source.searchReplies({
              conversationId: cursor.conversationId,
              sinceId: cursor.sinceId,
              nextToken: cursor.pending?.nextToken,
              maxResults: config.maxResults,
            });
          } catch (error) {
            if (error instanceof StaleCursorError) {
              // Start this conversation again from its last complete search; the intake drops what repeats.
              deps.logger.warn('page token refused; the search starts again', {
                channel,
                conversationId: cursor.conversationId,
              });
              await save({ ...cursor, pending: undefined, lastPolledAt: now.toISOString() });
              continue conversations;
            }
            throw error;
          }
          for (const reply of page.replies) {
            if (reply.authorId !== undefined && reply.authorId === self.id) {
              // The agency's own posts in the thread: Herald's updates reply to the original.
              outcome.ownSkipped += 1;
              continue;
            }
            await handOver(channel, cursor, reply);
            outcome.handedOver += 1;
          }
          const newest = newestOf(cursor.pending?.newestId, page.newestId);
          const next: ConversationCursor = page.nextToken
            ? { ...cursor, pending: { nextToken: page.nextToken, newestId: newest } }
            : { ...cursor, sinceId: newestOf(cursor.sinceId, newest), pending: undefined };
          next.lastPolledAt = now.toISOString();
          await save(next);
          Object.assign(cursor, next);
          if (page.rateLimit && page.rateLimit.remaining <= config.reserveRequests) {
            await hold(page.rateLimit.resetAt);
            break conversations;
          }
          if (!page.nextToken) break;
        }
      }
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error;
      await hold(error.resetAt);
    }
    deps.logger.info('replies polled', { ...outcome });
    return outcome;
  }

  const runJoined = singleFlight(run);

  async function handOver(channel: Channel, cursor: ConversationCursor, reply: FoundReply) {
    const result = await deps.intake.receiveSocialReply({
      channel,
      externalId: reply.id,
      // The conversation's root is the agency's post the thread hangs from: its providerMessageId.
      inReplyTo: reply.conversationId || cursor.conversationId,
      author: reply.username ? `@${reply.username}` : `@${reply.authorId ?? 'unknown'}`,
      text: reply.text,
      at: reply.createdAt ?? deps.clock.now().toISOString(),
    });
    if ('ignored' in result)
      deps.logger.info('reply not taken as a tip', { channel, externalId: reply.id, reason: result.ignored });
  }

  return {
    /**
     * One pass. `deadline` (epoch milliseconds) stops it from starting requests past that instant: the Lambda's
     * remaining time, less a margin. A pass already running in this process is joined, not repeated.
     */
    pollOnce(options: { deadline?: number } = {}): Promise<PollOutcome> {
      return runJoined(options.deadline);
    },
  };
}

export type ReplyPoller = ReturnType<typeof createReplyPoller>;
