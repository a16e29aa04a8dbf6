/**
 * A local stand-in for the X API v2 on 127.0.0.1, speaking its wire format closely enough that the real
 * twitter-api-v2 client runs unchanged against it: OAuth 1.0a user-context signatures are verified (so a
 * rotated secret really earns a 401), posts answer 201 `{ data: { id, text } }`, errors are the problem
 * objects X sends (`application/problem+json`), a 429 carries the `x-rate-limit-*` headers, the same text
 * posted twice earns X's duplicate-content 403, and media goes through the chunked v2 upload
 * (`/2/media/upload/initialize`, `/{id}/append`, `/{id}/finalize`) and `/2/media/metadata`.
 *
 * It also serves files under `/public/` to stand in for the CDN the alert images are fetched from.
 *
 * For the replies poller it reads as well: `GET /2/tweets/search/recent` with a `conversation_id:<id>` query,
 * `since_id`, `max_results` (10 to 100) and `next_token` pages, newest first, the authors under `includes.users`,
 * and X's `x-rate-limit-*` headers from a window the test can set (`searchLimit`; spent, it answers 429 until its
 * reset); `GET /2/tweets?ids=` (with `conversation_id`, and `public_metrics` for the engagement poller, set per post
 * with `publicMetrics`) and `GET /2/users/me`. Residents' replies are added with
 * `reply()`; the agency's own posts carry its account id as author and thread into their conversation.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface XFakeCredentials {
  appKey: string;
  appSecret: string;
  accessToken: string;
  accessSecret: string;
}

export interface RecordedFormPart {
  /** Text fields keep their value; files are summarised, the bytes kept for comparison. */
  value?: string;
  file?: { size: number; type: string; bytes: Uint8Array };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, when there was one. */
  body?: unknown;
  /** The parsed multipart fields, when the body was `multipart/form-data`. */
  form?: Record<string, RecordedFormPart>;
  /** Whether the OAuth signature checked out. */
  authorized: boolean;
}

/** What a scripted answer says instead of the fake's own logic. `hang` never answers (to test timeouts). */
export type ScriptedAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true };

export interface Tweet {
  id: string;
  text: string;
  inReplyTo?: string | undefined;
  mediaIds?: string[] | undefined;
  /** Who wrote it: the agency's account for what the API posted, a resident for `reply()`. */
  authorId?: string | undefined;
  /** The root of its thread: its own id for a post that replies to nothing. */
  conversationId?: string | undefined;
  createdAt?: string | undefined;
}

/** X's rate-limit window for recent search, as its headers report it; `resetAt` in epoch seconds. */
export interface SearchWindow {
  limit: number;
  remaining: number;
  resetAt: number;
}

export interface UploadedMedia {
  id: string;
  mediaKey: string;
  type: string;
  category?: string | undefined;
  totalBytes: number;
  chunks: Map<number, Uint8Array>;
  finalized: boolean;
  altText?: string | undefined;
}

interface Script {
  remaining: number;
  answer: ScriptedAnswer;
  match?: { method?: string; path?: string } | undefined;
}

/** A problem object as X writes it. */
export const problem = (status: number, title: string, detail: string, type = 'about:blank') => ({
  title,
  detail,
  type,
  status,
});

/** X's 429: the problem object plus the rate-limit headers, `reset` in epoch seconds. */
export const rateLimited = (resetEpochSeconds: number, limit = 100): ScriptedAnswer => ({
  status: 429,
  body: problem(429, 'Too Many Requests', 'Too Many Requests', 'about:blank'),
  headers: {
    'x-rate-limit-limit': String(limit),
    'x-rate-limit-remaining': '0',
    'x-rate-limit-reset': String(resetEpochSeconds),
  },
});

const DUPLICATE_DETAIL = 'You are not allowed to create a Tweet with duplicate content.';
const REPLY_TARGET_GONE = 'You attempted to reply to a Tweet that is deleted or not visible to you.';
/** OAuth 1.0a timestamps more than this far from the server clock are refused, as X does. */
const TIMESTAMP_SKEW_SECONDS = 300;

