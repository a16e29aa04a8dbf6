/**
 * The audit chains' heads in S3 (lib/audit-heads.ts), for the functions that append audit entries: their entry calls
 * lockAuditHeadsInS3() once, before awsServices() composes the store. Kept out of aws.ts so the S3 client is bundled
 * only into those functions, and loaded on their first append, not at start (module initialisation is measured).
 */

import { lazyHeadStore } from '../adapters/audit-heads/lazy';
import type { AuditHeadStore } from '../ports/audit';
import { useAuditHeads } from './aws';
import { ENV } from './config';
import { logger } from './logger';

function s3AuditHeads(): AuditHeadStore | undefined {
  const bucket = process.env[ENV.auditHeadBucket];
  // Unset: the stack gave this function no bucket; the chain is still written, its heads kept nowhere else.
  if (!bucket) return undefined;
  return lazyHeadStore(async () => {
    const [{ S3Client }, { S3AuditHeadStore }] = await Promise.all([
      import('@aws-sdk/client-s3'),
      import('../adapters/audit-heads/s3'),
    ]);
    return new S3AuditHeadStore({ client: new S3Client({}), bucket, logger });
  });
}

export function lockAuditHeadsInS3(): void {
  useAuditHeads(s3AuditHeads);
}
