/**
 * The Instagram provider (Instagram API with Facebook Login, over the Graph API): check the account's
 * publishing quota, create an image container, wait until Instagram has fetched and processed the image,
 * publish it.
 *
 * Updates and cancels are new posts. The API cannot reply to a feed post with another post, and a comment
 * under the original would not show in anyone's feed; so each version is its own post, its caption already
 * marked as an update or cancel by the renderer (functions/core/render), and `inReplyTo` is not used.
 */

import {
  GraphClient,
  GraphNoAnswerError,
  HOUR_MS,
  MAX_RETRY_AFTER_MS,
  withCredentials,
} from '../../adapters/providers/graph';
import type { ChannelProvider, Clock, OutboundMessage, ProviderAccepted, SecretSource } from '../../ports';
import { ProviderError, systemClock } from '../../ports';
import type { LoggerLike } from '../../shared/logger';

export interface InstagramCredentials {
  igUserId: string;
  accessToken: string;
}

export interface InstagramProviderOptions {
  secrets: SecretSource;
  /** Graph's origin; the tests point it at a local fake. */
  baseUrl?: string | undefined;
  /** Waits between container status checks; rejects when the signal aborts. */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  pollIntervalMs?: number | undefined;
  maxPolls?: number | undefined;
  logger?: LoggerLike | undefined;
  clock?: Clock | undefined;
}

/**
 * A JPEG container is usually FINISHED within a second or two. Four checks 1.5 s apart keep the whole call
 * inside the channel's default 10-second provider timeout; a container still processing after that is left
 * (it expires unpublished after 24 hours) and the next attempt starts a new one.
 */
export const DEFAULT_POLL_INTERVAL_MS = 1500;
export const DEFAULT_MAX_POLLS = 4;
/** When the quota is used up and the API does not show when it frees. */
export const QUOTA_FALLBACK_RETRY_MS = HOUR_MS;
const MIN_QUOTA_RETRY_MS = 60_000;

