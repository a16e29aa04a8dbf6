/**
 * The Telegram client: posts to the agency's channel as its bot through the Bot API, with Node's own fetch. An
 * alert with an image is a photo (sendPhoto, uploaded as multipart/form-data) whose caption holds the text; one
 * without is a text message (sendMessage). An update or cancel replies to the message of the version before it,
 * so the story reads as one thread in the channel and in its comments.
 *
 * The photo's bytes are uploaded rather than its URL handed to Telegram: the embedded mode's image URLs are not
 * reachable from Telegram's servers, and an upload does not depend on the CDN. The URL is not ours to trust, so
 * it is fetched through the guarded fetcher (../post-image.ts).
 *
 * The bot token is part of every request's path, so no URL ever reaches a reason or a log line, and every text
 * that could carry one is redacted on the way out.
 *
 * The Bot API takes no idempotency key: once a send has been handed to the network, a lost or garbled answer
 * (or a 5xx) may hide a message that went out, and is an unknown outcome rather than something to retry.
 *
 * providerMessageId: `<chat_id>:<message_id>`, the numeric id Telegram answers for the chat (e.g.
 * `-1001234567890:42`), never the `@name`, which an agency can rename. Parse it with parseTelegramMessageId.
 */
import {
  type Clock,
  type ProviderAccepted,
  ProviderError,
  type PublicImage,
  type SecretSource,
  systemClock,
} from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import { NEVER_SENT_CODES } from '../../shared/never-sent';
import { fetchPostImage, type ImageFetchOptions } from '../post-image';
import type { SocialClient, SocialPost } from '../social';
import { TELEGRAM_CAPTION_MAX, TELEGRAM_TEXT_MAX, telegramLength } from './render';

export const TELEGRAM_API_BASE_URL = 'https://api.telegram.org';
/** The secret's name in the SecretSource. */
export const TELEGRAM_SECRET_NAME = 'telegram';
/**
 * The secret's keys: the bot's token from @BotFather, and the agency's channel as `@name` or its numeric id
 * (`-100…`). The bot must be an administrator of the channel with the right to post messages.
 */
export const TELEGRAM_SECRET_KEYS = ['botToken', 'chatId'] as const;
export type TelegramCredentials = Record<(typeof TELEGRAM_SECRET_KEYS)[number], string>;

/** Telegram's cap on an uploaded photo is "10 MB": taken in decimal, which is within it whichever it means. */
export const TELEGRAM_MAX_PHOTO_BYTES = 10_000_000;
const PHOTO_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
const EXTENSIONS: Record<string, string> = { 'image/jpeg': 'jpg', 'image/png': 'png', 'image/webp': 'webp' };
const PHOTO_LIMITS = { network: 'Telegram', maxBytes: TELEGRAM_MAX_PHOTO_BYTES, types: PHOTO_TYPES };

/** A bot token as @BotFather issues it; anything else could bend the request path. */
const TOKEN = /^\d{1,20}:[A-Za-z0-9_-]{20,100}$/;
/** A channel's public name (5-32 characters) or a chat's numeric id. */
const CHAT = /^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,20})$/;

/** No secret, a key missing or malformed: a person has to fix the secret; retrying will not. */
export class TelegramConfigurationError extends ProviderError {
  constructor(reason: string) {
    super('permanent', reason);
    this.name = 'TelegramConfigurationError';
  }
}

export interface TelegramClientOptions extends ImageFetchOptions {
  secrets: SecretSource;
  /** The API's origin (`/bot<token>/<method>` is appended); the real API unless a test points it at a fake. */
  baseUrl?: string;
  logger?: LoggerLike;
  /** For a Retry-After header given as a date. */
  clock?: Clock;
}

export const encodeTelegramMessageId = (chatId: number | string, messageId: number): string =>
  `${chatId}:${messageId}`;

/** The chat and message a providerMessageId of this client names; undefined for anything else. */
export function parseTelegramMessageId(id: string): { chatId: string; messageId: number } | undefined {
  const match = /^(-?\d{1,20}):(\d{1,15})$/.exec(id);
  if (!match) return undefined;
  const messageId = Number(match[2]);
  return messageId > 0 ? { chatId: match[1]!, messageId } : undefined;
}

/** A Bot API answer: `result` when `ok`, else `error_code`, `description` and maybe `parameters`. */
export interface BotApiAnswer {
  ok?: unknown;
  result?: { message_id?: unknown; chat?: { id?: unknown } };
  error_code?: unknown;
  description?: unknown;
  parameters?: { retry_after?: unknown; migrate_to_chat_id?: unknown };
}

