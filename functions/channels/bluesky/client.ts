/**
 * The Bluesky client: posts as the agency's account over XRPC (Node's fetch), signed in with its handle and an app
 * password (com.atproto.server.createSession). The session is kept per account for the life of the process (Bluesky
 * allows 30 sign-ins per 5 minutes); an expired access token is refreshed and the call made once more, and when the
 * refresh token is spent too the client signs in again. An update or cancel replies to the previous version's post,
 * naming the thread's root and that post, as a Bluesky reply must. The image comes through the guarded fetcher
 * (../post-image.ts) and is uploaded as a blob; the link gets a facet (./render.ts).
 *
 * Exactly once: Bluesky takes no idempotency key, but a post's record key may be chosen. Each post's key is derived
 * from its idempotency key (a valid TID, as app.bsky.feed.post's `key: "tid"` requires), so the post can be created
 * only once: the PDS's repository tree refuses the key a second time ("There is already a value at key"), which its
 * XRPC server answers as a bare `500 InternalServerError`. So after a 5xx, a lost answer or an unreadable one, the
 * client reads the key back (com.atproto.repo.getRecord): found, that is the post; not found, nothing was posted.
 * `lookup` does the same for the channel handler after an attempt whose outcome was lost.
 *
 * Every failure leaves as a ProviderError whose kind the channel handler acts on; no token or password reaches a
 * reason or a log.
 */
import { createHash } from 'node:crypto';
import { graphemes } from '../../core/render/text';
import type { Clock, ProviderAccepted, PublicImage, SecretSource } from '../../ports';
import { ProviderError, systemClock } from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import { NEVER_SENT_CODES } from '../../shared/never-sent';
import { fetchPostImage, type ImageFetchOptions } from '../post-image';
import type { SocialClient, SocialPost } from '../social';
import { linkFacets } from './render';

export const BLUESKY_BASE_URL = 'https://bsky.social';
export const BLUESKY_SECRET_NAME = 'bluesky';
/** The secret's keys: the account's handle (or DID, or e-mail) and an app password made for Herald. */
export const BLUESKY_SECRET_KEYS = ['identifier', 'appPassword'] as const;
type Credentials = Record<(typeof BLUESKY_SECRET_KEYS)[number], string>;

/** What every PDS takes (app.bsky.embed.images allows 2 MB since 2026; an older self-hosted PDS still 1 MB). */
export const BLUESKY_MAX_IMAGE_BYTES = 1_000_000;
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif']);
/** The Bluesky app's own cap on alt text, in graphemes; the lexicon sets none. */
const MAX_ALT_GRAPHEMES = 2_000;
const POST = 'app.bsky.feed.post';
const REFUSED_TEST = 'refusing to post a Test or Exercise alert to the public on Bluesky';
const LOOKUP_TIMEOUT_MS = 10_000;

/** Errors of a token that a refresh or a new sign-in can cure. */
const TOKEN_ERRORS = new Set(['ExpiredToken', 'InvalidToken']);

/** What a post names another by: the record's AT URI and the CID of its content. */
export interface StrongRef {
  uri: string;
  cid: string;
}

/**
 * providerMessageId: `<uri>|<cid>` for a post that starts a thread, `<uri>|<cid>|<rootUri>|<rootCid>` for a reply
 * (neither AT URIs nor CIDs hold `|`). A reply to it names `<uri>|<cid>` as parent and the root (itself for the
 * first post) as root.
 */
export function encodePostId(post: StrongRef, root?: StrongRef): string {
  const self = `${post.uri}|${post.cid}`;
  return !root || root.uri === post.uri ? self : `${self}|${root.uri}|${root.cid}`;
}

export function decodePostId(id: string): { parent: StrongRef; root: StrongRef } | undefined {
  const parts = id.split('|');
  if (parts.length !== 2 && parts.length !== 4) return undefined;
  if (parts.some((p) => !p) || !parts[0]!.startsWith('at://') || (parts[2] && !parts[2].startsWith('at://')))
    return undefined;
  const parent = { uri: parts[0]!, cid: parts[1]! };
  return { parent, root: parts.length === 4 ? { uri: parts[2]!, cid: parts[3]! } : parent };
}

const TID_ALPHABET = '234567abcdefghijklmnopqrstuvwxyz';

/**
 * The record key of the post with this idempotency key: 63 bits of its SHA-256 as a TID (13 characters of the
 * base32-sortable alphabet, top bit clear). Its "timestamp" means nothing, which the record-key spec allows; a
 * key taken from the alert's time instead would leave too few bits to keep an alert's versions apart.
 */
