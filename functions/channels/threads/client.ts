/**
 * The Threads client (graph.threads.net, Meta's Graph-style API): check the publishing limit, create a media
 * container (TEXT, or IMAGE that Threads fetches from its public URL), wait until Threads says it is FINISHED,
 * publish it. An update or cancel is a reply (`reply_to_id`) to the previous version's post, so the versions of an
 * alert read as one thread; `providerMessageId` is the published media id, which is what `reply_to_id` takes.
 *
 * Errors are Graph's and are classified by ../../adapters/providers/graph.ts, with what is Threads' own on top:
 * publishing a container Threads has not finished with answers "Media Not Found" (code 24, subcode 4279009) and
 * published nothing, and the publishing limit is checked before anything is created.
 *
 * Exactly once: a container can be published only once, and its status says PUBLISHED once it has been. So before
 * the publish call is sent, the container is written to a ledger under the post's idempotency key, and it stays
 * there while the outcome is unknown. A later attempt for the same key asks the container first: PUBLISHED → it
 * finds the post and answers with its id; FINISHED → it publishes that same container; ERROR or EXPIRED → nothing
 * was published, it starts over. The default ledger lives in this process only; a ledger shared by every instance
 * (passed in `ledger`) makes this hold across them.
 */
import {
  type CredentialsOptions,
  GraphApiError,
  GraphClient,
  GraphNoAnswerError,
  HOUR_MS,
  isInvalidToken,
  MAX_RETRY_AFTER_MS,
  toProviderError,
  withCredentials,
} from '../../adapters/providers/graph';
import {
  type Clock,
  type ProviderAccepted,
  ProviderError,
  type SecretSource,
  systemClock,
} from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import type { SocialClient, SocialPost } from '../social';
import { THREADS_MAX_CHARS, threadsLength } from './render';
import {
  parseThreadsTime,
  readPages,
  THREADS_API_VERSION,
  THREADS_BASE_URL,
  THREADS_SECRET_NAME,
} from './replies';

export { THREADS_API_VERSION, THREADS_BASE_URL, THREADS_SECRET_NAME } from './replies';
/** The fields of the `threads` secret: the Threads user id (or `me`) and a long-lived user access token. */
export const THREADS_SECRET_KEYS = ['userId', 'accessToken'] as const;

/**
 * Four checks 1.5 s apart keep a post inside the channel's default 10-second provider timeout. Meta suggests
 * waiting longer before publishing (about 30 s for media); a container still processing is left to expire and
 * the retry starts a new one, which costs nothing: a container is private until published.
 */
export const DEFAULT_POLL_INTERVAL_MS = 1500;
export const DEFAULT_MAX_POLLS = 4;
/** When a limit is used up and the account's posts do not show when a slot frees. */
export const QUOTA_FALLBACK_RETRY_MS = HOUR_MS;
const MIN_QUOTA_RETRY_MS = 60_000;
/** Pages of 100 read to find when the limit frees; past that the fallback hour is cheaper than more calls. */
const QUOTA_PAGES = 4;
/** Pages read to find a post published by an attempt whose answer was lost. */
const FIND_PAGES = 4;
/** Threads' and this machine's clocks may differ: a post found this much before its container still counts. */
const CLOCK_SKEW_MS = 5 * 60_000;

interface Credentials {
  userId: string;
  accessToken: string;
}

/** A container whose publish call was sent and not answered for certain. */
export interface PendingPublish {
  containerId: string;
  text: string;
  /** The post it replies to, if it does. */
  replyTo?: string | undefined;
  /** ISO time the container was created. */
  at: string;
}

/** Where pending publishes are kept between attempts, by idempotency key. */
export interface PublishLedger {
  get(key: string): Promise<PendingPublish | undefined>;
  put(key: string, entry: PendingPublish): Promise<void>;
  delete(key: string): Promise<void>;
}

/** This process's ledger; the oldest entries go first past `capacity` (a container expires in 24 hours anyway). */
export function memoryLedger(capacity = 1000): PublishLedger {
  const entries = new Map<string, PendingPublish>();
  return {
    get: async (key) => entries.get(key),
    put: async (key, entry) => {
      entries.delete(key);
      entries.set(key, entry);
      for (const oldest of entries.keys()) {
        if (entries.size <= capacity) break;
        entries.delete(oldest);
      }
    },
    delete: async (key) => void entries.delete(key),
  };
}

