/**
 * Lambda's SQS event source mapping, in-process: takes batches from an embedded queue as messages become
 * visible (the engine wakes it; nothing polls), invokes the handler with the event and context Lambda
 * would build, and settles the batch by Lambda's rules with ReportBatchItemFailures on:
 * - resolved with no failures → every message is deleted;
 * - resolved with batchItemFailures → the others are deleted, the failed ones stay and come back when their
 *   visibility timeout ends (or whenever the handler set it with ChangeMessageVisibility);
 * - an itemIdentifier that is missing, empty or not in the batch, or a response that is not an object →
 *   the whole batch counts as failed;
 * - a thrown error or a handler past its timeout → the whole batch stays.
 * Failure never deletes, so the fail-safe reading of a doubtful response is always "failed".
 *
 * A handler past its timeout cannot be killed in-process as Lambda kills its sandbox: its batch is settled
 * as failed and it is left to finish on its own, its late result ignored.
 */
import type { Callback, Context, SQSBatchResponse, SQSEvent, SQSHandler, SQSRecord } from 'aws-lambda';
import { type EmbeddedQueues, LOCAL_REGION, QueueError, queueArn, type ReceivedMessage } from './engine';
import { createLambdaContext, newLogStreamName } from './lambda-context';

export interface EventSourceLog {
  warn(message: string, details: Record<string, unknown>): void;
  error(message: string, details: Record<string, unknown>): void;
}

const consoleLog: EventSourceLog = {
  warn: (message, details) => console.warn(message, details),
  error: (message, details) => console.error(message, details),
};

export interface EventSourceOptions {
  queues: EmbeddedQueues;
  queue: string;
  functionName: string;
  /** Any Lambda handler for SQS: async (event, context), callback style, or a middy-wrapped one. */
  handler: SQSHandler;
  /** 1–10 (Lambda allows more only with a batching window, which this does not emulate). */
  batchSize?: number | undefined;
  /** Concurrent invocations at most (Lambda's MaximumConcurrency). */
  maxConcurrency?: number | undefined;
  /** The function's timeout; Lambda requires the queue's visibility timeout to be at least this. */
  timeoutMs: number;
  /** On by default, as Herald's stack configures it; off, a resolved invocation deletes the whole batch. */
  reportBatchItemFailures?: boolean | undefined;
  memoryLimitInMB?: number | undefined;
  log?: EventSourceLog | undefined;
}

export interface EventSourceStats {
  invocations: number;
  /** Invocations whose every message was deleted. */
  succeeded: number;
  /** Invocations that reported some (valid) batch item failures. */
  partiallyFailed: number;
  /** Whole batch kept: thrown error, timeout, or an invalid batch response. */
  failed: number;
  timedOut: number;
  /** Deletes refused because the message had been received again: the handler outlived its visibility timeout. */
  supersededDeletes: number;
}

export interface EventSourceMapping {
  readonly queue: string;
  readonly functionName: string;
  readonly stats: Readonly<EventSourceStats>;
  /** Invocations running now. */
  readonly inFlight: number;
  /** Takes no new batches and resolves when the invocations under way have been settled. */
  stop(): Promise<void>;
}

type Outcome =
  | { kind: 'resolved'; response: unknown }
  | { kind: 'threw'; error: unknown }
  | { kind: 'timeout' };

const LAMBDA_MAX_TIMEOUT_MS = 900_000;

function invalid(message: string): QueueError {
  return new QueueError('InvalidParameterValue', message);
}

export function toSqsRecord(queue: string, message: ReceivedMessage): SQSRecord {
  const a = message.attributes;
  return {
    messageId: message.messageId,
    receiptHandle: message.receiptHandle,
    body: message.body,
    // Lambda passes attributes as strings, in this order.
    attributes: {
      ApproximateReceiveCount: String(a.ApproximateReceiveCount),
      SentTimestamp: String(a.SentTimestamp),
      SenderId: a.SenderId,
      ApproximateFirstReceiveTimestamp: String(a.ApproximateFirstReceiveTimestamp),
      ...(a.DeadLetterQueueSourceArn ? { DeadLetterQueueSourceArn: a.DeadLetterQueueSourceArn } : {}),
    },
    messageAttributes: {},
    md5OfBody: message.md5OfBody,
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn(queue),
    awsRegion: LOCAL_REGION,
  };
}

