/**
 * A local stand-in for a Bluesky PDS on 127.0.0.1, speaking XRPC as the reference PDS does (bluesky-social/atproto,
 * packages/pds): errors are `{ error, message }`; sessions come from createSession with an app password, an expired
 * access token answers `400 ExpiredToken`, refreshSession rotates the pair (the old refresh token then answers
 * `ExpiredToken: Token has been revoked`), a refresh token used as an access token is `InvalidToken`; uploadBlob
 * takes the raw bytes and answers a blob ref; createRecord validates an app.bsky.feed.post record as its lexicon
 * says (300 graphemes and 3,000 UTF-8 bytes of text, a TID record key, langs, the image blob's 1,000,000 bytes) and
 * answers a record key that already exists as the PDS does: `500 InternalServerError`, because the repository tree
 * throws a plain Error ("There is already a value at key") that the XRPC server does not detail. getRecord answers
 * `400 RecordNotFound` for a missing record; a 429 carries the `ratelimit-*` headers.
 *
 * Stricter than the PDS, so that a client bug shows here: facets must lie within the text's UTF-8 bytes, and a
 * reply's root and parent must name records it holds, with their CIDs (the PDS takes any strong ref).
 *
 * For the engagement poller it answers app.bsky.feed.getPosts (`uris`, up to 25; counts set with `counts`).
 * For the tips path it answers app.bsky.feed.getPostThread (as the PDS proxies it to the AppView): the thread under
 * a post to `depth`, residents' replies added with `residentReply()`. Files under `/public/` stand in for the CDN
 * alert images come from. CIDs are real CIDv1 sha-256 (over the JSON, not DAG-CBOR: the shape is what matters).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type BlueskyAccount = { handle: string; did: string; appPassword: string };
export type StrongRef = { uri: string; cid: string };

export interface StoredRecord extends StrongRef {
  did: string;
  rkey: string;
  value: Record<string, unknown>;
  indexedAt: string;
}

export interface RecordedRequest {
  method: string;
  /** The XRPC method (`com.atproto.repo.createRecord`), or the path for anything else. */
  nsid: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body?: unknown;
  bytes?: Uint8Array;
  /** Which of the fake's tokens came with the request. */
  token?: 'access' | 'expired-access' | 'refresh' | 'unknown';
  /** Every value of a repeated query parameter (getPosts' `uris`). */
  repeated?: Record<string, string[]>;
}

/**
 * Instead of the fake's own answer: a status and body; `hang` never answers and `drop` closes the connection,
 * either after the request took effect (`commit: true`: the post went out, its answer was lost) or before.
 */
export type ScriptedAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  | { hang: true; commit?: boolean }
  | { drop: true; commit?: boolean };

type Answer = { status: number; body: unknown; headers?: Record<string, string> };

export const xrpcError = (error: string, message: string) => ({ error, message });
const fail = (status: number, error: string, text: string): Answer => ({
  status,
  body: xrpcError(error, text),
});

/** The PDS's 429: `reset` in epoch seconds, the policy as `<points>;w=<seconds>`. */
export const rateLimited = (reset: number, limit = 5000, window = 3600): ScriptedAnswer => ({
  status: 429,
  body: xrpcError('RateLimitExceeded', 'Rate Limit Exceeded'),
  headers: {
    'ratelimit-limit': String(limit),
    'ratelimit-remaining': '0',
    'ratelimit-reset': String(reset),
    'ratelimit-policy': `${limit};w=${window}`,
  },
});

const POST = 'app.bsky.feed.post';
const DEFS = 'app.bsky.feed.defs';
const TID = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const LANGUAGE = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{1,8})*$/;
const MAX_IMAGE_BYTES = 1_000_000;
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

const base32 = (bytes: Uint8Array) => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    for (; bits >= 5; bits -= 5) out += alphabet[(value >>> (bits - 5)) & 31];
  }
  return bits > 0 ? out + alphabet[(value << (5 - bits)) & 31] : out;
};
/** CIDv1, sha2-256, base32 multibase: `raw` (0x55) for blobs, `dag-cbor` (0x71) for records. */
const cidOf = (codec: 0x55 | 0x71, bytes: Uint8Array) =>
  `b${base32(Buffer.concat([Buffer.from([0x01, codec, 0x12, 0x20]), createHash('sha256').update(bytes).digest()]))}`;