export interface ThreadsClientOptions {
  secrets: SecretSource;
  /** The API's origin; tests point it at a local fake. */
  baseUrl?: string | undefined;
  apiVersion?: string | undefined;
  logger?: LoggerLike | undefined;
  clock?: Clock | undefined;
  pollIntervalMs?: number | undefined;
  maxPolls?: number | undefined;
  /** Waits between container status checks; rejects when the signal aborts. */
  sleep?: ((ms: number, signal: AbortSignal) => Promise<void>) | undefined;
  ledger?: PublishLedger | undefined;
}

interface Limits {
  data?: {
    quota_usage?: number;
    config?: { quota_total?: number; quota_duration?: number };
    reply_quota_usage?: number;
    reply_config?: { quota_total?: number; quota_duration?: number };
  }[];
}
interface MediaItem {
  id?: string;
  text?: string;
  timestamp?: string;
  is_reply_owned_by_me?: boolean;
}

const abortableSleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

/** Publishing a container Threads has not made ready (it published nothing). */
const isMediaNotFound = (e: unknown) => e instanceof GraphApiError && e.code === 24 && e.subcode === 4279009;
/** `reply_to_id` names a post that is gone (deleted, or never visible to this account). */
const isReplyTargetGone = (e: unknown) =>
  e instanceof GraphApiError && ((e.code === 100 && e.subcode === 33) || e.code === 24);
const sameText = (a: string | undefined, b: string) =>
  a !== undefined && a.replace(/\r\n/g, '\n').trim() === b.replace(/\r\n/g, '\n').trim();

