/**
 * The replies path in the synthesized stack (lib/replies.ts): the replies poller (X, Mastodon, Bluesky, Threads,
 * Telegram, and the officers' public answers) on its schedule with only what it needs,
 * its alarm, the Meta webhook route deployed public, and the api's right to read the Meta secrets and no other.
 */
import { readFileSync } from 'node:fs';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/shared/config';
import { DEFAULT_SECRETS_PREFIX, HeraldStack } from '../../lib/herald-stack';
import { META_WEBHOOK_PATH, REPLY_POLL_FAILED_RUNS, REPLY_SECRET_CHANNELS } from '../../lib/replies';
import { asList, type CfnResource, idOf, type Statement, text } from '../helpers/cfn';

let template: Template;
let resources: Record<string, CfnResource>;
let annotations: Annotations;
let pollerFn: string;
let apiFn: string;

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
const secretsReadBy = (functionId: string) =>
  statementsOf(functionId)
    .filter((s) => asList(s.Action).includes('secretsmanager:GetSecretValue'))
    .flatMap((s) => asList(s.Resource).map(text))
    .sort();

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
  const byService = (service: string) =>
    ofType('AWS::Lambda::Function').find(([id]) => envOf(id).POWERTOOLS_SERVICE_NAME === service)![0];
  pollerFn = byService('herald-replies-poller');
  apiFn = byService('herald-api');
}, 180_000);

describe('the replies poller', () => {
  it('runs every two minutes from an EventBridge schedule, without retries, under its one-minute timeout', () => {
    // Other functions run on schedules of their own (the engagement poller): this one is the schedule that invokes it.
    const schedules = ofType('AWS::Scheduler::Schedule').filter(
      ([, s]) => idOf((s.Properties.Target as { Arn: unknown }).Arn) === pollerFn,
    );
    expect(schedules).toHaveLength(1);
    const [, schedule] = schedules[0]!;
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'rate(2 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: { RetryPolicy: { MaximumRetryAttempts: 0 } },
    });
    const target = schedule.Properties.Target as { Arn: unknown; RoleArn: unknown };
    expect(idOf(target.Arn)).toBe(pollerFn);
    expect(resources[pollerFn]!.Properties.Timeout).toBe(60);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: pollerFn },
      MaximumRetryAttempts: 0,
    });
  });

  it('is invoked through a role that only the scheduler of this account may assume, and that invokes only it', () => {
    const [, schedule] = ofType('AWS::Scheduler::Schedule').find(
      ([, s]) => idOf((s.Properties.Target as { Arn: unknown }).Arn) === pollerFn,
    )!;
    const roleId = idOf((schedule.Properties.Target as { RoleArn: unknown }).RoleArn);
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

  it("reads the social channels' secrets (to read replies, and to post answers) and no other, and is told the prefix", () => {
    const social = ['x', 'facebook', 'instagram', 'mastodon', 'bluesky', 'threads', 'telegram'];
    expect([...REPLY_SECRET_CHANNELS].sort()).toEqual([...social].sort());
    expect(secretsReadBy(pollerFn).sort()).toEqual(social.map(secretArn).sort());
    // Never a channel that neither posts publicly nor takes answers.
    for (const other of ['sms', 'email', 'webhook'])
      expect(secretsReadBy(pollerFn)).not.toContain(secretArn(other));
    expect(actionsOf(pollerFn, 'secretsmanager:')).toEqual(['secretsmanager:GetSecretValue']);
    expect(envOf(pollerFn)[ENV.secretsPrefix]).toBe(DEFAULT_SECRETS_PREFIX);
    expect(envOf(pollerFn)[ENV.tableName]).toBeDefined();
  });

  it('may read, put and update items in the table (its cursors, the tips it hands over), and nothing else: no delete, scan, queue or key', () => {
    expect(actionsOf(pollerFn, 'dynamodb:')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    const services = new Set(
      statementsOf(pollerFn).flatMap((s) => asList(s.Action).map((a) => a.split(':')[0])),
    );
    // s3: only the audit trail's heads, appended when a tip is audited (lib/audit-heads.ts).
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 's3', 'secretsmanager', 'xray']);
    expect(actionsOf(pollerFn, 's3:')).toEqual(['s3:PutObject']);
  });

  it('alarms to the alarm topic when its runs keep failing', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').filter(([, a]) => {
      const dims = (a.Properties.Dimensions ?? []) as { Name: string; Value: unknown }[];
      return (
        a.Properties.MetricName === 'Errors' &&
        a.Properties.Period === 600 &&
        dims.some((d) => d.Name === 'FunctionName' && idOf(d.Value) === pollerFn)
      );
    });
    expect(alarms).toHaveLength(1);
    const topic = idOf(
      (template.toJSON().Outputs as Record<string, { Value: unknown }>).AlarmTopicArn!.Value,
    );
    expect(alarms[0]![1].Properties).toMatchObject({
      Threshold: REPLY_POLL_FAILED_RUNS,
      Statistic: 'Sum',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: topic }],
      OKActions: [{ Ref: topic }],
    });
  });
});

describe('the Meta webhook route', () => {
  it.each(['GET', 'POST'])(`deploys %s ${META_WEBHOOK_PATH} public, to the api function`, (method) => {
    const routes = ofType('AWS::ApiGatewayV2::Route').filter(
      ([, r]) => r.Properties.RouteKey === `${method} ${META_WEBHOOK_PATH}`,
    );
    expect(routes).toHaveLength(1);
    expect(routes[0]![1].Properties.AuthorizationType).toBe('NONE');
  });

  it('lets the api read the facebook and instagram secrets (app secret, verify token), not the x secret', () => {
    // Beside them, CloudFront's edge secret (test/cdk/site.test.ts).
    const [edgeSecret] = ofType('AWS::SecretsManager::Secret').map(([id]) => `<${id}>`);
    expect(secretsReadBy(apiFn)).toEqual([edgeSecret, secretArn('facebook'), secretArn('instagram')]);
    expect(envOf(apiFn)[ENV.secretsPrefix]).toBe(DEFAULT_SECRETS_PREFIX);
  });

  it('leaves cdk-nag nothing unsuppressed on the replies resources', () => {
    const findings = [
      ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')),
      ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')),
    ].filter((m) => /Replies|inbound\/meta/i.test(m.id));
    expect(findings.map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`)).toEqual([]);
  });
});