/** RFC 3986 percent-encoding, as RFC 5849 §3.6 asks for the signature base string. */
const encode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function parseOAuthHeader(header: string | undefined): Map<string, string> | undefined {
  if (!header?.startsWith('OAuth ')) return undefined;
  const params = new Map<string, string>();
  for (const match of header.slice(6).matchAll(/([a-z_]+)="([^"]*)"/g))
    params.set(match[1]!, decodeURIComponent(match[2]!));
  return params;
}

export class XApiFake {
  readonly requests: RecordedRequest[] = [];
  readonly tweets = new Map<string, Tweet>();
  readonly media = new Map<string, UploadedMedia>();
  private readonly scripts: Script[] = [];
  private readonly files = new Map<string, { bytes: Uint8Array; contentType: string }>();
  private readonly nonces = new Set<string>();
  private readonly hanging = new Set<ServerResponse>();
  private nextId = 1_800_000_000_000_000_000n;
  /** Usernames by user id: the agency's account and every resident who replied. */
  readonly users = new Map<string, string>();
  /**
   * For the engagement poller: a post's `public_metrics` as `GET /2/tweets?tweet.fields=public_metrics` shows them
   * (retweet_count, reply_count, like_count, quote_count, bookmark_count, impression_count). A post without an entry
   * shows every count at 0; an entry is shown as it is, so a test can leave a count out.
   */
  readonly publicMetrics = new Map<string, Record<string, number>>();
  /** The 300 searches per 15 minutes X allows a user; a test lowers `remaining` to reach the limit. */
  searchLimit: SearchWindow = { limit: 300, remaining: 300, resetAt: Math.floor(Date.now() / 1000) + 900 };
  private readonly pageTokens = new Map<
    string,
    { conversationId: string; sinceId?: string; offset: number }
  >();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    public credentials: XFakeCredentials,
  ) {}

  static async start(credentials: XFakeCredentials): Promise<XApiFake> {
    let fake: XApiFake | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify(problem(500, 'Internal Server Error', String(error))));
      });
    });
    fake = new XApiFake(server, credentials);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The account the credentials act for: its id is the access token's leading digits, as X issues them. */
  get account(): { id: string; username: string } {
    const id = /^(\d+)-/.exec(this.credentials.accessToken)?.[1] ?? '1000';
    return { id, username: 'agency' };
  }

  /**
   * A resident's public reply to post `to` (the agency's, or another reply): it joins `to`'s conversation, with an
   * id newer than every post so far, as X's ids grow with time. Answers the reply's id.
   */
  reply(options: { to: string; username: string; text: string; authorId?: string }): string {
    const parent = this.tweets.get(options.to);
    if (!parent) throw new Error(`no post ${options.to} to reply to`);
    const authorId =
      options.authorId ??
      [...this.users].find(([, name]) => name === options.username)?.[0] ??
      String(2_000_000 + this.users.size);
    this.users.set(authorId, options.username);
    const id = this.newId();
    this.tweets.set(id, {
      id,
      text: options.text,
      inReplyTo: options.to,
      authorId,
      conversationId: parent.conversationId ?? parent.id,
      createdAt: new Date().toISOString(),
    });
    return id;
  }

  /** The search requests the poller made, in order. */
  get searches(): RecordedRequest[] {
    return this.requests.filter((r) => r.path === '/2/tweets/search/recent');
  }

  /** Where to point the client: the origin, under which `/2/…` lives as on api.x.com. */
  get baseUrl(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** Answers the next `times` matching requests with `answer` instead of the fake's own logic. */
  answerNext(times: number, answer: ScriptedAnswer, match?: { method?: string; path?: string }): void {
    this.scripts.push({ remaining: times, answer, match });
  }

  /** Serves a file at `/public/<name>` (the stand-in CDN) and answers its URL. */
  servePublic(name: string, bytes: Uint8Array, contentType: string): string {
    this.files.set(`/public/${name}`, { bytes, contentType });
    return `${this.baseUrl}/public/${name}`;
  }

  /** Requests to the API itself (not the stand-in CDN). */
  get apiRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/2/'));
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private newId(): string {
    this.nextId += 1n;
    return this.nextId.toString();
  }

  private takeScript(method: string, path: string): ScriptedAnswer | undefined {
    const index = this.scripts.findIndex(
      (s) =>
        s.remaining > 0 &&
        (!s.match?.method || s.match.method === method) &&
        (!s.match?.path || s.match.path === path),
    );
    if (index < 0) return undefined;
    const script = this.scripts[index]!;
    script.remaining -= 1;
    if (script.remaining <= 0) this.scripts.splice(index, 1);
    return script.answer;
  }

  /** RFC 5849 HMAC-SHA1 check of the Authorization header against the configured credentials. */
  private verifyOAuth(req: IncomingMessage, url: URL): boolean {
    const oauth = parseOAuthHeader(req.headers.authorization);
    if (!oauth) return false;
    const { appKey, appSecret, accessToken, accessSecret } = this.credentials;
    if (oauth.get('oauth_consumer_key') !== appKey || oauth.get('oauth_token') !== accessToken) return false;
    if (oauth.get('oauth_signature_method') !== 'HMAC-SHA1') return false;
    const timestamp = Number(oauth.get('oauth_timestamp'));
    if (!(Math.abs(Date.now() / 1000 - timestamp) <= TIMESTAMP_SKEW_SECONDS)) return false;
    const nonce = oauth.get('oauth_nonce') ?? '';
    if (!nonce || this.nonces.has(nonce)) return false;

    const params: [string, string][] = [];
    for (const [key, value] of oauth)
      if (key !== 'oauth_signature') params.push([encode(key), encode(value)]);
    for (const [key, value] of url.searchParams) params.push([encode(key), encode(value)]);
    params.sort(([ak, av], [bk, bv]) => (ak === bk ? (av < bv ? -1 : 1) : ak < bk ? -1 : 1));
    const base = [
      req.method!.toUpperCase(),
      encode(`http://${req.headers.host}${url.pathname}`),
      encode(params.map(([k, v]) => `${k}=${v}`).join('&')),
    ].join('&');
    const expected = createHmac('sha1', `${encode(appSecret)}&${encode(accessSecret)}`)
      .update(base)
      .digest();
    const given = Buffer.from(oauth.get('oauth_signature') ?? '', 'base64');
    const ok = given.length === expected.length && timingSafeEqual(given, expected);
    if (ok) this.nonces.add(nonce);
    return ok;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);

    const recorded: RecordedRequest = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      authorized: false,
    };
    const contentType = req.headers['content-type'] ?? '';
    if (raw.length > 0 && contentType.includes('application/json'))
      recorded.body = JSON.parse(raw.toString());
    if (raw.length > 0 && contentType.includes('multipart/form-data'))
      recorded.form = parseMultipart(raw, contentType);
    this.requests.push(recorded);

    const file = method === 'GET' ? this.files.get(url.pathname) : undefined;
    if (file) {
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.length) });
      res.end(file.bytes);
      return;
    }

    if (url.pathname.startsWith('/public/')) return send(res, 404, { error: 'no such file' });

    const scripted = this.takeScript(method, url.pathname);
    if (scripted && 'hang' in scripted) {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    if (scripted) return send(res, scripted.status, scripted.body ?? {}, scripted.headers);

    recorded.authorized = this.verifyOAuth(req, url);
    if (!recorded.authorized) return send(res, 401, problem(401, 'Unauthorized', 'Unauthorized'));
    this.route(method, url, recorded, res);
  }

  private route(method: string, url: URL, recorded: RecordedRequest, res: ServerResponse): Answered {
    const path = url.pathname;
    const body = (recorded.body ?? {}) as Record<string, unknown>;

    if (method === 'POST' && path === '/2/tweets') return this.postTweet(body, res);
    if (method === 'GET' && path === '/2/tweets/search/recent') return this.search(url, res);
    if (method === 'GET' && path === '/2/tweets') return this.lookup(url, res);
    if (method === 'GET' && path === '/2/users/me') {
      const { id, username } = this.account;
      return send(res, 200, { data: { id, name: 'The Agency', username } });
    }

    if (method === 'POST' && path === '/2/media/upload/initialize') {
      const totalBytes = Number(body.total_bytes);
      if (typeof body.media_type !== 'string' || !Number.isInteger(totalBytes) || totalBytes <= 0)
        return invalid(res, 'media_type and total_bytes are required');
      const id = this.newId();
      this.media.set(id, {
        id,
        mediaKey: `3_${id}`,
        type: body.media_type,
        category: typeof body.media_category === 'string' ? body.media_category : undefined,
        totalBytes,
        chunks: new Map(),
        finalized: false,
      });
      return send(res, 200, { data: { id, media_key: `3_${id}`, expires_after_secs: 86_400 } });
    }

    const step = /^\/2\/media\/upload\/(\d+)\/(append|finalize)$/.exec(path);
    if (method === 'POST' && step) {
      const media = this.media.get(step[1]!);
      if (!media) return invalid(res, `media id ${step[1]} was not initialized`);
      if (step[2] === 'append') {
        const segment = Number(recorded.form?.segment_index?.value);
        const bytes = recorded.form?.media?.file?.bytes;
        if (!Number.isInteger(segment) || !bytes) return invalid(res, 'segment_index and media are required');
        media.chunks.set(segment, bytes);
        return send(res, 200, { data: { expires_at: Math.floor(Date.now() / 1000) + 86_400 } });
      }
      const size = [...media.chunks.values()].reduce((sum, c) => sum + c.length, 0);
      if (size !== media.totalBytes)
        return invalid(res, `received ${size} bytes of the ${media.totalBytes} announced`);
      media.finalized = true;
      return send(res, 200, {
        data: { id: media.id, media_key: media.mediaKey, size, expires_after_secs: 86_400 },
      });
    }

    // twitter-api-v2 1.29 polls this only when finalize reports processing (video, large GIFs); kept for parity.
    if (method === 'GET' && path === '/2/media/upload' && url.searchParams.get('command') === 'STATUS') {
      const media = this.media.get(url.searchParams.get('media_id') ?? '');
      if (!media) return invalid(res, 'media_id is not known');
      return send(res, 200, {
        data: {
          id: media.id,
          media_key: media.mediaKey,
          processing_info: { state: media.finalized ? 'succeeded' : 'pending', progress_percent: 100 },
        },
      });
    }

    // The one-shot upload (multipart `media` + `media_category`): not what 1.29 calls, but X answers it.
    if (method === 'POST' && path === '/2/media/upload') {
      const file = recorded.form?.media?.file;
      if (!file) return invalid(res, 'media is required');
      const id = this.newId();
      this.media.set(id, {
        id,
        mediaKey: `3_${id}`,
        type: recorded.form?.media_type?.value ?? file.type,
        category: recorded.form?.media_category?.value,
        totalBytes: file.size,
        chunks: new Map([[0, file.bytes]]),
        finalized: true,
      });
      return send(res, 200, {
        data: { id, media_key: `3_${id}`, size: file.size, expires_after_secs: 86_400 },
      });
    }

    if (method === 'POST' && path === '/2/media/metadata') {
      const media = this.media.get(String(body.id));
      const alt = (body.metadata as { alt_text?: { text?: unknown } } | undefined)?.alt_text?.text;
      if (!media || typeof alt !== 'string')
        return invalid(res, 'id and metadata.alt_text.text are required');
      if ([...alt].length > 1000) return invalid(res, 'alt text is longer than 1000 characters');
      media.altText = alt;
      return send(res, 200, { data: { id: media.id, associated_metadata: { alt_text: { text: alt } } } });
    }

    return send(res, 404, problem(404, 'Not Found Error', `no route for ${method} ${path}`));
  }

  private postTweet(body: Record<string, unknown>, res: ServerResponse): Answered {
    const text = body.text;
    if (typeof text !== 'string' || text.length === 0) return invalid(res, 'text is required');
    const inReplyTo = (body.reply as { in_reply_to_tweet_id?: unknown } | undefined)?.in_reply_to_tweet_id;
    if (inReplyTo !== undefined && !this.tweets.has(String(inReplyTo)))
      return send(res, 403, problem(403, 'Forbidden', REPLY_TARGET_GONE));
    const mediaIds = (body.media as { media_ids?: unknown } | undefined)?.media_ids;
    if (mediaIds !== undefined) {
      if (!Array.isArray(mediaIds) || mediaIds.some((id) => !this.media.get(String(id))?.finalized))
        return send(res, 400, {
          errors: [{ parameters: { 'media.media_ids': mediaIds }, message: 'Your media IDs are invalid.' }],
          title: 'Invalid Request',
          detail: 'One or more parameters to your request was invalid.',
          type: 'https://api.twitter.com/2/problems/invalid-request',
        });
    }
    if ([...this.tweets.values()].some((t) => t.text === text))
      return send(res, 403, problem(403, 'Forbidden', DUPLICATE_DETAIL));
    const id = this.newId();
    const parent = inReplyTo === undefined ? undefined : this.tweets.get(String(inReplyTo));
    this.users.set(this.account.id, this.account.username);
    this.tweets.set(id, {
      id,
      text,
      inReplyTo: inReplyTo === undefined ? undefined : String(inReplyTo),
      mediaIds: mediaIds === undefined ? undefined : (mediaIds as unknown[]).map(String),
      authorId: this.account.id,
      conversationId: parent ? (parent.conversationId ?? parent.id) : id,
      createdAt: new Date().toISOString(),
    });
    return send(res, 201, { data: { id, text, edit_history_tweet_ids: [id] } });
  }

  /** A post as v2 shows it: the default fields, and those `tweet.fields` asks for. */
  private view(tweet: Tweet, fields: Set<string>): Record<string, unknown> {
    return {
      id: tweet.id,
      text: tweet.text,
      edit_history_tweet_ids: [tweet.id],
      ...(fields.has('author_id') && tweet.authorId ? { author_id: tweet.authorId } : {}),
      ...(fields.has('conversation_id') ? { conversation_id: tweet.conversationId ?? tweet.id } : {}),
      ...(fields.has('created_at') && tweet.createdAt ? { created_at: tweet.createdAt } : {}),
      ...(fields.has('public_metrics')
        ? {
            public_metrics: this.publicMetrics.get(tweet.id) ?? {
              retweet_count: 0,
              reply_count: 0,
              like_count: 0,
              quote_count: 0,
              bookmark_count: 0,
              impression_count: 0,
            },
          }
        : {}),
    };
  }

  private lookup(url: URL, res: ServerResponse): Answered {
    const ids = (url.searchParams.get('ids') ?? '').split(',').filter(Boolean);
    if (ids.length === 0 || ids.length > 100 || ids.some((id) => !/^\d{1,19}$/.test(id)))
      return invalid(res, 'ids must be 1 to 100 comma-separated post ids');
    const fields = new Set((url.searchParams.get('tweet.fields') ?? '').split(','));
    const found = ids.map((id) => this.tweets.get(id)).filter((t): t is Tweet => t !== undefined);
    const missing = ids.filter((id) => !this.tweets.has(id));
    return send(res, 200, {
      ...(found.length > 0 ? { data: found.map((t) => this.view(t, fields)) } : {}),
      ...(missing.length > 0
        ? {
            errors: missing.map((id) => ({
              value: id,
              detail: `Could not find tweet with ids: [${id}].`,
              title: 'Not Found Error',
              resource_type: 'tweet',
              parameter: 'ids',
              resource_id: id,
              type: 'https://api.twitter.com/2/problems/resource-not-found',
            })),
          }
        : {}),
    });
  }

  /** Recent search, for the one operator the poller uses (`conversation_id:`), with X's paging and limits. */
  private search(url: URL, res: ServerResponse): Answered {
    const now = Math.floor(Date.now() / 1000);
    if (now >= this.searchLimit.resetAt)
      this.searchLimit = { ...this.searchLimit, remaining: this.searchLimit.limit, resetAt: now + 900 };
    if (this.searchLimit.remaining <= 0) {
      const limited = rateLimited(this.searchLimit.resetAt, this.searchLimit.limit) as {
        status: number;
        body: unknown;
        headers: Record<string, string>;
      };
      return send(res, limited.status, limited.body, limited.headers);
    }
    this.searchLimit.remaining -= 1;
    const limitHeaders = {
      'x-rate-limit-limit': String(this.searchLimit.limit),
      'x-rate-limit-remaining': String(this.searchLimit.remaining),
      'x-rate-limit-reset': String(this.searchLimit.resetAt),
    };
    const q = url.searchParams;
    const conversationId = /^conversation_id:(\d{1,19})$/.exec(q.get('query') ?? '')?.[1];
    if (!conversationId) return invalid(res, 'this fake searches only `conversation_id:<id>`');
    const maxResults = Number(q.get('max_results') ?? 10);
    if (!Number.isInteger(maxResults) || maxResults < 10 || maxResults > 100)
      return invalid(res, `max_results ${q.get('max_results')} is not between 10 and 100`);
    const token = q.get('next_token');
    const paging = token ? this.pageTokens.get(token) : undefined;
    const sinceId = q.get('since_id') ?? undefined;
    if (token && (!paging || paging.conversationId !== conversationId || paging.sinceId !== sinceId))
      return invalid(res, 'The `next_token` query parameter value is invalid');
    const matching = [...this.tweets.values()]
      .filter((t) => (t.conversationId ?? t.id) === conversationId)
      .filter((t) => sinceId === undefined || BigInt(t.id) > BigInt(sinceId))
      .sort((a, b) => (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
    const offset = paging?.offset ?? 0;
    const page = matching.slice(offset, offset + maxResults);
    let nextToken: string | undefined;
    if (offset + maxResults < matching.length) {
      nextToken = `b26v89c19zqg8o3f${this.pageTokens.size.toString(36)}${conversationId.slice(-4)}`;
      this.pageTokens.set(nextToken, {
        conversationId,
        ...(sinceId ? { sinceId } : {}),
        offset: offset + maxResults,
      });
    }
    const fields = new Set((q.get('tweet.fields') ?? '').split(','));
    const authors = (q.get('expansions') ?? '').split(',').includes('author_id')
      ? [...new Set(page.map((t) => t.authorId).filter((a): a is string => a !== undefined))]
      : [];
    if (page.length === 0)
      return send(
        res,
        200,
        { meta: { result_count: 0, ...(nextToken ? { next_token: nextToken } : {}) } },
        limitHeaders,
      );
    return send(
      res,
      200,
      {
        data: page.map((t) => this.view(t, fields)),
        ...(authors.length > 0
          ? {
              includes: {
                users: authors.map((id) => ({
                  id,
                  name: this.users.get(id) ?? id,
                  username: this.users.get(id) ?? id,
                })),
              },
            }
          : {}),
        meta: {
          newest_id: page[0]!.id,
          oldest_id: page[page.length - 1]!.id,
          result_count: page.length,
          ...(nextToken ? { next_token: nextToken } : {}),
        },
      },
      limitHeaders,
    );
  }
}

/** Marks a route as having answered, so every branch ends in `return send(…)`. */
type Answered = { readonly answered: true };
const ANSWERED: Answered = { answered: true };

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Answered {
  const problemBody = status >= 400 && typeof body === 'object' && body !== null && 'title' in body;
  res.writeHead(status, {
    'content-type': problemBody ? 'application/problem+json' : 'application/json; charset=utf-8',
    ...headers,
  });
  res.end(JSON.stringify(body));
  return ANSWERED;
}

function invalid(res: ServerResponse, message: string): Answered {
  return send(res, 400, {
    errors: [{ message }],
    title: 'Invalid Request',
    detail: 'One or more parameters to your request was invalid.',
    type: 'https://api.twitter.com/2/problems/invalid-request',
  });
}

/**
 * Multipart parsed on bytes: twitter-api-v2 sends the media part without a filename, which the platform's
 * FormData would decode as text and corrupt. A part with a Content-Type is kept as bytes.
 */
function parseMultipart(raw: Buffer, contentType: string): Record<string, RecordedFormPart> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/.exec(contentType);
  if (!boundary) throw new Error('multipart body without a boundary');
  const delimiter = Buffer.from(`--${boundary[1] ?? boundary[2]}`);
  const parts: Record<string, RecordedFormPart> = {};
  let at = raw.indexOf(delimiter);
  while (at >= 0) {
    const start = at + delimiter.length;
    if (raw.subarray(start, start + 2).toString() === '--') break;
    const next = raw.indexOf(delimiter, start);
    if (next < 0) throw new Error('multipart body without a closing delimiter');
    // Each part: CRLF, headers, CRLF CRLF, content, CRLF, then the next delimiter.
    const part = raw.subarray(start + 2, next - 2);
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) throw new Error('multipart part without headers');
    const headers = part.subarray(0, split).toString();
    const content = part.subarray(split + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1];
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
    if (name !== undefined)
      parts[name] = type
        ? { file: { size: content.length, type, bytes: new Uint8Array(content) } }
        : { value: content.toString() };
    at = next;
  }
  return parts;
}
