/**
 * Bluesky engagement: `app.bsky.feed.getPosts?uris=<up to 25>` on the public AppView, one request for up to 25 posts,
 * without a session (the counts are public, and the reads then cost the agency's account nothing): `likeCount`,
 * `repostCount` plus `quoteCount` (the reposts), `replyCount`. Bluesky counts no views, so impressions stay absent.
 * A post that is deleted is simply missing from the answer: gone. Limits: the AppView's `ratelimit-remaining` /
 * `ratelimit-reset` (epoch seconds); the reader stops with a reserve left, and a 429 holds until the reset.
 */
import {
  countOf,
  type MetricsBatch,
  type MetricsReader,
  RATE_LIMIT_RESERVE,
  RateLimitedError,
  sumOf,
} from '../../impact/model';
import { type Clock, systemClock } from '../../ports';
import { decodePostId } from './client';
import { BLUESKY_PUBLIC_APPVIEW } from './replies';

export interface BlueskyMetricsOptions {
  /** The AppView (`/xrpc/…` is appended); Bluesky's public one unless a test points it at a fake. */
  baseUrl?: string | undefined;
  timeoutMs?: number | undefined;
  clock?: Clock | undefined;
  /** Whether the agency posts to Bluesky at all (its secret is filled in): nothing is read otherwise. */
  configured: () => Promise<boolean>;
}

/** getPosts takes at most 25 URIs. */
export const BLUESKY_METRICS_BATCH = 25;
const DEFAULT_WINDOW_MS = 5 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

interface PostView {
  uri?: unknown;
  likeCount?: unknown;
  repostCount?: unknown;
  quoteCount?: unknown;
  replyCount?: unknown;
}

export function createBlueskyMetricsReader(options: BlueskyMetricsOptions): MetricsReader {
  const base = (options.baseUrl ?? BLUESKY_PUBLIC_APPVIEW).replace(/\/+$/, '');
  const clock = options.clock ?? systemClock;

  return {
    channel: 'bluesky',
    batchSize: BLUESKY_METRICS_BATCH,

    async unavailable() {
      return (await options.configured()) ? undefined : 'no credentials for bluesky';
    },

    async read(postIds, signal) {
      const batch: MetricsBatch = { counts: new Map(), gone: [] };
      // The providerMessageId is `<uri>|<cid>[|<root>]` (./client.ts); the AppView is asked by URI.
      const byUri = new Map<string, string>();
      for (const id of new Set(postIds)) {
        const uri = decodePostId(id)?.parent.uri;
        if (uri) byUri.set(uri, id);
        else batch.gone.push(id);
      }
      if (byUri.size === 0) return batch;
      if (byUri.size > BLUESKY_METRICS_BATCH) throw new RangeError('getPosts takes at most 25 posts');
      const url = new URL(`${base}/xrpc/app.bsky.feed.getPosts`);
      for (const uri of byUri.keys()) url.searchParams.append('uris', uri);
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: signal ?? AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        redirect: 'error',
      });
      const reset = Number(response.headers.get('ratelimit-reset') ?? Number.NaN);
      const remaining = Number(response.headers.get('ratelimit-remaining') ?? Number.NaN);
      if (response.status === 429)
        throw new RateLimitedError(
          Number.isFinite(reset) && reset > 0 ? reset * 1000 : clock.now().getTime() + DEFAULT_WINDOW_MS,
        );
      const body = (await response.json().catch(() => undefined)) as
        | { posts?: PostView[]; error?: unknown; message?: unknown }
        | undefined;
      if (!response.ok || !Array.isArray(body?.posts)) {
        const detail = [body?.error, body?.message].filter((v) => typeof v === 'string').join(': ');
        throw new Error(`Bluesky getPosts ${response.status}${detail ? ` ${detail}` : ''}`);
      }
      for (const post of body.posts) {
        const id = typeof post.uri === 'string' ? byUri.get(post.uri) : undefined;
        if (!id) continue;
        batch.counts.set(id, {
          reposts: sumOf(countOf(post.repostCount), countOf(post.quoteCount)),
          replies: countOf(post.replyCount),
          likes: countOf(post.likeCount),
        });
      }
      for (const id of byUri.values()) if (!batch.counts.has(id)) batch.gone.push(id);
      if (Number.isFinite(remaining) && Number.isFinite(reset) && remaining <= RATE_LIMIT_RESERVE)
        batch.holdUntil = reset * 1000;
      return batch;
    },
  };
}
