/**
 * The public reads of the HTTP API behind CloudFront: the feeds media and aggregators poll, the CAP of each alert and
 * the zones. They are added as behaviours of the distribution that already serves the alert images (lib/image-cdn.ts),
 * beside the residents' site (lib/public-site.ts), so every public URL Herald hands out (feed, CAP, page, card image) is
 * on one https host with one log, and nothing else of the API is reachable through it: any other path falls to the
 * image bucket, which answers 403.
 *
 * Caching follows the origin: the api sends `Cache-Control` (30 s for the feeds, 60 s for a current CAP, a year for a
 * version's CAP) and a strong `ETag`. CloudFront keeps a response as long as its Cache-Control says, answers a viewer's
 * `If-None-Match` that matches the cached ETag with 304 itself, and revalidates an expired response with the origin by
 * its ETag, which the api answers with 304. So If-None-Match is not part of the cache key (that would keep one copy per
 * ETag a client happens to hold), and no Authorization header or cookie ever reaches the origin from these paths: they
 * are public, and nothing cached may depend on who asked.
 *
 * The origin, shared with the site, carries the edge secret: a value generated at deploy into Secrets Manager that
 * CloudFront adds to every request it sends the API (`x-herald-edge-secret`). A request that has it came through this
 * distribution, which is what lets the api believe the viewer address the site's edge function passes it
 * (functions/api/residents.ts, `clientKey`); a direct caller of the execute-api URL does not know it.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { IHttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  AllowedMethods,
  CacheCookieBehavior,
  CachedMethods,
  CacheHeaderBehavior,
  CachePolicy,
  CacheQueryStringBehavior,
  type Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  type IOrigin,
  OriginProtocolPolicy,
  OriginSslPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { CAP_PATH_ALIAS } from '../functions/api/cap-path';
import { EDGE_SECRET_HEADER, EDGE_SECRET_KEY } from '../functions/api/residents';
import { ENV } from '../functions/shared/config';

/**
 * The CloudFront path patterns of the API's public reads, in the order CloudFront tries them (before the site's,
 * lib/public-site.ts). In a path pattern `*` matches any characters, `/` included. `capAlias` marks the one whose viewer
 * requests are rewritten from the contract's `.cap` URLs to the routes API Gateway can hold.
 */
export const PUBLIC_READ_BEHAVIOURS = [
  { pathPattern: '/v1/feed.atom' },
  { pathPattern: '/v1/feed.rss' },
  { pathPattern: '/v1/feed.json' },
  { pathPattern: '/v1/zones' },
  { pathPattern: '/v1/alerts/*.cap', capAlias: true },
  { pathPattern: '/v1/alerts/*/cap' },
] as const satisfies readonly { pathPattern: string; capAlias?: boolean }[];

/**
 * A cache policy that keeps what the origin marks cacheable as long as it says (and nothing it does not: its errors say
 * no-store), up to a year (a CAP version and a content-hashed asset are immutable), keyed on the path, the given query
 * strings and nothing else: no header, no cookie.
 */
export function originCachePolicy(
  scope: Construct,
  id: string,
  comment: string,
  queryStrings: CacheQueryStringBehavior,
): CachePolicy {
  return new CachePolicy(scope, id, {
    comment,
    minTtl: Duration.seconds(0),
    defaultTtl: Duration.seconds(0),
    maxTtl: Duration.days(365),
    headerBehavior: CacheHeaderBehavior.none(),
    cookieBehavior: CacheCookieBehavior.none(),
    queryStringBehavior: queryStrings,
    // Compressed at the edge for whoever accepts it; the key keeps the encodings apart.
    enableAcceptEncodingGzip: true,
    enableAcceptEncodingBrotli: true,
  });
}

/**
 * The viewer-request function's code, written from the same pattern and replacement as the api's `capPathAlias`
 * (functions/api/cap-path.ts), so the edge and the router map the `.cap` URLs exactly alike.
 */
export function capAliasFunctionCode(): string {
  return [
    `var CAP_PATH = ${CAP_PATH_ALIAS.pattern.toString()};`,
    `var CAP_ROUTE = ${JSON.stringify(CAP_PATH_ALIAS.replacement)};`,
    'function handler(event) {',
    '  var request = event.request;',
    '  request.uri = request.uri.replace(CAP_PATH, CAP_ROUTE);',
    '  return request;',
    '}',
  ].join('\n');
}