interface PublishingLimit {
  data?: { quota_usage?: number; config?: { quota_total?: number; quota_duration?: number } }[];
}
interface MediaPage {
  data?: { id?: string; timestamp?: string }[];
  paging?: { next?: string };
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Instagram writes offsets without a colon (`+0000`), which not every date parser takes. */
const parseTimestamp = (raw: string | undefined) =>
  raw ? Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2')) : Number.NaN;

export function createInstagramProvider(options: InstagramProviderOptions): ChannelProvider {
  const graph = new GraphClient({ baseUrl: options.baseUrl });
  const sleep = options.sleep ?? abortableSleep;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const maxPolls = Math.max(1, options.maxPolls ?? DEFAULT_MAX_POLLS);
  const clock = options.clock ?? systemClock;

  /**
   * When a slot in the rolling window frees: the oldest of the account's posts inside the window leaves it
   * `duration` after it was posted. The media list also holds posts made in the app, which the quota does not
   * count, so this is never later than the truth — at worst one early, cheap check. Unknown → an hour.
   */
  const quotaFreesIn = async (
    credentials: InstagramCredentials,
    quota: { total: number; durationS: number },
    signal: AbortSignal,
  ): Promise<number> => {
    try {
      const page = await graph.get<MediaPage>(
        `${credentials.igUserId}/media`,
        { fields: 'timestamp', limit: Math.min(Math.max(quota.total, 1), 100) },
        { token: credentials.accessToken, signal },
      );
      const now = clock.now().getTime();
      const windowMs = quota.durationS * 1000;
      const all = (page.data ?? []).map((m) => parseTimestamp(m.timestamp));
      const inWindow = all.filter((t) => Number.isFinite(t) && t > now - windowMs);
      // Every post on this page is inside the window and there are more: the oldest may be on a later page.
      if (inWindow.length === 0 || (inWindow.length === all.length && page.paging?.next))
        return QUOTA_FALLBACK_RETRY_MS;
      const freesAt = Math.min(...inWindow) + windowMs;
      return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_QUOTA_RETRY_MS, freesAt - now));
    } catch {
      return QUOTA_FALLBACK_RETRY_MS;
    }
  };

  const checkQuota = async (credentials: InstagramCredentials, signal: AbortSignal) => {
    const limit = await graph.get<PublishingLimit>(
      `${credentials.igUserId}/content_publishing_limit`,
      { fields: 'quota_usage,config' },
      { token: credentials.accessToken, signal },
    );
    const entry = limit.data?.[0];
    const used = entry?.quota_usage;
    const total = entry?.config?.quota_total;
    // An answer without numbers blocks nothing: media_publish refuses on its own when the quota is spent.
    if (typeof used !== 'number' || typeof total !== 'number' || used < total) return;
    const durationS = entry?.config?.quota_duration ?? 86_400;
    const retryAfterMs = await quotaFreesIn(credentials, { total, durationS }, signal);
    throw new ProviderError(
      'retryable',
      `Instagram publishing limit reached (${used} of ${total} posts in ${Math.round(durationS / 3600)} hours)`,
      retryAfterMs,
    );
  };

  const waitUntilFinished = async (
    credentials: InstagramCredentials,
    containerId: string,
    signal: AbortSignal,
  ) => {
    for (let poll = 1; ; poll++) {
      const container = await graph.get<{ status_code?: string; status?: string }>(
        containerId,
        { fields: 'status_code,status' },
        { token: credentials.accessToken, signal },
      );
      const status = container.status_code;
      if (status === 'FINISHED') return;
      if (status !== undefined && status !== 'IN_PROGRESS')
        throw new ProviderError(
          'permanent',
          `Instagram did not accept the image: container ${status}${container.status ? ` (${container.status})` : ''}`,
        );
      if (poll >= maxPolls)
        throw new ProviderError(
          'retryable',
          `Instagram was still processing the image after ${maxPolls} checks; nothing was published`,
        );
      try {
        await sleep(pollIntervalMs, signal);
      } catch {
        throw new GraphNoAnswerError('the deadline passed while Instagram processed the image', false);
      }
    }
  };

  return {
    channel: 'instagram',
    mode: 'real',
    async send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted> {
      if (message.test)
        throw new ProviderError('permanent', 'a Test or Exercise alert must not reach the public account');
      const content = message.content;
      if (content.channel !== 'instagram')
        throw new ProviderError('permanent', `the Instagram provider was given ${content.channel} content`);
      if (!content.image?.url) throw new ProviderError('permanent', 'an Instagram post needs an image');

      return withCredentials<InstagramCredentials, ProviderAccepted>(
        {
          secrets: options.secrets,
          channel: 'instagram',
          logger: options.logger,
          parse: ({ igUserId, accessToken }) =>
            igUserId && accessToken ? { igUserId, accessToken } : undefined,
          token: (c) => c.accessToken,
        },
        async (credentials) => {
          await checkQuota(credentials, signal);

          // A container is private until published: creating one twice, or abandoning one, shows nobody anything.
          const container = await graph.post<{ id?: string }>(
            `${credentials.igUserId}/media`,
            {
              image_url: content.image.url,
              caption: content.caption,
              // Alt text on image posts is part of the Graph versions Herald pins (from 2025 on).
              alt_text: content.image.alt || undefined,
            },
            { token: credentials.accessToken, signal },
          );
          if (!container.id) throw new ProviderError('retryable', 'Instagram created no media container');
          await waitUntilFinished(credentials, container.id, signal);

          const published = await graph.post<{ id?: string }>(
            `${credentials.igUserId}/media_publish`,
            { creation_id: container.id },
            { token: credentials.accessToken, signal, publishes: true },
          );
          if (!published.id)
            throw new ProviderError('unknown-outcome', 'Instagram accepted the publish but named no media');
          return { providerMessageId: published.id };
        },
      );
    },
  };
}
