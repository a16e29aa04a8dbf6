/**
 * The API's public reads behind CloudFront, read from the synthesized Herald stack: which paths reach the API and
 * how they are cached (the residents' site, on the same distribution after them, is test/cdk/site.test.ts), the viewer-request function that maps the `.cap` URLs (run in a vm, against the api's own
 * mapping), the URL the functions put in links, and TLS with the agency's own domain.
 *
 * Bundling is skipped (`aws:cdk:bundling-stacks`): these tests read the template, not the code;
 * test/cdk/herald-stack.test.ts synthesizes with the bundles and checks the whole stack against cdk-nag.
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { capPathAlias } from '../../functions/api/cap';
import { ENV } from '../../functions/shared/config';
import { HeraldStack } from '../../lib/herald-stack';
import { capAliasFunctionCode, PUBLIC_READ_BEHAVIOURS } from '../../lib/public-reads';
import { ROUTES, type RouteSpec } from '../../schemas/routes';

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DependsOn?: string | string[];
}
interface Behaviour {
  PathPattern: string;
  TargetOriginId: string;
  ViewerProtocolPolicy: string;
  AllowedMethods: string[];
  CachePolicyId: unknown;
  OriginRequestPolicyId?: unknown;
  ResponseHeadersPolicyId?: unknown;
  Compress?: boolean;
  FunctionAssociations?: { EventType: string; FunctionARN: unknown }[];
}
interface DistributionConfig {
  Origins: { Id: string; DomainName: unknown; CustomOriginConfig?: Record<string, unknown> }[];
  CacheBehaviors: Behaviour[];
  Aliases?: string[];
  ViewerCertificate?: Record<string, unknown>;
}

const { context: cdkContext } = JSON.parse(
  readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'),
) as {
  context: Record<string, unknown>;
};

interface Synthesized {
  resources: Record<string, CfnResource>;
  outputs: Record<string, { Value: unknown }>;
  annotations: Annotations;
}

function synth(context: Record<string, unknown>): Synthesized {
  const app = new App({
    context: {
      ...cdkContext,
      ...context,
      // No bundles: the template is all these tests read.
      'aws:cdk:bundling-stacks': [],
      '@aws-cdk/core:annotationsInValidationReport': false,
    },
  });
  const stack = new HeraldStack(app, 'Herald');
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);
  const json = template.toJSON() as {
    Resources: Record<string, CfnResource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  return { resources: json.Resources, outputs: json.Outputs, annotations: Annotations.fromStack(stack) };
}

function idOf(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = v.Ref ?? v['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a reference: ${JSON.stringify(value)}`);
  return id;
}
const ofType = (s: Synthesized, type: string) =>
  Object.entries(s.resources).filter(([, r]) => r.Type === type);
/** The distribution that serves the public reads (a console distribution of its own may stand beside it). */
const distributionOf = (s: Synthesized): [string, DistributionConfig] => {
  const found = ofType(s, 'AWS::CloudFront::Distribution').filter(([, r]) =>
    (r.Properties.DistributionConfig as DistributionConfig).CacheBehaviors?.some(
      (b) => b.PathPattern === '/v1/feed.atom',
    ),
  );
  expect(found).toHaveLength(1);
  const [id, r] = found[0]!;
  return [id, r.Properties.DistributionConfig as DistributionConfig];
};
const heraldFunctions = (s: Synthesized) =>
  ofType(s, 'AWS::Lambda::Function').filter(
    ([, r]) =>
      (r.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
        ?.POWERTOOLS_SERVICE_NAME !== undefined,
  );
const envOf = (r: CfnResource) =>
  (r.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

/** Every logical id a value refers to (Ref, Fn::GetAtt, and `${Id}` / `${Id.Attr}` in Fn::Sub). */
function referencesIn(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, into);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.Ref === 'string') into.add(o.Ref);
    const getAtt = o['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') into.add(getAtt[0]);
    const sub = o['Fn::Sub'];
    const text = typeof sub === 'string' ? sub : Array.isArray(sub) ? sub[0] : undefined;
    if (typeof text === 'string') for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)/g)) into.add(m[1]!);
    for (const v of Object.values(o)) referencesIn(v, into);
  }
  return into;
}