export interface HttpAnswer {
  status: number;
  body: BotApiAnswer | undefined;
  retryAfter: string | null;
}

interface Photo {
  bytes: Buffer;
  type: string;
}

/** The secret's keys, checked; a TelegramConfigurationError names what is wrong, never a value. */
export function readTelegramCredentials(secret: Record<string, string> | undefined): TelegramCredentials {
  const name = TELEGRAM_SECRET_NAME;
  if (!secret)
    throw new TelegramConfigurationError(`Telegram is not configured: there is no secret "${name}"`);
  const missing = TELEGRAM_SECRET_KEYS.filter((key) => !secret[key]?.trim());
  if (missing.length > 0)
    throw new TelegramConfigurationError(
      `Telegram is not configured: the secret "${name}" lacks ${missing.join(', ')}`,
    );
  const botToken = secret.botToken!.trim();
  const chatId = secret.chatId!.trim();
  if (!TOKEN.test(botToken))
    throw new TelegramConfigurationError(
      `Telegram is not configured: botToken in the secret "${name}" is not a bot token (<digits>:<key>)`,
    );
  if (!CHAT.test(chatId))
    throw new TelegramConfigurationError(
      `Telegram is not configured: chatId in the secret "${name}" is neither @channelname nor a numeric chat id`,
    );
  return { botToken, chatId };
}

/** Belt and braces: whatever text reaches a reason, the token (and any bot path) stays out of it. */
export function redactToken(text: string, token: string | undefined): string {
  let out = text;
  if (token) out = out.split(token).join('[redacted]');
  return out.replace(/bot\d{1,20}:[A-Za-z0-9_-]+/g, 'bot[redacted]');
}

/** The socket error under fetch's "fetch failed" (a single one, or the first of a happy-eyeballs attempt). */
export function causeOf(error: unknown): { code?: string; message: string } | undefined {
  const cause = (error as { cause?: unknown } | undefined)?.cause;
  if (!cause || typeof cause !== 'object') return undefined;
  const first = (cause as { errors?: unknown[] }).errors?.[0] as { code?: unknown } | undefined;
  const code = (cause as { code?: unknown }).code ?? first?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  return { ...(typeof code === 'string' ? { code } : {}), message };
}

export const errorText = (error: unknown): string => {
  const cause = causeOf(error);
  if (cause)
    return cause.code && !cause.message.includes(cause.code)
      ? `${cause.code}: ${cause.message}`
      : cause.message;
  return error instanceof Error ? error.message : String(error);
};

