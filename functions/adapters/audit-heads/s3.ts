/**
 * Audit heads in an S3 bucket with Object Lock (lib/audit-heads.ts): each head is an object the bucket's default
 * retention locks as it is written, so nobody without the right to bypass it (no Herald function has it) can delete
 * or overwrite it, an insider with full access to the table included.
 *
 * Written on each append, not by a scheduled function: the window in which an insider could rewrite a stream's tail
 * unnoticed is then the few milliseconds between the table's write and the head's, not a schedule's period, and
 * nothing has to find which streams changed since the last run. The cost is one PUT per audit entry ($0.005 per
 * 1,000) and its latency in the request that made the entry; audit entries follow people's actions, so they are few,
 * but for an import of many subscribers (one entry each).
 */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { AuditHead, AuditStream } from '../../core/audit-chain';
import type { AuditHeadStore } from '../../ports/audit';
import type { LoggerLike } from '../../shared/logger';
import { HEADS_PREFIX, headBody, headKey, parseHeadKey, streamPrefix } from './keys';

export interface S3AuditHeadStoreOptions {
  client: S3Client;
  bucket: string;
  logger: LoggerLike;
}

export class S3AuditHeadStore implements AuditHeadStore {
  readonly configured = true;

  constructor(private readonly options: S3AuditHeadStoreOptions) {}

  async put(head: AuditHead): Promise<void> {
    try {
      await this.options.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key: headKey(head),
          Body: headBody(head),
          ContentType: 'application/json',
          // Object Lock refuses a PUT without an integrity checksum.
          ChecksumAlgorithm: 'SHA256',
        }),
      );
    } catch (error) {
      // The entry is in the table; without its head it is guarded only from the next head on. Said, not thrown.
      this.options.logger.error('audit head not locked', {
        stream: head.stream.kind,
        n: head.n,
        error: error instanceof Error ? error.name : String(error),
      });
    }
  }

  /** One LIST per 1,000 heads ($0.005 per 1,000 LISTs), and no GET: the key says the head. */
  async locked(stream?: AuditStream | undefined): Promise<AuditHead[]> {
    const heads: AuditHead[] = [];
    let token: string | undefined;
    do {
      const page = await this.options.client.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: stream ? streamPrefix(stream) : HEADS_PREFIX,
          ContinuationToken: token,
        }),
      );
      for (const object of page.Contents ?? []) {
        const head = object.Key
          ? parseHeadKey(object.Key, (object.LastModified ?? new Date(0)).toISOString())
          : undefined;
        if (head) heads.push(head);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return heads;
  }
}
