/**
 * The console on AWS, read as CloudFormation: a private bucket behind CloudFront with OAC, the SPA fallback only
 * on the console's own paths, a strict CSP, /v1/* forwarded to the HTTP API, the app client's redirects at the
 * console's URL, and the config.json the deployment writes. The console is built for real, by web/build.ts.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { HttpApi, HttpMethod } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpUrlIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Mfa, OAuthScope, UserPool } from 'aws-cdk-lib/aws-cognito';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, Console, SPA_FALLBACK_FUNCTION } from '../../lib/console';
import { HeraldStack } from '../../lib/herald-stack';
import { contentSecurityPolicy } from '../../local/console';

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
}
interface Synthesized {
  template: Template;
  resources: Record<string, CfnResource>;
  assemblyDir: string;
  annotations: Annotations;
  stack: Stack;
}

const ref = (id: string) => ({ Ref: id });
function idOf(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = v.Ref ?? v['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a reference: ${JSON.stringify(value)}`);
  return id;
}
/** A `Fn::Join` of literal strings and references, each reference written as `<logical id>` or `<Pseudo>`. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const r = (part as { Ref?: string }).Ref;
      if (r?.startsWith('AWS::')) return `<${r}>`;
      return `<${idOf(part)}>`;
    })
    .join(join[0]);
}

/** A stack like Herald's where it matters here: a pool, its console client as the API authorizer's audience. */
function synth(
  context: Record<string, unknown> = {},
  options: { existingDomain?: string } = {},
): Synthesized {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'herald-console-cdk-')),
    context: { '@aws-cdk/core:annotationsInValidationReport': false, ...context },
  });
  const stack = new Stack(app, 'Herald');
  const userPool = new UserPool(stack, 'UserPool', {
    mfa: Mfa.REQUIRED,
    mfaSecondFactor: { otp: true, sms: false },
  });
  if (options.existingDomain) {
    userPool.addDomain('AuthDomain', { cognitoDomain: { domainPrefix: options.existingDomain } });
  }
  const client = userPool.addClient('ConsoleClient', {
    generateSecret: false,
    authFlows: { userSrp: true },
    oAuth: {
      flows: { authorizationCodeGrant: true },
      scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
      callbackUrls: ['http://localhost:3000/auth/callback'],
    },
  });
  const httpApi = new HttpApi(stack, 'HttpApi');
  httpApi.addRoutes({
    path: '/v1/alerts',
    methods: [HttpMethod.GET],
    integration: new HttpUrlIntegration('Upstream', 'https://upstream.example'),
    authorizer: new HttpJwtAuthorizer('Jwt', 'https://issuer.example', {
      jwtAudience: [client.userPoolClientId],
    }),
  });
  new Console(stack, 'Console', { userPool, client, httpApi });
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);
  return {
    template,
    resources: template.toJSON().Resources as Record<string, CfnResource>,
    assemblyDir: app.synth().directory,
    annotations: Annotations.fromStack(stack),
    stack,
  };
}

function ofType(s: Synthesized, type: string): [string, CfnResource][] {
  return Object.entries(s.resources).filter(([, r]) => r.Type === type);
}
function only(s: Synthesized, type: string): [string, CfnResource] {
  const found = ofType(s, type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
}

interface Behavior {
  PathPattern?: string;
  TargetOriginId: string;
  ViewerProtocolPolicy: string;
  AllowedMethods?: string[];
  CachePolicyId: string;
  OriginRequestPolicyId?: string;
  ResponseHeadersPolicyId: unknown;
  FunctionAssociations?: { EventType: string; FunctionARN: unknown }[];
}
interface DistributionConfig {
  DefaultRootObject?: string;
  CustomErrorResponses?: unknown[];
  DefaultCacheBehavior: Behavior;
  CacheBehaviors?: Behavior[];
  Origins: {
    Id: string;
    DomainName: unknown;
    OriginAccessControlId?: unknown;
    S3OriginConfig?: { OriginAccessIdentity?: string };
    CustomOriginConfig?: { OriginProtocolPolicy: string };
  }[];
  Aliases?: string[];
  ViewerCertificate?: { MinimumProtocolVersion?: string; AcmCertificateArn?: string };
}
function distributionConfig(s: Synthesized): DistributionConfig {
  const [, distribution] = only(s, 'AWS::CloudFront::Distribution');
  return distribution.Properties.DistributionConfig as DistributionConfig;
}
function filesBucket(s: Synthesized): string {
  const [id] = ofType(s, 'AWS::S3::Bucket').find(([id]) => id.startsWith('ConsoleFiles'))!;
  return id;
}
/** Runs the CloudFront Function's source on a viewer request for `uri` and returns the URI it forwards. */
function spaFallback(uri: string): string {
  const handler = new Function(`${SPA_FALLBACK_FUNCTION}; return handler;`)() as (event: {
    request: { uri: string };
  }) => { uri: string };
  return handler({ request: { uri } }).uri;
}

// CloudFront's managed policies, by their fixed ids.
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

let base: Synthesized;

beforeAll(() => {
  base = synth();
});

/** The files index.html loads: its stylesheet and module script, by their URL paths. */
function loadedBy(html: string): string[] {
  return [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
}

describe('buildConsole', () => {
  it("writes web/build.ts's build: index.html and the hashed script and stylesheet it loads", () => {
    // Prepare
    const out = mkdtempSync(join(tmpdir(), 'herald-console-out-'));

    // Act
    buildConsole(out);

    // Assess
    const loaded = loadedBy(readFileSync(join(out, 'index.html'), 'utf8'));
    expect(loaded).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/assets\/main-\w+\.js$/),
        expect.stringMatching(/\.css$/),
      ]),
    );
    for (const path of loaded) expect(existsSync(join(out, path)), path).toBe(true);
  });
});

