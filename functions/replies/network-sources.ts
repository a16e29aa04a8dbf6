/**
 * The per-post poller's sources (./thread-poller.ts) over the networks' tested reply readers
 * (functions/channels/<network>/replies.ts). Each turns what its reader found into the intake's terms:
 *
 * - `externalId` in the form the network's client replies to, so an officer's public answer threads under the
 *   resident's own reply (./social-answers.ts): Mastodon `<status id>@<host>`, Bluesky `<uri>|<cid>|<root uri>|<root
 *   cid>` (a reply names its thread's root), Threads the reply's media id;
 * - `inReplyTo` the agency post's providerMessageId exactly as its receipt holds it, so the intake finds the alert.
 *
 * What each read costs and leaves unread is said at each source.
 */
import type { Channel } from '../../schemas/alert';
import { decodePostId, encodePostId } from '../channels/bluesky/client';
import { createBlueskyReplyReader } from '../channels/bluesky/replies';
import { parseMastodonMessageId } from '../channels/mastodon/client';
import { createMastodonReplyReader } from '../channels/mastodon/replies';
import { createThreadsReplyReader } from '../channels/threads/replies';
import type { Clock, SecretSource } from '../ports';
import { ProviderError, systemClock } from '../ports';
import type { LoggerLike } from '../shared/logger';
import type { ThreadRead, ThreadSource } from './thread-poller';

/**
 * Why a network cannot be polled: no secret, or one without every key its client needs. Nothing is read then (the
 * embedded mode's sandboxed channels, a network the agency does not use).
 */
export async function missingCredentials(
  secrets: SecretSource,
  name: Channel,
  keys: readonly string[],
): Promise<string | undefined> {
  const secret = await secrets.get(name);
  const present = (key: string) => typeof secret?.[key] === 'string' && secret[key].trim() !== '';
  const missing = keys.filter((key) => !present(key));
  if (missing.length === 0) return undefined;
  return !secret || !Object.keys(secret).some(present)
    ? `no credentials for ${name}`
    : `incomplete credentials for ${name}: missing ${missing.join(', ')}`;
}

export interface SourceOptions {
  secrets: SecretSource;
  /** The network's API origin: a test's or the embedded mode's fake when set. */
  baseUrl?: string | undefined;
  clock?: Clock | undefined;
  logger?: LoggerLike | undefined;
}

/**
 * Mastodon: one GET /api/v1/statuses/:id/context per live status, which answers every reply below it however deep;
 * the reader leaves out the agency's own statuses (its updates, its answers). The position is the newest status id
 * handed over, so a reply is handed over once. A reply belongs to the nearest watched status above it: a status's
 * context also holds the replies under its later updates, which those updates' own reads hand over. Read without
 * `read:statuses` on the token, the instance shows 60 replies per status and no private mentions.
 */
export function mastodonThreadSource(options: SourceOptions): ThreadSource {
  const reader = createMastodonReplyReader({
    secrets: options.secrets,
    baseUrl: options.baseUrl,
    clock: options.clock,
  });
  return {
    channel: 'mastodon',
    async read({ thread, live, position }): Promise<ThreadRead> {
      const page = await reader.repliesTo(thread, { sinceId: position });
      if (!page) return { replies: [], gone: true };
      const target = parseMastodonMessageId(thread)!;
      const watched = new Set([...live].map((id) => parseMastodonMessageId(id)?.statusId));
      const inPage = new Set(page.replies.map((r) => r.id));
      const ours = new Set<string>();
      const replies: ThreadRead['replies'] = [];
      // Oldest first: a reply's parent is decided before it.
      for (const r of page.replies) {
        const parent = r.inReplyToId;
        const belongs =
          parent === target.statusId ||
          ours.has(parent) ||
          // Under an answer of the agency's, or a reply handed over in an earlier read: still this post's.
          (!inPage.has(parent) && !watched.has(parent));
        if (!belongs) continue;
        ours.add(r.id);
        replies.push({
          externalId: target.host ? `${r.id}@${target.host}` : r.id,
          inReplyTo: thread,
          author: `@${r.acct}`,
          text: r.text,
          at: r.createdAt || (options.clock ?? systemClock).now().toISOString(),
        });
      }
      return { replies, position: page.newestId ?? position, rateLimit: page.rateLimit };
    },
  };
}

