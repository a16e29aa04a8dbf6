/**
 * Embedded queues with the semantics of SQS standard queues: visibility timeouts, receive counts, delays,
 * receipt handles that go stale, and redrive to a dead-letter queue after maxReceiveCount receives. An
 * emulator that smoothed any of these over would hide exactly the bugs that lose or duplicate alerts.
 *
 * Durability: every change is one LevelDB batch, written (fsync by default) before the call resolves; the
 * disk is the truth and the in-memory index is rebuilt from it on open. Visibility is stored as an absolute
 * time, so it means the same after a restart.
 *
 * Recovery: on open, a message hidden only because a receive took it becomes visible at once, its receive
 * count kept (the dead receive counts, as in SQS, so a poison message still reaches its dead-letter queue).
 * The embedded process is its queues' only consumer, so at start-up nobody can be holding a message, and
 * waiting out the timeout (minutes) would only stall the fan-out a restart should resume. A hiding that was
 * chosen, not just taken (a delayed send, or ChangeMessageVisibility: a handler's back-off, a job not due
 * yet) keeps its time, so each stored message records what set its visibility. releasedAtOpen() counts the
 * messages freed.
 *
 * Push: each queue has one timer, set for the next message due to become visible; listeners are told the
 * moment a message becomes visible (send, timer, ChangeMessageVisibility to 0), so consumers never poll.
 *
 * Deliberate differences from SQS, each for the embedded use:
 * - seconds (delay, visibility) may be fractional, so tests and the sandbox can exercise retries in
 *   milliseconds; the ranges are SQS's;
 * - a batch send is all-or-nothing (one disk batch) instead of reporting failed entries one by one;
 * - opening frees the messages the previous process had received (see Recovery), where SQS waits them out;
 * - deleteMessage says what happened (`deleted`, `not-found`, `superseded`) where SQS answers success for all
 *   three, so the event source can warn about a handler that outlived its visibility timeout;
 * - ordering is best effort, as in SQS, but deterministic: oldest-visible first.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { ClassicLevel } from 'classic-level';

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT_ID = '000000000000';
export const queueArn = (queue: string): string => `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${queue}`;

/** SQS's limits, applied as SQS applies them. */
export const SQS_LIMITS = {
  maxBatchEntries: 10,
  maxBodyBytes: 262_144,
  maxDelaySeconds: 900,
  maxVisibilityTimeoutSeconds: 43_200,
  maxReceiveCount: 1000,
} as const;

/** Error names are SQS's, so code that inspects `error.name` behaves the same against either. */
export type QueueErrorCode =
  | 'InvalidParameterValue'
  | 'QueueDoesNotExist'
  | 'EmptyBatchRequest'
  | 'TooManyEntriesInBatchRequest'
  | 'BatchEntryIdsNotDistinct'
  | 'InvalidBatchEntryId'
  | 'BatchRequestTooLong'
  | 'InvalidMessageContents'
  | 'ReceiptHandleIsInvalid'
  | 'MessageNotInflight'
  | 'QueueEngineClosed';

export class QueueError extends Error {
  constructor(
    readonly code: QueueErrorCode,
    message: string,
  ) {
    super(message);
    this.name = code;
  }
}

export interface RedrivePolicy {
  deadLetterQueue: string;
  maxReceiveCount: number;
}

export interface QueueSettings {
  visibilityTimeoutSeconds: number;
  delaySeconds?: number | undefined;
  redrive?: RedrivePolicy | undefined;
}

export interface SendEntry {
  /** Unique within the call; [A-Za-z0-9_-]{1,80} as SQS requires of batch entry ids. */
  id: string;
  body: string;
  delaySeconds?: number | undefined;
}

export interface SendResult {
  id: string;
  messageId: string;
  md5OfBody: string;
}

export interface ReceiveOptions {
  /** 1–10; SQS's default is 1. */
  max?: number | undefined;
  /** Overrides the queue's visibility timeout for this receive. */
  visibilityTimeoutSeconds?: number | undefined;
}

