import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createXProvider, XConfigurationError } from '../../functions/channels/x/client';
import type { OutboundMessage, SecretSource } from '../../functions/ports';
import {
  problem,
  rateLimited,
  type XApiFake,
  XApiFake as XFake,
  type XFakeCredentials,
} from '../fakes/x-api';
import { failureOf, signal, staleSecrets } from '../helpers/providers';

const CURRENT: XFakeCredentials = {
  appKey: 'app-key-current-0001',
  appSecret: 'app-secret-current-0001',
  accessToken: '1000-access-token-current',
  accessSecret: 'access-secret-current-0001',
};
const ROTATED_AWAY: XFakeCredentials = {
  ...CURRENT,
  accessToken: '1000-access-token-revoked',
  accessSecret: 'access-secret-revoked-0001',
};

const secretsOf = (cached: XFakeCredentials | undefined, fresh: XFakeCredentials | undefined = cached) =>
  staleSecrets('x', (value: XFakeCredentials) => ({ ...value }), cached, fresh);

let sequence = 0;
function message(overrides: Partial<OutboundMessage> & { text?: string } = {}): OutboundMessage {
  sequence += 1;
  const text = overrides.text ?? `Flood warning for the river valley, notice ${sequence}`;
  return {
    channel: 'x',
    alertId: `01ALERT${sequence}`,
    version: 1,
    recipient: '@agency',
    text,
    content: { channel: 'x', text },
    idempotencyKey: `01ALERT${sequence}:1:x:@agency`,
    test: false,
    ...overrides,
  };
}

function expectNoSecretIn(text: string, fake: XApiFake) {
  for (const value of [...Object.values(CURRENT), ...Object.values(ROTATED_AWAY)])
    expect(text).not.toContain(value);
  expect(text).not.toMatch(/oauth_/i);
  for (const request of fake.requests)
    if (request.headers.authorization) expect(text).not.toContain(request.headers.authorization);
}

