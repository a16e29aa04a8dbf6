/**
 * The residents' public site behind CloudFront: server-rendered pages the api function answers (current alerts, one
 * alert and its tip form, sign-up, managing a subscription, privacy) and their stylesheet and script. They are
 * behaviours of the public distribution (lib/image-cdn.ts), after the API's public reads (lib/public-reads.ts), on the
 * same origin: the HTTP API, with the edge secret header.
 *
 * What is cached and what is not. A behaviour cannot tell GET from POST, so the patterns put cached pages and personal
 * requests in different behaviours wherever the paths allow it: the tip form's POST (`/alerts/{id}/tips`) has a pattern
 * of its own before the alert page's, the code's confirmation (`/subscribe/confirm`) one apart from `/subscribe`, and
 * everything under `/manage` (a resident's own settings, behind a session cookie) is never cached. `/subscribe` alone
 * is both a page and a form (GET shows it, POST sends the code). It stays cached, because the sign-up page is what a
 * crowd opens in an emergency, and is safe to share with the POST because CloudFront never caches a response to POST
 * whatever its headers say (the api marks them no-store all the same), the cache key holds no cookie and no header, and
 * nothing personal is forwarded on that path: no cookie, no query string but `lang`. The POST needs only the form body,
 * which CloudFront always forwards, and the few headers listed in FORM_HEADERS, which the page's GET must not vary on.
 *
 * Languages without fragmenting the cache. Pages speak `?lang=` or, without it, the best of `Accept-Language`. Keyed on
 * Accept-Language the cache would hold a copy per header spelling (thousands); keyed on nothing it would serve one
 * language to everyone. So a viewer-request function settles the language at the edge, choosing as the page itself would
 * (functions/site/i18n.ts), and writes it into `lang`, the one query string in the key: at most one copy of a page per
 * language. Accept-Language never reaches the origin, so through CloudFront every page request names its language.
 *
 * The viewer's address. Through CloudFront, API Gateway's sourceIp is an edge server's, so every resident would share
 * one sign-up and tip allowance. The same function writes the viewer's address into VIEWER_IP_HEADER over anything the
 * viewer sent under that name; the api believes it only beside the edge secret the origin adds (`clientKey`,
 * functions/api/residents.ts). The header reaches the origin only where an origin request policy forwards it (the
 * forms), and every such behaviour runs the function.
 *
 * Counting without tracking (functions/site/counters.ts). A channel's link `/a/{id}/{code}` and the alert page's view
 * image `/alerts/{id}/seen.gif` count one click or view per request, so they are never cached (`count` behaviours, the
 * image's pattern before `/alerts/*`); they get only the User-Agent (to leave link-preview robots out, never stored) and
 * `from`, no cookie and no viewer address. The page itself stays cached, keyed on `lang` and `from`: the function keeps
 * `from` on `/alerts/{id}` only, and only when it is a channel's code, so an alert page has at most (codes + 1) copies
 * per language, and the image it carries says which channel brought the reader.
 *
 * Response headers: the pages send their own Content-Security-Policy, which the site's policy leaves alone (it sets
 * none); it adds HSTS, nosniff and X-Frame-Options DENY over whatever the origin says (the strictest values there are),
 * and a same-origin Referrer-Policy where the page sends none (a page may choose a stricter one).
 */
import { Duration } from 'aws-cdk-lib';
import {
  AllowedMethods,
  CachedMethods,
  CachePolicy,
  CacheQueryStringBehavior,
  type Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HeadersFrameOption,
  HeadersReferrerPolicy,
  type ICachePolicy,
  type IOrigin,
  type IOriginRequestPolicy,
  OriginRequestCookieBehavior,
  OriginRequestHeaderBehavior,
  OriginRequestPolicy,
  OriginRequestQueryStringBehavior,
  ResponseHeadersPolicy,
  ViewerProtocolPolicy,
} from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';
import { VIEWER_IP_HEADER } from '../functions/api/residents';
import { LINK_CODES } from '../functions/core/links';
import { MANAGE_COOKIE } from '../functions/site/forms';
import type { RouteSpec } from '../schemas/routes';
import { originCachePolicy } from './public-reads';

