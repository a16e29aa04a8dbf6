/**
 * The audit chains' heads in the synthesized stack (lib/audit-heads.ts): one Object Lock bucket, private, encrypted,
 * TLS-only and logged; the functions that append audit entries may only put heads in it, the api may also list and
 * read them, and no function may delete, re-lock or bypass a lock. cdk-nag finds nothing left unsuppressed there.
 */
import { readFileSync } from 'node:fs';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/shared/config';
import { AUDIT_HEAD_RETENTION_DAYS } from '../../lib/audit-heads';
import { HeraldStack } from '../../lib/herald-stack';
import { asList, type CfnResource, idOf, type Statement, text } from '../helpers/cfn';

let resources: Record<string, CfnResource>;
let annotations: Annotations;
let bucketId: string;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const envOf = (id: string): Record<string, unknown> =>
  (resources[id]!.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
  {};
const heraldFunctions = () =>
  ofType('AWS::Lambda::Function').filter(([id]) => envOf(id).POWERTOOLS_SERVICE_NAME !== undefined);
const byService = (service: string) =>
  heraldFunctions().find(([id]) => envOf(id).POWERTOOLS_SERVICE_NAME === service)![0];
function statementsOf(functionId: string): Statement[] {
  const roleId = idOf(resources[functionId]!.Properties.Role);
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => idOf(r) === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
/** Every action the function may take on the heads bucket, with the resource it names (`<bucket id>` is its ARN). */
const headGrants = (functionId: string) =>
  statementsOf(functionId)
    .flatMap((s) =>
      asList(s.Resource)
        .map(text)
        .filter((r) => r.startsWith(`<${bucketId}>`))
        .flatMap((r) => asList(s.Action).map((a) => `${a} ${r}`)),
    )
    .sort();

beforeAll(() => {
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...context, '@aws-cdk/core:annotationsInValidationReport': false } });
  const stack = new HeraldStack(app, 'Herald');
  Aspects.of(app).add(new AwsSolutionsChecks());
  const template = Template.fromStack(stack);
  annotations = Annotations.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, CfnResource>;
  const locked = ofType('AWS::S3::Bucket').filter(([, r]) => r.Properties.ObjectLockEnabled === true);
  expect(locked).toHaveLength(1);
  bucketId = locked[0]![0];
}, 180_000);

describe('the audit heads bucket', () => {
  it('locks every head in GOVERNANCE mode for seven years, versioned, private, encrypted and logged, kept with the stack', () => {
    const bucket = resources[bucketId]!;
    expect(bucket.Properties).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: AUDIT_HEAD_RETENTION_DAYS } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'audit-heads/' },
    });
    const logs = idOf(
      (bucket.Properties.LoggingConfiguration as { DestinationBucketName: unknown }).DestinationBucketName,
    );
    expect(resources[logs]!.Type).toBe('AWS::S3::Bucket');
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('refuses every request that is not over TLS', () => {
    const policies = ofType('AWS::S3::BucketPolicy').filter(
      ([, p]) => idOf(p.Properties.Bucket) === bucketId,
    );
    const statements = policies.flatMap(
      ([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('lets the functions that append audit entries put heads, and the api also list and read them: nothing more', () => {
    const heads = `<${bucketId}>/heads/*`;
    // The replies poller appends tips' entries: the tips it takes in and the answers it posts.
    const appenders = ['herald-dispatch', 'herald-sweeper', 'herald-replies-poller'].map(byService);
    for (const fn of appenders) {
      expect(headGrants(fn), fn).toEqual([`s3:PutObject ${heads}`]);
      expect(envOf(fn)[ENV.auditHeadBucket], fn).toEqual({ Ref: bucketId });
    }
    const api = byService('herald-api');
    expect(headGrants(api)).toEqual([
      `s3:GetObject ${heads}`,
      `s3:ListBucket <${bucketId}>`,
      `s3:PutObject ${heads}`,
    ]);
    const listing = statementsOf(api).find((s) => asList(s.Action).includes('s3:ListBucket'));
    expect(listing?.Condition).toEqual({ StringLike: { 's3:prefix': ['heads/*'] } });
    expect(envOf(api)[ENV.auditHeadBucket]).toEqual({ Ref: bucketId });
  });

  it('gives no other function the bucket', () => {
    const allowed = new Set(
      ['herald-api', 'herald-dispatch', 'herald-sweeper', 'herald-replies-poller'].map(byService),
    );
    for (const [id] of heraldFunctions())
      if (!allowed.has(id)) {
        expect(headGrants(id), id).toEqual([]);
        expect(envOf(id)[ENV.auditHeadBucket], id).toBeUndefined();
      }
  });

  it('leaves no cdk-nag AwsSolutions error unsuppressed on the bucket or the grants', () => {
    const errors = annotations
      .findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
      .map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`);
    expect(errors).toEqual([]);
  });
});
