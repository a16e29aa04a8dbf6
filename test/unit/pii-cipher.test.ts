import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DecryptCommand,
  type DecryptCommandInput,
  GenerateDataKeyCommand,
  KMSClient,
  KMSServiceException,
} from '@aws-sdk/client-kms';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoContext } from '../../functions/adapters/dynamo/context';
import { DataKeyCipher, PiiDecryptError } from '../../functions/adapters/pii/data-key';
import { KmsEnvelopeCipher, PII_ENCRYPTION_CONTEXT } from '../../functions/adapters/pii/kms';
import { LocalKeyCipher, PII_KEY_FILE } from '../../functions/adapters/pii/local-key';
import { countRequests } from '../../functions/adapters/request-counter';
import { ensureTable } from '../../local/dynalite';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';

const freshDir = () => mkdtemp(join(tmpdir(), 'herald-pii-test-'));

/** Flips one bit of the byte at `index` of a base64url text's decoded bytes. */
function flipBit(base64url: string, index: number): string {
  const bytes = Buffer.from(base64url, 'base64url');
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}

describe('the data key cipher', () => {
  const cipher = new DataKeyCipher(Buffer.alloc(32, 7));

  it('decrypts what it encrypted, non-ASCII included', async () => {
    for (const plain of ['+34612345678', 'redacción@periódico.es', '東京都 📢', '']) {
      expect(await cipher.decrypt(await cipher.encrypt(plain))).toBe(plain);
    }
  });

  it('encrypts one value differently each time but hashes it the same', async () => {
    const a = await cipher.encrypt('+34612345678');
    const b = await cipher.encrypt('+34612345678');

    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(await cipher.hash('+34612345678')).toBe(await cipher.hash('+34612345678'));
    expect(await cipher.hash('+34612345678')).not.toBe(await cipher.hash('+34612345679'));
    expect(a).not.toContain('612345678');
  });

  it('does not use one key for both jobs: the hash is not a plain HMAC under the data key', async () => {
    const { createHmac } = await import('node:crypto');
    const naive = createHmac('sha256', Buffer.alloc(32, 7)).update('+34612345678').digest('base64url');

    expect(await cipher.hash('+34612345678')).not.toBe(naive);
  });

  it('refuses a ciphertext with any part altered, or made under another key', async () => {
    const sealed = await cipher.encrypt('+34612345678');
    const [version, iv = '', body = ''] = sealed.split('.');
    const tampered = [
      `${version}.${iv}.${flipBit(body, 0)}`,
      `${version}.${iv}.${flipBit(body, Buffer.from(body, 'base64url').length - 1)}`,
      `${version}.${flipBit(iv, 0)}.${body}`,
      `v2.${iv}.${body}`,
      `${version}.${iv}`,
      `${version}.${iv}.${body}!`,
      'not a ciphertext',
    ];
    for (const text of tampered) await expect(cipher.decrypt(text)).rejects.toBeInstanceOf(PiiDecryptError);
    const other = new DataKeyCipher(Buffer.alloc(32, 8));
    await expect(other.decrypt(sealed)).rejects.toBeInstanceOf(PiiDecryptError);
  });

  it('refuses a data key that is not 32 bytes', () => {
    expect(() => new DataKeyCipher(Buffer.alloc(16))).toThrow(/32 bytes/);
  });
});

describe('the local key file', () => {
  it('creates a 32-byte key readable by its owner only on first open', async () => {
    const dir = await freshDir();

    await LocalKeyCipher.open(dir);

    const info = await stat(join(dir, PII_KEY_FILE));
    expect(info.size).toBe(32);
    expect(info.mode & 0o777).toBe(0o600);
  });

  it('reuses the key on later opens: same hash, and what one opening encrypted the next decrypts', async () => {
    const dir = await freshDir();
    const first = await LocalKeyCipher.open(dir);
    const key = await readFile(join(dir, PII_KEY_FILE));
    const sealed = await first.encrypt('news@example.org');

    const second = await LocalKeyCipher.open(dir);

    expect(await readFile(join(dir, PII_KEY_FILE))).toEqual(key);
    expect(await second.hash('news@example.org')).toBe(await first.hash('news@example.org'));
    expect(await second.decrypt(sealed)).toBe('news@example.org');
  });

  it('gives two directories two different keys', async () => {
    const [a, b] = await Promise.all([
      LocalKeyCipher.open(await freshDir()),
      LocalKeyCipher.open(await freshDir()),
    ]);

    expect(await a.hash('+34612345678')).not.toBe(await b.hash('+34612345678'));
  });

  it('agrees on one key when opened twice at once on a new directory', async () => {
    const dir = await freshDir();

    const [a, b] = await Promise.all([LocalKeyCipher.open(dir), LocalKeyCipher.open(dir)]);

    expect(await a.decrypt(await b.encrypt('+34612345678'))).toBe('+34612345678');
  });

  it('refuses a key file of the wrong size and says so, leaving it untouched', async () => {
    const dir = await freshDir();
    await writeFile(join(dir, PII_KEY_FILE), Buffer.alloc(31), { mode: 0o600 });

    await expect(LocalKeyCipher.open(dir)).rejects.toThrow(/31 bytes, not 32/);
    expect((await readFile(join(dir, PII_KEY_FILE))).length).toBe(31);
  });
});