export interface ReceivedAttributes {
  ApproximateReceiveCount: number;
  /** Epoch milliseconds. */
  SentTimestamp: number;
  ApproximateFirstReceiveTimestamp: number;
  SenderId: string;
  /** Set on messages a redrive moved here. */
  DeadLetterQueueSourceArn?: string | undefined;
}

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  md5OfBody: string;
  attributes: ReceivedAttributes;
}

export interface QueueAttributes {
  QueueArn: string;
  VisibilityTimeout: number;
  DelaySeconds: number;
  RedrivePolicy?: RedrivePolicy | undefined;
  ApproximateNumberOfMessages: number;
  ApproximateNumberOfMessagesNotVisible: number;
  ApproximateNumberOfMessagesDelayed: number;
  /** Whole seconds since the oldest message still in the queue was sent (as the CloudWatch metric); 0 when empty. */
  ApproximateAgeOfOldestMessage: number;
}

/** `superseded`: the message was received again since this handle was issued, so it was not deleted. */
export type DeleteOutcome = 'deleted' | 'not-found' | 'superseded';

export interface OpenOptions {
  /** fsync each change (default). Without it a process crash still loses nothing; a power cut may. */
  sync?: boolean | undefined;
  /** The SenderId attribute of every message sent. */
  senderId?: string | undefined;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  sentTimestamp: number;
  /** Send order, which keeps ordering stable across a restart when timestamps tie. */
  sequence: number;
  senderId: string;
  /** Epoch ms: absolute, so it means the same after a restart. */
  visibleAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number | undefined;
  /**
   * What hid it, for recovery: `receive` is freed on open, `change` (ChangeMessageVisibility) is kept. Unset
   * after a send (a delay is kept) and on records older than this field, which keep their time as before.
   */
  hiddenBy?: 'receive' | 'change' | undefined;
  /** Only the latest handle may change visibility or delete. */
  receiptHandle?: string | undefined;
  /** When the latest handle was issued: the 12-hour limit on ChangeMessageVisibility counts from here. */
  receivedAt?: number | undefined;
  deadLetterSourceArn?: string | undefined;
}

interface StoredQueue {
  name: string;
  settings: QueueSettings;
  createdAt: number;
}

type Op = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

interface Due {
  at: number;
  sequence: number;
  id: string;
}

const earlier = (a: Due, b: Due) => a.at < b.at || (a.at === b.at && a.sequence < b.sequence);

/**
 * Min-heap of due times with lazy deletion: an entry is checked against its message when it surfaces, so a
 * change of visibility only pushes a new entry. Ties go by send order.
 */
class DueHeap {
  private readonly items: Due[] = [];

  push(at: number, sequence: number, id: string): void {
    const items = this.items;
    items.push({ at, sequence, id });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(items[i]!, items[parent]!)) break;
      [items[parent], items[i]] = [items[i]!, items[parent]!];
      i = parent;
    }
  }

  peek(): Due | undefined {
    return this.items[0];
  }

  pop(): Due | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && earlier(items[l]!, items[m]!)) m = l;
        if (r < items.length && earlier(items[r]!, items[m]!)) m = r;
        if (m === i) break;
        [items[m], items[i]] = [items[i]!, items[m]!];
        i = m;
      }
    }
    return top;
  }
}

interface QueueState {
  name: string;
  settings: QueueSettings;
  messages: Map<string, StoredMessage>;
  /** Visible messages in the order they became visible (Map keeps insertion order). */
  ready: Map<string, StoredMessage>;
  waiting: DueHeap;
  timer?: NodeJS.Timeout | undefined;
  timerAt?: number | undefined;
  listeners: Set<() => void>;
}

const QUEUE_PREFIX = 'q!';
const MESSAGE_PREFIX = 'm!';
// '!' cannot appear in a queue name, so one queue's key range never contains another's.
const queueKey = (name: string) => `${QUEUE_PREFIX}${name}`;
const messageKey = (queue: string, id: string) => `${MESSAGE_PREFIX}${queue}!${id}`;

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
// The characters SQS accepts in a body (XML 1.0's Char production); a lone surrogate fails the u-flag match.
const INVALID_BODY_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