describe('the files bucket', () => {
  it('blocks public access, refuses plain HTTP and encrypts at rest', () => {
    const bucketId = filesBucket(base);
    const bucket = base.resources[bucketId]!.Properties;
    expect(bucket).toMatchObject({
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LoggingConfiguration: { DestinationBucketName: expect.anything() },
    });
    base.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(bucketId),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('is read by this distribution only, through Origin Access Control', () => {
    const bucketId = filesBucket(base);
    const [distributionId] = only(base, 'AWS::CloudFront::Distribution');
    const [oacId, oac] = only(base, 'AWS::CloudFront::OriginAccessControl');
    expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
      OriginAccessControlOriginType: 's3',
      SigningBehavior: 'always',
      SigningProtocol: 'sigv4',
    });
    const s3Origin = distributionConfig(base).Origins.find((o) => o.OriginAccessControlId !== undefined)!;
    expect(idOf(s3Origin.OriginAccessControlId)).toBe(oacId);
    expect(idOf(s3Origin.DomainName as { 'Fn::GetAtt': [string, string] })).toBe(bucketId);
    expect(s3Origin.S3OriginConfig?.OriginAccessIdentity ?? '').toBe('');
    expect(ofType(base, 'AWS::CloudFront::CloudFrontOriginAccessIdentity')).toHaveLength(0);

    const [, policy] = ofType(base, 'AWS::S3::BucketPolicy').find(
      ([, p]) => idOf(p.Properties.Bucket) === bucketId,
    )!;
    const allows = (
      policy.Properties.PolicyDocument as {
        Statement: { Effect: string; Principal?: unknown; Condition?: unknown }[];
      }
    ).Statement.filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Action: 's3:GetObject',
    });
    const sourceArn = (allows[0]!.Condition as { StringEquals: { 'AWS:SourceArn': unknown } }).StringEquals[
      'AWS:SourceArn'
    ];
    expect(joined(sourceArn)).toContain(`<${distributionId}>`);
  });
});

