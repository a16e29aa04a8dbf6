import { createServer } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createMastodonClient,
  type MastodonClientOptions,
  MastodonConfigurationError,
  type MastodonPost,
} from '../../functions/channels/mastodon/client';
import type { LoggerLike } from '../../functions/shared/logger';
import { MastodonApiFake, MESSAGES } from '../fakes/mastodon-api';
import { failureOf, signal, staleSecrets } from '../helpers/providers';

const INSTANCE = 'https://mastodon.example';
const TOKEN = 'token-current-0001-abcdefghijklmnop';
const REVOKED = 'token-revoked-0001-abcdefghijklmnop';

const secretsOf = (cached: string | undefined, fresh: string | undefined = cached) =>
  staleSecrets('mastodon', (accessToken: string) => ({ instanceUrl: INSTANCE, accessToken }), cached, fresh);

function recordingLogger() {
  const warnings: string[] = [];
  const logger: LoggerLike = {
    debug: () => {},
    info: () => {},
    warn: (message) => warnings.push(message),
    error: () => {},
  };
  return { logger, warnings };
}

let sequence = 0;
function post(overrides: Partial<MastodonPost> = {}): MastodonPost {
  sequence += 1;
  return {
    alertId: `01ALERT${sequence}`,
    version: 1,
    text: `Flood warning for the river valley, notice ${sequence}\n\nhttps://alerts.example.org/alerts/01ALERT${sequence}`,
    idempotencyKey: `01ALERT${sequence}:1:mastodon:@agency`,
    test: false,
    ...overrides,
  };
}

const statusId = (providerMessageId: string) => providerMessageId.split('@')[0]!;
const isoMicros = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

