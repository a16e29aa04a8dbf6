/**
 * Officers' public answers on X: one POST /2/tweets with `reply.in_reply_to_tweet_id` set to the resident's post,
 * through twitter-api-v2 with the OAuth 1.0a user context the X provider posts alerts with (./x.ts), so the answer
 * comes from the agency's account.
 *
 * Failures leave as ProviderErrors, classified as ./x.ts classifies an alert's post: a 429 is `retryable` with the
 * wait until the limit that ran out resets (the 24-hour caps outlast the 15-minute window); X's duplicate-content
 * 403, a resident's post that is gone, and any other 4xx are `permanent`; a 5xx or a connection that never reached X
 * is `retryable`; a request that may have reached X and got no answer is `unknown-outcome` (X cannot be asked
 * afterwards whether it posted, so the caller does not post again). A 401 re-reads the secret once (rotated under a
 * warm function): a 401 posted nothing.
 */
import { Agent as HttpAgent } from 'node:http';
import {
  ApiPartialResponseError,
  ApiRequestError,
  ApiResponseError,
  type ITwitterApiClientPlugin,
  TwitterApi,
} from 'twitter-api-v2';
import { type Clock, ProviderError, type SecretSource, systemClock } from '../../ports';
import type { PublicReplyPoster, ReplyRequest } from '../../replies/answers';
import { NEVER_SENT_CODES } from '../../shared/never-sent';
import { X_API_BASE_URL, X_SECRET_KEYS } from './client';

export interface XReplyPosterOptions {
  secrets: SecretSource;
  /** The API's origin; the real API unless a test or the embedded mode points it at a fake. */
  baseUrl?: string | undefined;
  /** For the reset a 429 announces in epoch seconds. */
  clock?: Clock | undefined;
}

type Credentials = Record<(typeof X_SECRET_KEYS)[number], string>;

/** When X says 429 without saying until when: its shortest window is 15 minutes. */
const DEFAULT_WAIT_MS = 15 * 60 * 1000;

function credentialsOf(secret: Record<string, string> | undefined): Credentials | undefined {
  if (!secret || X_SECRET_KEYS.some((key) => !secret[key])) return undefined;
  return Object.fromEntries(X_SECRET_KEYS.map((key) => [key, secret[key]!])) as Credentials;
}