/** The message ids a resolved response marks as failed, or `all` when Lambda would fail the whole batch. */
export function failedItems(response: unknown, batch: ReadonlySet<string>): Set<string> | 'all' {
  if (response === undefined || response === null) return new Set();
  if (typeof response !== 'object' || Array.isArray(response)) return 'all';
  const list = (response as Partial<SQSBatchResponse>).batchItemFailures as unknown;
  if (list === undefined || list === null) return new Set();
  if (!Array.isArray(list)) return 'all';
  const failed = new Set<string>();
  for (const item of list) {
    const id =
      typeof item === 'object' && item !== null
        ? (item as { itemIdentifier?: unknown }).itemIdentifier
        : undefined;
    if (typeof id !== 'string' || !batch.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

const isThenable = (value: unknown): value is PromiseLike<unknown> =>
  (typeof value === 'object' || typeof value === 'function') &&
  value !== null &&
  typeof (value as { then?: unknown }).then === 'function';

class Mapping implements EventSourceMapping {
  readonly queue: string;
  readonly functionName: string;
  readonly stats: EventSourceStats = {
    invocations: 0,
    succeeded: 0,
    partiallyFailed: 0,
    failed: 0,
    timedOut: 0,
    supersededDeletes: 0,
  };
  private readonly queues: EmbeddedQueues;
  private readonly handler: SQSHandler;
  private readonly batchSize: number;
  private readonly maxConcurrency: number;
  private readonly timeoutMs: number;
  private readonly reportBatchItemFailures: boolean;
  private readonly memoryLimitInMB: number | undefined;
  private readonly log: EventSourceLog;
  private readonly workers = new Set<Promise<boolean>>();
  private readonly unsubscribe: () => void;
  private receiving = 0;
  private invoking = 0;
  private stopped = false;

  constructor(options: EventSourceOptions) {
    this.queues = options.queues;
    this.queue = options.queue;
    this.functionName = options.functionName;
    this.handler = options.handler;
    this.batchSize = options.batchSize ?? 10;
    this.maxConcurrency = options.maxConcurrency ?? 2;
    this.timeoutMs = options.timeoutMs;
    this.reportBatchItemFailures = options.reportBatchItemFailures ?? true;
    this.memoryLimitInMB = options.memoryLimitInMB;
    this.log = options.log ?? consoleLog;

    if (!/^[A-Za-z0-9_-]{1,64}$/.test(this.functionName))
      throw invalid(
        `function name must be 1 to 64 letters, digits, hyphens or underscores, got "${this.functionName}"`,
      );
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > 10)
      throw invalid(`batchSize must be a whole number from 1 to 10, got ${this.batchSize}`);
    if (!Number.isInteger(this.maxConcurrency) || this.maxConcurrency < 1 || this.maxConcurrency > 1000)
      throw invalid(`maxConcurrency must be a whole number from 1 to 1000, got ${this.maxConcurrency}`);
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0 || this.timeoutMs > LAMBDA_MAX_TIMEOUT_MS)
      throw invalid(`timeoutMs must be above 0 and at most ${LAMBDA_MAX_TIMEOUT_MS}, got ${this.timeoutMs}`);
    // Lambda refuses this mapping: a batch could reappear while the first invocation still works on it.
    const visibility = this.queues.settings(this.queue).visibilityTimeoutSeconds;
    if (visibility * 1000 < this.timeoutMs)
      throw invalid(
        `queue ${this.queue}'s visibility timeout (${visibility} s) is less than the function timeout (${this.timeoutMs / 1000} s)`,
      );

    this.unsubscribe = this.queues.onVisible(this.queue, () => this.wake());
    this.wake();
  }

  get inFlight(): number {
    return this.invoking;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe();
    while (this.workers.size > 0) await Promise.all([...this.workers]);
  }

  /** Starts workers for what is visible, counting batches already being received so one message wakes one. */
  private wake(): void {
    if (this.stopped) return;
    let visible: number;
    try {
      visible = this.queues.visibleCount(this.queue);
    } catch {
      return;
    }
    let wanted = Math.ceil(visible / this.batchSize) - this.receiving;
    while (wanted > 0 && this.workers.size < this.maxConcurrency) {
      const worker: Promise<boolean> = this.work().then((healthy) => {
        this.workers.delete(worker);
        // A worker that stopped on an engine error does not restart itself; the next wake-up tries again.
        if (healthy) this.wake();
        return healthy;
      });
      this.workers.add(worker);
      wanted--;
    }
  }

  /** One concurrency slot: receive, invoke, settle, until the queue has nothing visible. */
  private async work(): Promise<boolean> {
    const logStreamName = newLogStreamName();
    while (!this.stopped) {
      let batch: ReceivedMessage[];
      this.receiving++;
      try {
        batch = await this.queues.receive(this.queue, { max: this.batchSize });
      } catch (error) {
        this.log.error('event source could not receive', {
          queue: this.queue,
          functionName: this.functionName,
          error,
        });
        return false;
      } finally {
        this.receiving--;
      }
      if (batch.length === 0) return true;
      this.invoking++;
      try {
        await this.invoke(batch, logStreamName);
      } catch (error) {
        this.log.error('event source could not settle a batch', {
          queue: this.queue,
          functionName: this.functionName,
          error,
        });
        return false;
      } finally {
        this.invoking--;
      }
    }
    return true;
  }

  private async invoke(batch: ReceivedMessage[], logStreamName: string): Promise<void> {
    const event: SQSEvent = { Records: batch.map((m) => toSqsRecord(this.queue, m)) };
    this.stats.invocations++;
    const outcome = await this.call(event, logStreamName);
    const where = {
      queue: this.queue,
      functionName: this.functionName,
      messageIds: batch.map((m) => m.messageId),
    };

    let failed: Set<string> | 'all';
    if (outcome.kind === 'timeout') {
      this.stats.timedOut++;
      this.log.warn(`Task timed out after ${(this.timeoutMs / 1000).toFixed(2)} seconds`, where);
      failed = 'all';
    } else if (outcome.kind === 'threw') {
      this.log.warn('handler failed; the batch returns after its visibility timeout', {
        ...where,
        error: outcome.error,
      });
      failed = 'all';
    } else if (!this.reportBatchItemFailures) {
      failed = new Set();
    } else {
      failed = failedItems(outcome.response, new Set(batch.map((m) => m.messageId)));
      if (failed === 'all')
        this.log.warn('invalid batch item failures: the whole batch counts as failed', {
          ...where,
          response: outcome.response,
        });
    }

    if (failed === 'all') {
      this.stats.failed++;
      return;
    }
    const done = batch.filter((m) => !failed.has(m.messageId));
    const outcomes =
      done.length > 0
        ? await this.queues.deleteMessages(
            this.queue,
            done.map((m) => m.receiptHandle),
          )
        : [];
    outcomes.forEach((result, i) => {
      if (result !== 'superseded') return;
      this.stats.supersededDeletes++;
      this.log.warn(
        'message was received again before its batch finished; it was not deleted and will be redelivered',
        {
          queue: this.queue,
          functionName: this.functionName,
          messageId: done[i]!.messageId,
        },
      );
    });
    // Counted once settled, so whoever watches the stats sees the deletes already done.
    if (failed.size > 0) this.stats.partiallyFailed++;
    else this.stats.succeeded++;
  }

  /** Runs the handler as the Node.js runtime would: a returned promise, else the callback, settles it. */
  private call(event: SQSEvent, logStreamName: string): Promise<Outcome> {
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const finish = (outcome: Outcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(outcome);
      };
      const callback: Callback<unknown> = (error, result) =>
        finish(
          error !== undefined && error !== null
            ? { kind: 'threw', error }
            : { kind: 'resolved', response: result },
        );
      const context: Context = createLambdaContext({
        functionName: this.functionName,
        timeoutMs: this.timeoutMs,
        memoryLimitInMB: this.memoryLimitInMB,
        logStreamName,
        onLegacyResult: (error, result) =>
          finish(
            error !== undefined && error !== null
              ? { kind: 'threw', error }
              : { kind: 'resolved', response: result },
          ),
      });
      const timer = setTimeout(() => finish({ kind: 'timeout' }), this.timeoutMs);
      try {
        const returned: unknown = this.handler(event, context, callback);
        if (isThenable(returned))
          returned.then(
            (response) => finish({ kind: 'resolved', response }),
            (error: unknown) => finish({ kind: 'threw', error }),
          );
      } catch (error) {
        finish({ kind: 'threw', error });
      }
    });
  }
}

/** Starts delivering the queue's messages to the handler; stop() before closing the queues. */
export function startEventSource(options: EventSourceOptions): EventSourceMapping {
  return new Mapping(options);
}
