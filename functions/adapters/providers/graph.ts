/**
 * A small client for Meta's Graph API over fetch, shared by the Facebook Page and Instagram providers, and the
 * one place that turns a Graph error body into a ProviderError. No SDK: the providers need four endpoints, and
 * Meta's own Node SDK is built for the Marketing API and would only add cold-start time to two small functions.
 */
import { ProviderError, type SecretSource } from '../../ports';
import type { LoggerLike } from '../../shared/logger';

/**
 * The Graph API version every call names. Meta retires each version about two years after its release; moving
 * it is a one-line change here, after the fakes and the changelog have been read again.
 */
export const GRAPH_API_VERSION = 'v23.0';
export const GRAPH_BASE_URL = 'https://graph.facebook.com';

/**
 * Logged (at error level) when Graph rejects a channel's token for good. A CloudWatch metric filter matches
 * this exact text to raise the alarm, so it must not change without changing the filter.
 */
export const CREDENTIALS_REJECTED_MESSAGE = 'provider credentials rejected';

/** Graph's "access token expired, revoked or invalid". */
export const GRAPH_CODE_INVALID_TOKEN = 190;
/** Graph's "duplicate status message": the same text was just posted to the same page. */
export const GRAPH_CODE_DUPLICATE_POST = 506;

/**
 * Throttling and transient failures: 1 unknown, 2 service unavailable, 4 app rate limit, 17 user rate limit,
 * 32 page rate limit, 341 app limit reached, 613 calls within one hour exceeded.
 */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([1, 2, 4, 17, 32, 341, 613]);
/** Business-use-case rate limits (80001 Pages, 80002 Instagram, …) are throttles too. */
const isBusinessUseCaseThrottle = (code: number) => code >= 80000 && code <= 80014;
/** Instagram: "the account has reached its limit of posts published through the API in 24 hours". */
export const IG_SUBCODE_PUBLISHING_LIMIT = 2207042;

/**
 * SQS caps how long a message can stay invisible at 12 hours, and the channel handler hands a provider's
 * retry-after to SQS as it is: a longer one would make that call fail.
 */
export const MAX_RETRY_AFTER_MS = 12 * 60 * 60 * 1000;
export const HOUR_MS = 60 * 60 * 1000;

/** The `error` object of a Graph error answer. */
export interface GraphErrorBody {
  message?: string;
  type?: string;
  code?: number;
  error_subcode?: number;
  fbtrace_id?: string;
  is_transient?: boolean;
}

/** Graph answered, with an error. */
export class GraphApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: GraphErrorBody,
    readonly retryAfterMs: number | undefined,
  ) {
    super(error.message ?? `HTTP ${status}`);
    this.name = 'GraphApiError';
  }
  get code(): number | undefined {
    return this.error.code;
  }
  get subcode(): number | undefined {
    return this.error.error_subcode;
  }
}

/** Graph did not answer in a way that says what happened (timeout, dropped connection, unreadable answer). */
export class GraphNoAnswerError extends Error {
  constructor(
    reason: string,
    /** The call would have published something and may have reached Graph: the outcome is not known. */
    readonly outcomeUnknown: boolean,
  ) {
    super(reason);
    this.name = 'GraphNoAnswerError';
  }
}

export type GraphParams = Record<string, string | number | undefined>;

export interface GraphCall {
  token: string;
  signal: AbortSignal;
  /**
   * The call makes something public (a post, a comment, a published media). Only then does a lost answer
   * mean an unknown outcome; a read, or a container nobody can see until it is published, is safe to repeat.
   */
  publishes?: boolean;
}

export interface GraphClientOptions {
  baseUrl?: string | undefined;
  version?: string | undefined;
}

/** Errors that mean the connection was never made, so the request cannot have reached Graph. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

/** Replaces the token wherever a message might echo it, so no error text or log line carries it. */
export function redact(text: string, token: string): string {
  return token.length > 0 ? text.split(token).join('[redacted]') : text;
}

