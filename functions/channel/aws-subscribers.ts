/**
 * The subscriber channels' extra wiring on AWS (SMS, email, webhooks): the subscribers and the cipher of their
 * addresses (KMS envelope encryption), handed to the handler by those channels' entries only.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoSubscriberStore } from '../adapters/dynamo/subscriber-store';
import { KmsEnvelopeCipher } from '../adapters/pii/kms';
import type { PiiCipher, SubscriberStore } from '../ports';
import { ENV } from '../shared/config';
import type { ChannelServices } from './aws';

export function channelSubscribers({ table }: Pick<ChannelServices, 'table'>): {
  subscribers: SubscriberStore;
  pii: PiiCipher;
} {
  return {
    subscribers: new DynamoSubscriberStore(table),
    pii: new KmsEnvelopeCipher({ kms: new KMSClient({}), keyId: process.env[ENV.piiKeyId] ?? '', table }),
  };
}
