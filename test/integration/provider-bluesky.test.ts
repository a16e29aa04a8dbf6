/**
 * The Bluesky client against a local PDS speaking XRPC (../fakes/bluesky-api.ts) over real HTTP: sessions and their
 * renewal, threads, images, exactly-once through the derived record key, and how every failure is classified.
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type BlueskyClientOptions,
  BlueskyConfigurationError,
  type BlueskyPost,
  type BlueskySession,
  createBlueskyClient,
  decodePostId,
  recordKeyFor,
} from '../../functions/channels/bluesky/client';
import type { SecretSource } from '../../functions/ports';
import { type BlueskyAccount, BlueskyApiFake, rateLimited, xrpcError } from '../fakes/bluesky-api';
import { failureOf, signal, staleSecrets } from '../helpers/providers';

const ACCOUNT: BlueskyAccount = {
  handle: 'agency.bsky.social',
  did: 'did:plc:agencyaaaaaaaaaaaaaaaaaa',
  appPassword: 'abcd-efgh-ijkl-mnop',
};
const REVOKED = 'zzzz-yyyy-xxxx-wwww';
const SIGN_IN = 'com.atproto.server.createSession';
const REFRESH = 'com.atproto.server.refreshSession';
const CREATE = 'com.atproto.repo.createRecord';
const GET = 'com.atproto.repo.getRecord';
const UPLOAD = 'com.atproto.repo.uploadBlob';

const secretsOf = (cached: string | undefined, fresh: string | undefined = cached) =>
  staleSecrets(
    'bluesky',
    (appPassword: string) => ({ identifier: ACCOUNT.handle, appPassword }),
    cached,
    fresh,
  );

let sequence = 0;
function post(overrides: Partial<BlueskyPost> = {}): BlueskyPost {
  sequence += 1;
  const link = `https://alerts.example.org/alerts/01ALERT${sequence}`;
  return {
    alertId: `01ALERT${sequence}`,
    version: 1,
    text: `Flood warning for the river valley, notice ${sequence}\n\n${link}`,
    link,
    idempotencyKey: `01ALERT${sequence}:1:bluesky:agency`,
    test: false,
    ...overrides,
  };
}

describe('Bluesky client against a local PDS', () => {
  let fake: BlueskyApiFake;
  let sessions: Map<string, BlueskySession>;
  const client = (options: Partial<BlueskyClientOptions> = {}) =>
    createBlueskyClient({
      secrets: secretsOf(ACCOUNT.appPassword).source,
      baseUrl: fake.baseUrl,
      sessions,
      ...options,
    });
  const record = (id: string) => fake.records.get(decodePostId(id)!.parent.uri)!;

  beforeAll(async () => {
    fake = await BlueskyApiFake.start({ ...ACCOUNT });
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    fake.account = { ...ACCOUNT };
    fake.requests.length = 0;
    sessions = new Map();
  });
  sessions = new Map();

  it('signs in once, then posts the record with its language, its link facet and a record key of its own', async () => {
    // Prepare: accented letters and an emoji before the link, so a facet counted in UTF-16 units would be off.
    const bluesky = client();
    const link = 'https://alerts.example.org/alerts/01J2Z3Y4X5';
    const text = `Évacuation 🚨 à Ciutat Vella\n\n${link}`;
    const first = post({ text, link, language: 'fr' });

    // Act
    const accepted = await bluesky.post(first, signal());
    await bluesky.post(post(), signal());

    // Assess
    expect(fake.xrpc().map((r) => r.nsid)).toEqual([SIGN_IN, CREATE, CREATE]);
    expect(fake.xrpc(SIGN_IN)[0]!.body).toEqual({
      identifier: ACCOUNT.handle,
      password: ACCOUNT.appPassword,
    });
    const create = fake.xrpc(CREATE)[0]!;
    expect(create.token).toBe('access');
    expect(create.body).toMatchObject({
      repo: ACCOUNT.did,
      collection: 'app.bsky.feed.post',
      rkey: recordKeyFor(first.idempotencyKey),
    });
    const stored = record(accepted.providerMessageId);
    const byteStart = Buffer.byteLength(`Évacuation 🚨 à Ciutat Vella\n\n`);
    expect(byteStart).toBe(34);
    expect(stored.value).toMatchObject({
      $type: 'app.bsky.feed.post',
      text,
      langs: ['fr'],
      facets: [
        {
          index: { byteStart, byteEnd: byteStart + link.length },
          features: [{ $type: 'app.bsky.richtext.facet#link', uri: link }],
        },
      ],
    });
    expect(stored.value.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(accepted.providerMessageId).toBe(`${stored.uri}|${stored.cid}`);
  });

  it('threads an update and a cancel under the first post, naming the root and the parent', async () => {
    // Prepare
    const bluesky = client();
    const original = await bluesky.post(post(), signal());

    // Act
    const update = await bluesky.post(
      post({
        version: 2,
        text: 'UPDATE: the warning now covers the lower town',
        inReplyTo: original.providerMessageId,
      }),
      signal(),
    );
    const cancel = await bluesky.post(
      post({ version: 3, text: 'CANCEL: the warning is over', inReplyTo: update.providerMessageId }),
      signal(),
    );

    // Assess
    const root = record(original.providerMessageId);
    const rootRef = { uri: root.uri, cid: root.cid };
    const middle = record(update.providerMessageId);
    expect(middle.value.reply).toEqual({ root: rootRef, parent: rootRef });
    expect(record(cancel.providerMessageId).value.reply).toEqual({
      root: rootRef,
      parent: { uri: middle.uri, cid: middle.cid },
    });
    expect(update.providerMessageId).toBe(`${middle.uri}|${middle.cid}|${root.uri}|${root.cid}`);
    expect(decodePostId(cancel.providerMessageId)?.root).toEqual(rootRef);
    expect(cancel.providerMessageId.length).toBeLessThan(500);
  });

  it('posts an update on its own when the post to reply to is not a Bluesky post id', async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };

    const accepted = await client({ logger }).post(
      post({ version: 2, inReplyTo: '1799999999999999999' }),
      signal(),
    );

    expect(record(accepted.providerMessageId).value.reply).toBeUndefined();
    expect(warnings.join(' ')).toMatch(/not a Bluesky post id/);
  });

  it('fetches the image, uploads its bytes as a blob and embeds it with alt text and aspect ratio', async () => {
    // Prepare: bytes that are not valid UTF-8, so a text-mangling upload would show.
    const bytes = new Uint8Array(40_000).map((_, i) => (i * 37 + 0xff) & 0xff);
    const url = fake.servePublic('card-1.jpg', bytes, 'image/jpeg');
    const alt = 'Red alert card: flood warning for the county until 18:00';
    // The fake serves the image on 127.0.0.1: loopback is allowed explicitly, as the embedded mode may.
    const bluesky = client({ allowLoopback: true });

    // Act
    const accepted = await bluesky.post(post({ image: { url, alt, width: 1200, height: 675 } }), signal());

    // Assess
    expect(fake.requests.map((r) => r.nsid)).toEqual([SIGN_IN, '/public/card-1.jpg', UPLOAD, CREATE]);
    const upload = fake.xrpc(UPLOAD)[0]!;
    expect(upload.headers['content-type']).toBe('image/jpeg');
    expect(Buffer.from(upload.bytes!)).toEqual(Buffer.from(bytes));
    const embed = record(accepted.providerMessageId).value.embed as { $type: string; images: unknown[] };
    const [blobCid] = [...fake.blobs.keys()].slice(-1);
    expect(embed).toEqual({
      $type: 'app.bsky.embed.images',
      images: [
        {
          image: { $type: 'blob', ref: { $link: blobCid }, mimeType: 'image/jpeg', size: bytes.length },
          alt,
          aspectRatio: { width: 1200, height: 675 },
        },
      ],
    });
  });

  it('refuses an image over 1,000,000 bytes as permanent, and uploads and posts nothing', async () => {
    const url = fake.servePublic('huge.png', new Uint8Array(1_000_001), 'image/png');

    const error = await failureOf(
      client({ allowLoopback: true }).post(post({ image: { url, alt: 'card' } }), signal()),
    );

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(
      /^the alert image is over the 1,000,000 bytes Bluesky takes \(.*1000001 bytes/,
    );
    expect(fake.xrpc().map((r) => r.nsid)).toEqual([SIGN_IN]);
  });

  it('is retryable when the image cannot be fetched, and posts nothing without it', async () => {
    const image = { url: `${fake.baseUrl}/public/not-there.jpg`, alt: 'card' };

    const error = await failureOf(client({ allowLoopback: true }).post(post({ image }), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.reason).toContain('404');
    expect(fake.xrpc(CREATE)).toHaveLength(0);
  });

  it('refreshes an expired access token with the refresh token and posts once', async () => {
    // Prepare
    const bluesky = client();
    await bluesky.post(post(), signal());
    fake.expireAccessTokens();
    fake.requests.length = 0;

    // Act
    const accepted = await bluesky.post(post(), signal());

    // Assess
    expect(fake.xrpc().map((r) => `${r.nsid} ${r.token}`)).toEqual([
      `${CREATE} expired-access`,
      `${REFRESH} refresh`,
      `${CREATE} access`,
    ]);
    expect(record(accepted.providerMessageId)).toBeDefined();
    expect(fake.xrpc()[2]!.headers.authorization).toBe(`Bearer ${[...sessions.values()][0]!.accessJwt}`);
  });

  it('signs in again when the refresh token is revoked as well', async () => {
    const bluesky = client();
    await bluesky.post(post(), signal());
    fake.expireAccessTokens();
    fake.revokeRefreshTokens();
    fake.requests.length = 0;

    const accepted = await bluesky.post(post(), signal());

    expect(fake.xrpc().map((r) => r.nsid)).toEqual([CREATE, REFRESH, SIGN_IN, CREATE]);
    expect(record(accepted.providerMessageId)).toBeDefined();
  });

  it('keeps one session per account across clients, as a warm function does', async () => {
    // No `sessions` option: the process-wide cache, which no other test here uses.
    const options = { secrets: secretsOf(ACCOUNT.appPassword).source, baseUrl: fake.baseUrl };

    await createBlueskyClient(options).post(post(), signal());
    await createBlueskyClient(options).post(post(), signal());

    expect(fake.xrpc(SIGN_IN)).toHaveLength(1);
  });

  it('re-reads a rotated app password once and signs in with it', async () => {
    // Prepare: the warm cache holds a revoked app password; the store has the current one.
    const secrets = secretsOf(REVOKED, ACCOUNT.appPassword);

    // Act
    const accepted = await client({ secrets: secrets.source }).post(post(), signal());

    // Assess
    expect(secrets.calls).toEqual([{ refresh: false }, { refresh: true }]);
    expect(fake.xrpc(SIGN_IN).map((r) => (r.body as { password: string }).password)).toEqual([
      REVOKED,
      ACCOUNT.appPassword,
    ]);
    expect(record(accepted.providerMessageId)).toBeDefined();
  });

  it('on a wrong app password after one re-read is permanent, and names no secret', async () => {
    const secrets = secretsOf(REVOKED);

    const error = await failureOf(client({ secrets: secrets.source }).post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe(
      'Bluesky refused to sign in: Bluesky 401 AuthenticationRequired: Invalid identifier or password',
    );
    expect(secrets.calls.filter((c) => c.refresh)).toHaveLength(1);
    expect(`${error.message} ${error.stack}`).not.toContain(REVOKED);
    expect(fake.xrpc(CREATE)).toHaveLength(0);
  });

  it('on a taken-down account is permanent without re-reading the secret', async () => {
    fake.answerNext(1, { status: 401, body: xrpcError('AccountTakedown', 'Account has been taken down') });
    const secrets = secretsOf(ACCOUNT.appPassword);

    const error = await failureOf(client({ secrets: secrets.source }).post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toContain('AccountTakedown');
    expect(secrets.calls).toEqual([{ refresh: false }]);
  });

  it('on 429 is retryable after the ratelimit-reset the answer carries', async () => {
    const now = new Date('2030-01-01T12:00:00.000Z');
    fake.answerNext(1, rateLimited(now.getTime() / 1000 + 90), { nsid: CREATE });

    const error = await failureOf(client({ clock: { now: () => now } }).post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(90_000);
    expect(error.reason).toBe('Bluesky 429 RateLimitExceeded: Rate Limit Exceeded');
    expect(fake.posts.filter((p) => p.value.createdAt === now.toISOString())).toHaveLength(0);
  });

  it('on 429 at sign-in is retryable after its reset too, and without rate-limit headers with none', async () => {
    const now = new Date('2030-01-01T12:00:00.000Z');
    const reset = now.getTime() / 1000 + 300;
    fake.answerNext(1, rateLimited(reset, 30, 300), { nsid: SIGN_IN });
    fake.answerNext(1, { status: 429, body: xrpcError('RateLimitExceeded', 'Rate Limit Exceeded') });

    const signIn = await failureOf(client({ clock: { now: () => now } }).post(post(), signal()));
    const bare = await failureOf(client().post(post(), signal()));

    expect([signIn.kind, bare.kind]).toEqual(['retryable', 'retryable']);
    expect(signIn.retryAfterMs).toBe(300_000);
    // Without headers the channel handler's own backoff decides.
    expect(bare.retryAfterMs).toBeUndefined();
  });

  it('on 400 InvalidRequest is permanent with what was invalid', async () => {
    // 301 graphemes of text: the PDS's own lexicon check refuses it.
    const error = await failureOf(client().post(post({ text: 'a'.repeat(301), link: undefined }), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe(
      'Bluesky 400 InvalidRequest: Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes',
    );
  });

  it.each([500, 502])('on %i with nothing posted is retryable', async (status) => {
    fake.answerNext(
      1,
      { status, body: xrpcError('InternalServerError', 'Internal Server Error') },
      {
        nsid: CREATE,
      },
    );

    const error = await failureOf(client().post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(fake.xrpc().map((r) => r.nsid)).toEqual([SIGN_IN, CREATE, GET]);
  });

  it('is an unknown outcome when the post hangs past the abort signal', async () => {
    fake.answerNext(1, { hang: true }, { nsid: CREATE });

    const error = await failureOf(client().post(post(), AbortSignal.timeout(300)));

    // The post reached the PDS, so it may be public; and with the signal spent, there is no reading it back.
    expect(error.kind).toBe('unknown-outcome');
    expect(fake.xrpc().map((r) => r.nsid)).toEqual([SIGN_IN, CREATE]);
  });

  it('posts exactly once when a retry follows a post whose answer was lost', async () => {
    // Prepare: the PDS takes the post, then the connection drops before its answer.
    const bluesky = client();
    const first = post();
    fake.answerNext(1, { drop: true, commit: true }, { nsid: CREATE });
    const before = fake.posts.length;

    // Act: the dropped answer is read back at once; a later retry is refused the key and reads it back too.
    const accepted = await bluesky.post(first, signal());
    const retried = await bluesky.post(first, signal());

    // Assess
    expect(fake.posts.length).toBe(before + 1);
    expect(retried.providerMessageId).toBe(accepted.providerMessageId);
    expect(fake.xrpc().map((r) => r.nsid)).toEqual([SIGN_IN, CREATE, GET, CREATE, GET]);
  });

  it('lookup finds a post whose outcome was lost, with its thread root, and nothing for a post never made', async () => {
    // Prepare: an update posted, then its answer lost past the deadline.
    const bluesky = client();
    const original = await bluesky.post(post(), signal());
    const update = post({ version: 2, inReplyTo: original.providerMessageId });
    fake.answerNext(1, { hang: true, commit: true }, { nsid: CREATE });
    const lost = await failureOf(bluesky.post(update, AbortSignal.timeout(300)));

    // Act
    const found = await bluesky.lookup(update.idempotencyKey, signal());
    const missing = await bluesky.lookup('01NEVER:1:bluesky:agency', signal());

    // Assess
    expect(lost.kind).toBe('unknown-outcome');
    const stored = fake.posts.find((p) => p.rkey === recordKeyFor(update.idempotencyKey))!;
    expect(found?.providerMessageId).toBe(
      `${stored.uri}|${stored.cid}|${decodePostId(original.providerMessageId)!.parent.uri}|${decodePostId(original.providerMessageId)!.parent.cid}`,
    );
    expect(missing).toBeUndefined();
  });

  it('is retryable when the image upload hangs past the abort signal: nothing was posted', async () => {
    const url = fake.servePublic('card-2.png', new Uint8Array([137, 80, 78, 71, 1, 2, 3]), 'image/png');
    fake.answerNext(1, { hang: true }, { nsid: UPLOAD });

    const error = await failureOf(
      client({ allowLoopback: true }).post(post({ image: { url, alt: 'card' } }), AbortSignal.timeout(300)),
    );

    expect(error.kind).toBe('retryable');
    expect(fake.xrpc(CREATE)).toHaveLength(0);
  });

  it('is retryable when Bluesky cannot be reached at all', async () => {
    // A port that was just free and is closed again: the connection is refused before anything is sent.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });

    const error = await failureOf(client({ baseUrl: `http://127.0.0.1:${port}` }).post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.reason).toContain('ECONNREFUSED');
  });

  it('without credentials, or with some missing, is a configuration error naming the keys; calls nothing', async () => {
    const partial: SecretSource = { get: async () => ({ identifier: ACCOUNT.handle }) };

    const none = await failureOf(client({ secrets: secretsOf(undefined).source }).post(post(), signal()));
    const some = await failureOf(client({ secrets: partial }).post(post(), signal()));

    expect(none).toBeInstanceOf(BlueskyConfigurationError);
    expect(none.reason).toBe('Bluesky is not configured: there are no credentials in the secret "bluesky"');
    expect(some.reason).toBe('Bluesky is not configured: the secret "bluesky" lacks appPassword');
    expect([none.kind, some.kind]).toEqual(['permanent', 'permanent']);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses Test and Exercise posts: they must not reach the public', async () => {
    const error = await failureOf(client().post(post({ test: true }), signal()));

    expect(error.kind).toBe('permanent');
    expect(fake.requests).toHaveLength(0);
  });
});