describe('the distribution', () => {
  it('serves index.html at the root and answers console routes with it, by a function on the console behaviour only', () => {
    const config = distributionConfig(base);
    expect(config.DefaultRootObject).toBe('index.html');
    // No distribution-wide error responses: they would turn the API's 403 and 404 into index.html with 200.
    expect(config.CustomErrorResponses).toBeUndefined();

    const [functionId, fn] = only(base, 'AWS::CloudFront::Function');
    expect(fn.Properties.FunctionCode).toBe(SPA_FALLBACK_FUNCTION);
    expect((fn.Properties.FunctionConfig as { Runtime: string }).Runtime).toBe('cloudfront-js-2.0');
    expect(config.DefaultCacheBehavior.FunctionAssociations).toEqual([
      { EventType: 'viewer-request', FunctionARN: { 'Fn::GetAtt': [functionId, 'FunctionARN'] } },
    ]);
    expect(config.CacheBehaviors!.every((b) => b.FunctionAssociations === undefined)).toBe(true);
  });

  it.each([
    ['/alerts/01J9Z6Q8K3', '/index.html'],
    ['/audit', '/index.html'],
    ['/', '/index.html'],
    ['/assets/main.js', '/assets/main.js'],
    ['/config.json', '/config.json'],
    ['/favicon.svg', '/favicon.svg'],
  ])('the fallback forwards %s as %s', (uri, forwarded) => {
    expect(spaFallback(uri)).toBe(forwarded);
  });

  it('redirects HTTP to HTTPS for the console and forwards /v1/* to the HTTP API uncached, with the caller’s headers', () => {
    const config = distributionConfig(base);
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD']);

    const api = config.CacheBehaviors!.find((b) => b.PathPattern === 'v1/*')!;
    expect(api).toMatchObject({
      ViewerProtocolPolicy: 'https-only',
      CachePolicyId: CACHING_DISABLED,
      OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
    });
    expect(api.AllowedMethods).toEqual(
      expect.arrayContaining(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']),
    );
    const origin = config.Origins.find((o) => o.Id === api.TargetOriginId)!;
    const [apiId] = only(base, 'AWS::ApiGatewayV2::Api');
    expect(joined(origin.DomainName)).toBe(`<${apiId}>.execute-api.<AWS::Region>.<AWS::URLSuffix>`);
    expect(origin.CustomOriginConfig?.OriginProtocolPolicy).toBe('https-only');
    expect(config.CacheBehaviors).toHaveLength(1);
  });

  it('answers everything with a strict CSP, HSTS, no sniffing, no framing and same-origin referrers', () => {
    const config = distributionConfig(base);
    const [policyId, policy] = only(base, 'AWS::CloudFront::ResponseHeadersPolicy');
    for (const behavior of [config.DefaultCacheBehavior, ...config.CacheBehaviors!]) {
      expect(idOf(behavior.ResponseHeadersPolicyId)).toBe(policyId);
    }
    const security = (
      policy.Properties.ResponseHeadersPolicyConfig as {
        SecurityHeadersConfig: {
          ContentSecurityPolicy: { ContentSecurityPolicy: unknown };
          StrictTransportSecurity: { AccessControlMaxAgeSec: number };
          ContentTypeOptions: { Override: boolean };
          FrameOptions: { FrameOption: string };
          ReferrerPolicy: { ReferrerPolicy: string };
        };
      }
    ).SecurityHeadersConfig;
    expect(security.StrictTransportSecurity.AccessControlMaxAgeSec).toBeGreaterThanOrEqual(31_536_000);
    expect(security.ContentTypeOptions.Override).toBe(true);
    expect(security.FrameOptions.FrameOption).toBe('DENY');
    expect(security.ReferrerPolicy.ReferrerPolicy).toBe('same-origin');

    const [domainId] = only(base, 'AWS::Cognito::UserPoolDomain');
    const directives = (csp: string) =>
      Object.fromEntries(csp.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
    const onAws = directives(joined(security.ContentSecurityPolicy.ContentSecurityPolicy));
    expect(onAws).toMatchObject({
      'default-src': "'none'",
      'script-src': "'self'",
      'connect-src': `'self' https://<${domainId}>.auth.<AWS::Region>.amazoncognito.com`,
      'frame-ancestors': "'none'",
      'base-uri': "'none'",
    });
    // The embedded mode's policy, the one the browser tests run the console under, but for the hosted UI.
    expect({ ...onAws, 'connect-src': "'self'" }).toEqual(directives(contentSecurityPolicy()));
  });

  it('keeps the default certificate unless a custom domain and its certificate are given, then requires TLS 1.2', () => {
    expect(distributionConfig(base).Aliases).toBeUndefined();

    const custom = synth({
      consoleDomainName: 'console.agency.example',
      consoleCertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc',
    });
    const config = distributionConfig(custom);
    expect(config.Aliases).toEqual(['console.agency.example']);
    expect(config.ViewerCertificate).toMatchObject({
      AcmCertificateArn: 'arn:aws:acm:us-east-1:111122223333:certificate/abc',
      MinimumProtocolVersion: 'TLSv1.2_2021',
    });
    const [, client] = only(custom, 'AWS::Cognito::UserPoolClient');
    expect(client.Properties.CallbackURLs).toEqual(['https://console.agency.example/']);
    expect(() => synth({ consoleDomainName: 'console.agency.example' })).toThrow(/go together/);
  });
});

describe('sign-in', () => {
  it('gives the console a public client: no secret, code grant only, its redirects at the console’s URL', () => {
    const [, client] = only(base, 'AWS::Cognito::UserPoolClient');
    const [distributionId] = only(base, 'AWS::CloudFront::Distribution');
    expect(client.Properties).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
    });
    const consoleRoot = `https://<${distributionId}>/`;
    expect((client.Properties.CallbackURLs as unknown[]).map(joined)).toEqual([consoleRoot]);
    expect((client.Properties.LogoutURLs as unknown[]).map(joined)).toEqual([consoleRoot]);
  });

  it('adds http://localhost:3000/ to the redirects only when context consoleLocalCallback says so', () => {
    const local = synth({ consoleLocalCallback: 'true' });
    const [, client] = only(local, 'AWS::Cognito::UserPoolClient');
    expect((client.Properties.CallbackURLs as unknown[]).map(joined)).toContain('http://localhost:3000/');
    const [, baseClient] = only(base, 'AWS::Cognito::UserPoolClient');
    expect(JSON.stringify(baseClient.Properties.CallbackURLs)).not.toContain('localhost');
  });

  it('gives the pool a hosted UI domain named after the stack and account, or the context’s prefix', () => {
    const [, derived] = only(base, 'AWS::Cognito::UserPoolDomain');
    expect(joined(derived.Properties.Domain)).toBe('herald-<AWS::AccountId>');

    const named = synth({ cognitoDomainPrefix: 'metro-alerts' });
    expect(only(named, 'AWS::Cognito::UserPoolDomain')[1].Properties.Domain).toBe('metro-alerts');
  });

  it('uses the domain the pool already has rather than adding a second one', () => {
    const reused = synth({}, { existingDomain: 'already-there' });
    const [domainId, domain] = only(reused, 'AWS::Cognito::UserPoolDomain');
    expect(domain.Properties.Domain).toBe('already-there');
    const csp = joined(
      (
        only(reused, 'AWS::CloudFront::ResponseHeadersPolicy')[1].Properties.ResponseHeadersPolicyConfig as {
          SecurityHeadersConfig: { ContentSecurityPolicy: { ContentSecurityPolicy: unknown } };
        }
      ).SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy,
    );
    expect(csp).toContain(`https://<${domainId}>.auth.`);
  });
});

