/**
 * Residents' comments on the agency's Telegram posts, for the tips path. A channel's comments live in its linked
 * discussion group: Telegram copies each channel post there as an automatic forward (`is_automatic_forward`, with
 * `forward_origin` naming the channel post), and a comment is a group message in that forward's thread
 * (`message_thread_id`), replying to the forward or to another comment. The bot reads them with getUpdates.
 *
 * What the bot needs: to be in the discussion group and see every message there, so an administrator of the group
 * (or privacy mode turned off with @BotFather, then the bot re-added). And no webhook: while one is set, getUpdates
 * answers 409, and one bot token has one reader, so Herald must be the only program polling with it.
 *
 * getUpdates is a queue: each read returns what is pending, and an update is forgotten only when a later read passes
 * an `offset` past it. So the caller stores a page's comments first and then passes `nextOffset` on its next read:
 * a run that dies in between reads the same comments again (at least once, never lost). Telegram keeps an
 * unconfirmed update for 24 hours.
 *
 * A comment that answers another comment names only its thread; the thread's post is known from the forward (seen
 * once, in an earlier page) or from a comment that replies to the forward itself. Pages hand back the threads they
 * learn for the caller to keep and pass in again.
 */
import { type Clock, ProviderError, type SecretSource, systemClock } from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import {
  type BotApiAnswer,
  encodeTelegramMessageId,
  errorText,
  type HttpAnswer,
  readTelegramCredentials,
  redactToken,
  retryAfterMs,
  TELEGRAM_API_BASE_URL,
  TELEGRAM_SECRET_NAME,
  type TelegramCredentials,
} from './client';

export interface TelegramComment {
  /** `<group_chat_id>:<message_id>`: what an answer in the group replies to. */
  id: string;
  /** The channel post it is under, as the client's providerMessageId; undefined when its thread is not known. */
  postId?: string | undefined;
  /** `<group_chat_id>:<message_id of the automatic forward>`: the post's thread in the group. */
  threadId: string;
  /** The comment it answers, when it answers another comment rather than the post. */
  inReplyTo?: string | undefined;
  /** The resident's user id, or the chat's when they commented as a channel. */
  authorId: string;
  /** The resident's @username without `@`, when they have one. */
  username?: string | undefined;
  text: string;
  createdAt: string;
}

export interface CommentsPage {
  comments: TelegramComment[];
  /** Threads this page taught (threadId → postId), to keep and pass in to later reads. */
  threads: Record<string, string>;
  /** Pass to the next read once these comments are stored: it confirms them, and Telegram forgets them. */
  nextOffset?: number | undefined;
  /** The page was full: there may be more to read at once. */
  more: boolean;
}

export interface CommentsRequest {
  /** The previous page's `nextOffset`; none on the first read. */
  offset?: number | undefined;
  /** Threads learned before (threadId → postId). */
  threads?: Readonly<Record<string, string>> | undefined;
  /** 1 to 100 (the default). */
  limit?: number | undefined;
}

export interface TelegramRepliesOptions {
  secrets: SecretSource;
  baseUrl?: string;
  logger?: LoggerLike;
  clock?: Clock;
}

export interface TelegramReplies {
  readComments(request: CommentsRequest, signal: AbortSignal): Promise<CommentsPage>;
}

interface Chat {
  id?: unknown;
  username?: unknown;
}
interface Message {
  message_id?: unknown;
  message_thread_id?: unknown;
  chat?: Chat;
  from?: { id?: unknown; is_bot?: unknown; username?: unknown };
  sender_chat?: Chat;
  date?: unknown;
  text?: unknown;
  caption?: unknown;
  is_automatic_forward?: unknown;
  forward_origin?: { type?: unknown; chat?: Chat; message_id?: unknown };
  reply_to_message?: Message;
}
interface Update {
  update_id?: unknown;
  message?: Message;
}

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value);

/** The channel the secret names, as `@name` or numeric id, is the chat a forward came from. */
function isChannel(chat: Chat | undefined, chatId: string): boolean {
  if (!chat) return false;
  if (chatId.startsWith('@'))
    return typeof chat.username === 'string' && chat.username.toLowerCase() === chatId.slice(1).toLowerCase();
  return String(chat.id) === chatId;
}

/** The channel post an automatic forward of ours copies, as a providerMessageId. */
function forwardedPost(message: Message | undefined, chatId: string): string | undefined {
  const origin = message?.forward_origin;
  if (message?.is_automatic_forward !== true || origin?.type !== 'channel' || !isChannel(origin.chat, chatId))
    return undefined;
  return isId(origin.chat?.id) && isId(origin.message_id)
    ? encodeTelegramMessageId(origin.chat.id, origin.message_id)
    : undefined;
}

