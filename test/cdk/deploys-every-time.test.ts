/**
 * The stack deploys the first time and every time: into an account where SNS already made its log groups, again
 * after a `cdk destroy` left the retained resources behind, and in an order CloudFormation cannot get wrong. Also
 * what it must tell the agency at night (alarms) and what its logs must not show (addresses). Synthesized without
 * bundling: the template is all these tests read (test/cdk/herald-stack.test.ts runs cdk-nag on the full stack).
 */
import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALARM_THRESHOLDS } from '../../lib/alarms';
import { HeraldStack } from '../../lib/herald-stack';
import { MASKING_POLICY_NAME } from '../../lib/masking';
import { SMS_DELIVERY_LOG_RETENTION } from '../../lib/sms-delivery-status';
import { asList, type CfnResource, idOf, type Statement, text } from '../helpers/cfn';

interface SdkCall {
  service: string;
  action: string;
  parameters: Record<string, unknown>;
  ignoreErrorCodesMatching?: string;
}
interface DataProtectionStatement {
  DataIdentifier: string[];
  Operation: Record<string, unknown>;
}

/** A monthly SMS spend limit other than the default, so the threshold is seen to follow it. */
const SMS_SPEND_LIMIT = 250;

let resources: Record<string, CfnResource>;
let outputs: Record<string, { Value: unknown }>;

