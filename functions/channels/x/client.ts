/**
 * The X provider: posts as the agency's account through twitter-api-v2 with OAuth 1.0a user context (posting
 * on an account's behalf needs it; an app-only bearer token cannot post). An update or cancel replies to the
 * post of the version before it, so the story reads as one thread; an image is fetched from its public URL,
 * uploaded with the v2 chunked media upload and described with alt text.
 *
 * The image URL is not ours to trust (an officer types it, a CAP <resource><uri> brings it), so it is fetched
 * through the guarded fetcher (../net/guarded-fetch.ts): otherwise it could make Herald read cloud metadata or
 * an internal service and post the result to the agency's public account. The X API is a fixed host and keeps
 * the client's own connection.
 *
 * Every failure leaves as a ProviderError whose kind the channel handler acts on. What matters most is telling
 * apart "X never took it" (safe to retry) from "X may have posted it" (unknown outcome): posting again after
 * the latter would put a duplicate on the agency's timeline, or earn a duplicate-content 403 that hides the
 * fact that the first post went out.
 */
import { Agent as HttpAgent } from 'node:http';
import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  type ITwitterApiClientPlugin,
  type SendTweetV2Params,
  TwitterApi,
  TwitterApiv2,
} from 'twitter-api-v2';
import {
  type ChannelProvider,
  type Clock,
  type OutboundMessage,
  type ProviderAccepted,
  ProviderError,
  type PublicImage,
  type SecretSource,
  systemClock,
} from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import { NEVER_SENT_CODES } from '../../shared/never-sent';
import { fetchPostImage, type ImageFetchOptions } from '../post-image';

export const X_API_BASE_URL = 'https://api.x.com';

/** The secret's keys: OAuth 1.0a consumer keys of the app and the agency account's access token. */
export const X_SECRET_KEYS = ['appKey', 'appSecret', 'accessToken', 'accessSecret'] as const;
type XCredentials = Record<(typeof X_SECRET_KEYS)[number], string>;

/** X refuses images over 5 MB; a bigger one is a rendering bug, not something to upload in vain. */
const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);
/** X's limit on alt text, counted in characters. */
const MAX_ALT_CHARS = 1000;

/** No credentials, or credentials missing a key: a person has to fix the secret; retrying will not. */
export class XConfigurationError extends ProviderError {
  constructor(reason: string) {
    super('permanent', reason);
    this.name = 'XConfigurationError';
  }
}

export interface XProviderOptions extends ImageFetchOptions {
  secrets: SecretSource;
  /** The API's origin (`/2/…` is appended); the real API unless a test points it at a fake. */
  baseUrl?: string;
  logger?: LoggerLike;
  /** For the retry-after a 429 announces in epoch seconds. */
  clock?: Clock;
}

/**
 * twitter-api-v2 1.29 hard-codes `https://api.x.com/2/` as the v2 prefix and its `cloneWithPrefix` is broken
 * (it calls a class constructor without `new`), so a subclass sets the prefix through the protected
 * `setPrefix`, sharing the parent's request maker (credentials and plugins).
 */
class PrefixedV2 extends TwitterApiv2 {
  constructor(parent: TwitterApi, prefix: string) {
    super(parent);
    this.setPrefix(prefix);
  }
}

/**
 * The client takes no AbortSignal, but its request options reach `https.request` as they are, so a plugin
 * hands Node the signal: an abort destroys the socket instead of leaving it to hang. The plugin also notes
 * when the tweet itself has been handed to the network, which decides what a failure after that point means.
 */
function requestPlugin(signal: AbortSignal, onTweetDispatched: () => void): ITwitterApiClientPlugin {
  return {
    onBeforeRequest({ url, params, requestOptions }) {
      requestOptions.signal = signal;
      if (params.method.toUpperCase() === 'POST' && url.pathname.endsWith('/2/tweets')) onTweetDispatched();
    },
  };
}

function readCredentials(secret: Record<string, string> | undefined): XCredentials {
  if (!secret)
    throw new XConfigurationError('X is not configured: there are no credentials in the secret "x"');
  const missing = X_SECRET_KEYS.filter((key) => !secret[key]);
  if (missing.length > 0)
    throw new XConfigurationError(`X is not configured: the secret "x" lacks ${missing.join(', ')}`);
  return Object.fromEntries(X_SECRET_KEYS.map((key) => [key, secret[key]!])) as XCredentials;
}