/**
 * The query parameters a cached page is keyed on: `?lang=`, which the edge always sets, and `?from=`, the channel code
 * an alert page was reached from, which the edge keeps on `/alerts/{id}` only and only when it is a channel's code:
 * at most (channels + 1) copies of an alert page per language.
 */
export const PAGE_QUERY_PARAMETERS = ['lang', 'from'] as const;

/**
 * What a counting request needs (`count` behaviours): the User-Agent, read only to leave link-preview robots (X's,
 * Facebook's, Telegram's… fetching a posted link to draw its card) out of the clicks, never stored; and `from`.
 */
export const COUNT_HEADERS = ['user-agent'] as const;
export const COUNT_QUERY_PARAMETERS = ['from'] as const;

/**
 * What a form's POST needs besides its body: the headers the api checks a cross-site post by (Origin, Sec-Fetch-Site),
 * the body's type, and the viewer's address for the rate limits. Never Authorization (CloudFront forbids it in an
 * origin request policy anyway), Accept-Language (the edge has turned it into `lang`) or Host (the API's own).
 */
export const FORM_HEADERS = ['origin', 'sec-fetch-site', 'content-type', VIEWER_IP_HEADER] as const;

/**
 * How a behaviour treats requests:
 * - `page`: GET and HEAD, cached as the origin's Cache-Control says, keyed on `lang`; nothing else forwarded.
 * - `page-and-form`: the same cache, and POST allowed (never cached by CloudFront) with FORM_HEADERS forwarded.
 * - `form`: any method, never cached; FORM_HEADERS and every query string forwarded, no cookie.
 * - `session`: as `form`, plus the MANAGE_COOKIE cookie.
 * - `asset`: GET and HEAD of content-hashed files, cached as the origin says (a year), keyed on the path alone.
 * - `count`: GET and HEAD that count a click or a page view (functions/site/counters.ts), never cached, so each one
 *   reaches the origin; only COUNT_HEADERS and COUNT_QUERY_PARAMETERS are forwarded: no cookie, and not the viewer's
 *   address (the site function, which writes it, does not run here).
 */
export type SiteBehaviourKind = 'page' | 'page-and-form' | 'form' | 'session' | 'asset' | 'count';

/**
 * The site's CloudFront path patterns, in the order CloudFront tries them (after PUBLIC_READ_BEHAVIOURS): the one list
 * the behaviours are made from, and that test/cdk/site.test.ts checks every site route of schemas/routes.ts against.
 * `*` matches any characters, `/` included, so a more specific pattern must come first.
 */
export const SITE_BEHAVIOURS = [
  { pathPattern: '/alerts', kind: 'page' },
  { pathPattern: '/alerts/*/tips', kind: 'form' },
  { pathPattern: '/alerts/*/seen.gif', kind: 'count' },
  { pathPattern: '/alerts/*', kind: 'page' },
  { pathPattern: '/a/*', kind: 'count' },
  { pathPattern: '/subscribe', kind: 'page-and-form' },
  { pathPattern: '/subscribe/*', kind: 'form' },
  { pathPattern: '/manage*', kind: 'session' },
  { pathPattern: '/privacy', kind: 'page' },
  { pathPattern: '/site/*', kind: 'asset' },
] as const satisfies readonly { pathPattern: string; kind: SiteBehaviourKind }[];

/** A route of the residents' site (`site: true` in schemas/routes.ts). */
export const isSiteRoute = (route: RouteSpec): boolean => route.site === true;

/**
 * The site's viewer-request function, written from the agency's languages (primary subtags, the default first). It
 * sets `lang` to the language the page would choose: `?lang=` when it names one of them (by its primary subtag, `ES` and
 * `es-MX` alike giving `es`), else the one Accept-Language weighs highest (q=1 when unsaid, q=0 meaning "not this", the
 * first listed of equal weights), else the default. Any other `lang` is replaced, so a made-up value can neither add a
 * cache entry nor skip the cache. And it sets VIEWER_IP_HEADER to the address CloudFront received the request from.
 */
