/**
 * The residents' site behind CloudFront, read from the synthesized Herald stack: every site route reaches the API
 * through a behaviour of lib/public-site.ts; public pages are cached by language and nothing personal is; the form
 * headers, and the manage cookie on /manage only, reach the origin; the viewer-request function (run in a vm) settles
 * the language as the page would and passes the viewer's address; and only a request through CloudFront can vouch for
 * that address, by the edge secret the origin adds, which the template holds as a reference, never as a value.
 *
 * Bundling is skipped (`aws:cdk:bundling-stacks`): these tests read the template, not the code;
 * test/cdk/herald-stack.test.ts synthesizes with the bundles and checks the whole stack against cdk-nag.
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { CachePolicy } from 'aws-cdk-lib/aws-cloudfront';
import { AwsSolutionsChecks } from 'cdk-nag';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { EDGE_SECRET_HEADER, EDGE_SECRET_KEY, VIEWER_IP_HEADER } from '../../functions/api/residents';
import { LINK_CODES } from '../../functions/core/links';
import { DEFAULT_LANGUAGES, ENV } from '../../functions/shared/config';
import { MANAGE_COOKIE } from '../../functions/site/forms';
import { pickLanguage } from '../../functions/site/i18n';
import { agencyLanguages } from '../../lib/herald-function';
import { HeraldStack, PUBLIC_READ_LIMIT, SIGN_UP_LIMIT } from '../../lib/herald-stack';
import { PUBLIC_READ_BEHAVIOURS } from '../../lib/public-reads';
import {
  COUNT_HEADERS,
  COUNT_QUERY_PARAMETERS,
  FORM_HEADERS,
  isSiteRoute,
  PAGE_QUERY_PARAMETERS,
  SITE_BEHAVIOURS,
  siteRequestFunctionCode,
} from '../../lib/public-site';
import { ROUTES, type RouteSpec } from '../../schemas/routes';
import { asList, type CfnResource, idOf, type Statement } from '../helpers/cfn';

interface Behaviour {
  PathPattern: string;
  TargetOriginId: string;
  ViewerProtocolPolicy: string;
  AllowedMethods: string[];
  CachedMethods?: string[];
  CachePolicyId: unknown;
  OriginRequestPolicyId?: unknown;
  ResponseHeadersPolicyId?: unknown;
  FunctionAssociations?: { EventType: string; FunctionARN: unknown }[];
}
interface Origin {
  Id: string;
  DomainName: unknown;
  CustomOriginConfig?: Record<string, unknown>;
  OriginCustomHeaders?: { HeaderName: string; HeaderValue: unknown }[];
}
interface DistributionConfig {
  Origins: Origin[];
  CacheBehaviors: Behaviour[];
}
interface KeyConfig {
  HeadersConfig: { HeaderBehavior: string; Headers?: string[] };
  CookiesConfig: { CookieBehavior: string; Cookies?: string[] };
  QueryStringsConfig: { QueryStringBehavior: string; QueryStrings?: string[] };
}

const { context: cdkContext } = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
) as { context: Record<string, unknown> };

/** The site's paths as the brief for the site names them; ROUTES' `site` routes are checked beside these. */
const SITE_ROUTES_LISTED: readonly (readonly [RouteSpec['method'], string])[] = [
  ['GET', '/alerts'],
  ['GET', '/alerts/{id}'],
  ['POST', '/alerts/{id}/tips'],
  ['GET', '/subscribe'],
  ['POST', '/subscribe'],
  ['POST', '/subscribe/confirm'],
  ['GET', '/manage'],
  ['POST', '/manage'],
  ['POST', '/manage/code'],
  ['POST', '/manage/settings'],
  ['POST', '/manage/end'],
  ['GET', '/privacy'],
  ['GET', '/site/{asset}'],
];
const siteRoutes = (ROUTES as readonly RouteSpec[]).filter(isSiteRoute);
const ALL_SITE_ROUTES = [
  ...new Set([
    ...SITE_ROUTES_LISTED.map(([m, p]) => `${m} ${p}`),
    ...siteRoutes.map((r) => `${r.method} ${r.path}`),
  ]),
].map((key) => key.split(' ') as [RouteSpec['method'], string]);

