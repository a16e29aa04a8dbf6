import { createHash } from 'node:crypto';
import { PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { imageKey, putImage } from '../../functions/adapters/images/key';
import { S3ImageStore } from '../../functions/adapters/images/s3';

const s3 = mockClient(S3Client);

afterEach(() => {
  s3.reset();
});

const bytes = new Uint8Array([0xff, 0xd8, 1, 2, 3, 4, 0xff, 0xd9]);
const sha256 = createHash('sha256').update(bytes).digest();

function store(keyPrefix?: string) {
  return new S3ImageStore({
    client: new S3Client({ region: 'eu-west-1' }),
    bucket: 'herald-images',
    publicBaseUrl: 'https://cdn.example.org/media/',
    ...(keyPrefix === undefined ? {} : { keyPrefix }),
  });
}

describe('Class: S3ImageStore', () => {
  it('puts the image under its SHA-256 with its content type and an immutable cache-control, and answers the CDN URL', async () => {
    // Prepare
    s3.on(PutObjectCommand).resolves({ ETag: '"x"' });

    // Act
    const { key, url } = await putImage(store(), bytes, 'image/jpeg');

    // Assess
    expect(key).toBe(`${sha256.toString('hex')}.jpg`);
    expect(url).toBe(`https://cdn.example.org/media/${key}`);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 1);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'herald-images',
      Key: key,
      Body: bytes,
      ContentType: 'image/jpeg',
      CacheControl: 'public, max-age=31536000, immutable',
      ContentLength: bytes.length,
      ChecksumSHA256: sha256.toString('base64'),
    });
  });

  it('names PNGs .png and puts them under the key prefix, keeping the prefix out of the URL', async () => {
    s3.on(PutObjectCommand).resolves({});
    const key = imageKey(bytes, 'image/png');

    const { url } = await store('media/').put(key, bytes, 'image/png');

    expect(key).toBe(`${sha256.toString('hex')}.png`);
    expect(url).toBe(`https://cdn.example.org/media/${key}`);
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, { Key: `media/${key}`, ContentType: 'image/png' });
  });

  it.each([
    ['another image’s key', `${'0'.repeat(64)}.jpg`],
    ['the wrong extension', `${sha256.toString('hex')}.png`],
    ['a path', `../${sha256.toString('hex')}.jpg`],
  ])('refuses %s without calling S3', async (_, key) => {
    await expect(store().put(key, bytes, 'image/jpeg')).rejects.toThrow(/not the SHA-256/);
    expect(s3).toHaveReceivedCommandTimes(PutObjectCommand, 0);
  });

  it('lets an S3 failure through for the channel to classify', async () => {
    s3.on(PutObjectCommand).rejects(
      new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: { httpStatusCode: 503 } }),
    );
    await expect(putImage(store(), bytes, 'image/jpeg')).rejects.toMatchObject({ name: 'SlowDown' });
  });
});
