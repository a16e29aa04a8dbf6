/**
 * Where the audit chains' heads are kept outside the table (functions/adapters/audit-heads/s3.ts): an S3 bucket with
 * Object Lock, so an insider who can edit or delete items in the table cannot also rewrite or remove the heads that
 * GET /v1/audit/verify compares the table with.
 *
 * GOVERNANCE mode rather than COMPLIANCE: no Herald function, and no role without s3:BypassGovernanceRetention, can
 * delete or shorten a locked head, which is the protection the verifier needs; COMPLIANCE would also bind the account's
 * root user for the whole retention, so a wrong retention, a test deployment or an agency's decision to close the
 * account could not be undone for years. An agency whose auditors require it sets the bucket's default retention to
 * COMPLIANCE (`auditHeadLockMode` context: COMPLIANCE), knowing it cannot be reversed.
 *
 * Functions are granted s3:PutObject on heads/* (no PutObjectRetention, no DeleteObject, no bypass); the verifier (the
 * api) also s3:ListBucket on the heads/ prefix and s3:GetObject on heads/*.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectLockRetention } from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { HEADS_PREFIX } from '../functions/adapters/audit-heads/keys';
import { ENV } from '../functions/shared/config';
import { accessLogBucket } from './access-logs';

/** Seven years: the audit records an agency keeps, and then some; each head is locked that long from its write. */
export const AUDIT_HEAD_RETENTION_DAYS = 2557;

export interface AuditHeadsProps {
  /** GOVERNANCE (the default) or COMPLIANCE; see the top of this file. */
  mode?: 'GOVERNANCE' | 'COMPLIANCE' | undefined;
}

export class AuditHeads extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: AuditHeadsProps = {}) {
    super(scope, id);
    const retention = Duration.days(AUDIT_HEAD_RETENTION_DAYS);
    this.bucket = new Bucket(this, 'Heads', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // SSE-S3: a head is a stream id, a number and a hash (no personal data), read only by the api's role.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Object Lock needs versioning; a lock protects each version, so nothing is ever overwritten in place.
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention:
        props.mode === 'COMPLIANCE'
          ? ObjectLockRetention.compliance(retention)
          : ObjectLockRetention.governance(retention),
      serverAccessLogsBucket: accessLogBucket(this),
      serverAccessLogsPrefix: 'audit-heads/',
      // Locked records an agency must keep: never deleted with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /** A function that appends audit entries writes each chain's head here, and nothing else. */
  grantAppend(fn: IFunction & { addEnvironment(name: string, value: string): unknown }): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${HEADS_PREFIX}*`)],
      }),
    );
    fn.addEnvironment(ENV.auditHeadBucket, this.bucket.bucketName);
    this.suppressKeyWildcard(fn);
  }

  /** The verifier lists the heads (their keys say stream, number and hash) and may read one. */
  grantVerify(fn: IFunction & { addEnvironment(name: string, value: string): unknown }): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${HEADS_PREFIX}*`] } },
      }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.bucket.arnForObjects(`${HEADS_PREFIX}*`)],
      }),
    );
    fn.addEnvironment(ENV.auditHeadBucket, this.bucket.bucketName);
    this.suppressKeyWildcard(fn);
  }

  private suppressKeyWildcard(fn: IFunction): void {
    if (!fn.role) return;
    NagSuppressions.addResourceSuppressions(
      fn.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'A head is one object per audit entry, keyed heads/<kind>/<id>/<n>-<hash>.json at run time, so PutObject (and for the verifier GetObject) is granted on <audit head bucket ARN>/heads/*: that prefix of that one bucket, with no retention, delete or bypass action.',
          appliesTo: [{ regex: '/^Resource::<.*AuditHeads.*\\.Arn>\\/heads\\/\\*$/g' }],
        },
      ],
      true,
    );
  }
}