function redact(text: string, credentials: Credentials): string {
  let out = text;
  for (const value of Object.values(credentials))
    if (value.length >= 4) out = out.split(value).join('[redacted]');
  return out.replace(/OAuth [^\s]+(\s*,?\s*oauth_[a-z_]+="[^"]*")*/gi, 'OAuth [redacted]');
}

/** Until the window that ran out resets: the per-user and per-app day caps, else the 15-minute window. */
function waitMs(error: ApiResponseError, now: number): number {
  const limits = error.rateLimit;
  const resets: number[] = [];
  if (limits?.day?.remaining === 0) resets.push(limits.day.reset);
  if (limits?.userDay?.remaining === 0) resets.push(limits.userDay.reset);
  if (resets.length === 0 && limits && Number.isFinite(limits.reset)) resets.push(limits.reset);
  const reset = resets.filter(Number.isFinite).sort((a, b) => b - a)[0];
  return reset === undefined ? DEFAULT_WAIT_MS : Math.max(0, reset * 1000 - now);
}

function describe(error: ApiResponseError): string {
  const data = error.data ?? {};
  const first = data.errors?.[0];
  const detail =
    data.detail ??
    data.title ??
    data.error ??
    (first && 'message' in first ? first.message : undefined) ??
    '';
  return `X ${error.code}${detail ? ` ${detail}` : ''}`;
}

/** The socket error behind an ApiRequestError (1.29 stores it where its own getter does not look; see ./x.ts). */
function requestCause(error: ApiRequestError): NodeJS.ErrnoException | undefined {
  const stored = (error as unknown as { _options?: { error?: unknown } })._options?.error;
  const cause = error.requestError ?? stored;
  return cause instanceof Error ? cause : undefined;
}

function classify(error: unknown, signal: AbortSignal, now: number, credentials: Credentials): ProviderError {
  if (error instanceof ProviderError) return error;
  const safe = (text: string) => redact(text, credentials);
  if (error instanceof ApiResponseError) {
    const detail = error.data?.detail ?? '';
    if (error.code === 429) return new ProviderError('retryable', safe(describe(error)), waitMs(error, now));
    if (error.code === 403 && /duplicate content/i.test(detail))
      return new ProviderError(
        'permanent',
        'duplicate content: X refuses the same text twice from the account',
      );
    if (error.code === 403 && /reply to a (Tweet|post) that is deleted or not visible/i.test(detail))
      return new ProviderError('permanent', "the resident's post is deleted or not visible to the agency");
    if (error.code >= 500) return new ProviderError('retryable', safe(describe(error)));
    return new ProviderError('permanent', safe(describe(error)));
  }
  if (error instanceof ApiPartialResponseError) {
    const status = error.response.statusCode ?? 0;
    if (status >= 500) return new ProviderError('retryable', `X ${status} with an unreadable body`);
    if (status >= 400) return new ProviderError('permanent', `X ${status} with an unreadable body`);
    return new ProviderError('unknown-outcome', 'X answered the reply but the answer was cut off');
  }
  const cause = error instanceof ApiRequestError ? requestCause(error) : undefined;
  if (!signal.aborted && cause?.code && NEVER_SENT_CODES.has(cause.code))
    return new ProviderError('retryable', safe(`X not reached: ${cause.code}`));
  return new ProviderError(
    'unknown-outcome',
    signal.aborted
      ? 'no answer from X before the time limit; the reply may have gone out'
      : 'the connection to X failed after the reply was sent; it may have gone out',
  );
}

export function createXReplyPoster(options: XReplyPosterOptions): PublicReplyPoster {
  const base = (options.baseUrl ?? X_API_BASE_URL).replace(/\/+$/, '');
  const prefix = `${base}/2/`;
  // The client calls https.request; an HTTP agent lets it speak plain HTTP to a local fake (as ./x.ts does).
  const httpAgent = base.startsWith('http:') ? new HttpAgent() : undefined;
  const clock = options.clock ?? systemClock;

  async function attempt(request: ReplyRequest, signal: AbortSignal, refresh: boolean) {
    const credentials = credentialsOf(
      await options.secrets.get('x', refresh ? { refresh: true } : undefined),
    );
    if (!credentials)
      throw new ProviderError('permanent', 'X is not configured: the secret "x" lacks credentials');
    // The client takes no AbortSignal; its request options reach https.request as they are.
    const abortable: ITwitterApiClientPlugin = {
      onBeforeRequest({ requestOptions }) {
        requestOptions.signal = signal;
      },
    };
    const api = new TwitterApi(credentials, { plugins: [abortable], ...(httpAgent ? { httpAgent } : {}) });
    try {
      if (signal.aborted) throw new ProviderError('retryable', 'timed out before posting');
      const answer = await api.post<{ data?: { id?: unknown } }>(
        'tweets',
        { text: request.text, reply: { in_reply_to_tweet_id: request.inReplyTo } },
        { prefix },
      );
      const id = answer?.data?.id;
      if (typeof id !== 'string' || id === '')
        throw new ProviderError('unknown-outcome', 'X accepted the reply but named no post');
      return { providerMessageId: id };
    } catch (error) {
      if (!refresh && error instanceof ApiResponseError && error.code === 401) return undefined;
      throw classify(error, signal, clock.now().getTime(), credentials);
    }
  }

  return {
    channel: 'x',
    mode: 'real',
    async reply(request, signal) {
      // undefined: X said 401, so nothing was posted; the secret is read again, once.
      return (await attempt(request, signal, false)) ?? (await attempt(request, signal, true))!;
    },
  };
}
