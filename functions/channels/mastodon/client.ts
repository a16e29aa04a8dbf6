/**
 * The Mastodon client: posts as the agency's account on its instance (the agency's own or a public one) through
 * the REST API, with Node's fetch and a bearer token of scopes `write:statuses write:media`. An update or cancel
 * replies to the status of the version before it, so the story reads as one thread; an image is fetched through
 * the guarded fetcher (../post-image.ts), uploaded with `POST /api/v2/media` with its alt text, and attached once
 * the instance has processed it.
 *
 * providerMessageId: `<status id>@<instance host>`, e.g. `113401234567890123@police.social`. The host is the
 * secret's `instanceUrl`'s, so a thread is only ever continued on the instance that holds it: after an agency moves
 * to another instance, an old id would otherwise name some other account's status there. A bare `<status id>` is
 * read as a status on the configured instance.
 *
 * Every status is sent with the SocialPost's idempotency key as `Idempotency-Key`. Mastodon keeps the key for an
 * hour per account and answers a repeat with the status it already made, so a retry after a lost answer (a
 * timeout, a reset connection, a 5xx from a proxy after the instance had posted) is safe within that hour: such
 * failures are `retryable`, not `unknown-outcome`. The channel handler retries within minutes (its backoff is capped
 * at 15); only a retry after the hour (a redrive from the dead-letter queue, a long rate-limit wait) could post twice.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { longestFitting } from '../../core/render/text';
import {
  type Clock,
  type ProviderAccepted,
  ProviderError,
  type PublicImage,
  type SecretSource,
  systemClock,
} from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import { fetchPostImage, type ImageFetchOptions } from '../post-image';
import type { SocialClient, SocialPost } from '../social';

/** The secret's name in the SecretSource. */
export const MASTODON_SECRET_NAME = 'mastodon';
/** The secret's keys: the instance's https origin and the agency account's access token. */
export const MASTODON_SECRET_KEYS = ['instanceUrl', 'accessToken'] as const;
type Credentials = Record<(typeof MASTODON_SECRET_KEYS)[number], string>;

/** A SocialPost, and the language of its text (renderMastodon's `language`) when the caller passes it. */
export type MastodonPost = SocialPost & { language?: string | undefined };

/** A SocialClient that also takes the post's language, sent as the status's `language`. */
export interface MastodonClient extends SocialClient {
  post(post: MastodonPost, signal: AbortSignal): Promise<ProviderAccepted>;
}

/** Current Mastodon takes images up to 16 MB; alert cards are far smaller, and 8 MB is within any instance's cap. */
const MAX_IMAGE_BYTES = 8 * 1024 * 1024;
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};
/** MediaAttachment::MAX_DESCRIPTION_LENGTH, checked by Rails in code points. */
const MAX_ALT_CHARS = 1500;
const MASTODON_IMAGE_LIMITS = { network: 'Mastodon', maxBytes: MAX_IMAGE_BYTES, types: IMAGE_TYPES };

/** No credentials, or unusable ones: a person has to fix the secret; retrying will not. */
export class MastodonConfigurationError extends ProviderError {
  constructor(reason: string) {
    super('permanent', reason);
    this.name = 'MastodonConfigurationError';
  }
}

export interface MastodonClientOptions extends ImageFetchOptions {
  secrets: SecretSource;
  /** For tests only: where to send the requests instead of the secret's `instanceUrl`. */
  baseUrl?: string | undefined;
  logger?: LoggerLike | undefined;
  /** For the wait a rate limit's reset announces. */
  clock?: Clock | undefined;
  /** Checks of an image the instance is still processing: every second, 30 at most, unless a test says otherwise. */
  mediaPoll?: { intervalMs?: number; maxChecks?: number } | undefined;
}

/** `<status id>@<host>` as this client writes it; `host` is undefined for a bare id. */
export function parseMastodonMessageId(id: string): { statusId: string; host?: string } | undefined {
  const match = /^([A-Za-z0-9_-]+)(?:@([^@\s/]+))?$/.exec(id.trim());
  if (!match) return undefined;
  return match[2] ? { statusId: match[1]!, host: match[2].toLowerCase() } : { statusId: match[1]! };
}

export const mastodonMessageId = (statusId: string, instanceUrl: string): string =>
  `${statusId}@${new URL(instanceUrl).host}`;

