/**
 * A local stand-in for graph.facebook.com on 127.0.0.1, speaking the Graph wire format the Facebook and
 * Instagram providers use: versioned paths, bearer tokens, form or JSON bodies, `{ id }` / `{ id, post_id }`
 * answers, `{ error: { message, type, code, error_subcode, fbtrace_id } }` error bodies with usage headers,
 * Instagram containers that go IN_PROGRESS → FINISHED, and the content publishing limit. It records every
 * request, and can be told to fail or to hold a request without answering.
 *
 * Comments, for the webhook: `residentComment` and `instagramComment` add a comment by someone else, and
 * `commentDelivery` / `instagramDelivery` write what Meta POSTs to the webhook for a comment (a Page `feed`
 * change, an Instagram `comments` change) — for the Page's own comments too, which is how Herald's updates show
 * up there. `signMetaWebhook` signs a body as Meta does (X-Hub-Signature-256).
 *
 * Replies under a comment, for officers' public answers: `POST /{comment-id}/comments { message }` (Facebook, by the
 * Page) and `POST /{ig-comment-id}/replies { message }` (Instagram, by the account: a reply to a reply joins the
 * top-level comment, as Instagram places it), and the same edges read back with GET (`from`, `message` / `text`).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphErrorBody } from '../../functions/adapters/providers/graph';

export interface RecordedRequest {
  method: string;
  /** The path after the version segment, e.g. `1234/feed`. */
  path: string;
  /** The version segment the client named, e.g. `v23.0`. */
  version: string | undefined;
  /** The whole request target as it arrived (path and query). */
  url: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, string>;
}

export interface ScriptedFailure {
  status: number;
  error?: GraphErrorBody;
  headers?: Record<string, string>;
  /** A raw body instead of an error object (to send something that is not JSON). */
  rawBody?: string;
}

interface Rule {
  method?: string;
  /** Matches when the path ends with this (`/feed`, `/media_publish`, `/comments`). */
  pathEndsWith?: string;
  pathMatches?: RegExp;
  times: number;
  act: { fail: ScriptedFailure } | { hang: true };
}
type Match = Pick<Rule, 'method' | 'pathEndsWith' | 'pathMatches'>;

export interface Container {
  id: string;
  imageUrl: string;
  caption: string;
  altText: string | undefined;
  polls: number;
  published: boolean;
}

export interface FeedItem {
  id: string;
  kind: 'feed' | 'photo' | 'comment';
  /** For comments: the post commented on. */
  parent?: string;
  fields: Record<string, string>;
  /** For comments: who wrote it (the Page itself when Herald commented through the API). */
  from?: { id: string; name: string };
  /** Epoch seconds. */
  createdTime?: number;
}

/** An Instagram comment by someone (the account itself, or a resident), on a published media. */
export interface InstagramComment {
  id: string;
  mediaId: string;
  from: { id: string; username: string };
  text: string;
  /** For a reply: the top-level comment it is under. */
  parent?: string | undefined;
}

/** A Meta webhook delivery as Meta serialises it. */
export interface MetaDelivery {
  object: 'page' | 'instagram';
  entry: { id: string; time: number; changes: { field: string; value: Record<string, unknown> }[] }[];
}

