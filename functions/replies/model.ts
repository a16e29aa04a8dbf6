/**
 * The replies pollers' own ports and records: what they keep between runs (which posts they watch, where each
 * conversation's read stopped, when the rate limit frees) and what they ask of a channel that must be polled.
 * X is searched by conversation (`ReplySource`, ./poller.ts); Mastodon, Bluesky and Threads are read post by post
 * (./thread-poller.ts), Telegram as one queue of updates (./telegram-poller.ts); all keep their memory in the same
 * store. (They sit here, beside their only user, rather than in
 * functions/ports.ts, which other work is changing at the same time; they can move there as they are.)
 */
import type { Channel } from '../../schemas/alert';

/** One of the agency's posts of a live alert, resolved once to the conversation it belongs to. */
export interface WatchedPost {
  channel: Channel;
  /** The post's id at the provider: a receipt's providerMessageId. */
  postId: string;
  /** Absent for a Telegram channel post learned from its forward, before any alert is known to own it. */
  alertId?: string | undefined;
  /** The conversation's root (the post itself, or the post it threads under); absent when the post is gone. */
  conversationId?: string | undefined;
  resolvedAt: string;
}

/** Where the search of one conversation stands. */
export interface ConversationCursor {
  channel: Channel;
  conversationId: string;
  /** The alert whose post it is (absent for Telegram's queue position, which is no post's). */
  alertId?: string | undefined;
  /** The newest reply handed over: the next search asks only for newer ones (`since_id`). */
  sinceId?: string | undefined;
  /**
   * A search whose later pages are still to read: pages run newest to oldest, so `sinceId` moves to `newestId` only
   * once the last page is read, and the next run resumes from `nextToken` (or starts again if X refuses it).
   */
  pending?: { nextToken: string; newestId?: string | undefined } | undefined;
  /**
   * Networks read post by post (./thread-poller.ts): where the next read goes on from, in the network's own terms
   * (Mastodon: the newest status id handed over; Threads: the list's `after` cursor; Bluesky: the newest `indexedAt`
   * seen); Telegram's queue: the next getUpdates offset.
   */
  position?: string | undefined;
  /** The post is deleted or hidden: it is not read again. */
  gone?: boolean | undefined;
  /** When it was last searched; the least recently searched go first when the budget is short. */
  lastPolledAt?: string | undefined;
  createdAt: string;
}

export interface ReplyPollState {
  /** No search before this instant: the provider's rate limit is spent until then. */
  holdUntil?: string | undefined;
  posts: Map<string, WatchedPost>;
  conversations: Map<string, ConversationCursor>;
}

/** The poller's memory, one small partition per channel that expires with the provider's search window. */
export interface ReplyPollStore {
  /** Everything the poller keeps for `channel` (one Query). */
  load(channel: Channel): Promise<ReplyPollState>;
  putPosts(posts: readonly WatchedPost[], at: Date): Promise<void>;
  putConversation(cursor: ConversationCursor, at: Date): Promise<void>;
  /** Stops every search of `channel` until `until` (a 429, or the remaining calls down to the reserve). */
  hold(channel: Channel, until: string, at: Date): Promise<void>;
}

/** A reply found by a search, as the provider reports it. */
export interface FoundReply {
  id: string;
  conversationId: string;
  authorId?: string | undefined;
  /** The author's handle without `@`, from the search's expansion. */
  username?: string | undefined;
  text: string;
  createdAt?: string | undefined;
}

export interface RateLimitState {
  limit?: number | undefined;
  remaining: number;
  /** Epoch milliseconds. */
  resetAt: number;
}

export interface SearchPage {
  replies: FoundReply[];
  newestId?: string | undefined;
  nextToken?: string | undefined;
  rateLimit?: RateLimitState | undefined;
}

/** The provider said 429: nothing more until `resetAt` (epoch milliseconds). */
export class RateLimitedError extends Error {
  constructor(readonly resetAt: number) {
    super(`rate limited until ${new Date(resetAt).toISOString()}`);
    this.name = 'RateLimitedError';
  }
}

/** The provider refused a page token (expired, or from another query): the search starts again from `sinceId`. */
export class StaleCursorError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StaleCursorError';
  }
}

/** What the poller needs of a channel it has to poll. Each method makes exactly one request to the provider. */
export interface ReplySource {
  readonly channel: Channel;
  /** The account the credentials act for: its own posts in a conversation are not replies. */
  account(): Promise<{ id: string; username: string }>;
  /** The conversation each post belongs to (up to 100 ids); a post that is gone maps to undefined. */
  conversationsOf(postIds: readonly string[]): Promise<Map<string, string | undefined>>;
  /** One page of a conversation's replies newer than `sinceId`, newest first. */
  searchReplies(request: {
    conversationId: string;
    sinceId?: string | undefined;
    nextToken?: string | undefined;
    maxResults: number;
  }): Promise<SearchPage>;
}

/** Snowflake ids are decimal strings of up to 19 digits: compared as numbers, never as text. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

export const newestOf = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : compareIds(a, b) >= 0 ? a : b;
