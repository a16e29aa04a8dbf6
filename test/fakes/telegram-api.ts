/**
 * A local stand-in for the Telegram Bot API on 127.0.0.1, speaking its wire format: `/bot<token>/<method>`, its
 * parameters in the query or a JSON, urlencoded or multipart body (objects JSON-serialized in the last two), every
 * answer `{ ok: true, result }` or `{ ok: false, error_code, description, parameters? }`, the HTTP status its code.
 *
 * It checks what Telegram checks: the token in the path (a well-formed wrong one earns 401, anything else 404); the
 * chat (`@name` or numeric id, else "chat not found"); the bot's standing there (kicked or gone: 403; in a channel
 * without posting rights: 400; a group upgraded to a supergroup: 400 with `migrate_to_chat_id`); a text of 1 to
 * 4096 and a caption of at most 1024 UTF-16 units; an uploaded photo (image bytes, 10 MB); `reply_parameters`
 * naming a message of the chat unless `allow_sending_without_reply`.
 *
 * The channel has a linked discussion group: each post is copied there as an automatic forward, and residents
 * comment under it (`residentComment`), replying to that forward in its thread. The bot reads them with
 * `getUpdates` (`offset` confirms and pages, `limit`, `allowed_updates`), which a set `webhookUrl` refuses with 409.
 *
 * Requests are recorded with the token cut out of the path. `answerNext` scripts an answer (a 429 from `floodWait`,
 * a 5xx, a hang, a dropped connection), before the fake does the work or, with `process`, after it. Files under
 * `/public/` stand in for the CDN the alert images are fetched from.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeChat {
  id: number;
  type: 'channel' | 'supergroup' | 'group';
  title: string;
  username?: string | undefined;
  /** The bot's standing: a channel takes posts only from an administrator allowed to post. */
  bot: 'administrator' | 'member' | 'left' | 'kicked';
  canPostMessages?: boolean | undefined;
  /** A channel's discussion group, where its posts are forwarded and commented on. */
  linkedChatId?: number | undefined;
  /** A group upgraded to this supergroup: a send to it answers 400 with `migrate_to_chat_id`. */
  migratedTo?: number | undefined;
}

export type FakeUser = { id: number; is_bot: boolean; first_name: string; username?: string | undefined };
export type RecordedFile = { filename: string; type: string; size: number; bytes: Uint8Array };

export interface FakeMessage {
  message_id: number;
  chatId: number;
  date: number;
  text?: string | undefined;
  caption?: string | undefined;
  photo?: RecordedFile | undefined;
  replyTo?: number | undefined;
  linkPreview?: unknown;
  /** A resident; absent for what the channel itself posts. */
  from?: FakeUser | undefined;
  /** For an automatic forward: the channel post it copies. */
  forwardOf?: { chatId: number; messageId: number } | undefined;
  /** For a comment: the automatic forward that opens its thread. */
  threadId?: number | undefined;
  deleted?: boolean | undefined;
}

export interface RecordedRequest {
  httpMethod: string;
  /** The path with the token cut out: `/bot[redacted]/sendMessage`. */
  path: string;
  /** The Bot API method, as written in the path. */
  method: string;
  tokenValid: boolean;
  contentType: string;
  /** Parameters as received: JSON values from a JSON body, strings otherwise. */
  params: Record<string, unknown>;
  files: Record<string, RecordedFile>;
}

export type ScriptedAnswer = (
  | { status: number; body?: unknown; headers?: HeaderMap }
  | { hang: true }
  | { destroy: true }
) & { process?: boolean };

export const botError = (code: number, description: string, parameters?: Params) => ({
  ok: false,
  error_code: code,
  description,
  ...(parameters ? { parameters } : {}),
});

/** Telegram's flood control: 429 with `retry_after` seconds. */
export const floodWait = (seconds: number): ScriptedAnswer => ({
  status: 429,
  body: botError(429, `Too Many Requests: retry after ${seconds}`, { retry_after: seconds }),
});