export function readMastodonCredentials(secret: Record<string, string> | undefined): Credentials {
  const name = MASTODON_SECRET_NAME;
  if (!secret)
    throw new MastodonConfigurationError(
      `Mastodon is not configured: there are no credentials in the secret "${name}"`,
    );
  const missing = MASTODON_SECRET_KEYS.filter((key) => !secret[key]);
  if (missing.length > 0)
    throw new MastodonConfigurationError(
      `Mastodon is not configured: the secret "${name}" lacks ${missing.join(', ')}`,
    );
  let url: URL | undefined;
  try {
    url = new URL(secret.instanceUrl!);
  } catch {}
  // The token goes wherever instanceUrl points: never in clear text, never to a path an admin did not mean.
  if (url?.protocol !== 'https:' || url.username || url.password || url.pathname !== '/')
    throw new MastodonConfigurationError(
      `Mastodon is not configured: instanceUrl in the secret "${name}" must be the instance's https origin, like https://mastodon.example`,
    );
  return { instanceUrl: url.origin, accessToken: secret.accessToken! };
}

/** A non-2xx answer, with Mastodon's `{ "error": "…" }` when it sent one. */
class MastodonHttpError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Headers,
    readonly json: boolean,
  ) {
    super(`Mastodon ${status}${detail ? ` ${detail}` : ''}`);
    this.name = 'MastodonHttpError';
  }
}

/**
 * Rate-limit windows, as the headers last reported them. A method may be under several limits and the headers name
 * the one nearest to running out, so what a media upload reports (30 per 30 minutes) is kept apart from what a
 * status reports, and polls land in `api`.
 */
type Bucket = 'statuses' | 'media' | 'api';
interface Window {
  remaining: number;
  resetAt: number;
}

function windowOf(headers: Headers): Window | undefined {
  const remaining = Number(headers.get('x-ratelimit-remaining') ?? Number.NaN);
  const resetAt = Date.parse(headers.get('x-ratelimit-reset') ?? '');
  return Number.isFinite(remaining) && Number.isFinite(resetAt) ? { remaining, resetAt } : undefined;
}

/** 429: wait until X-RateLimit-Reset (ISO 8601); a proxy in front of the instance may send Retry-After instead. */
function retryAfterOf(headers: Headers, now: number): number | undefined {
  const reset = Date.parse(headers.get('x-ratelimit-reset') ?? '');
  if (Number.isFinite(reset)) return Math.max(0, reset - now);
  const after = headers.get('retry-after');
  if (!after) return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(after);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as { cause?: unknown }).cause as NodeJS.ErrnoException | undefined;
  if (cause instanceof Error) return cause.code ? `${cause.code}: ${cause.message}` : cause.message;
  return error.message;
}

/** Belt and braces: whatever text reaches a reason, the token does not go with it. */
const redact = (text: string, token: string | undefined) =>
  token && token.length >= 4 ? text.split(token).join('[redacted]') : text;

/** An HTTP header carries visible ASCII only: another key is sent as its hash, stable like the key itself. */
const idempotencyHeader = (key: string) =>
  /^[\x21-\x7e]{1,200}$/.test(key) ? key : createHash('sha256').update(key).digest('hex');

/** ISO 639-1, as `language` takes it: `es-ES` is sent as `es`; anything else is left for the instance to guess. */
function isoLanguage(language: string | undefined): string | undefined {
  const primary = language?.split(/[-_]/)[0]?.toLowerCase();
  return primary && /^[a-z]{2}$/.test(primary) ? primary : undefined;
}

const altText = (alt: string) => longestFitting(alt.trim(), (c) => [...c].length <= MAX_ALT_CHARS) ?? '';

interface Answer {
  status: number;
  body: Record<string, unknown> | undefined;
}

/** One attempt's context: whether the status request went out, and the token (to keep it out of reasons). */
interface AttemptState {
  statusSent: boolean;
  token?: string | undefined;
}

class MastodonApiClient implements MastodonClient {
  private readonly clock: Clock;
  private readonly windows = new Map<string, Window>();

  constructor(private readonly options: MastodonClientOptions) {
    this.clock = options.clock ?? systemClock;
  }

  async post(post: MastodonPost, signal: AbortSignal): Promise<ProviderAccepted> {
    if (post.test)
      throw new ProviderError(
        'permanent',
        'refusing to post a Test or Exercise alert to the public on Mastodon',
      );

    const first = await this.attempt(post, signal, false);
    if (first.ok) return first.accepted;
    if (!(first.error instanceof MastodonHttpError && [401, 403].includes(first.error.status)))
      throw this.classify(first.error, first.state, signal);

    // A 401 most often means the token was rotated under a warm function, a 403 that it was reissued with the
    // scopes it lacked: re-read the secret once and try again.
    this.options.logger?.warn(
      `Mastodon answered ${first.error.status}; re-reading the secret and trying once more`,
      {
        channel: 'mastodon',
        alertId: post.alertId,
        version: post.version,
      },
    );
    const second = await this.attempt(post, signal, true);
    if (second.ok) return second.accepted;
    throw this.classify(second.error, second.state, signal);
  }

