/**
 * The officer console on AWS: its static files in a private S3 bucket, served by a CloudFront distribution of
 * its own that also forwards /v1/* to the HTTP API, so the console calls its own origin (no CORS), and signs
 * officers in through the Cognito hosted UI with the authorization-code grant and PKCE.
 *
 * Why a distribution of its own rather than sharing the public one (alert images, feeds, CAP): the console's
 * pages need a strict CSP and no caching of anything signed-in, the public reads want long caching and
 * headers fit for feed readers and Instagram's fetchers; a separate distribution also lets an agency put a WAF
 * web ACL or a geo restriction on the staff console without touching what the public reads.
 *
 * Why /v1/* goes through this distribution: the console then calls `https://<console>/v1/...`, same origin,
 * so the HTTP API needs no CORS and the CSP's connect-src stays 'self' plus the Cognito domain; and the
 * dependency runs one way (distribution → API id; app client → distribution; authorizer → app client), where
 * CORS on the API naming the distribution while the distribution names the API would be a cycle.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AssetHashType, Aws, DockerImage, Duration, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods,
  CachePolicy,
  Function as CloudFrontFunction,
  Distribution,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  ResponseHeadersPolicy,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin, S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import {
  type CfnUserPoolClient,
  type UserPool,
  type UserPoolClient,
  UserPoolDomain,
} from 'aws-cdk-lib/aws-cognito';
import { BlockPublicAccess, Bucket, BucketEncryption, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { BucketDeployment, CacheControl, Source } from 'aws-cdk-lib/aws-s3-deployment';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { consoleContentSecurityPolicy } from '../web/csp';
import { accessLogBucket } from './access-logs';

/** The repository's root: web/ (the console's sources) sits under it. */
const PROJECT_ROOT = join(import.meta.dirname, '..');

/** What the console reads at `/config.json` on AWS (the embedded mode serves `{ mode: 'embedded' }`). */
export interface CognitoConsoleConfig {
  mode: 'cognito';
  /** The hosted UI's base URL, `https://<prefix>.auth.<region>.amazoncognito.com`. */
  domain: string;
  clientId: string;
  /** Where Cognito sends the browser back with `?code=`: the console's own root. */
  redirectUri: string;
  /** The API's base URL: the console's own origin, since this distribution forwards /v1/* to the API. */
  apiBaseUrl: string;
}

export interface ConsoleProps {
  userPool: UserPool;
  /**
   * The console's app client: the one whose id the API's JWT authorizer takes as audience. Its redirect URLs
   * are set here, where the console's URL is known.
   */
  client: UserPoolClient;
  /** The HTTP API (served at its `$default` stage), reached through this distribution under /v1/*. */
  httpApi: IHttpApi;
}

/**
 * Builds the console into `outDir` with the console's own build (web/build.ts: the one the embedded mode serves
 * from memory), run as `tsx web/build.ts <dir>` because the CDK's local bundling is synchronous and that build is
 * not. esbuild only: no Docker, so synth runs offline.
 */
export function buildConsole(outDir: string): void {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'web', 'build.ts'), outDir],
    {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(
      `the console build failed (web/build.ts): ${result.stderr || result.error?.message || ''}`,
    );
  }
}

/**
 * The viewer-request function of the console's behaviour: a path whose last segment has no file extension is
 * a console route (`/alerts/01J…`, `/audit`), answered with index.html so a reload or a shared link opens the
 * app there. This stands in for CloudFront's error responses (403/404 → /index.html 200), which apply to a
 * whole distribution and would turn the API's own 403s and 404s under /v1/* into an HTML page with 200.
 */
export const SPA_FALLBACK_FUNCTION = `function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) request.uri = '/index.html';
  return request;
}`;

/** The console's policy on AWS (web/csp.ts), with the hosted UI's domain, where the code is exchanged for tokens. */
export const consoleCsp = (cognitoBaseUrl: string): string =>
  consoleContentSecurityPolicy({ connect: cognitoBaseUrl });

