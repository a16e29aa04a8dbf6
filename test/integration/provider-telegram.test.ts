import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SocialPost } from '../../functions/channels/social';
import {
  createTelegramClient,
  parseTelegramMessageId,
  TELEGRAM_SECRET_KEYS,
  TelegramConfigurationError,
} from '../../functions/channels/telegram/client';
import type { SecretSource } from '../../functions/ports';
import type { LoggerLike } from '../../functions/shared/logger';
import { botError, CHANNEL_ID, CHANNEL_USERNAME, floodWait, TelegramApiFake } from '../fakes/telegram-api';
import { failureOf, signal, staleSecrets } from '../helpers/providers';

const TOKEN = '7000000001:AAHcurrentTokenForTheAgencyBot0000001';
const REVOKED = '7000000001:AAHrevokedTokenForTheAgencyBot000001';
const CHAT = `@${CHANNEL_USERNAME}`;
/** A JPEG's first bytes, then bytes that are not UTF-8, so a text-mangling upload would show. */
const JPEG = new Uint8Array(30_000).map((_, i) => (i < 3 ? [0xff, 0xd8, 0xff][i]! : (i * 37 + 0xff) & 0xff));

type Secret = Record<string, string> | undefined;

const secretsOf = (cached: Secret, fresh: Secret = cached) =>
  staleSecrets('telegram', (value: Record<string, string>) => ({ ...value }), cached, fresh);
const secret = (botToken = TOKEN, chatId = CHAT) => ({ botToken, chatId });

function recordingLogger() {
  const lines: string[] = [];
  const levels = ['debug', 'info', 'warn', 'error'].map((level) => [
    level,
    (message: string, ...extra: unknown[]) => lines.push(`${level} ${message} ${JSON.stringify(extra)}`),
  ]);
  return { logger: Object.fromEntries(levels) as LoggerLike, lines };
}

const idOf = (accepted: { providerMessageId: string }) =>
  parseTelegramMessageId(accepted.providerMessageId)!.messageId;
const replyTo = (messageId: number) => ({ message_id: messageId, allow_sending_without_reply: true });

let sequence = 0;
function post(overrides: Partial<SocialPost> = {}): SocialPost {
  sequence += 1;
  const link = `https://alerts.example.org/alerts/01ALERT${sequence}`;
  return {
    alertId: `01ALERT${sequence}`,
    version: 1,
    text: `Flood warning for the river valley, notice ${sequence}\n\n${link}`,
    link,
    idempotencyKey: `01ALERT${sequence}:1:telegram`,
    test: false,
    ...overrides,
  };
}

function expectNoTokenIn(text: string) {
  for (const token of [TOKEN, REVOKED]) {
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split(':')[1]);
  }
}

