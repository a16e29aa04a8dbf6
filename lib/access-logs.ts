/**
 * A private bucket for S3 server access logs and CloudFront standard logs. CloudFront writes its logs through an ACL
 * grant to its log-delivery account, so the bucket keeps ACLs (owner-preferred); it stays private under the public
 * access block. Logs are kept a year.
 */
import { Duration } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

export function accessLogBucket(scope: Construct, id = 'AccessLogs'): Bucket {
  const bucket = new Bucket(scope, id, {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
    lifecycleRules: [{ expiration: Duration.days(365) }],
  });
  NagSuppressions.addResourceSuppressions(bucket, [
    {
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket; logging its own access would write logs about writing logs. Reads of it are in CloudTrail.',
    },
  ]);
  return bucket;
}
