/**
 * Where alert-card images live and are served from: a private S3 bucket that only CloudFront may read
 * (Origin Access Control), behind an HTTPS-only distribution. Instagram fetches the image from this URL
 * when it publishes, so the URL must be public while the bucket is not.
 */
import { Duration } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HttpVersion,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';

export class ImageCdn extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** `https://<distribution domain>`: an image's public URL is this plus `/<key>`. */
  readonly baseUrl: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    // One bucket for both access logs: the image bucket's server access logs and the distribution's.
    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logging writes through an ACL grant to its log-delivery account, so this bucket
      // keeps ACLs (owner-preferred); it is still private under the public access block.
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    NagSuppressions.addResourceSuppressions(accessLogs, [
      {
        id: 'AwsSolutions-S1',
        reason:
          'This is the access-log bucket; logging its own access would write logs about writing logs. Reads of it are in CloudTrail.',
      },
    ]);

    this.bucket = new Bucket(this, 'Images', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // SSE-S3 rather than SSE-KMS: every object here is published to the world through the CDN, and a KMS
      // key would need CloudFront in its key policy and a KMS request per cache miss, protecting nothing.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'images/',
      // Cards are derived from alerts (kept in the table) and can be rendered again; a year covers links in
      // posts and emails that people still follow.
      lifecycleRules: [
        { expiration: Duration.days(365), abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Herald alert images',
      defaultBehavior: {
        // OAC (SigV4-signed origin requests), not the legacy OAI; the bucket policy names this distribution.
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        // Keys are never reused for different bytes, so the edge may keep an object as long as it likes.
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: accessLogs,
      logFilePrefix: 'cdn/',
    });
    this.baseUrl = `https://${this.distribution.distributionDomainName}`;

    NagSuppressions.addResourceSuppressions(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Public alerts are for anyone, wherever they are: residents travelling, media abroad and Instagram’s own fetchers. No geo restriction.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Serves static, public, immutable images with GET/HEAD only; the cache absorbs floods and there is nothing to inject into. A WAF web ACL would cost more than it protects.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'Uses the default *.cloudfront.net certificate, with which CloudFront does not let the minimum viewer TLS version be set. A custom domain with its own certificate would allow TLSv1.2_2021.',
      },
    ]);
  }

  /** Lets `fn` write objects into the image bucket: s3:PutObject there and nothing else. */
  grantPut(fn: IFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:PutObject'], resources: [this.bucket.arnForObjects('*')] }),
    );
    if (fn.role) {
      NagSuppressions.addResourceSuppressions(
        fn.role,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason:
              'Image keys are made per alert at run time, so PutObject is granted on <image bucket ARN>/*: every key in that one bucket, no other bucket and no other action.',
            appliesTo: [{ regex: '/^Resource::<.*Images.*\\.Arn>\\/\\*$/g' }],
          },
        ],
        true,
      );
    }
  }
}