  private async attempt(
    post: MastodonPost,
    signal: AbortSignal,
    refresh: boolean,
  ): Promise<{ ok: true; accepted: ProviderAccepted } | { ok: false; error: unknown; state: AttemptState }> {
    const state: AttemptState = { statusSent: false };
    try {
      if (signal.aborted)
        throw new ProviderError('retryable', 'Mastodon not reached: timed out before posting');
      const credentials = readMastodonCredentials(
        await this.options.secrets.get(MASTODON_SECRET_NAME, refresh ? { refresh: true } : undefined),
      );
      state.token = credentials.accessToken;
      const origin = (this.options.baseUrl ?? credentials.instanceUrl).replace(/\/+$/, '');
      const host = new URL(credentials.instanceUrl).host;
      // Before the image: an upload for a status that cannot be posted yet would only spend the media window.
      this.holdIfSpent(origin, ['statuses', 'api']);

      const call = (method: string, path: string, init: RequestParts) =>
        this.call(origin, credentials.accessToken, method, path, init, signal);
      const mediaId = post.image ? await this.upload(call, origin, post.image, signal) : undefined;
      this.holdIfSpent(origin, ['statuses', 'api']);

      const body: Record<string, unknown> = { status: post.text, visibility: 'public' };
      const language = isoLanguage(post.language);
      if (language) body.language = language;
      if (mediaId) body.media_ids = [mediaId];
      const replyTo = this.replyTarget(post, host);
      const send = (payload: Record<string, unknown>) => {
        state.statusSent = true;
        return call('POST', '/api/v1/statuses', {
          json: payload,
          idempotencyKey: idempotencyHeader(post.idempotencyKey),
          bucket: 'statuses',
        });
      };

      let answer: Answer;
      try {
        answer = await send(replyTo ? { ...body, in_reply_to_id: replyTo } : body);
      } catch (error) {
        // 404 with Mastodon's JSON error on a reply: the status being updated was deleted (agencies remove mistaken
        // posts). The update must still reach the public; the thread is a convenience. Mastodon refused it before
        // posting anything, so the same Idempotency-Key is free for the unthreaded status.
        if (
          !(replyTo && error instanceof MastodonHttpError && error.status === 404 && error.json) ||
          post.answer
        )
          throw error;
        this.options.logger?.warn('the Mastodon status to reply to is gone; posting the update on its own', {
          channel: 'mastodon',
          alertId: post.alertId,
          version: post.version,
        });
        answer = await send(body);
      }
      const id = answer.body?.id;
      if (typeof id !== 'string' && typeof id !== 'number')
        throw new ProviderError(
          'retryable',
          `Mastodon answered ${answer.status} without a status id; a retry within the hour gets the status it made, if it made one`,
        );
      return { ok: true, accepted: { providerMessageId: `${id}@${host}` } };
    } catch (error) {
      return { ok: false, error, state };
    }
  }

  /** The status id to reply to, when `inReplyTo` names one on this instance. */
  private replyTarget(post: SocialPost, host: string): string | undefined {
    if (!post.inReplyTo) return undefined;
    const parsed = parseMastodonMessageId(post.inReplyTo);
    if (parsed && (parsed.host === undefined || parsed.host === host.toLowerCase())) return parsed.statusId;
    if (post.answer)
      throw new ProviderError('permanent', 'the reply to answer is not a status on this Mastodon instance');
    this.options.logger?.warn(
      'the post to reply to is not a status on this Mastodon instance; posting on its own',
      {
        channel: 'mastodon',
        alertId: post.alertId,
        version: post.version,
      },
    );
    return undefined;
  }

