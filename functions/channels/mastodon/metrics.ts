/**
 * Mastodon engagement: `GET /api/v1/statuses/:id`, one request per status, on the instance the secret names
 * (./client.ts): `replies_count`, `reblogs_count` (boosts: the reposts) and `favourites_count`. Mastodon counts no
 * views, so impressions stay absent. The counts are what the agency's instance knows: boosts and favourites from
 * other servers arrive as those servers federate them, so they lag a little and can undercount.
 *
 * The posting token (`write:statuses write:media`) may lack `read:statuses`; Mastodon then refuses it (403), though
 * a public status reads without a token. After a 403 the reader reads without it, as the replies reader does
 * (./replies.ts). Limits: `X-RateLimit-Remaining` / `-Reset` (ISO 8601) on every answer, 300 calls per 5 minutes
 * per account (per address without a token); the reader stops with a reserve left, and a 429 holds until the reset.
 */
import {
  countOf,
  type MetricsBatch,
  type MetricsReader,
  RATE_LIMIT_RESERVE,
  RateLimitedError,
} from '../../impact/model';
import { type Clock, type SecretSource, systemClock } from '../../ports';
import { MASTODON_SECRET_NAME, parseMastodonMessageId, readMastodonCredentials } from './client';

export interface MastodonMetricsOptions {
  secrets: SecretSource;
  /** For tests only: where to send the requests instead of the secret's `instanceUrl`. */
  baseUrl?: string | undefined;
  timeoutMs?: number | undefined;
  clock?: Clock | undefined;
}

/** Mastodon's default window is 5 minutes: the wait when a 429 names no reset. */
const DEFAULT_WINDOW_MS = 5 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

export function createMastodonMetricsReader(options: MastodonMetricsOptions): MetricsReader {
  const clock = options.clock ?? systemClock;
  let withToken = true;
  let refresh = false;

  return {
    channel: 'mastodon',
    batchSize: 1,

    async unavailable() {
      try {
        readMastodonCredentials(await options.secrets.get(MASTODON_SECRET_NAME));
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : 'Mastodon is not configured';
      }
    },

    async read(postIds, signal) {
      const batch: MetricsBatch = { counts: new Map(), gone: [] };
      const [id] = postIds;
      if (!id) return batch;
      if (postIds.length > 1) throw new RangeError('Mastodon reads one status per request');
      const current = readMastodonCredentials(
        await options.secrets.get(MASTODON_SECRET_NAME, refresh ? { refresh: true } : undefined),
      );
      refresh = false;
      const target = parseMastodonMessageId(id);
      // Another instance's id names some other status here, if any: it cannot be the agency's.
      if (
        !target ||
        (target.host !== undefined && target.host !== new URL(current.instanceUrl).host.toLowerCase())
      )
        return { ...batch, gone: [id] };
      const origin = (options.baseUrl ?? current.instanceUrl).replace(/\/+$/, '');
      const get = (token: boolean) =>
        fetch(`${origin}/api/v1/statuses/${encodeURIComponent(target.statusId)}`, {
          headers: {
            accept: 'application/json',
            'user-agent': 'Herald public alerts',
            ...(token ? { authorization: `Bearer ${current.accessToken}` } : {}),
          },
          redirect: 'manual',
          signal: signal ?? AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        });
      let response = await get(withToken);
      if (response.status === 403 && withToken) {
        withToken = false;
        response = await get(false);
      }
      const remaining = Number(response.headers.get('x-ratelimit-remaining') ?? Number.NaN);
      const resetAt = Date.parse(response.headers.get('x-ratelimit-reset') ?? '');
      if (response.status === 429)
        throw new RateLimitedError(
          Number.isFinite(resetAt) ? resetAt : clock.now().getTime() + DEFAULT_WINDOW_MS,
        );
      if (response.status === 404) return { ...batch, gone: [id] };
      const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (response.status !== 200 || !body) {
        if (response.status === 401) refresh = true;
        const detail = typeof body?.error === 'string' ? body.error : '';
        throw new Error(
          `Mastodon ${response.status} ${detail}`.trim().split(current.accessToken).join('[redacted]'),
        );
      }
      batch.counts.set(id, {
        reposts: countOf(body.reblogs_count),
        replies: countOf(body.replies_count),
        likes: countOf(body.favourites_count),
      });
      if (Number.isFinite(remaining) && Number.isFinite(resetAt) && remaining <= RATE_LIMIT_RESERVE)
        batch.holdUntil = resetAt;
      return batch;
    },
  };
}
