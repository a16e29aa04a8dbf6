import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTelegramClient } from '../../functions/channels/telegram/client';
import { createTelegramReplies } from '../../functions/channels/telegram/replies';
import type { SecretSource } from '../../functions/ports';
import {
  botError,
  CHANNEL_ID,
  CHANNEL_USERNAME,
  DISCUSSION_ID,
  floodWait,
  TelegramApiFake,
} from '../fakes/telegram-api';
import { failureOf, signal } from '../helpers/providers';

const TOKEN = '7000000002:AAHcurrentTokenForTheCommentsBot00001';
const REVOKED = '7000000002:AAHrevokedTokenForTheCommentsBot00001';

function secretsOf(cached: Record<string, string>, fresh = cached) {
  const calls: boolean[] = [];
  const source: SecretSource = {
    get: async (_name, options) => {
      calls.push(options?.refresh === true);
      return { ...(options?.refresh ? fresh : cached) };
    },
  };
  return { source, calls };
}
const secret = (botToken = TOKEN, chatId = `@${CHANNEL_USERNAME}`) => ({ botToken, chatId });

describe('Telegram comments read with getUpdates from a local Bot API', () => {
  let fake: TelegramApiFake;
  const replies = (source = secretsOf(secret()).source) =>
    createTelegramReplies({ secrets: source, baseUrl: fake.baseUrl });
  /** Posts through the real client, so the comments hang under a message as Herald sends it. */
  const publish = async (text: string) => {
    const client = createTelegramClient({ secrets: secretsOf(secret()).source, baseUrl: fake.baseUrl });
    const { providerMessageId } = await client.post(
      { alertId: '01ALERT', version: 1, text, idempotencyKey: `k-${text}`, test: false },
      signal(),
    );
    return { postId: providerMessageId, messageId: Number(providerMessageId.split(':')[1]) };
  };
  /** Confirms everything pending, as a reader that has stored it all would. */
  const drain = async () => {
    const page = await replies().readComments({}, signal());
    if (page.nextOffset !== undefined) await replies().readComments({ offset: page.nextOffset }, signal());
  };

  beforeAll(async () => {
    fake = await TelegramApiFake.start(TOKEN);
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(async () => {
    fake.token = TOKEN;
    fake.webhookUrl = '';
    await drain();
    fake.requests.length = 0;
  });

  it('reads a resident’s comment under a channel post, named by the post’s providerMessageId', async () => {
    const { postId, messageId } = await publish('Flood warning for the lower town');
    const commentId = fake.residentComment({
      on: messageId,
      text: 'Is the bridge on Mill Road closed?',
      from: { id: 5_000_042, username: 'riverside_resident' },
    });

    const page = await replies().readComments({}, signal());

    const forward = fake.forwardOf(messageId)!;
    const threadId = `${DISCUSSION_ID}:${forward.message_id}`;
    expect(page.comments).toEqual([
      {
        id: `${DISCUSSION_ID}:${commentId}`,
        postId,
        threadId,
        authorId: '5000042',
        username: 'riverside_resident',
        text: 'Is the bridge on Mill Road closed?',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      },
    ]);
    expect(page.threads).toEqual({ [threadId]: postId });
    expect(page.more).toBe(false);
    expect(fake.apiRequests.at(-1)).toMatchObject({
      path: '/bot[redacted]/getUpdates',
      params: { limit: 100, timeout: 0, allowed_updates: ['message'] },
    });
  });

  it('names the comment a reply answers, and finds its post from threads kept from an earlier page', async () => {
    const { postId, messageId } = await publish('Boil-water notice for the east district');
    const first = fake.residentComment({ on: messageId, text: 'Until when?' });
    const page = await replies().readComments({}, signal());
    await replies().readComments({ offset: page.nextOffset }, signal());
    const answer = fake.residentComment({ on: messageId, text: 'Until Friday, they said', replyTo: first });

    const withThreads = await replies().readComments(
      { offset: page.nextOffset, threads: page.threads },
      signal(),
    );
    const withoutThreads = await replies().readComments({ offset: page.nextOffset }, signal());

    expect(withThreads.comments).toEqual([
      expect.objectContaining({
        id: `${DISCUSSION_ID}:${answer}`,
        postId,
        inReplyTo: `${DISCUSSION_ID}:${first}`,
        text: 'Until Friday, they said',
      }),
    ]);
    expect(withThreads.threads).toEqual({});
    expect(withoutThreads.comments[0]?.postId).toBeUndefined();
    expect(withoutThreads.comments[0]?.threadId).toBe(withThreads.comments[0]?.threadId);
  });

  it('pages with offset: a page is read again until the next offset confirms it', async () => {
    const { messageId } = await publish('Road closure on the coast road');
    for (const n of [1, 2, 3, 4]) fake.residentComment({ on: messageId, text: `comment ${n}` });

    const first = await replies().readComments({ limit: 2 }, signal());
    const again = await replies().readComments({ limit: 2 }, signal());
    const second = await replies().readComments(
      { offset: first.nextOffset, limit: 2, threads: first.threads },
      signal(),
    );
    const third = await replies().readComments(
      { offset: second.nextOffset, limit: 2, threads: first.threads },
      signal(),
    );
    const last = await replies().readComments({ offset: third.nextOffset }, signal());

    // The first page holds the automatic forward and one comment: forwards are updates too.
    expect(first.comments.map((c) => c.text)).toEqual(['comment 1']);
    expect(again.comments).toEqual(first.comments);
    expect([first.more, second.more, third.more]).toEqual([true, true, false]);
    expect(second.comments.map((c) => c.text)).toEqual(['comment 2', 'comment 3']);
    expect(third.comments.map((c) => c.text)).toEqual(['comment 4']);
    expect(last).toMatchObject({ comments: [], nextOffset: third.nextOffset, more: false });
    expect(fake.updates).toHaveLength(0);
  });

  it('leaves out the group’s own conversation, bots, and the channel’s forwards', async () => {
    const { messageId } = await publish('Heat advisory');
    fake.residentComment({ text: 'Anyone going to the market?' });
    fake.residentComment({ on: messageId, text: 'A bot speaking', from: { id: 6_000_001, is_bot: true } });
    fake.residentComment({ on: messageId, text: 'Stay cool, everyone' });

    const page = await replies().readComments({}, signal());

    expect(page.comments.map((c) => c.text)).toEqual(['Stay cool, everyone']);
  });

  it('recognises its channel by numeric id as well as by @name', async () => {
    const { postId, messageId } = await publish('Air quality alert');
    fake.residentComment({ on: messageId, text: 'Schools open?' });

    const page = await replies(secretsOf(secret(TOKEN, String(CHANNEL_ID))).source).readComments(
      {},
      signal(),
    );

    expect(page.comments[0]?.postId).toBe(postId);
  });

  it('while a webhook is set is permanent, saying why (getUpdates answers 409)', async () => {
    fake.webhookUrl = 'https://elsewhere.example/hook';

    const error = await failureOf(replies().readComments({}, signal()));

    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(
      /^Telegram 409 Conflict: can't use getUpdates method while webhook is active/,
    );
    expect(error.reason).toContain('remove the webhook');
  });

  it('when another reader polls the same bot is retryable', async () => {
    fake.answerNext(1, {
      status: 409,
      body: botError(
        409,
        'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
      ),
    });

    const error = await failureOf(replies().readComments({}, signal()));

    expect(error.kind).toBe('retryable');
  });

  it('on 429 is retryable after retry_after; on 5xx retryable, since a read confirms nothing', async () => {
    fake.answerNext(1, floodWait(30));
    const limited = await failureOf(replies().readComments({}, signal()));
    fake.answerNext(1, { status: 502, body: botError(502, 'Bad Gateway') });
    const down = await failureOf(replies().readComments({}, signal()));

    expect([limited.kind, limited.retryAfterMs]).toEqual(['retryable', 30_000]);
    expect(down.kind).toBe('retryable');
  });

  it('on 401 re-reads the secret once, then is permanent without the token in its reason', async () => {
    const rotated = secretsOf(secret(REVOKED), secret(TOKEN));
    const stale = secretsOf(secret(REVOKED));

    await replies(rotated.source).readComments({}, signal());
    const error = await failureOf(replies(stale.source).readComments({}, signal()));

    expect(rotated.calls).toEqual([false, true]);
    expect(stale.calls).toEqual([false, true]);
    expect(error.kind).toBe('permanent');
    expect(error.reason).toMatch(/^Telegram 401 Unauthorized/);
    expect(`${error.reason} ${error.stack}`).not.toContain(REVOKED.split(':')[1]);
  });

  it('is retryable when the Bot API hangs past the deadline', async () => {
    fake.answerNext(1, { hang: true });

    const error = await failureOf(replies().readComments({}, AbortSignal.timeout(300)));

    expect(error.kind).toBe('retryable');
  });
});
