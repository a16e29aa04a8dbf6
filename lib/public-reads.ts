/**
 * The public reads of the HTTP API behind CloudFront: the feeds media and aggregators poll, the CAP of each alert,
 * the zones and the public alert page. They are added as behaviours of the distribution that already serves the
 * alert images (lib/image-cdn.ts), so every public URL Herald hands out (feed, CAP, page, card image) is on one
 * https host with one log and one set of security headers, and nothing else of the API is reachable through it:
 * any other path falls to the image bucket, which answers 403.
 *
 * Caching follows the origin: the api sends `Cache-Control` (30 s for the feeds, 60 s for a current CAP or page,
 * a year for a version's CAP) and a strong `ETag`. CloudFront keeps a response as long as its Cache-Control says,
 * answers a viewer's `If-None-Match` that matches the cached ETag with 304 itself, and revalidates an expired
 * response with the origin by its ETag, which the api answers with 304. So If-None-Match is not part of the cache
 * key (that would keep one copy per ETag a client happens to hold), and no Authorization header or cookie ever
 * reaches the origin from these paths: they are public, and nothing cached may depend on who asked.
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
  OriginProtocolPolicy,
  OriginSslPolicy,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { HttpOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Construct } from 'constructs';
import { CAP_PATH_ALIAS } from '../functions/api/cap-path';

/** Query parameters the public page reads (`?lang=` picks a translation); the other reads take none. */
export const PAGE_QUERY_PARAMETERS = ['lang'] as const;

/**
 * The CloudFront path patterns served from the API, in the order CloudFront tries them. In a path pattern `*`
 * matches any characters, `/` included. `page` marks the one that keeps PAGE_QUERY_PARAMETERS; `capAlias` the one
 * whose viewer requests are rewritten from the contract's `.cap` URLs to the routes API Gateway can hold.
 */
export const PUBLIC_READ_BEHAVIOURS = [
  { pathPattern: '/v1/feed.atom' },
  { pathPattern: '/v1/feed.rss' },
  { pathPattern: '/v1/feed.json' },
  { pathPattern: '/v1/zones' },
  { pathPattern: '/v1/alerts/*.cap', capAlias: true },
  { pathPattern: '/v1/alerts/*/cap' },
  { pathPattern: '/alerts/*', page: true },
] as const satisfies readonly { pathPattern: string; page?: boolean; capAlias?: boolean }[];

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
  /** The same, plus the page's `lang` parameter. */
  readonly pageCachePolicy: CachePolicy;
  readonly capAliasFunction: EdgeFunction;

  constructor(scope: Construct, id: string, props: PublicReadsProps) {
    super(scope, id);
    const stack = Stack.of(this);

    const cachePolicy = (name: string, comment: string, queryStrings: CacheQueryStringBehavior) =>
      new CachePolicy(this, name, {
        comment,
        // Nothing is cached that the origin does not mark cacheable (its errors say no-store), and whatever it
        // marks is kept as long as it says, up to a year (a CAP version is immutable).
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
    this.readsCachePolicy = cachePolicy(
      'ReadsCache',
      'Herald public reads: as the origin Cache-Control says; no query, header or cookie',
      CacheQueryStringBehavior.none(),
    );
    this.pageCachePolicy = cachePolicy(
      'PageCache',
      'Herald public alert page: as the origin Cache-Control says; the lang parameter only',
      CacheQueryStringBehavior.allowList(...PAGE_QUERY_PARAMETERS),
    );

    this.capAliasFunction = new EdgeFunction(this, 'CapAlias', {
      comment: 'Herald: /v1/alerts/{id}.cap and …/versions/{n}.cap onto the API routes …/cap',
      code: FunctionCode.fromInline(capAliasFunctionCode()),
      runtime: FunctionRuntime.JS_2_0,
    });

    // The $default stage of an HTTP API answers at the root of its execute-api host.
    const origin = new HttpOrigin(`${props.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`, {
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [OriginSslPolicy.TLS_V1_2],
    });

    for (const behaviour of PUBLIC_READ_BEHAVIOURS) {
      const isPage = 'page' in behaviour && behaviour.page;
      const isCapAlias = 'capAlias' in behaviour && behaviour.capAlias;
      props.distribution.addBehavior(behaviour.pathPattern, origin, {
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachedMethods: CachedMethods.CACHE_GET_HEAD,
        compress: true,
        cachePolicy: isPage ? this.pageCachePolicy : this.readsCachePolicy,
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
}