describe('Mastodon client against a local Mastodon API', () => {
  let fake: MastodonApiFake;
  let options: (extra?: Partial<MastodonClientOptions>) => MastodonClientOptions;
  beforeEach(async () => {
    fake = await MastodonApiFake.start(TOKEN);
    options = (extra = {}) => ({ secrets: secretsOf(TOKEN).source, baseUrl: fake.baseUrl, ...extra });
  });
  afterEach(async () => {
    await fake.close();
  });
  const png = (name: string) =>
    fake.servePublic(`${name}.png`, new Uint8Array([137, 80, 78, 71, 1]), 'image/png');
  const statusPosts = () =>
    fake.apiRequests.filter((r) => r.method === 'POST' && r.path === '/api/v1/statuses');

  it('posts a public status with the bearer token, its language and the Idempotency-Key', async () => {
    const client = createMastodonClient(options());
    const out = post({ language: 'es-ES' });

    const accepted = await client.post(out, signal());

    expect(accepted.providerMessageId).toMatch(/^\d+@mastodon\.example$/);
    const [request] = fake.apiRequests;
    expect(fake.apiRequests).toHaveLength(1);
    expect(request).toMatchObject({ method: 'POST', path: '/api/v1/statuses', authorized: true });
    expect(request!.body).toEqual({ status: out.text, visibility: 'public', language: 'es' });
    expect(request!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(request!.headers['idempotency-key']).toBe(out.idempotencyKey);
    expect(fake.statuses.get(statusId(accepted.providerMessageId))?.text).toBe(out.text);

    // A language that is not ISO 639-1 is left to the instance; a key that is not header-safe goes as its hash.
    await client.post(post({ language: 'ast', idempotencyKey: '01ALERT:1:mastodon:@agència' }), signal());
    expect(statusPosts()[1]!.body).not.toHaveProperty('language');
    expect(statusPosts()[1]!.headers['idempotency-key']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('threads an update and a cancel as replies to the status of the version before', async () => {
    const client = createMastodonClient(options());
    const first = await client.post(post(), signal());

    const update = await client.post(post({ version: 2, inReplyTo: first.providerMessageId }), signal());
    const cancel = await client.post(post({ version: 3, inReplyTo: update.providerMessageId }), signal());

    const posts = statusPosts();
    expect(posts[1]!.body).toMatchObject({ in_reply_to_id: statusId(first.providerMessageId) });
    expect(posts[2]!.body).toMatchObject({ in_reply_to_id: statusId(update.providerMessageId) });
    expect(fake.statuses.get(statusId(cancel.providerMessageId))?.inReplyToId).toBe(
      statusId(update.providerMessageId),
    );
  });

  it('posts an update on its own, with the same key, when the status it answers was deleted', async () => {
    const { logger, warnings } = recordingLogger();
    const client = createMastodonClient(options({ logger }));
    const first = await client.post(post(), signal());
    fake.deleteStatus(statusId(first.providerMessageId));

    const update = await client.post(post({ version: 2, inReplyTo: first.providerMessageId }), signal());

    const [, threaded, alone] = statusPosts();
    expect(threaded!.body).toHaveProperty('in_reply_to_id');
    expect(alone!.body).not.toHaveProperty('in_reply_to_id');
    expect(alone!.headers['idempotency-key']).toBe(threaded!.headers['idempotency-key']);
    expect(fake.statuses.get(statusId(update.providerMessageId))?.inReplyToId).toBeUndefined();
    expect(warnings.join()).toMatch(/to reply to is gone/);
  });

  it('does not reply to a status id from another instance: it would name someone else’s status here', async () => {
    const { logger, warnings } = recordingLogger();
    const client = createMastodonClient(options({ logger }));
    const mine = await client.post(post(), signal());

    await client.post(
      post({ version: 2, inReplyTo: `${statusId(mine.providerMessageId)}@old.example` }),
      signal(),
    );

    expect(statusPosts()[1]!.body).not.toHaveProperty('in_reply_to_id');
    expect(warnings.join()).toMatch(/not a status on this Mastodon instance/);
  });

  it('after a lost answer is retryable, and the retry gets the status already posted, not a second one', async () => {
    fake.answerNext(1, { lose: true }, { method: 'POST', path: '/api/v1/statuses' });
    const client = createMastodonClient(options());
    const out = post();

    const error = await failureOf(client.post(out, AbortSignal.timeout(300)));
    const accepted = await client.post(out, signal());

    expect(error.kind).toBe('retryable');
    expect(error.reason).toMatch(/answer was lost .*cannot duplicate/);
    expect(fake.posted.filter((s) => s.text === out.text)).toHaveLength(1);
    expect(statusId(accepted.providerMessageId)).toBe(fake.posted.at(-1)!.id);
    expect(statusPosts().map((r) => r.headers['idempotency-key'])).toEqual([
      out.idempotencyKey,
      out.idempotencyKey,
    ]);
  });

  it('is retryable when the status request hangs past the deadline, and nothing was posted', async () => {
    fake.answerNext(1, { hang: true }, { path: '/api/v1/statuses' });
    const client = createMastodonClient(options());

    const error = await failureOf(client.post(post(), AbortSignal.timeout(300)));

    expect(error.kind).toBe('retryable');
    expect(fake.posted).toHaveLength(0);
  });

  it('uploads the image with its alt text and attaches it when the instance processed it at once', async () => {
    const bytes = new Uint8Array(40_000).map((_, i) => (i * 37 + 0xff) & 0xff);
    const url = fake.servePublic('card-1.jpg', bytes, 'image/jpeg');
    const client = createMastodonClient(options({ allowLoopback: true }));
    const alt = 'Red alert card: flood warning for the river valley until 18:00';

    const accepted = await client.post(post({ image: { url, alt } }), signal());

    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /public/card-1.jpg',
      'POST /api/v2/media',
      'POST /api/v1/statuses',
    ]);
    const upload = fake.apiRequests[0]!;
    expect(upload.form?.file?.file).toMatchObject({ type: 'image/jpeg', filename: 'alert.jpg' });
    expect(Buffer.from(upload.form!.file!.file!.bytes)).toEqual(Buffer.from(bytes));
    expect(upload.form?.description?.value).toBe(alt);
    const status = fake.statuses.get(statusId(accepted.providerMessageId))!;
    expect(status.mediaIds).toHaveLength(1);
    expect(fake.media.get(status.mediaIds[0]!)?.description).toBe(alt);
  });

  it('waits while the instance processes the image (202, then 206) and attaches it once done', async () => {
    const url = png('card-2');
    fake.processingChecks = 2;
    const client = createMastodonClient(options({ allowLoopback: true, mediaPoll: { intervalMs: 5 } }));

    const accepted = await client.post(post({ image: { url, alt: 'card' } }), signal());

    const id = fake.statuses.get(statusId(accepted.providerMessageId))!.mediaIds[0]!;
    expect(fake.apiRequests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/v2/media',
      `GET /api/v1/media/${id}`,
      `GET /api/v1/media/${id}`,
      `GET /api/v1/media/${id}`,
      'POST /api/v1/statuses',
    ]);
  });

  it('is retryable, with nothing posted, when the image is still processing after the last check', async () => {
    const url = png('card-3');
    fake.processingChecks = 10;
    const client = createMastodonClient(
      options({ allowLoopback: true, mediaPoll: { intervalMs: 5, maxChecks: 3 } }),
    );

    const error = await failureOf(client.post(post({ image: { url, alt: 'card' } }), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.reason).toMatch(/still processing the image after 3 checks/);
    expect(statusPosts()).toHaveLength(0);
  });

  it('cuts alt text to Mastodon’s 1500 characters without splitting a character', async () => {
    const url = png('card-4');
    const client = createMastodonClient(options({ allowLoopback: true }));
    const alt = `Map of the closed roads ${'👩‍🚒 🚨 '.repeat(400)}`;

    await client.post(post({ image: { url, alt } }), signal());

    const sent = fake.apiRequests[0]!.form!.description!.value!;
    expect([...sent].length).toBeLessThanOrEqual(1500);
    expect(sent.endsWith('…')).toBe(true);
    expect(alt.startsWith(sent.slice(0, -1).trimEnd())).toBe(true);
  });

  it('is retryable, and posts nothing, when the image cannot be fetched or uploaded', async () => {
    const client = createMastodonClient(options({ allowLoopback: true }));
    const missing = { url: `${fake.baseUrl}/public/missing.jpg`, alt: 'card' };
    const thumbnail = 'Error processing thumbnail for uploaded media';
    fake.answerNext(1, { status: 500, body: { error: thumbnail } }, { path: '/api/v2/media' });

    const unfetched = await failureOf(client.post(post({ image: missing }), signal()));
    expect(fake.apiRequests).toHaveLength(0);
    const unloaded = await failureOf(
      client.post(post({ image: { url: png('card-5'), alt: 'card' } }), signal()),
    );

    expect(unfetched.kind).toBe('retryable');
    expect(unfetched.reason).toContain('404');
    expect(unloaded).toMatchObject({ kind: 'retryable', reason: `Mastodon 500 ${thumbnail}` });
    expect(statusPosts()).toHaveLength(0);
  });

  it('on 429 is retryable until the X-RateLimit-Reset the answer carries', async () => {
    const now = Date.parse('2030-01-01T12:00:00.000Z');
    fake.answerNext(
      1,
      {
        status: 429,
        body: { error: MESSAGES.tooMany },
        headers: {
          'x-ratelimit-limit': '300',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': isoMicros(now + 90_000),
        },
      },
      { path: '/api/v1/statuses' },
    );
    const client = createMastodonClient(options({ clock: { now: () => new Date(now) } }));

    const error = await failureOf(client.post(post(), signal()));

    expect(error).toMatchObject({
      kind: 'retryable',
      reason: 'Mastodon 429 Too many requests',
      retryAfterMs: 90_000,
    });

    // A proxy in front of the instance may answer 429 with Retry-After and none of Mastodon's headers.
    fake.answerNext(1, { status: 429, body: {}, headers: { 'retry-after': '30' } });
    const fresh = createMastodonClient(options());
    expect(await failureOf(fresh.post(post(), signal()))).toMatchObject({ retryAfterMs: 30_000 });
  });

  it('honours a spent window: after an answer with Remaining 0 it calls nothing until the reset', async () => {
    let now = Date.parse('2030-01-01T12:00:00.000Z');
    fake.now = () => now;
    Object.assign(fake.windows.statuses, { remaining: 1, resetAt: now + 60_000 });
    const client = createMastodonClient(options({ clock: { now: () => new Date(now) } }));
    await client.post(post(), signal());

    const error = await failureOf(client.post(post(), signal()));
    expect(error).toMatchObject({ kind: 'retryable', retryAfterMs: 60_000 });
    expect(statusPosts()).toHaveLength(1);

    now += 61_000;
    await client.post(post(), signal());
    expect(statusPosts()).toHaveLength(2);
  });

  it('holds back the image upload while the media window is spent, before uploading in vain', async () => {
    const now = Date.parse('2030-01-01T12:00:00.000Z');
    fake.now = () => now;
    Object.assign(fake.windows.media, { remaining: 1, resetAt: now + 600_000 });
    const url = png('card-6');
    const client = createMastodonClient(
      options({ allowLoopback: true, clock: { now: () => new Date(now) } }),
    );
    await client.post(post({ image: { url, alt: 'card' } }), signal());

    const error = await failureOf(client.post(post({ image: { url, alt: 'card' } }), signal()));

    expect(error).toMatchObject({ kind: 'retryable', retryAfterMs: 600_000 });
    expect(error.reason).toMatch(/media uploads/);
    expect(fake.apiRequests.filter((r) => r.path === '/api/v2/media')).toHaveLength(1);
  });

  it('on the instance’s own 429 (window spent elsewhere) is retryable until its reset', async () => {
    const now = Date.parse('2030-01-01T12:00:00.000Z');
    fake.now = () => now;
    Object.assign(fake.windows.api, { remaining: 0, resetAt: now + 120_000 });
    const client = createMastodonClient(options({ clock: { now: () => new Date(now) } }));

    const error = await failureOf(client.post(post(), signal()));

    expect(error).toMatchObject({ kind: 'retryable', retryAfterMs: 120_000 });
    expect(fake.posted).toHaveLength(0);
  });

  it('on 401 re-reads the rotated secret once and posts with it', async () => {
    const secrets = secretsOf(REVOKED, TOKEN);
    const client = createMastodonClient(options({ secrets: secrets.source }));

    const accepted = await client.post(post(), signal());

    expect(secrets.calls).toEqual([{ refresh: false }, { refresh: true }]);
    expect(fake.apiRequests.map((r) => r.authorized)).toEqual([false, true]);
    expect(fake.statuses.has(statusId(accepted.providerMessageId))).toBe(true);
  });

  it('on 401 that persists after one refresh is permanent, and names no token', async () => {
    const secrets = secretsOf(REVOKED);
    const client = createMastodonClient(options({ secrets: secrets.source }));

    const error = await failureOf(client.post(post(), signal()));

    expect(error).toMatchObject({ kind: 'permanent', reason: `Mastodon 401 ${MESSAGES.invalidToken}` });
    expect(secrets.calls.filter((c) => c.refresh)).toHaveLength(1);
    expect(fake.apiRequests).toHaveLength(2);
    expect(`${error.message} ${error.stack}`).not.toContain(REVOKED);
  });

  it('on 403 for a missing scope re-reads the secret once, then is permanent', async () => {
    fake.scopes = new Set(['write:statuses']);
    const url = png('card-7');
    const secrets = secretsOf(TOKEN);
    const client = createMastodonClient(options({ secrets: secrets.source, allowLoopback: true }));

    const error = await failureOf(client.post(post({ image: { url, alt: 'card' } }), signal()));

    expect(error).toMatchObject({ kind: 'permanent', reason: `Mastodon 403 ${MESSAGES.outsideScopes}` });
    expect(secrets.calls).toEqual([{ refresh: false }, { refresh: true }]);
    expect(statusPosts()).toHaveLength(0);
  });

  it('on 422 is permanent with Mastodon’s reason', async () => {
    const client = createMastodonClient(options());

    const error = await failureOf(client.post(post({ text: 'word '.repeat(120) }), signal()));

    expect(error).toMatchObject({ kind: 'permanent', reason: `Mastodon 422 ${MESSAGES.tooLong(500)}` });
  });

  it.each([500, 502, 503])(
    'on %i is retryable: the key makes a retry safe even if the instance posted',
    async (status) => {
      fake.answerNext(1, {
        status,
        body: { error: 'There was a temporary problem serving your request, please try again' },
      });
      const client = createMastodonClient(options());

      const error = await failureOf(client.post(post(), signal()));

      expect(error.kind).toBe('retryable');
      expect(error.reason).toContain(String(status));
    },
  );

  it('is retryable when a 200 carries no status id: the key finds the status on the retry', async () => {
    fake.answerNext(1, { status: 200, body: { unexpected: true } }, { path: '/api/v1/statuses' });
    const client = createMastodonClient(options());

    expect((await failureOf(client.post(post(), signal()))).kind).toBe('retryable');
  });

  it('does not follow a redirect: a moved instance is fixed in the secret', async () => {
    fake.answerNext(1, {
      status: 301,
      body: {},
      headers: { location: 'https://elsewhere.example/api/v1/statuses' },
    });
    const client = createMastodonClient(options());

    const error = await failureOf(client.post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/^Mastodon 301.*instanceUrl/);
    expect(fake.requests).toHaveLength(1);
  });

  it('is retryable when the instance cannot be reached at all', async () => {
    // A port that was just free and is closed again: the connection is refused before anything is sent.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const client = createMastodonClient(options({ baseUrl: `http://127.0.0.1:${port}` }));

    const error = await failureOf(client.post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.reason).toContain('ECONNREFUSED');
  });

  it('is a permanent configuration error without a secret, with an incomplete one, or one not https', async () => {
    const none = createMastodonClient(options({ secrets: secretsOf(undefined).source }));
    const incomplete = createMastodonClient(
      options({ secrets: { get: async () => ({ instanceUrl: INSTANCE }) } }),
    );
    const plain = createMastodonClient(
      options({
        secrets: { get: async () => ({ instanceUrl: 'http://mastodon.example', accessToken: TOKEN }) },
      }),
    );

    const absent = await failureOf(none.post(post(), signal()));
    const missing = await failureOf(incomplete.post(post(), signal()));
    const insecure = await failureOf(plain.post(post(), signal()));

    expect(absent).toBeInstanceOf(MastodonConfigurationError);
    expect(absent.reason).toBe(
      'Mastodon is not configured: there are no credentials in the secret "mastodon"',
    );
    expect(missing.reason).toBe('Mastodon is not configured: the secret "mastodon" lacks accessToken');
    expect(insecure).toMatchObject({ kind: 'permanent' });
    expect(insecure.reason).toMatch(/https origin/);
    expect(insecure.reason).not.toContain(TOKEN);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses Test and Exercise posts: they must not reach the public', async () => {
    const client = createMastodonClient(options());

    const error = await failureOf(client.post(post({ test: true }), signal()));

    expect(error.kind).toBe('permanent');
    expect(fake.requests).toHaveLength(0);
  });
});
