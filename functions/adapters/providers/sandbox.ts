/**
 * The sandbox provider: records what would have been posted in the outbox instead of reaching the public,
 * and can be told to fail (to show retries). Every channel without credentials uses it, and Test and
 * Exercise alerts always do. It does not deduplicate: a double post shows in the outbox, as it would in public.
 */
import type { Channel } from '../../../schemas/alert';
import {
  type ChannelProvider,
  type Clock,
  type OutboundMessage,
  type OutboxStore,
  type ProviderAccepted,
  ProviderError,
} from '../../ports';
import { maskRecipient } from '../../shared/mask';

export type FaultStatus = 429 | 500 | 400;
export interface Fault {
  status: FaultStatus;
  times: number;
}

/** Faults to inject, per channel: the next `times` calls fail with `status`. */
export interface FaultInjector {
  take(channel: Channel): FaultStatus | undefined;
}

export class InMemoryFaults implements FaultInjector {
  private readonly faults = new Map<Channel, Fault>();

  set(channel: Channel, fault: Fault): void {
    if (fault.times <= 0) this.faults.delete(channel);
    else this.faults.set(channel, { ...fault });
  }

  take(channel: Channel): FaultStatus | undefined {
    const fault = this.faults.get(channel);
    if (!fault) return undefined;
    fault.times -= 1;
    if (fault.times <= 0) this.faults.delete(channel);
    return fault.status;
  }

  snapshot(): Partial<Record<Channel, Fault>> {
    return Object.fromEntries([...this.faults].map(([c, f]) => [c, { ...f }]));
  }
}

export const NO_FAULTS: FaultInjector = { take: () => undefined };

/** The retry-after a sandbox 429 announces: short, so a demo shows a retry without a long wait. */
export const SANDBOX_RETRY_AFTER_MS = 1000;

export interface SandboxOptions {
  channel: Channel;
  outbox: OutboxStore;
  clock: Clock;
  newId: () => string;
  faults?: FaultInjector;
  /** Simulated provider latency, for demos and crash tests. */
  delayMs?: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });

export class SandboxProvider implements ChannelProvider {
  readonly mode = 'sandbox' as const;
  readonly channel: Channel;

  constructor(private readonly options: SandboxOptions) {
    this.channel = options.channel;
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted> {
    const { outbox, clock, newId, faults = NO_FAULTS, delayMs = 0 } = this.options;
    if (delayMs > 0) await sleep(delayMs, signal);
    switch (faults.take(this.channel)) {
      case 429:
        throw new ProviderError('retryable', '429 Too Many Requests (sandbox fault)', SANDBOX_RETRY_AFTER_MS);
      case 500:
        throw new ProviderError('retryable', '500 Internal Server Error (sandbox fault)');
      case 400:
        throw new ProviderError('permanent', '400 Bad Request: the sandbox was told to refuse this post');
      default:
    }
    const providerMessageId = `sbx-${this.channel}-${newId().toLowerCase()}`;
    await outbox.append({
      channel: this.channel,
      alertId: message.alertId,
      version: message.version,
      // Phone numbers and emails are personal data, and a webhook URL's path and query carry the outlet's token:
      // the outbox (an item in the table, listed by GET /v1/sandbox/outbox) keeps them masked as receipts do. A
      // demo can still tell residents apart by the ends of their numbers; social accounts are public, kept whole.
      recipient: maskRecipient(this.channel, message.recipient),
      text: message.text,
      providerMessageId,
      ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
      ...(message.image ? { image: { url: message.image.url } } : {}),
      at: clock.now().toISOString(),
      idempotencyKey: message.idempotencyKey,
    });
    return { providerMessageId };
  }

  async lookup(idempotencyKey: string): Promise<ProviderAccepted | undefined> {
    const found = await this.options.outbox.findByIdempotencyKey(idempotencyKey);
    return found ? { providerMessageId: found.providerMessageId } : undefined;
  }
}