describe('the deployment', () => {
  interface DeploymentProperties {
    SourceObjectKeys: string[];
    SourceMarkers: Record<string, unknown>[];
    DestinationBucketName: unknown;
    DistributionId?: unknown;
    DistributionPaths?: string[];
    Include?: string[];
    Exclude?: string[];
    Prune: boolean;
    SystemMetadata?: Record<string, string>;
  }
  function deployment(s: Synthesized, name: 'Assets' | 'Pages'): [string, DeploymentProperties] {
    const [id, d] = ofType(s, 'Custom::CDKBucketDeployment').find(([id]) => id.startsWith(`Console${name}`))!;
    return [id, d.Properties as unknown as DeploymentProperties];
  }
  const assetDir = (s: Synthesized, key: string) => join(s.assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);

  it('copies the hashed assets first, cached for good and never pruned while older pages may still load them', () => {
    const [assetsId, assets] = deployment(base, 'Assets');
    expect(idOf(assets.DestinationBucketName)).toBe(filesBucket(base));
    expect(assets).toMatchObject({ Include: ['assets/*'], Exclude: ['*'], Prune: false });
    expect(assets.SystemMetadata).toEqual({ 'cache-control': 'public, max-age=31536000, immutable' });
    expect(assets.DistributionId).toBeUndefined();

    const [pagesId] = deployment(base, 'Pages');
    const pagesDependsOn = (base.template.toJSON().Resources[pagesId] as { DependsOn?: string[] }).DependsOn;
    expect(pagesDependsOn).toEqual(expect.arrayContaining([assetsId]));
  });

  it('then copies index.html and config.json, revalidated on every load, and invalidates the distribution', () => {
    const [, pages] = deployment(base, 'Pages');
    expect(idOf(pages.DestinationBucketName)).toBe(filesBucket(base));
    expect(pages).toMatchObject({ Exclude: ['assets/*'], SystemMetadata: { 'cache-control': 'no-cache' } });
    expect(idOf(pages.DistributionId)).toBe(only(base, 'AWS::CloudFront::Distribution')[0]);
    expect(pages.DistributionPaths).toEqual(['/*']);

    // The same build in both: what index.html loads is in the assets copy.
    const [, assets] = deployment(base, 'Assets');
    expect(pages.SourceObjectKeys[0]).toBe(assets.SourceObjectKeys[0]);
    const built = assetDir(base, pages.SourceObjectKeys[0]!);
    const loaded = loadedBy(readFileSync(join(built, 'index.html'), 'utf8'));
    expect(loaded.length).toBeGreaterThanOrEqual(2);
    for (const path of loaded) expect(existsSync(join(built, path)), path).toBe(true);
  });

  it('writes config.json for the Cognito mode: hosted UI domain, client id, redirect to the console, API on its origin', () => {
    // Prepare: the asset holds config.json with a marker per deploy-time value, SourceMarkers says which.
    const [, pages] = deployment(base, 'Pages');
    let text = readFileSync(join(assetDir(base, pages.SourceObjectKeys[1]!), 'config.json'), 'utf8');

    // Act: put each value back in its marker's place, written as <logical id> or <AWS::pseudo>.
    for (const [marker, value] of Object.entries(pages.SourceMarkers[1]!)) {
      const resolved =
        typeof value === 'object' && value && 'Fn::Join' in value ? joined(value) : `<${idOf(value)}>`;
      text = text.split(marker).join(resolved);
    }

    // Assess
    const [distributionId] = only(base, 'AWS::CloudFront::Distribution');
    const [clientId] = only(base, 'AWS::Cognito::UserPoolClient');
    const [domainId] = only(base, 'AWS::Cognito::UserPoolDomain');
    expect(JSON.parse(text)).toEqual({
      mode: 'cognito',
      domain: `https://<${domainId}>.auth.<AWS::Region>.amazoncognito.com`,
      clientId: `<${clientId}>`,
      redirectUri: `https://<${distributionId}>/`,
      apiBaseUrl: `https://<${distributionId}>`,
    });
  });
});

