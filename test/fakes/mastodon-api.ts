/**
 * A local stand-in for a Mastodon instance's REST API on 127.0.0.1, speaking its wire format: bearer tokens with
 * scopes (`write` covers `write:statuses`), errors as `{ "error": "…" }` with Mastodon's own messages, the
 * `X-RateLimit-Limit`/`-Remaining`/`-Reset` headers (reset in ISO 8601) from windows that count down per request
 * (all calls 300 per 5 minutes, media uploads 30 per 30 minutes, statuses 300 per 3 hours) and a 429 once one is spent.
 *
 * `POST /api/v1/statuses` (JSON) checks the reply target first (404 when it is gone, as the controller's
 * `set_thread` does), then the `Idempotency-Key`, kept an hour per account like the instance's Redis key: a repeat
 * answers the status it made, whatever the body. Then it validates (422 for a blank or too long text, media that is
 * unknown or not processed yet) and posts. `POST /api/v2/media` (multipart `file`, `description`) answers 200, or
 * 202 with `url: null` while "processing"; `GET /api/v1/media/:id` answers 206 until it is done, then 200.
 *
 * For the engagement poller: `GET /api/v1/statuses/:id` with replies_count, reblogs_count and favourites_count (set
 * with `counts`).
 * For the tips path: `GET /api/v1/statuses/:id/context` (ancestors, and descendants depth-first) and
 * `GET /api/v1/accounts/verify_credentials`; residents' replies are added with `residentReply()`. Files under
 * `/public/` stand in for the CDN the alert images come from.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedFormPart {
  value?: string;
  file?: { size: number; type: string; filename: string; bytes: Uint8Array };
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body?: unknown;
  form?: Record<string, RecordedFormPart>;
  /** Whether the bearer token was the instance's current one. */
  authorized: boolean;
}

/** Instead of the fake's logic: an answer; `hang` never answers; `lose` does the work but never answers. */
export type ScriptedAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true }
  | { lose: true };

export type FakeAccount = { id: string; username: string; acct: string };

export interface FakeStatus {
  id: string;
  text: string;
  visibility: string;
  language?: string | undefined;
  inReplyToId?: string | undefined;
  mediaIds: string[];
  account: FakeAccount;
  createdAt: string;
  deleted?: boolean;
}

export interface FakeMedia {
  id: string;
  accountId: string;
  bytes: Uint8Array;
  type: string;
  description?: string | undefined;
  /** 206 answers still to give before the media is processed. */
  checksLeft: number;
}

/** One of the instance's rate-limit windows; `resetAt` in epoch milliseconds. */
export type RateWindow = { limit: number; remaining: number; periodMs: number; resetAt: number };

export const MESSAGES = {
  invalidToken: 'The access token is invalid',
  outsideScopes: 'This action is outside the authorized scopes',
  notFound: 'Record not found',
  replyGone: 'The post you are trying to reply to does not appear to exist.',
  tooMany: 'Too many requests',
  blank: "Validation failed: Text can't be blank",
  tooLong: (max: number) => `Validation failed: Text character limit of ${max} exceeded`,
  notReady: 'Cannot attach files that have not finished processing. Try again in a moment!',
  badFile: 'Validation failed: File content type is invalid, File is invalid',
} as const;

const READ_SCOPE: Record<string, string> = { '/api/v1/accounts/verify_credentials': 'read:accounts' };
const IDEMPOTENCY_MS = 60 * 60 * 1000;
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/avif']);
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
/** The instance's count, done crudely and apart from the renderer's: a URL is 23, the rest grapheme clusters. */
const statusLength = (text: string) =>
  [...segmenter.segment(text.replace(/https?:\/\/[^\s<>]+/g, 'x'.repeat(23)))].length;

type Script = {
  remaining: number;
  answer: ScriptedAnswer;
  match: { method?: string; path?: string | RegExp };
};
type Reply = { status: number; body: unknown; headers?: Record<string, string> };
const reply = (status: number, body: unknown): Reply => ({ status, body });
const error = (status: number, message: string): Reply => ({ status, body: { error: message } });