describe('the KMS envelope cipher', () => {
  const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const WRAP_PREFIX = Buffer.from('wrapped-by-kms:');
  const kmsMock = mockClient(KMSClient);
  let db: DynaliteStore;

  beforeAll(async () => {
    db = await startDynaliteStore();
  });
  afterAll(async () => {
    await db?.close();
  });
  afterEach(() => {
    kmsMock.reset();
  });

  /** A table of its own per test: the wrapped key is one item per table. */
  async function freshTable(): Promise<DynamoContext> {
    const tableName = `herald-kms-${randomUUID()}`;
    await ensureTable(db.client, tableName);
    return { client: db.client, tableName };
  }

  /** What KMS would answer: a wrapped blob this fake can unwrap again, and a fresh copy of the key each time. */
  function fakeKms() {
    kmsMock.on(GenerateDataKeyCommand).callsFake(() => {
      const key = randomBytes(32);
      return {
        Plaintext: Uint8Array.from(key),
        CiphertextBlob: Buffer.concat([WRAP_PREFIX, key]),
        KeyId: KEY_ARN,
      };
    });
    kmsMock.on(DecryptCommand).callsFake(fakeUnwrap());
  }

  function fakeUnwrap() {
    return (input: DecryptCommandInput) => {
      const blob = Buffer.from(input.CiphertextBlob ?? new Uint8Array());
      if (!blob.subarray(0, WRAP_PREFIX.length).equals(WRAP_PREFIX))
        throw new Error('InvalidCiphertextException');
      return { Plaintext: Uint8Array.from(blob.subarray(WRAP_PREFIX.length)), KeyId: KEY_ARN };
    };
  }

  const cipherOn = (table: DynamoContext) =>
    new KmsEnvelopeCipher({ kms: new KMSClient({ region: 'eu-west-1' }), keyId: 'alias/herald-pii', table });

  const storedKey = async (table: DynamoContext) =>
    (
      await db.client.send(
        new GetCommand({
          TableName: table.tableName,
          Key: { PK: 'KEYRING', SK: 'PII#1' },
          ConsistentRead: true,
        }),
      )
    ).Item;

  it('calls neither KMS nor DynamoDB until a method is first used', async () => {
    fakeKms();
    const table = await freshTable();
    const counter = countRequests(db.client);

    cipherOn(table);
    // Long enough for a request fired without waiting to come back and be counted.
    await new Promise((resolve) => setTimeout(resolve, 50));

    expect(kmsMock.calls()).toHaveLength(0);
    expect(counter.total()).toBe(0);
  });

  it('on first use generates one data key under the configured key and stores it wrapped', async () => {
    // Arrange
    fakeKms();
    const table = await freshTable();
    const cipher = cipherOn(table);

    // Act: concurrent first calls share one key.
    const [hash, sealed] = await Promise.all([cipher.hash('+34612345678'), cipher.encrypt('+34612345678')]);

    // Assert
    expect(kmsMock).toHaveReceivedCommandTimes(GenerateDataKeyCommand, 1);
    expect(kmsMock).toHaveReceivedCommandWith(GenerateDataKeyCommand, {
      KeyId: 'alias/herald-pii',
      KeySpec: 'AES_256',
      EncryptionContext: PII_ENCRYPTION_CONTEXT,
    });
    expect(kmsMock).toHaveReceivedCommandTimes(DecryptCommand, 0);
    const item = await storedKey(table);
    expect(item?.kmsKeyId).toBe(KEY_ARN);
    expect(Buffer.from(item?.wrappedKey as Uint8Array).subarray(0, WRAP_PREFIX.length)).toEqual(WRAP_PREFIX);
    expect(await cipher.decrypt(sealed)).toBe('+34612345678');
    expect(await cipher.hash('+34612345678')).toBe(hash);
    expect(kmsMock.calls()).toHaveLength(1);
  });

  it('in another container only unwraps the stored key, once, and agrees on hashes and ciphertexts', async () => {
    // Arrange
    fakeKms();
    const table = await freshTable();
    const first = cipherOn(table);
    const sealed = await first.encrypt('news@example.org');
    const wrapped = (await storedKey(table))?.wrappedKey;
    kmsMock.resetHistory();

    // Act
    const second = cipherOn(table);
    const opened = await second.decrypt(sealed);
    const hashes = [await second.hash('news@example.org'), await first.hash('news@example.org')];

    // Assert
    expect(opened).toBe('news@example.org');
    expect(hashes[0]).toBe(hashes[1]);
    expect(kmsMock).toHaveReceivedCommandTimes(GenerateDataKeyCommand, 0);
    expect(kmsMock).toHaveReceivedCommandTimes(DecryptCommand, 1);
    expect(kmsMock).toHaveReceivedCommandWith(DecryptCommand, {
      CiphertextBlob: wrapped as Uint8Array,
      KeyId: KEY_ARN,
      EncryptionContext: PII_ENCRYPTION_CONTEXT,
    });
  });

  it('when another container stores its key first, drops its own and unwraps theirs', async () => {
    // Arrange: the other container writes its key while this one is generating.
    fakeKms();
    const table = await freshTable();
    const theirs = randomBytes(32);
    kmsMock.on(GenerateDataKeyCommand).callsFake(async () => {
      await db.client.send(
        new PutCommand({
          TableName: table.tableName,
          Item: {
            PK: 'KEYRING',
            SK: 'PII#1',
            wrappedKey: Buffer.concat([WRAP_PREFIX, theirs]),
            kmsKeyId: KEY_ARN,
          },
        }),
      );
      const mine = randomBytes(32);
      return {
        Plaintext: Uint8Array.from(mine),
        CiphertextBlob: Buffer.concat([WRAP_PREFIX, mine]),
        KeyId: KEY_ARN,
      };
    });
    const cipher = cipherOn(table);

    // Act
    const hash = await cipher.hash('+34612345678');

    // Assert
    expect(hash).toBe(await new DataKeyCipher(theirs).hash('+34612345678'));
    expect(kmsMock).toHaveReceivedCommandTimes(GenerateDataKeyCommand, 1);
    expect(kmsMock).toHaveReceivedCommandTimes(DecryptCommand, 1);
    expect(Buffer.from((await storedKey(table))?.wrappedKey as Uint8Array)).toEqual(
      Buffer.concat([WRAP_PREFIX, theirs]),
    );
  });

  it('does not remember a failed unwrap: the next call tries KMS again', async () => {
    // Arrange
    fakeKms();
    const table = await freshTable();
    const sealed = await cipherOn(table).encrypt('+34612345678');
    const throttled = new KMSServiceException({
      name: 'ThrottlingException',
      $fault: 'client',
      $metadata: {},
      message: 'Rate exceeded',
    });
    const unwrap = fakeUnwrap();
    let throttle = true;
    kmsMock.on(DecryptCommand).callsFake((input: DecryptCommandInput) => {
      if (!throttle) return unwrap(input);
      throttle = false;
      throw throttled;
    });
    const cipher = cipherOn(table);

    // Act
    const first = cipher.decrypt(sealed);
    await expect(first).rejects.toThrow('Rate exceeded');
    const second = await cipher.decrypt(sealed);

    // Assert
    expect(second).toBe('+34612345678');
    expect(kmsMock).toHaveReceivedCommandTimes(DecryptCommand, 2);
  });

  it('says which setting is missing when no KMS key is configured', async () => {
    const cipher = new KmsEnvelopeCipher({
      kms: new KMSClient({ region: 'eu-west-1' }),
      keyId: '',
      table: await freshTable(),
    });

    await expect(cipher.hash('x')).rejects.toThrow(/HERALD_PII_KMS_KEY_ID/);
    expect(kmsMock.calls()).toHaveLength(0);
  });
});