const CACHING_DISABLED = CachePolicy.CACHING_DISABLED.cachePolicyId;

/** A concrete path for a route's path: `{id}` an alert id, `{asset}` a hashed file name. */
const sample = (path: string) =>
  path
    .replace(/\{id\}/g, '01JQ3ZB6V4TQ9Y8X7W6V5T4S3R')
    .replace(/\{asset\}/g, 'site.5f3c2a1b.css')
    .replace(/\{[^}]+\}/g, 'x');

/** A CloudFront path pattern as a regular expression: `*` any characters (`/` too), `?` one. */
const patternRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('')}$`,
  );

interface Synthesized {
  resources: Record<string, CfnResource>;
  annotations: Annotations;
}
let herald: Synthesized;

beforeAll(() => {
  const app = new App({
    context: {
      ...cdkContext,
      'aws:cdk:bundling-stacks': [],
      '@aws-cdk/core:annotationsInValidationReport': false,
    },
  });
  const stack = new HeraldStack(app, 'Herald');
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, CfnResource>;
  herald = { resources, annotations: Annotations.fromStack(stack) };
}, 120_000);

const ofType = (type: string) => Object.entries(herald.resources).filter(([, r]) => r.Type === type);
const resource = (id: string) => herald.resources[id]!;
/** The public distribution: the one holding the feeds and the site. */
function distribution(): DistributionConfig {
  const found = ofType('AWS::CloudFront::Distribution').filter(([, r]) =>
    (r.Properties.DistributionConfig as DistributionConfig).CacheBehaviors?.some(
      (b) => b.PathPattern === '/v1/feed.atom',
    ),
  );
  expect(found).toHaveLength(1);
  return found[0]![1].Properties.DistributionConfig as DistributionConfig;
}
const siteBehaviours = () => distribution().CacheBehaviors.slice(PUBLIC_READ_BEHAVIOURS.length);
/** The first behaviour CloudFront would pick for a path, or undefined (the default: the image bucket). */
const behaviourFor = (path: string) =>
  distribution().CacheBehaviors.find((b) => patternRegExp(b.PathPattern).test(path));
const kindOf = (pattern: string) => SITE_BEHAVIOURS.find((b) => b.pathPattern === pattern)?.kind;
const cacheKeyOf = (b: Behaviour) =>
  (resource(idOf(b.CachePolicyId)).Properties.CachePolicyConfig as Record<string, unknown>)
    .ParametersInCacheKeyAndForwardedToOrigin as KeyConfig;
const cacheTtlsOf = (b: Behaviour) =>
  resource(idOf(b.CachePolicyId)).Properties.CachePolicyConfig as {
    MinTTL: number;
    DefaultTTL: number;
    MaxTTL: number;
  };
const originRequestOf = (b: Behaviour) =>
  b.OriginRequestPolicyId === undefined
    ? undefined
    : (resource(idOf(b.OriginRequestPolicyId)).Properties.OriginRequestPolicyConfig as KeyConfig);
const apiOrigin = () => distribution().Origins.find((o) => o.CustomOriginConfig)!;
const edgeSecret = () => {
  const secrets = ofType('AWS::SecretsManager::Secret');
  expect(secrets).toHaveLength(1);
  return secrets[0]!;
};
const lambdaByService = (service: string) =>
  ofType('AWS::Lambda::Function').find(
    ([, r]) =>
      (r.Properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables
        .POWERTOOLS_SERVICE_NAME === service,
  )!;
const envOf = (r: CfnResource) =>
  (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
const statementsOfRole = (roleId: string): Statement[] =>
  ofType('AWS::IAM::Policy')
    .filter(([, p]) => asList(p.Properties.Roles).some((r) => idOf(r) === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);

/** The viewer-request function, run as CloudFront would run it, on one request. */
function runSiteFunction(
  code: string,
  request: {
    lang?: string;
    acceptLanguage?: string;
    headers?: Record<string, string>;
    ip?: string;
    uri?: string;
    from?: string | string[];
  },
) {
  const headers: Record<string, { value: string }> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name] = { value };
  if (request.acceptLanguage !== undefined) headers['accept-language'] = { value: request.acceptLanguage };
  const querystring: Record<string, { value: string }> = { zone: { value: 'north' } };
  if (request.lang !== undefined) querystring.lang = { value: request.lang };
  // CloudFront gives a repeated parameter as its first value with the others in multiValue.
  if (typeof request.from === 'string') querystring.from = { value: request.from };
  else if (request.from?.length)
    querystring.from = {
      value: request.from[0]!,
      ...(request.from.length > 1 ? { multiValue: request.from.map((value) => ({ value })) } : {}),
    };
  const sandbox: {
    event: unknown;
    result?: { querystring: Record<string, { value: string }>; headers: Record<string, { value: string }> };
  } = {
    event: {
      version: '1.0',
      context: { eventType: 'viewer-request' },
      viewer: { ip: request.ip ?? '198.51.100.23' },
      request: { method: 'GET', uri: request.uri ?? '/alerts', querystring, headers, cookies: {} },
    },
  };
  runInNewContext(`${code}\nresult = handler(event);`, sandbox);
  const result = sandbox.result!;
  return {
    lang: result.querystring.lang?.value,
    from: result.querystring.from?.value,
    query: result.querystring,
    headers: result.headers,
  };
}

describe("The residents' site behind CloudFront", () => {
  describe('behaviours', () => {
    it('follows the public reads with the site’s patterns, in order, to the API over HTTPS', () => {
      const behaviours = siteBehaviours();
      expect(behaviours.map((b) => b.PathPattern)).toEqual(SITE_BEHAVIOURS.map((b) => b.pathPattern));
      for (const b of behaviours)
        expect(b, b.PathPattern).toMatchObject({
          TargetOriginId: apiOrigin().Id,
          ViewerProtocolPolicy: 'https-only',
          CachedMethods: ['GET', 'HEAD'],
        });
      // No read pattern takes a site path, nor a site pattern an API path.
      for (const [, path] of ALL_SITE_ROUTES)
        for (const read of PUBLIC_READ_BEHAVIOURS)
          expect(patternRegExp(read.pathPattern).test(sample(path)), `${read.pathPattern} ${path}`).toBe(
            false,
          );
      for (const route of ROUTES as readonly RouteSpec[]) {
        if (isSiteRoute(route) || route.embeddedOnly) continue;
        const reached = SITE_BEHAVIOURS.filter((b) => patternRegExp(b.pathPattern).test(sample(route.path)));
        expect(reached, `${route.method} ${route.path}`).toEqual([]);
      }
    });

    it('marks in the route table every path the brief for the site lists', () => {
      expect(siteRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual(
        expect.arrayContaining(SITE_ROUTES_LISTED.map(([m, p]) => `${m} ${p}`)),
      );
      for (const r of siteRoutes) expect(r.auth, `${r.method} ${r.path}`).toBe('public');
    });

    it.each(ALL_SITE_ROUTES)(
      'serves %s %s through a site behaviour that allows the method',
      (method, path) => {
        const b = behaviourFor(sample(path));
        expect(b, path).toBeDefined();
        expect(kindOf(b!.PathPattern), b!.PathPattern).toBeDefined();
        expect(b!.AllowedMethods).toContain(method);
      },
    );

    it('lets POST into the form and session behaviours and /subscribe only; pages and assets take GET and HEAD', () => {
      for (const b of siteBehaviours()) {
        const kind = kindOf(b.PathPattern);
        if (kind === 'page' || kind === 'asset' || kind === 'count')
          expect(b.AllowedMethods, b.PathPattern).toEqual(['GET', 'HEAD']);
        else expect(b.AllowedMethods, b.PathPattern).toContain('POST');
      }
      expect(
        siteBehaviours()
          .filter((b) => b.AllowedMethods.includes('POST') && b.CachePolicyId !== CACHING_DISABLED)
          .map((b) => b.PathPattern),
      ).toEqual(['/subscribe']);
    });
  });

  describe('caching', () => {
    it('caches pages as the origin says, keyed on lang alone, and assets on the path alone: no header, no cookie', () => {
      const cached = siteBehaviours().filter((b) => b.CachePolicyId !== CACHING_DISABLED);
      expect(cached.map((b) => b.PathPattern)).toEqual([
        '/alerts',
        '/alerts/*',
        '/subscribe',
        '/privacy',
        '/site/*',
      ]);
      for (const b of cached) {
        const key = cacheKeyOf(b);
        expect(key.HeadersConfig, b.PathPattern).toEqual({ HeaderBehavior: 'none' });
        expect(key.CookiesConfig, b.PathPattern).toEqual({ CookieBehavior: 'none' });
        expect(key.QueryStringsConfig, b.PathPattern).toEqual(
          b.PathPattern === '/site/*'
            ? { QueryStringBehavior: 'none' }
            : { QueryStringBehavior: 'whitelist', QueryStrings: [...PAGE_QUERY_PARAMETERS] },
        );
        // Nothing the origin does not mark cacheable; what it marks, as long as it says (an asset: a year).
        expect(cacheTtlsOf(b), b.PathPattern).toEqual(
          expect.objectContaining({ MinTTL: 0, DefaultTTL: 0, MaxTTL: 365 * 24 * 3600 }),
        );
      }
    });

    it.each([
      ['/alerts/{id}/seen.gif', '/alerts/*/seen.gif'],
      ['/a/{id}/{code}', '/a/*'],
    ])('never caches %s, which counts each request (%s)', (path, pattern) => {
      const b = behaviourFor(sample(path))!;
      expect(b.PathPattern).toBe(pattern);
      expect(kindOf(b.PathPattern)).toBe('count');
      expect(b.CachePolicyId).toBe(CACHING_DISABLED);
    });

    it.each(ALL_SITE_ROUTES.filter(([method, path]) => method === 'POST' || path.startsWith('/manage')))(
      'never caches %s %s',
      (method, path) => {
        const b = behaviourFor(sample(path))!;
        if (method === 'POST' && b.CachePolicyId !== CACHING_DISABLED) {
          // The one page that is also a form: CloudFront caches no response to POST, and its key holds nothing of
          // the resident (no cookie, no header), nor does it forward a cookie or a query string beyond lang.
          expect(b.PathPattern).toBe('/subscribe');
          expect(cacheKeyOf(b).CookiesConfig).toEqual({ CookieBehavior: 'none' });
          expect(b.CachedMethods).toEqual(['GET', 'HEAD']);
          expect(originRequestOf(b)).toMatchObject({
            CookiesConfig: { CookieBehavior: 'none' },
            QueryStringsConfig: { QueryStringBehavior: 'none' },
          });
        } else expect(b.CachePolicyId, `${method} ${path}`).toBe(CACHING_DISABLED);
      },
    );
  });

  describe('what reaches the origin', () => {
    it('forwards the form headers where there is a form, the manage cookie on /manage* only, and every query string to the uncached forms', () => {
      for (const b of siteBehaviours()) {
        const kind = kindOf(b.PathPattern);
        const policy = originRequestOf(b);
        if (kind === 'page' || kind === 'asset') {
          expect(policy, b.PathPattern).toBeUndefined();
          continue;
        }
        if (kind === 'count') {
          // A click or a view: the robot check's User-Agent and the channel code; no cookie, no viewer address.
          expect(policy, b.PathPattern).toMatchObject({
            HeadersConfig: { HeaderBehavior: 'whitelist', Headers: [...COUNT_HEADERS] },
            CookiesConfig: { CookieBehavior: 'none' },
            QueryStringsConfig: {
              QueryStringBehavior: 'whitelist',
              QueryStrings: [...COUNT_QUERY_PARAMETERS],
            },
          });
          continue;
        }
        expect(policy!.HeadersConfig.HeaderBehavior, b.PathPattern).toBe('whitelist');
        expect([...policy!.HeadersConfig.Headers!].sort(), b.PathPattern).toEqual([...FORM_HEADERS].sort());
        expect(policy!.CookiesConfig, b.PathPattern).toEqual(
          b.PathPattern === '/manage*'
            ? { CookieBehavior: 'whitelist', Cookies: [MANAGE_COOKIE] }
            : { CookieBehavior: 'none' },
        );
        expect(policy!.QueryStringsConfig.QueryStringBehavior, b.PathPattern).toBe(
          kind === 'page-and-form' ? 'none' : 'all',
        );
      }
      expect(FORM_HEADERS).toEqual(
        expect.arrayContaining(['origin', 'sec-fetch-site', 'content-type', VIEWER_IP_HEADER]),
      );
    });

    it("never forwards the viewer's Authorization, Accept-Language or Host, nor keys on them", () => {
      const policies = ofType('AWS::CloudFront::OriginRequestPolicy').concat(
        ofType('AWS::CloudFront::CachePolicy'),
      );
      expect(policies.length).toBeGreaterThan(3);
      for (const [id, p] of policies)
        expect(JSON.stringify(p.Properties), id).not.toMatch(
          /authorization|accept-language|"host"|allViewer/i,
        );
    });

    it('runs the site function on every page and form, and none on the assets or the counters', () => {
      const [fnId] = ofType('AWS::CloudFront::Function').find(
        ([, f]) =>
          f.Properties.FunctionCode ===
          siteRequestFunctionCode(agencyLanguages(new App({ context: cdkContext }))),
      )!;
      for (const b of siteBehaviours())
        expect(b.FunctionAssociations, b.PathPattern).toEqual(
          b.PathPattern === '/site/*' || kindOf(b.PathPattern) === 'count'
            ? undefined
            : [{ EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } }],
        );
      // The viewer address reaches the origin only where the function has just written it over the viewer's own.
      for (const b of distribution().CacheBehaviors)
        if (originRequestOf(b)?.HeadersConfig.Headers?.includes(VIEWER_IP_HEADER))
          expect(JSON.stringify(b.FunctionAssociations), b.PathPattern).toContain(fnId);
      expect(resource(fnId).Properties.FunctionConfig).toMatchObject({ Runtime: 'cloudfront-js-2.0' });
    });
  });

  describe('response headers', () => {
    it("adds HSTS, nosniff, DENY and a referrer policy, and leaves the page's own Content-Security-Policy alone", () => {
      const ids = new Set(siteBehaviours().map((b) => idOf(b.ResponseHeadersPolicyId)));
      expect(ids.size).toBe(1);
      const config = resource([...ids][0]!).Properties.ResponseHeadersPolicyConfig as {
        SecurityHeadersConfig: Record<string, Record<string, unknown>>;
        CustomHeadersConfig?: unknown;
      };
      const security = config.SecurityHeadersConfig;
      expect(security.ContentSecurityPolicy).toBeUndefined();
      expect(config.CustomHeadersConfig).toBeUndefined();
      expect(security).toMatchObject({
        StrictTransportSecurity: { AccessControlMaxAgeSec: 365 * 24 * 3600, Override: true },
        ContentTypeOptions: { Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: true },
        ReferrerPolicy: { ReferrerPolicy: 'same-origin' },
      });
    });
  });

  describe('the viewer-request function', () => {
    const code = siteRequestFunctionCode(DEFAULT_LANGUAGES);

    it.each([
      ['es-ES,es;q=0.9,en;q=0.8', 'es'],
      ['ca', 'ca'],
      ['CA-es', 'ca'],
      ['fr', 'en'],
      ['fr-FR,fr;q=0.9', 'en'],
      ['', 'en'],
      [undefined, 'en'],
      ['fr;q=1, es;q=0.5, ca;q=0.7', 'ca'],
      ['es;q=0, ca;q=0.1', 'ca'],
      ['es;q=0', 'en'],
      ['es;q=0.5, ca;q=0.5', 'es'],
      ['*', 'en'],
      ['es;q=abc, ca;q=0.2', 'ca'],
    ])('picks from Accept-Language %j: %s', (acceptLanguage, expected) => {
      expect(runSiteFunction(code, { acceptLanguage }).lang).toBe(expected);
    });

    it.each([
      ['ca', 'es-ES,es;q=0.9', 'ca'],
      ['es', undefined, 'es'],
      ['ES', undefined, 'es'],
      ['es-MX', 'ca', 'es'],
      ['fr', 'es', 'es'],
      ['', 'ca', 'ca'],
      ['xx-made-up-1', undefined, 'en'],
    ])(
      'keeps an explicit ?lang=%s of the agency (Accept-Language %j), settling others as if absent: %s',
      (lang, acceptLanguage, expected) => {
        expect(runSiteFunction(code, { lang, acceptLanguage }).lang).toBe(expected);
      },
    );

    it('chooses what the page itself would choose, so the cache key names the language the page speaks', () => {
      const tag = fc.constantFrom(
        'en',
        'es',
        'ca',
        'fr',
        'de',
        'ES',
        'es-ES',
        'ca-ES',
        'en-GB',
        '*',
        '',
        'x',
      );
      const weight = fc.oneof(
        fc.constant(''),
        fc.constantFrom(';q=0', ';q=1', ';q=0.5', ';q=0.9', ';q=', ';q=abc', ';Q=0.3', '; q=0.2'),
        fc.double({ min: 0, max: 1, noNaN: true }).map((q) => `;q=${q.toFixed(3)}`),
      );
      const header = fc.option(
        fc
          .array(fc.tuple(tag, weight), { maxLength: 5 })
          .map((parts) => parts.map(([t, w]) => `${t}${w}`).join(', ')),
        { nil: undefined },
      );
      const lang = fc.option(tag, { nil: undefined });
      fc.assert(
        fc.property(lang, header, (asked, acceptLanguage) => {
          const atTheEdge = runSiteFunction(code, { lang: asked, acceptLanguage }).lang;
          // Through CloudFront the page gets ?lang= and no Accept-Language.
          return (
            atTheEdge === pickLanguage(asked, acceptLanguage, DEFAULT_LANGUAGES) &&
            pickLanguage(atTheEdge, undefined, DEFAULT_LANGUAGES) === atTheEdge
          );
        }),
        { numRuns: 500 },
      );
    });

    it.each([
      ['/alerts/01JQ3ZB6V4TQ9Y8X7W6V5T4S3R', 's', 's'],
      ['/alerts/01JQ3ZB6V4TQ9Y8X7W6V5T4S3R', 'x', 'x'],
      ['/alerts/01JQ3ZB6V4TQ9Y8X7W6V5T4S3R', 'S', undefined],
      ['/alerts/01JQ3ZB6V4TQ9Y8X7W6V5T4S3R', 'made-up', undefined],
      ['/alerts/01JQ3ZB6V4TQ9Y8X7W6V5T4S3R', ['s', 'x'], undefined],
      ['/alerts/01JQ3ZB6V4TQ9Y8X7W6V5T4S3R/card.jpg', 's', undefined],
      ['/alerts', 's', undefined],
      ['/subscribe', 'e', undefined],
    ])('keeps on %s ?from=%j only when it is one channel code: %s', (uri, from, expected) => {
      expect(runSiteFunction(code, { uri, from }).from).toBe(expected);
    });

    it('keeps an alert page to one cached copy per language and channel code, whatever the query says', () => {
      const uri = fc.constantFrom('/alerts/01JQ3ZB6V4TQ9Y8X7W6V5T4S3R', '/alerts', '/privacy', '/subscribe');
      const from = fc.option(
        fc.oneof(
          fc.constantFrom(...LINK_CODES, '', 'direct', 'S', 'sms', 'x ', '%73'),
          fc.string({ maxLength: 4 }),
          fc.array(fc.constantFrom(...LINK_CODES), { minLength: 2, maxLength: 3 }),
        ),
        { nil: undefined },
      );
      const keys = new Set<string>();
      fc.assert(
        fc.property(uri, from, fc.constantFrom('en', 'es', 'ca', 'fr', undefined), (path, asked, lang) => {
          const out = runSiteFunction(code, { uri: path, from: asked, lang });
          if (path === '/alerts/01JQ3ZB6V4TQ9Y8X7W6V5T4S3R') keys.add(`${out.lang}|${out.from ?? ''}`);
          // Only these two reach the cache key; `from` only on the alert page, and only as a channel's code.
          return (
            (out.from === undefined || (path.startsWith('/alerts/') && LINK_CODES.includes(out.from))) &&
            (out.from === undefined || asked === out.from)
          );
        }),
        { numRuns: 500 },
      );
      expect(keys.size).toBeLessThanOrEqual(DEFAULT_LANGUAGES.length * (LINK_CODES.length + 1));
      expect(PAGE_QUERY_PARAMETERS).toEqual(['lang', 'from']);
    });

    it('speaks the languages of the context, the first the default', () => {
      const catalan = siteRequestFunctionCode(['ca', 'es']);
      expect(runSiteFunction(catalan, {}).lang).toBe('ca');
      expect(runSiteFunction(catalan, { acceptLanguage: 'en-US,en;q=0.9' }).lang).toBe('ca');
      expect(runSiteFunction(catalan, { acceptLanguage: 'es' }).lang).toBe('es');
    });

    it('writes the viewer address over one the viewer forged, and sets it when there was none', () => {
      const forged = runSiteFunction(code, {
        ip: '203.0.113.7',
        headers: { [VIEWER_IP_HEADER]: '10.0.0.1' },
      });
      expect(forged.headers[VIEWER_IP_HEADER]).toEqual({ value: '203.0.113.7' });
      const plain = runSiteFunction(code, { ip: '2001:db8::7' });
      expect(plain.headers[VIEWER_IP_HEADER]).toEqual({ value: '2001:db8::7' });
      // Other query strings are left as they came (the origin request policy decides what reaches the origin).
      expect(plain.query.zone).toEqual({ value: 'north' });
    });
  });

  describe('the edge secret', () => {
    it('is generated at deploy and reaches the API origin as a Secrets Manager dynamic reference, never a literal', () => {
      const [secretId, secret] = edgeSecret();
      expect(secret.Properties.Name).toBeUndefined();
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.Properties.GenerateSecretString).toMatchObject({
        GenerateStringKey: EDGE_SECRET_KEY,
        SecretStringTemplate: '{}',
        ExcludePunctuation: true,
        PasswordLength: 64,
      });

      const headers = apiOrigin().OriginCustomHeaders ?? [];
      expect(headers.map((h) => h.HeaderName)).toEqual([EDGE_SECRET_HEADER]);
      expect(headers[0]!.HeaderValue).toEqual({
        'Fn::Join': [
          '',
          ['{{resolve:secretsmanager:', { Ref: secretId }, `:SecretString:${EDGE_SECRET_KEY}::}}`],
        ],
      });
      // The image bucket is not told it.
      for (const o of distribution().Origins)
        if (o !== apiOrigin()) expect(o.OriginCustomHeaders, o.Id).toBeUndefined();
    });

    it('lets the api function alone read it, and tells it the ARN', () => {
      const [secretId] = edgeSecret();
      const [apiId, api] = lambdaByService('herald-api');
      expect(envOf(api)[ENV.edgeSecretArn]).toEqual({ Ref: secretId });
      const reads = statementsOfRole(idOf(api.Properties.Role)).filter((s) =>
        asList(s.Resource).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: secretId })),
      );
      expect(reads.map((s) => s.Action)).toEqual(['secretsmanager:GetSecretValue']);
      for (const [id, fn] of ofType('AWS::Lambda::Function')) {
        if (id === apiId) continue;
        expect(JSON.stringify(fn.Properties.Environment ?? {}), id).not.toContain(ENV.edgeSecretArn);
        const roleId = idOf(fn.Properties.Role);
        expect(JSON.stringify(statementsOfRole(roleId)), id).not.toContain(`"${secretId}"`);
      }
    });
  });

  describe('configuration', () => {
    it('tells every Herald function the languages of the context', () => {
      const functions = ofType('AWS::Lambda::Function').filter(
        ([, r]) =>
          (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
            ?.POWERTOOLS_SERVICE_NAME !== undefined,
      );
      expect(functions.length).toBeGreaterThan(5);
      for (const [id, fn] of functions) expect(envOf(fn)[ENV.languages], id).toBe(cdkContext.languages);
    });

    it.each([
      [undefined, [...DEFAULT_LANGUAGES]],
      ['ca, ES ,ca', ['ca', 'es']],
      [
        ['es', 'en'],
        ['es', 'en'],
      ],
    ])('reads the context languages %j as %j', (languages, expected) => {
      const stack = new Stack(new App({ context: languages === undefined ? {} : { languages } }), 'S');
      expect(agencyLanguages(stack)).toEqual(expected);
    });

    it.each(['es-MX', ' , ', 'e', 'english', 'en;es'])(
      'refuses the context languages %j at synth',
      (languages) => {
        const stack = new Stack(new App({ context: { languages } }), 'S');
        expect(() => agencyLanguages(stack)).toThrow(/context languages/);
      },
    );

    it("throttles the site's POSTs as the API's sign-up forms, and its GETs as public reads", () => {
      const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0]!;
      const settings = stage.Properties.RouteSettings as Record<string, unknown>;
      for (const r of siteRoutes)
        expect(settings[`${r.method} ${r.path}`], `${r.method} ${r.path}`).toEqual(
          r.method === 'POST'
            ? { ThrottlingRateLimit: SIGN_UP_LIMIT.rate, ThrottlingBurstLimit: SIGN_UP_LIMIT.burst }
            : { ThrottlingRateLimit: PUBLIC_READ_LIMIT.rate, ThrottlingBurstLimit: PUBLIC_READ_LIMIT.burst },
        );
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    it('finds nothing unsuppressed', () => {
      const findings = [
        ...herald.annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
        ...herald.annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ].map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`);
      expect(findings).toEqual([]);
    });

    it('states why the edge secret is not rotated automatically', () => {
      const [, secret] = edgeSecret();
      const rules = (
        secret as unknown as {
          Metadata?: { cdk_nag?: { rules_to_suppress?: { id: string; reason: string }[] } };
        }
      ).Metadata?.cdk_nag?.rules_to_suppress;
      expect(rules?.map((r) => r.id)).toEqual(['AwsSolutions-SMG4']);
      // cdk-nag keeps its reasons base64-encoded in the metadata.
      expect(Buffer.from(rules?.[0]?.reason ?? '', 'base64').toString('utf8')).toMatch(/rotat.*deploy/);
    });
  });
});
