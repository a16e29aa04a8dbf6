/**
 * Where alert-card images live and are served from: a private S3 bucket that only CloudFront may read
 * (Origin Access Control), behind an HTTPS-only distribution. Instagram fetches the image from this URL
 * when it publishes, so the URL must be public while the bucket is not. The same distribution serves the API's
 * public reads (feeds, CAP, zones: lib/public-reads.ts) and the residents' site (lib/public-site.ts), so Herald's
 * public URLs share one host.
 */
import { Duration } from 'aws-cdk-lib';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Distribution,
  HttpVersion,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { accessLogBucket } from './access-logs';

export interface ImageCdnProps {
  /**
   * The agency's own host name for the distribution, with an ACM certificate for it in us-east-1: CloudFront then
   * answers for that name and only with TLS 1.2 or later. Without it the distribution has its *.cloudfront.net name.
   */
  customDomain?: { domainName: string; certificateArn: string };
}

export class ImageCdn extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  /** `https://<distribution domain>`: an image's public URL is this plus `/<key>`. */
  readonly baseUrl: string;

  constructor(scope: Construct, id: string, props: ImageCdnProps = {}) {
    super(scope, id);
    const { customDomain } = props;

    // One bucket for both access logs: the image bucket's server access logs and the distribution's.
    const accessLogs = accessLogBucket(this);

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
      comment: 'Herald public reads: alert images, feeds, CAP, residents site',
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
      ...(customDomain
        ? {
            domainNames: [customDomain.domainName],
            certificate: Certificate.fromCertificateArn(this, 'Certificate', customDomain.certificateArn),
            minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
    });
    this.baseUrl = `https://${this.distribution.distributionDomainName}`;

    NagSuppressions.addResourceSuppressions(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Public alerts are for anyone, wherever they are: residents travelling, media and aggregators abroad, and Instagram’s own fetchers. No geo restriction.',
      },
      {
        id: 'AwsSolutions-CFR2',
        reason:
          'Serves public content: immutable images from S3, and feeds, CAP, zones and the residents’ pages that the API marks cacheable, answered from the cache; Authorization never reaches the origin. The residents’ forms (sign-up, codes, tips, managing a subscription) reach the API uncached, each route throttled at API Gateway well below the stage, and each code and tip limited by the API per address and per viewer address, which CloudFront passes and the API believes only beside the edge secret. What misses the cache (unknown ids) is bounded by the route throttles. A WAF web ACL (rate rules per IP) is the next step if those throttles are ever reached by abuse.',
      },
    ]);
    if (!customDomain) {
      NagSuppressions.addResourceSuppressions(this.distribution, [
        {
          id: 'AwsSolutions-CFR4',
          reason:
            'Uses the default *.cloudfront.net certificate, with which CloudFront does not let the minimum viewer TLS version be set. Given the context publicCertificateArn (a certificate for publicBaseUrl’s host), the distribution answers for that host with TLSv1.2_2021.',
        },
      ]);
    }
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