export class MastodonApiFake {
  readonly requests: RecordedRequest[] = [];
  readonly statuses = new Map<string, FakeStatus>();
  /**
   * For the engagement poller: a status's boosts and favourites, as `GET /api/v1/statuses/:id` shows them
   * (`replies_count` is counted from the replies stored); a status without an entry shows 0.
   */
  readonly counts = new Map<string, { reblogs?: number; favourites?: number }>();
  readonly media = new Map<string, FakeMedia>();
  readonly agency: FakeAccount = { id: '109000000000000001', username: 'agency', acct: 'agency' };
  scopes = new Set(['write:statuses', 'write:media', 'read:statuses', 'read:accounts']);
  /** 206 answers a new upload gets before it is processed; 0 processes it at once (200). */
  processingChecks = 0;
  maxCharacters = 500;
  now: () => number = () => Date.now();
  readonly windows: Record<'api' | 'media' | 'statuses', RateWindow>;
  private readonly accounts = new Map<string, FakeAccount>();
  private readonly idempotency = new Map<string, { statusId: string; at: number }>();
  private readonly scripts: Script[] = [];
  private readonly files = new Map<string, { bytes: Uint8Array; type: string }>();
  private readonly hanging = new Set<ServerResponse>();
  private sequence = 0n;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    /** The token the instance accepts; a test replaces it to stand for a rotation. */
    public accessToken: string,
  ) {
    const window = (limit: number, periodMs: number): RateWindow => {
      return { limit, remaining: limit, periodMs, resetAt: Math.ceil(this.now() / periodMs) * periodMs };
    };
    this.windows = {
      api: window(300, 300_000),
      media: window(30, 1_800_000),
      statuses: window(300, 10_800_000),
    };
  }

  static async start(accessToken: string): Promise<MastodonApiFake> {
    let fake: MastodonApiFake | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((e: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: String(e) }));
      });
    });
    fake = new MastodonApiFake(server, accessToken);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Requests to the API itself, not to the stand-in CDN. */
  get apiRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/api/'));
  }

  /** Answers the next `times` requests matching `match` (a path is exact, or a RegExp) with `answer`. */
  answerNext(times: number, answer: ScriptedAnswer, match: Script['match'] = {}): void {
    this.scripts.push({ remaining: times, answer, match });
  }

  /** Serves a file at `/public/<name>` and answers its URL. */
  servePublic(name: string, bytes: Uint8Array, type: string): string {
    this.files.set(`/public/${name}`, { bytes, type });
    return `${this.baseUrl}/public/${name}`;
  }

  /** A resident's public reply to `statusId` (`acct` as `user` or `user@their.instance`); answers the reply's id. */
  residentReply(statusId: string, text: string, acct = 'resident@town.example'): string {
    const parent = this.statuses.get(statusId);
    if (!parent) throw new Error(`no status ${statusId} to reply to`);
    const id = String(110_000_000_000_000_000n + BigInt(this.accounts.size + 1));
    const account = this.accounts.get(acct) ?? { id, username: acct.split('@')[0]!, acct };
    this.accounts.set(acct, account);
    return this.create({ text, visibility: 'public', inReplyToId: statusId, mediaIds: [], account }).id;
  }

  /** The agency deleted a status (a mistaken post): replies to it now earn a 404. */
  deleteStatus(id: string): void {
    const status = this.statuses.get(id);
    if (status) status.deleted = true;
  }

  /** The agency's live statuses, oldest first. */
  get posted(): FakeStatus[] {
    return [...this.statuses.values()].filter((s) => s.account === this.agency && !s.deleted);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private newId(): string {
    // Snowflake-like, as Mastodon's: milliseconds shifted left 16 bits, and a sequence; ids grow with time.
    this.sequence += 1n;
    return ((BigInt(this.now()) << 16n) + (this.sequence % 65_536n)).toString();
  }

  private create(fields: Omit<FakeStatus, 'id' | 'createdAt'>): FakeStatus {
    const status: FakeStatus = { ...fields, id: this.newId(), createdAt: new Date(this.now()).toISOString() };
    this.statuses.set(status.id, status);
    return status;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
      authorized: req.headers.authorization === `Bearer ${this.accessToken}`,
    };
    const type = req.headers['content-type'] ?? '';
    if (raw.length > 0 && type.includes('application/json')) recorded.body = JSON.parse(raw.toString());
    if (raw.length > 0 && type.includes('multipart/form-data'))
      recorded.form = await parseMultipart(raw, type);
    this.requests.push(recorded);

    const file = method === 'GET' ? this.files.get(url.pathname) : undefined;
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'content-length': String(file.bytes.length) });
      res.end(file.bytes);
      return;
    }
    const script = this.takeScript(method, url.pathname);
    if (script && 'status' in script)
      return send(res, { status: script.status, body: script.body ?? {}, headers: script.headers ?? {} });
    // `hang` stops before the instance's logic; `lose` lets it post, then drops the answer, as a cut connection does.
    const answer = script && 'hang' in script ? undefined : this.route(method, url, recorded);
    if (script) {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    send(res, answer!);
  }

  private takeScript(method: string, path: string): ScriptedAnswer | undefined {
    const matches = ({ match: m }: Script) =>
      (!m.method || m.method === method) &&
      (!m.path || (typeof m.path === 'string' ? m.path === path : m.path.test(path)));
    const index = this.scripts.findIndex((s) => s.remaining > 0 && matches(s));
    if (index < 0) return undefined;
    const script = this.scripts[index]!;
    script.remaining -= 1;
    if (script.remaining <= 0) this.scripts.splice(index, 1);
    return script.answer;
  }

  private route(method: string, url: URL, recorded: RecordedRequest): Reply {
    const path = url.pathname;
    if (path.startsWith('/public/')) return error(404, MESSAGES.notFound);
    const context = /^\/api\/v1\/statuses\/([^/]+)\/context$/.exec(path);
    // Public statuses' context needs no token; a token without a read scope is refused, as `authorize_if_got_token!`.
    if (method === 'GET' && context && !recorded.headers.authorization) return this.context(context[1]!, 60);
    if (!recorded.authorized)
      return { ...error(401, MESSAGES.invalidToken), headers: wwwAuthenticate('invalid_token') };

    const needs = /\/media\b/.test(path)
      ? 'write:media'
      : method === 'POST'
        ? 'write:statuses'
        : READ_SCOPE[path];
    const scope = needs ?? 'read:statuses';
    if (!this.scopes.has(scope) && !this.scopes.has(scope.split(':')[0]!))
      return { ...error(403, MESSAGES.outsideScopes), headers: wwwAuthenticate('insufficient_scope') };

    const windows = [this.windows.api];
    if (method === 'POST' && path === '/api/v2/media') windows.push(this.windows.media);
    if (method === 'POST' && path === '/api/v1/statuses') windows.push(this.windows.statuses);
    const limited = this.spend(windows);
    if (limited) return { ...error(429, MESSAGES.tooMany), headers: limited };
    const headers = rateHeaders(windows);

    const answer = ((): Reply => {
      if (method === 'POST' && path === '/api/v1/statuses') return this.postStatus(recorded);
      if (method === 'POST' && path === '/api/v2/media') return this.upload(recorded);
      const media = /^\/api\/v1\/media\/([^/]+)$/.exec(path);
      if (method === 'GET' && media) return this.checkMedia(media[1]!);
      if (method === 'GET' && context) return this.context(context[1]!, 4096);
      const single = /^\/api\/v1\/statuses\/([^/]+)$/.exec(path);
      if (method === 'GET' && single) return this.showStatus(single[1]!);
      if (method === 'GET' && path === '/api/v1/accounts/verify_credentials')
        return reply(200, { ...accountEntity(this.agency), source: { privacy: 'public', language: 'en' } });
      return error(404, MESSAGES.notFound);
    })();
    return { ...answer, headers: { ...headers, ...answer.headers } };
  }

  /** Counts the request against each window; answers the 429 headers of the first that was already spent. */
  private spend(windows: RateWindow[]): Record<string, string> | undefined {
    const now = this.now();
    for (const w of windows)
      if (now >= w.resetAt) {
        w.remaining = w.limit;
        w.resetAt = Math.ceil((now + 1) / w.periodMs) * w.periodMs;
      }
    const spent = windows.find((w) => w.remaining <= 0);
    if (spent) return rateHeaders([spent]);
    for (const w of windows) w.remaining -= 1;
    return undefined;
  }

  private postStatus(recorded: RecordedRequest): Reply {
    const body = (recorded.body ?? {}) as Record<string, unknown>;
    const inReplyToId =
      body.in_reply_to_id === undefined || body.in_reply_to_id === null
        ? undefined
        : String(body.in_reply_to_id);
    const parent = inReplyToId === undefined ? undefined : this.statuses.get(inReplyToId);
    if (inReplyToId !== undefined && (!parent || parent.deleted)) return error(404, MESSAGES.replyGone);

    const key = recorded.headers['idempotency-key'];
    const stored = typeof key === 'string' ? this.idempotency.get(`${this.agency.id}:${key}`) : undefined;
    if (stored && this.now() - stored.at < IDEMPOTENCY_MS)
      return reply(200, this.statusEntity(this.statuses.get(stored.statusId)!));

    const text = typeof body.status === 'string' ? body.status : '';
    const mediaIds = Array.isArray(body.media_ids) ? body.media_ids.map(String) : [];
    if (text.trim() === '' && mediaIds.length === 0) return error(422, MESSAGES.blank);
    const visibility = typeof body.visibility === 'string' ? body.visibility : 'public';
    if (statusLength(text) > this.maxCharacters) return error(422, MESSAGES.tooLong(this.maxCharacters));
    const media = mediaIds.map((id) => this.media.get(id));
    const unknown = mediaIds.filter((_, i) => media[i]?.accountId !== this.agency.id);
    if (unknown.length) return error(422, `Media ${unknown.join(', ')} not found`);
    if (media.some((m) => m!.checksLeft > 0)) return error(422, MESSAGES.notReady);

    const status = this.create({
      text,
      visibility,
      language: typeof body.language === 'string' ? body.language : undefined,
      inReplyToId,
      mediaIds,
      account: this.agency,
    });
    if (typeof key === 'string')
      this.idempotency.set(`${this.agency.id}:${key}`, { statusId: status.id, at: this.now() });
    return reply(200, this.statusEntity(status));
  }

  private upload(recorded: RecordedRequest): Reply {
    const file = recorded.form?.file?.file;
    if (!file || !IMAGE_TYPES.has(file.type)) return error(422, MESSAGES.badFile);
    const description = recorded.form?.description?.value;
    if (description !== undefined && [...description].length > 1500)
      return error(422, 'Validation failed: Description is too long (maximum is 1500 characters)');
    const media: FakeMedia = {
      id: this.newId(),
      accountId: this.agency.id,
      bytes: file.bytes,
      type: file.type,
      description,
      checksLeft: this.processingChecks,
    };
    this.media.set(media.id, media);
    return reply(media.checksLeft > 0 ? 202 : 200, this.mediaEntity(media));
  }

  private checkMedia(id: string): Reply {
    const media = this.media.get(id);
    if (!media || media.accountId !== this.agency.id) return error(404, MESSAGES.notFound);
    if (media.checksLeft > 0) {
      media.checksLeft -= 1;
      return reply(206, this.mediaEntity(media, false));
    }
    return reply(200, this.mediaEntity(media));
  }

  private context(id: string, maxDescendants: number): Reply {
    const status = this.statuses.get(id);
    if (!status || status.deleted) return error(404, MESSAGES.notFound);
    const ancestors: FakeStatus[] = [];
    for (let up = status.inReplyToId; up !== undefined; ) {
      const parent = this.statuses.get(up);
      if (!parent || parent.deleted) break;
      ancestors.unshift(parent);
      up = parent.inReplyToId;
    }
    const live = [...this.statuses.values()].filter((s) => !s.deleted);
    const descendants: FakeStatus[] = [];
    const walk = (parentId: string) => {
      for (const child of live.filter((s) => s.inReplyToId === parentId)) {
        descendants.push(child);
        walk(child.id);
      }
    };
    walk(status.id);
    return reply(200, {
      ancestors: ancestors.map((s) => this.statusEntity(s)),
      descendants: descendants.slice(0, maxDescendants).map((s) => this.statusEntity(s)),
    });
  }

  /** A status with its counts, as the statuses controller's show answers it. */
  private showStatus(id: string): Reply {
    const status = this.statuses.get(id);
    if (!status || status.deleted) return error(404, MESSAGES.notFound);
    const counts = this.counts.get(id) ?? {};
    const replies = [...this.statuses.values()].filter((s) => s.inReplyToId === id && !s.deleted).length;
    return reply(200, {
      ...this.statusEntity(status),
      replies_count: replies,
      reblogs_count: counts.reblogs ?? 0,
      favourites_count: counts.favourites ?? 0,
    });
  }

  private statusEntity(s: FakeStatus): Record<string, unknown> {
    const parent = s.inReplyToId === undefined ? undefined : this.statuses.get(s.inReplyToId);
    // A reply's content opens with the mention Mastodon's composer puts there, as an h-card link.
    const mention =
      parent && parent.account !== s.account
        ? `<span class="h-card"><a href="${this.baseUrl}/@${parent.account.acct}" class="u-url mention">@<span>${parent.account.username}</span></a></span> `
        : '';
    const paragraphs = s.text.split(/\n{2,}/).map((p) => escapeHtml(p).replace(/\n/g, '<br />'));
    return {
      id: s.id,
      created_at: s.createdAt,
      in_reply_to_id: s.inReplyToId ?? null,
      in_reply_to_account_id: parent?.account.id ?? null,
      visibility: s.visibility,
      language: s.language ?? null,
      uri: `${this.baseUrl}/users/${s.account.username}/statuses/${s.id}`,
      url: `${this.baseUrl}/@${s.account.acct}/${s.id}`,
      content: paragraphs.map((p, i) => `<p>${i === 0 ? mention : ''}${p}</p>`).join(''),
      account: accountEntity(s.account),
      media_attachments: s.mediaIds.map((id) => this.mediaEntity(this.media.get(id)!)),
      mentions: parent && mention ? [accountEntity(parent.account)] : [],
    };
  }

  private mediaEntity(m: FakeMedia, processed = m.checksLeft === 0): Record<string, unknown> {
    const file = `${this.baseUrl}/system/media_attachments/${m.id}`;
    return {
      id: m.id,
      type: 'image',
      url: processed ? `${file}/original` : null,
      preview_url: `${file}/small`,
      remote_url: null,
      description: m.description ?? null,
      blurhash: 'UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}',
    };
  }
}

