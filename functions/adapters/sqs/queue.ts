/**
 * QueuePort over Amazon SQS. Sends in batches of ten; entries SQS reports as failed are retried a few times
 * (only those), and a send that still has failures throws, so the caller never believes a job was queued
 * when it was not.
 */
import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { OutgoingMessage, QueueName, QueuePort } from '../../ports';

const BATCH = 10;
const ATTEMPTS = 3;

export class QueueSendError extends Error {
  constructor(
    readonly queue: QueueName,
    readonly failures: { id: string; code?: string | undefined; message?: string | undefined }[],
  ) {
    super(
      `${failures.length} message(s) could not be sent to ${queue}: ${failures.map((f) => f.code ?? 'error').join(', ')}`,
    );
    this.name = 'QueueSendError';
  }
}

export class SqsQueuePort implements QueuePort {
  constructor(
    private readonly client: SQSClient,
    private readonly urls: Partial<Record<QueueName, string>>,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  private url(queue: QueueName): string {
    const url = this.urls[queue];
    if (!url) throw new Error(`no URL configured for queue ${queue}`);
    return url;
  }

  async send(queue: QueueName, messages: OutgoingMessage[]): Promise<void> {
    const url = this.url(queue);
    for (let i = 0; i < messages.length; i += BATCH) {
      let pending = messages.slice(i, i + BATCH);
      for (let attempt = 1; pending.length > 0; attempt++) {
        const out = await this.client.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: pending.map((m, n) => ({
              // Batch entry ids allow only [A-Za-z0-9_-]{1,80}; the position keeps them unique.
              Id: `m${n}`,
              MessageBody: m.body,
              ...(m.delaySeconds ? { DelaySeconds: m.delaySeconds } : {}),
            })),
          }),
        );
        const failed = out.Failed ?? [];
        if (failed.length === 0) break;
        const byId = new Map(pending.map((m, n) => [`m${n}`, m]));
        const retryable = failed.filter((f) => !f.SenderFault);
        if (attempt >= ATTEMPTS || retryable.length < failed.length)
          throw new QueueSendError(
            queue,
            failed.map((f) => ({
              id: byId.get(f.Id ?? '')?.id ?? f.Id ?? '?',
              code: f.Code,
              message: f.Message,
            })),
          );
        pending = retryable
          .map((f) => byId.get(f.Id ?? ''))
          .filter((m): m is OutgoingMessage => m !== undefined);
        await this.sleep(50 * 2 ** attempt);
      }
    }
  }

  async changeVisibility(queue: QueueName, receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: this.url(queue),
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
      }),
    );
  }
}
