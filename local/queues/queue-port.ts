/**
 * QueuePort over the embedded queues: each QueueName is the embedded queue of the same name, each with a
 * dead-letter queue, as on AWS. It behaves as the SQS adapter does where callers can tell (batches of ten,
 * positional entry ids, visibility clamped to SQS's range), except that seconds are not rounded, so retry
 * back-offs shorter than a second work in tests and the sandbox.
 */
import type { OutgoingMessage, QueueName, QueuePort } from '../../functions/ports';
import { ALL_QUEUES } from '../../functions/shared/config';
import { type EmbeddedQueues, SQS_LIMITS } from './engine';

export const deadLetterQueueName = (queue: QueueName): string => `${queue}-dlq`;

export interface HeraldQueueSettings {
  /** Receives before a message moves to its dead-letter queue (HeraldConfig.maxReceives). */
  maxReceives: number;
  /** Per queue, or one for all; at least the consuming function's timeout. SQS's default is 30. */
  visibilityTimeoutSeconds?: number | ((queue: QueueName) => number) | undefined;
}

/** Creates every queue Herald uses, each with its dead-letter queue; safe to run on every start. */
export async function createHeraldQueues(
  queues: EmbeddedQueues,
  settings: HeraldQueueSettings,
): Promise<void> {
  const visibility = settings.visibilityTimeoutSeconds ?? 30;
  for (const queue of ALL_QUEUES) {
    const dlq = deadLetterQueueName(queue);
    // Fourteen days' retention on AWS; here nothing expires, so the dead-letter queue only needs to exist.
    await queues.createQueue(dlq, { visibilityTimeoutSeconds: 30 });
    await queues.createQueue(queue, {
      visibilityTimeoutSeconds: typeof visibility === 'function' ? visibility(queue) : visibility,
      redrive: { deadLetterQueue: dlq, maxReceiveCount: settings.maxReceives },
    });
  }
}

export class EmbeddedQueuePort implements QueuePort {
  constructor(private readonly queues: EmbeddedQueues) {}

  async send(queue: QueueName, messages: OutgoingMessage[]): Promise<void> {
    for (let i = 0; i < messages.length; i += SQS_LIMITS.maxBatchEntries) {
      const chunk = messages.slice(i, i + SQS_LIMITS.maxBatchEntries);
      // Callers' ids need only be unique, not SQS-shaped; the position makes a valid batch entry id.
      await this.queues.send(
        queue,
        chunk.map((m, n) => ({
          id: `m${n}`,
          body: m.body,
          ...(m.delaySeconds ? { delaySeconds: m.delaySeconds } : {}),
        })),
      );
    }
  }

  async changeVisibility(queue: QueueName, receiptHandle: string, seconds: number): Promise<void> {
    await this.queues.changeVisibility(
      queue,
      receiptHandle,
      Math.max(0, Math.min(SQS_LIMITS.maxVisibilityTimeoutSeconds, seconds)),
    );
  }
}
