/**
 * Fakes for the ports a test needs to steer: a queue that records (or fails), a clock that moves only when
 * told, a provider whose every answer is scripted, and a logger that keeps what it was told.
 */
import { monotonicFactory } from 'ulid';
import {
  type ChannelProvider,
  type Clock,
  type OutboundMessage,
  type OutgoingMessage,
  type ProviderAccepted,
  ProviderError,
  type QueueName,
  type QueuePort,
} from '../../functions/ports';
import { type HeraldConfig, loadConfig } from '../../functions/shared/config';
import type { LoggerLike } from '../../functions/shared/logger';
import type { Channel } from '../../schemas/alert';

export class RecordingQueue implements QueuePort {
  readonly sent: { queue: QueueName; messages: OutgoingMessage[] }[] = [];
  readonly visibility: { queue: QueueName; receiptHandle: string; seconds: number }[] = [];

  async send(queue: QueueName, messages: OutgoingMessage[]): Promise<void> {
    this.sent.push({ queue, messages: structuredClone(messages) });
  }

  async changeVisibility(queue: QueueName, receiptHandle: string, seconds: number): Promise<void> {
    this.visibility.push({ queue, receiptHandle, seconds });
  }

  /** The bodies sent to one queue, parsed. */
  bodies<T = Record<string, unknown>>(queue: QueueName): T[] {
    return this.sent
      .filter((s) => s.queue === queue)
      .flatMap((s) => s.messages.map((m) => JSON.parse(m.body) as T));
  }
}

/** A queue that is down: every send throws, as SqsQueuePort does when SQS cannot be reached. */
export class UnreachableQueue extends RecordingQueue {
  attempts = 0;
  override async send(): Promise<void> {
    this.attempts++;
    throw new Error('connect ETIMEDOUT sqs.eu-west-1.amazonaws.com:443');
  }
}

export class ManualClock implements Clock {
  private current: Date;
  constructor(iso: string) {
    this.current = new Date(iso);
  }
  now(): Date {
    return new Date(this.current);
  }
  set(iso: string): void {
    this.current = new Date(iso);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export class RecordingLogger implements LoggerLike {
  readonly lines: { level: string; message: string; extra: Record<string, unknown>[] }[] = [];
  debug(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'debug', message, extra });
  }
  info(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'info', message, extra });
  }
  warn(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'warn', message, extra });
  }
  error(message: string, ...extra: Record<string, unknown>[]) {
    this.lines.push({ level: 'error', message, extra });
  }
  at(level: string) {
    return this.lines.filter((l) => l.level === level);
  }
}

/** What a scripted provider does on one call. */
export type Step =
  | { ok: string }
  | { retryable: string; retryAfterMs?: number }
  | { permanent: string }
  | { throws: Error }
  /** Never answers. `honoursSignal`: rejects with the abort reason when the signal fires, as fetch does. */
  | { hang: true; honoursSignal: boolean };

export class ScriptedProvider implements ChannelProvider {
  readonly calls: { message: OutboundMessage; signal: AbortSignal }[] = [];
  readonly lookups: string[] = [];
  private readonly steps: Step[] = [];
  /** Present only when the test gives the provider a way to find earlier posts. */
  lookup?: (key: string) => Promise<ProviderAccepted | undefined>;

  constructor(
    readonly channel: Channel,
    readonly mode: 'real' | 'sandbox' = 'real',
    options: { posted?: Map<string, string> } = {},
  ) {
    const posted = options.posted;
    if (posted)
      this.lookup = async (key) => {
        this.lookups.push(key);
        const id = posted.get(key);
        return id ? { providerMessageId: id } : undefined;
      };
  }

  script(...steps: Step[]): this {
    this.steps.push(...steps);
    return this;
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted> {
    this.calls.push({ message: structuredClone(message), signal });
    const step = this.steps.shift();
    if (!step)
      throw new Error(`the ${this.mode} ${this.channel} provider was called more often than scripted`);
    if ('ok' in step) return { providerMessageId: step.ok };
    if ('retryable' in step) throw new ProviderError('retryable', step.retryable, step.retryAfterMs);
    if ('permanent' in step) throw new ProviderError('permanent', step.permanent);
    if ('throws' in step) throw step.throws;
    return new Promise<ProviderAccepted>((_resolve, reject) => {
      if (step.honoursSignal) signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

/** The configuration a fresh deployment would load, with the test's changes. */
export function testConfig(overrides: Partial<HeraldConfig> = {}): HeraldConfig {
  return { ...loadConfig({}), ...overrides };
}

/** Alert ids as Herald makes them (ULIDs), increasing so that newer sorts later. */
export const newUlid = monotonicFactory();
