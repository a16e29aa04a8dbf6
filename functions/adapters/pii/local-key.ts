/**
 * The embedded mode's PII key: 32 random bytes in <dataDir>/pii.key (mode 0600), made on first start and read on
 * every later one. Losing the file loses every stored address, so it is written whole or not at all: to a temporary
 * file first (synced to disk), then moved into place in one atomic step, and never overwritten.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { PiiCipher } from '../../ports';
import { DATA_KEY_BYTES, DataKeyCipher } from './data-key';

export const PII_KEY_FILE = 'pii.key';

export class LocalKeyCipher implements PiiCipher {
  static async open(dataDir: string): Promise<LocalKeyCipher> {
    await mkdir(dataDir, { recursive: true });
    return new LocalKeyCipher(new DataKeyCipher(await readOrCreateKey(join(dataDir, PII_KEY_FILE))));
  }

  private constructor(private readonly cipher: DataKeyCipher) {}

  hash(value: string): Promise<string> {
    return this.cipher.hash(value);
  }
  encrypt(plain: string): Promise<string> {
    return this.cipher.encrypt(plain);
  }
  decrypt(cipher: string): Promise<string> {
    return this.cipher.decrypt(cipher);
  }
}

async function readOrCreateKey(path: string): Promise<Buffer> {
  const existing = await readKey(path);
  if (existing) return existing;
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const file = await open(temporary, 'wx', 0o600);
    try {
      await file.writeFile(randomBytes(DATA_KEY_BYTES));
      await file.sync();
    } finally {
      await file.close();
    }
    // link, not rename: it fails when the key appeared meanwhile (another process starting on the same directory),
    // where a rename would replace that key and orphan whatever it had already encrypted.
    await link(temporary, path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(temporary, { force: true });
  }
  const created = await readKey(path);
  if (!created) throw new Error(`the PII key file ${path} vanished while it was being created`);
  return created;
}

async function readKey(path: string): Promise<Buffer | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (bytes.length !== DATA_KEY_BYTES)
    throw new Error(
      `the PII key file ${path} holds ${bytes.length} bytes, not ${DATA_KEY_BYTES}: it is damaged or not a key; ` +
        'restore it from a backup (a new key cannot decrypt the addresses already stored)',
    );
  return bytes;
}
