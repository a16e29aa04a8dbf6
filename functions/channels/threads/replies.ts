/**
 * Reading Threads lists, and residents' replies to the agency's posts for the tips path. Threads has no webhook for
 * replies that Herald could subscribe to without Meta's app review for it, so replies are read:
 * `GET /{media-id}/replies` gives the top-level replies under a post (nested ones answer a resident, not the
 * alert), `fields=id,text,username,timestamp,is_reply_owned_by_me`, paged with `paging.cursors.after`.
 *
 * The agency's own replies are left out: every update and cancel is a reply to the previous version's post
 * (./client.ts), so the first post's replies hold the agency's update. `username` is given only for public
 * profiles; a reply without one is still a tip, from an unnamed resident.
 */
import {
  type CredentialsOptions,
  GraphClient as Graph,
  type GraphClient,
  type GraphParams,
  withCredentials,
} from '../../adapters/providers/graph';
import type { SecretSource } from '../../ports';
import type { LoggerLike } from '../../shared/logger';

/** Shared by the client (./client.ts, which exports them) and the reader here. */
export const THREADS_BASE_URL = 'https://graph.threads.net';
export const THREADS_API_VERSION = 'v1.0';
/** The secret's name, which is also what the alarm's log line calls the channel. */
export const THREADS_SECRET_NAME = 'threads';

interface ListPage<T> {
  data?: T[];
  paging?: { cursors?: { after?: string }; next?: string };
}

/**
 * Reads a Threads list page by page through its `after` cursor, until `stop` says an item is the last one needed,
 * the list ends, or `maxPages` were read. `complete`: the list ended or `stop` was satisfied; `after`: where the
 * next read goes on from (the rest of the list, or what is added to it later).
 */
export async function readPages<T>(
  graph: GraphClient,
  path: string,
  params: GraphParams,
  call: { token: string; signal: AbortSignal },
  maxPages: number,
  options: { stop?: (item: T) => boolean; after?: string | undefined } = {},
): Promise<{ items: T[]; complete: boolean; after?: string | undefined }> {
  const items: T[] = [];
  let after = options.after;
  for (let page = 0; page < maxPages; page++) {
    const answer = await graph.get<ListPage<T>>(path, { ...params, after }, call);
    for (const item of answer.data ?? []) {
      items.push(item);
      if (options.stop?.(item)) return { items, complete: true };
    }
    after = answer.paging?.cursors?.after ?? after;
    // A page that names no next one is the last; its `after` is where later items will start.
    if (!answer.paging?.next || !answer.data?.length) return { items, complete: true, after };
  }
  return { items, complete: false, after };
}

/** Threads writes offsets without a colon (`+0000`), which not every date parser takes. */
export const parseThreadsTime = (raw: string | undefined) =>
  raw ? Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN;

/** A resident's reply under one of the agency's posts. */
export interface ThreadsReply {
  /** The reply's media id: one tip per id, however often it is read. */
  id: string;
  /** The agency's post it answers: that post's providerMessageId. */
  inReplyTo: string;
  /** `@handle`, or undefined when the profile is not public. */
  author?: string | undefined;
  text: string;
  /** ISO 8601, as Threads dates it (undefined when it does not). */
  at?: string | undefined;
}

export interface ThreadsRepliesPage {
  replies: ThreadsReply[];
  /** Every reply up to now was read; if not, the next call with `after` reads on. */
  complete: boolean;
  /** Where the next call goes on from: the rest, or the replies written since. */
  after?: string | undefined;
}

export interface ThreadsReplyReaderOptions {
  secrets: SecretSource;
  baseUrl?: string | undefined;
  apiVersion?: string | undefined;
  logger?: LoggerLike | undefined;
  /** Pages read per call (each one request); 4 by default. */
  maxPages?: number | undefined;
}

interface ReplyItem {
  id?: string;
  text?: string;
  username?: string;
  timestamp?: string;
  is_reply_owned_by_me?: boolean;
}

export function createThreadsReplyReader(options: ThreadsReplyReaderOptions) {
  const graph = new Graph({
    baseUrl: options.baseUrl ?? THREADS_BASE_URL,
    version: options.apiVersion ?? THREADS_API_VERSION,
  });
  const maxPages = Math.max(1, options.maxPages ?? 4);
  const credentials: CredentialsOptions<{ accessToken: string }> = {
    secrets: options.secrets,
    channel: THREADS_SECRET_NAME,
    logger: options.logger,
    parse: ({ accessToken }) => (accessToken ? { accessToken } : undefined),
    token: (c) => c.accessToken,
  };

  return {
    /**
     * Residents' replies under `mediaId`, oldest first, from `after` (a cursor an earlier call returned) on.
     * Failures leave as ProviderErrors (../../adapters/providers/graph.ts): throttling retryable, a refused token
     * re-read once and then permanent.
     */
    replies(mediaId: string, signal: AbortSignal, after?: string): Promise<ThreadsRepliesPage> {
      return withCredentials(credentials, async (c) => {
        const read = await readPages<ReplyItem>(
          graph,
          `${mediaId}/replies`,
          // Oldest first, so a cursor carried to the next call only ever moves forward.
          { fields: 'id,text,username,timestamp,is_reply_owned_by_me', reverse: 'false' },
          { token: c.accessToken, signal },
          maxPages,
          { after },
        );
        const replies = read.items
          .filter((r): r is ReplyItem & { id: string } => Boolean(r.id) && r.is_reply_owned_by_me !== true)
          .map((r) => {
            const at = parseThreadsTime(r.timestamp);
            return {
              id: r.id,
              inReplyTo: mediaId,
              ...(r.username ? { author: `@${r.username}` } : {}),
              text: r.text ?? '',
              ...(Number.isFinite(at) ? { at: new Date(at).toISOString() } : {}),
            };
          });
        return { replies, complete: read.complete, ...(read.after ? { after: read.after } : {}) };
      });
    },

    /**
     * The agency's own replies directly under `mediaId`, newest first, from the first page (one request): where a
     * public answer whose outcome was lost is looked for (functions/replies/social-answers.ts).
     */
    ownReplies(mediaId: string, signal: AbortSignal): Promise<{ id: string; text: string }[]> {
      return withCredentials(credentials, async (c) => {
        const read = await readPages<ReplyItem>(
          graph,
          `${mediaId}/replies`,
          { fields: 'id,text,is_reply_owned_by_me', reverse: 'true' },
          { token: c.accessToken, signal },
          1,
        );
        return read.items
          .filter((r): r is ReplyItem & { id: string } => Boolean(r.id) && r.is_reply_owned_by_me === true)
          .map((r) => ({ id: r.id, text: r.text ?? '' }));
      });
    },
  };
}
