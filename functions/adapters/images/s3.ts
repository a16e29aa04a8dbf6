/**
 * Images in S3, read by the public through the CDN in front of the bucket (the bucket itself stays private).
 * Objects are never overwritten with other content (their keys are content addresses), so they carry a
 * year-long immutable cache-control and the CDN serves them without revalidating.
 */
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ImageStore } from '../../ports';
import { checkImageKey, IMMUTABLE_CACHE_CONTROL, type ImageContentType } from './key';

export interface S3ImageStoreOptions {
  client: S3Client;
  bucket: string;
  /** The CDN's URL for the bucket's objects, e.g. `https://d111111abcdef8.cloudfront.net/media`. */
  publicBaseUrl: string;
  /** Prepended to the key in the bucket, when the CDN maps a path (say `/media/*`) onto a folder of it. */
  keyPrefix?: string;
}

export class S3ImageStore implements ImageStore {
  private readonly baseUrl: string;

  constructor(private readonly options: S3ImageStoreOptions) {
    this.baseUrl = options.publicBaseUrl.replace(/\/+$/, '');
  }

  async put(key: string, bytes: Uint8Array, contentType: ImageContentType): Promise<{ url: string }> {
    const digest = checkImageKey(key, bytes, contentType);
    await this.options.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: `${this.options.keyPrefix ?? ''}${key}`,
        Body: bytes,
        ContentType: contentType,
        ContentLength: bytes.length,
        CacheControl: IMMUTABLE_CACHE_CONTROL,
        // S3 checks the upload against the digest the key is made of, so a corrupted body is refused, not served
        // for a year.
        ChecksumSHA256: digest.toString('base64'),
      }),
    );
    return { url: `${this.baseUrl}/${key}` };
  }
}