describe('X provider against a local X API v2', () => {
  let fake: XApiFake;
  beforeAll(async () => {
    fake = await XFake.start(CURRENT);
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    fake.credentials = CURRENT;
    fake.requests.length = 0;
  });

  it('posts the text with POST /2/tweets, signed with OAuth 1.0a user context', async () => {
    // Prepare
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });
    const out = message();

    // Act
    const accepted = await provider.send(out, signal());

    // Assess
    expect(provider.channel).toBe('x');
    expect(provider.mode).toBe('real');
    expect(fake.tweets.get(accepted.providerMessageId)?.text).toBe(out.text);
    expect(fake.apiRequests).toHaveLength(1);
    const [post] = fake.apiRequests;
    expect(post).toMatchObject({
      method: 'POST',
      path: '/2/tweets',
      body: { text: out.text },
      authorized: true,
    });
    const auth = String(post!.headers.authorization);
    expect(auth).toMatch(/^OAuth /);
    expect(auth).toContain(`oauth_consumer_key="${CURRENT.appKey}"`);
    expect(auth).toContain(`oauth_token="${CURRENT.accessToken}"`);
    expect(auth).toMatch(/oauth_signature="[^"]+"/);
  });

  it('threads an update as a reply to the previous post of the alert', async () => {
    // Prepare
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });
    const original = await provider.send(message(), signal());

    // Act
    const update = await provider.send(
      message({
        version: 2,
        text: 'UPDATE: the flood warning now covers the lower town',
        inReplyTo: original.providerMessageId,
      }),
      signal(),
    );
    const cancel = await provider.send(
      message({ version: 3, text: 'CANCEL: the flood warning is over', inReplyTo: update.providerMessageId }),
      signal(),
    );

    // Assess
    const posts = fake.apiRequests.filter((r) => r.path === '/2/tweets');
    expect(posts[1]?.body).toMatchObject({ reply: { in_reply_to_tweet_id: original.providerMessageId } });
    expect(posts[2]?.body).toMatchObject({ reply: { in_reply_to_tweet_id: update.providerMessageId } });
    expect(fake.tweets.get(update.providerMessageId)?.inReplyTo).toBe(original.providerMessageId);
    expect(fake.tweets.get(cancel.providerMessageId)?.inReplyTo).toBe(update.providerMessageId);
  });

  it('posts an update on its own when the post it should reply to was deleted', async () => {
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });

    const accepted = await provider.send(
      message({ version: 2, text: 'UPDATE: roads reopened', inReplyTo: '1799999999999999999' }),
      signal(),
    );

    const posts = fake.apiRequests.filter((r) => r.path === '/2/tweets');
    expect(posts).toHaveLength(2);
    expect(posts[1]?.body).toEqual({ text: 'UPDATE: roads reopened' });
    expect(fake.tweets.get(accepted.providerMessageId)?.inReplyTo).toBeUndefined();
  });

  it('fetches the image, uploads it in chunks, sets its alt text and attaches it', async () => {
    // Prepare: bytes that are not valid UTF-8, so a text-mangling upload would show.
    const bytes = new Uint8Array(40_000).map((_, i) => (i * 37 + 0xff) & 0xff);
    const url = fake.servePublic('card-1.jpg', bytes, 'image/jpeg');
    // The fake serves the image on 127.0.0.1: loopback is allowed explicitly, as the embedded mode may.
    const provider = createXProvider({
      secrets: secretsOf(CURRENT).source,
      baseUrl: fake.baseUrl,
      allowLoopback: true,
    });
    const text = 'Tornado warning: take shelter now';
    const alt = 'Red alert card: tornado warning for the county until 18:00';

    // Act
    const accepted = await provider.send(
      message({ text, content: { channel: 'x', text, image: { url, alt } } }),
      signal(),
    );

    // Assess
    expect(fake.requests.map((r) => `${r.method} ${r.path.replace(/\d{10,}/, ':id')}`)).toEqual([
      'GET /public/card-1.jpg',
      'POST /2/media/upload/initialize',
      'POST /2/media/upload/:id/append',
      'POST /2/media/upload/:id/finalize',
      'POST /2/media/metadata',
      'POST /2/tweets',
    ]);
    const init = fake.apiRequests[0]!;
    expect(init.body).toEqual({
      media_type: 'image/jpeg',
      total_bytes: bytes.length,
      media_category: 'tweet_image',
    });
    const tweet = fake.tweets.get(accepted.providerMessageId)!;
    expect(tweet.mediaIds).toHaveLength(1);
    const media = fake.media.get(tweet.mediaIds![0]!)!;
    expect(media.finalized).toBe(true);
    expect(media.altText).toBe(alt);
    expect(Buffer.concat([...media.chunks.values()])).toEqual(Buffer.from(bytes));
    expect(fake.apiRequests.every((r) => r.authorized)).toBe(true);
  });

  it('on 429 is retryable after the x-rate-limit-reset the answer carries', async () => {
    // Prepare
    const now = new Date('2030-01-01T12:00:00.000Z');
    const reset = now.getTime() / 1000 + 90;
    fake.answerNext(1, rateLimited(reset), { path: '/2/tweets' });
    const provider = createXProvider({
      secrets: secretsOf(CURRENT).source,
      baseUrl: fake.baseUrl,
      clock: { now: () => now },
    });

    // Act
    const error = await failureOf(provider.send(message(), signal()));

    // Assess
    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(90_000);
    expect(error.reason).toContain('429');
  });

  it('on 429 with the 24-hour user cap spent waits for that cap, not the 15-minute window', async () => {
    const now = new Date('2030-01-01T12:00:00.000Z');
    const base = now.getTime() / 1000;
    const answer = rateLimited(base + 60);
    if (!('hang' in answer))
      answer.headers = {
        ...answer.headers,
        'x-user-limit-24hour-limit': '17',
        'x-user-limit-24hour-remaining': '0',
        'x-user-limit-24hour-reset': String(base + 7_200),
      };
    fake.answerNext(1, answer, { path: '/2/tweets' });
    const provider = createXProvider({
      secrets: secretsOf(CURRENT).source,
      baseUrl: fake.baseUrl,
      clock: { now: () => now },
    });

    const error = await failureOf(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(7_200_000);
  });

  it('on 429 without rate-limit headers is retryable with the backoff left to the handler', async () => {
    fake.answerNext(1, { status: 429, body: problem(429, 'Too Many Requests', 'Too Many Requests') });
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });

    const error = await failureOf(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('is retryable when the image cannot be fetched, and posts nothing without it', async () => {
    // The fake serves the image on 127.0.0.1: loopback is allowed explicitly, as the embedded mode may.
    const provider = createXProvider({
      secrets: secretsOf(CURRENT).source,
      baseUrl: fake.baseUrl,
      allowLoopback: true,
    });
    const text = 'Heat advisory';
    const image = { url: `${fake.baseUrl}/public/not-there.jpg`, alt: 'card' };

    const error = await failureOf(
      provider.send(message({ text, content: { channel: 'x', text, image } }), signal()),
    );

    expect(error.kind).toBe('retryable');
    expect(error.reason).toContain('404');
    expect(fake.apiRequests).toHaveLength(0);
  });

  it('on 401 re-reads the rotated secret once and posts with it', async () => {
    // Prepare: the warm cache holds revoked tokens; the store has the current ones.
    const secrets = secretsOf(ROTATED_AWAY, CURRENT);
    const provider = createXProvider({ secrets: secrets.source, baseUrl: fake.baseUrl });
    const out = message();

    // Act
    const accepted = await provider.send(out, signal());

    // Assess
    expect(secrets.calls).toEqual([{ refresh: false }, { refresh: true }]);
    expect(fake.tweets.get(accepted.providerMessageId)?.text).toBe(out.text);
    expect(fake.apiRequests.map((r) => r.authorized)).toEqual([false, true]);
  });

  it('on 401 that persists after one refresh is permanent, and names no secret', async () => {
    // Prepare
    const secrets = secretsOf(ROTATED_AWAY);
    const provider = createXProvider({ secrets: secrets.source, baseUrl: fake.baseUrl });

    // Act
    const error = await failureOf(provider.send(message(), signal()));

    // Assess
    expect(error.kind).toBe('permanent');
    expect(error.reason).toContain('401');
    expect(secrets.calls.filter((c) => c.refresh)).toHaveLength(1);
    expect(fake.apiRequests).toHaveLength(2);
    expect(fake.apiRequests.every((r) => String(r.headers.authorization).startsWith('OAuth '))).toBe(true);
    expectNoSecretIn(`${error.message} ${error.reason} ${error.stack}`, fake);
  });

  it('on 403 is permanent with X’s reason', async () => {
    fake.answerNext(
      1,
      {
        status: 403,
        body: problem(403, 'Forbidden', 'You are not permitted to perform this action.'),
      },
      { path: '/2/tweets' },
    );
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });

    const error = await failureOf(provider.send(message(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe('X 403 You are not permitted to perform this action.');
    expectNoSecretIn(`${error.message} ${error.stack}`, fake);
  });

  it('on duplicate content is permanent with the reason "duplicate content"', async () => {
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });
    const text = 'Boil-water notice lifted for the east district';
    await provider.send(message({ text }), signal());

    const error = await failureOf(provider.send(message({ text }), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe('duplicate content');
  });

  it('on 400 is permanent with what was invalid', async () => {
    fake.answerNext(
      1,
      {
        status: 400,
        body: {
          errors: [{ message: 'Your media IDs are invalid.' }],
          title: 'Invalid Request',
          detail: 'One or more parameters to your request was invalid.',
          type: 'https://api.twitter.com/2/problems/invalid-request',
        },
      },
      { path: '/2/tweets' },
    );
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });

    const error = await failureOf(provider.send(message(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe(
      'X 400 One or more parameters to your request was invalid.: Your media IDs are invalid.',
    );
  });

  it.each([500, 503])('on %i is retryable', async (status) => {
    fake.answerNext(1, { status, body: problem(status, 'Service Unavailable', 'Service Unavailable') });
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });

    const error = await failureOf(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('is retryable when X cannot be reached at all', async () => {
    // A port that was just free and is closed again: the connection is refused before anything is sent.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const provider = createXProvider({
      secrets: secretsOf(CURRENT).source,
      baseUrl: `http://127.0.0.1:${port}`,
    });

    const error = await failureOf(provider.send(message(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.reason).toContain('ECONNREFUSED');
  });

  it('is an unknown outcome when the post hangs past the abort signal', async () => {
    // Prepare
    fake.answerNext(1, { hang: true }, { path: '/2/tweets' });
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });
    const started = Date.now();

    // Act
    const error = await failureOf(provider.send(message(), AbortSignal.timeout(300)));

    // Assess: the post reached X, so it may be public; the abort ended the wait promptly.
    expect(error.kind).toBe('unknown-outcome');
    expect(fake.apiRequests.map((r) => r.path)).toEqual(['/2/tweets']);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('is retryable when the image upload hangs past the abort signal: nothing was posted', async () => {
    const url = fake.servePublic('card-2.png', new Uint8Array([137, 80, 78, 71, 1, 2, 3]), 'image/png');
    fake.answerNext(1, { hang: true }, { path: '/2/media/upload/initialize' });
    // The fake serves the image on 127.0.0.1: loopback is allowed explicitly, as the embedded mode may.
    const provider = createXProvider({
      secrets: secretsOf(CURRENT).source,
      baseUrl: fake.baseUrl,
      allowLoopback: true,
    });
    const text = 'Air quality alert';

    const error = await failureOf(
      provider.send(
        message({ text, content: { channel: 'x', text, image: { url, alt: 'card' } } }),
        AbortSignal.timeout(300),
      ),
    );

    expect(error.kind).toBe('retryable');
    expect(fake.apiRequests.some((r) => r.path === '/2/tweets')).toBe(false);
  });

  it('without credentials throws a configuration error at send time and calls nothing', async () => {
    const provider = createXProvider({ secrets: secretsOf(undefined).source, baseUrl: fake.baseUrl });

    const error = await failureOf(provider.send(message(), signal()));

    expect(error).toBeInstanceOf(XConfigurationError);
    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/X is not configured/);
    expect(fake.requests).toHaveLength(0);
  });

  it('names the missing keys of an incomplete secret, not their values', async () => {
    const source: SecretSource = {
      get: async () => ({ appKey: CURRENT.appKey, appSecret: CURRENT.appSecret }),
    };
    const provider = createXProvider({ secrets: source, baseUrl: fake.baseUrl });

    const error = await failureOf(provider.send(message(), signal()));

    expect(error.reason).toBe('X is not configured: the secret "x" lacks accessToken, accessSecret');
    expectNoSecretIn(error.reason, fake);
  });

  it('refuses Test and Exercise messages: they must not reach the public', async () => {
    const provider = createXProvider({ secrets: secretsOf(CURRENT).source, baseUrl: fake.baseUrl });

    const error = await failureOf(provider.send(message({ test: true }), signal()));

    expect(error.kind).toBe('permanent');
    expect(fake.requests).toHaveLength(0);
  });
});
