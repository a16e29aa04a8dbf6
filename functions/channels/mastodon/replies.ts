/**
 * Reading residents' replies to the agency's Mastodon statuses, for the tips path: `GET /api/v1/statuses/:id/context`
 * answers the whole thread below a status (`descendants`, depth-first), so one request per watched status finds every
 * reply, however deeply nested, and the agency's own later updates, which are left out. Mastodon has no search by
 * thread, and its streaming and notification APIs need a long-lived connection or a `read:notifications` scope the
 * posting token does not carry.
 *
 * The agency's account is told apart without asking for it: a reply directly below the watched status carries the
 * status's author as `in_reply_to_account_id`, and every descendant hangs from one such reply (depth-first, it comes
 * first). That needs no `read:accounts` scope.
 *
 * The posting token (`write:statuses write:media`) may lack `read:statuses`; Mastodon then refuses a read that
 * carries it (403), though the same read without a token is allowed for public statuses, capped at 60 descendants
 * and depth 20, and without private mentions. After a 403 the reader reads without the token, and says so
 * (`complete: false`); adding `read:statuses` to the token lifts the cap.
 *
 * Failures leave as the poller's own errors (../../replies/model.ts): a 429 as RateLimitedError with the instance's
 * reset; anything else as an Error whose message carries no credential.
 */
import { type Clock, type SecretSource, systemClock } from '../../ports';
import { compareIds, RateLimitedError, type RateLimitState } from '../../replies/model';
import { MASTODON_SECRET_NAME, parseMastodonMessageId, readMastodonCredentials } from './client';

export interface MastodonReply {
  /** The reply's status id. */
  id: string;
  inReplyToId: string;
  /** `user` for an account on the agency's instance, `user@their.instance` for another. */
  acct: string;
  accountId: string;
  /** What the resident wrote, as plain text, without the mentions Mastodon puts at its start. */
  text: string;
  /** `public`, `unlisted`, or `private`/`direct` when the resident wrote to the agency alone. */
  visibility: string;
  createdAt: string;
  url?: string | undefined;
  language?: string | undefined;
}

export interface RepliesPage {
  /** Newer than `sinceId`, oldest first. */
  replies: MastodonReply[];
  /** The newest reply's id, to pass as the next `sinceId`. */
  newestId?: string | undefined;
  /** False when read without the token: the public view stops at 60 replies and leaves out private mentions. */
  complete: boolean;
  rateLimit?: RateLimitState | undefined;
}

export interface MastodonReplyReaderOptions {
  secrets: SecretSource;
  /** For tests only: where to send the requests instead of the secret's `instanceUrl`. */
  baseUrl?: string | undefined;
  /** Per request; the poller's run has a deadline of its own. */
  timeoutMs?: number | undefined;
  clock?: Clock | undefined;
}

export interface MastodonReplyReader {
  /**
   * Residents' replies below the status `providerMessageId` names (the Mastodon client's `<id>@<host>`), newer than
   * `sinceId`. Undefined when the status is gone or is not on the configured instance.
   */
  repliesTo(
    providerMessageId: string,
    options?: { sinceId?: string | undefined },
  ): Promise<RepliesPage | undefined>;
}

/** Mastodon's default window is 5 minutes: the wait when a 429 names no reset. */
const DEFAULT_WINDOW_MS = 5 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

interface StatusJson {
  id?: unknown;
  in_reply_to_id?: unknown;
  in_reply_to_account_id?: unknown;
  account?: { id?: unknown; acct?: unknown };
  content?: unknown;
  visibility?: unknown;
  created_at?: unknown;
  url?: unknown;
  language?: unknown;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** Mastodon's HTML content as the text a person typed: paragraphs and line breaks kept, links as their full URL. */
export function plainText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<\/p>\s*<p[^>]*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
      const code =
        name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    })
    .replace(/^(?:\s*@[\w.-]+(?:@[\w.-]+)?)+\s*/u, '')
    .trim();
}

const text = (value: unknown) =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;

