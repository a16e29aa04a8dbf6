/**
 * PII on AWS: envelope encryption under a KMS key. One 256-bit data key, wrapped by KMS, is kept as one item in the
 * table (KEYRING / PII#1); each container unwraps it once (one Decrypt) and then encrypts and hashes locally, so a
 * fan-out to 100,000 residents costs no KMS request per address. Made on first use anywhere: GenerateDataKey, then a
 * conditional put; when two containers race, the loser drops its key and unwraps the winner's, so every address
 * in the table is under the same key and every hash is comparable.
 *
 * Nothing happens at construction: every function gets a cipher, and those that never touch an address never call
 * KMS. The plaintext key lives only inside the derived keys (see data-key.ts) and is never logged.
 */
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { PiiCipher } from '../../ports';
import { conditionalWrite, type DynamoContext, type Item } from '../dynamo/context';
import { KEYRING_PK, PII_DATA_KEY_SK } from '../dynamo/keys';
import { DATA_KEY_BYTES, DataKeyCipher } from './data-key';

export interface KmsEnvelopeCipherOptions {
  kms: KMSClient;
  /** The KMS key (id, ARN or alias) that wraps the data key. */
  keyId: string;
  /** Where the wrapped data key is kept (one item in the table). */
  table: DynamoContext;
}

/** Bound into every wrap and unwrap (and CloudTrail's record of it): this data key is for PII and nothing else. */
export const PII_ENCRYPTION_CONTEXT = { purpose: 'herald-pii' } as const;

const DATA_KEY_ITEM = { PK: KEYRING_PK, SK: PII_DATA_KEY_SK } as const;

export class KmsEnvelopeCipher implements PiiCipher {
  private dataKey: Promise<DataKeyCipher> | undefined;

  constructor(private readonly options: KmsEnvelopeCipherOptions) {}

  async hash(value: string): Promise<string> {
    return (await this.cipher()).hash(value);
  }
  async encrypt(plain: string): Promise<string> {
    return (await this.cipher()).encrypt(plain);
  }
  async decrypt(cipher: string): Promise<string> {
    return (await this.cipher()).decrypt(cipher);
  }

  /** One unwrap per container, shared by concurrent first calls; a failed one is forgotten so the next call retries. */
  private cipher(): Promise<DataKeyCipher> {
    if (!this.dataKey) {
      const attempt = this.loadDataKey();
      this.dataKey = attempt;
      attempt.catch(() => {
        if (this.dataKey === attempt) this.dataKey = undefined;
      });
    }
    return this.dataKey;
  }

  private async loadDataKey(): Promise<DataKeyCipher> {
    const { kms, keyId, table } = this.options;
    if (keyId === '') throw new Error('no KMS key is configured for PII (HERALD_PII_KMS_KEY_ID)');
    let stored = await this.readStored();
    if (!stored) {
      const generated = await kms.send(
        new GenerateDataKeyCommand({
          KeyId: keyId,
          KeySpec: 'AES_256',
          EncryptionContext: PII_ENCRYPTION_CONTEXT,
        }),
      );
      const plaintext = required(generated.Plaintext, 'GenerateDataKey returned no plaintext key');
      const wrapped = required(generated.CiphertextBlob, 'GenerateDataKey returned no wrapped key');
      const won = await conditionalWrite(
        table,
        new PutCommand({
          TableName: table.tableName,
          Item: {
            ...DATA_KEY_ITEM,
            wrappedKey: wrapped,
            // The key's ARN as KMS reports it: unwrapping names it, so a retargeted alias cannot break old data.
            kmsKeyId: generated.KeyId ?? keyId,
            createdAt: new Date().toISOString(),
          },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      if (won) return fromPlaintext(plaintext);
      plaintext.fill(0);
      stored = await this.readStored();
      if (!stored)
        throw new Error('the PII data key was written by another container but cannot be read back');
    }
    const { Plaintext } = await kms.send(
      new DecryptCommand({
        CiphertextBlob: stored.wrappedKey,
        KeyId: stored.kmsKeyId,
        EncryptionContext: PII_ENCRYPTION_CONTEXT,
      }),
    );
    return fromPlaintext(required(Plaintext, 'Decrypt returned no plaintext key'));
  }

  private async readStored(): Promise<{ wrappedKey: Uint8Array; kmsKeyId: string } | undefined> {
    const { table } = this.options;
    const { Item: item } = (await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: DATA_KEY_ITEM, ConsistentRead: true }),
    )) as { Item?: Item };
    if (!item) return undefined;
    if (!(item.wrappedKey instanceof Uint8Array) || typeof item.kmsKeyId !== 'string')
      throw new Error('the stored PII data key item is malformed');
    return { wrappedKey: item.wrappedKey, kmsKeyId: item.kmsKeyId };
  }
}

function required<T>(value: T | undefined, message: string): T {
  if (value === undefined) throw new Error(message);
  return value;
}

/** Derives the working keys, then wipes the plaintext data key: only the derived keys stay in memory. */
function fromPlaintext(plaintext: Uint8Array): DataKeyCipher {
  try {
    if (plaintext.length !== DATA_KEY_BYTES)
      throw new Error(`KMS returned a ${plaintext.length}-byte data key, not ${DATA_KEY_BYTES}`);
    return new DataKeyCipher(plaintext);
  } finally {
    plaintext.fill(0);
  }
}
