/**
 * The engagement poller in the synthesized stack (lib/engagement.ts): on its ten-minute schedule, with only what it
 * needs (the networks' secrets read-only, the table without update, delete or scan), its alarm, and nothing left
 * unsuppressed by cdk-nag.
 */
import { readFileSync } from 'node:fs';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/shared/config';
import { ENGAGEMENT_FAILED_RUNS } from '../../lib/engagement';
import { DEFAULT_SECRETS_PREFIX, HeraldStack } from '../../lib/herald-stack';
import { asList, type CfnResource, idOf, type Statement, text } from '../helpers/cfn';

let template: Template;
let resources: Record<string, CfnResource>;
let annotations: Annotations;
let pollerFn: string;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const envOf = (id: string): Record<string, unknown> =>
  (resources[id]!.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
  {};
function statementsOfRole(roleId: string): Statement[] {
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => idOf(r) === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}
const statementsOf = (functionId: string) => statementsOfRole(idOf(resources[functionId]!.Properties.Role));
const actionsOf = (functionId: string, prefix: string) =>
  statementsOf(functionId)
    .flatMap((s) => asList(s.Action))
    .filter((a) => a.startsWith(prefix))
    .sort();
const secretArn = (channel: string) =>
  `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${DEFAULT_SECRETS_PREFIX}${channel}-??????`;
const pollerSchedule = () =>
  ofType('AWS::Scheduler::Schedule').find(
    ([, s]) => idOf((s.Properties.Target as { Arn: unknown }).Arn) === pollerFn,
  );

beforeAll(() => {
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...context, '@aws-cdk/core:annotationsInValidationReport': false } });
  const stack = new HeraldStack(app, 'Herald');
  Aspects.of(app).add(new AwsSolutionsChecks());
  template = Template.fromStack(stack);
  annotations = Annotations.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, CfnResource>;
  pollerFn = ofType('AWS::Lambda::Function').find(
    ([id]) => envOf(id).POWERTOOLS_SERVICE_NAME === 'herald-engagement-poller',
  )![0];
}, 180_000);

describe('the engagement poller', () => {
  it('runs every ten minutes from an EventBridge schedule, without retries, under its two-minute timeout', () => {
    const found = pollerSchedule();
    expect(found).toBeDefined();
    expect(found![1].Properties).toMatchObject({
      ScheduleExpression: 'rate(10 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: { RetryPolicy: { MaximumRetryAttempts: 0 } },
    });
    expect(resources[pollerFn]!.Properties.Timeout).toBe(120);
    expect(resources[pollerFn]!.Properties.Handler).toBe('index.handler');
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: pollerFn },
      MaximumRetryAttempts: 0,
    });
  });

  it('is invoked through a role that only the scheduler of this account may assume, and that invokes only it', () => {
    const roleId = idOf((pollerSchedule()![1].Properties.Target as { RoleArn: unknown }).RoleArn);
    const trust = resources[roleId]!.Properties.AssumeRolePolicyDocument as {
      Statement: { Principal: unknown; Condition: unknown }[];
    };
    expect(trust.Statement).toEqual([
      expect.objectContaining({
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      }),
    ]);
    expect(statementsOfRole(roleId)).toEqual([
      { Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [pollerFn, 'Arn'] } },
    ]);
  });

  it('reads the secrets of the networks it reads metrics from, read-only, and no other', () => {
    const read = statementsOf(pollerFn)
      .filter((s) => asList(s.Action).includes('secretsmanager:GetSecretValue'))
      .flatMap((s) => asList(s.Resource).map(text))
      .sort();
    const networks = ['x', 'facebook', 'instagram', 'mastodon', 'bluesky', 'threads'];
    expect(read).toEqual(networks.map(secretArn).sort());
    // Telegram's Bot API has no metrics; SMS, email and webhooks have no posts.
    for (const other of ['telegram', 'sms', 'email', 'webhook']) expect(read).not.toContain(secretArn(other));
    expect(actionsOf(pollerFn, 'secretsmanager:')).toEqual(['secretsmanager:GetSecretValue']);
    expect(envOf(pollerFn)[ENV.secretsPrefix]).toBe(DEFAULT_SECRETS_PREFIX);
    expect(envOf(pollerFn)[ENV.tableName]).toBeDefined();
  });

  it('may query, get and put items in the table, and nothing else: no update, delete, scan, queue or key', () => {
    expect(actionsOf(pollerFn, 'dynamodb:')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    const services = new Set(
      statementsOf(pollerFn).flatMap((s) => asList(s.Action).map((a) => a.split(':')[0])),
    );
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 'secretsmanager', 'xray']);
  });

  it('alarms to the alarm topic when its runs keep failing', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => {
      const dims = (a.Properties.Dimensions ?? []) as { Name: string; Value: unknown }[];
      return (
        a.Properties.MetricName === 'Errors' &&
        a.Properties.Period === 3600 &&
        dims.some((d) => d.Name === 'FunctionName' && idOf(d.Value) === pollerFn)
      );
    });
    expect(alarms).toHaveLength(1);
    const topic = idOf(
      (template.toJSON().Outputs as Record<string, { Value: unknown }>).AlarmTopicArn!.Value,
    );
    expect(alarms[0]![1].Properties).toMatchObject({
      Threshold: ENGAGEMENT_FAILED_RUNS,
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topic }],
      OKActions: [{ Ref: topic }],
    });
  });

  it('leaves cdk-nag nothing unsuppressed on the engagement resources', () => {
    const findings = [
      ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ].filter((m) => /Engagement/i.test(m.id));
    expect(findings.map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`)).toEqual([]);
  });
});
