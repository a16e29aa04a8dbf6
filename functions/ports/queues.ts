/** The queues between the functions, by logical name. */
import type { Channel } from '../../schemas/alert';

// ---------------------------------------------------------------- queues

/** Logical queue names; the adapter maps them to URLs (SQS) or to embedded queues. */
export type QueueName = 'dispatch' | `channel-${Channel}`;
export const channelQueue = (channel: Channel): QueueName => `channel-${channel}`;

export interface OutgoingMessage {
  /** Unique within one send call; used to report per-message failures. */
  id: string;
  body: string;
  delaySeconds?: number | undefined;
}

export interface QueuePort {
  /** Sends messages in batches of up to 10; throws if any message could not be sent after retries. */
  send(queue: QueueName, messages: OutgoingMessage[]): Promise<void>;
  /** Postpones redelivery of a received message (SQS ChangeMessageVisibility), to back off a retry. */
  changeVisibility(queue: QueueName, receiptHandle: string, seconds: number): Promise<void>;
}