/** Seconds, as Telegram's `parameters.retry_after` gives them, or a Retry-After header (seconds or a date). */
export function retryAfterMs(answer: HttpAnswer, now: Date): number | undefined {
  const seconds = answer.body?.parameters?.retry_after;
  if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const header = answer.retryAfter?.trim();
  if (!header) return undefined;
  if (/^\d+$/.test(header)) return Number(header) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

const isAuthFailure = (answer: HttpAnswer) => {
  const code = answer.body?.error_code ?? answer.status;
  // 401 for a revoked token; the API answers 404 to a path whose token it does not recognise at all.
  return code === 401 || code === 404;
};

/** What an answer other than a posted message means for the channel handler. */
function classifyAnswer(answer: HttpAnswer, now: Date): ProviderError {
  const code = typeof answer.body?.error_code === 'number' ? answer.body.error_code : answer.status;
  const description = typeof answer.body?.description === 'string' ? answer.body.description : '';
  const reason = `Telegram ${code}${description ? ` ${description}` : ''}`;
  const secret = `the secret "${TELEGRAM_SECRET_NAME}"`;

  if (answer.status >= 200 && answer.status < 300)
    return new ProviderError('unknown-outcome', `${reason}: Telegram answered the send without the message`);
  if (code === 429) return new ProviderError('retryable', reason, retryAfterMs(answer, now));
  const migrated = answer.body?.parameters?.migrate_to_chat_id;
  if (typeof migrated === 'number' || typeof migrated === 'string')
    return new ProviderError(
      'permanent',
      `${reason}: the group is now the supergroup ${migrated}; set chatId in ${secret} to ${migrated}`,
    );
  if (code === 401 || code === 404)
    return new ProviderError(
      'permanent',
      `${reason}: the bot token was refused; set botToken in ${secret} to the one @BotFather gives`,
    );
  if (code === 403)
    return new ProviderError(
      'permanent',
      `${reason}: make the bot an administrator of the channel, allowed to post messages`,
    );
  if (code === 400 && /chat not found/i.test(description))
    return new ProviderError(
      'permanent',
      `${reason}: check chatId in ${secret}, and that the bot is in that chat`,
    );
  if (answer.status >= 500 || code >= 500)
    return new ProviderError('unknown-outcome', `${reason} after the message was sent; it may have gone out`);
  if (answer.status >= 300 && answer.status < 400)
    return new ProviderError('permanent', `${reason}: the Bot API redirected; check the base URL`);
  return new ProviderError('permanent', reason);
}

class TelegramClient implements SocialClient {
  private readonly base: string;
  private readonly clock: Clock;

  constructor(private readonly options: TelegramClientOptions) {
    this.base = new URL(options.baseUrl ?? TELEGRAM_API_BASE_URL).origin;
    this.clock = options.clock ?? systemClock;
  }

  async post(post: SocialPost, signal: AbortSignal): Promise<ProviderAccepted> {
    if (post.test)
      throw new ProviderError(
        'permanent',
        'refusing to post a Test or Exercise alert to the public on Telegram',
      );
    const limit = post.image ? TELEGRAM_CAPTION_MAX : TELEGRAM_TEXT_MAX;
    const length = telegramLength(post.text);
    if (!post.image && length === 0)
      throw new ProviderError('permanent', 'Telegram: the message text is empty');
    if (length > limit)
      throw new ProviderError(
        'permanent',
        `Telegram: the ${post.image ? 'caption' : 'text'} is ${length} characters, over Telegram's ${limit}`,
      );
    checkDimensions(post.image);

    let credentials = readTelegramCredentials(await this.secret(false));
    const photo = post.image ? await this.photo(post.image, signal) : undefined;
    if (post.answer && !answerTarget(post))
      throw new ProviderError('permanent', 'Telegram: the comment to answer is not a message id');
    if (!post.answer && post.inReplyTo && !replyParameters(post.inReplyTo, credentials.chatId))
      // The channel was changed since (or the id is not ours): a message id means nothing in another chat.
      this.options.logger?.warn(
        'the Telegram message to reply to is not in the configured chat; posting alone',
        {
          channel: 'telegram',
          alertId: post.alertId,
          version: post.version,
        },
      );
    let answer = await this.send(post, credentials, photo, signal);
    if (!('accepted' in answer) && isAuthFailure(answer)) {
      // Most often the token was revoked and a new one stored under a warm function: re-read it once.
      this.options.logger?.warn(
        'Telegram refused the bot token; re-reading the secret and trying once more',
        {
          channel: 'telegram',
          alertId: post.alertId,
          version: post.version,
        },
      );
      credentials = readTelegramCredentials(await this.secret(true));
      answer = await this.send(post, credentials, photo, signal);
    }
    if ('accepted' in answer) return answer.accepted;
    const error = classifyAnswer(answer, this.clock.now());
    throw new ProviderError(error.kind, redactToken(error.reason, credentials.botToken), error.retryAfterMs);
  }

  private async secret(refresh: boolean): Promise<Record<string, string> | undefined> {
    try {
      return await this.options.secrets.get(TELEGRAM_SECRET_NAME, refresh ? { refresh: true } : undefined);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw new ProviderError(
        'retryable',
        `Telegram not reached: could not read its secret (${errorText(error)})`,
      );
    }
  }

  private async photo(image: PublicImage, signal: AbortSignal): Promise<Photo> {
    try {
      return await fetchPostImage(image, signal, PHOTO_LIMITS, this.options);
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      // Nothing has been sent to Telegram yet: an aborted or failed image fetch is safe to try again.
      const why = signal.aborted
        ? 'timed out fetching the alert image'
        : `the alert image: ${errorText(error)}`;
      throw new ProviderError('retryable', `Telegram not reached: ${why}`);
    }
  }

  private async send(
    post: SocialPost,
    credentials: TelegramCredentials,
    photo: Photo | undefined,
    signal: AbortSignal,
  ): Promise<{ accepted: ProviderAccepted } | HttpAnswer> {
    const { botToken } = credentials;
    // An answer goes to the chat of the comment it answers (the channel's discussion group), and only as a reply.
    const target = post.answer ? answerTarget(post) : undefined;
    const chatId = target?.chatId ?? credentials.chatId;
    const reply = target
      ? { message_id: target.messageId, allow_sending_without_reply: false }
      : replyParameters(post.inReplyTo, chatId);
    let method: string;
    let body: FormData | string;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (photo) {
      method = 'sendPhoto';
      const form = new FormData();
      form.append('chat_id', chatId);
      form.append('photo', new Blob([photo.bytes], { type: photo.type }), `alert.${EXTENSIONS[photo.type]}`);
      if (post.text) form.append('caption', post.text);
      if (reply) form.append('reply_parameters', JSON.stringify(reply));
      body = form;
    } else {
      method = 'sendMessage';
      body = JSON.stringify({
        chat_id: chatId,
        text: post.text,
        // The preview shows the alert's page, not whatever other address the officer's text mentions.
        link_preview_options: post.link ? { url: post.link } : { is_disabled: true },
        ...(reply ? { reply_parameters: reply } : {}),
      });
      headers['content-type'] = 'application/json';
    }

    if (signal.aborted)
      throw new ProviderError('retryable', 'Telegram not reached: timed out before posting');
    let response: Response;
    try {
      response = await fetch(`${this.base}/bot${botToken}/${method}`, {
        method: 'POST',
        headers,
        body,
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      throw sendFailure(error, signal, botToken);
    }

    let parsed: BotApiAnswer | undefined;
    try {
      const text = await response.text();
      parsed = JSON.parse(text) as BotApiAnswer;
    } catch (error) {
      // A cut-off answer to a send that was taken is an unknown outcome; an error status still says what it is.
      if (response.ok) {
        const why = signal.aborted ? 'the deadline passed' : redactToken(errorText(error), botToken);
        throw new ProviderError(
          'unknown-outcome',
          `Telegram answered the send but the answer was unreadable (${why}); the message may have gone out`,
        );
      }
    }
    const message = parsed?.ok === true ? parsed.result : undefined;
    if (
      response.ok &&
      typeof message?.message_id === 'number' &&
      (typeof message.chat?.id === 'number' || typeof message.chat?.id === 'string')
    )
      return {
        accepted: { providerMessageId: encodeTelegramMessageId(message.chat.id, message.message_id) },
      };
    return { status: response.status, body: parsed, retryAfter: response.headers.get('retry-after') };
  }
}

/** The comment an officer's answer replies to: a group message, which the bot read with getUpdates (./replies.ts). */
const answerTarget = (post: SocialPost) =>
  post.inReplyTo ? parseTelegramMessageId(post.inReplyTo) : undefined;

/** The reply to the previous version's message, when it is in the chat this message goes to. */
function replyParameters(inReplyTo: string | undefined, chatId: string) {
  const target = inReplyTo ? parseTelegramMessageId(inReplyTo) : undefined;
  if (!target || (/^-?\d+$/.test(chatId) && chatId !== target.chatId)) return undefined;
  // An agency deletes a mistaken post; the update must still go out, so a missing target is no failure.
  return { message_id: target.messageId, allow_sending_without_reply: true };
}

/** A send that got no answer: retryable only when the connection provably never opened. */
function sendFailure(error: unknown, signal: AbortSignal, token: string): ProviderError {
  if (signal.aborted)
    return new ProviderError(
      'unknown-outcome',
      'no answer from Telegram before the deadline; the message may have gone out',
    );
  const code = causeOf(error)?.code;
  const text = redactToken(errorText(error), token);
  if (code && NEVER_SENT_CODES.has(code))
    return new ProviderError('retryable', `Telegram not reached: ${text}`);
  return new ProviderError(
    'unknown-outcome',
    `the connection to Telegram failed after the message was sent (${text}); it may have gone out`,
  );
}

/** Telegram refuses a photo whose sides add up to over 10,000 pixels or whose ratio is over 20. */
function checkDimensions(image: PublicImage | undefined): void {
  const { width, height } = image ?? {};
  if (!width || !height) return;
  if (width + height > 10_000 || Math.max(width, height) / Math.min(width, height) > 20)
    throw new ProviderError(
      'permanent',
      `the alert image is ${width}×${height}; Telegram takes photos whose sides add up to at most 10000 and whose ratio is at most 20`,
    );
}

export function createTelegramClient(options: TelegramClientOptions): SocialClient {
  return new TelegramClient(options);
}