export const md5Hex = (text: string): string => createHash('md5').update(text, 'utf8').digest('hex');

function checkSeconds(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > max)
    throw new QueueError(
      'InvalidParameterValue',
      `${what} must be a number of seconds from 0 to ${max}, got ${String(value)}`,
    );
  return value;
}

function checkQueueName(name: unknown): string {
  if (typeof name !== 'string' || !QUEUE_NAME.test(name))
    throw new QueueError(
      'InvalidParameterValue',
      `queue name must be 1 to 80 letters, digits, hyphens or underscores, got ${JSON.stringify(name)}`,
    );
  return name;
}

function encodeHandle(queue: string, messageId: string): string {
  return Buffer.from(`${queue}\n${messageId}\n${randomUUID()}`, 'utf8').toString('base64url');
}

function decodeHandle(queue: string, handle: unknown): { messageId: string } {
  const invalid = () =>
    new QueueError('ReceiptHandleIsInvalid', `the receipt handle is not valid for queue ${queue}`);
  if (typeof handle !== 'string' || handle.length === 0 || handle.length > 1024) throw invalid();
  const parts = Buffer.from(handle, 'base64url').toString('utf8').split('\n');
  if (parts.length !== 3 || parts[0] !== queue || !parts[1]) throw invalid();
  return { messageId: parts[1] };
}

