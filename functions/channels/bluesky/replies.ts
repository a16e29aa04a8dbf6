/**
 * Residents' replies under the agency's Bluesky posts, for the tips path: one app.bsky.feed.getPostThread per
 * call, on the post a receipt names, `depth` levels down. It asks the public AppView, which needs no session: the
 * thread is public, and the reads then cost the agency's account nothing. Every post below that is not the agency's
 * own is a resident's reply, tied to the nearest of the agency's posts above it by that post's providerMessageId,
 * written exactly as the client (./client.ts) wrote it, so the tip intake finds the alert it answers.
 *
 * Asked without a session, the AppView leaves out replies whose authors ask not to be shown to logged-out viewers
 * (and those a moderation service hid); it says nothing of them, so such a tip is not seen here.
 *
 * Failures leave as the replies poller's own errors: a 429 as RateLimitedError with the reset the AppView names;
 * anything else as an Error carrying the XRPC error. A post that is gone answers `gone`, with no replies.
 */
import { type Clock, systemClock } from '../../ports';
import { RateLimitedError } from '../../replies/model';
import { decodePostId, encodePostId, type StrongRef } from './client';

export const BLUESKY_PUBLIC_APPVIEW = 'https://public.api.bsky.app';
const DEFAULT_DEPTH = 10;
const DEFAULT_TIMEOUT_MS = 10_000;
/** The AppView's limits run in 5-minute windows; when a 429 names no reset, wait one out. */
const DEFAULT_WINDOW_MS = 5 * 60 * 1000;

export interface BlueskyReply {
  /** The reply's AT URI: one tip per reply, however often it is read. */
  externalId: string;
  cid: string;
  /** The providerMessageId of the agency's post it answers (directly, or under another resident's reply). */
  inReplyTo: string;
  /** `@handle`: public on Bluesky, so it is the tip's `from`. */
  author: string;
  authorDid: string;
  text: string;
  /** When its author says it was written (the record's createdAt), else when the AppView saw it. */
  at: string;
  /** When the AppView indexed it (its own clock, unlike `at`): where a poller's next read may start. */
  indexedAt?: string | undefined;
}

export interface ThreadReplies {
  replies: BlueskyReply[];
  /** The post is deleted or hidden: nothing more will come under it. */
  gone: boolean;
}

export interface BlueskyReplyReaderOptions {
  /** The AppView (`/xrpc/…` is appended); Bluesky's public one unless a test points it at a fake. */
  baseUrl?: string | undefined;
  /** Levels of replies below the post, the agency's own later posts included (at most 1,000). */
  depth?: number | undefined;
  timeoutMs?: number | undefined;
  clock?: Clock | undefined;
}

interface PostView {
  uri?: unknown;
  cid?: unknown;
  author?: { did?: unknown; handle?: unknown };
  record?: { text?: unknown; createdAt?: unknown; reply?: { root?: unknown } };
  indexedAt?: unknown;
}
interface ThreadNode {
  $type?: unknown;
  post?: PostView;
  replies?: unknown;
}

const isRef = (v: unknown): v is StrongRef =>
  typeof (v as StrongRef)?.uri === 'string' && typeof (v as StrongRef)?.cid === 'string';
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** The DID in an AT URI (`at://<did>/<collection>/<rkey>`): who wrote the record. */
const authorOf = (uri: string) => /^at:\/\/([^/]+)\//.exec(uri)?.[1];

/**
 * Every resident's reply in the tree, each with the providerMessageId of the nearest agency post above it. Posts
 * the AppView could not show (#notFoundPost, #blockedPost) end their branch: what is under them is not shown either.
 */
function collect(node: ThreadNode, agency: string, above: string | undefined, out: BlueskyReply[]): void {
  if (node.$type !== 'app.bsky.feed.defs#threadViewPost' || !isRef(node.post)) return;
  const post = node.post as PostView & StrongRef;
  const did = str(post.author?.did);
  let nearest = above;
  if (did === agency) {
    const root = post.record?.reply?.root;
    nearest = encodePostId(post, isRef(root) ? root : undefined);
  } else if (above && did) {
    const text = str(post.record?.text) ?? '';
    const at = str(post.record?.createdAt) ?? str(post.indexedAt) ?? '';
    const handle = str(post.author?.handle) ?? did;
    out.push({
      externalId: post.uri,
      cid: post.cid,
      inReplyTo: above,
      author: `@${handle}`,
      authorDid: did,
      text,
      at,
      ...(str(post.indexedAt) ? { indexedAt: str(post.indexedAt) } : {}),
    });
  }
  if (Array.isArray(node.replies))
    for (const reply of node.replies) collect(reply as ThreadNode, agency, nearest, out);
}

export function createBlueskyReplyReader(options: BlueskyReplyReaderOptions = {}) {
  const base = (options.baseUrl ?? BLUESKY_PUBLIC_APPVIEW).replace(/\/+$/, '');
  const depth = Math.min(1000, Math.max(1, options.depth ?? DEFAULT_DEPTH));
  const clock = options.clock ?? systemClock;

  return {
    /** The residents' replies under the post `providerMessageId` names, in the order the AppView gives them. */
    async repliesTo(providerMessageId: string, signal?: AbortSignal): Promise<ThreadReplies> {
      const refs = decodePostId(providerMessageId);
      const agency = refs && authorOf(refs.parent.uri);
      if (!refs || !agency) throw new Error('not a Bluesky post id: no thread to read');
      const url = new URL(`${base}/xrpc/app.bsky.feed.getPostThread`);
      url.searchParams.set('uri', refs.parent.uri);
      url.searchParams.set('depth', String(depth));
      url.searchParams.set('parentHeight', '0');
      const response = await fetch(url, {
        headers: { accept: 'application/json' },
        signal: signal ?? AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        redirect: 'error',
      });
      const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
      if (response.status === 429) {
        const reset = Number(response.headers.get('ratelimit-reset') ?? Number.NaN);
        throw new RateLimitedError(
          Number.isFinite(reset) && reset > 0 ? reset * 1000 : clock.now().getTime() + DEFAULT_WINDOW_MS,
        );
      }
      if (response.status === 400 && body?.error === 'NotFound') return { replies: [], gone: true };
      if (!response.ok || typeof body?.thread !== 'object' || body.thread === null) {
        const detail = [str(body?.error), str(body?.message)].filter(Boolean).join(': ');
        throw new Error(`Bluesky getPostThread ${response.status}${detail ? ` ${detail}` : ''}`);
      }
      const thread = body.thread as ThreadNode;
      if (thread.$type !== 'app.bsky.feed.defs#threadViewPost') return { replies: [], gone: true };
      const replies: BlueskyReply[] = [];
      collect(thread, agency, undefined, replies);
      return { replies, gone: false };
    },
  };
}