function largestRegainMinutes(value: unknown): number | undefined {
  if (Array.isArray(value))
    return value.reduce<number | undefined>((max, v) => maxOf(max, largestRegainMinutes(v)), undefined);
  if (value === null || typeof value !== 'object') return undefined;
  let max: number | undefined;
  for (const [key, v] of Object.entries(value)) {
    if (key === 'estimated_time_to_regain_access' && typeof v === 'number') max = maxOf(max, v);
    else max = maxOf(max, largestRegainMinutes(v));
  }
  return max;
}
const maxOf = (a: number | undefined, b: number | undefined) =>
  a === undefined ? b : b === undefined ? a : Math.max(a, b);

/**
 * How long Graph says to wait, from its usage headers: `x-business-use-case-usage` (per business, a list per
 * use case) and `x-app-usage` both may carry `estimated_time_to_regain_access` in minutes. Undefined when
 * neither says (zero means "no wait known", not "retry at once").
 */
export function retryAfterFromHeaders(headers: Headers): number | undefined {
  let minutes: number | undefined;
  for (const name of ['x-business-use-case-usage', 'x-app-usage', 'x-page-usage']) {
    const raw = headers.get(name);
    if (!raw) continue;
    try {
      minutes = maxOf(minutes, largestRegainMinutes(JSON.parse(raw)));
    } catch {
      // A header we cannot read says nothing; the backoff still applies.
    }
  }
  if (minutes === undefined || !(minutes > 0)) return undefined;
  return Math.min(MAX_RETRY_AFTER_MS, Math.round(minutes * 60_000));
}

export class GraphClient {
  private readonly root: string;

  constructor(options: GraphClientOptions = {}) {
    const base = (options.baseUrl ?? GRAPH_BASE_URL).replace(/\/$/, '');
    this.root = `${base}/${options.version ?? GRAPH_API_VERSION}`;
  }

  get<T>(path: string, params: GraphParams, call: GraphCall): Promise<T> {
    return this.request<T>('GET', path, params, call);
  }

  post<T>(path: string, params: GraphParams, call: GraphCall): Promise<T> {
    return this.request<T>('POST', path, params, call);
  }

  private async request<T>(
    method: 'GET' | 'POST',
    path: string,
    params: GraphParams,
    call: GraphCall,
  ): Promise<T> {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(params))
      if (value !== undefined) form.set(name, String(value));
    const url = `${this.root}/${path.split('/').map(encodeURIComponent).join('/')}`;
    const noAnswer = (reason: string, mayHaveReachedGraph: boolean) =>
      new GraphNoAnswerError(redact(reason, call.token), Boolean(call.publishes) && mayHaveReachedGraph);

    if (call.signal.aborted) throw noAnswer('the call was cancelled before it was sent', false);
    let response: Response;
    try {
      // Plain fetch, not the guarded fetcher (../net/guarded-fetch.ts): the host is Meta's, fixed here (a test's
      // fake otherwise), never one an alert names. An alert's image URL is passed to Graph for Meta to fetch;
      // Herald does not fetch it. The token travels in a header, never in the query: URLs end up in logs.
      response = await fetch(method === 'GET' && form.size > 0 ? `${url}?${form}` : url, {
        method,
        headers: {
          authorization: `Bearer ${call.token}`,
          accept: 'application/json',
          ...(method === 'POST' ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        ...(method === 'POST' ? { body: form.toString() } : {}),
        signal: call.signal,
        redirect: 'error',
      });
    } catch (error) {
      const code = causeCode(error);
      if (code && NOT_CONNECTED.has(code)) throw noAnswer(`could not reach Graph (${code})`, false);
      if (call.signal.aborted) throw noAnswer('no answer from Graph before the deadline', true);
      throw noAnswer(
        `the call to Graph failed: ${code ?? (error instanceof Error ? error.message : error)}`,
        true,
      );
    }

    let text: string;
    try {
      text = await response.text();
    } catch {
      throw noAnswer(`Graph's answer (HTTP ${response.status}) was cut off`, response.ok);
    }
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }

    const error = (body as { error?: GraphErrorBody } | undefined)?.error;
    if (!response.ok || (error && typeof error === 'object')) {
      const detail: GraphErrorBody =
        error && typeof error === 'object'
          ? { ...error, ...(error.message ? { message: redact(error.message, call.token) } : {}) }
          : { message: `HTTP ${response.status} ${response.statusText}`.trim() };
      throw new GraphApiError(response.status, detail, retryAfterFromHeaders(response.headers));
    }
    if (body === undefined || body === null || typeof body !== 'object')
      throw noAnswer(`Graph answered HTTP ${response.status} with a body that is not JSON`, true);
    return body as T;
  }
}

