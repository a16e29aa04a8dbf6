/**
 * A local stand-in for graph.threads.net on 127.0.0.1, speaking the Threads API's Graph-style wire format: versioned
 * paths, bearer tokens (or `access_token`), form bodies, `{ id }` answers and `{ error: { message, type, code,
 * error_subcode, fbtrace_id } }` error bodies. It keeps media containers (IN_PROGRESS until polled, then FINISHED,
 * ERROR or EXPIRED, and PUBLISHED once published — a container publishes once), the account's posts and replies,
 * residents' replies, and the publishing limits for posts and for replies. Readiness follows the client's status
 * checks, not the clock, so no test waits: a container published before a check saw it FINISHED is refused with
 * the "Media Not Found" error Threads gives for publishing too early (code 24, subcode 4279009).
 *
 * Where Meta documents no answer (a second publish of a container, a reply_to_id naming nothing, a publish over
 * the limit), the fake answers with the Graph error closest to it; the client does not depend on those shapes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordedRequest, ScriptedFailure } from './graph-api';

export { FakeSecrets, type RecordedRequest, type ScriptedFailure } from './graph-api';

type Match = { method?: string; pathEndsWith?: string; pathMatches?: RegExp };
type Rule = Match & { times: number; act: { fail: ScriptedFailure } | { hang: true } | { drop: true } };

export type ContainerStatus = 'IN_PROGRESS' | 'FINISHED' | 'ERROR' | 'EXPIRED' | 'PUBLISHED';

export interface ThreadsContainer {
  id: string;
  mediaType: 'TEXT' | 'IMAGE';
  body: Record<string, string>;
  polls: number;
  status: ContainerStatus;
  publishes: number;
}

/** A published post or reply, the account's own or a resident's. */
export interface ThreadsMedia {
  id: string;
  text: string;
  username: string;
  own: boolean;
  /** Threads' format: `2030-05-01T12:00:00+0000`. */
  timestamp: string;
  mediaType: 'TEXT_POST' | 'IMAGE';
  replyTo?: string | undefined;
  containerId?: string | undefined;
  fields: Record<string, string>;
}

const EMOJI = /\p{Extended_Pictographic}|\p{Emoji_Component}/u;
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
/** Threads' count as its docs give it: characters, emoji by their UTF-8 bytes (code points for the rest). */
export const fakeThreadsCount = (text: string) =>
  Array.from(segmenter.segment(text), ({ segment }) =>
    EMOJI.test(segment) ? Buffer.byteLength(segment) : Array.from(segment).length,
  ).reduce((a, b) => a + b, 0);

const traceId = () => randomBytes(8).toString('base64url');
const stamp = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, '+0000');
const cursor = (n: number) => Buffer.from(`c:${n}`).toString('base64url');
const fromCursor = (c: string | undefined) =>
  c ? Number(Buffer.from(c, 'base64url').toString().slice(2)) || 0 : 0;

export class FakeThreadsApi {
  readonly requests: RecordedRequest[] = [];
  readonly containers = new Map<string, ThreadsContainer>();
  /** Every published post and reply, oldest first. */
  readonly media: ThreadsMedia[] = [];
  token: string;
  readonly userId: string;
  readonly username = 'city.police';
  /** Status checks a container answers IN_PROGRESS before it reaches `containerOutcome`. */
  pollsUntilFinished = 0;
  containerOutcome: 'FINISHED' | 'ERROR' | 'EXPIRED' = 'FINISHED';
  quota = { usage: 0, total: 250, durationSeconds: 86_400 };
  replyQuota = { usage: 0, total: 1000, durationSeconds: 86_400 };
  /** The most items a page of a list holds, whatever `limit` asks (25 when it asks nothing). */
  pageSize = 100;
  /** What timestamps new media get. */
  now: () => Date = () => new Date();
  /**
   * For the engagement poller: a post's insights by metric name (views, likes, replies, reposts, quotes, shares), as
   * `GET /{media-id}/insights?metric=` answers them; a metric without a value is left out of the answer.
   */
  readonly insights = new Map<string, Record<string, number>>();

  private readonly initialToken: string;
  private readonly rules: Rule[] = [];
  private readonly held = new Set<ServerResponse>();
  private seq = 100;

