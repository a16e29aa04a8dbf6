/**
 * X engagement: `GET /2/tweets?ids=<up to 100>&tweet.fields=public_metrics`, one request for up to 100 of the
 * agency's posts, through twitter-api-v2 with the OAuth 1.0a user context the X provider posts with (./client.ts),
 * so the reads count against the agency account's own limit (900 lookups per 15 minutes per user) and need no
 * second credential.
 *
 * What X reports: `public_metrics` holds retweet_count, reply_count, like_count, quote_count, bookmark_count and,
 * since X made view counts public, impression_count; it is readable with any authentication and for posts of any
 * age. `non_public_metrics` (url_link_clicks, user_profile_clicks, and an impression_count too) needs the owner's
 * user context and stops 30 days after posting; it is not asked for: Herald counts clicks on its own links, and the
 * public impression count is the one the post shows. Reposts are retweets plus quotes (a quote puts the post before
 * the quoter's followers as a retweet does). A post X no longer has comes back under `errors` as not found: gone.
 */
import { Agent as HttpAgent } from 'node:http';
import {
  ApiResponseError,
  type ITwitterApiClientPlugin,
  TwitterApi,
  type TwitterResponse,
} from 'twitter-api-v2';
import {
  countOf,
  type EngagementCounts,
  type MetricsBatch,
  type MetricsReader,
  RATE_LIMIT_RESERVE,
  RateLimitedError,
  sumOf,
} from '../../impact/model';
import { type Clock, type SecretSource, systemClock } from '../../ports';
import { X_API_BASE_URL, X_SECRET_KEYS } from './client';

export interface XMetricsOptions {
  secrets: SecretSource;
  /** The API's origin; the real API unless a test points it at a fake. */
  baseUrl?: string | undefined;
  timeoutMs?: number | undefined;
  clock?: Clock | undefined;
}

/** X's lookup takes at most 100 ids. */
export const X_METRICS_BATCH = 100;
/** X's windows are 15 minutes: the wait when a 429 names no reset. */
const DEFAULT_WINDOW_MS = 15 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

type Credentials = Record<(typeof X_SECRET_KEYS)[number], string>;

interface LookupAnswer {
  data?: { id?: unknown; public_metrics?: Record<string, unknown> }[];
  errors?: { resource_id?: unknown; value?: unknown; type?: unknown; title?: unknown }[];
}

function credentialsOf(secret: Record<string, string> | undefined): Credentials | undefined {
  if (!secret || X_SECRET_KEYS.some((key) => !secret[key])) return undefined;
  return Object.fromEntries(X_SECRET_KEYS.map((key) => [key, secret[key]!])) as Credentials;
}

/** X's public_metrics as Herald's four numbers. */
export function xCounts(metrics: Record<string, unknown> | undefined): EngagementCounts {
  if (!metrics) return {};
  return {
    impressions: countOf(metrics.impression_count),
    reposts: sumOf(countOf(metrics.retweet_count), countOf(metrics.quote_count)),
    replies: countOf(metrics.reply_count),
    likes: countOf(metrics.like_count),
  };
}

export function createXMetricsReader(options: XMetricsOptions): MetricsReader {
  const base = (options.baseUrl ?? X_API_BASE_URL).replace(/\/+$/, '');
  const prefix = `${base}/2/`;
  // The client calls https.request; an HTTP agent lets it speak plain HTTP to a local fake (as ./client.ts does).
  const httpAgent = base.startsWith('http:') ? new HttpAgent({ keepAlive: true }) : undefined;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // After a 401 the next read re-reads the secret: it was most likely rotated under a warm function.
  let refresh = false;

  return {
    channel: 'x',
    batchSize: X_METRICS_BATCH,

    async unavailable() {
      const secret = await options.secrets.get('x');
      if (!secret) return 'no credentials for x';
      const missing = X_SECRET_KEYS.filter((key) => !secret[key]);
      return missing.length > 0 ? `incomplete credentials for x: missing ${missing.join(', ')}` : undefined;
    },

    async read(postIds, signal) {
      const ids = [...new Set(postIds)].filter((id) => /^\d{1,19}$/.test(id));
      const batch: MetricsBatch = { counts: new Map(), gone: postIds.filter((id) => !ids.includes(id)) };
      if (ids.length === 0) return batch;
      if (ids.length > X_METRICS_BATCH) throw new RangeError('X looks up at most 100 posts a request');
      const credentials = credentialsOf(
        await options.secrets.get('x', refresh ? { refresh: true } : undefined),
      );
      refresh = false;
      if (!credentials) throw new Error('X is not configured: the secret "x" lacks credentials');
      const plugin: ITwitterApiClientPlugin = {
        onBeforeRequest({ requestOptions }) {
          requestOptions.signal = signal ?? AbortSignal.timeout(timeoutMs);
        },
      };
      const api = new TwitterApi(credentials, { plugins: [plugin], ...(httpAgent ? { httpAgent } : {}) });
      let response: TwitterResponse<LookupAnswer>;
      try {
        response = await api.get<LookupAnswer>(
          'tweets',
          { ids: ids.join(','), 'tweet.fields': 'public_metrics' },
          { prefix, fullResponse: true },
        );
      } catch (error) {
        if (error instanceof ApiResponseError) {
          if (error.code === 429)
            throw new RateLimitedError(
              error.rateLimit?.reset
                ? error.rateLimit.reset * 1000
                : clock.now().getTime() + DEFAULT_WINDOW_MS,
            );
          if (error.code === 401) refresh = true;
          const detail = error.data?.detail ?? error.data?.title ?? '';
          throw new Error(
            redact(`X ${error.code} on GET /2/tweets${detail ? `: ${detail}` : ''}`, credentials),
          );
        }
        const text = error instanceof Error ? error.message : String(error);
        throw new Error(redact(`X not reached on GET /2/tweets: ${text}`, credentials));
      }
      const answer = response.data ?? {};
      for (const post of answer.data ?? [])
        if (typeof post.id === 'string' && ids.includes(post.id))
          batch.counts.set(post.id, xCounts(post.public_metrics));
      for (const error of answer.errors ?? []) {
        const id = String(error.resource_id ?? error.value ?? '');
        // Only "not found" means gone; "not authorized" (a protected account) may pass.
        if (ids.includes(id) && /not[- ]found/i.test(`${error.type ?? ''} ${error.title ?? ''}`))
          batch.gone.push(id);
      }
      const limit = response.rateLimit;
      // The lookup's window is shared with the replies poller's lookups: stop with a reserve left to it.
      if (limit && Number.isFinite(limit.reset) && limit.remaining <= RATE_LIMIT_RESERVE)
        batch.holdUntil = limit.reset * 1000;
      return batch;
    },
  };
}

function redact(text: string, credentials: Credentials): string {
  let out = text;
  for (const value of Object.values(credentials))
    if (value.length >= 4) out = out.split(value).join('[redacted]');
  return out;
}