beforeAll(() => {
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({
    context: { ...context, smsMonthlySpendLimit: String(SMS_SPEND_LIMIT), 'aws:cdk:bundling-stacks': [] },
  });
  const json = Template.fromStack(new HeraldStack(app, 'Herald')).toJSON() as {
    Resources: Record<string, CfnResource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  resources = json.Resources;
  outputs = json.Outputs;
}, 120_000);

const PSEUDO = /^AWS::/;
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const dependsOn = (id: string) => asList(resources[id]!.DependsOn);
/** The SDK calls made at deploy time (AwsCustomResource) for `action`, by the call made on create. */
function sdkCalls(action: string): [string, SdkCall][] {
  return ofType('Custom::AWS')
    .map(([id, r]) => [id, JSON.parse(text(r.Properties.Create)) as SdkCall] as [string, SdkCall])
    .filter(([, call]) => call.action === action);
}
function serviceOf(functionId: string): unknown {
  const env = resources[functionId]!.Properties.Environment as { Variables?: Record<string, unknown> };
  return env?.Variables?.POWERTOOLS_SERVICE_NAME;
}
const heraldFunctions = () => ofType('AWS::Lambda::Function').filter(([id]) => serviceOf(id) !== undefined);
function byService(service: string): string {
  const found = heraldFunctions().filter(([id]) => serviceOf(id) === service);
  expect(found, service).toHaveLength(1);
  return found[0]![0];
}
/** The one element of `list`. */
function single<T>(list: T[], what: string): T {
  expect(list, what).toHaveLength(1);
  return list[0]!;
}
const alarmTopic = () => idOf(outputs.AlarmTopicArn!.Value);
function alarmsOf(namespace: string, metricName: string): Record<string, unknown>[] {
  return ofType('AWS::CloudWatch::Alarm')
    .map(([, a]) => a.Properties)
    .filter((a) => a.Namespace === namespace && a.MetricName === metricName);
}
/** Fires to the alarm topic and tells it when it clears. */
function expectToTellTheTopic(alarm: Record<string, unknown> | undefined): void {
  expect(alarm).toBeDefined();
  expect(alarm!.AlarmActions).toEqual([{ Ref: alarmTopic() }]);
  expect(alarm!.OKActions).toEqual([{ Ref: alarmTopic() }]);
}

const SMS_STATUS_GROUPS = [
  'sns/<AWS::Region>/<AWS::AccountId>/DirectPublishToPhoneNumber',
  'sns/<AWS::Region>/<AWS::AccountId>/DirectPublishToPhoneNumber/Failure',
];
const MASKED = [
  ...['US', 'GB', 'ES', 'FR', 'DE', 'IT', 'BR'].map(
    (country) => `arn:<AWS::Partition>:dataprotection::aws:data-identifier/PhoneNumber-${country}`,
  ),
  'arn:<AWS::Partition>:dataprotection::aws:data-identifier/EmailAddress',
];

/** Both statements of a data-protection policy cover every contact identifier, and one of them masks. */
function expectMasksContacts(policy: { Name?: string; Statement: DataProtectionStatement[] }, where: string) {
  expect(policy.Name, where).toBe(MASKING_POLICY_NAME);
  const masking = policy.Statement.filter((s) => 'Deidentify' in s.Operation);
  expect(masking, where).toHaveLength(1);
  const identifiers = masking[0]!.DataIdentifier.map(text);
  expect(identifiers, where).toEqual(expect.arrayContaining(MASKED));
  // E.164 numbers by themselves, without a keyword nearby: how Herald and SNS write them.
  expect(
    identifiers.some((i) => !i.startsWith('arn:')),
    where,
  ).toBe(true);
}

describe('deploys in an order CloudFormation cannot get wrong', () => {
  it('makes the API stage depend on every route its route settings name', () => {
    const [stageId, stage] = single(ofType('AWS::ApiGatewayV2::Stage'), 'stage');
    const keys = Object.keys(stage.Properties.RouteSettings as object);
    expect(keys.length).toBeGreaterThan(5);
    for (const key of keys) {
      const routes = ofType('AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.RouteKey === key);
      expect(routes, key).toHaveLength(1);
      expect(dependsOn(stageId), key).toContain(routes[0]![0]);
    }
  });
});

describe('SNS SMS delivery-status log groups, whose names SNS fixes', () => {
  const callsFor = (action: string) =>
    sdkCalls(action).filter(([, c]) =>
      SMS_STATUS_GROUPS.includes(String(c.parameters.logGroupName ?? c.parameters.logGroupIdentifier)),
    );

  it('declares no log group of those names, which CloudFormation would fail to create where one exists', () => {
    const named = ofType('AWS::Logs::LogGroup').filter(([, g]) =>
      text(g.Properties.LogGroupName ?? '').startsWith('sns/'),
    );
    expect(named).toEqual([]);
  });

  it('creates each group unless it exists, then sets its retention and masking, on every create and update', () => {
    const creates = callsFor('CreateLogGroup');
    expect(creates.map(([, c]) => c.parameters.logGroupName).sort()).toEqual(SMS_STATUS_GROUPS);
    for (const [createId, create] of creates) {
      const group = String(create.parameters.logGroupName);
      expect(create.ignoreErrorCodesMatching, group).toBe('ResourceAlreadyExistsException');

      const [retentionId, retention] = single(
        callsFor('PutRetentionPolicy').filter(([, c]) => c.parameters.logGroupName === group),
        `retention of ${group}`,
      );
      expect(retention.parameters.retentionInDays, group).toBe(SMS_DELIVERY_LOG_RETENTION);

      const [maskingId, masking] = single(
        callsFor('PutDataProtectionPolicy').filter(([, c]) => c.parameters.logGroupIdentifier === group),
        `masking of ${group}`,
      );
      expectMasksContacts(JSON.parse(String(masking.parameters.policyDocument)), group);

      for (const id of [createId, retentionId, maskingId]) {
        const r = resources[id]!;
        // Set again on every update; nothing on delete: the groups hold the delivery evidence.
        expect(text(r.Properties.Update), id).toBe(text(r.Properties.Create));
        expect(r.Properties.Delete, id).toBeUndefined();
      }
      expect(dependsOn(retentionId)).toContain(createId);
      expect(dependsOn(maskingId)).toContain(createId);
    }
  });

  it('lets each call act on its own group alone', () => {
    for (const action of ['CreateLogGroup', 'PutRetentionPolicy', 'PutDataProtectionPolicy']) {
      expect(callsFor(action), action).toHaveLength(SMS_STATUS_GROUPS.length);
      for (const [id, call] of callsFor(action)) {
        const group = String(call.parameters.logGroupName ?? call.parameters.logGroupIdentifier);
        // The call's own policy (`<call>CustomResourcePolicy…`), not those of the calls it waits for.
        const own = `${id.replace(/[0-9A-F]{8}$/, '')}CustomResourcePolicy`;
        const policies = dependsOn(id).filter((d) => d.startsWith(own));
        expect(policies, id).toHaveLength(1);
        const statements = policies.flatMap(
          (p) => (resources[p]!.Properties.PolicyDocument as { Statement: Statement[] }).Statement,
        );
        expect(
          statements.flatMap((s) => asList(s.Action)),
          id,
        ).toEqual([`logs:${action}`]);
        const arn = `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${group}`;
        expect(
          statements
            .flatMap((s) => asList(s.Resource))
            .map(text)
            .sort(),
          id,
        ).toEqual([arn, `${arn}:*`]);
      }
    }
  });

  it('subscribes each group, and turns SNS delivery logging on, only once the groups exist, keep and mask', () => {
    const [setterId] = single(sdkCalls('SetSMSAttributes'), 'SetSMSAttributes');
    const filters = ofType('AWS::Logs::SubscriptionFilter');
    expect(filters).toHaveLength(SMS_STATUS_GROUPS.length);
    for (const [filterId, filter] of filters) {
      const group = text(filter.Properties.LogGroupName);
      const setUp = ['CreateLogGroup', 'PutRetentionPolicy', 'PutDataProtectionPolicy'].flatMap((action) =>
        callsFor(action)
          .filter(([, c]) => (c.parameters.logGroupName ?? c.parameters.logGroupIdentifier) === group)
          .map(([id]) => id),
      );
      expect(setUp, group).toHaveLength(3);
      expect(dependsOn(filterId)).toEqual(expect.arrayContaining(setUp));
      expect(dependsOn(setterId)).toEqual(expect.arrayContaining(setUp));
    }
  });
});

describe('after cdk destroy, a redeploy', () => {
  it('finds no resource kept from the last deployment in its way: nothing retained has a fixed name', () => {
    const nameProperties = [
      'Name',
      'LogGroupName',
      'TableName',
      'AliasName',
      'BucketName',
      'QueueName',
      'TopicName',
      'UserPoolName',
    ];
    // A name made from another resource's (generated) id is new with every deployment.
    const refersToResource = (value: unknown): boolean =>
      JSON.stringify(value)
        .match(/"(?:Ref|Fn::GetAtt)":\s*(?:"|\[")([^"]+)"/g)
        ?.some((m) => !PSEUDO.test(m.replace(/^.*"([^"]+)"$/, '$1'))) ?? false;
    const retained = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain');
    expect(retained.length).toBeGreaterThan(5);
    for (const [id, r] of retained) {
      for (const property of nameProperties) {
        const name = r.Properties?.[property];
        if (name !== undefined) expect(refersToResource(name), `${id}.${property}`).toBe(true);
      }
    }
  });
});

describe('addresses in logs', () => {
  it.each(['herald-channel-sms', 'herald-sms-status', 'herald-api'])(
    'masks phone numbers and email addresses in the log group of %s',
    (service) => {
      const fn = byService(service);
      const group = idOf((resources[fn]!.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup);
      const policy = resources[group]!.Properties.DataProtectionPolicy as {
        Name: string;
        Statement: DataProtectionStatement[];
      };
      expectMasksContacts(policy, service);
    },
  );

  it("masks them in every Herald function's log group", () => {
    for (const [fn] of heraldFunctions()) {
      const group = idOf((resources[fn]!.Properties.LoggingConfig as { LogGroup: unknown }).LogGroup);
      expect(resources[group]!.Properties.DataProtectionPolicy, fn).toBeDefined();
    }
  });
});

describe('alarms an agency must hear at night', () => {
  const t = ALARM_THRESHOLDS;
  const apiId = () => ofType('AWS::ApiGatewayV2::Api')[0]![0];

  it('alarms on API 5xx answers', () => {
    const alarm = single(alarmsOf('AWS/ApiGateway', '5xx'), '5xx alarm');
    expect(alarm).toMatchObject({
      Dimensions: [{ Name: 'ApiId', Value: { Ref: apiId() } }],
      Statistic: 'Sum',
      Threshold: t.api5xx,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expectToTellTheTopic(alarm);
  });

  it('alarms on the share of API requests refused 4xx, which is how throttling (429) shows on an HTTP API', () => {
    const found = ofType('AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties)
      .filter((a) =>
        ((a.Metrics ?? []) as { Expression?: string }[]).some((m) => m.Expression?.includes('/ requests')),
      );
    expect(found).toHaveLength(1);
    const alarm = found[0]!;
    const metrics = alarm.Metrics as {
      MetricStat?: { Metric: { MetricName: string; Dimensions: unknown } };
    }[];
    const used = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : []));
    expect(used.map((m) => m.MetricName).sort()).toEqual(['4xx', 'Count']);
    for (const m of used) expect(m.Dimensions).toEqual([{ Name: 'ApiId', Value: { Ref: apiId() } }]);
    expect(alarm.Threshold).toBe(t.api4xxShare);
    expectToTellTheTopic(alarm);
  });

  it.each(['Errors', 'Throttles'])("alarms on every Herald function's %s", (metricName) => {
    const alarms = alarmsOf('AWS/Lambda', metricName);
    for (const [fn] of heraldFunctions()) {
      const own = alarms.filter(
        (a) =>
          JSON.stringify(a.Dimensions) === JSON.stringify([{ Name: 'FunctionName', Value: { Ref: fn } }]),
      );
      // A function may have one of its own besides (the replies poller alarms on failed runs over a longer period).
      const generic = own.filter(
        (a) => a.Threshold === (metricName === 'Errors' ? t.functionErrors : t.functionThrottles),
      );
      expect(generic, fn).toHaveLength(1);
      expectToTellTheTopic(generic[0]);
    }
  });

  it('alarms when SMS spend nears the monthly limit the context gives', () => {
    const alarm = single(alarmsOf('AWS/SNS', 'SMSMonthToDateSpentUSD'), 'SMS spend alarm');
    expect(alarm).toMatchObject({
      Statistic: 'Maximum',
      Threshold: t.smsSpendShare * SMS_SPEND_LIMIT,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm.Dimensions).toBeUndefined();
    expectToTellTheTopic(alarm);
  });

  it.each([
    ['Reputation.BounceRate', 0.05],
    ['Reputation.ComplaintRate', 0.001],
  ])('alarms when the SES %s passes %s, where SES reviews the account', (metricName, threshold) => {
    const alarm = single(alarmsOf('AWS/SES', metricName), metricName);
    expect(alarm).toMatchObject({ Threshold: threshold, ComparisonOperator: 'GreaterThanThreshold' });
    expectToTellTheTopic(alarm);
  });

  it('keeps email events SNS cannot deliver in a dead-letter queue only that topic may fill, which alarms', () => {
    const emailEvents = byService('herald-email-events');
    const subscriptions = ofType('AWS::SNS::Subscription').filter(
      ([, s]) => s.Properties.Protocol === 'lambda' && idOf(s.Properties.Endpoint) === emailEvents,
    );
    expect(subscriptions).toHaveLength(1);
    const [, subscription] = subscriptions[0]!;
    const topic = idOf(subscription.Properties.TopicArn);
    const queue = idOf(
      (subscription.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
    );
    expect(resources[queue]!.Type).toBe('AWS::SQS::Queue');
    const allows = ofType('AWS::SQS::QueuePolicy')
      .filter(([, p]) => asList(p.Properties.Queues).some((q) => idOf(q) === queue))
      .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
      .filter((s) => s.Effect === 'Allow');
    expect(allows).toHaveLength(1);
    expect(allows[0]).toMatchObject({
      Action: 'sqs:SendMessage',
      Principal: { Service: 'sns.amazonaws.com' },
      Condition: { ArnEquals: { 'aws:SourceArn': { Ref: topic } } },
    });
    const alarms = alarmsOf('AWS/SQS', 'ApproximateNumberOfMessagesVisible').filter((a) =>
      (a.Dimensions as { Value: unknown }[]).some((d) => idOf(d.Value) === queue),
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
    expectToTellTheTopic(alarms[0]);
  });
});
