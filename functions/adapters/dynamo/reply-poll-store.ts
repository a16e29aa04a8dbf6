/**
 * The replies pollers' memory on the single table: one partition per polled channel, read whole by one Query per
 * run. It stays small on its own: every item expires (TTL) a little after the provider's search window, and an
 * item is written again only while its alert is live, so a partition holds the posts and conversations of the
 * last week or so, and the rate-limit hold.
 *
 *   REPLIES#<channel> / POST#<post id>   a post of a live alert, resolved to its conversation (or to none: gone);
 *                                        Telegram: a channel post and its thread in the discussion group
 *   REPLIES#<channel> / CONV#<id>        where the search of one conversation stands (since id, page token), or
 *                                        the read of one post (its position; functions/replies/thread-poller.ts);
 *                                        Telegram: CONV#updates, the bot's getUpdates offset
 *   REPLIES#<channel> / HOLD             no search before `until` (the rate limit is spent)
 *
 * Plain puts: one poller runs per channel at a time (a two-minute schedule, a one-minute timeout, no retries), and
 * a put that lost a race would at worst make a reply be read twice, which the intake drops by its id.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Channel } from '../../../schemas/alert';
import type { ConversationCursor, ReplyPollState, ReplyPollStore, WatchedPost } from '../../replies/model';
import { type DynamoContext, inParallel, queryAll } from './context';
import { stripKeys } from './keys';

export const REPLIES_PREFIX = 'REPLIES#';
const POST_PREFIX = 'POST#';
const CONVERSATION_PREFIX = 'CONV#';
const HOLD_SK = 'HOLD';

/** Kept a day past X's 7-day recent-search window, after which nothing about a conversation can be searched. */
export const REPLY_POLL_TTL_SECONDS = 8 * 24 * 3600;

export const repliesPk = (channel: Channel): string => `${REPLIES_PREFIX}${channel}`;

const expiresAt = (at: Date) => Math.floor(at.getTime() / 1000) + REPLY_POLL_TTL_SECONDS;

export class DynamoReplyPollStore implements ReplyPollStore {
  constructor(private readonly ctx: DynamoContext) {}

  async load(channel: Channel): Promise<ReplyPollState> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': repliesPk(channel) },
      ConsistentRead: true,
    });
    const state: ReplyPollState = { posts: new Map(), conversations: new Map() };
    // DynamoDB deletes expired items within a few days, not at once: what has expired is gone already.
    const now = Math.floor(Date.now() / 1000);
    for (const item of items) {
      if (typeof item.expiresAt === 'number' && item.expiresAt < now) continue;
      const sk = String(item.SK);
      const { expiresAt: _ttl, ...rest } = stripKeys<Record<string, unknown>>(item);
      if (sk.startsWith(POST_PREFIX)) {
        const post = rest as unknown as WatchedPost;
        state.posts.set(post.postId, post);
      } else if (sk.startsWith(CONVERSATION_PREFIX)) {
        const cursor = rest as unknown as ConversationCursor;
        state.conversations.set(cursor.conversationId, cursor);
      } else if (sk === HOLD_SK && typeof item.until === 'string') {
        state.holdUntil = item.until;
      }
    }
    return state;
  }

  async putPosts(posts: readonly WatchedPost[], at: Date): Promise<void> {
    // One PutItem each: a run resolves a handful of new posts, and the poller needs no batch (or delete) grant.
    await inParallel(posts, 4, (post) =>
      this.ctx.client.send(
        new PutCommand({
          TableName: this.ctx.tableName,
          Item: {
            PK: repliesPk(post.channel),
            SK: `${POST_PREFIX}${post.postId}`,
            ...withoutUndefined(post),
            expiresAt: expiresAt(at),
          },
        }),
      ),
    );
  }

  async putConversation(cursor: ConversationCursor, at: Date): Promise<void> {
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: {
          PK: repliesPk(cursor.channel),
          SK: `${CONVERSATION_PREFIX}${cursor.conversationId}`,
          ...withoutUndefined(cursor),
          ...(cursor.pending ? { pending: withoutUndefined(cursor.pending) } : {}),
          expiresAt: expiresAt(at),
        },
      }),
    );
  }

  async hold(channel: Channel, until: string, at: Date): Promise<void> {
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: { PK: repliesPk(channel), SK: HOLD_SK, until, expiresAt: expiresAt(at) },
      }),
    );
  }
}

function withoutUndefined<T extends object>(value: T): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