export function recordKeyFor(idempotencyKey: string): string {
  const digest = createHash('sha256').update(`herald/bluesky/rkey\n${idempotencyKey}`).digest();
  let n = digest.readBigUInt64BE(0) & ((1n << 63n) - 1n);
  let key = '';
  for (let i = 0; i < 13; i++, n >>= 5n) key = TID_ALPHABET[Number(n & 31n)] + key;
  return key;
}

/** An XRPC error answer: `{ error, message }` with its status and headers. */
export class XrpcError extends Error {
  constructor(
    readonly status: number,
    readonly error: string | undefined,
    readonly detail: string | undefined,
    readonly headers: Headers,
  ) {
    super(`Bluesky ${status}${error ? ` ${error}` : ''}${detail && detail !== error ? `: ${detail}` : ''}`);
    this.name = 'XrpcError';
  }
}

/** A 2xx whose body is not the JSON expected: the call did its work but its answer is lost. */
class UnreadableAnswer extends Error {}

export class BlueskyConfigurationError extends ProviderError {
  constructor(reason: string) {
    super('permanent', reason);
    this.name = 'BlueskyConfigurationError';
  }
}

export interface BlueskySession {
  accessJwt: string;
  refreshJwt: string;
  did: string;
  handle: string;
}

/** One per process: every client of the same account and server shares its session. */
const sharedSessions = new Map<string, BlueskySession>();

export interface BlueskyClientOptions extends ImageFetchOptions {
  secrets: SecretSource;
  /** The PDS or entryway (`/xrpc/…` is appended); Bluesky's own unless a test points it at a fake. */
  baseUrl?: string;
  logger?: LoggerLike;
  /** For the retry-after a 429 announces in epoch seconds, and the post's createdAt. */
  clock?: Clock;
  /** Sessions by server and account; one map for the whole process unless a test wants its own. */
  sessions?: Map<string, BlueskySession>;
}

/** A SocialPost, in the language its text is written in (the record's `langs`), when the caller knows it. */
export interface BlueskyPost extends SocialPost {
  language?: string | undefined;
}

export interface BlueskyClient extends SocialClient {
  post(post: BlueskyPost, signal: AbortSignal): Promise<ProviderAccepted>;
  /** The post made with this idempotency key, if there is one: for the handler after a lost outcome. */
  lookup(idempotencyKey: string, signal?: AbortSignal): Promise<ProviderAccepted | undefined>;
}

interface Call {
  nsid: string;
  query?: Record<string, string>;
  json?: unknown;
  bytes?: { data: Uint8Array; type: string };
  token?: string;
  /** A procedure without a body (refreshSession); one with a body is always a POST. */
  post?: boolean;
  /** Called as the request leaves (each time, if it is made again). */
  onSend?: () => void;
}

async function xrpc<T>(base: string, call: Call, signal: AbortSignal): Promise<T> {
  const url = new URL(`${base}/xrpc/${call.nsid}`);
  for (const [key, value] of Object.entries(call.query ?? {})) url.searchParams.set(key, value);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  let body: string | Uint8Array | undefined;
  if (call.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(call.json);
  } else if (call.bytes) {
    headers['content-type'] = call.bytes.type;
    body = call.bytes.data;
  }
  const method = body !== undefined || call.post === true ? 'POST' : 'GET';
  // A redirect would carry the bearer token to wherever it points: an XRPC server has no reason to send one.
  const response = await fetch(url, { method, headers, body, signal, redirect: 'error' });
  // An unreadable body is judged by the status: a refusal stays one, a success without its answer is a lost answer.
  const data: unknown = await response.json().catch((error: unknown) => {
    if (signal.aborted) throw error;
  });
  if (!response.ok) {
    const answer = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
    const str = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 300) : undefined);
    throw new XrpcError(response.status, str(answer.error), str(answer.message), response.headers);
  }
  if (typeof data !== 'object' || data === null) throw new UnreadableAnswer(`Bluesky ${response.status}`);
  return data as T;
}

const isRef = (v: unknown): v is StrongRef =>
  typeof (v as StrongRef)?.uri === 'string' && typeof (v as StrongRef)?.cid === 'string';

function readCredentials(secret: Record<string, string> | undefined): Credentials {
  const why = `Bluesky is not configured: ${secret ? 'the secret' : 'there are no credentials in the secret'}`;
  const missing = BLUESKY_SECRET_KEYS.filter((key) => !secret?.[key]);
  if (!secret) throw new BlueskyConfigurationError(`${why} "${BLUESKY_SECRET_NAME}"`);
  if (missing.length)
    throw new BlueskyConfigurationError(`${why} "${BLUESKY_SECRET_NAME}" lacks ${missing.join(', ')}`);
  return { identifier: secret.identifier!, appPassword: secret.appPassword! };
}