/** A dependency cycle among the resources, as a list of logical ids, or undefined when there is none. */
function dependencyCycle(resources: Record<string, CfnResource>): string[] | undefined {
  const edges = new Map<string, string[]>();
  for (const [id, r] of Object.entries(resources)) {
    const deps = referencesIn(r.Properties);
    for (const d of [r.DependsOn ?? []].flat()) deps.add(d);
    edges.set(
      id,
      [...deps].filter((d) => d in resources),
    );
  }
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | undefined => {
    if (state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle) return cycle;
  }
  return undefined;
}

/** A CloudFront path pattern as a regular expression: `*` any characters (`/` too), `?` one. */
const patternRegExp = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('')}$`,
  );

/** The viewer-request function, run as CloudFront would run it, on one URI. */
function runCapAlias(code: string, uri: string): string {
  const sandbox: { event: unknown; result?: { uri: string } } = {
    event: {
      version: '1.0',
      context: { eventType: 'viewer-request' },
      request: { method: 'GET', uri, headers: {} },
    },
  };
  runInNewContext(`${code}\nresult = handler(event);`, sandbox);
  return sandbox.result!.uri;
}

// The context of cdk.json (it names no public host), with the agency's host but no certificate, and with one.
let withHostOnly: Synthesized;
let withoutPublicUrl: Synthesized;
let withCertificate: Synthesized;
const CERTIFICATE_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555';

beforeAll(() => {
  withoutPublicUrl = synth({ publicBaseUrl: '' });
  withHostOnly = synth({ publicBaseUrl: 'https://alerts.city.example' });
  withCertificate = synth({
    publicBaseUrl: 'https://alerts.city.example',
    publicCertificateArn: CERTIFICATE_ARN,
  });
}, 120_000);

describe('Public reads behind CloudFront', () => {
  /** The read behaviours: the first of the distribution's, before the site's. */
  const readBehaviours = (s: Synthesized) =>
    distributionOf(s)[1].CacheBehaviors.slice(0, PUBLIC_READ_BEHAVIOURS.length);

  describe('behaviours', () => {
    it('sends each public read path to the HTTP API over HTTPS, GET and HEAD only, compressed, in order', () => {
      // Arrange
      const [, config] = distributionOf(withoutPublicUrl);
      const [api] = ofType(withoutPublicUrl, 'AWS::ApiGatewayV2::Api')[0]!;

      // Act
      const apiOrigin = config.Origins.find((o) => o.CustomOriginConfig)!;
      const behaviours = readBehaviours(withoutPublicUrl);

      // Assert
      expect(behaviours.map((b) => b.PathPattern)).toEqual(PUBLIC_READ_BEHAVIOURS.map((b) => b.pathPattern));
      // The $default stage's host: <api id>.execute-api.<region>.<url suffix>.
      expect(apiOrigin.DomainName).toEqual({
        'Fn::Join': [
          '',
          [{ Ref: api }, '.execute-api.', { Ref: 'AWS::Region' }, '.', { Ref: 'AWS::URLSuffix' }],
        ],
      });
      expect(apiOrigin.CustomOriginConfig).toMatchObject({
        OriginProtocolPolicy: 'https-only',
        OriginSSLProtocols: ['TLSv1.2'],
      });
      for (const b of behaviours) {
        expect(b, b.PathPattern).toMatchObject({
          TargetOriginId: apiOrigin.Id,
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: ['GET', 'HEAD'],
          Compress: true,
          ResponseHeadersPolicyId: expect.any(String),
        });
        // No origin request policy: nothing of the viewer's request but the cache key reaches the API.
        expect(b.OriginRequestPolicyId, b.PathPattern).toBeUndefined();
      }
    });

    it('reaches only public GET routes of the API, and every public read the contract names', () => {
      // Arrange
      const patterns = PUBLIC_READ_BEHAVIOURS.map((b) => patternRegExp(b.pathPattern));
      const reached = (path: string) => patterns.some((p) => p.test(path));
      const sample = (path: string) =>
        path.replace(/\{id\}/g, '01JQ0000000000000000000000').replace(/\{n\}/g, '2');

      // Act
      const routesReached = (ROUTES as readonly RouteSpec[]).filter(
        (r) => !r.embeddedOnly && reached(sample(r.path)),
      );

      // Assert
      for (const route of routesReached)
        expect(`${route.method} ${route.auth}`, route.path).toBe('GET public');
      expect(routesReached.map((r) => r.path).sort()).toEqual(
        [
          '/v1/alerts/{id}/cap',
          '/v1/alerts/{id}/versions/{n}/cap',
          '/v1/feed.atom',
          '/v1/feed.json',
          '/v1/feed.rss',
          '/v1/zones',
        ].sort(),
      );
      for (const path of [
        '/v1/alerts/01JQ0000000000000000000000.cap',
        '/v1/alerts/01JQ0000000000000000000000/versions/2.cap',
      ])
        expect(reached(path), path).toBe(true);
      for (const path of [
        '/v1/alerts',
        '/v1/alerts/01JQ0000000000000000000000',
        '/v1/subscribers',
        '/v1/alerts/preview',
      ])
        expect(reached(path), path).toBe(false);
    });

    it('runs the .cap mapping on viewer requests of the .cap behaviour only', () => {
      // Arrange
      const [fnId, fn] = ofType(withoutPublicUrl, 'AWS::CloudFront::Function').find(
        ([, f]) => f.Properties.FunctionCode === capAliasFunctionCode(),
      )!;

      // Act
      const withFunctions = readBehaviours(withoutPublicUrl).filter((b) => b.FunctionAssociations?.length);

      // Assert
      expect(withFunctions.map((b) => b.PathPattern)).toEqual(['/v1/alerts/*.cap']);
      expect(withFunctions[0]!.FunctionAssociations).toEqual([
        { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [fnId, 'FunctionARN'] } },
      ]);
      expect(fn.Properties).toMatchObject({
        AutoPublish: true,
        FunctionCode: capAliasFunctionCode(),
        FunctionConfig: { Runtime: 'cloudfront-js-2.0' },
      });
    });
  });

  describe('cache policies', () => {
    const policies = () =>
      new Map(
        readBehaviours(withoutPublicUrl).map((b) => {
          const policy = withoutPublicUrl.resources[idOf(b.CachePolicyId)]!;
          return [b.PathPattern, policy.Properties.CachePolicyConfig as Record<string, unknown>] as const;
        }),
      );

    it('follows the origin Cache-Control (nothing cached it does not mark, up to a year) with no header or cookie in the key', () => {
      for (const [path, policy] of policies()) {
        expect(policy, path).toMatchObject({
          MinTTL: 0,
          DefaultTTL: 0,
          MaxTTL: 365 * 24 * 3600,
          ParametersInCacheKeyAndForwardedToOrigin: {
            HeadersConfig: { HeaderBehavior: 'none' },
            CookiesConfig: { CookieBehavior: 'none' },
            EnableAcceptEncodingGzip: true,
            EnableAcceptEncodingBrotli: true,
          },
        });
        // Authorization and If-None-Match are not forwarded: no header is (CloudFront answers and sends
        // conditional requests itself from the ETag it cached).
        expect(JSON.stringify(policy), path).not.toMatch(/authorization|if-none-match/i);
      }
    });

    it('keys the feeds, CAP and zones on the path alone', () => {
      for (const [path, policy] of policies()) {
        const queryStrings = (policy.ParametersInCacheKeyAndForwardedToOrigin as Record<string, unknown>)
          .QueryStringsConfig;
        expect(queryStrings, path).toEqual({ QueryStringBehavior: 'none' });
      }
    });
  });

  describe('the .cap viewer-request function', () => {
    const id = '01JQ3ZB6V4TQ9Y8X7W6V5T4S3R';

    it.each([
      [`/v1/alerts/${id}.cap`, `/v1/alerts/${id}/cap`],
      [`/v1/alerts/${id}/versions/3.cap`, `/v1/alerts/${id}/versions/3/cap`],
      [`/v1/alerts/${id}/cap`, `/v1/alerts/${id}/cap`],
      [`/v1/alerts/${id}`, `/v1/alerts/${id}`],
      [`/v1/alerts/${id}.cap/x`, `/v1/alerts/${id}.cap/x`],
      ['/v1/alerts/.cap', '/v1/alerts/.cap'],
      ['/v1/feed.atom', '/v1/feed.atom'],
      [`/v2/alerts/${id}.cap`, `/v2/alerts/${id}.cap`],
    ])('maps %s to %s, as the api router does', (uri, expected) => {
      // Act
      const atTheEdge = runCapAlias(capAliasFunctionCode(), uri);

      // Assert
      expect(atTheEdge).toBe(expected);
      expect(capPathAlias(uri)).toBe(expected);
    });

    it('maps any path exactly as capPathAlias does', () => {
      const code = capAliasFunctionCode();
      const segment = fc.stringMatching(/^[A-Za-z0-9._%$~-]{0,12}$/);
      const path = fc.oneof(
        fc.tuple(segment).map(([a]) => `/v1/alerts/${a}.cap`),
        fc.tuple(segment, segment).map(([a, n]) => `/v1/alerts/${a}/versions/${n}.cap`),
        fc.array(segment, { maxLength: 6 }).map((parts) => `/${parts.join('/')}`),
      );
      fc.assert(
        fc.property(path, (uri) => runCapAlias(code, uri) === capPathAlias(uri)),
        { numRuns: 500 },
      );
    });
  });

  describe('the public URL', () => {
    it("tells every function the distribution's https URL when the agency names no host of its own", () => {
      const [distributionId] = distributionOf(withoutPublicUrl);
      const url = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] };
      const functions = heraldFunctions(withoutPublicUrl);
      expect(functions.length).toBeGreaterThan(5);
      for (const [fnId, fn] of functions) expect(envOf(fn)[ENV.publicBaseUrl], fnId).toEqual(url);
      expect(withoutPublicUrl.outputs.FeedUrl!.Value).toEqual({
        'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }, '/v1/feed.atom']],
      });
    });

    it('keeps the resources free of dependency cycles with the functions told the distribution URL', () => {
      // The check itself finds a cycle where there is one: the function's environment naming the distribution,
      // were the distribution to depend on the function.
      const [fnId] = heraldFunctions(withoutPublicUrl).find(([id]) => id.startsWith('ApiFunction'))!;
      const [distributionId] = distributionOf(withoutPublicUrl);
      const distribution = withoutPublicUrl.resources[distributionId]!;
      const looped = {
        ...withoutPublicUrl.resources,
        [distributionId]: { ...distribution, DependsOn: [fnId] },
      };
      expect(dependencyCycle(looped)).toEqual(expect.arrayContaining([fnId, distributionId]));

      expect(dependencyCycle(withoutPublicUrl.resources)).toBeUndefined();
    });

    it("uses the agency's host and warns that the distribution does not answer for it without a certificate", () => {
      for (const [fnId, fn] of heraldFunctions(withHostOnly))
        expect(envOf(fn)[ENV.publicBaseUrl], fnId).toBe('https://alerts.city.example');
      expect(withHostOnly.outputs.FeedUrl!.Value).toBe('https://alerts.city.example/v1/feed.atom');
      expect(
        withHostOnly.annotations.findWarning('*', Match.stringLikeRegexp('publicCertificateArn')),
      ).toHaveLength(1);
      expect(
        withCertificate.annotations.findWarning('*', Match.stringLikeRegexp('publicCertificateArn')),
      ).toEqual([]);
    });

    it("answers for the agency's host with its certificate and TLS 1.2 or later", () => {
      const [, config] = distributionOf(withCertificate);
      expect(config.Aliases).toEqual(['alerts.city.example']);
      expect(config.ViewerCertificate).toEqual({
        AcmCertificateArn: CERTIFICATE_ARN,
        SslSupportMethod: 'sni-only',
        MinimumProtocolVersion: 'TLSv1.2_2021',
      });
      for (const [fnId, fn] of heraldFunctions(withCertificate))
        expect(envOf(fn)[ENV.publicBaseUrl], fnId).toBe('https://alerts.city.example');
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    const findings = (s: Synthesized) =>
      [
        ...s.annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
        ...s.annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ].map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`);

    it('finds nothing unsuppressed with the default certificate, nor with the agency’s own (CFR4 then met, not suppressed)', () => {
      expect(findings(withoutPublicUrl)).toEqual([]);
      expect(findings(withCertificate)).toEqual([]);
      const [id] = distributionOf(withCertificate);
      const suppressed = (
        withCertificate.resources[id] as unknown as {
          Metadata?: { cdk_nag?: { rules_to_suppress?: { id: string }[] } };
        }
      ).Metadata?.cdk_nag?.rules_to_suppress?.map((r) => r.id);
      expect(suppressed).toEqual(['AwsSolutions-CFR1', 'AwsSolutions-CFR2']);
    });
  });
});
