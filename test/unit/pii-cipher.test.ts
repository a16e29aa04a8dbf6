import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataKeyCipher, PiiDecryptError } from '../../functions/adapters/pii/data-key';
import { LocalKeyCipher, PII_KEY_FILE } from '../../functions/adapters/pii/local-key';

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