function rateLimitOf(headers: Headers): RateLimitState | undefined {
  const remaining = Number(headers.get('x-ratelimit-remaining') ?? Number.NaN);
  const resetAt = Date.parse(headers.get('x-ratelimit-reset') ?? '');
  if (!Number.isFinite(remaining) || !Number.isFinite(resetAt)) return undefined;
  const limit = Number(headers.get('x-ratelimit-limit') ?? Number.NaN);
  return { ...(Number.isFinite(limit) ? { limit } : {}), remaining, resetAt };
}

export function createMastodonReplyReader(options: MastodonReplyReaderOptions): MastodonReplyReader {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  // Once the token is refused for reading, it stays refused until someone adds the scope: read without it.
  let withToken = true;

  const credentials = async (refresh: boolean) =>
    readMastodonCredentials(
      await options.secrets.get(MASTODON_SECRET_NAME, refresh ? { refresh: true } : undefined),
    );

  async function context(
    statusId: string,
    { instanceUrl, accessToken }: { instanceUrl: string; accessToken: string },
  ) {
    const origin = (options.baseUrl ?? instanceUrl).replace(/\/+$/, '');
    const read = (token: boolean) =>
      fetch(`${origin}/api/v1/statuses/${encodeURIComponent(statusId)}/context`, {
        headers: {
          accept: 'application/json',
          'user-agent': 'Herald public alerts',
          ...(token ? { authorization: `Bearer ${accessToken}` } : {}),
        },
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
    const response = await read(withToken);
    if (response.status !== 403 || !withToken) return response;
    withToken = false;
    return read(false);
  }

  return {
    async repliesTo(providerMessageId, { sinceId } = {}) {
      const target = parseMastodonMessageId(providerMessageId);
      if (!target) return undefined;
      let current = await credentials(false);
      // Another instance's id names some other status here, if any: it cannot be the agency's.
      if (target.host !== undefined && target.host !== new URL(current.instanceUrl).host.toLowerCase())
        return undefined;
      let response = await context(target.statusId, current);
      if (response.status === 401 && withToken) {
        // Most likely a token rotated under a warm function: re-read the secret once.
        current = await credentials(true);
        response = await context(target.statusId, current);
      }
      const token = current.accessToken;
      const rateLimit = rateLimitOf(response.headers);
      if (response.status === 404) return undefined;
      if (response.status === 429)
        throw new RateLimitedError(rateLimit?.resetAt ?? clock.now().getTime() + DEFAULT_WINDOW_MS);
      const body = (await response.json().catch(() => undefined)) as
        | { descendants?: StatusJson[] }
        | undefined;
      if (response.status !== 200 || !Array.isArray(body?.descendants)) {
        const detail =
          typeof (body as { error?: unknown })?.error === 'string' ? (body as { error: string }).error : '';
        throw new Error(`Mastodon ${response.status} ${detail}`.trim().split(token).join('[redacted]'));
      }

      const descendants = body.descendants;
      const agency = text(
        descendants.find((s) => text(s.in_reply_to_id) === target.statusId)?.in_reply_to_account_id,
      );
      const replies: MastodonReply[] = [];
      for (const s of descendants) {
        const id = text(s.id);
        const accountId = text(s.account?.id);
        const inReplyToId = text(s.in_reply_to_id);
        if (!id || !accountId || !inReplyToId || accountId === agency) continue;
        if (sinceId && compareIds(id, sinceId) <= 0) continue;
        replies.push({
          id,
          inReplyToId,
          acct: text(s.account?.acct) ?? accountId,
          accountId,
          text: plainText(typeof s.content === 'string' ? s.content : ''),
          visibility: text(s.visibility) ?? 'public',
          createdAt: text(s.created_at) ?? '',
          ...(text(s.url) ? { url: text(s.url) } : {}),
          ...(text(s.language) ? { language: text(s.language) } : {}),
        });
      }
      replies.sort((a, b) => compareIds(a.id, b.id));
      return {
        replies,
        ...(replies.length ? { newestId: replies.at(-1)!.id } : {}),
        complete: withToken,
        ...(rateLimit ? { rateLimit } : {}),
      };
    },
  };
}
