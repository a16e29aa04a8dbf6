/**
 * Counting the AWS requests Herald makes, at the adapters: DynamoDB requests through the SDK middleware, and
 * the SQS requests the queue port stands for (one SendMessageBatch per ten messages, one
 * ChangeMessageVisibility per back-off). Lambda's own polling (ReceiveMessage, DeleteMessageBatch) is not the
 * adapters' doing and is reported apart by the benchmark.
 */
import { countRequests, type MiddlewareClient } from '../functions/adapters/request-counter';
import type { OutgoingMessage, QueueName, QueuePort } from '../functions/ports';

const SQS_BATCH = 10;

export interface RequestCounter {
  total(): number;
  byCommand(): Record<string, number>;
  reset(): void;
  wrapQueue(port: QueuePort): QueuePort;
}

export function createRequestCounter(dynamoClient: MiddlewareClient): RequestCounter {
  const dynamo = countRequests(dynamoClient);
  const sqs = new Map<string, number>();
  const bump = (name: string, n = 1) => sqs.set(name, (sqs.get(name) ?? 0) + n);
  return {
    total: () => dynamo.total() + [...sqs.values()].reduce((a, b) => a + b, 0),
    byCommand: () => ({
      ...Object.fromEntries(Object.entries(dynamo.byCommand()).map(([k, v]) => [`dynamodb:${k}`, v])),
      ...Object.fromEntries([...sqs].map(([k, v]) => [`sqs:${k}`, v])),
    }),
    reset: () => {
      dynamo.reset();
      sqs.clear();
    },
    wrapQueue: (port) => ({
      send: async (queue: QueueName, messages: OutgoingMessage[]) => {
        bump('SendMessageBatch', Math.ceil(messages.length / SQS_BATCH));
        await port.send(queue, messages);
      },
      changeVisibility: async (queue: QueueName, receiptHandle: string, seconds: number) => {
        bump('ChangeMessageVisibility');
        await port.changeVisibility(queue, receiptHandle, seconds);
      },
    }),
  };
}