describe('Telegram client against a local Bot API', () => {
  let fake: TelegramApiFake;
  const client = (source: SecretSource, extra: Partial<Parameters<typeof createTelegramClient>[0]> = {}) =>
    createTelegramClient({ secrets: source, baseUrl: fake.baseUrl, ...extra });

  beforeAll(async () => {
    fake = await TelegramApiFake.start(TOKEN);
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    fake.token = TOKEN;
    fake.requests.length = 0;
    const channel = fake.chats.get(CHANNEL_ID)!;
    Object.assign(channel, { bot: 'administrator', canPostMessages: true, migratedTo: undefined });
  });

  it('sends a text message as plain text, previewing the alert link, and answers <chat_id>:<message_id>', async () => {
    const out = post();

    const accepted = await client(secretsOf(secret()).source).post(out, signal());

    expect(TELEGRAM_SECRET_KEYS).toEqual(['botToken', 'chatId']);
    const id = parseTelegramMessageId(accepted.providerMessageId)!;
    expect(id.chatId).toBe(String(CHANNEL_ID));
    expect(fake.message(CHANNEL_ID, id.messageId)?.text).toBe(out.text);
    expect(fake.apiRequests).toHaveLength(1);
    const [request] = fake.apiRequests;
    expect(request).toMatchObject({
      httpMethod: 'POST',
      path: '/bot[redacted]/sendMessage',
      tokenValid: true,
      params: { chat_id: CHAT, text: out.text, link_preview_options: { url: out.link } },
    });
    expect(request!.params).not.toHaveProperty('parse_mode');
    expect(request!.params).not.toHaveProperty('reply_parameters');
  });

  it('turns link previews off when the message has no link of the alert', async () => {
    await client(secretsOf(secret()).source).post(post({ link: undefined }), signal());

    expect(fake.apiRequests[0]?.params.link_preview_options).toEqual({ is_disabled: true });
  });

  it('threads an update and a cancel as replies to the previous message of the alert', async () => {
    const c = client(secretsOf(secret()).source);
    const original = await c.post(post(), signal());

    const update = await c.post(post({ version: 2, inReplyTo: original.providerMessageId }), signal());
    const cancel = await c.post(post({ version: 3, inReplyTo: update.providerMessageId }), signal());

    const sends = fake.apiRequests;
    expect(sends[1]?.params.reply_parameters).toEqual(replyTo(idOf(original)));
    expect(sends[2]?.params.reply_parameters).toEqual(replyTo(idOf(update)));
    expect(fake.message(CHANNEL_ID, idOf(update))?.replyTo).toBe(idOf(original));
    expect(fake.message(CHANNEL_ID, idOf(cancel))?.replyTo).toBe(idOf(update));
  });

  it('still posts an update when the message it answers was deleted from the channel', async () => {
    const c = client(secretsOf(secret()).source);
    const original = await c.post(post(), signal());
    fake.deleteMessage(CHANNEL_ID, idOf(original));

    const update = await c.post(post({ version: 2, inReplyTo: original.providerMessageId }), signal());

    const posted = fake.message(CHANNEL_ID, idOf(update));
    expect(posted).toBeDefined();
    expect(posted?.replyTo).toBeUndefined();
  });

  it('does not reply to a message of another chat (the channel was changed): it posts on its own', async () => {
    const { logger, lines } = recordingLogger();
    const c = client(secretsOf(secret(TOKEN, String(CHANNEL_ID))).source, { logger });

    const accepted = await c.post(post({ version: 2, inReplyTo: '-1009999999999:7' }), signal());

    expect(accepted.providerMessageId).toMatch(new RegExp(`^${CHANNEL_ID}:\\d+$`));
    expect(fake.apiRequests[0]?.params).not.toHaveProperty('reply_parameters');
    expect(lines.some((l) => l.startsWith('warn') && l.includes('not in the configured chat'))).toBe(true);
  });

  it('uploads the photo’s bytes with multipart/form-data and the text as its caption, replying in the thread', async () => {
    const c = client(secretsOf(secret()).source, { allowLoopback: true });
    const original = await c.post(post(), signal());
    // The fake serves the image on 127.0.0.1: loopback is allowed explicitly, as the embedded mode may.
    const url = fake.servePublic('card-1.jpg', JPEG, 'image/jpeg');
    const text = 'UPDATE: the flood warning now covers the lower town';

    const accepted = await c.post(
      post({ version: 2, text, image: { url, alt: 'Flood map' }, inReplyTo: original.providerMessageId }),
      signal(),
    );

    const send = fake.apiRequests[1]!;
    expect(fake.requests.map((r) => r.path)).toEqual([
      '/bot[redacted]/sendMessage',
      '/public/card-1.jpg',
      '/bot[redacted]/sendPhoto',
    ]);
    expect(send.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(send.params).toEqual({
      chat_id: CHAT,
      caption: text,
      reply_parameters: JSON.stringify(replyTo(idOf(original))),
    });
    expect(send.files.photo).toMatchObject({ filename: 'alert.jpg', type: 'image/jpeg', size: JPEG.length });
    const stored = fake.message(CHANNEL_ID, idOf(accepted))!;
    expect(Buffer.from(stored.photo!.bytes)).toEqual(Buffer.from(JPEG));
    expect(stored.caption).toBe(text);
  });

  it('refuses an image type Telegram does not take as a photo, sending nothing', async () => {
    const url = fake.servePublic('anim.gif', new Uint8Array([0x47, 0x49, 0x46, 0x38]), 'image/gif');
    const c = client(secretsOf(secret()).source, { allowLoopback: true });

    const error = await failureOf(c.post(post({ image: { url, alt: 'x' } }), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toContain('image/gif');
    expect(fake.apiRequests).toHaveLength(0);
  });

  it('is retryable when the image cannot be fetched, and posts nothing without it', async () => {
    const c = client(secretsOf(secret()).source, { allowLoopback: true });
    const image = { url: `${fake.baseUrl}/public/not-there.jpg`, alt: 'card' };

    const error = await failureOf(c.post(post({ image }), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.reason).toContain('404');
    expect(fake.apiRequests).toHaveLength(0);
  });

  it('refuses a caption over 1024 or a text over 4096 UTF-16 units before calling Telegram', async () => {
    const c = client(secretsOf(secret()).source, { allowLoopback: true });
    const url = fake.servePublic('card-2.jpg', JPEG, 'image/jpeg');

    const caption = await failureOf(
      c.post(post({ text: '🚨'.repeat(513), image: { url, alt: 'x' } }), signal()),
    );
    const text = await failureOf(c.post(post({ text: 'a'.repeat(4097) }), signal()));

    expect(caption.kind).toBe('permanent');
    expect(caption.reason).toContain('1026');
    expect(text.kind).toBe('permanent');
    expect(fake.requests).toHaveLength(0);
  });

  it('on 429 is retryable after the retry_after Telegram gives, and nothing was posted', async () => {
    fake.answerNext(1, floodWait(17), { method: 'sendMessage' });
    const before = fake.channelPosts().length;

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.retryAfterMs).toBe(17_000);
    expect(error.reason).toBe('Telegram 429 Too Many Requests: retry after 17');
    expect(fake.channelPosts()).toHaveLength(before);
  });

  it('on 429 without parameters honours a Retry-After header', async () => {
    fake.answerNext(1, {
      status: 429,
      body: botError(429, 'Too Many Requests'),
      headers: { 'retry-after': '5' },
    });

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), signal()));

    expect([error.kind, error.retryAfterMs]).toEqual(['retryable', 5_000]);
  });

  it('on 401 re-reads the rotated secret once and posts with it, logging no token', async () => {
    const secrets = secretsOf(secret(REVOKED), secret(TOKEN));
    const { logger, lines } = recordingLogger();

    const accepted = await client(secrets.source, { logger }).post(post(), signal());

    expect(secrets.calls).toEqual([{ refresh: false }, { refresh: true }]);
    expect(fake.apiRequests.map((r) => r.tokenValid)).toEqual([false, true]);
    expect(accepted.providerMessageId).toMatch(/^-100\d+:\d+$/);
    expect(lines.some((l) => l.startsWith('warn'))).toBe(true);
    expectNoTokenIn(lines.join('\n'));
  });

  it('on 401 that persists after one refresh is permanent, and no reason, stack or log carries the token', async () => {
    const secrets = secretsOf(secret(REVOKED));
    const { logger, lines } = recordingLogger();

    const error = await failureOf(client(secrets.source, { logger }).post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/^Telegram 401 Unauthorized: the bot token was refused/);
    expect(secrets.calls.filter((c) => c.refresh)).toHaveLength(1);
    expect(fake.apiRequests).toHaveLength(2);
    expectNoTokenIn(`${error.message} ${error.reason} ${error.stack} ${lines.join('\n')}`);
  });

  it('on 404 (a token the API does not know at all) re-reads once, then is permanent', async () => {
    const unknown = '7000000001:AAHshortUnknownToken00';
    const secrets = secretsOf(secret(unknown));

    const error = await failureOf(client(secrets.source).post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/^Telegram 404 Not Found: the bot token was refused/);
    expect(secrets.calls).toHaveLength(2);
    expect(error.reason).not.toContain(unknown);
  });

  it.each([
    ['been kicked from', 'kicked', 'Telegram 403 Forbidden: bot was kicked from the channel chat'],
    ['left', 'left', 'Telegram 403 Forbidden: bot is not a member of the channel chat'],
  ] as const)('when the bot has %s the channel is permanent, saying what to fix', async (_, bot, reason) => {
    fake.chats.get(CHANNEL_ID)!.bot = bot;

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe(
      `${reason}: make the bot an administrator of the channel, allowed to post messages`,
    );
  });

  it('when the bot may not post in the channel is permanent with Telegram’s reason', async () => {
    fake.chats.get(CHANNEL_ID)!.canPostMessages = false;

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toBe('Telegram 400 Bad Request: need administrator rights in the channel chat');
  });

  it('on "chat not found" is permanent and points at chatId', async () => {
    const error = await failureOf(
      client(secretsOf(secret(TOKEN, '@no_such_channel')).source).post(post(), signal()),
    );

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(
      /^Telegram 400 Bad Request: chat not found: check chatId in the secret "telegram"/,
    );
  });

  it('when the group was upgraded to a supergroup is permanent and names the new chat id', async () => {
    fake.chats.get(CHANNEL_ID)!.migratedTo = -1001000000099;

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toContain('set chatId in the secret "telegram" to -1001000000099');
  });

  it.each([
    ['500', { status: 500, body: botError(500, 'Internal Server Error') }],
    ['502', { status: 502, body: botError(502, 'Bad Gateway') }],
    ['200 without a message', { status: 200, body: { ok: true, result: true } }],
  ] as const)('on %s after the send was dispatched is an unknown outcome', async (label, answer) => {
    fake.answerNext(1, answer);

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), signal()));

    expect(error.kind).toBe('unknown-outcome');
    expect(error.reason).toContain(label.slice(0, 3));
  });

  it('is an unknown outcome when the message went out but the answer was a 5xx', async () => {
    // The fake posts first and then answers 502: what a proxy timing out in front of the Bot API looks like.
    fake.answerNext(1, { status: 502, body: botError(502, 'Bad Gateway'), process: true });
    const before = fake.channelPosts().length;

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), signal()));

    expect(error.kind).toBe('unknown-outcome');
    expect(fake.channelPosts()).toHaveLength(before + 1);
  });

  it('is an unknown outcome when the connection drops after the message was sent', async () => {
    fake.answerNext(1, { destroy: true, process: true });

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), signal()));

    expect(error.kind).toBe('unknown-outcome');
    expectNoTokenIn(`${error.reason} ${error.stack}`);
  });

  it('is an unknown outcome when the send hangs past the deadline', async () => {
    fake.answerNext(1, { hang: true });

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), AbortSignal.timeout(300)));

    expect(error.kind).toBe('unknown-outcome');
    expect(fake.apiRequests.map((r) => r.method)).toEqual(['sendMessage']);
  });

  it('is retryable when Telegram cannot be reached at all', async () => {
    // A port that was just free and is closed again: the connection is refused before anything is sent.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const c = createTelegramClient({
      secrets: secretsOf(secret()).source,
      baseUrl: `http://127.0.0.1:${port}`,
    });

    const error = await failureOf(c.post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(error.reason).toContain('ECONNREFUSED');
    expectNoTokenIn(`${error.reason} ${error.stack}`);
  });

  it('is retryable and sends nothing when the deadline has passed before posting', async () => {
    const gone = AbortSignal.abort();

    const error = await failureOf(client(secretsOf(secret()).source).post(post(), gone));

    expect(error.kind).toBe('retryable');
    expect(fake.apiRequests).toHaveLength(0);
  });

  it('is retryable when the secret cannot be read', async () => {
    const source: SecretSource = {
      get: async () => {
        throw new Error('Secrets Manager unavailable');
      },
    };

    const error = await failureOf(client(source).post(post(), signal()));

    expect(error.kind).toBe('retryable');
    expect(fake.requests).toHaveLength(0);
  });

  it('without a usable secret is a configuration error naming the key, never its value, and calls nothing', async () => {
    const none = await failureOf(client(secretsOf(undefined).source).post(post(), signal()));
    const missing = await failureOf(client(secretsOf({ botToken: TOKEN }).source).post(post(), signal()));
    const malformed = await failureOf(
      client(secretsOf(secret('not/a:token?', CHAT)).source).post(post(), signal()),
    );
    const badChat = await failureOf(
      client(secretsOf(secret(TOKEN, 'agency channel')).source).post(post(), signal()),
    );

    expect(none).toBeInstanceOf(TelegramConfigurationError);
    expect(none.kind).toBe('permanent');
    expect(none.reason).toBe('Telegram is not configured: there is no secret "telegram"');
    expect(missing.reason).toBe('Telegram is not configured: the secret "telegram" lacks chatId');
    expect(malformed.reason).toMatch(/botToken in the secret "telegram" is not a bot token/);
    expect(malformed.reason).not.toContain('not/a:token?');
    expect(badChat.reason).toMatch(/chatId in the secret "telegram" is neither/);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses Test and Exercise posts: they must not reach the public', async () => {
    const secrets = secretsOf(secret());

    const error = await failureOf(client(secrets.source).post(post({ test: true }), signal()));

    expect(error.kind).toBe('permanent');
    expect(secrets.calls).toHaveLength(0);
    expect(fake.requests).toHaveLength(0);
  });

  it('parses only its own providerMessageId shape', () => {
    expect(parseTelegramMessageId('-1001000000001:42')).toEqual({ chatId: '-1001000000001', messageId: 42 });
    expect(parseTelegramMessageId('1800000000000000001')).toBeUndefined();
    expect(parseTelegramMessageId('-100:0')).toBeUndefined();
    expect(parseTelegramMessageId('at://did:plc:x/app.bsky.feed.post/1')).toBeUndefined();
  });
});