/** X-Hub-Signature-256 for `body` (the exact bytes sent) under the app secret. */
export function signMetaWebhook(body: string | Uint8Array, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(body).digest('hex')}`;
}

export interface FakeGraphOptions {
  token?: string;
  pageId?: string;
  igUserId?: string;
}

const traceId = () => randomBytes(8).toString('base64url');

export class FakeGraphApi {
  readonly requests: RecordedRequest[] = [];
  readonly posts: FeedItem[] = [];
  readonly containers = new Map<string, Container>();
  /** Published Instagram media, newest first, as GET /{ig-user-id}/media lists them. */
  readonly media: { id: string; timestamp: string; caption: string }[] = [];
  /** Instagram comments and replies by id: residents' (instagramComment) and the account's (POST …/replies). */
  readonly instagramComments = new Map<string, InstagramComment>();
  /** The token Graph accepts; any other gets error 190. */
  token: string;
  readonly pageId: string;
  readonly igUserId: string;
  /** Status checks a container answers IN_PROGRESS before it reaches `containerOutcome`. */
  pollsUntilFinished = 1;
  containerOutcome: 'FINISHED' | 'ERROR' | 'EXPIRED' = 'FINISHED';
  quota = { usage: 0, total: 100, durationSeconds: 86_400 };
  /** Whether GET /{ig-user-id}/media says there are more pages. */
  moreMediaPages = false;
  /**
   * For the engagement poller. Facebook: a Page post's shares, comment and reaction counts, as `GET /?ids=&fields=shares,
   * comments.summary(…),reactions.summary(…)` shows them (a post without an entry has none). Insights by object id
   * and metric name, for a post's `insights.metric(post_media_view)` and a media's `GET /{id}/insights?metric=`.
   * `insightsAllowed` false: the token lacks read_insights, and any insights read is refused (code 10).
   */
  readonly postCounts = new Map<string, { shares?: number; comments?: number; reactions?: number }>();
  readonly insights = new Map<string, Record<string, number>>();
  insightsAllowed = true;

  private readonly initialToken: string;
  private readonly rules: Rule[] = [];
  private readonly held = new Set<ServerResponse>();
  private seq = 100;

  private constructor(
    private readonly server: Server,
    options: FakeGraphOptions,
  ) {
    this.initialToken = options.token ?? 'EAAfakePageToken0123456789';
    this.token = this.initialToken;
    this.pageId = options.pageId ?? '104000000000001';
    this.igUserId = options.igUserId ?? '17841400000000001';
  }

  static async start(options: FakeGraphOptions = {}): Promise<FakeGraphApi> {
    let fake: FakeGraphApi | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error));
      });
    });
    fake = new FakeGraphApi(server, options);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get baseUrl(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The next `times` requests matching answer with this failure. */
  fail(match: Match, failure: ScriptedFailure, times = 1): void {
    this.rules.push({ ...match, times, act: { fail: failure } });
  }

  /** The next matching request is recorded and never answered (until the client gives up). */
  hang(match: Match): void {
    this.rules.push({ ...match, times: 1, act: { hang: true } });
  }

  /** Resolves once `count` requests have arrived. */
  waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    return this.waitUntil(() => this.requests.length >= count, timeoutMs);
  }

  /** Resolves once a request matching `predicate` has arrived. */
  async waitUntil(predicate: (request: RecordedRequest) => boolean, timeoutMs = 5000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.requests.some(predicate)) {
      if (Date.now() > until) throw new Error('the awaited request never arrived');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** A resident's comment on post `on` (a Page post, or a comment for a reply to it); answers the comment. */
  residentComment(options: { on: string; name: string; message: string; userId?: string }): FeedItem {
    const comment: FeedItem = {
      id: `${options.on.split('_')[1] ?? options.on}_${this.next()}`,
      kind: 'comment',
      parent: options.on,
      fields: { message: options.message },
      from: { id: options.userId ?? `9${this.next()}`, name: options.name },
      createdTime: Math.floor(Date.now() / 1000),
    };
    this.posts.push(comment);
    return comment;
  }

  /** What Meta POSTs for a comment: a `feed` change, item `comment`, under the Page's entry. */
  commentDelivery(comment: FeedItem, verb: 'add' | 'edited' | 'remove' = 'add'): MetaDelivery {
    const parent = this.posts.find((p) => p.id === comment.parent);
    // A reply to a comment still names the post at the top of the thread.
    const postId = parent?.kind === 'comment' ? (parent.parent ?? comment.parent) : comment.parent;
    const from = comment.from ?? { id: this.pageId, name: 'The Agency' };
    const time = comment.createdTime ?? Math.floor(Date.now() / 1000);
    return {
      object: 'page',
      entry: [
        {
          id: this.pageId,
          time,
          changes: [
            {
              field: 'feed',
              value: {
                from,
                post: { status_type: 'added_photos', is_published: true, id: postId },
                message: comment.fields.message ?? '',
                post_id: postId,
                comment_id: comment.id,
                created_time: time,
                item: 'comment',
                parent_id: comment.parent,
                verb,
              },
            },
          ],
        },
      ],
    };
  }

  /** A comment on a published Instagram media, by a resident or (`own`) by the account itself. */
  instagramComment(options: {
    mediaId: string;
    username: string;
    text: string;
    own?: boolean;
  }): InstagramComment {
    const comment: InstagramComment = {
      id: `179${this.next()}`,
      mediaId: options.mediaId,
      from: { id: options.own ? this.igUserId : `6${this.next()}`, username: options.username },
      text: options.text,
    };
    this.instagramComments.set(comment.id, comment);
    return comment;
  }

  /** What Meta POSTs for an Instagram comment: a `comments` change under the account's entry. */
  instagramDelivery(comment: InstagramComment): MetaDelivery {
    return {
      object: 'instagram',
      entry: [
        {
          id: this.igUserId,
          time: Math.floor(Date.now() / 1000),
          changes: [
            {
              field: 'comments',
              value: {
                from: comment.from,
                media: { id: comment.mediaId, media_product_type: 'FEED' },
                id: comment.id,
                text: comment.text,
              },
            },
          ],
        },
      ],
    };
  }

  reset(): void {
    this.token = this.initialToken;
    this.requests.length = 0;
    this.posts.length = 0;
    this.media.length = 0;
    this.instagramComments.clear();
    this.containers.clear();
    this.rules.length = 0;
    this.pollsUntilFinished = 1;
    this.containerOutcome = 'FINISHED';
    this.quota = { usage: 0, total: 100, durationSeconds: 86_400 };
    this.moreMediaPages = false;
    this.postCounts.clear();
    this.insights.clear();
    this.insightsAllowed = true;
  }

  async close(): Promise<void> {
    for (const res of this.held) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- the wire

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<Answered | undefined> {
    const url = new URL(req.url ?? '/', 'http://graph.local');
    const raw = await readBody(req);
    const body = parseBody(raw, String(req.headers['content-type'] ?? ''));
    const match = /^\/(v\d+\.\d+)\/(.*)$/.exec(url.pathname);
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(match?.[2] ?? url.pathname.slice(1)),
      version: match?.[1],
      url: req.url ?? '/',
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      body,
    };
    this.requests.push(recorded);

    const rule = this.rules.find(
      (r) =>
        (!r.method || r.method === recorded.method) &&
        (!r.pathEndsWith || recorded.path.endsWith(r.pathEndsWith)) &&
        (!r.pathMatches || r.pathMatches.test(recorded.path)),
    );
    if (rule) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
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

    if (!match) return this.graphError(res, 400, 100, 'Unknown path components', 'OAuthException');
    const token =
      /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1] ?? recorded.query.access_token;
    if (!token)
      return this.graphError(
        res,
        400,
        2500,
        'An active access token must be used to query information about the current user.',
        'OAuthException',
      );
    if (token !== this.token)
      return this.graphError(
        res,
        400,
        190,
        'Error validating access token: Session has expired.',
        'OAuthException',
        463,
      );

    return this.route(recorded, res);
  }

  private route(r: RecordedRequest, res: ServerResponse): Answered {
    const [node, edge, extra] = r.path.split('/');
    if (r.method === 'GET' && !node && r.query.ids) return this.readIds(r, res);
    if (r.method === 'GET' && edge === 'insights' && extra === undefined)
      return this.mediaInsights(node ?? '', r, res);
    if (extra !== undefined || !node) return this.unsupported(r, res);
    const { pageId, igUserId } = this;

    if (r.method === 'POST' && node === pageId && edge === 'feed') {
      if (!r.body.message && !r.body.link)
        return this.graphError(res, 400, 100, '(#100) Either message or link must be set');
      const id = `${pageId}_${this.next()}`;
      this.posts.push({ id, kind: 'feed', fields: r.body });
      return json(res, { id });
    }
    if (r.method === 'POST' && node === pageId && edge === 'photos') {
      if (!r.body.url) return this.graphError(res, 400, 324, '(#324) Requires upload file');
      const photoId = this.next();
      const id = `${pageId}_${photoId}`;
      this.posts.push({ id, kind: 'photo', fields: r.body });
      return json(res, { id: photoId, post_id: id });
    }
    if (r.method === 'GET' && edge === 'comments' && this.posts.some((p) => p.id === node))
      return json(res, {
        data: this.posts
          .filter((p) => p.kind === 'comment' && p.parent === node)
          .reverse()
          .map((p) => ({
            id: p.id,
            message: p.fields.message ?? '',
            ...(p.from ? { from: p.from } : {}),
            ...(p.createdTime ? { created_time: new Date(p.createdTime * 1000).toISOString() } : {}),
          })),
      });
    if (r.method === 'POST' && edge === 'replies' && this.instagramComments.has(node)) {
      if (!r.body.message) return this.graphError(res, 400, 100, '(#100) The parameter message is required');
      const target = this.instagramComments.get(node)!;
      const reply: InstagramComment = {
        id: `179${this.next()}`,
        mediaId: target.mediaId,
        from: { id: igUserId, username: 'agency' },
        text: r.body.message,
        parent: target.parent ?? target.id,
      };
      this.instagramComments.set(reply.id, reply);
      return json(res, { id: reply.id });
    }
    if (r.method === 'GET' && edge === 'replies' && this.instagramComments.has(node))
      return json(res, {
        data: [...this.instagramComments.values()]
          .filter((c) => c.parent === node)
          .map((c) => ({ id: c.id, text: c.text, from: c.from })),
      });
    if (r.method === 'POST' && edge === 'comments') {
      // A post, or a comment (a reply in its thread).
      if (!this.posts.some((p) => p.id === node))
        return this.graphError(
          res,
          400,
          100,
          `Unsupported post request. Object with ID '${node}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
          'GraphMethodException',
          33,
        );
      const id = `${node.split('_')[1] ?? node}_${this.next()}`;
      this.posts.push({
        id,
        kind: 'comment',
        parent: node,
        fields: r.body,
        from: { id: pageId, name: 'The Agency' },
        createdTime: Math.floor(Date.now() / 1000),
      });
      return json(res, { id });
    }

    if (r.method === 'GET' && node === igUserId && edge === 'content_publishing_limit')
      return json(res, {
        data: [
          {
            quota_usage: this.quota.usage,
            config: { quota_total: this.quota.total, quota_duration: this.quota.durationSeconds },
          },
        ],
      });
    if (r.method === 'GET' && node === igUserId && edge === 'media') {
      const limit = Number(r.query.limit ?? 25);
      return json(res, {
        data: this.media.slice(0, limit).map(({ id, timestamp }) => ({ id, timestamp })),
        ...(this.moreMediaPages ? { paging: { next: `${this.baseUrl}/next-page` } } : {}),
      });
    }
    if (r.method === 'POST' && node === igUserId && edge === 'media') {
      if (!r.body.image_url)
        return this.graphError(
          res,
          400,
          9004,
          'Only photo or video can be accepted as media type.',
          'OAuthException',
          2207052,
        );
      const id = this.next();
      this.containers.set(id, {
        id,
        imageUrl: r.body.image_url,
        caption: r.body.caption ?? '',
        altText: r.body.alt_text,
        polls: 0,
        published: false,
      });
      return json(res, { id });
    }
    if (r.method === 'POST' && node === igUserId && edge === 'media_publish') {
      const container = this.containers.get(r.body.creation_id ?? '');
      if (
        !container ||
        container.published ||
        container.polls <= this.pollsUntilFinished ||
        this.containerOutcome !== 'FINISHED'
      )
        return this.graphError(
          res,
          400,
          9007,
          'The media is not ready for publishing, please wait for a moment',
          'OAuthException',
          2207027,
        );
      if (this.quota.usage >= this.quota.total)
        return this.graphError(res, 400, 9, 'Application request limit reached', 'OAuthException', 2207042);
      container.published = true;
      this.quota.usage += 1;
      const id = this.next();
      this.media.unshift({
        id,
        timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, '+0000'),
        caption: container.caption,
      });
      return json(res, { id });
    }
    if (r.method === 'GET' && edge === undefined && this.containers.has(node)) {
      const container = this.containers.get(node)!;
      container.polls += 1;
      const done = container.polls > this.pollsUntilFinished;
      const status_code = container.published ? 'PUBLISHED' : done ? this.containerOutcome : 'IN_PROGRESS';
      return json(res, {
        status_code,
        ...(status_code === 'ERROR' ? { status: 'Error: Media download has failed. (2207003)' } : {}),
        id: node,
      });
    }
    return this.unsupported(r, res);
  }

  /** `GET /?ids=a,b&fields=…` on Page posts: one object per id, or Graph's error when one of them does not exist. */
  private readIds(r: RecordedRequest, res: ServerResponse): Answered {
    const ids = (r.query.ids ?? '').split(',').filter(Boolean);
    if (ids.length > 50) return this.graphError(res, 400, 100, '(#100) Too many IDs. Maximum: 50.');
    const missing = ids.filter((id) => !this.posts.some((p) => p.id === id && p.kind !== 'comment'));
    if (missing.length > 0)
      return this.graphError(
        res,
        404,
        803,
        `(#803) Some of the aliases you requested do not exist: ${missing.join(',')}`,
      );
    const fields = r.query.fields ?? '';
    const wantsInsights = /\binsights\.metric\(([^)]*)\)/.exec(fields);
    if (wantsInsights && !this.insightsAllowed)
      return this.graphError(res, 403, 10, '(#10) This endpoint requires the read_insights permission');
    const answer: Record<string, unknown> = {};
    for (const id of ids) {
      const counts = this.postCounts.get(id) ?? {};
      const summary = (n: number | undefined) => ({ data: [], summary: { total_count: n ?? 0 } });
      answer[id] = {
        id,
        ...(/\bshares\b/.test(fields) && counts.shares ? { shares: { count: counts.shares } } : {}),
        ...(/\bcomments\b/.test(fields) ? { comments: summary(counts.comments) } : {}),
        ...(/\breactions\b/.test(fields) ? { reactions: summary(counts.reactions) } : {}),
        ...(wantsInsights ? { insights: { data: this.insightData(id, wantsInsights[1]!.split(',')) } } : {}),
      };
    }
    return json(res, answer);
  }

  /** `GET /{media-id}/insights?metric=…` on a published Instagram media; `impressions` is refused, as since 2025. */
  private mediaInsights(node: string, r: RecordedRequest, res: ServerResponse): Answered {
    if (!this.media.some((m) => m.id === node)) return this.unsupported(r, res);
    if (!this.insightsAllowed)
      return this.graphError(res, 403, 10, '(#10) Application does not have permission for this action');
    const metrics = (r.query.metric ?? '').split(',').filter(Boolean);
    if (metrics.length === 0)
      return this.graphError(res, 400, 100, '(#100) The parameter metric is required', 'OAuthException');
    const known = new Set(['views', 'likes', 'comments', 'shares', 'saved', 'reach', 'total_interactions']);
    const unknown = metrics.find((m) => !known.has(m));
    if (unknown)
      return this.graphError(
        res,
        400,
        100,
        `(#100) metric[0] must be one of the following values: ${[...known].join(', ')} (not ${unknown})`,
      );
    return json(res, { data: this.insightData(node, metrics) });
  }

  private insightData(id: string, metrics: string[]) {
    const values = this.insights.get(id) ?? {};
    return metrics
      .filter((name) => values[name] !== undefined)
      .map((name) => ({
        name,
        period: 'lifetime',
        values: [{ value: values[name] }],
        title: name,
        id: `${id}/insights/${name}/lifetime`,
      }));
  }

  private unsupported(r: RecordedRequest, res: ServerResponse): Answered {
    return this.graphError(
      res,
      400,
      100,
      `Unsupported ${r.method.toLowerCase()} request. Object with ID '${r.path}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
      'GraphMethodException',
      33,
    );
  }

  private graphError(
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
    type = 'OAuthException',
    subcode?: number,
  ): Answered {
    return answer(
      res,
      status,
      {
        error: { message, type, code, ...(subcode ? { error_subcode: subcode } : {}), fbtrace_id: traceId() },
      },
      { 'www-authenticate': `OAuth "Facebook Platform" "${type}"` },
    );
  }

  private next(): string {
    this.seq += 1;
    return `17900000000000${this.seq}`;
  }
}

/** Marks a request as answered, so every branch of the router must end in an answer. */
type Answered = true;

function answer(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Answered {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
  return true;
}

const json = (res: ServerResponse, body: unknown): Answered => answer(res, 200, body);

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string, contentType: string): Record<string, string> {
  if (!raw) return {};
  if (contentType.includes('application/json')) {
    const parsed = JSON.parse(raw) as Record<string, unknown>;
    return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

/** A SecretSource holding one secret per name; `rotate` changes what a refreshed read returns. */
export class FakeSecrets {
  readonly reads: { name: string; refresh: boolean }[] = [];
  private readonly cached = new Map<string, Record<string, string>>();
  private readonly current = new Map<string, Record<string, string>>();

  constructor(secrets: Record<string, Record<string, string>>) {
    for (const [name, value] of Object.entries(secrets)) {
      this.cached.set(name, value);
      this.current.set(name, value);
    }
  }

  /** The stored secret changes; a cached read still returns the old one, as Secrets Manager's cache does. */
  rotate(name: string, value: Record<string, string>): void {
    this.current.set(name, value);
  }

  async get(name: string, options?: { refresh?: boolean }): Promise<Record<string, string> | undefined> {
    const refresh = options?.refresh === true;
    this.reads.push({ name, refresh });
    if (refresh) {
      const value = this.current.get(name);
      if (value) this.cached.set(name, value);
    }
    return this.cached.get(name);
  }
}