function contextString(scope: Construct, key: string): string | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export class Console extends Construct {
  readonly bucket: Bucket;
  readonly distribution: Distribution;
  readonly domain: UserPoolDomain;
  /** `https://<console host>` without a trailing slash. */
  readonly url: string;
  /** What `/config.json` holds. */
  readonly config: CognitoConsoleConfig;

  constructor(scope: Construct, id: string, props: ConsoleProps) {
    super(scope, id);
    const stack = Stack.of(this);

    // ------------------------------------------------------------ hosted UI domain
    // A pool has one prefix domain: reuse one the stack already made (context authDomainPrefix), else make it
    // from context cognitoDomainPrefix, else `<stack name>-<account id>` (prefixes are unique per region).
    const existingDomain = props.userPool.node.children.find(
      (c): c is UserPoolDomain => c instanceof UserPoolDomain,
    );
    this.domain =
      existingDomain ??
      props.userPool.addDomain('ConsoleDomain', {
        cognitoDomain: {
          domainPrefix:
            contextString(this, 'cognitoDomainPrefix') ??
            `${stack.stackName.toLowerCase()}-${Aws.ACCOUNT_ID}`,
        },
      });
    const cognitoBaseUrl = this.domain.baseUrl();

    // ------------------------------------------------------------ files
    const accessLogs = accessLogBucket(this);
    this.bucket = new Bucket(this, 'Files', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // SSE-S3: the files are the console's public code (anyone may load the sign-in page); a KMS key would need
      // CloudFront in its policy and a KMS call per cache miss, protecting nothing secret.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // A bad deployment is rolled back by deploying the previous commit; old versions go after a month.
      versioned: true,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'files/',
    });

    // ------------------------------------------------------------ distribution
    const domainName = contextString(this, 'consoleDomainName');
    const certificateArn = contextString(this, 'consoleCertificateArn');
    if ((domainName === undefined) !== (certificateArn === undefined)) {
      throw new Error(
        'context consoleDomainName and consoleCertificateArn go together: a custom domain needs its ACM certificate (in us-east-1)',
      );
    }
    const webAclId = contextString(this, 'consoleWebAclArn');

    const securityHeaders = new ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Herald console: strict CSP, HSTS, no framing, no sniffing, same-origin referrers',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: consoleCsp(cognitoBaseUrl),
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.SAME_ORIGIN, override: true },
      },
      customHeadersBehavior: {
        customHeaders: [
          {
            header: 'Permissions-Policy',
            value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
            override: true,
          },
          { header: 'Cross-Origin-Opener-Policy', value: 'same-origin', override: true },
        ],
      },
    });

    const apiDomain = `${props.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'Herald officer console',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        // OAC (SigV4-signed origin requests), not the legacy OAI; the bucket policy names this distribution.
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: securityHeaders,
        functionAssociations: [
          {
            eventType: FunctionEventType.VIEWER_REQUEST,
            function: new CloudFrontFunction(this, 'SpaFallback', {
              comment: 'Herald console: routes without a file extension get index.html',
              runtime: FunctionRuntime.JS_2_0,
              code: FunctionCode.fromInline(SPA_FALLBACK_FUNCTION),
            }),
          },
        ],
      },
      additionalBehaviors: {
        'v1/*': {
          origin: new HttpOrigin(apiDomain, { protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY }),
          viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: AllowedMethods.ALLOW_ALL,
          // Nothing signed-in is cached. With caching disabled the all-viewer policy forwards Authorization;
          // Host stays the API's own, which API Gateway needs to find the API.
          cachePolicy: CachePolicy.CACHING_DISABLED,
          originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: securityHeaders,
        },
      },
      httpVersion: HttpVersion.HTTP2_AND_3,
      ...(domainName && certificateArn
        ? {
            domainNames: [domainName],
            certificate: Certificate.fromCertificateArn(this, 'Certificate', certificateArn),
            minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
      ...(webAclId ? { webAclId } : {}),
      enableLogging: true,
      logBucket: accessLogs,
      logFilePrefix: 'cdn/',
    });
    this.url = `https://${domainName ?? this.distribution.distributionDomainName}`;

    NagSuppressions.addResourceSuppressions(this.distribution, [
      {
        id: 'AwsSolutions-CFR1',
        reason:
          'Officers sign in from wherever duty takes them (mutual aid, travel); sign-in is guarded by Cognito with MFA required. An agency that wants a geo restriction sets it on this distribution.',
      },
      ...(webAclId
        ? []
        : [
            {
              id: 'AwsSolutions-CFR2',
              reason:
                'No web ACL unless context consoleWebAclArn names one (a CLOUDFRONT-scope ACL must live in us-east-1, outside this stack). The files are static; every /v1/* call needs a Cognito JWT except the public reads, and the API stage throttles.',
            },
          ]),
      ...(domainName
        ? []
        : [
            {
              id: 'AwsSolutions-CFR4',
              reason:
                'Uses the default *.cloudfront.net certificate, with which CloudFront does not let the minimum viewer TLS version be set. Context consoleDomainName + consoleCertificateArn switch to a custom domain with TLSv1.2_2021.',
            },
          ]),
    ]);

    // ------------------------------------------------------------ app client
    // Sign-in returns to the console's root, and sign-out too. http://localhost:3000/ (the embedded mode's
    // default port) only when context consoleLocalCallback is true, for trying the console against AWS.
    const redirectUri = `${this.url}/`;
    const localCallback = ['true', true].includes(this.node.tryGetContext('consoleLocalCallback'));
    const redirectUris = localCallback ? [redirectUri, 'http://localhost:3000/'] : [redirectUri];
    const cfnClient = props.client.node.defaultChild as CfnUserPoolClient;
    cfnClient.callbackUrLs = redirectUris;
    cfnClient.logoutUrLs = redirectUris;

    // ------------------------------------------------------------ deployment
    this.config = {
      mode: 'cognito',
      domain: cognitoBaseUrl,
      clientId: props.client.userPoolClientId,
      redirectUri,
      apiBaseUrl: this.url,
    };
    const built = Source.asset(join(PROJECT_ROOT, 'web'), {
      // The bundle also pulls in code from outside web/ (schemas, the channels' budgets), so the asset is
      // identified by what was built, not by web/'s sources.
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        // Never used: local bundling always answers (or throws), so synth needs no Docker.
        image: DockerImage.fromRegistry('scratch'),
        local: {
          tryBundle(outputDir: string): boolean {
            buildConsole(outputDir);
            return true;
          },
        },
      },
    });
    // Two copies into the one bucket. The hashed script and stylesheet under assets/ never change content:
    // browsers keep them a year, and old ones stay (no pruning) for pages still open on the previous build.
    const assets = new BucketDeployment(this, 'Assets', {
      sources: [built],
      destinationBucket: this.bucket,
      include: ['assets/*'],
      exclude: ['*'],
      prune: false,
      cacheControl: [
        CacheControl.setPublic(),
        CacheControl.maxAge(Duration.days(365)),
        CacheControl.immutable(),
      ],
      memoryLimit: 512,
    });
    // Then index.html (naming those files) and config.json: revalidated on every load, so a deploy is seen at
    // once, and the edge copies invalidated.
    const pages = new BucketDeployment(this, 'Pages', {
      sources: [built, Source.jsonData('config.json', this.config)],
      destinationBucket: this.bucket,
      exclude: ['assets/*'],
      prune: false,
      cacheControl: [CacheControl.noCache()],
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
    });
    pages.node.addDependency(assets);

    // The deployment's handler is one function per stack (a SingletonFunction at the stack's root, its id
    // starting with Custom::CDKBucketDeployment): the findings are its, so the suppressions are put there.
    const handler = stack.node.children.find(
      (c) => c.node.id.startsWith('Custom::CDKBucketDeployment') && pages.handlerRole.node.scope === c,
    );
    if (!handler) throw new Error("the BucketDeployment's handler function was not found beside the stack");
    NagSuppressions.addResourceSuppressions(
      handler,
      [
        {
          id: 'AwsSolutions-IAM4',
          reason:
            "The CDK's BucketDeployment handler writes its own logs through AWSLambdaBasicExecutionRole; it runs only while CloudFormation deploys.",
          appliesTo: [
            'Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
          ],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "The CDK's BucketDeployment handler reads the built console from the CDK asset bucket and syncs it into the console bucket (object keys are the build's, not known in advance: <bucket>/* with the CDK's s3:GetObject*/List*/DeleteObject*/Abort* grants), then invalidates the distribution (CloudFront invalidation calls, Resource *). It runs only while CloudFormation deploys.",
          appliesTo: [
            'Action::s3:GetObject*',
            'Action::s3:GetBucket*',
            'Action::s3:List*',
            'Action::s3:DeleteObject*',
            'Action::s3:Abort*',
            {
              regex:
                '/^Resource::arn:<AWS::Partition>:s3:::cdk-[a-z0-9]+-assets-<AWS::AccountId>-<AWS::Region>\\/\\*$/g',
            },
            `Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*`,
            'Resource::*',
          ],
        },
        {
          id: 'AwsSolutions-L1',
          reason:
            "The runtime of the CDK's BucketDeployment handler is set by aws-cdk-lib and moves with it; it runs only while CloudFormation deploys.",
        },
      ],
      true,
    );
  }
}
