/**
 * Images are stored under the SHA-256 of their bytes, so a key names one content forever: the CDN and browsers may
 * keep it for a year without asking again, and storing the same card twice (a retried delivery) writes the same
 * object. Both image stores check the key against the bytes, which is what makes `immutable` true.
 */
import { createHash } from 'node:crypto';
import type { ImageStore } from '../../ports';

export type ImageContentType = Parameters<ImageStore['put']>[2];

/** The only names an image store accepts or serves: no separators, no dots but the extension's. */
export const IMAGE_KEY = /^[a-f0-9]{64}\.(jpg|png)$/;

export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

const EXTENSION: Record<ImageContentType, string> = { 'image/jpeg': 'jpg', 'image/png': 'png' };

export function imageKey(bytes: Uint8Array, contentType: ImageContentType): string {
  return `${createHash('sha256').update(bytes).digest('hex')}.${EXTENSION[contentType]}`;
}

export function contentTypeOfKey(key: string): ImageContentType | undefined {
  const match = IMAGE_KEY.exec(key);
  if (!match) return undefined;
  return match[1] === 'png' ? 'image/png' : 'image/jpeg';
}

/** Throws unless `key` is the content address of `bytes`; answers the raw SHA-256 digest. */
export function checkImageKey(key: string, bytes: Uint8Array, contentType: ImageContentType): Buffer {
  const digest = createHash('sha256').update(bytes).digest();
  if (key !== `${digest.toString('hex')}.${EXTENSION[contentType]}`) {
    throw new Error(
      `image key ${JSON.stringify(key.slice(0, 80))} is not the SHA-256 of the bytes (${contentType})`,
    );
  }
  return digest;
}

/** Stores an image under its content address. */
export async function putImage(
  store: ImageStore,
  bytes: Uint8Array,
  contentType: ImageContentType,
): Promise<{ key: string; url: string }> {
  const key = imageKey(bytes, contentType);
  const { url } = await store.put(key, bytes, contentType);
  return { key, url };
}