/** 429: Bluesky's `ratelimit-reset` is in epoch seconds; a plain `retry-after` in seconds is taken too. */
function retryAfterMs(headers: Headers, now: Date): number | undefined {
  const reset = Number(headers.get('ratelimit-reset') ?? Number.NaN);
  if (Number.isFinite(reset) && reset > 0) return Math.max(0, reset * 1000 - now.getTime());
  const after = Number(headers.get('retry-after') ?? Number.NaN);
  return Number.isFinite(after) && after >= 0 ? after * 1000 : undefined;
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as NodeJS.ErrnoException | undefined;
  if (cause instanceof Error) return cause.code ? `${cause.code}: ${cause.message}` : cause.message;
  return error.message;
}

const aborted = (error: unknown, signal: AbortSignal) =>
  signal.aborted ||
  (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError'));

/** One post's progress: whether createRecord has left (past that, a lost answer is an unknown outcome). */
interface Attempt {
  dispatched: boolean;
  credentials?: Credentials | undefined;
  session?: BlueskySession | undefined;
}

function classify(error: unknown, attempt: Attempt, signal: AbortSignal, clock: Clock): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof XrpcError) {
    if (error.status === 429)
      return new ProviderError('retryable', error.message, retryAfterMs(error.headers, clock.now()));
    // Still refused after a renewed session: most likely a clock or server fault; the next attempt signs in anew.
    if (error.status >= 500 || TOKEN_ERRORS.has(error.error ?? ''))
      return new ProviderError('retryable', error.message);
    // A refused request posted nothing, and sending it again as it is will be refused again.
    return new ProviderError('permanent', error.message);
  }
  if (error instanceof UnreadableAnswer)
    return attempt.dispatched
      ? new ProviderError('unknown-outcome', `${error.message}; the post may have gone out`)
      : new ProviderError('retryable', error.message);
  if (!attempt.dispatched) {
    const why = aborted(error, signal) ? 'timed out before posting' : errorText(error);
    return new ProviderError('retryable', `Bluesky not reached: ${why}`);
  }
  const code = ((error as Error | undefined)?.cause as NodeJS.ErrnoException | undefined)?.code;
  if (!aborted(error, signal) && code && NEVER_SENT_CODES.has(code))
    return new ProviderError('retryable', `Bluesky not reached: ${errorText(error)}`);
  const what = aborted(error, signal)
    ? 'no answer before the deadline'
    : `connection failed (${errorText(error)})`;
  // Its record key keeps a retry from posting it twice, and `lookup` finds it if it did go out.
  return new ProviderError(
    'unknown-outcome',
    `Bluesky: ${what} after the post was sent; it may have gone out`,
  );
}

/** Belt and braces: whatever text reaches a reason, no token or password goes with it. */
function redacted(error: ProviderError, attempt: Attempt): ProviderError {
  const { credentials: c, session: s } = attempt;
  let reason = error.reason;
  for (const secret of [c?.appPassword, s?.accessJwt, s?.refreshJwt])
    if (secret && secret.length >= 4) reason = reason.split(secret).join('[redacted]');
  if (reason === error.reason) return error;
  return new ProviderError(error.kind, reason, error.retryAfterMs);
}

/** The guard words a too-big image in general terms; the receipt should say whose limit it is. */
function namingTheLimit(error: unknown): never {
  const tooBig = error instanceof ProviderError && /(over|past) the limit/.test(error.reason);
  if (!tooBig || error.kind !== 'permanent') throw error;
  throw new ProviderError(
    'permanent',
    `the alert image is over the 1,000,000 bytes Bluesky takes (${error.reason})`,
  );
}

const truncateGraphemes = (text: string, max: number) => {
  const parts = graphemes(text);
  return parts.length <= max ? text : `${parts.slice(0, max - 1).join('')}…`;
};

class Bluesky implements BlueskyClient {
  private readonly base: string;
  private readonly clock: Clock;
  private readonly sessions: Map<string, BlueskySession>;

  constructor(private readonly options: BlueskyClientOptions) {
    this.base = (options.baseUrl ?? BLUESKY_BASE_URL).replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    this.sessions = options.sessions ?? sharedSessions;
  }

