/**
 * The house function construct on its own, in a small stack: the defaults every Herald function gets,
 * and what bindTable, bindTableItems and bindQueue grant.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, queueUrlEnv } from '../../functions/shared/config';
import { esbuildOptions } from '../../lib/bundling';
import { entryPath, HeraldFunction } from '../../lib/herald-function';

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

let template: Template;
let bundle: string;
let functionProps: Record<string, unknown>;
let statements: Statement[];
let tableId: string;
let queueId: string;

beforeAll(() => {
  // Prepare
  const app = new App();
  const stack = new Stack(app, 'Test');
  const table = new TableV2(stack, 'Table', {
    partitionKey: { name: 'PK', type: AttributeType.STRING },
    globalSecondaryIndexes: [
      { indexName: 'GSI1', partitionKey: { name: 'GSI1PK', type: AttributeType.STRING } },
    ],
  });
  const queue = new Queue(stack, 'Queue');

  // Act
  new HeraldFunction(stack, 'Fn', {
    entry: entryPath('functions/sweeper/handler.ts'),
    serviceName: 'herald-test',
    timeout: Duration.seconds(7),
    environment: { EXTRA: 'kept', POWERTOOLS_METRICS_NAMESPACE: 'Overridden' },
  })
    .bindTable(table, ['GetItem', 'Query'])
    .bindQueue('dispatch', queue);
  template = Template.fromStack(stack);
  const assembly = app.synth();

  // Assess (shared lookups)
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const byType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  tableId = byType('AWS::DynamoDB::GlobalTable')[0]![0];
  queueId = byType('AWS::SQS::Queue')[0]![0];
  functionProps = byType('AWS::Lambda::Function')[0]![1].Properties;
  statements = byType('AWS::IAM::Policy').flatMap(
    ([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
  );
  const s3Key = (functionProps.Code as { S3Key: string }).S3Key;
  const assetDir = join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`);
  bundle = readFileSync(join(assetDir, 'index.mjs'), 'utf8');
  expect(existsSync(join(assetDir, 'index.mjs.map'))).toBe(true);
}, 120_000);

describe('Class: HeraldFunction', () => {
  it('runs on nodejs22.x, arm64, with active tracing and JSON logs to its own log group', () => {
    expect(functionProps).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Timeout: 7,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: expect.any(String) } },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: Match.anyValue() });
  });

  it('merges the caller environment over the defaults instead of replacing them', () => {
    const env = (functionProps.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'herald-test',
      POWERTOOLS_METRICS_NAMESPACE: 'Overridden',
      EXTRA: 'kept',
    });
  });

  it('bindTable grants exactly the named actions on the table and its indexes and sets the table name', () => {
    const dynamo = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect([dynamo[0]!.Action].flat().sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(dynamo[0]!.Resource).toEqual([
      { 'Fn::GetAtt': [tableId, 'Arn'] },
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/*']] },
    ]);
    expect(
      (functionProps.Environment as { Variables: Record<string, unknown> }).Variables[ENV.tableName],
    ).toEqual({
      Ref: tableId,
    });
  });

  it('bindQueue grants SendMessage on that queue and passes its URL under the name the code reads', () => {
    const sends = statements.filter((s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(sends.map((s) => s.Resource)).toEqual([{ 'Fn::GetAtt': [queueId, 'Arn'] }]);
    expect(
      (functionProps.Environment as { Variables: Record<string, unknown> }).Variables[
        queueUrlEnv('dispatch')
      ],
    ).toEqual({ Ref: queueId });
  });

  it('writes only to its own log group, without the managed basic-execution policy', () => {
    const logs = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('logs:')));
    expect([logs[0]!.Action].flat().sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(JSON.stringify(template.toJSON())).not.toContain('AWSLambdaBasicExecutionRole');
  });

  it('bundles an ES module that can still require(), with the AWS SDK inside it, not left to the runtime', () => {
    expect(bundle.startsWith('import { createRequire')).toBe(true);
    expect(bundle).not.toMatch(/from\s*"@aws-sdk\//);
    // The one SDK module left out is optional and loaded inside a try (the CRT signer, for SigV4a only).
    const required = [...bundle.matchAll(/require\(\s*"(@(?:aws-sdk|smithy)\/[^"]+)"/g)].map((m) => m[1]);
    expect(new Set(required)).toEqual(new Set(['@aws-sdk/signature-v4-crt']));
    expect(bundle).toContain('SendMessage');
  });

  it('bundles byte for byte what esbuildOptions builds, so the benchmark measures the deployed code', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'herald-bundle-'));
    try {
      const outfile = join(dir, 'index.mjs');
      await build(esbuildOptions(entryPath('functions/sweeper/handler.ts'), outfile));
      expect(readFileSync(outfile, 'utf8') === bundle).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HeraldFunction.bindTableItems', () => {
  function fixture() {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Keyed');
    const table = new TableV2(stack, 'Table', { partitionKey: { name: 'PK', type: AttributeType.STRING } });
    const fn = new HeraldFunction(stack, 'Fn', {
      entry: entryPath('functions/sweeper/handler.ts'),
      serviceName: 'herald-keyed',
      timeout: Duration.seconds(7),
    });
    return { stack, table, fn };
  }

  it('grants the keyed actions on the table alone, for items whose partition key starts with a named prefix', () => {
    // Arrange
    const { stack, table, fn } = fixture();

    // Act
    fn.bindTableItems(table, ['DeleteItem'], ['SUB#', 'CHAL#']);

    // Assert
    const tableId = Object.keys(Template.fromStack(stack).findResources('AWS::DynamoDB::GlobalTable'))[0]!;
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: 'dynamodb:DeleteItem',
            Resource: { 'Fn::GetAtt': [tableId, 'Arn'] },
            Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['SUB#*', 'CHAL#*'] } },
          },
        ]),
      },
    });
  });

  it.each([[[]], [['']], [['SUB#*']]])('refuses %j as prefixes, which would open every item', (prefixes) => {
    const { table, fn } = fixture();
    expect(() => fn.bindTableItems(table, ['BatchWriteItem'], prefixes)).toThrow(
      /literal partition key prefixes/,
    );
  });
});