/** Reads one page of updates into comments, learning threads from the forwards it meets. */
export function commentsOf(
  updates: readonly Update[],
  chatId: string,
  known: Readonly<Record<string, string>> = {},
): { comments: TelegramComment[]; threads: Record<string, string> } {
  const threads: Record<string, string> = {};
  const learn = (message: Message | undefined) => {
    const post = forwardedPost(message, chatId);
    if (post && isId(message?.chat?.id) && isId(message.message_id))
      threads[encodeTelegramMessageId(message.chat.id, message.message_id)] = post;
  };
  for (const update of updates) {
    learn(update.message);
    learn(update.message?.reply_to_message);
  }

  const comments: TelegramComment[] = [];
  for (const update of updates) {
    const m = update.message;
    if (!m || m.is_automatic_forward === true || !isId(m.chat?.id) || !isId(m.message_id)) continue;
    // A bot's message (Herald's own answers among them) or the channel speaking in its group is no resident's.
    if (m.from?.is_bot === true || isChannel(m.sender_chat, chatId)) continue;
    const text = typeof m.text === 'string' ? m.text : typeof m.caption === 'string' ? m.caption : undefined;
    if (!text?.trim()) continue;
    const reply = m.reply_to_message;
    const root = isId(m.message_thread_id)
      ? m.message_thread_id
      : reply?.is_automatic_forward === true && isId(reply.message_id)
        ? reply.message_id
        : undefined;
    // Outside any post's thread: a conversation in the group, not a comment on an alert.
    if (root === undefined) continue;
    const group = m.chat.id;
    const threadId = encodeTelegramMessageId(group, root);
    const author = m.from ?? m.sender_chat;
    comments.push({
      id: encodeTelegramMessageId(group, m.message_id),
      postId: threads[threadId] ?? known[threadId],
      threadId,
      ...(isId(reply?.message_id) && reply.message_id !== root
        ? { inReplyTo: encodeTelegramMessageId(group, reply.message_id) }
        : {}),
      authorId: String(author?.id ?? ''),
      ...(typeof author?.username === 'string' ? { username: author.username } : {}),
      text,
      createdAt: new Date((isId(m.date) ? m.date : 0) * 1000).toISOString(),
    });
  }
  return { comments, threads };
}

/** What a failed read means: reading again is always safe, since nothing is confirmed until the next offset. */
function classifyRead(answer: HttpAnswer, now: Date): ProviderError {
  const code = typeof answer.body?.error_code === 'number' ? answer.body.error_code : answer.status;
  const description = typeof answer.body?.description === 'string' ? answer.body.description : '';
  const reason = `Telegram ${code}${description ? ` ${description}` : ''}`;
  if (code === 429) return new ProviderError('retryable', reason, retryAfterMs(answer, now));
  if (code === 409 && /webhook/i.test(description))
    return new ProviderError(
      'permanent',
      `${reason}: the bot has a webhook, so its comments cannot be read with getUpdates; remove the webhook or use another bot`,
    );
  if (code === 409)
    return new ProviderError('retryable', `${reason}: another program is reading this bot's updates`);
  if (code === 401 || code === 404)
    return new ProviderError('permanent', `${reason}: the bot token was refused`);
  if (code >= 500 || answer.status >= 500) return new ProviderError('retryable', reason);
  return new ProviderError('permanent', reason);
}

class Replies implements TelegramReplies {
  private readonly base: string;
  private readonly clock: Clock;

  constructor(private readonly options: TelegramRepliesOptions) {
    this.base = new URL(options.baseUrl ?? TELEGRAM_API_BASE_URL).origin;
    this.clock = options.clock ?? systemClock;
  }

  async readComments(request: CommentsRequest, signal: AbortSignal): Promise<CommentsPage> {
    const limit = request.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw new ProviderError('permanent', `Telegram reads 1 to 100 updates at a time, not ${limit}`);
    let credentials = readTelegramCredentials(await this.secret(false));
    let answer = await this.getUpdates(credentials, request.offset, limit, signal);
    if (!Array.isArray(answer.body?.result) && [401, 404].includes(answer.status)) {
      this.options.logger?.warn(
        'Telegram refused the bot token; re-reading the secret and trying once more',
        {
          channel: 'telegram',
        },
      );
      credentials = readTelegramCredentials(await this.secret(true));
      answer = await this.getUpdates(credentials, request.offset, limit, signal);
    }
    const result = answer.body?.ok === true ? answer.body.result : undefined;
    if (!Array.isArray(result)) {
      const error = classifyRead(answer, this.clock.now());
      throw new ProviderError(
        error.kind,
        redactToken(error.reason, credentials.botToken),
        error.retryAfterMs,
      );
    }
    const updates = result as Update[];
    const { comments, threads } = commentsOf(updates, credentials.chatId, request.threads);
    const last = updates
      .map((u) => u.update_id)
      .filter(isId)
      .at(-1);
    return {
      comments,
      threads,
      nextOffset: last === undefined ? request.offset : last + 1,
      more: updates.length >= limit,
    };
  }

  private async secret(refresh: boolean) {
    try {
      return await this.options.secrets.get(TELEGRAM_SECRET_NAME, refresh ? { refresh: true } : undefined);
    } catch (error) {
      throw new ProviderError('retryable', `could not read the secret "telegram" (${errorText(error)})`);
    }
  }

  private async getUpdates(
    credentials: TelegramCredentials,
    offset: number | undefined,
    limit: number,
    signal: AbortSignal,
  ): Promise<Omit<HttpAnswer, 'body'> & { body: (BotApiAnswer & { result?: unknown }) | undefined }> {
    const { botToken } = credentials;
    try {
      const response = await fetch(`${this.base}/bot${botToken}/getUpdates`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        // A short poll (timeout 0): a scheduled run asks what is pending and ends, rather than holding a connection.
        body: JSON.stringify({
          ...(offset === undefined ? {} : { offset }),
          limit,
          timeout: 0,
          allowed_updates: ['message'],
        }),
        signal,
        redirect: 'manual',
      });
      const text = await response.text();
      let body: BotApiAnswer | undefined;
      try {
        body = JSON.parse(text) as BotApiAnswer;
      } catch {
        body = undefined;
      }
      return { status: response.status, body, retryAfter: response.headers.get('retry-after') };
    } catch (error) {
      const why = signal.aborted ? 'no answer in time' : redactToken(errorText(error), botToken);
      throw new ProviderError('retryable', `Telegram comments not read: ${why}`);
    }
  }
}

export function createTelegramReplies(options: TelegramRepliesOptions): TelegramReplies {
  return new Replies(options);
}