export function createThreadsClient(options: ThreadsClientOptions): SocialClient {
  const graph = new GraphClient({
    baseUrl: options.baseUrl ?? THREADS_BASE_URL,
    version: options.apiVersion ?? THREADS_API_VERSION,
  });
  const sleep = options.sleep ?? abortableSleep;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const maxPolls = Math.max(1, options.maxPolls ?? DEFAULT_MAX_POLLS);
  const clock = options.clock ?? systemClock;
  const ledger = options.ledger ?? memoryLedger();
  const credentials: CredentialsOptions<Credentials> = {
    secrets: options.secrets,
    channel: THREADS_SECRET_NAME,
    logger: options.logger,
    parse: ({ userId, accessToken }) => (userId && accessToken ? { userId, accessToken } : undefined),
    token: (c) => c.accessToken,
  };

  /** When a slot frees: the oldest of the account's posts (or replies) inside the window leaves it. */
  const quotaFreesIn = async (c: Credentials, reply: boolean, durationS: number, signal: AbortSignal) => {
    const now = clock.now().getTime();
    const windowMs = durationS * 1000;
    const inWindow = (m: MediaItem) => parseThreadsTime(m.timestamp) > now - windowMs;
    try {
      // The list also holds what was posted in the app, which the limit does not count: the estimate can only be
      // early, which costs one more check, never late.
      const { items, complete } = await readPages<MediaItem>(
        graph,
        `${c.userId}/${reply ? 'replies' : 'threads'}`,
        { fields: 'timestamp', limit: 100 },
        { token: c.accessToken, signal },
        QUOTA_PAGES,
        { stop: (m) => !inWindow(m) },
      );
      const times = items.filter(inWindow).map((m) => parseThreadsTime(m.timestamp));
      if (!complete || times.length === 0) return QUOTA_FALLBACK_RETRY_MS;
      return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_QUOTA_RETRY_MS, Math.min(...times) + windowMs - now));
    } catch {
      return QUOTA_FALLBACK_RETRY_MS;
    }
  };

  /** Replies have their own limit (1,000 a day) apart from posts (250): the one this post would count against. */
  const checkQuota = async (c: Credentials, reply: boolean, signal: AbortSignal) => {
    const answer = await graph.get<Limits>(
      `${c.userId}/threads_publishing_limit`,
      { fields: reply ? 'reply_quota_usage,reply_config' : 'quota_usage,config' },
      { token: c.accessToken, signal },
    );
    const entry = answer.data?.[0];
    const used = reply ? entry?.reply_quota_usage : entry?.quota_usage;
    const config = reply ? entry?.reply_config : entry?.config;
    const total = config?.quota_total;
    // An answer without numbers blocks nothing: threads_publish refuses on its own when the limit is spent.
    if (typeof used !== 'number' || typeof total !== 'number' || used < total) return;
    const durationS = config?.quota_duration ?? 86_400;
    throw new ProviderError(
      'retryable',
      `Threads ${reply ? 'reply' : 'publishing'} limit reached (${used} of ${total} ${reply ? 'replies' : 'posts'} in ${Math.round(durationS / 3600)} hours)`,
      await quotaFreesIn(c, reply, durationS, signal),
    );
  };

  const createContainer = async (c: Credentials, post: SocialPost, signal: AbortSignal) => {
    const create = (replyTo: string | undefined) =>
      graph.post<{ id?: string }>(
        `${c.userId}/threads`,
        post.image
          ? {
              media_type: 'IMAGE',
              image_url: post.image.url,
              alt_text: post.image.alt || undefined,
              text: post.text || undefined,
              reply_to_id: replyTo,
            }
          : {
              media_type: 'TEXT',
              text: post.text,
              // The preview card is the alert's link, not a link the officer wrote earlier in the text.
              link_attachment: post.link,
              reply_to_id: replyTo,
            },
        { token: c.accessToken, signal },
      );
    let replyTo = post.inReplyTo;
    let created: { id?: string };
    try {
      created = await create(replyTo);
    } catch (error) {
      // An officer's answer is never posted on its own: without the resident's reply it answers nobody.
      if (!replyTo || !isReplyTargetGone(error) || post.answer) throw error;
      // The update must still reach the public; its text is marked as an update, so it stands on its own.
      options.logger?.warn('threads reply target gone; posting on its own', { alertId: post.alertId });
      replyTo = undefined;
      created = await create(undefined);
    }
    if (!created.id) throw new ProviderError('retryable', 'Threads created no media container');
    return { containerId: created.id, replyTo };
  };

  const waitUntilFinished = async (c: Credentials, containerId: string, signal: AbortSignal) => {
    for (let poll = 1; ; poll++) {
      const container = await graph.get<{ status?: string; error_message?: string }>(
        containerId,
        { fields: 'status,error_message' },
        { token: c.accessToken, signal },
      );
      const { status } = container;
      if (status === 'FINISHED') return;
      if (status === 'EXPIRED')
        throw new ProviderError('retryable', 'the Threads container expired before it was published');
      if (status !== undefined && status !== 'IN_PROGRESS')
        throw new ProviderError(
          'permanent',
          `Threads did not accept the post: container ${status}${container.error_message ? ` (${container.error_message})` : ''}`,
        );
      if (poll >= maxPolls)
        throw new ProviderError(
          'retryable',
          `Threads was still processing the post after ${maxPolls} checks; nothing was published`,
        );
      try {
        await sleep(pollIntervalMs, signal);
      } catch {
        throw new GraphNoAnswerError('the deadline passed while Threads processed the post', false);
      }
    }
  };

  const forget = async (key: string) => {
    try {
      await ledger.delete(key);
    } catch {
      // A stale entry only costs the next attempt for this key one status check.
    }
  };

  const publish = async (
    c: Credentials,
    key: string,
    pending: PendingPublish,
    signal: AbortSignal,
    again: boolean,
  ): Promise<ProviderAccepted> => {
    try {
      await ledger.put(key, pending);
    } catch {
      throw new ProviderError('retryable', 'could not record the Threads container before publishing it');
    }
    let published: { id?: string };
    try {
      published = await graph.post<{ id?: string }>(
        `${c.userId}/threads_publish`,
        { creation_id: pending.containerId },
        { token: c.accessToken, signal, publishes: true },
      );
    } catch (error) {
      // A refused token published nothing; the ledger keeps the container for the attempt with a fresh token.
      if (isInvalidToken(error) || !(error instanceof GraphApiError)) throw error;
      if (again)
        // The lost publish may have landed since the status check: say so, and let the next attempt ask again.
        throw new ProviderError(
          'unknown-outcome',
          `Threads refused to publish again the container of an attempt whose answer was lost: ${toProviderError(error).reason}`,
        );
      await forget(key);
      if (isMediaNotFound(error))
        throw new ProviderError(
          'retryable',
          `Threads had not finished the container; nothing was published: ${toProviderError(error).reason}`,
        );
      throw error;
    }
    if (!published.id)
      throw new ProviderError('unknown-outcome', 'Threads accepted the publish but named no media');
    await forget(key);
    return { providerMessageId: published.id };
  };

  /** The post an unanswered publish made: our own, with this text, not older than its container. */
  const findPublished = async (c: Credentials, pending: PendingPublish, signal: AbortSignal) => {
    const since = Date.parse(pending.at) - CLOCK_SKEW_MS;
    const ours = (m: MediaItem) =>
      Boolean(m.id) &&
      sameText(m.text, pending.text) &&
      (pending.replyTo === undefined || m.is_reply_owned_by_me === true) &&
      !(parseThreadsTime(m.timestamp) < since);
    const { items } = await readPages<MediaItem>(
      graph,
      pending.replyTo ? `${pending.replyTo}/replies` : `${c.userId}/threads`,
      pending.replyTo
        ? { fields: 'id,text,timestamp,is_reply_owned_by_me', reverse: 'true' }
        : { fields: 'id,text,timestamp', limit: 25 },
      { token: c.accessToken, signal },
      FIND_PAGES,
      { stop: ours },
    );
    return items.find(ours)?.id;
  };

  /** An earlier attempt sent the publish and lost the answer: its container says what happened. */
  const resume = async (
    c: Credentials,
    post: SocialPost,
    pending: PendingPublish,
    signal: AbortSignal,
  ): Promise<ProviderAccepted | undefined> => {
    const unknown = (why: string) =>
      new ProviderError('unknown-outcome', `an earlier Threads publish went unanswered and ${why}`);
    let status: string | undefined;
    try {
      status = (
        await graph.get<{ status?: string }>(
          pending.containerId,
          { fields: 'status' },
          { token: c.accessToken, signal },
        )
      ).status;
    } catch (error) {
      if (isInvalidToken(error)) throw error;
      throw unknown(`its container could not be checked: ${toProviderError(error).reason}`);
    }
    if (status === 'PUBLISHED') {
      let id: string | undefined;
      try {
        id = await findPublished(c, pending, signal);
      } catch (error) {
        if (isInvalidToken(error)) throw error;
        throw unknown(`its post could not be looked up: ${toProviderError(error).reason}`);
      }
      if (!id) throw unknown('Threads says it was published, but the post was not found');
      await forget(post.idempotencyKey);
      return { providerMessageId: id };
    }
    if (status === 'FINISHED' || status === 'IN_PROGRESS') {
      if (status === 'IN_PROGRESS') await waitUntilFinished(c, pending.containerId, signal);
      await checkQuota(c, pending.replyTo !== undefined, signal);
      return publish(c, post.idempotencyKey, pending, signal, true);
    }
    if (status === 'ERROR' || status === 'EXPIRED') {
      await forget(post.idempotencyKey);
      return undefined;
    }
    throw unknown(`its container answered status ${status ?? 'none'}`);
  };

  const send = async (c: Credentials, post: SocialPost, signal: AbortSignal): Promise<ProviderAccepted> => {
    let pending: PendingPublish | undefined;
    try {
      pending = await ledger.get(post.idempotencyKey);
    } catch {
      throw new ProviderError(
        'unknown-outcome',
        'could not read whether an earlier Threads publish is pending',
      );
    }
    if (pending) {
      const resumed = await resume(c, post, pending, signal);
      if (resumed) return resumed;
    }
    await checkQuota(c, post.inReplyTo !== undefined, signal);
    const at = clock.now().toISOString();
    const { containerId, replyTo } = await createContainer(c, post, signal);
    await waitUntilFinished(c, containerId, signal);
    return publish(c, post.idempotencyKey, { containerId, text: post.text, replyTo, at }, signal, false);
  };

  return {
    async post(post: SocialPost, signal: AbortSignal): Promise<ProviderAccepted> {
      if (post.test)
        throw new ProviderError('permanent', 'a Test or Exercise alert must not reach the public account');
      if (!post.text.trim() && !post.image)
        throw new ProviderError('permanent', 'a Threads post needs text or an image');
      if (post.answer && !post.inReplyTo)
        throw new ProviderError('permanent', 'a Threads answer needs the reply it answers');
      const length = threadsLength(post.text);
      if (length > THREADS_MAX_CHARS)
        throw new ProviderError(
          'permanent',
          `the text is ${length} characters as Threads counts them; Threads takes ${THREADS_MAX_CHARS}`,
        );
      return withCredentials(credentials, (c) => send(c, post, signal));
    },
  };
}