/** What a Graph error means for delivery. Rejected credentials are told apart by the caller, which logs them. */
export function classifyGraphError(error: GraphApiError): ProviderError {
  const { code, subcode, status } = error;
  const ref = [
    code !== undefined ? `code ${code}` : `HTTP ${status}`,
    subcode !== undefined ? `subcode ${subcode}` : undefined,
    error.error.fbtrace_id ? `fbtrace_id ${error.error.fbtrace_id}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
  const detail = `${error.message} (${ref})`;

  if (code === GRAPH_CODE_INVALID_TOKEN)
    return new ProviderError('permanent', `credentials expired or revoked: ${detail}`);
  if (code === GRAPH_CODE_DUPLICATE_POST) return new ProviderError('permanent', `duplicate post: ${detail}`);
  if (subcode === IG_SUBCODE_PUBLISHING_LIMIT)
    return new ProviderError(
      'retryable',
      `publishing limit reached: ${detail}`,
      error.retryAfterMs ?? HOUR_MS,
    );
  if (
    (code !== undefined && (RETRYABLE_CODES.has(code) || isBusinessUseCaseThrottle(code))) ||
    error.error.is_transient === true ||
    status === 429 ||
    status >= 500
  )
    return new ProviderError('retryable', `Graph asked to retry later: ${detail}`, error.retryAfterMs);
  return new ProviderError('permanent', `Graph refused the post: ${detail}`);
}

/** Anything a Graph call threw, as the ProviderError the channel handler acts on. */
export function toProviderError(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof GraphApiError) return classifyGraphError(error);
  if (error instanceof GraphNoAnswerError)
    return new ProviderError(error.outcomeUnknown ? 'unknown-outcome' : 'retryable', error.message);
  return new ProviderError('unknown-outcome', 'the Graph call failed unexpectedly');
}

export const isInvalidToken = (error: unknown): error is GraphApiError =>
  error instanceof GraphApiError && error.code === GRAPH_CODE_INVALID_TOKEN;

export interface CredentialsOptions<C> {
  secrets: SecretSource;
  /** The secret's name, which is also the channel's (facebook, instagram, threads). */
  channel: string;
  logger?: LoggerLike | undefined;
  /** The credentials out of the secret's fields; undefined when a field is missing. */
  parse(fields: Record<string, string>): C | undefined;
  token(credentials: C): string;
}

async function readCredentials<C>(options: CredentialsOptions<C>, refresh: boolean): Promise<C> {
  let fields: Record<string, string> | undefined;
  try {
    fields = await options.secrets.get(options.channel, refresh ? { refresh: true } : undefined);
  } catch {
    // The secret store's own error may quote what it read; say only that it failed.
    throw new ProviderError('retryable', `could not read the ${options.channel} credentials`);
  }
  const credentials = fields ? options.parse(fields) : undefined;
  if (!credentials)
    throw new ProviderError('permanent', `the ${options.channel} credentials are missing or incomplete`);
  return credentials;
}

/**
 * Runs `work` with the channel's credentials. When Graph rejects the token, the secret is read again once,
 * bypassing the cache: a token rotated in Secrets Manager reaches a warm function without a redeploy, and a
 * rejected call posted nothing, so running `work` again cannot double-post. A token rejected after that is
 * logged for the alarm and fails the delivery for good.
 */
export async function withCredentials<C, T>(
  options: CredentialsOptions<C>,
  work: (credentials: C) => Promise<T>,
): Promise<T> {
  const first = await readCredentials(options, false);
  let rejected: GraphApiError;
  try {
    return await work(first);
  } catch (error) {
    if (!isInvalidToken(error)) throw toProviderError(error);
    rejected = error;
  }
  const fresh = await readCredentials(options, true);
  if (options.token(fresh) !== options.token(first)) {
    try {
      return await work(fresh);
    } catch (error) {
      if (!isInvalidToken(error)) throw toProviderError(error);
      rejected = error;
    }
  }
  options.logger?.error(CREDENTIALS_REJECTED_MESSAGE, {
    channel: options.channel,
    code: GRAPH_CODE_INVALID_TOKEN,
  });
  throw classifyGraphError(rejected);
}