export function siteRequestFunctionCode(
  languages: readonly string[],
  linkCodes: readonly string[] = LINK_CODES,
): string {
  if (languages.length === 0) throw new Error('the site needs at least one language');
  return [
    `var LANGUAGES = ${JSON.stringify(languages)};`,
    `var VIEWER_IP = ${JSON.stringify(VIEWER_IP_HEADER)};`,
    `var LINK_CODES = ${JSON.stringify(linkCodes)};`,
    // An alert's page, not its card or tip form: the one page whose key holds `from`.
    'var ALERT_PAGE = /^\\/alerts\\/[^\\/]+$/;',
    'function known(tag) {',
    "  var primary = tag.toLowerCase().split('-')[0];",
    '  return LANGUAGES.indexOf(primary) >= 0 ? primary : undefined;',
    '}',
    'function fromAcceptLanguage(header) {',
    '  var best;',
    '  var bestWeight = 0;',
    "  var parts = header.split(',');",
    '  for (var i = 0; i < parts.length; i++) {',
    "    var fields = parts[i].split(';');",
    '    var language = known(fields[0].trim());',
    '    if (language === undefined) continue;',
    '    var weight = 1;',
    '    for (var j = 1; j < fields.length; j++) {',
    '      var param = fields[j].trim();',
    "      if (param.indexOf('q=') === 0) {",
    '        weight = Number(param.slice(2));',
    '        break;',
    '      }',
    '    }',
    '    if (isFinite(weight) && weight > bestWeight) {',
    '      best = language;',
    '      bestWeight = weight;',
    '    }',
    '  }',
    '  return best;',
    '}',
    'function handler(event) {',
    '  var request = event.request;',
    '  var asked = request.querystring.lang;',
    "  var accepted = request.headers['accept-language'];",
    '  var language =',
    '    (asked && known(asked.value)) || (accepted && fromAcceptLanguage(accepted.value)) || LANGUAGES[0];',
    '  request.querystring.lang = { value: language };',
    '  var from = request.querystring.from;',
    '  if (from && ALERT_PAGE.test(request.uri) && !from.multiValue && LINK_CODES.indexOf(from.value) >= 0)',
    '    request.querystring.from = { value: from.value };',
    '  else delete request.querystring.from;',
    '  request.headers[VIEWER_IP] = { value: event.viewer.ip };',
    '  return request;',
    '}',
  ].join('\n');
}

export interface PublicSiteProps {
  /** The public distribution (the image CDN's), which already holds the public reads. */
  distribution: Distribution;
  /** The HTTP API with the edge secret header (PublicReads.apiOrigin). */
  origin: IOrigin;
  /** Path only, as the origin's Cache-Control says (PublicReads.readsCachePolicy): the content-hashed assets. */
  assetCachePolicy: ICachePolicy;
  /** The agency's languages, the default first (context `languages`, lib/herald-function.ts). */
  languages: readonly string[];
}