export const CHANNEL_ID = -1001000000001;
export const DISCUSSION_ID = -1001000000002;
export const CHANNEL_USERNAME = 'herald_alerts';
const WEBHOOK_CONFLICT =
  "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

type Params = Record<string, unknown>;
type HeaderMap = Record<string, string>;
class BotApiError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly parameters?: Params,
  ) {
    super(description);
  }
}
const bad = (description: string) => new BotApiError(400, `Bad Request: ${description}`);

const ascii = (b: Uint8Array, from: number, to: number) =>
  Buffer.from(b.subarray(from, to)).toString('latin1');
/** JPEG, PNG or WebP by their first bytes: Telegram reads the picture, not the name. */
const isImage = (b: Uint8Array) =>
  (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) ||
  ascii(b, 1, 4) === 'PNG' ||
  (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP');

export class TelegramApiFake {
  readonly requests: RecordedRequest[] = [];
  readonly chats = new Map<number, FakeChat>();
  readonly messages: FakeMessage[] = [];
  /** Updates not yet confirmed by a getUpdates offset. */
  readonly updates: { update_id: number; message: FakeMessage }[] = [];
  /** Set, getUpdates answers 409 as Telegram does while a webhook is active. */
  webhookUrl = '';
  private allowedUpdates: string[] | undefined;
  private nextUpdateId = 700_000_001;
  private readonly lastMessageId = new Map<number, number>();
  private readonly scripts: { remaining: number; answer: ScriptedAnswer; method?: string | undefined }[] = [];
  private readonly files = new Map<string, { bytes: Uint8Array; contentType: string }>();
  private readonly open = new Set<ServerResponse>();

  private constructor(
    private readonly server: ReturnType<typeof createServer>,
    /** The bot's current token; a test changes it to revoke the one a client holds. */
    public token: string,
  ) {
    const channel = {
      id: CHANNEL_ID,
      type: 'channel',
      title: 'Herald Alerts',
      username: CHANNEL_USERNAME,
    } as const;
    this.chats.set(CHANNEL_ID, { ...channel, bot: 'administrator', linkedChatId: DISCUSSION_ID });
    // The bot administers the discussion group too: with privacy mode on, a member would not see the comments.
    const group = { id: DISCUSSION_ID, type: 'supergroup', title: 'Comments', bot: 'administrator' } as const;
    this.chats.set(DISCUSSION_ID, group);
  }

  static async start(token: string): Promise<TelegramApiFake> {
    let fake: TelegramApiFake | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) reply(res, 500, botError(500, `Internal Server Error: ${String(error)}`));
      });
    });
    fake = new TelegramApiFake(server, token);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  get apiRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith('/bot'));
  }

  /** Answers the next `times` requests (of `method`, if given) with `answer`. */
  answerNext(times: number, answer: ScriptedAnswer, match?: { method?: string }): void {
    this.scripts.push({ remaining: times, answer, method: match?.method?.toLowerCase() });
  }

  servePublic(name: string, bytes: Uint8Array, contentType: string): string {
    this.files.set(`/public/${name}`, { bytes, contentType });
    return `${this.baseUrl}/public/${name}`;
  }

  message(chatId: number, messageId: number): FakeMessage | undefined {
    return this.messages.find((m) => m.chatId === chatId && m.message_id === messageId && !m.deleted);
  }

  channelPosts(chatId = CHANNEL_ID): FakeMessage[] {
    return this.messages.filter((m) => m.chatId === chatId && !m.deleted);
  }

  /** What an agency does to a mistaken post. */
  deleteMessage(chatId: number, messageId: number): void {
    const message = this.message(chatId, messageId);
    if (message) message.deleted = true;
  }

  /** The automatic forward of a channel post into the discussion group. */
  forwardOf(channelMessageId: number): FakeMessage | undefined {
    return this.messages.find((m) => m.forwardOf?.messageId === channelMessageId);
  }

  /**
   * A resident's comment on channel post `on`: a message of the discussion group in the post's thread, replying to
   * its automatic forward or to another comment (`replyTo`, a group message id). Without `on`, a message in the
   * group outside any thread, which is no comment. Answers the message's id in the group.
   */
  residentComment(options: {
    on?: number;
    text: string;
    from?: Partial<FakeUser>;
    replyTo?: number;
  }): number {
    const forward = options.on === undefined ? undefined : this.forwardOf(options.on);
    if (options.on !== undefined && !forward) throw new Error(`channel post ${options.on} has no thread`);
    const message = this.store({
      chatId: DISCUSSION_ID,
      text: options.text,
      from: { id: 5_000_001, is_bot: false, first_name: 'Resident', ...options.from },
      replyTo: options.replyTo ?? forward?.message_id,
      threadId: forward?.message_id,
    });
    this.updates.push({ update_id: this.nextUpdateId++, message });
    return message.message_id;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private store(message: Omit<FakeMessage, 'message_id' | 'date'>): FakeMessage {
    const id = (this.lastMessageId.get(message.chatId) ?? 0) + 1;
    this.lastMessageId.set(message.chatId, id);
    const stored: FakeMessage = { message_id: id, date: Math.floor(Date.now() / 1000), ...message };
    this.messages.push(stored);
    return stored;
  }

  private takeScript(method: string): ScriptedAnswer | undefined {
    const index = this.scripts.findIndex((s) => !s.method || s.method === method.toLowerCase());
    const script = this.scripts[index];
    if (!script) return undefined;
    script.remaining -= 1;
    if (script.remaining <= 0) this.scripts.splice(index, 1);
    return script.answer;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const route = /^\/bot([^/]*)\/([A-Za-z]+)$/.exec(url.pathname);
    const contentType = req.headers['content-type'] ?? '';
    const recorded: RecordedRequest = {
      httpMethod: req.method ?? 'GET',
      path: url.pathname.replace(/^\/bot[^/]*/, '/bot[redacted]'),
      method: route?.[2] ?? '',
      tokenValid: route?.[1] === this.token,
      contentType,
      params: Object.fromEntries(url.searchParams),
      files: {},
    };
    this.requests.push(recorded);
    const unreadable = await readBody(Buffer.concat(chunks), contentType, recorded).then(
      () => undefined,
      (error: unknown) => error,
    );

    const file = req.method === 'GET' ? this.files.get(url.pathname) : undefined;
    if (file) {
      res.writeHead(200, { 'content-type': file.contentType, 'content-length': String(file.bytes.length) });
      res.end(file.bytes);
      return;
    }
    if (!route) return reply(res, 404, botError(404, 'Not Found'));

    const scripted = this.takeScript(recorded.method);
    if (scripted && !scripted.process) return this.answerScripted(scripted, req, res);
    let status = 200;
    let body: unknown;
    try {
      if (!recorded.tokenValid)
        throw /^\d+:[A-Za-z0-9_-]{30,}$/.test(route[1]!)
          ? new BotApiError(401, 'Unauthorized')
          : new BotApiError(404, 'Not Found');
      if (unreadable) throw unreadable;
      body = { ok: true, result: this.call(recorded.method.toLowerCase(), recorded) };
    } catch (error) {
      if (!(error instanceof BotApiError)) throw error;
      status = error.code;
      body = botError(error.code, error.description, error.parameters);
    }
    if (scripted) return this.answerScripted(scripted, req, res);
    reply(res, status, body);
  }

  private answerScripted(answer: ScriptedAnswer, req: IncomingMessage, res: ServerResponse): void {
    if ('hang' in answer) {
      this.open.add(res);
      res.on('close', () => this.open.delete(res));
    } else if ('destroy' in answer) req.socket.destroy();
    else reply(res, answer.status, answer.body ?? botError(answer.status, 'Scripted'), answer.headers);
  }

  private call(method: string, request: RecordedRequest): unknown {
    const p = request.params;
    const photo = request.files.photo ?? (p.photo === undefined ? undefined : String(p.photo));
    switch (method) {
      case 'sendmessage':
        return this.send(p, 'text', undefined);
      case 'sendphoto':
        return this.send(p, 'caption', photo);
      case 'getupdates':
        return this.getUpdates(p);
      default:
        throw new BotApiError(404, 'Not Found');
    }
  }

  private chatOf(value: unknown): FakeChat {
    const key = String(value ?? '').trim();
    const chat = key.startsWith('@')
      ? [...this.chats.values()].find((c) => c.username?.toLowerCase() === key.slice(1).toLowerCase())
      : /^-?\d+$/.test(key)
        ? this.chats.get(Number(key))
        : undefined;
    if (!chat) throw bad('chat not found');
    if (chat.migratedTo)
      throw new BotApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
        migrate_to_chat_id: chat.migratedTo,
      });
    if (chat.bot === 'kicked')
      throw new BotApiError(403, `Forbidden: bot was kicked from the ${chat.type} chat`);
    if (chat.bot === 'left')
      throw new BotApiError(403, `Forbidden: bot is not a member of the ${chat.type} chat`);
    if (chat.type === 'channel' && (chat.bot !== 'administrator' || chat.canPostMessages === false))
      throw bad('need administrator rights in the channel chat');
    return chat;
  }

  private send(p: Params, field: 'text' | 'caption', photo: RecordedFile | string | undefined) {
    const chat = this.chatOf(p.chat_id);
    const text = p[field] === undefined ? '' : String(p[field]);
    if (field === 'text' && text.trim() === '') throw bad('message text is empty');
    if (text.length > (field === 'text' ? 4096 : 1024))
      throw bad(`message ${field === 'text' ? '' : 'caption '}is too long`);
    if (field === 'caption') {
      if (photo === undefined) throw bad('there is no photo in the request');
      if (typeof photo === 'string') throw bad('wrong remote file identifier specified');
      if (photo.size > 10_000_000) throw bad('file is too big');
      if (!isImage(photo.bytes)) throw bad('IMAGE_PROCESS_FAILED');
    }
    const replyParameters = json(p.reply_parameters, 'reply parameters') as
      | { message_id?: unknown; allow_sending_without_reply?: unknown }
      | undefined;
    let replyTo: number | undefined;
    if (replyParameters !== undefined) {
      const target = Number(replyParameters.message_id);
      if (Number.isInteger(target) && this.message(chat.id, target)) replyTo = target;
      else if (replyParameters.allow_sending_without_reply !== true)
        throw bad('message to be replied not found');
    }
    const content = field === 'text' ? { text } : { caption: text, photo: photo as RecordedFile };
    const linkPreview = json(p.link_preview_options, 'link preview options');
    // In a discussion group a reply joins the thread of the message it answers (a comment, or the post's forward).
    const answered =
      chat.type === 'channel' || replyTo === undefined ? undefined : this.message(chat.id, replyTo);
    const threadId = answered?.threadId ?? (answered?.forwardOf ? answered.message_id : undefined);
    const message = this.store({
      chatId: chat.id,
      ...content,
      replyTo,
      linkPreview,
      ...(threadId !== undefined ? { threadId } : {}),
    });
    const group = chat.linkedChatId === undefined ? undefined : this.chats.get(chat.linkedChatId);
    if (chat.type === 'channel' && group) {
      const forwardOf = { chatId: chat.id, messageId: message.message_id };
      const forward = this.store({ chatId: group.id, ...content, forwardOf });
      this.updates.push({ update_id: this.nextUpdateId++, message: forward });
    }
    return this.view(message, true);
  }

  private getUpdates(p: Params) {
    if (this.webhookUrl) throw new BotApiError(409, WEBHOOK_CONFLICT);
    const allowed = json(p.allowed_updates, 'allowed updates');
    if (Array.isArray(allowed)) this.allowedUpdates = allowed.map(String);
    const limit = p.limit === undefined ? 100 : Number(p.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw bad('invalid limit');
    if (p.offset !== undefined) {
      const offset = Number(p.offset);
      // A positive offset confirms every update before it; a negative one keeps only the last -offset updates.
      const from = this.updates.findIndex((u) => u.update_id >= offset);
      const keep = offset < 0 ? Math.max(0, this.updates.length + offset) : from;
      this.updates.splice(0, keep < 0 ? this.updates.length : keep);
    }
    // Every update this fake makes is a `message`; Telegram keeps the last allowed_updates until changed.
    const wanted = this.allowedUpdates;
    if (wanted !== undefined && wanted.length > 0 && !wanted.includes('message')) return [];
    const page = this.updates.slice(0, limit);
    return page.map((u) => ({ update_id: u.update_id, message: this.view(u.message, true) }));
  }

  private chatView(chatId: number) {
    const c = this.chats.get(chatId)!;
    return { id: c.id, title: c.title, type: c.type, ...(c.username ? { username: c.username } : {}) };
  }

  /** A Message as the Bot API shows it; `reply_to_message` is shown one level deep, as Telegram does. */
  private view(m: FakeMessage, withReply: boolean): Record<string, unknown> {
    const chat = this.chatView(m.chatId);
    const channel = m.forwardOf ? this.chatView(m.forwardOf.chatId) : chat;
    const target = withReply
      ? this.messages.find((x) => x.chatId === m.chatId && x.message_id === m.replyTo)
      : undefined;
    const forward = m.forwardOf && {
      is_automatic_forward: true,
      forward_origin: { type: 'channel', chat: channel, message_id: m.forwardOf.messageId, date: m.date },
    };
    const photo = m.photo && [
      { file_id: `AgAC${m.message_id}`, file_unique_id: `AQAD${m.message_id}`, width: 800, height: 800 },
    ];
    return {
      message_id: m.message_id,
      ...(m.from ? { from: m.from } : { sender_chat: channel }),
      chat,
      date: m.date,
      ...(m.threadId !== undefined ? { message_thread_id: m.threadId } : {}),
      ...forward,
      ...(target ? { reply_to_message: this.view(target, false) } : {}),
      ...(m.text !== undefined ? { text: m.text } : {}),
      ...(photo ? { photo } : {}),
      ...(m.caption ? { caption: m.caption } : {}),
      ...(m.linkPreview !== undefined ? { link_preview_options: m.linkPreview } : {}),
    };
  }
}

/** Objects arrive as JSON values in a JSON body and as JSON-serialized strings otherwise. */
function json(value: unknown, what: string): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    throw bad(`can't parse ${what} JSON object`);
  }
}

async function readBody(raw: Buffer, contentType: string, recorded: RecordedRequest): Promise<void> {
  if (raw.length === 0) return;
  try {
    const text = raw.toString();
    if (contentType.includes('json')) Object.assign(recorded.params, JSON.parse(text));
    else if (contentType.includes('urlencoded'))
      Object.assign(recorded.params, Object.fromEntries(new URLSearchParams(text)));
    else if (contentType.includes('multipart/form-data')) {
      const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
      for (const [name, value] of form) {
        if (typeof value === 'string') recorded.params[name] = value;
        else {
          const bytes = new Uint8Array(await value.arrayBuffer());
          recorded.files[name] = { filename: value.name, type: value.type, size: bytes.length, bytes };
        }
      }
    }
  } catch {
    throw bad("can't parse the request body");
  }
}

function reply(res: ServerResponse, status: number, body: unknown, headers: HeaderMap = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