/**
 * Re-reads a thread's replies indexed this long before the newest one seen: the AppView indexes replies side by
 * side, so one indexed a moment before another may appear in a later answer. What repeats, the intake drops.
 */
export const BLUESKY_INDEX_OVERLAP_MS = 10 * 60_000;

/**
 * Bluesky: one app.bsky.feed.getPostThread per thread, on its root (the first version's post), through the public
 * AppView, which needs no session: the answer is the whole tree to 10 levels, the agency's updates and the replies
 * under them included, so a thread's posts cost one read. There is no cursor: replies indexed more than
 * BLUESKY_INDEX_OVERLAP_MS before the newest one seen are not handed over again; the rest are, and the intake drops
 * them (one conditional write each). Replies whose authors hide from logged-out viewers are not shown, and deeper
 * than 10 levels below the root is not read.
 */
export function blueskyThreadSource(options: Omit<SourceOptions, 'secrets'>): ThreadSource {
  const reader = createBlueskyReplyReader({ baseUrl: options.baseUrl, clock: options.clock });
  return {
    channel: 'bluesky',
    threadOf(postId) {
      const refs = decodePostId(postId);
      return refs ? encodePostId(refs.root) : postId;
    },
    async read({ thread, posts, live, position }, signal): Promise<ThreadRead> {
      const found = await reader.repliesTo(thread, signal);
      if (found.gone) return { replies: [], gone: true };
      const root = decodePostId(thread)?.root;
      // Under a post of the agency's that is no receipt (an officer's answer): the thread's own post.
      const fallback = posts.find((p) => p.postId === thread)?.postId ?? posts[0]!.postId;
      const since = position ? Date.parse(position) - BLUESKY_INDEX_OVERLAP_MS : Number.NEGATIVE_INFINITY;
      let newest = position;
      const replies: ThreadRead['replies'] = [];
      for (const r of found.replies) {
        const indexed = r.indexedAt ? Date.parse(r.indexedAt) : Number.NaN;
        if (Number.isFinite(indexed) && indexed <= since) continue;
        if (r.indexedAt && (!newest || Date.parse(r.indexedAt) > Date.parse(newest))) newest = r.indexedAt;
        replies.push({
          externalId: encodePostId({ uri: r.externalId, cid: r.cid }, root),
          inReplyTo: live.has(r.inReplyTo) ? r.inReplyTo : fallback,
          author: r.author,
          text: r.text,
          at: r.at || (options.clock ?? systemClock).now().toISOString(),
        });
      }
      return { replies, position: newest };
    },
  };
}

/**
 * Threads: GET /{media-id}/replies per live post, oldest first from the `after` cursor the last read ended at, one
 * page (up to 25 replies) a read; a full page reads on in the same run while the budget lasts. Only the replies
 * directly under the post: a resident answering another resident is not read. The agency's own replies (its updates,
 * its answers) are left out by the reader.
 */
export function threadsThreadSource(options: SourceOptions): ThreadSource {
  const reader = createThreadsReplyReader({
    secrets: options.secrets,
    baseUrl: options.baseUrl,
    logger: options.logger,
    maxPages: 1,
  });
  return {
    channel: 'threads',
    async read({ thread, position }, signal): Promise<ThreadRead> {
      let page: Awaited<ReturnType<typeof reader.replies>>;
      try {
        page = await reader.replies(thread, signal, position);
      } catch (error) {
        // Graph's "Object with ID … does not exist": the agency deleted the post; nothing more comes under it.
        if (
          error instanceof ProviderError &&
          error.kind === 'permanent' &&
          /\(code 100, subcode 33\b/.test(error.reason)
        )
          return { replies: [], gone: true };
        throw error;
      }
      return {
        replies: page.replies.map((r) => ({
          externalId: r.id,
          inReplyTo: thread,
          author: r.author ?? '',
          text: r.text,
          at: r.at ?? (options.clock ?? systemClock).now().toISOString(),
        })),
        position: page.after ?? position,
        more: !page.complete,
      };
    },
  };
}