describe('in the Herald stack', () => {
  let herald: Synthesized;
  beforeAll(() => {
    // The stack as `cdk synth` builds it, with its own context, but no asset built: only the wiring is read here.
    const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
      context: Record<string, unknown>;
    };
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'herald-console-stack-')),
      context: {
        ...context,
        '@aws-cdk/core:annotationsInValidationReport': false,
        'aws:cdk:bundling-stacks': [],
      },
    });
    const stack = new HeraldStack(app, 'Herald');
    Aspects.of(app).add(new AwsSolutionsChecks());
    const template = Template.fromStack(stack);
    herald = {
      template,
      resources: template.toJSON().Resources as Record<string, CfnResource>,
      assemblyDir: app.synth().directory,
      annotations: Annotations.fromStack(stack),
      stack,
    };
  });

  function consoleDistribution(): string {
    const [id] = ofType(herald, 'AWS::CloudFront::Distribution').find(([id]) => id.startsWith('Console'))!;
    return id;
  }

  it("signs in with the client the API's authorizer trusts, whose redirects are the console's URL", () => {
    const [clientId, client] = only(herald, 'AWS::Cognito::UserPoolClient');
    const [, authorizer] = only(herald, 'AWS::ApiGatewayV2::Authorizer');
    const audience = (authorizer.Properties.JwtConfiguration as { Audience: unknown[] }).Audience;
    expect(audience).toContainEqual(ref(clientId));
    expect(client.Properties).toMatchObject({
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: expect.arrayContaining(['openid', 'email', 'profile']),
      PreventUserExistenceErrors: 'ENABLED',
    });
    const consoleRoot = `https://<${consoleDistribution()}>/`;
    expect((client.Properties.CallbackURLs as unknown[]).map(joined)).toEqual([consoleRoot]);
    expect((client.Properties.LogoutURLs as unknown[]).map(joined)).toEqual([consoleRoot]);
  });

  it('forwards /v1/* to the stack’s HTTP API and outputs the console URL', () => {
    const [apiId] = only(herald, 'AWS::ApiGatewayV2::Api');
    const config = (
      herald.resources[consoleDistribution()]!.Properties as { DistributionConfig: DistributionConfig }
    ).DistributionConfig;
    const api = config.CacheBehaviors!.find((b) => b.PathPattern === 'v1/*')!;
    const origin = config.Origins.find((o) => o.Id === api.TargetOriginId)!;
    expect(joined(origin.DomainName)).toBe(`<${apiId}>.execute-api.<AWS::Region>.<AWS::URLSuffix>`);
    const outputs = herald.template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(joined(outputs.ConsoleUrl!.Value)).toBe(`https://<${consoleDistribution()}>/`);
  });

  it('leaves cdk-nag nothing to report in the console or its deployment handler', () => {
    const findings = [
      ...herald.annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-')),
      ...herald.annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-')),
    ].filter((f) => f.id.startsWith('/Herald/Console/') || f.id.includes('CDKBucketDeployment'));
    expect(findings.map((f) => `${f.id}: ${String(f.entry.data).slice(0, 120)}`)).toEqual([]);
  });
});

describe('cdk-nag', () => {
  it('finds nothing in the console, its deployment handler included (suppressions carry their reasons)', () => {
    const findings = [
      ...base.annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-')),
      ...base.annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-')),
    ].filter((f) => f.id.startsWith('/Herald/Console/') || f.id.includes('CDKBucketDeployment'));
    expect(findings.map((f) => `${f.id}: ${String(f.entry.data).slice(0, 120)}`)).toEqual([]);
  });
});