  async post(post: BlueskyPost, signal: AbortSignal): Promise<ProviderAccepted> {
    if (post.test) throw new ProviderError('permanent', REFUSED_TEST);
    const attempt: Attempt = { dispatched: false };
    try {
      if (signal.aborted) throw new ProviderError('retryable', 'Bluesky not reached: timed out');
      const { did } = await this.session(attempt, signal);
      const reply = this.replyTo(post);
      const embed = post.image ? await this.embedImage(attempt, post.image, signal) : undefined;
      const facets = post.link ? linkFacets(post.text, [post.link]) : [];
      if (post.link && facets.length === 0) this.warn('the post does not show its link: no link facet', post);
      const record = {
        $type: POST,
        text: post.text,
        createdAt: this.clock.now().toISOString(),
        ...(post.language ? { langs: [post.language] } : {}),
        ...(facets.length ? { facets } : {}),
        ...(embed ? { embed } : {}),
        ...(reply ? { reply } : {}),
      };
      const rkey = recordKeyFor(post.idempotencyKey);
      const json = { repo: did, collection: POST, rkey, record };
      const onSend = () => {
        attempt.dispatched = true;
      };
      try {
        const created = await this.authed(
          attempt,
          { nsid: 'com.atproto.repo.createRecord', json, onSend },
          signal,
        );
        if (isRef(created)) return { providerMessageId: encodePostId(created, reply?.root) };
        throw new UnreadableAnswer('Bluesky answered the post without its uri and cid');
      } catch (error) {
        // A 5xx may be the PDS refusing the record key because an earlier attempt posted it (a PDS that names the
        // clash is read back too); a lost or unreadable answer may hide a post. Either way the key says where to
        // look, but not once the deadline has passed.
        const mayExist =
          (error instanceof XrpcError &&
            (error.status >= 500 || /already|InvalidSwap/i.test(error.message))) ||
          error instanceof UnreadableAnswer ||
          (attempt.dispatched && !(error instanceof XrpcError) && !aborted(error, signal));
        const found = mayExist && (await this.readBack(did, rkey, signal).catch(() => undefined));
        if (found) return found;
        throw error;
      }
    } catch (error) {
      throw redacted(classify(error, attempt, signal, this.clock), attempt);
    }
  }

  async lookup(idempotencyKey: string, signal = AbortSignal.timeout(LOOKUP_TIMEOUT_MS)) {
    const attempt: Attempt = { dispatched: false };
    try {
      const { did } = await this.session(attempt, signal);
      return await this.readBack(did, recordKeyFor(idempotencyKey), signal);
    } catch (error) {
      throw redacted(classify(error, attempt, signal, this.clock), attempt);
    }
  }

  /** The post at this record key of the account's repo, or undefined when there is none. */
  private async readBack(
    repo: string,
    rkey: string,
    signal: AbortSignal,
  ): Promise<ProviderAccepted | undefined> {
    const call = { nsid: 'com.atproto.repo.getRecord', query: { repo, collection: POST, rkey } };
    try {
      const found = await xrpc<StrongRef & { value?: { reply?: { root?: unknown } } }>(
        this.base,
        call,
        signal,
      );
      const root = found.value?.reply?.root;
      if (!isRef(found)) throw new UnreadableAnswer('Bluesky answered getRecord without a uri and cid');
      return { providerMessageId: encodePostId(found, isRef(root) ? root : undefined) };
    } catch (error) {
      if (error instanceof XrpcError && error.error === 'RecordNotFound') return undefined;
      throw error;
    }
  }

  private replyTo(post: SocialPost): { root: StrongRef; parent: StrongRef } | undefined {
    if (!post.inReplyTo) return undefined;
    const refs = decodePostId(post.inReplyTo);
    if (!refs && post.answer)
      throw new ProviderError('permanent', 'the reply to answer is not a Bluesky post id');
    // Not a Bluesky post id (a bug, or a receipt from before this client): the update matters more than the thread.
    if (!refs)
      this.warn('the post to reply to is not a Bluesky post id; posting the update on its own', post);
    return refs && { root: refs.root, parent: refs.parent };
  }

  private warn(message: string, post: SocialPost) {
    this.options.logger?.warn(message, { channel: 'bluesky', alertId: post.alertId, version: post.version });
  }