  private constructor(
    private readonly server: Server,
    options: { token?: string; userId?: string },
  ) {
    this.initialToken = options.token ?? 'THAAfakeThreadsToken0123456789';
    this.token = this.initialToken;
    this.userId = options.userId ?? '25000000000000001';
  }

  static async start(options: { token?: string; userId?: string } = {}): Promise<FakeThreadsApi> {
    let fake: FakeThreadsApi | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
    });
    fake = new FakeThreadsApi(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The next `times` requests matching answer with this failure. */
  fail(match: Match, failure: ScriptedFailure, times = 1): void {
    this.rules.push({ ...match, times, act: { fail: failure } });
  }

  /** The next matching request is recorded and never answered (until the client gives up). */
  hang(match: Match): void {
    this.rules.push({ ...match, times: 1, act: { hang: true } });
  }

  /** The next matching request is carried out, and then the connection closes before the answer is sent. */
  dropAnswer(match: Match): void {
    this.rules.push({ ...match, times: 1, act: { drop: true } });
  }

  async waitUntil(predicate: (request: RecordedRequest) => boolean, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.requests.some(predicate)) {
      if (Date.now() > until) throw new Error('the awaited request never arrived');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** A resident's reply under `mediaId` (a post, or a reply for a nested one). */
  residentReply(mediaId: string, text: string, username: string): ThreadsMedia {
    return this.addMedia({ text, username, own: false, replyTo: mediaId });
  }

  /** A post or reply by the account, as if published earlier (in the app or through the API) at `at`. */
  ownPost(text: string, at: Date, replyTo?: string): ThreadsMedia {
    return this.addMedia({ text, username: this.username, own: true, replyTo, at });
  }

  /** The account's published media, oldest first. */
  ownMedia(): ThreadsMedia[] {
    return this.media.filter((m) => m.own);
  }

  reset(): void {
    this.token = this.initialToken;
    this.requests.length = 0;
    this.containers.clear();
    this.media.length = 0;
    this.rules.length = 0;
    this.pollsUntilFinished = 0;
    this.containerOutcome = 'FINISHED';
    this.quota = { usage: 0, total: 250, durationSeconds: 86_400 };
    this.replyQuota = { usage: 0, total: 1000, durationSeconds: 86_400 };
    this.pageSize = 100;
    this.now = () => new Date();
    this.insights.clear();
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- the wire

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<Answered | undefined> {
    const url = new URL(req.url ?? '/', 'http://threads.local');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const match = /^\/(v\d+\.\d+)\/(.*)$/.exec(url.pathname);
    const r: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(match?.[2] ?? url.pathname.slice(1)),
      version: match?.[1],
      url: req.url ?? '/',
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body: Object.fromEntries(new URLSearchParams(raw)),
    };
    this.requests.push(r);

    const rule = this.rules.find(
      (x) =>
        (!x.method || x.method === r.method) &&
        (!x.pathEndsWith || r.path.endsWith(x.pathEndsWith)) &&
        (!x.pathMatches || x.pathMatches.test(r.path)),
    );
    if (rule) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
      if ('drop' in rule.act) {
        res.writeHead = () => res;
        res.end = () => {
          res.socket?.destroy();
          return res;
        };
        return this.authorised(r, req, res);
      }
      if ('hang' in rule.act) {
        this.held.add(res);
        res.on('close', () => this.held.delete(res));
        return;
      }
      const { status, error, headers = {}, rawBody } = rule.act.fail;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(rawBody ?? JSON.stringify({ error: { fbtrace_id: traceId(), ...error } }));
      return true;
    }

    return this.authorised(r, req, res);
  }

  private authorised(r: RecordedRequest, req: IncomingMessage, res: ServerResponse): Answered {
    if (!r.version) return this.error(res, 100, 'Unknown path components', 'THApiException');
    const token = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? r.query.access_token;
    if (!token) return this.error(res, 190, 'An active access token must be used.', 'OAuthException');
    if (token !== this.token)
      return this.error(
        res,
        190,
        'Error validating access token: Session has expired.',
        'OAuthException',
        463,
      );
    return this.route(r, res);
  }

  private route(r: RecordedRequest, res: ServerResponse): Answered {
    const [node = '', edge, extra] = r.path.split('/');
    const fields = (r.query.fields ?? 'id').split(',');
    if (extra !== undefined) return this.unsupported(r, res);
    const mine = node === this.userId || node === 'me';

    if (r.method === 'POST' && mine && edge === 'threads') return this.createContainer(r.body, res);
    if (r.method === 'POST' && mine && edge === 'threads_publish') return this.publish(r.body, res);
    if (r.method === 'GET' && mine && edge === 'threads_publishing_limit') {
      const { quota: q, replyQuota: rq } = this;
      const all: Record<string, unknown> = {
        quota_usage: q.usage,
        config: { quota_total: q.total, quota_duration: q.durationSeconds },
        reply_quota_usage: rq.usage,
        reply_config: { quota_total: rq.total, quota_duration: rq.durationSeconds },
      };
      return json(res, {
        data: [Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]]))],
      });
    }
    if (r.method === 'GET' && mine && (edge === 'threads' || edge === 'replies'))
      return this.list(
        r,
        res,
        this.media.filter((m) => m.own && (edge === 'replies') === (m.replyTo !== undefined)),
        true,
      );
    const media = this.media.find((m) => m.id === node);
    if (r.method === 'GET' && media && edge === 'insights') return this.insightsOf(media.id, r, res);
    if (r.method === 'GET' && media && edge === 'replies')
      return this.list(
        r,
        res,
        this.media.filter((m) => m.replyTo === node),
        r.query.reverse !== 'false',
      );
    if (r.method === 'GET' && edge === undefined && media) {
      if (fields.includes('status'))
        return this.error(res, 100, 'Tried accessing nonexisting field (status)', 'THApiException');
      return json(res, this.view(media, fields));
    }
    const container = this.containers.get(node);
    if (r.method === 'GET' && edge === undefined && container) {
      if (container.status === 'IN_PROGRESS') {
        container.polls += 1;
        if (container.polls > this.pollsUntilFinished) container.status = this.containerOutcome;
      }
      const answer: Record<string, unknown> = { id: node };
      if (fields.includes('status')) answer.status = container.status;
      if (fields.includes('error_message') && container.status === 'ERROR') answer.error_message = 'UNKNOWN';
      return json(res, answer);
    }
    return this.unsupported(r, res);
  }

  private createContainer(body: Record<string, string>, res: ServerResponse): Answered {
    const type = body.media_type;
    if (type !== 'TEXT' && type !== 'IMAGE')
      return this.error(res, 100, 'Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}');
    if (type === 'TEXT' && !body.text) return this.error(res, 100, 'Param text is required for TEXT posts');
    if (type === 'IMAGE' && !body.image_url) return this.error(res, 100, 'Param image_url is required');
    if (body.text && fakeThreadsCount(body.text) > 500)
      return this.error(res, 100, 'Param text must be at most 500 characters long.');
    if (body.reply_to_id && !this.media.some((m) => m.id === body.reply_to_id))
      return this.error(
        res,
        100,
        `Unsupported post request. Object with ID '${body.reply_to_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
        'THApiException',
        33,
      );
    const id = this.next();
    this.containers.set(id, { id, mediaType: type, body, polls: 0, status: 'IN_PROGRESS', publishes: 0 });
    return json(res, { id });
  }

  private publish(body: Record<string, string>, res: ServerResponse): Answered {
    const container = this.containers.get(body.creation_id ?? '');
    if (container?.status !== 'FINISHED')
      return this.error(res, 24, 'The requested resource does not exist', 'OAuthException', 4279009, {
        is_transient: false,
        error_user_title: 'Media Not Found',
        error_user_msg: `The media with id ${body.creation_id ?? ''} cannot be found.`,
      });
    const reply = Boolean(container.body.reply_to_id);
    const quota = reply ? this.replyQuota : this.quota;
    if (quota.usage >= quota.total)
      return this.error(res, 9, 'Application request limit reached', 'OAuthException', 2207042);
    quota.usage += 1;
    container.status = 'PUBLISHED';
    container.publishes += 1;
    const media = this.addMedia({
      text: container.body.text ?? '',
      username: this.username,
      own: true,
      replyTo: container.body.reply_to_id,
      containerId: container.id,
      fields: container.body,
    });
    return json(res, { id: media.id });
  }

  private list(
    r: RecordedRequest,
    res: ServerResponse,
    items: ThreadsMedia[],
    newestFirst: boolean,
  ): Answered {
    const ordered = newestFirst ? [...items].reverse() : items;
    const start = fromCursor(r.query.after);
    const size = Math.min(Number(r.query.limit ?? 25), this.pageSize);
    const page = ordered.slice(start, start + size);
    const fields = (r.query.fields ?? 'id').split(',');
    const more = start + size < ordered.length;
    return json(res, {
      data: page.map((m) => this.view(m, fields)),
      paging: {
        cursors: { before: cursor(start), after: cursor(start + page.length) },
        ...(more ? { next: `${this.baseUrl}/${r.version}/${r.path}?after=${cursor(start + size)}` } : {}),
      },
    });
  }

  private view(m: ThreadsMedia, fields: string[]): Record<string, unknown> {
    const all: Record<string, unknown> = {
      id: m.id,
      text: m.text,
      username: m.username,
      timestamp: m.timestamp,
      media_type: m.mediaType,
      media_product_type: 'THREADS',
      permalink: `https://www.threads.com/@${m.username}/post/${m.id}`,
      is_reply: m.replyTo !== undefined,
      is_reply_owned_by_me: m.own && m.replyTo !== undefined,
      ...(m.replyTo ? { replied_to: { id: m.replyTo }, root_post: { id: this.root(m).id } } : {}),
      ...(m.fields.alt_text ? { alt_text: m.fields.alt_text } : {}),
    };
    return Object.fromEntries(['id', ...fields].filter((f) => f in all).map((f) => [f, all[f]]));
  }

  private root(m: ThreadsMedia): ThreadsMedia {
    const parent = this.media.find((p) => p.id === m.replyTo);
    return parent ? this.root(parent) : m;
  }

  private addMedia(m: Partial<ThreadsMedia> & { text: string; username: string; own: boolean; at?: Date }) {
    const media: ThreadsMedia = {
      id: this.next(),
      text: m.text,
      username: m.username,
      own: m.own,
      timestamp: stamp(m.at ?? this.now()),
      mediaType: m.fields?.media_type === 'IMAGE' ? 'IMAGE' : 'TEXT_POST',
      replyTo: m.replyTo,
      containerId: m.containerId,
      fields: m.fields ?? {},
    };
    this.media.push(media);
    return media;
  }

  private insightsOf(id: string, r: RecordedRequest, res: ServerResponse): Answered {
    const metrics = (r.query.metric ?? '').split(',').filter(Boolean);
    const known = new Set(['views', 'likes', 'replies', 'reposts', 'quotes', 'shares']);
    const unknown = metrics.find((m) => !known.has(m));
    if (metrics.length === 0 || unknown)
      return this.error(res, 100, `Param metric must be one of {${[...known].join(', ')}}`, 'THApiException');
    const values = this.insights.get(id) ?? {};
    return json(res, {
      data: metrics
        .filter((name) => values[name] !== undefined)
        .map((name) => ({
          name,
          period: 'lifetime',
          values: [{ value: values[name] }],
          title: name,
          id: `${id}/insights/${name}/lifetime`,
        })),
    });
  }

  private unsupported(r: RecordedRequest, res: ServerResponse): Answered {
    return this.error(
      res,
      100,
      `Unsupported ${r.method.toLowerCase()} request. Object with ID '${r.path}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      'THApiException',
      33,
    );
  }

  private error(
    res: ServerResponse,
    code: number,
    message: string,
    type = 'THApiException',
    subcode?: number,
    extra: Record<string, unknown> = {},
  ): Answered {
    const body = {
      error: {
        message,
        type,
        code,
        ...(subcode ? { error_subcode: subcode } : {}),
        ...extra,
        fbtrace_id: traceId(),
      },
    };
    res.writeHead(400, {
      'content-type': 'application/json; charset=UTF-8',
      'www-authenticate': `OAuth "Threads Platform" "${type}"`,
    });
    res.end(JSON.stringify(body));
    return true;
  }

  private next(): string {
    this.seq += 1;
    return `1790000000000${this.seq}`;
  }
}

/** Marks a request as answered, so every branch of the router must end in an answer. */
type Answered = true;

function json(res: ServerResponse, body: unknown): Answered {
  res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify(body));
  return true;
}