const accountEntity = ({ id, username, acct }: FakeAccount) => ({
  id,
  username,
  acct,
  display_name: username,
});

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

const wwwAuthenticate = (code: string) => ({
  'www-authenticate': `Bearer realm="Doorkeeper", error="${code}"`,
});

/** The window nearest to running out, as Mastodon reports it; the reset as `Time#iso8601(6)` writes it. */
function rateHeaders(windows: RateWindow[]): Record<string, string> {
  const w = windows.reduce((a, b) => (b.remaining < a.remaining ? b : a));
  return {
    'x-ratelimit-limit': String(w.limit),
    'x-ratelimit-remaining': String(Math.max(0, w.remaining)),
    'x-ratelimit-reset': new Date(w.resetAt).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
  };
}

function send(res: ServerResponse, answer: Reply): void {
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
  res.end(JSON.stringify(answer.body));
}

/** The platform's multipart parser: a part is a file only when it has a filename, as Rack reads it too. */
async function parseMultipart(raw: Buffer, contentType: string): Promise<Record<string, RecordedFormPart>> {
  const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
  const parts: Record<string, RecordedFormPart> = {};
  for (const [name, value] of form) {
    if (typeof value === 'string') parts[name] = { value };
    else {
      const bytes = new Uint8Array(await value.arrayBuffer());
      parts[name] = { file: { size: bytes.length, type: value.type, filename: value.name, bytes } };
    }
  }
  return parts;
}