/** Belt and braces: whatever text reaches a reason, no credential value goes with it. */
function redact(text: string, credentials: XCredentials | undefined): string {
  let out = text;
  for (const value of Object.values(credentials ?? {}))
    if (value.length >= 4) out = out.split(value).join('[redacted]');
  return out.replace(/OAuth [^\s]+(\s*,?\s*oauth_[a-z_]+="[^"]*")*/gi, 'OAuth [redacted]');
}

function truncateChars(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** 429: wait until the window that ran out resets — the 24-hour caps, when exhausted, outlast the 15-minute one. */
function retryAfterMs(error: ApiResponseError, now: Date): number | undefined {
  const limits = error.rateLimit;
  const resets: number[] = [];
  if (limits?.day?.remaining === 0) resets.push(limits.day.reset);
  if (limits?.userDay?.remaining === 0) resets.push(limits.userDay.reset);
  if (resets.length === 0 && limits && Number.isFinite(limits.reset)) resets.push(limits.reset);
  const reset = resets.filter(Number.isFinite).sort((a, b) => b - a)[0];
  return reset === undefined ? undefined : Math.max(0, reset * 1000 - now.getTime());
}

function describe(error: ApiResponseError): string {
  const data = error.data ?? {};
  const first = data.errors?.[0];
  const extra = first && 'message' in first && first.message !== data.detail ? `: ${first.message}` : '';
  const detail = data.detail ?? data.title ?? data.error ?? '';
  return `X ${error.code}${detail ? ` ${detail}` : ''}${extra}`;
}

const isDuplicate = (error: ApiResponseError) =>
  error.code === 403 && /duplicate content/i.test(error.data?.detail ?? '');
const isReplyTargetGone = (error: ApiResponseError) =>
  error.code === 403 &&
  /reply to a (Tweet|post) that is deleted or not visible/i.test(error.data?.detail ?? '');

/**
 * One send attempt's context: whether the tweet request went out (past that point a lost answer is an
 * unknown outcome) and the credentials in use (to keep them out of reasons).
 */
interface AttemptState {
  tweetDispatched: boolean;
  credentials?: XCredentials | undefined;
}

function classify(error: unknown, state: AttemptState, signal: AbortSignal, clock: Clock): ProviderError {
  if (error instanceof ProviderError) return error;
  const safe = (text: string) => redact(text, state.credentials);

  if (error instanceof ApiResponseError) {
    const reason = safe(describe(error));
    if (error.code === 429) return new ProviderError('retryable', reason, retryAfterMs(error, clock.now()));
    if (isDuplicate(error)) return new ProviderError('permanent', 'duplicate content');
    if (error.code >= 500) return new ProviderError('retryable', reason);
    return new ProviderError('permanent', reason);
  }

  if (!state.tweetDispatched) {
    // Nothing public has happened yet (fetching or uploading the image, or the tweet never left): try again.
    const why = signal.aborted ? 'timed out before posting' : errorText(error);
    return new ProviderError('retryable', safe(`X not reached: ${why}`));
  }

  if (error instanceof ApiPartialResponseError) {
    const status = error.response.statusCode ?? 0;
    if (status >= 500) return new ProviderError('retryable', `X ${status} with an unreadable body`);
    if (status >= 400) return new ProviderError('permanent', `X ${status} with an unreadable body`);
    return new ProviderError('unknown-outcome', 'X answered the post but the answer was cut off');
  }
  const code = error instanceof ApiRequestError ? requestCause(error)?.code : undefined;
  if (!signal.aborted && code && NEVER_SENT_CODES.has(code))
    return new ProviderError('retryable', safe(`X not reached: ${errorText(error)}`));
  return new ProviderError(
    'unknown-outcome',
    signal.aborted
      ? 'no answer from X before the deadline; the post may have gone out'
      : safe(
          `the connection to X failed after the post was sent (${errorText(error)}); it may have gone out`,
        ),
  );
}

/**
 * The socket error behind an ApiRequestError. 1.29 builds the error with `{ error }` but its `requestError`
 * getter reads `requestError`, so the getter answers undefined; the cause is read where it was stored.
 */
function requestCause(error: ApiRequestError): NodeJS.ErrnoException | undefined {
  const stored = (error as unknown as { _options?: { error?: unknown } })._options?.error;
  const cause = error.requestError ?? stored;
  return cause instanceof Error ? cause : undefined;
}

function errorText(error: unknown): string {
  if (error instanceof ApiRequestError) {
    const inner = requestCause(error);
    if (!inner) return error.message;
    return inner.code ? `${inner.code}: ${inner.message}` : inner.message;
  }
  return error instanceof Error ? error.message : String(error);
}

const X_IMAGE_LIMITS = { network: 'X', maxBytes: MAX_IMAGE_BYTES, types: IMAGE_TYPES };

class XProvider implements ChannelProvider {
  readonly channel = 'x' as const;
  readonly mode = 'real' as const;
  private readonly prefix: string;
  private readonly agent: HttpAgent | undefined;
  private readonly clock: Clock;

  constructor(private readonly options: XProviderOptions) {
    const base = (options.baseUrl ?? X_API_BASE_URL).replace(/\/+$/, '');
    this.prefix = `${base}/2/`;
    // The client always calls `https.request`; Node lets it speak plain HTTP when handed an HTTP agent, which
    // is how it reaches a local fake. The real API is HTTPS and keeps the client's default agent.
    this.agent = base.startsWith('http:') ? new HttpAgent() : undefined;
    this.clock = options.clock ?? systemClock;
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted> {
    const content = message.content;
    if (content.channel !== 'x')
      throw new ProviderError('permanent', `the X provider was handed ${content.channel} content`);
    if (message.test)
      throw new ProviderError('permanent', 'refusing to post a Test or Exercise alert to the public on X');

    const first = await this.attempt(content, message.inReplyTo, signal, false);
    if (first.ok) return first.accepted;
    if (!(first.error instanceof ApiResponseError && first.error.code === 401))
      throw classify(first.error, first.state, signal, this.clock);

    // A 401 most often means the secret was rotated under a warm function: re-read it once and try again.
    this.options.logger?.warn('X answered 401; re-reading the credentials and trying once more', {
      channel: 'x',
      alertId: message.alertId,
      version: message.version,
    });
    const second = await this.attempt(content, message.inReplyTo, signal, true);
    if (second.ok) return second.accepted;
    throw classify(second.error, second.state, signal, this.clock);
  }

  private async attempt(
    content: { text: string; image?: PublicImage | undefined },
    inReplyTo: string | undefined,
    signal: AbortSignal,
    refresh: boolean,
  ): Promise<{ ok: true; accepted: ProviderAccepted } | { ok: false; error: unknown; state: AttemptState }> {
    const state: AttemptState = { tweetDispatched: false };
    try {
      if (signal.aborted) throw new ProviderError('retryable', 'timed out before posting');
      state.credentials = readCredentials(
        await this.options.secrets.get('x', refresh ? { refresh: true } : undefined),
      );
      const parent = new TwitterApi(state.credentials, {
        plugins: [requestPlugin(signal, () => (state.tweetDispatched = true))],
        ...(this.agent ? { httpAgent: this.agent } : {}),
      });
      const v2 = new PrefixedV2(parent, this.prefix);

      const payload: SendTweetV2Params = { text: content.text };
      if (content.image) payload.media = { media_ids: [await this.upload(v2, content.image, signal)] };
      const posted = await this.post(v2, payload, inReplyTo);
      return { ok: true, accepted: { providerMessageId: posted } };
    } catch (error) {
      return { ok: false, error, state };
    }
  }

  private async upload(v2: TwitterApiv2, image: PublicImage, signal: AbortSignal): Promise<string> {
    const { bytes, type } = await fetchPostImage(image, signal, X_IMAGE_LIMITS, this.options);
    const mediaId = await v2.uploadMedia(bytes, {
      media_type: type as Parameters<TwitterApiv2['uploadMedia']>[1]['media_type'],
      media_category: 'tweet_image',
    });
    const alt = image.alt.trim();
    if (alt) await v2.createMediaMetadata(mediaId, { alt_text: { text: truncateChars(alt, MAX_ALT_CHARS) } });
    return mediaId;
  }

  private async post(v2: TwitterApiv2, payload: SendTweetV2Params, inReplyTo: string | undefined) {
    if (!inReplyTo) return (await v2.tweet(payload)).data.id;
    try {
      return (await v2.tweet({ ...payload, reply: { in_reply_to_tweet_id: inReplyTo } })).data.id;
    } catch (error) {
      if (!(error instanceof ApiResponseError && isReplyTargetGone(error))) throw error;
      // The post being updated was deleted (agencies remove mistaken posts): the update must still go out.
      this.options.logger?.warn('the X post to reply to is gone; posting the update on its own', {
        channel: 'x',
      });
      return (await v2.tweet(payload)).data.id;
    }
  }
}

export function createXProvider(options: XProviderOptions): ChannelProvider {
  return new XProvider(options);
}
