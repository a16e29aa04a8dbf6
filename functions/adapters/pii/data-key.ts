/**
 * What both PII ciphers share once they hold the 32-byte data key: AES-256-GCM for addresses and HMAC-SHA-256 for
 * their lookup hash. Neither uses the data key itself: HKDF derives one key per purpose (distinct info labels),
 * so one secret serves both and no key ever does two jobs.
 *
 * A ciphertext is `v1.<iv>.<ciphertext and tag>`, both parts base64url, with a random 12-byte IV per encryption;
 * the version prefix is authenticated too (additional data), so a later format can be told apart and not confused.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { PiiCipher } from '../../ports';

export const DATA_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const FORMAT = 'v1';
const HKDF_SALT = Buffer.from('herald-pii', 'utf8');
const ENCRYPTION_INFO = 'herald-pii/aes-256-gcm/v1';
const HASH_INFO = 'herald-pii/hmac-sha-256/v1';
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A ciphertext this key did not make, or one that was altered: refused, never half-decrypted. */
export class PiiDecryptError extends Error {
  constructor(reason: string) {
    super(`PII ciphertext refused: ${reason}`);
    this.name = 'PiiDecryptError';
  }
}

export class DataKeyCipher implements PiiCipher {
  private readonly encryptionKey: Buffer;
  private readonly hashKey: Buffer;

  constructor(dataKey: Uint8Array) {
    if (dataKey.length !== DATA_KEY_BYTES)
      throw new RangeError(`a PII data key is ${DATA_KEY_BYTES} bytes, got ${dataKey.length}`);
    this.encryptionKey = derive(dataKey, ENCRYPTION_INFO);
    this.hashKey = derive(dataKey, HASH_INFO);
  }

  async hash(value: string): Promise<string> {
    return createHmac('sha256', this.hashKey).update(value, 'utf8').digest('base64url');
  }

  async encrypt(plain: string): Promise<string> {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.encryptionKey, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(FORMAT, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${FORMAT}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  async decrypt(text: string): Promise<string> {
    const parts = text.split('.');
    if (parts.length !== 3 || parts[0] !== FORMAT) throw new PiiDecryptError('unknown format');
    const [, ivText = '', bodyText = ''] = parts;
    if (!BASE64URL.test(ivText) || !BASE64URL.test(bodyText)) throw new PiiDecryptError('not base64url');
    const iv = Buffer.from(ivText, 'base64url');
    const body = Buffer.from(bodyText, 'base64url');
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new PiiDecryptError('wrong length');
    const decipher = createDecipheriv('aes-256-gcm', this.encryptionKey, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(FORMAT, 'utf8'));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    try {
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      // GCM's tag check: a different key or an altered byte. The reason names neither the key nor the text.
      throw new PiiDecryptError('authentication failed');
    }
  }
}

function derive(dataKey: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', dataKey, HKDF_SALT, info, DATA_KEY_BYTES));
}