export interface PublicReadsProps {
  /** The distribution to add the behaviours to (the image CDN's). */
  distribution: Distribution;
  /** The HTTP API whose `$default` stage serves the public reads. */
  httpApi: IHttpApi;
}

export class PublicReads extends Construct {
  /** No query string, no header, no cookie: one cached copy per path. */
  readonly readsCachePolicy: CachePolicy;
  readonly capAliasFunction: EdgeFunction;
  /** The HTTP API's `$default` stage as CloudFront's origin, with the edge secret header: the site's origin too. */
  readonly apiOrigin: IOrigin;
  /** The value CloudFront sends the API in `x-herald-edge-secret`, JSON `{"value": "…"}`. */
  readonly edgeSecret: Secret;

  constructor(scope: Construct, id: string, props: PublicReadsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.readsCachePolicy = originCachePolicy(
      this,
      'ReadsCache',
      'Herald public reads: as the origin Cache-Control says; no query, header or cookie',
      CacheQueryStringBehavior.none(),
    );

    this.capAliasFunction = new EdgeFunction(this, 'CapAlias', {
      comment: 'Herald: /v1/alerts/{id}.cap and …/versions/{n}.cap onto the API routes …/cap',
      code: FunctionCode.fromInline(capAliasFunctionCode()),
      runtime: FunctionRuntime.JS_2_0,
    });

    // Letters and digits only (a header value needs no escaping), 64 of them: not guessable, and generated by Secrets
    // Manager at deploy, so it is in no template, no repository and no build log.
    this.edgeSecret = new Secret(this, 'EdgeSecret', {
      description:
        'Herald: sent by CloudFront to the API in x-herald-edge-secret, so the API can tell CloudFront from a direct caller',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: EDGE_SECRET_KEY,
        passwordLength: 64,
        excludePunctuation: true,
        includeSpace: false,
      },
    });
    NagSuppressions.addResourceSuppressions(this.edgeSecret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'Not a credential to any service: it only tells the API that a request came through CloudFront, so it can believe the viewer address the edge passes (rate limits). CloudFormation resolves the dynamic reference in the distribution’s origin header only when it updates the distribution, so an automatic rotation would leave CloudFront sending the old value, and the API, which reads the new one, would count every resident as one client until the next deploy. Rotating it is therefore a deployment: put a new value, then deploy a change to the distribution so CloudFront sends it; the API takes it up within five minutes (functions/api/handler.ts).',
      },
    ]);

    // The $default stage of an HTTP API answers at the root of its execute-api host. The header's value is a
    // CloudFormation dynamic reference ({{resolve:secretsmanager:…}}), which CloudFormation resolves at deploy and
    // supports in any resource property: the template holds the secret's ARN, never its value. CloudFront replaces a
    // header of the same name a viewer sends.
    this.apiOrigin = new HttpOrigin(`${props.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`, {
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [OriginSslPolicy.TLS_V1_2],
      customHeaders: {
        [EDGE_SECRET_HEADER]: this.edgeSecret.secretValueFromJson(EDGE_SECRET_KEY).unsafeUnwrap(),
      },
    });

    for (const behaviour of PUBLIC_READ_BEHAVIOURS) {
      const isCapAlias = 'capAlias' in behaviour && behaviour.capAlias;
      props.distribution.addBehavior(behaviour.pathPattern, this.apiOrigin, {
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: CachedMethods.CACHE_GET_HEAD,
        compress: true,
        cachePolicy: this.readsCachePolicy,
        // No origin request policy: the origin gets the path, the cache key's query string and CloudFront's own
        // headers (Host is the API's), never the viewer's Authorization or cookies.
        responseHeadersPolicy: ResponseHeadersPolicy.SECURITY_HEADERS,
        ...(isCapAlias
          ? {
              functionAssociations: [
                { eventType: FunctionEventType.VIEWER_REQUEST, function: this.capAliasFunction },
              ],
            }
          : {}),
      });
    }
  }

  /**
   * Lets `fn` read the edge secret (GetSecretValue on this one secret) and tells it the ARN: the api, which checks
   * the header against it before it believes a viewer address.
   */
  trustEdgeIn(fn: LambdaFunction): void {
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [this.edgeSecret.secretArn],
      }),
    );
    fn.addEnvironment(ENV.edgeSecretArn, this.edgeSecret.secretArn);
  }
}