  private async embedImage(attempt: Attempt, image: PublicImage, signal: AbortSignal) {
    const limits = { network: 'Bluesky', maxBytes: BLUESKY_MAX_IMAGE_BYTES, types: IMAGE_TYPES };
    const { bytes, type } = await fetchPostImage(image, signal, limits, this.options).catch(namingTheLimit);
    const { blob } = await this.authed<{ blob?: { ref?: unknown; mimeType?: unknown } }>(
      attempt,
      { nsid: 'com.atproto.repo.uploadBlob', bytes: { data: bytes, type } },
      signal,
    );
    if (typeof blob?.ref !== 'object' || typeof blob.mimeType !== 'string')
      throw new ProviderError('retryable', 'Bluesky answered the image upload without a blob');
    const { width, height } = image;
    const sized = Number.isInteger(width) && Number.isInteger(height) && width! >= 1 && height! >= 1;
    const alt = truncateGraphemes(image.alt.trim(), MAX_ALT_GRAPHEMES);
    return {
      $type: 'app.bsky.embed.images',
      images: [{ image: blob, alt, ...(sized ? { aspectRatio: { width, height } } : {}) }],
    };
  }

  /** A call with the session's access token; a token refused as expired or invalid is renewed once. */
  private async authed<T>(attempt: Attempt, call: Call, signal: AbortSignal): Promise<T> {
    const session = await this.session(attempt, signal);
    try {
      call.onSend?.();
      return await xrpc<T>(this.base, { ...call, token: session.accessJwt }, signal);
    } catch (error) {
      if (!(error instanceof XrpcError && (TOKEN_ERRORS.has(error.error ?? '') || error.status === 401)))
        throw error;
      // The token was refused before the call ran: nothing was posted, so the call can be made again.
      attempt.dispatched = false;
      const renewed = await this.renew(attempt, session, signal);
      call.onSend?.();
      return await xrpc<T>(this.base, { ...call, token: renewed.accessJwt }, signal);
    }
  }

  private async session(attempt: Attempt, signal: AbortSignal): Promise<BlueskySession> {
    attempt.credentials ??= readCredentials(await this.options.secrets.get(BLUESKY_SECRET_NAME));
    attempt.session = this.sessions.get(this.cacheKey(attempt));
    return attempt.session ?? this.signIn(attempt, signal);
  }

  private cacheKey(attempt: Attempt) {
    return `${this.base}\n${attempt.credentials!.identifier}`;
  }

  private keep(attempt: Attempt, answer: unknown): BlueskySession {
    const session = sessionOf(answer);
    this.sessions.set(this.cacheKey(attempt), session);
    attempt.session = session;
    return session;
  }

  private async renew(attempt: Attempt, stale: BlueskySession, signal: AbortSignal): Promise<BlueskySession> {
    const call = { nsid: 'com.atproto.server.refreshSession', token: stale.refreshJwt, post: true };
    try {
      return this.keep(attempt, await xrpc(this.base, call, signal));
    } catch (error) {
      if (!(error instanceof XrpcError && error.status < 500 && error.status !== 429)) throw error;
      // The refresh token is spent or revoked too: sign in again.
      this.options.logger?.info('the Bluesky session could not be refreshed; signing in again', {
        error: error.error,
      });
      return this.signIn(attempt, signal);
    }
  }

  /** createSession; refused, the secret is read again once (it most likely holds a new app password). */
  private async signIn(attempt: Attempt, signal: AbortSignal, reread = false): Promise<BlueskySession> {
    const { identifier, appPassword: password } = attempt.credentials!;
    const call = { nsid: 'com.atproto.server.createSession', json: { identifier, password } };
    try {
      return this.keep(attempt, await xrpc(this.base, call, signal));
    } catch (error) {
      if (!(error instanceof XrpcError && error.status === 401)) throw error;
      this.sessions.delete(this.cacheKey(attempt));
      if (reread || error.error === 'AccountTakedown')
        throw new ProviderError('permanent', `Bluesky refused to sign in: ${error.message}`);
      this.options.logger?.warn('Bluesky refused the app password; re-reading the secret once');
      const fresh = await this.options.secrets.get(BLUESKY_SECRET_NAME, { refresh: true });
      attempt.credentials = readCredentials(fresh);
      return this.signIn(attempt, signal, true);
    }
  }
}

function sessionOf(answer: unknown): BlueskySession {
  const s = answer as Partial<BlueskySession>;
  if (![s.accessJwt, s.refreshJwt, s.did, s.handle].every((v) => typeof v === 'string' && v))
    throw new UnreadableAnswer('Bluesky answered the sign-in without a session');
  return { accessJwt: s.accessJwt!, refreshJwt: s.refreshJwt!, did: s.did!, handle: s.handle! };
}

export function createBlueskyClient(options: BlueskyClientOptions): BlueskyClient {
  return new Bluesky(options);
}