export class EmbeddedQueues {
  private readonly queues = new Map<string, QueueState>();
  private tail: Promise<unknown> = Promise.resolve();
  /** Writes issued by the change now running; it answers once they are on disk, after it has let go of the lock. */
  private issued: Promise<void>[] = [];
  /** Group commit: writes waiting for the next batch, and the batch being written. */
  private pendingOps: Op[] = [];
  private pendingWaiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];
  private flushing: Promise<void> | undefined;
  private failed: unknown;
  private closed = false;
  private closing: Promise<void> | undefined;
  private nextSequence = 0;
  private readonly released = new Map<string, number>();

  private constructor(
    private readonly db: ClassicLevel<string, string>,
    private readonly sync: boolean,
    private readonly senderId: string,
  ) {}

  /** Opens (creating if needed) the queues stored under `directory`. One process at a time: LevelDB locks it. */
  static async open(directory: string, options: OpenOptions = {}): Promise<EmbeddedQueues> {
    await mkdir(directory, { recursive: true });
    const db = new ClassicLevel<string, string>(directory, { keyEncoding: 'utf8', valueEncoding: 'utf8' });
    try {
      await db.open();
    } catch (error) {
      throw new Error(`cannot open the embedded queues in ${directory} (is another process using it?)`, {
        cause: error,
      });
    }
    const engine = new EmbeddedQueues(db, options.sync ?? true, options.senderId ?? LOCAL_ACCOUNT_ID);
    try {
      await engine.load();
    } catch (error) {
      await db.close();
      throw error;
    }
    return engine;
  }

  private async load(): Promise<void> {
    for await (const [, value] of this.db.iterator({ gte: QUEUE_PREFIX, lt: 'q"' })) {
      const stored = JSON.parse(value) as StoredQueue;
      this.queues.set(stored.name, this.newState(stored.name, stored.settings));
    }
    const now = Date.now();
    const visible: { q: QueueState; m: StoredMessage }[] = [];
    for await (const [key, value] of this.db.iterator({ gte: MESSAGE_PREFIX, lt: 'm"' })) {
      const queue = key.slice(MESSAGE_PREFIX.length, key.indexOf('!', MESSAGE_PREFIX.length));
      const q = this.queues.get(queue);
      if (!q) continue;
      let m = JSON.parse(value) as StoredMessage;
      this.nextSequence = Math.max(this.nextSequence, m.sequence + 1);
      if (m.hiddenBy === 'receive' && m.visibleAt > now) {
        // The receiver was the previous process (see Recovery). Not written back: should this process die
        // before receiving it, the next open frees it again by the same rule.
        m = { ...m, visibleAt: now, hiddenBy: undefined };
        this.released.set(queue, (this.released.get(queue) ?? 0) + 1);
      }
      q.messages.set(m.messageId, m);
      if (m.visibleAt <= now) visible.push({ q, m });
      else q.waiting.push(m.visibleAt, m.sequence, m.messageId);
    }
    visible.sort((a, b) => a.m.visibleAt - b.m.visibleAt || a.m.sequence - b.m.sequence);
    for (const { q, m } of visible) q.ready.set(m.messageId, m);
    for (const q of this.queues.values()) this.schedule(q);
  }

  /**
   * Per queue (only those with any), how many messages open() made visible at once because the previous
   * process had received them and died (or closed) before deleting them. For the start-up log.
   */
  releasedAtOpen(): Record<string, number> {
    return Object.fromEntries(this.released);
  }

  /** Refuses new calls, lets those already made finish, stops the timers and closes the database. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.closed = true;
    await this.tail;
    await this.flushing;
    for (const q of this.queues.values()) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = undefined;
      q.listeners.clear();
    }
    await this.db.close();
  }

  /** Creates the queue, or updates its settings when it exists (so a changed configuration applies on restart). */
  async createQueue(name: string, settings: QueueSettings): Promise<void> {
    checkQueueName(name);
    const clean: QueueSettings = {
      visibilityTimeoutSeconds: checkSeconds(
        settings.visibilityTimeoutSeconds,
        SQS_LIMITS.maxVisibilityTimeoutSeconds,
        'VisibilityTimeout',
      ),
      delaySeconds: checkSeconds(settings.delaySeconds ?? 0, SQS_LIMITS.maxDelaySeconds, 'DelaySeconds'),
    };
    if (settings.redrive) {
      const { deadLetterQueue, maxReceiveCount } = settings.redrive;
      checkQueueName(deadLetterQueue);
      if (deadLetterQueue === name)
        throw new QueueError('InvalidParameterValue', `queue ${name} cannot be its own dead-letter queue`);
      if (
        !Number.isInteger(maxReceiveCount) ||
        maxReceiveCount < 1 ||
        maxReceiveCount > SQS_LIMITS.maxReceiveCount
      )
        throw new QueueError(
          'InvalidParameterValue',
          `maxReceiveCount must be a whole number from 1 to ${SQS_LIMITS.maxReceiveCount}, got ${maxReceiveCount}`,
        );
      clean.redrive = { deadLetterQueue, maxReceiveCount };
    }
    await this.exclusive(async () => {
      if (clean.redrive && !this.queues.has(clean.redrive.deadLetterQueue))
        throw new QueueError(
          'QueueDoesNotExist',
          `dead-letter queue ${clean.redrive.deadLetterQueue} does not exist`,
        );
      const stored: StoredQueue = { name, settings: clean, createdAt: Date.now() };
      void this.write([{ type: 'put', key: queueKey(name), value: JSON.stringify(stored) }]);
      const existing = this.queues.get(name);
      if (existing) existing.settings = clean;
      else this.queues.set(name, this.newState(name, clean));
    });
  }

  queueNames(): string[] {
    return [...this.queues.keys()].sort();
  }

  hasQueue(name: string): boolean {
    return this.queues.has(name);
  }

  settings(queue: string): QueueSettings {
    return structuredClone(this.state(queue).settings);
  }

  /** Sends up to 10 messages atomically: all are stored, or none (and the call throws). */
  async send(queue: string, entries: readonly SendEntry[]): Promise<SendResult[]> {
    const q = this.state(queue);
    if (!Array.isArray(entries) || entries.length === 0)
      throw new QueueError('EmptyBatchRequest', 'a batch must contain at least one entry');
    if (entries.length > SQS_LIMITS.maxBatchEntries)
      throw new QueueError(
        'TooManyEntriesInBatchRequest',
        `a batch may contain at most ${SQS_LIMITS.maxBatchEntries} entries, got ${entries.length}`,
      );
    const ids = new Set<string>();
    let total = 0;
    for (const entry of entries) {
      if (typeof entry.id !== 'string' || !BATCH_ENTRY_ID.test(entry.id))
        throw new QueueError(
          'InvalidBatchEntryId',
          `batch entry ids are 1 to 80 letters, digits, hyphens or underscores, got ${JSON.stringify(entry.id)}`,
        );
      if (ids.has(entry.id))
        throw new QueueError('BatchEntryIdsNotDistinct', `batch entry id ${entry.id} is repeated`);
      ids.add(entry.id);
      if (typeof entry.body !== 'string' || entry.body.length === 0)
        throw new QueueError(
          'InvalidParameterValue',
          `entry ${entry.id}: the message body must not be empty`,
        );
      if (INVALID_BODY_CHAR.test(entry.body))
        throw new QueueError(
          'InvalidMessageContents',
          `entry ${entry.id}: the body contains characters SQS does not accept`,
        );
      const bytes = Buffer.byteLength(entry.body, 'utf8');
      if (bytes > SQS_LIMITS.maxBodyBytes)
        throw new QueueError(
          'InvalidParameterValue',
          `entry ${entry.id}: message must be at most ${SQS_LIMITS.maxBodyBytes} bytes, got ${bytes}`,
        );
      total += bytes;
      if (entry.delaySeconds !== undefined)
        checkSeconds(entry.delaySeconds, SQS_LIMITS.maxDelaySeconds, `entry ${entry.id}: DelaySeconds`);
    }
    if (total > SQS_LIMITS.maxBodyBytes)
      throw new QueueError(
        'BatchRequestTooLong',
        `the batch's messages add up to ${total} bytes; at most ${SQS_LIMITS.maxBodyBytes} are allowed`,
      );

    return this.exclusive(async () => {
      const now = Date.now();
      const records = entries.map((entry): StoredMessage => {
        const delay = entry.delaySeconds ?? q.settings.delaySeconds ?? 0;
        return {
          messageId: randomUUID(),
          body: entry.body,
          md5OfBody: md5Hex(entry.body),
          sentTimestamp: now,
          sequence: this.nextSequence++,
          senderId: this.senderId,
          visibleAt: now + Math.round(delay * 1000),
          receiveCount: 0,
        };
      });
      void this.write(
        records.map((m) => ({ type: 'put', key: messageKey(queue, m.messageId), value: JSON.stringify(m) })),
      );
      for (const m of records) {
        q.messages.set(m.messageId, m);
        this.place(q, m, now);
      }
      this.settle(q, now);
      return records.map((m, i) => ({ id: entries[i]!.id, messageId: m.messageId, md5OfBody: m.md5OfBody }));
    });
  }

  /**
   * Receives up to `max` visible messages, each with a new receipt handle and its receive count raised.
   * A message that would exceed the redrive policy's maxReceiveCount is moved to the dead-letter queue
   * instead, and the receive goes on to the next one.
   */
  async receive(queue: string, options: ReceiveOptions = {}): Promise<ReceivedMessage[]> {
    const q = this.state(queue);
    const max = options.max ?? 1;
    if (!Number.isInteger(max) || max < 1 || max > SQS_LIMITS.maxBatchEntries)
      throw new QueueError(
        'InvalidParameterValue',
        `MaxNumberOfMessages must be a whole number from 1 to ${SQS_LIMITS.maxBatchEntries}, got ${max}`,
      );
    const visibility =
      options.visibilityTimeoutSeconds === undefined
        ? undefined
        : checkSeconds(
            options.visibilityTimeoutSeconds,
            SQS_LIMITS.maxVisibilityTimeoutSeconds,
            'VisibilityTimeout',
          );

    return this.exclusive(async () => {
      const now = Date.now();
      this.promote(q, now);
      const timeoutMs = Math.round((visibility ?? q.settings.visibilityTimeoutSeconds) * 1000);
      const redrive = q.settings.redrive;
      const dlq = redrive ? this.queues.get(redrive.deadLetterQueue) : undefined;
      const taken: StoredMessage[] = [];
      const moved: StoredMessage[] = [];
      for (const m of q.ready.values()) {
        if (taken.length >= max) break;
        if (redrive && dlq && m.receiveCount + 1 > redrive.maxReceiveCount) {
          moved.push(m);
          continue;
        }
        taken.push({
          ...m,
          receiveCount: m.receiveCount + 1,
          firstReceiveTimestamp: m.firstReceiveTimestamp ?? now,
          receiptHandle: encodeHandle(queue, m.messageId),
          receivedAt: now,
          visibleAt: now + timeoutMs,
          hiddenBy: 'receive',
        });
      }
      // The receive count travels with the message, so the dead letter shows how often it was tried.
      const deadLetters = moved.map(
        (m): StoredMessage => ({
          ...m,
          visibleAt: now,
          receiptHandle: undefined,
          receivedAt: undefined,
          hiddenBy: undefined,
          deadLetterSourceArn: queueArn(queue),
        }),
      );
      if (taken.length === 0 && moved.length === 0) return [];
      void this.write([
        ...taken.map(
          (m): Op => ({ type: 'put', key: messageKey(queue, m.messageId), value: JSON.stringify(m) }),
        ),
        ...moved.map((m): Op => ({ type: 'del', key: messageKey(queue, m.messageId) })),
        ...deadLetters.map(
          (m): Op => ({ type: 'put', key: messageKey(dlq!.name, m.messageId), value: JSON.stringify(m) }),
        ),
      ]);
      for (const m of moved) {
        q.messages.delete(m.messageId);
        q.ready.delete(m.messageId);
      }
      for (const m of taken) {
        q.messages.set(m.messageId, m);
        this.place(q, m, now);
      }
      if (dlq && deadLetters.length > 0) {
        for (const m of deadLetters) {
          dlq.messages.set(m.messageId, m);
          this.place(dlq, m, now);
        }
        this.settle(dlq, now);
      }
      this.settle(q, now);
      return taken.map((m) => ({
        messageId: m.messageId,
        receiptHandle: m.receiptHandle!,
        body: m.body,
        md5OfBody: m.md5OfBody,
        attributes: {
          ApproximateReceiveCount: m.receiveCount,
          SentTimestamp: m.sentTimestamp,
          ApproximateFirstReceiveTimestamp: m.firstReceiveTimestamp!,
          SenderId: m.senderId,
          ...(m.deadLetterSourceArn ? { DeadLetterQueueSourceArn: m.deadLetterSourceArn } : {}),
        },
      }));
    });
  }

  /** Deletes by receipt handle. A handle replaced by a later receive deletes nothing (SQS says the same). */
  async deleteMessage(queue: string, receiptHandle: string): Promise<DeleteOutcome> {
    const [outcome] = await this.deleteMessages(queue, [receiptHandle]);
    return outcome!;
  }

  /** Deletes several in one disk write; answers per handle, in order. */
  async deleteMessages(queue: string, receiptHandles: readonly string[]): Promise<DeleteOutcome[]> {
    const q = this.state(queue);
    const decoded = receiptHandles.map((h) => decodeHandle(queue, h).messageId);
    return this.exclusive(async () => {
      const outcomes: DeleteOutcome[] = [];
      const doomed = new Set<string>();
      decoded.forEach((messageId, i) => {
        const m = q.messages.get(messageId);
        if (!m || doomed.has(messageId)) outcomes.push('not-found');
        else if (m.receiptHandle !== receiptHandles[i]) outcomes.push('superseded');
        else {
          doomed.add(messageId);
          outcomes.push('deleted');
        }
      });
      if (doomed.size > 0) {
        void this.write([...doomed].map((id) => ({ type: 'del', key: messageKey(queue, id) })));
        for (const id of doomed) {
          q.messages.delete(id);
          q.ready.delete(id);
        }
        this.schedule(q);
      }
      return outcomes;
    });
  }

  /**
   * Sets a received message's visibility timeout to `seconds` from now (0 makes it visible at once). The
   * handle must be the latest one and the message still in flight; the total may not pass 12 hours from
   * that receive.
   */
  async changeVisibility(queue: string, receiptHandle: string, seconds: number): Promise<void> {
    const q = this.state(queue);
    checkSeconds(seconds, SQS_LIMITS.maxVisibilityTimeoutSeconds, 'VisibilityTimeout');
    const { messageId } = decodeHandle(queue, receiptHandle);
    await this.exclusive(async () => {
      const now = Date.now();
      const m = q.messages.get(messageId);
      if (!m || m.receiptHandle !== receiptHandle)
        throw new QueueError(
          'ReceiptHandleIsInvalid',
          `the receipt handle has expired: message ${messageId} was deleted or received again`,
        );
      if (m.visibleAt <= now)
        throw new QueueError(
          'MessageNotInflight',
          `message ${messageId} is not in flight: its visibility timeout ended`,
        );
      const visibleAt = now + Math.round(seconds * 1000);
      if (visibleAt - (m.receivedAt ?? now) > SQS_LIMITS.maxVisibilityTimeoutSeconds * 1000)
        throw new QueueError(
          'InvalidParameterValue',
          `a message may stay invisible at most ${SQS_LIMITS.maxVisibilityTimeoutSeconds} seconds from when it was received`,
        );
      const updated: StoredMessage = { ...m, visibleAt, hiddenBy: 'change' };
      void this.write([{ type: 'put', key: messageKey(queue, messageId), value: JSON.stringify(updated) }]);
      q.messages.set(messageId, updated);
      this.place(q, updated, now);
      this.settle(q, now);
    });
  }

  async attributes(queue: string): Promise<QueueAttributes> {
    const q = this.state(queue);
    const now = Date.now();
    this.promote(q, now);
    let notVisible = 0;
    let delayed = 0;
    let oldest = Number.POSITIVE_INFINITY;
    for (const m of q.messages.values()) {
      if (m.sentTimestamp < oldest) oldest = m.sentTimestamp;
      if (m.visibleAt > now) {
        if (m.receiveCount > 0) notVisible++;
        else delayed++;
      }
    }
    return {
      QueueArn: queueArn(queue),
      VisibilityTimeout: q.settings.visibilityTimeoutSeconds,
      DelaySeconds: q.settings.delaySeconds ?? 0,
      ...(q.settings.redrive ? { RedrivePolicy: { ...q.settings.redrive } } : {}),
      ApproximateNumberOfMessages: q.messages.size - notVisible - delayed,
      ApproximateNumberOfMessagesNotVisible: notVisible,
      ApproximateNumberOfMessagesDelayed: delayed,
      ApproximateAgeOfOldestMessage: Number.isFinite(oldest)
        ? Math.max(0, Math.floor((now - oldest) / 1000))
        : 0,
    };
  }

  /** How many messages a receive would find now; cheap and synchronous, for consumers deciding whether to pull. */
  visibleCount(queue: string): number {
    const q = this.state(queue);
    this.promote(q, Date.now());
    return q.ready.size;
  }

  /**
   * Calls `listener` whenever messages become visible in `queue` (after the change is on disk). Listeners
   * should pull with receive; a wake-up is a hint, not a claim. Returns the unsubscribe function.
   */
  onVisible(queue: string, listener: () => void): () => void {
    const q = this.state(queue);
    q.listeners.add(listener);
    return () => {
      q.listeners.delete(listener);
    };
  }

  // ------------------------------------------------------------ internals

  private newState(name: string, settings: QueueSettings): QueueState {
    return {
      name,
      settings,
      messages: new Map(),
      ready: new Map(),
      waiting: new DueHeap(),
      listeners: new Set(),
    };
  }

  private state(queue: string): QueueState {
    if (this.closed) throw new QueueError('QueueEngineClosed', 'the embedded queues are closed');
    const q = this.queues.get(queue);
    if (!q) throw new QueueError('QueueDoesNotExist', `queue ${queue} does not exist`);
    return q;
  }

  /**
   * One change at a time: each reads the index, issues its disk writes, then updates the index, and no other
   * change may read in between (else two receives could take the same message). Writes go to disk in the order
   * they were issued, several changes' writes in one synced batch (group commit); a change's caller is answered
   * only once its writes are on disk, but the next change need not wait for that, so concurrent senders,
   * receivers and deleters share one fsync instead of queueing behind one each.
   */
  private exclusive<T>(change: () => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(new QueueError('QueueEngineClosed', 'the embedded queues are closed'));
    if (this.failed !== undefined)
      return Promise.reject(
        new QueueError('QueueEngineClosed', 'the embedded queues stopped after a failed write'),
      );
    const run = this.tail.then(async () => {
      this.issued = [];
      const result = await change();
      return { result, durable: Promise.all(this.issued) };
    });
    this.tail = run.catch(() => undefined);
    return run.then(async ({ result, durable }) => {
      await durable;
      return result;
    });
  }

  /** Issues a write (not awaited inside a change: see exclusive). */
  private write(ops: Op[]): Promise<void> {
    const durable = new Promise<void>((resolve, reject) => {
      this.pendingOps.push(...ops);
      this.pendingWaiters.push({ resolve, reject });
    });
    this.issued.push(durable);
    this.flushing ??= this.flush();
    return durable;
  }

  private async flush(): Promise<void> {
    // Let the changes already queued behind this one issue their writes first: they join this batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.pendingOps.length > 0) {
      const ops = this.pendingOps;
      const waiters = this.pendingWaiters;
      this.pendingOps = [];
      this.pendingWaiters = [];
      try {
        await this.db.batch(ops, { sync: this.sync });
        for (const w of waiters) w.resolve();
      } catch (error) {
        // The index is ahead of the disk now; refuse further changes. A restart reloads from disk.
        this.failed = error;
        for (const w of [...waiters, ...this.pendingWaiters]) w.reject(error);
        this.pendingOps = [];
        this.pendingWaiters = [];
      }
    }
    this.flushing = undefined;
  }

  /** Files a message under ready or waiting by its visibility time. */
  private place(q: QueueState, m: StoredMessage, now: number): void {
    if (m.visibleAt <= now) q.ready.set(m.messageId, m);
    else {
      q.ready.delete(m.messageId);
      q.waiting.push(m.visibleAt, m.sequence, m.messageId);
    }
  }

  /** Moves messages whose time has come from waiting to ready; answers how many. */
  private promote(q: QueueState, now: number): number {
    let promoted = 0;
    for (let top = q.waiting.peek(); top && top.at <= now; top = q.waiting.peek()) {
      q.waiting.pop();
      const m = q.messages.get(top.id);
      if (m && m.visibleAt === top.at && !q.ready.has(m.messageId)) {
        q.ready.set(m.messageId, m);
        promoted++;
      }
    }
    return promoted;
  }

  /** After a change: wake listeners if anything is visible, and aim the timer at the next due message. */
  private settle(q: QueueState, now: number): void {
    this.promote(q, now);
    this.schedule(q);
    if (q.ready.size > 0 && !this.closed) this.notify(q);
  }

  private notify(q: QueueState): void {
    for (const listener of [...q.listeners]) {
      try {
        listener();
      } catch (error) {
        console.error(`a listener of queue ${q.name} threw`, error);
      }
    }
  }

  private schedule(q: QueueState): void {
    if (this.closed) return;
    let top = q.waiting.peek();
    while (top) {
      const m = q.messages.get(top.id);
      if (m && m.visibleAt === top.at && !q.ready.has(m.messageId)) break;
      q.waiting.pop();
      top = q.waiting.peek();
    }
    if (!top) {
      if (q.timer) clearTimeout(q.timer);
      q.timer = undefined;
      q.timerAt = undefined;
      return;
    }
    if (q.timer && q.timerAt === top.at) return;
    if (q.timer) clearTimeout(q.timer);
    const at = top.at;
    q.timerAt = at;
    // Timers may fire a millisecond early against Date.now(); firing finds nothing due and re-arms.
    q.timer = setTimeout(
      () => {
        q.timer = undefined;
        q.timerAt = undefined;
        if (this.closed) return;
        const now = Date.now();
        const promoted = this.promote(q, now);
        this.schedule(q);
        if (promoted > 0) this.notify(q);
      },
      Math.max(0, at - Date.now()),
    );
    // The queues never keep a process alive on their own: whoever serves requests does.
    q.timer.unref();
  }
}