  private async upload(
    call: Caller,
    origin: string,
    image: PublicImage,
    signal: AbortSignal,
  ): Promise<string> {
    const { bytes, type } = await fetchPostImage(image, signal, MASTODON_IMAGE_LIMITS, this.options);
    this.holdIfSpent(origin, ['media', 'api']);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type }), `alert.${EXTENSIONS[type] ?? 'img'}`);
    const alt = altText(image.alt);
    if (alt) form.append('description', alt);
    // 200 when the instance processed the image at once (images, since 4.0), 202 with `url: null` while it works.
    let media = (await call('POST', '/api/v2/media', { form, bucket: 'media' })).body;
    const id = media?.id;
    if (typeof id !== 'string' && typeof id !== 'number')
      throw new ProviderError('retryable', 'Mastodon took the image but named no media id');

    const interval = this.options.mediaPoll?.intervalMs ?? 1000;
    const maxChecks = this.options.mediaPoll?.maxChecks ?? 30;
    for (let checks = 0; !media?.url; checks++) {
      // An attachment that is not processed yet earns a 422 on the status: wait, within the attempt's deadline.
      if (checks >= maxChecks)
        throw new ProviderError(
          'retryable',
          `Mastodon was still processing the image after ${checks} checks; nothing was posted`,
        );
      await sleep(interval, undefined, { signal });
      try {
        media = (await call('GET', `/api/v1/media/${encodeURIComponent(String(id))}`, { bucket: 'api' }))
          .body;
      } catch (error) {
        // The upload vanished (404) or failed processing (422): a fresh upload on the next attempt may succeed.
        if (error instanceof MastodonHttpError && [404, 422].includes(error.status))
          throw new ProviderError('retryable', `Mastodon could not process the image (${error.message})`);
        throw error;
      }
    }
    return String(id);
  }

  /** Fails fast when the last answer said a window this call is under is spent, and it has not reset yet. */
  private holdIfSpent(origin: string, buckets: Bucket[]): void {
    const now = this.clock.now().getTime();
    for (const bucket of buckets) {
      const window = this.windows.get(`${origin} ${bucket}`);
      if (window && window.remaining <= 0 && window.resetAt > now)
        throw new ProviderError(
          'retryable',
          `Mastodon's rate limit${bucket === 'media' ? ' for media uploads' : ''} is spent until ${new Date(window.resetAt).toISOString()}; not calling it before then`,
          window.resetAt - now,
        );
    }
  }

  private async call(
    origin: string,
    token: string,
    method: string,
    path: string,
    parts: RequestParts,
    signal: AbortSignal,
  ): Promise<Answer> {
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      'user-agent': 'Herald public alerts',
    };
    if (parts.json) headers['content-type'] = 'application/json';
    if (parts.idempotencyKey) headers['idempotency-key'] = parts.idempotencyKey;
    const response = await fetch(`${origin}${path}`, {
      method,
      headers,
      ...(parts.json ? { body: JSON.stringify(parts.json) } : parts.form ? { body: parts.form } : {}),
      // A redirected POST turns into a GET: a moved instance must be fixed in the secret, not followed.
      redirect: 'manual',
      signal,
    });
    const window = windowOf(response.headers);
    if (window) this.windows.set(`${origin} ${parts.bucket}`, window);
    const text = await response.text();
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        body = parsed as Record<string, unknown>;
    } catch {}
    if (response.status >= 200 && response.status < 300) return { status: response.status, body };
    const detail = typeof body?.error === 'string' ? body.error.slice(0, 300) : '';
    throw new MastodonHttpError(response.status, detail, response.headers, body !== undefined);
  }

  private classify(error: unknown, state: AttemptState, signal: AbortSignal): ProviderError {
    if (error instanceof ProviderError) return error;
    const safe = (text: string) => redact(text, state.token);
    if (error instanceof MastodonHttpError) {
      const reason = safe(error.message);
      if (error.status === 429)
        return new ProviderError(
          'retryable',
          reason,
          retryAfterOf(error.headers, this.clock.now().getTime()),
        );
      // A 5xx after the status was sent may hide a post the instance made; the Idempotency-Key makes the retry
      // return that status instead of a second one.
      if (error.status >= 500 || error.status === 408) return new ProviderError('retryable', reason);
      if (error.status >= 300 && error.status < 400)
        return new ProviderError('permanent', `${reason}: instanceUrl must be the instance's own origin`);
      return new ProviderError('permanent', reason);
    }
    const why = signal.aborted ? 'no answer before the deadline' : errorText(error);
    if (!state.statusSent)
      return new ProviderError('retryable', safe(`nothing posted to Mastodon yet: ${why}`));
    // The status may have been posted; the same Idempotency-Key within the hour returns it rather than a duplicate.
    return new ProviderError(
      'retryable',
      safe(
        `the status was sent but Mastodon's answer was lost (${why}); a retry within the hour cannot duplicate it`,
      ),
    );
  }
}

interface RequestParts {
  json?: Record<string, unknown> | undefined;
  form?: FormData | undefined;
  idempotencyKey?: string | undefined;
  bucket: Bucket;
}
type Caller = (method: string, path: string, parts: RequestParts) => Promise<Answer>;

export function createMastodonClient(options: MastodonClientOptions): MastodonClient {
  return new MastodonApiClient(options);
}