export class PublicSite extends Construct {
  /** As the origin's Cache-Control says, keyed on `lang` alone. */
  readonly pageCachePolicy: CachePolicy;
  readonly viewerRequestFunction: EdgeFunction;
  readonly responseHeadersPolicy: ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: PublicSiteProps) {
    super(scope, id);

    this.pageCachePolicy = originCachePolicy(
      this,
      'PageCache',
      'Herald residents site pages: as the origin Cache-Control says; the lang parameter only',
      CacheQueryStringBehavior.allowList(...PAGE_QUERY_PARAMETERS),
    );

    const formRequests = (
      name: string,
      comment: string,
      cookies: OriginRequestCookieBehavior,
      queryStrings: OriginRequestQueryStringBehavior,
    ) =>
      new OriginRequestPolicy(this, name, {
        comment,
        headerBehavior: OriginRequestHeaderBehavior.allowList(...FORM_HEADERS),
        cookieBehavior: cookies,
        queryStringBehavior: queryStrings,
      });
    const originRequests: Record<Exclude<SiteBehaviourKind, 'page' | 'asset'>, IOriginRequestPolicy> = {
      // A click or a view: the robot check's User-Agent and the channel code, nothing else of the viewer.
      count: new OriginRequestPolicy(this, 'CountRequests', {
        comment: 'Herald link clicks and page views: user-agent (robots are not counted) and from; no cookie',
        headerBehavior: OriginRequestHeaderBehavior.allowList(...COUNT_HEADERS),
        cookieBehavior: OriginRequestCookieBehavior.none(),
        queryStringBehavior: OriginRequestQueryStringBehavior.allowList(...COUNT_QUERY_PARAMETERS),
      }),
      // No query string beyond the cache key's `lang`: the GET answered from this behaviour is cached by that key.
      'page-and-form': formRequests(
        'SignUpRequests',
        'Herald sign-up page and form: form headers; no cookie; no query string but the cache key lang',
        OriginRequestCookieBehavior.none(),
        OriginRequestQueryStringBehavior.none(),
      ),
      form: formRequests(
        'FormRequests',
        'Herald site forms: form headers and every query string; no cookie',
        OriginRequestCookieBehavior.none(),
        OriginRequestQueryStringBehavior.all(),
      ),
      session: formRequests(
        'SessionRequests',
        'Herald manage pages: form headers, every query string and the manage session cookie',
        OriginRequestCookieBehavior.allowList(MANAGE_COOKIE),
        OriginRequestQueryStringBehavior.all(),
      ),
    };

    this.viewerRequestFunction = new EdgeFunction(this, 'ViewerRequest', {
      comment: 'Herald site: lang from Accept-Language when absent; the viewer address for the rate limits',
      code: FunctionCode.fromInline(siteRequestFunctionCode(props.languages)),
      runtime: FunctionRuntime.JS_2_0,
    });

    this.responseHeadersPolicy = new ResponseHeadersPolicy(this, 'Headers', {
      comment:
        'Herald residents site: HSTS, nosniff, no framing, same-origin referrer; the page sets its own CSP',
      securityHeadersBehavior: {
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: false,
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: HeadersFrameOption.DENY, override: true },
        // Same-origin keeps the Origin header on the site's own POSTs (no-referrer would make it "null" and fail the
        // api's cross-site check) and tells other sites nothing of the page a resident came from.
        referrerPolicy: { referrerPolicy: HeadersReferrerPolicy.SAME_ORIGIN, override: false },
      },
    });

    for (const { pathPattern, kind } of SITE_BEHAVIOURS) {
      const cached = kind === 'page' || kind === 'page-and-form' || kind === 'asset';
      props.distribution.addBehavior(pathPattern, props.origin, {
        viewerProtocolPolicy: ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods:
          kind === 'page' || kind === 'asset' || kind === 'count'
            ? AllowedMethods.ALLOW_GET_HEAD
            : AllowedMethods.ALLOW_ALL,
        cachedMethods: CachedMethods.CACHE_GET_HEAD,
        compress: true,
        cachePolicy:
          kind === 'asset'
            ? props.assetCachePolicy
            : cached
              ? this.pageCachePolicy
              : CachePolicy.CACHING_DISABLED,
        // Pages and assets: none, so the origin gets the path, the cache key's query string and CloudFront's own
        // headers, never a cookie or Authorization.
        ...(kind === 'page' || kind === 'asset' ? {} : { originRequestPolicy: originRequests[kind] }),
        responseHeadersPolicy: this.responseHeadersPolicy,
        // Assets are the same for everyone and in every language; a count needs neither a language nor an address.
        ...(kind === 'asset' || kind === 'count'
          ? {}
          : {
              functionAssociations: [
                { eventType: FunctionEventType.VIEWER_REQUEST, function: this.viewerRequestFunction },
              ],
            }),
      });
    }
  }
}
