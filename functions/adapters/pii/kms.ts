/**
 * PII on AWS: envelope encryption under a KMS key. SKELETON: the implementation replaces these bodies.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import type { PiiCipher } from '../../ports';
import type { DynamoContext } from '../dynamo/context';

export interface KmsEnvelopeCipherOptions {
  kms: KMSClient;
  /** The KMS key (id, ARN or alias) that wraps the data key. */
  keyId: string;
  /** Where the wrapped data key is kept (one item in the table). */
  table: DynamoContext;
}

export class KmsEnvelopeCipher implements PiiCipher {
  constructor(private readonly options: KmsEnvelopeCipherOptions) {}
  hash(_value: string): Promise<string> {
    throw new Error(`not implemented yet (${this.options.keyId})`);
  }
  encrypt(_plain: string): Promise<string> {
    throw new Error('not implemented yet');
  }
  decrypt(_cipher: string): Promise<string> {
    throw new Error('not implemented yet');
  }
}
