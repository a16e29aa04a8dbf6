/**
 * Reading replies to the agency's X posts: recent search by `conversation_id` (X has no webhook for replies to an
 * account's posts short of the Account Activity API, an enterprise product), through twitter-api-v2 with the same
 * OAuth 1.0a user context the X provider posts with (./client.ts), so the reads count
 * against the agency account's own per-user limits and need no second credential.
 *
 * Each method makes exactly one request, so the poller (functions/replies/poller.ts) can count what a run costs.
 * Failures leave as the poller's own errors: a 429 as RateLimitedError with X's reset time, a refused page token as
 * StaleCursorError; anything else as an Error whose message carries no credential.
 */
import { Agent as HttpAgent } from 'node:http';
import {
  ApiResponseError,
  type ITwitterApiClientPlugin,
  TwitterApi,
  type TwitterResponse,
} from 'twitter-api-v2';
import { XLookupAnswer, XMeAnswer, XSearchAnswer } from '../../../schemas/replies';
import type { Clock, SecretSource } from '../../ports';
import { systemClock } from '../../ports';
import {
  type FoundReply,
  RateLimitedError,
  type RateLimitState,
  type ReplySource,
  StaleCursorError,
} from '../../replies/model';
import { X_API_BASE_URL, X_SECRET_KEYS } from './client';

export interface XReplySourceOptions {
  secrets: SecretSource;
  /** The API's origin; the real API unless a test points it at a fake. */
  baseUrl?: string | undefined;
  /** Per request; the poller's run has a deadline of its own. */
  timeoutMs?: number | undefined;
  clock?: Clock | undefined;
}

/** When X says 429 without a reset: its windows are 15 minutes long. */
const DEFAULT_WINDOW_MS = 15 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

type Credentials = Record<(typeof X_SECRET_KEYS)[number], string>;

function credentialsOf(secret: Record<string, string> | undefined): Credentials | undefined {
  if (!secret || X_SECRET_KEYS.some((key) => !secret[key])) return undefined;
  return Object.fromEntries(X_SECRET_KEYS.map((key) => [key, secret[key]!])) as Credentials;
}

/** X's `x-rate-limit-*` headers as the client parsed them; `reset` is in epoch seconds. */
function rateLimitOf(limit: TwitterResponse<unknown>['rateLimit']): RateLimitState | undefined {
  if (!limit || !Number.isFinite(limit.remaining) || !Number.isFinite(limit.reset)) return undefined;
  return { limit: limit.limit, remaining: limit.remaining, resetAt: limit.reset * 1000 };
}

export function createXReplySource(options: XReplySourceOptions): ReplySource & {
  /** Why there is nothing to poll with (no credentials, or some missing); undefined when X can be asked. */
  unavailable(): Promise<string | undefined>;
} {
  const base = (options.baseUrl ?? X_API_BASE_URL).replace(/\/+$/, '');
  const prefix = `${base}/2/`;
  // The client calls https.request; an HTTP agent lets it speak plain HTTP to a local fake (as x.ts does).
  const httpAgent = base.startsWith('http:') ? new HttpAgent({ keepAlive: true }) : undefined;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // After a 401 the next call re-reads the secret: it was most likely rotated under a warm function.
  let refresh = false;

  const timeoutPlugin: ITwitterApiClientPlugin = {
    onBeforeRequest({ requestOptions }) {
      requestOptions.signal = AbortSignal.timeout(timeoutMs);
    },
  };

  async function client(): Promise<{ api: TwitterApi; credentials: Credentials }> {
    const credentials = credentialsOf(
      await options.secrets.get('x', refresh ? { refresh: true } : undefined),
    );
    refresh = false;
    if (!credentials) throw new Error('X is not configured: the secret "x" lacks credentials');
    const api = new TwitterApi(credentials, {
      plugins: [timeoutPlugin],
      ...(httpAgent ? { httpAgent } : {}),
    });
    return { api, credentials };
  }

  /** One GET, its failures turned into the poller's errors, with no credential in any message. */
  async function get(path: string, query: Record<string, string | number>) {
    const { api, credentials } = await client();
    try {
      return await api.get<unknown>(path, query, { prefix, fullResponse: true });
    } catch (error) {
      if (error instanceof ApiResponseError) {
        if (error.code === 429)
          throw new RateLimitedError(
            error.rateLimit?.reset ? error.rateLimit.reset * 1000 : clock.now().getTime() + DEFAULT_WINDOW_MS,
          );
        if (error.code === 401) refresh = true;
        const detail = error.data?.detail ?? error.data?.title ?? '';
        const message = `X ${error.code} on GET /2/${path}${detail ? `: ${detail}` : ''}`;
        if (error.code === 400 && 'next_token' in query) throw new StaleCursorError(message);
        throw new Error(redact(message, credentials));
      }
      const text = error instanceof Error ? error.message : String(error);
      throw new Error(redact(`X not reached on GET /2/${path}: ${text}`, credentials));
    }
  }

  return {
    channel: 'x',

    async unavailable() {
      const secret = await options.secrets.get('x');
      if (!secret) return 'no credentials for x';
      const missing = X_SECRET_KEYS.filter((key) => !secret[key]);
      return missing.length > 0 ? `incomplete credentials for x: missing ${missing.join(', ')}` : undefined;
    },

    async account() {
      const answer = XMeAnswer.parse((await get('users/me', {})).data);
      return { id: answer.data.id, username: answer.data.username };
    },

    async conversationsOf(postIds) {
      const ids = [...new Set(postIds)];
      if (ids.length === 0) return new Map();
      if (ids.length > 100) throw new RangeError('X looks up at most 100 posts a request');
      const answer = XLookupAnswer.parse(
        (await get('tweets', { ids: ids.join(','), 'tweet.fields': 'conversation_id' })).data,
      );
      const found = new Map<string, string | undefined>(ids.map((id) => [id, undefined]));
      for (const post of answer.data ?? []) found.set(post.id, post.conversation_id ?? post.id);
      return found;
    },

    async searchReplies(request) {
      const query: Record<string, string | number> = {
        query: `conversation_id:${request.conversationId}`,
        max_results: request.maxResults,
        expansions: 'author_id',
        'tweet.fields': 'author_id,conversation_id,created_at',
        'user.fields': 'username',
        ...(request.sinceId ? { since_id: request.sinceId } : {}),
        ...(request.nextToken ? { next_token: request.nextToken } : {}),
      };
      const response = await get('tweets/search/recent', query);
      const answer = XSearchAnswer.parse(response.data);
      const usernames = new Map((answer.includes?.users ?? []).map((u) => [u.id, u.username]));
      const replies: FoundReply[] = (answer.data ?? [])
        // The conversation's root itself matches its own conversation_id: it is the post, not a reply.
        .filter((post) => post.id !== request.conversationId)
        .map((post) => ({
          id: post.id,
          conversationId: post.conversation_id ?? request.conversationId,
          authorId: post.author_id,
          username: post.author_id ? usernames.get(post.author_id) : undefined,
          text: post.text,
          createdAt: post.created_at,
        }));
      return {
        replies,
        newestId: answer.meta?.newest_id,
        nextToken: answer.meta?.next_token,
        rateLimit: rateLimitOf(response.rateLimit),
      };
    },
  };
}

function redact(text: string, credentials: Credentials): string {
  let out = text;
  for (const value of Object.values(credentials))
    if (value.length >= 4) out = out.split(value).join('[redacted]');
  return out;
}