export class BlueskyApiFake {
  readonly requests: RecordedRequest[] = [];
  readonly records = new Map<string, StoredRecord>();
  readonly blobs = new Map<string, { bytes: Uint8Array; mimeType: string; size: number }>();
  /** Handles by DID: the agency's account and every resident who replied. */
  readonly handles = new Map<string, string>();
  private readonly accessTokens = new Map<string, { did: string; expired: boolean }>();
  private readonly refreshTokens = new Map<string, { did: string; revoked: boolean }>();
  private readonly scripts: { remaining: number; answer: ScriptedAnswer; nsid?: string | undefined }[] = [];
  private readonly files = new Map<string, { bytes: Uint8Array; contentType: string }>();
  private readonly hanging = new Set<ServerResponse>();
  private clock = 1_900_000_000_000_000;

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    public account: BlueskyAccount,
  ) {
    this.handles.set(account.did, account.handle);
  }

  static async start(account: BlueskyAccount): Promise<BlueskyApiFake> {
    let fake: BlueskyApiFake | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(xrpcError('InternalServerError', String(error))));
      });
    });
    fake = new BlueskyApiFake(server, account);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /**
   * For the engagement poller: a post's likes, reposts and quotes by AT URI, as app.bsky.feed.getPosts shows them
   * (replyCount is counted from the replies stored); a post without an entry shows 0.
   */
  readonly counts = new Map<string, { likeCount?: number; repostCount?: number; quoteCount?: number }>();

  /** The agency's posts, oldest first. */
  get posts(): StoredRecord[] {
    return [...this.records.values()].filter((r) => r.did === this.account.did);
  }

  /** The XRPC requests made (not the stand-in CDN's), of one method when named. */
  xrpc(nsid?: string): RecordedRequest[] {
    return this.requests.filter((r) => !r.nsid.startsWith('/') && (!nsid || r.nsid === nsid));
  }

  /** Every access token issued so far now answers ExpiredToken, as after its two hours. */
  expireAccessTokens(): void {
    for (const token of this.accessTokens.values()) token.expired = true;
  }

  /** Every refresh token issued so far is revoked too (an app password deleted, a session signed out). */
  revokeRefreshTokens(): void {
    for (const token of this.refreshTokens.values()) token.revoked = true;
  }

  answerNext(times: number, answer: ScriptedAnswer, match?: { nsid?: string }): void {
    this.scripts.push({ remaining: times, answer, nsid: match?.nsid });
  }

  servePublic(name: string, bytes: Uint8Array, contentType: string): string {
    this.files.set(`/public/${name}`, { bytes, contentType });
    return `${this.baseUrl}/public/${name}`;
  }

  /** A resident's reply to `parentUri` (a post of the agency's or another reply), in the parent's thread. */
  residentReply(parentUri: string, text: string, handle: string): StrongRef {
    const parent = this.records.get(parentUri);
    if (!parent) throw new Error(`no record ${parentUri} to reply to`);
    const did = `did:plc:${base32(createHash('sha256').update(handle).digest()).slice(0, 24)}`;
    this.handles.set(did, handle);
    const parentRef = { uri: parent.uri, cid: parent.cid };
    const root = (parent.value.reply as { root?: StrongRef } | undefined)?.root ?? parentRef;
    return this.store(did, this.nextTid(), {
      $type: POST,
      text,
      createdAt: new Date().toISOString(),
      reply: { root, parent: parentRef },
    });
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private nextTid(): string {
    this.clock += 1000;
    let n = BigInt(this.clock) << 10n;
    let key = '';
    for (let i = 0; i < 13; i++, n >>= 5n) key = '234567abcdefghijklmnopqrstuvwxyz'[Number(n & 31n)] + key;
    return key;
  }

  private store(did: string, rkey: string, value: Record<string, unknown>): StoredRecord {
    const uri = `at://${did}/${POST}/${rkey}`;
    const record = { uri, cid: cidOf(0x71, Buffer.from(JSON.stringify(value))), did, rkey, value };
    this.records.set(uri, { ...record, indexedAt: new Date().toISOString() });
    return this.records.get(uri)!;
  }

  private issueSession(did: string): Answer {
    const access = `fake-access-${randomBytes(12).toString('base64url')}`;
    const refresh = `fake-refresh-${randomBytes(12).toString('base64url')}`;
    this.accessTokens.set(access, { did, expired: false });
    this.refreshTokens.set(refresh, { did, revoked: false });
    const handle = this.handles.get(did) ?? 'handle.invalid';
    return { status: 200, body: { accessJwt: access, refreshJwt: refresh, handle, did, active: true } };
  }

  private takeScript(nsid: string): ScriptedAnswer | undefined {
    const index = this.scripts.findIndex((s) => s.remaining > 0 && (!s.nsid || s.nsid === nsid));
    if (index < 0) return undefined;
    const script = this.scripts[index]!;
    if (--script.remaining <= 0) this.scripts.splice(index, 1);
    return script.answer;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const nsid = url.pathname.startsWith('/xrpc/') ? url.pathname.slice(6) : url.pathname;
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      nsid,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      repeated: Object.fromEntries(
        [...new Set(url.searchParams.keys())].map((k) => [k, url.searchParams.getAll(k)]),
      ),
    };
    if (bearer) {
      const access = this.accessTokens.get(bearer);
      recorded.token = access
        ? access.expired
          ? 'expired-access'
          : 'access'
        : this.refreshTokens.has(bearer)
          ? 'refresh'
          : 'unknown';
    }
    if (raw.length > 0 && (req.headers['content-type'] ?? '').includes('application/json'))
      recorded.body = JSON.parse(raw.toString());
    else if (raw.length > 0) recorded.bytes = new Uint8Array(raw);
    this.requests.push(recorded);

    const file = req.method === 'GET' ? this.files.get(url.pathname) : undefined;
    if (file) {
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.length) });
      res.end(file.bytes);
      return;
    }
    const scripted = this.takeScript(nsid);
    if (scripted && !('status' in scripted)) {
      if (scripted.commit) this.route(recorded, bearer, raw);
      if ('drop' in scripted) res.socket?.destroy();
      else {
        this.hanging.add(res);
        res.on('close', () => this.hanging.delete(res));
      }
      return;
    }
    const answer = scripted ?? this.route(recorded, bearer, raw);
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
    res.end(JSON.stringify(answer.body ?? {}));
  }

  /** The DID the access token stands for, or the answer refusing it, as the PDS's auth verifier words it. */
  private authorize(bearer: string | undefined): { did: string } | Answer {
    if (!bearer) return fail(401, 'AuthMissing', 'Authentication Required');
    const access = this.accessTokens.get(bearer);
    if (access?.expired) return fail(400, 'ExpiredToken', 'Token has expired');
    if (access) return { did: access.did };
    if (this.refreshTokens.has(bearer)) return fail(400, 'InvalidToken', 'Bad token scope');
    return fail(400, 'InvalidToken', 'Token could not be verified');
  }

  private route(r: RecordedRequest, bearer: string | undefined, raw: Buffer): Answer {
    const body = (r.body ?? {}) as Record<string, unknown>;
    switch (r.nsid) {
      case 'com.atproto.server.createSession': {
        const { handle, did, appPassword } = this.account;
        if ((body.identifier !== handle && body.identifier !== did) || body.password !== appPassword)
          return fail(401, 'AuthenticationRequired', 'Invalid identifier or password');
        return this.issueSession(did);
      }
      case 'com.atproto.server.refreshSession': {
        const refresh = bearer ? this.refreshTokens.get(bearer) : undefined;
        if (!refresh) return this.authorize(bearer) as Answer;
        if (refresh.revoked) return fail(400, 'ExpiredToken', 'Token has been revoked');
        refresh.revoked = true;
        return this.issueSession(refresh.did);
      }
      case 'com.atproto.repo.uploadBlob': {
        const auth = this.authorize(bearer);
        if ('status' in auth) return auth;
        const mimeType = String(r.headers['content-type'] ?? '');
        if (raw.length === 0 || !mimeType) return fail(400, 'InvalidRequest', 'no blob');
        const cid = cidOf(0x55, raw);
        this.blobs.set(cid, { bytes: new Uint8Array(raw), mimeType, size: raw.length });
        return {
          status: 200,
          body: { blob: { $type: 'blob', ref: { $link: cid }, mimeType, size: raw.length } },
        };
      }
      case 'com.atproto.repo.createRecord': {
        const auth = this.authorize(bearer);
        if ('status' in auth) return auth;
        return this.createRecord(auth.did, body);
      }
      case 'com.atproto.repo.getRecord': {
        const { repo, collection, rkey } = r.query;
        const did = repo === this.account.handle ? this.account.did : repo;
        const found = this.records.get(`at://${did}/${collection}/${rkey}`);
        if (!found)
          return fail(400, 'RecordNotFound', `Could not locate record: at://${did}/${collection}/${rkey}`);
        return { status: 200, body: { uri: found.uri, cid: found.cid, value: found.value } };
      }
      case 'app.bsky.feed.getPostThread':
        return this.thread(r.query);
      case 'app.bsky.feed.getPosts':
        return this.getPosts(r.repeated?.uris ?? []);
      default:
        if (r.nsid.startsWith('/')) return fail(404, 'NotFound', 'no such file');
        return fail(501, 'MethodNotImplemented', 'Method Not Implemented');
    }
  }

  private createRecord(did: string, body: Record<string, unknown>): Answer {
    const invalid = (message: string): Answer => fail(400, 'InvalidRequest', message);
    if (body.repo !== did && body.repo !== this.handles.get(did))
      return fail(401, 'AuthenticationRequired', 'Authentication Required');
    if (body.collection !== POST) return invalid(`this fake stores only ${POST} records`);
    const rkey = body.rkey === undefined ? this.nextTid() : String(body.rkey);
    if (!TID.test(rkey)) return invalid(`Invalid record key for ${POST}: must be a valid TID`);
    const record = body.record as Record<string, unknown> | undefined;
    const problem = record ? this.recordProblem(record) : 'Record must be an object';
    if (problem) return invalid(`Invalid ${POST} record: ${problem}`);
    if (this.records.has(`at://${did}/${POST}/${rkey}`))
      return fail(500, 'InternalServerError', 'Internal Server Error');
    const stored = this.store(did, rkey, record!);
    return {
      status: 200,
      body: {
        uri: stored.uri,
        cid: stored.cid,
        commit: { cid: cidOf(0x71, Buffer.from(stored.uri)), rev: this.nextTid() },
        validationStatus: 'valid',
      },
      headers: {
        'ratelimit-limit': '5000',
        'ratelimit-remaining': '4997',
        'ratelimit-policy': '5000;w=3600',
      },
    };
  }

  /** What the lexicon (and this fake's stricter checks) find wrong with a post record, in the PDS's words. */
  private recordProblem(record: Record<string, unknown>): string | undefined {
    const { $type, text, createdAt, langs, facets, embed, reply } = record;
    if ($type !== POST) return `Record/$type must be ${POST}`;
    if (typeof text !== 'string') return 'Record must have the property "text"';
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > 3000) return 'Record/text must not be longer than 3000 characters';
    if ([...segmenter.segment(text)].length > 300) return 'Record/text must not be longer than 300 graphemes';
    if (typeof createdAt !== 'string' || !DATETIME.test(createdAt))
      return 'Record/createdAt must be an valid atproto datetime';
    if (langs !== undefined) {
      if (!Array.isArray(langs) || langs.length > 3) return 'Record/langs must not have more than 3 elements';
      if (langs.some((l) => typeof l !== 'string' || !LANGUAGE.test(l)))
        return 'Record/langs must be languages';
    }
    if (facets !== undefined) {
      if (!Array.isArray(facets)) return 'Record/facets must be an array';
      for (const [i, facet] of facets.entries()) {
        const { byteStart, byteEnd } = (facet?.index ?? {}) as Record<string, unknown>;
        if (!Number.isInteger(byteStart) || !Number.isInteger(byteEnd) || (byteStart as number) < 0)
          return `Record/facets/${i}/index must hold byteStart and byteEnd`;
        if ((byteStart as number) >= (byteEnd as number) || (byteEnd as number) > bytes)
          return `Record/facets/${i}/index is not within the text's ${bytes} bytes`;
        const features = facet.features as { $type?: unknown; uri?: unknown }[] | undefined;
        if (!Array.isArray(features) || features.length === 0) return `Record/facets/${i}/features is empty`;
        for (const f of features)
          if (
            f.$type === 'app.bsky.richtext.facet#link' &&
            (typeof f.uri !== 'string' || !URL.canParse(f.uri))
          )
            return `Record/facets/${i}/features/0/uri must be a uri`;
      }
    }
    if (embed !== undefined) {
      const { $type: kind, images } = embed as { $type?: unknown; images?: unknown };
      if (kind !== 'app.bsky.embed.images') return 'this fake embeds only app.bsky.embed.images';
      if (!Array.isArray(images) || images.length < 1 || images.length > 4)
        return 'Record/embed/images must hold 1 to 4 images';
      for (const [i, image] of images.entries()) {
        const blob = image?.image as
          | { ref?: { $link?: unknown }; mimeType?: unknown; size?: unknown }
          | undefined;
        const stored = this.blobs.get(String(blob?.ref?.$link));
        if (!stored) return `Could not find blob: ${String(blob?.ref?.$link)}`;
        if (typeof image.alt !== 'string') return `Record/embed/images/${i} must have the property "alt"`;
        if (blob?.mimeType !== stored.mimeType || !stored.mimeType.startsWith('image/'))
          return `Record/embed/images/${i}/image mimeType is not an accepted image type`;
        if (stored.size > MAX_IMAGE_BYTES)
          return `Record/embed/images/${i}/image file too big (max ${MAX_IMAGE_BYTES} bytes)`;
        const ratio = image.aspectRatio as { width?: unknown; height?: unknown } | undefined;
        if (
          ratio &&
          !([ratio.width, ratio.height] as unknown[]).every((n) => Number.isInteger(n) && Number(n) >= 1)
        )
          return `Record/embed/images/${i}/aspectRatio must hold whole width and height`;
      }
    }
    if (reply !== undefined) {
      for (const which of ['root', 'parent'] as const) {
        const ref = (reply as Record<string, StrongRef | undefined>)[which];
        if (typeof ref?.uri !== 'string' || typeof ref?.cid !== 'string')
          return `Record/reply/${which} must be a strong ref`;
        if (this.records.get(ref.uri)?.cid !== ref.cid)
          return `Record/reply/${which} names no record this fake holds`;
      }
    }
    return undefined;
  }

  /** getPosts as the AppView answers it: the posts it has, in the order asked, the missing ones left out. */
  private getPosts(uris: string[]): Answer {
    if (uris.length === 0 || uris.length > 25)
      return fail(400, 'InvalidRequest', 'uris must hold 1 to 25 AT URIs');
    const posts = uris
      .map((uri) => this.records.get(uri))
      .filter((r): r is StoredRecord => r !== undefined)
      .map((r) => {
        const counts = this.counts.get(r.uri) ?? {};
        const replies = [...this.records.values()].filter(
          (c) => (c.value.reply as { parent?: StrongRef } | undefined)?.parent?.uri === r.uri,
        ).length;
        return {
          uri: r.uri,
          cid: r.cid,
          author: { did: r.did, handle: this.handles.get(r.did) ?? 'handle.invalid' },
          record: r.value,
          replyCount: replies,
          repostCount: counts.repostCount ?? 0,
          likeCount: counts.likeCount ?? 0,
          quoteCount: counts.quoteCount ?? 0,
          indexedAt: r.indexedAt,
          labels: [],
        };
      });
    return { status: 200, body: { posts } };
  }

  /** getPostThread as the AppView answers it: the anchor with its parents up to parentHeight and replies to depth. */
  private thread(query: Record<string, string>): Answer {
    const anchor = this.records.get(query.uri ?? '');
    if (!anchor) return fail(400, 'NotFound', `Post not found: ${query.uri}`);
    const depth = Number(query.depth ?? 6);
    const parentHeight = Number(query.parentHeight ?? 80);
    if (!Number.isInteger(depth) || depth < 0 || depth > 1000) return fail(400, 'InvalidRequest', 'depth');
    const children = (uri: string) =>
      [...this.records.values()].filter(
        (r) => (r.value.reply as { parent?: StrongRef } | undefined)?.parent?.uri === uri,
      );
    const view = (r: StoredRecord) => ({
      uri: r.uri,
      cid: r.cid,
      author: { did: r.did, handle: this.handles.get(r.did) ?? 'handle.invalid' },
      record: r.value,
      replyCount: children(r.uri).length,
      repostCount: 0,
      likeCount: 0,
      quoteCount: 0,
      indexedAt: r.indexedAt,
      labels: [],
    });
    const down = (r: StoredRecord, left: number): Record<string, unknown> => ({
      $type: `${DEFS}#threadViewPost`,
      post: view(r),
      ...(left > 0 ? { replies: children(r.uri).map((c) => down(c, left - 1)) } : {}),
    });
    const up = (r: StoredRecord, left: number): Record<string, unknown> | undefined => {
      const parentUri = (r.value.reply as { parent?: StrongRef } | undefined)?.parent?.uri;
      if (!parentUri || left <= 0) return undefined;
      const parent = this.records.get(parentUri);
      if (!parent) return { $type: `${DEFS}#notFoundPost`, uri: parentUri, notFound: true };
      const above = up(parent, left - 1);
      return { $type: `${DEFS}#threadViewPost`, post: view(parent), ...(above ? { parent: above } : {}) };
    };
    const parent = up(anchor, parentHeight);
    return { status: 200, body: { thread: { ...down(anchor, depth), ...(parent ? { parent } : {}) } } };
  }
}
