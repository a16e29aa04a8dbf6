/**
 * The synthesized Herald stack, read as CloudFormation: each test follows the wiring (which function
 * consumes which queue, who may send where) rather than counting resources.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { XMLLINT_ASSET_DIR, xmllintAssetFiles } from '../../functions/adapters/cap-schema';
import { CARD_ASSET_DIR, CARD_LIBS_FILE, cardAssetFiles } from '../../functions/adapters/card/alert-card';
import { createTableInput, TABLE_DEFINITION } from '../../functions/adapters/dynamo/table';
import { PII_ENCRYPTION_CONTEXT } from '../../functions/adapters/pii/kms';
import { CREDENTIALS_REJECTED_MESSAGE } from '../../functions/adapters/providers/graph';
import { isSubscriberChannel } from '../../functions/core/fanout';
import { ROLES } from '../../functions/core/model';
import { channelQueue } from '../../functions/ports';
import { ENV, queueUrlEnv } from '../../functions/shared/config';
import {
  DEFAULT_SECRETS_PREFIX,
  HeraldStack,
  PUBLIC_READ_LIMIT,
  SECRET_CHANNELS,
  SIGN_UP_LIMIT,
  SMS_JOBS_PER_INVOCATION,
  SMS_SENDING_DEFAULTS,
  smsSenderTimeout,
} from '../../lib/herald-stack';
import { INBOUND_SMS_PATH } from '../../lib/inbound-sms';

import { CHANNELS } from '../../schemas/alert';
import { ROUTES, type RouteSpec } from '../../schemas/routes';
import { asList, type CfnResource, idOf, type Statement } from '../helpers/cfn';

interface EventSourceMapping {
  EventSourceArn: unknown;
  FunctionName: unknown;
  FunctionResponseTypes?: string[];
  BatchSize?: number;
  ScalingConfig?: { MaximumConcurrency?: number };
}

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
/** A `Fn::Join` of literal strings and references, each reference written as `<logical id>`. */
function joined(value: unknown): string {
  const join = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return join[1].map((part) => (typeof part === 'string' ? part : `<${idOf(part)}>`)).join(join[0]);
}
/** A literal string, a `Fn::Join` written out as by `joined`, or a reference as `<logical id>`. */
const text = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : (value as Record<string, unknown>)['Fn::Join']
      ? joined(value)
      : `<${idOf(value)}>`;
/** The ARN (in the `:*` form IAM and subscriptions use) of a log group named `name`. */
const logGroupArn = (name: string) =>
  `arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${name}:*`;
const SMS_STATUS_GROUPS = [
  'sns/<AWS::Region>/<AWS::AccountId>/DirectPublishToPhoneNumber',
  'sns/<AWS::Region>/<AWS::AccountId>/DirectPublishToPhoneNumber/Failure',
];

let template: Template;
let assemblyDir: string;
let annotations: Annotations;
let resources: Record<string, CfnResource>;

function ofType(type: string): [string, CfnResource][] {
  return Object.entries(resources).filter(([, r]) => r.Type === type);
}
function only(type: string): [string, CfnResource] {
  const found = ofType(type);
  expect(found, type).toHaveLength(1);
  return found[0]!;
}
function resource(id: string): CfnResource {
  const r = resources[id];
  if (!r) throw new Error(`no resource ${id}`);
  return r;
}
function envOf(functionId: string): Record<string, unknown> {
  const env = resource(functionId).Properties.Environment as
    | { Variables?: Record<string, unknown> }
    | undefined;
  return env?.Variables ?? {};
}
/** The queue whose URL a function is given under the name the code reads for `queue`. */
function queueIn(functionId: string, queue: Parameters<typeof queueUrlEnv>[0]): string {
  return idOf(envOf(functionId)[queueUrlEnv(queue)]);
}
function mappingsOf(queueId: string): EventSourceMapping[] {
  return ofType('AWS::Lambda::EventSourceMapping')
    .map(([, r]) => r.Properties as unknown as EventSourceMapping)
    .filter((m) => idOf(m.EventSourceArn) === queueId);
}
function consumerOf(queueId: string): string {
  const mappings = mappingsOf(queueId);
  expect(mappings, `event sources on ${queueId}`).toHaveLength(1);
  return idOf(mappings[0]!.FunctionName);
}
/** Every Allow statement of every policy attached to the function's role. */
function statementsOf(functionId: string): Statement[] {
  const roleId = idOf(resource(functionId).Properties.Role);
  return ofType('AWS::IAM::Policy')
    .filter(([, p]) => (p.Properties.Roles as unknown[]).some((r) => idOf(r) === roleId))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
    .filter((s) => s.Effect === 'Allow');
}
/** The logical ids of the resources the function may apply `action` to. */
function targetsOf(functionId: string, action: string): string[] {
  return statementsOf(functionId)
    .filter((s) => asList(s.Action).includes(action))
    .flatMap((s) => asList(s.Resource))
    .map(idOf)
    .sort();
}

/** The functions Herald deploys (HeraldFunction), not the CDK's own custom-resource provider. */
function heraldFunctions(): [string, CfnResource][] {
  return ofType('AWS::Lambda::Function').filter(([id]) => envOf(id).POWERTOOLS_SERVICE_NAME !== undefined);
}
function byService(service: string): string {
  const found = heraldFunctions().filter(([id]) => envOf(id).POWERTOOLS_SERVICE_NAME === service);
  expect(found, service).toHaveLength(1);
  return found[0]![0];
}
function channelFn(channel: (typeof CHANNELS)[number]): string {
  return consumerOf(channelQueues.get(channel)!);
}
/** The SDK calls the stack makes at deploy time (AwsCustomResource), by the call made on create. */
function sdkCalls(
  action: string,
): [string, { parameters: Record<string, unknown> } & Record<string, unknown>][] {
  return ofType('Custom::AWS')
    .map(([id, r]) => [id, JSON.parse(text(r.Properties.Create))] as [string, Record<string, unknown>])
    .filter(([, call]) => call.action === action) as [
    string,
    { parameters: Record<string, unknown> } & Record<string, unknown>,
  ][];
}
function alarmTopic(): string {
  const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
  return idOf(outputs.AlarmTopicArn!.Value);
}
/** The bucket the instagram function is told to write images to. */
function imageBucket(): [string, CfnResource] {
  const id = idOf(envOf(channelFn('instagram'))[ENV.imageBucket]);
  return [id, resource(id)];
}
/** The audit chains' heads bucket (lib/audit-heads.ts; its grants are tested in audit-chain.test.ts). */
const auditHeadsBucketId = () =>
  ofType('AWS::S3::Bucket').find(([, b]) => b.Properties.ObjectLockEnabled === true)![0];
/** The distribution in front of the image bucket (the console has one of its own, lib/console.ts). */
function imageDistribution(): [string, CfnResource] {
  const [bucketId] = imageBucket();
  const found = ofType('AWS::CloudFront::Distribution').filter(([, d]) =>
    (d.Properties.DistributionConfig as { Origins: { DomainName: unknown }[] }).Origins.some((o) =>
      JSON.stringify(o.DomainName).includes(`"${bucketId}"`),
    ),
  );
  expect(found, 'the image distribution').toHaveLength(1);
  return found[0]!;
}
/** Statements of a policy document that apply to the given resource, by type. */
function policyStatements(type: string, property: string, target: string): Statement[] {
  return ofType(type)
    .filter(([, p]) => asList(p.Properties[property]).some((r) => idOf(r) === target))
    .flatMap(([, p]) => (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
}

/** The properties of every alarm on `metric` of the queue. */
function alarmsOn(queueId: string, metric: string): Record<string, unknown>[] {
  return ofType('AWS::CloudWatch::Alarm')
    .map(([, a]) => a.Properties)
    .filter(
      (a) =>
        a.MetricName === metric &&
        ((a.Dimensions ?? []) as { Value: unknown }[]).some((d) => idOf(d.Value) === queueId),
    );
}

let apiFn: string;
let dispatchQueue: string;
let dispatchFn: string;
let sweeperFn: string;
const channelQueues = new Map<string, string>();

beforeAll(() => {
  // Synthesize with the feature flags and settings `cdk synth` uses, except one: with it, an error
  // annotation aborts synthesis, and the cdk-nag findings would never reach the assertions below.
  const { context } = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const app = new App({ context: { ...context, '@aws-cdk/core:annotationsInValidationReport': false } });
  const stack = new HeraldStack(app, 'Herald');
  Aspects.of(app).add(new AwsSolutionsChecks());
  template = Template.fromStack(stack);
  assemblyDir = app.synth().directory;
  annotations = Annotations.fromStack(stack);
  resources = template.toJSON().Resources as Record<string, CfnResource>;

  // Follow the wiring from the front door: route integration → api → dispatch queue → dispatch → channels.
  const [, integration] = only('AWS::ApiGatewayV2::Integration');
  apiFn = idOf(integration.Properties.IntegrationUri);
  dispatchQueue = queueIn(apiFn, 'dispatch');
  dispatchFn = consumerOf(dispatchQueue);
  for (const channel of CHANNELS) channelQueues.set(channel, queueIn(dispatchFn, channelQueue(channel)));
  const [, rule] = only('AWS::Events::Rule');
  sweeperFn = idOf((rule.Properties.Targets as { Arn: unknown }[])[0]!.Arn);
}, 120_000);

describe('Stack: Herald', () => {
  describe('functions', () => {
    it('runs every function on nodejs22.x arm64 with tracing, its own log group and source maps', () => {
      const functions = heraldFunctions();
      // api, dispatch, sweeper, the two receipt callbacks, the replies and engagement pollers, one per channel.
      expect(functions).toHaveLength(7 + CHANNELS.length);
      for (const [id, fn] of functions) {
        expect(fn.Properties, id).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          TracingConfig: { Mode: 'Active' },
          LoggingConfig: { LogGroup: { Ref: expect.any(String) } },
        });
        expect(envOf(id).NODE_OPTIONS, id).toContain('--enable-source-maps');
        expect(envOf(id)[ENV.tableName], id).toEqual(ref(only('AWS::DynamoDB::GlobalTable')[0]));
      }
    });

    it('gives each log group a retention', () => {
      for (const [id, group] of ofType('AWS::Logs::LogGroup')) {
        expect(group.Properties.RetentionInDays, id).toBeGreaterThan(0);
      }
    });
  });

  describe('queues', () => {
    it.each(CHANNELS)(
      "delivers %s jobs from the queue dispatch fills to that channel's function",
      (channel) => {
        const queue = channelQueues.get(channel)!;
        const [mapping, ...others] = mappingsOf(queue);
        expect(others).toEqual([]);
        const consumer = idOf(mapping!.FunctionName);
        expect(envOf(consumer)[ENV.channel]).toBe(channel);
        expect(mapping).toMatchObject({
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          // A subscriber job keeps its sender busy with one send window at a time: one job per invocation.
          BatchSize: channel === 'sms' ? SMS_JOBS_PER_INVOCATION : isSubscriberChannel(channel) ? 1 : 10,
          ScalingConfig: { MaximumConcurrency: expect.any(Number) },
        });
        // The consumer can find its own queue to back off a retry with ChangeMessageVisibility.
        expect(queueIn(consumer, channelQueue(channel))).toBe(queue);
      },
    );

    it('gives dispatch a batch-item-failure event source on the queue the api sends to', () => {
      expect(mappingsOf(dispatchQueue)[0]).toMatchObject({
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: 10,
      });
    });

    it('keeps every message invisible for at least six times its consumer timeout', () => {
      const mappings = ofType('AWS::Lambda::EventSourceMapping');
      expect(mappings).toHaveLength(1 + CHANNELS.length);
      for (const [, m] of mappings) {
        const queue = resource(idOf(m.Properties.EventSourceArn));
        const consumer = resource(idOf(m.Properties.FunctionName));
        expect(queue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
          6 * (consumer.Properties.Timeout as number),
        );
      }
    });

    it('redrives each main queue to its own dead-letter queue after 5 receives, as its consumer is told', () => {
      const deadLetterQueues = new Set<string>();
      for (const [, m] of ofType('AWS::Lambda::EventSourceMapping')) {
        const queueId = idOf(m.Properties.EventSourceArn);
        const redrive = resource(queueId).Properties.RedrivePolicy as {
          deadLetterTargetArn: unknown;
          maxReceiveCount: number;
        };
        expect(redrive.maxReceiveCount).toBe(5);
        expect(envOf(idOf(m.Properties.FunctionName))[ENV.maxReceives]).toBe(String(redrive.maxReceiveCount));
        const dlq = idOf(redrive.deadLetterTargetArn);
        expect(dlq).not.toBe(queueId);
        expect(mappingsOf(dlq)).toEqual([]);
        expect(resource(dlq).Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
        deadLetterQueues.add(dlq);
      }
      expect(deadLetterQueues.size).toBe(1 + CHANNELS.length);
    });

    it('encrypts every queue and refuses it anything but TLS', () => {
      const queues = ofType('AWS::SQS::Queue');
      // Each work queue with its dead-letter queue, the two callbacks' failure queues, the dead-letter queues
      // of the inbound SMS and email events subscriptions, and that of the scheduled-version schedules.
      expect(queues).toHaveLength(2 * (1 + CHANNELS.length) + 2 + 2 + 1);
      for (const [id, queue] of queues) {
        expect(queue.Properties.SqsManagedSseEnabled ?? queue.Properties.KmsMasterKeyId, id).toBeTruthy();
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [ref(id)],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });
  });

  describe('alarms', () => {
    it('raises an alarm to the encrypted topic as soon as anything is dead-lettered', () => {
      const topicId = alarmTopic();
      expect(resource(topicId).Properties.KmsMasterKeyId).toBeDefined();
      for (const [, m] of ofType('AWS::Lambda::EventSourceMapping')) {
        const redrive = resource(idOf(m.Properties.EventSourceArn)).Properties.RedrivePolicy as {
          deadLetterTargetArn: unknown;
        };
        const [alarm, ...more] = alarmsOn(
          idOf(redrive.deadLetterTargetArn),
          'ApproximateNumberOfMessagesVisible',
        );
        expect(more).toEqual([]);
        expect(alarm).toMatchObject({
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: 0,
          AlarmActions: [ref(topicId)],
        });
      }
    });

    it('alarms when the oldest message of a main queue has waited too long', () => {
      for (const [, m] of ofType('AWS::Lambda::EventSourceMapping')) {
        const [alarm] = alarmsOn(idOf(m.Properties.EventSourceArn), 'ApproximateAgeOfOldestMessage');
        expect(alarm).toMatchObject({
          ComparisonOperator: 'GreaterThanThreshold',
          Threshold: expect.any(Number),
        });
      }
    });

    it('lets only TLS publish to the alarm topic', () => {
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    });
  });

  describe('least privilege', () => {
    it('lets the api send to the dispatch queue and to no channel queue', () => {
      expect(targetsOf(apiFn, 'sqs:SendMessage')).toEqual([dispatchQueue]);
    });

    it('lets dispatch send to the channel queues only', () => {
      expect(targetsOf(dispatchFn, 'sqs:SendMessage')).toEqual([...channelQueues.values()].sort());
    });

    it('lets the sweeper send to the dispatch queue, and to the SMS and email queues (releases after quiet hours) only', () => {
      expect(targetsOf(sweeperFn, 'sqs:SendMessage')).toEqual(
        [dispatchQueue, channelQueues.get('sms'), channelQueues.get('email')].sort(),
      );
      expect(queueIn(sweeperFn, 'dispatch')).toBe(dispatchQueue);
      expect(queueIn(sweeperFn, 'channel-sms')).toBe(channelQueues.get('sms'));
      expect(queueIn(sweeperFn, 'channel-email')).toBe(channelQueues.get('email'));
    });

    it.each(CHANNELS)('lets the %s function consume its own queue and send nowhere', (channel) => {
      const fn = consumerOf(channelQueues.get(channel)!);
      expect(targetsOf(fn, 'sqs:SendMessage')).toEqual([]);
      expect(targetsOf(fn, 'sqs:ChangeMessageVisibility')).toEqual([channelQueues.get(channel)]);
      expect(targetsOf(fn, 'sqs:ReceiveMessage')).toEqual([channelQueues.get(channel)]);
    });

    it('grants no DynamoDB Scan or action wildcard to anyone', () => {
      // Except the CDK's BucketDeployment handler (the console's files, lib/console.ts), which syncs keys it
      // cannot know in advance with the CDK's own s3:GetObject*/List*/… grants, each named in its cdk-nag suppression.
      const herald = ofType('AWS::IAM::Policy').filter(([id]) => !id.startsWith('CustomCDKBucketDeployment'));
      const actions = herald.flatMap(([, p]) =>
        (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.flatMap((s) =>
          asList(s.Action),
        ),
      );
      expect(actions).not.toContain('dynamodb:Scan');
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    });

    it('grants DeleteItem and BatchWriteItem only on the items that need them, by partition key prefix', () => {
      const tableId = only('AWS::DynamoDB::GlobalTable')[0];
      const removers = new Map<string, { actions: string[]; prefixes: string[] }>();
      for (const [id] of heraldFunctions()) {
        for (const s of statementsOf(id)) {
          const keyed = asList(s.Action).filter(
            (a) => a === 'dynamodb:DeleteItem' || a === 'dynamodb:BatchWriteItem',
          );
          if (keyed.length === 0) continue;
          // Only keyed actions in the statement, on the table itself, under a LeadingKeys condition.
          expect(asList(s.Action), id).toEqual(keyed);
          expect(s.Resource, id).toEqual(arnOf(tableId));
          const prefixes = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as string[];
          expect(Object.keys(s.Condition ?? {}), id).toEqual(['ForAllValues:StringLike']);
          expect(removers.has(id), id).toBe(false);
          removers.set(id, { actions: keyed, prefixes: [...asList(prefixes)].sort() });
        }
      }
      expect(Object.fromEntries(removers)).toEqual({
        [apiFn]: { actions: ['dynamodb:DeleteItem'], prefixes: ['ADDR#*', 'CHAL#*', 'SUB#*'] },
        [dispatchFn]: { actions: ['dynamodb:BatchWriteItem'], prefixes: ['JOB#*'] },
        [channelFn('sms')]: { actions: ['dynamodb:BatchWriteItem'], prefixes: ['RCPT#*'] },
        [channelFn('email')]: { actions: ['dynamodb:BatchWriteItem'], prefixes: ['RCPT#*'] },
        [channelFn('webhook')]: { actions: ['dynamodb:BatchWriteItem'], prefixes: ['RCPT#*'] },
      });
    });

    it('uses no resource wildcard except the table indexes, image keys, audit heads, scheduled-version schedules, SMS and X-Ray, which have no resource ARN', () => {
      const tableId = only('AWS::DynamoDB::GlobalTable')[0];
      // The sms channel texts alerts, the api texts codes and keyword replies.
      const textsPhones = new Set([channelFn('sms'), apiFn]);
      const instagramFn = channelFn('instagram');
      const [bucketId] = imageBucket();
      for (const [id] of heraldFunctions()) {
        for (const s of statementsOf(id)) {
          for (const r of asList(s.Resource)) {
            if (r === '*') {
              const allowed = (a: string) =>
                a.startsWith('xray:') ||
                (textsPhones.has(id) && (a === 'sns:Publish' || a === 'sns:CheckIfPhoneNumberIsOptedOut'));
              expect(
                asList(s.Action).filter((a) => !allowed(a)),
                id,
              ).toEqual([]);
            } else if (JSON.stringify(r).includes('*')) {
              const objects = { 'Fn::Join': ['', [arnOf(bucketId), '/*']] };
              // The api arms one schedule per scheduled version, in the stack's own group (lib/publish-schedules.ts).
              const schedules = `arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${String(
                only('AWS::Scheduler::ScheduleGroup')[1].Properties.Name,
              )}/*`;
              if (id === apiFn && text(r) === schedules) continue;
              // One audit head per entry, keyed at run time (test/cdk/audit-chain.test.ts names who may write them).
              if (text(r) === `<${auditHeadsBucketId()}>/heads/*`) continue;
              expect(r, id).toEqual(
                id === instagramFn && JSON.stringify(r) === JSON.stringify(objects)
                  ? objects
                  : { 'Fn::Join': ['', [arnOf(tableId), '/index/*']] },
              );
            }
          }
        }
      }
    });
  });

  describe('table', () => {
    it('is built from TABLE_DEFINITION, the same definition the embedded mode creates', () => {
      const expected = createTableInput('unused');
      const [, table] = only('AWS::DynamoDB::GlobalTable');
      expect(table.Properties).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: expected.KeySchema,
        AttributeDefinitions: expect.arrayContaining(expected.AttributeDefinitions),
        GlobalSecondaryIndexes: expected.GlobalSecondaryIndexes,
        TimeToLiveSpecification: { AttributeName: TABLE_DEFINITION.timeToLiveAttribute, Enabled: true },
      });
      expect(table.Properties.AttributeDefinitions).toHaveLength(expected.AttributeDefinitions.length);
    });

    it('has point-in-time recovery, KMS encryption and survives a stack deletion', () => {
      const [, table] = only('AWS::DynamoDB::GlobalTable');
      expect(table.Properties.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
      const replicas = table.Properties.Replicas as Record<string, unknown>[];
      expect(replicas).toHaveLength(1);
      expect(replicas[0]).toMatchObject({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      });
      expect(table.DeletionPolicy).toBe('Retain');
    });
  });

  describe('HTTP API', () => {
    const deployed = (ROUTES as readonly RouteSpec[]).filter((r) => !r.embeddedOnly);
    const routeKeyOf = (r: RouteSpec) => `${r.method} ${r.path}`;
    const routeFor = (r: RouteSpec) => {
      const found = ofType('AWS::ApiGatewayV2::Route').filter(
        ([, x]) => x.Properties.RouteKey === routeKeyOf(r),
      );
      expect(found, routeKeyOf(r)).toHaveLength(1);
      return found[0]![1].Properties;
    };

    it.each(deployed.map((r) => [routeKeyOf(r), r] as const))('routes %s to the api function', (_, route) => {
      const [integrationId] = only('AWS::ApiGatewayV2::Integration');
      const properties = routeFor(route);
      expect(properties.Target).toEqual({ 'Fn::Join': ['', ['integrations/', ref(integrationId)]] });
      if (route.auth === 'jwt') {
        expect(properties).toMatchObject({
          AuthorizationType: 'JWT',
          AuthorizerId: ref(only('AWS::ApiGatewayV2::Authorizer')[0]),
        });
      } else {
        expect(properties.AuthorizationType).toBe('NONE');
        expect(properties.AuthorizerId).toBeUndefined();
      }
    });

    it('deploys no other route, and none of the embedded-only ones', () => {
      const keys = ofType('AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey);
      expect(keys.sort()).toEqual(deployed.map(routeKeyOf).sort());
    });

    it("trusts only tokens the user pool issued to the console's client, read from Authorization", () => {
      const [poolId] = only('AWS::Cognito::UserPool');
      const [clientId] = only('AWS::Cognito::UserPoolClient');
      const [, authorizer] = only('AWS::ApiGatewayV2::Authorizer');
      expect(authorizer.Properties).toMatchObject({
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Audience: [ref(clientId)] },
      });
      const issuer = (
        authorizer.Properties.JwtConfiguration as { Issuer: { 'Fn::Join': [string, unknown[]] } }
      ).Issuer;
      const [first, ...rest] = issuer['Fn::Join'][1];
      expect(first).toBe('https://cognito-idp.');
      expect(rest.at(-1)).toEqual(ref(poolId));
    });

    it("gives public routes limits of their own, below the stage's, and leaves officers' routes at the stage's", () => {
      const [, stage] = only('AWS::ApiGatewayV2::Stage');
      const settings = stage.Properties.RouteSettings as Record<
        string,
        { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
      >;
      const stageRate = (stage.Properties.DefaultRouteSettings as { ThrottlingRateLimit: number })
        .ThrottlingRateLimit;
      const publicRoutes = (ROUTES as readonly RouteSpec[]).filter(
        (r) =>
          r.auth === 'public' &&
          !r.embeddedOnly &&
          (r.method === 'GET' || r.path.startsWith('/v1/subscriptions')),
      );
      expect(publicRoutes.length).toBeGreaterThan(5);
      for (const r of publicRoutes) {
        const limits = settings[`${r.method} ${r.path}`];
        expect(limits, `${r.method} ${r.path}`).toBeDefined();
        expect(limits!.ThrottlingRateLimit).toBeLessThan(stageRate);
      }
      expect(settings['GET /v1/feed.atom']).toEqual({
        ThrottlingRateLimit: PUBLIC_READ_LIMIT.rate,
        ThrottlingBurstLimit: PUBLIC_READ_LIMIT.burst,
      });
      for (const form of ['POST /v1/subscriptions', 'POST /v1/tips'])
        expect(settings[form], form).toEqual({
          ThrottlingRateLimit: SIGN_UP_LIMIT.rate,
          ThrottlingBurstLimit: SIGN_UP_LIMIT.burst,
        });
      for (const key of Object.keys(settings)) {
        const [method, path] = key.split(' ');
        expect(ROUTES.find((r) => r.method === method && r.path === path)?.auth, key).toBe('public');
      }
    });

    it('logs access and throttles the default stage', () => {
      const [, stage] = only('AWS::ApiGatewayV2::Stage');
      expect(stage.Properties).toMatchObject({
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: {
          ThrottlingRateLimit: expect.any(Number),
          ThrottlingBurstLimit: expect.any(Number),
        },
      });
      const logs = stage.Properties.AccessLogSettings as { DestinationArn: unknown; Format: string };
      expect(resource(idOf(logs.DestinationArn)).Type).toBe('AWS::Logs::LogGroup');
      expect(JSON.parse(logs.Format)).toMatchObject({
        requestId: '$context.requestId',
        status: '$context.status',
      });
    });
  });

  describe('identity', () => {
    it('issues accounts by admin only, with MFA and a strong password policy', () => {
      const [, pool] = only('AWS::Cognito::UserPool');
      expect(pool.Properties).toMatchObject({
        AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
        MfaConfiguration: 'ON',
        Policies: {
          PasswordPolicy: {
            RequireLowercase: true,
            RequireUppercase: true,
            RequireNumbers: true,
            RequireSymbols: true,
          },
        },
      });
      expect(
        (pool.Properties.Policies as { PasswordPolicy: { MinimumLength: number } }).PasswordPolicy
          .MinimumLength,
      ).toBeGreaterThanOrEqual(12);
    });

    it('has one group per role', () => {
      const groups = ofType('AWS::Cognito::UserPoolGroup').map(([, g]) => g.Properties.GroupName);
      expect(groups.sort()).toEqual([...ROLES].sort());
    });

    it('gives the console a public client that uses the authorization-code grant', () => {
      const [, client] = only('AWS::Cognito::UserPoolClient');
      expect(client.Properties).toMatchObject({ GenerateSecret: false, AllowedOAuthFlows: ['code'] });
    });
  });

  it('runs the sweeper every minute', () => {
    const [ruleId, rule] = only('AWS::Events::Rule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 minute)');
    expect((rule.Properties.Targets as { Arn: unknown }[]).map((t) => idOf(t.Arn))).toEqual([sweeperFn]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: arnOf(sweeperFn),
      Principal: 'events.amazonaws.com',
      SourceArn: arnOf(ruleId),
    });
  });

  it('outputs what a deployer needs next', () => {
    const outputs = Object.keys(template.toJSON().Outputs as object);
    expect(outputs).toEqual(
      expect.arrayContaining([
        'ApiUrl',
        'UserPoolId',
        'UserPoolClientId',
        'AlarmTopicArn',
        'ImageBaseUrl',
        'SecretsPrefix',
        'SesConfigurationSet',
        'SmsSettingsCommand',
        'InboundSmsTopicArn',
        'PiiKeyArn',
      ]),
    );
  });

  describe('receipt callbacks', () => {
    it('subscribes both SNS SMS delivery-status log groups to the sms-status function, which logs may invoke', () => {
      const smsStatus = byService('herald-sms-status');
      const filters = ofType('AWS::Logs::SubscriptionFilter');
      expect(filters.map(([, f]) => text(f.Properties.LogGroupName)).sort()).toEqual(SMS_STATUS_GROUPS);
      for (const [filterId, filter] of filters) {
        expect(filter.Properties, filterId).toMatchObject({
          DestinationArn: arnOf(smsStatus),
          FilterPattern: '',
        });
        const group = text(filter.Properties.LogGroupName);
        const invokers = ofType('AWS::Lambda::Permission').filter(
          ([, p]) => p.Properties.SourceArn && text(p.Properties.SourceArn) === logGroupArn(group),
        );
        expect(invokers, group).toHaveLength(1);
        expect(invokers[0]![1].Properties).toMatchObject({
          Action: 'lambda:InvokeFunction',
          FunctionName: arnOf(smsStatus),
          Principal: 'logs.amazonaws.com',
        });
      }
    });

    it('sets the account SMS attributes to a role only SNS may assume, which writes to those two groups only', () => {
      const setters = sdkCalls('SetSMSAttributes');
      expect(setters).toHaveLength(1);
      const call = setters[0]![1] as { service: string; parameters: { attributes: Record<string, string> } };
      expect(call.service).toBe('SNS');
      expect(call.parameters.attributes).toMatchObject({
        DeliveryStatusSuccessSamplingRate: '100',
        DefaultSMSType: 'Transactional',
      });
      const roleId = /^<(.+)>$/.exec(call.parameters.attributes.DeliveryStatusIAMRole!)![1]!;
      const role = resource(roleId).Properties.AssumeRolePolicyDocument as { Statement: Statement[] };
      expect(role.Statement.map((s) => s.Principal)).toEqual([{ Service: 'sns.amazonaws.com' }]);
      const writes = policyStatements('AWS::IAM::Policy', 'Roles', roleId);
      expect(
        writes
          .flatMap((s) => asList(s.Resource))
          .map(text)
          .sort(),
      ).toEqual(SMS_STATUS_GROUPS.map(logGroupArn).sort());
      expect(writes.flatMap((s) => asList(s.Action))).toContain('logs:PutLogEvents');
    });

    it('sends SES delivery, bounce, complaint and reject events of the configuration set to the email-events function', () => {
      const emailEvents = byService('herald-email-events');
      const [setId] = only('AWS::SES::ConfigurationSet');
      const [, destination] = only('AWS::SES::ConfigurationSetEventDestination');
      expect(destination.Properties.ConfigurationSetName).toEqual(ref(setId));
      const event = destination.Properties.EventDestination as {
        Enabled: boolean;
        MatchingEventTypes: string[];
        SnsDestination: { TopicARN: unknown };
      };
      expect(event.Enabled).toBe(true);
      expect([...event.MatchingEventTypes].sort()).toEqual(['bounce', 'complaint', 'delivery', 'reject']);
      const topicId = idOf(event.SnsDestination.TopicARN);
      expect(topicId).not.toBe(alarmTopic());

      // The topic is encrypted under a key SES may use, takes TLS only, and takes SES's events for this set only.
      const keyId = idOf(resource(topicId).Properties.KmsMasterKeyId);
      const keyPolicy = resource(keyId).Properties.KeyPolicy as { Statement: Statement[] };
      expect(keyPolicy.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Principal: { Service: 'ses.amazonaws.com' },
            Action: expect.arrayContaining(['kms:GenerateDataKey*']),
          }),
        ]),
      );
      const topicPolicy = policyStatements('AWS::SNS::TopicPolicy', 'Topics', topicId);
      expect(topicPolicy).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
      const fromSes = topicPolicy.filter((s) => s.Effect === 'Allow');
      expect(fromSes).toHaveLength(1);
      expect(fromSes[0]).toMatchObject({
        Principal: { Service: 'ses.amazonaws.com' },
        Action: 'sns:Publish',
      });
      expect(JSON.stringify(fromSes[0]!.Condition)).toContain(JSON.stringify(ref(setId)));

      const subscriptions = ofType('AWS::SNS::Subscription').filter(
        ([, s]) => idOf(s.Properties.TopicArn) === topicId,
      );
      expect(subscriptions.map(([, s]) => s.Properties)).toEqual([
        expect.objectContaining({ Protocol: 'lambda', Endpoint: arnOf(emailEvents) }),
      ]);
      template.hasResourceProperties('AWS::Lambda::Permission', {
        FunctionName: arnOf(emailEvents),
        Principal: 'sns.amazonaws.com',
        SourceArn: ref(topicId),
      });
    });

    it('lets the email function and the api (codes, replies) send only as the SES identity, with that configuration set, which they are told', () => {
      const senders = [channelFn('email'), apiFn];
      const [setId] = only('AWS::SES::ConfigurationSet');
      for (const sender of senders) {
        expect(envOf(sender)[ENV.sesConfigurationSet], sender).toEqual(ref(setId));
        expect(envOf(sender)[ENV.emailFrom], sender).toBe('alerts@agency.example');
        const sends = statementsOf(sender).filter((s) => asList(s.Action).some((a) => a.startsWith('ses:')));
        expect(sends, sender).toHaveLength(1);
        expect(asList(sends[0]!.Action).sort()).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
        expect(
          asList(sends[0]!.Resource)
            .map((r) => joined(r))
            .sort(),
        ).toEqual([
          `arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:configuration-set/<${setId}>`,
          'arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/agency.example',
        ]);
      }
      for (const [id] of heraldFunctions()) {
        if (senders.includes(id)) continue;
        expect(
          statementsOf(id).flatMap((s) => asList(s.Action).filter((a) => a.startsWith('ses:'))),
          id,
        ).toEqual([]);
      }
    });

    it.each(['herald-sms-status', 'herald-email-events'])(
      'gives %s exactly the table calls of findByProviderMessageId and confirm, and keeps what fails twice',
      (service) => {
        const fn = byService(service);
        const table = statementsOf(fn).filter((s) => asList(s.Action).some((a) => a.startsWith('dynamodb:')));
        expect(table.flatMap((s) => asList(s.Action)).sort()).toEqual([
          'dynamodb:GetItem',
          'dynamodb:Query',
          'dynamodb:UpdateItem',
        ]);
        const [, config] = ofType('AWS::Lambda::EventInvokeConfig').find(
          ([, c]) => idOf(c.Properties.FunctionName) === fn,
        )!;
        expect(config.Properties.MaximumRetryAttempts).toBe(2);
        const failures = idOf(
          (config.Properties.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure
            .Destination,
        );
        expect(resource(failures).Type).toBe('AWS::SQS::Queue');
        const [alarm] = alarmsOn(failures, 'ApproximateNumberOfMessagesVisible');
        expect(alarm).toMatchObject({ Threshold: 0, AlarmActions: [ref(alarmTopic())] });
      },
    );
  });

  describe('images', () => {
    it('keeps the image bucket private: all public access blocked, TLS only, encrypted', () => {
      const [, bucket] = imageBucket();
      expect(bucket.Properties).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: { ServerSideEncryptionConfiguration: [expect.anything()] },
        LoggingConfiguration: { DestinationBucketName: expect.anything() },
      });
    });

    it("lets only CloudFront's service principal read it, for this one distribution, through OAC", () => {
      const [bucketId] = imageBucket();
      const [distributionId, distribution] = imageDistribution();
      const statements = policyStatements('AWS::S3::BucketPolicy', 'Bucket', bucketId);
      const allows = statements.filter((s) => s.Effect === 'Allow');
      expect(allows).toHaveLength(1);
      expect(allows[0]).toMatchObject({
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [arnOf(bucketId), '/*']] },
      });
      const sourceArn = allows[0]!.Condition!.StringEquals!['AWS:SourceArn'];
      expect(joined(sourceArn)).toBe(
        `arn:<AWS::Partition>:cloudfront::<AWS::AccountId>:distribution/<${distributionId}>`,
      );
      expect(statements).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );

      const config = distribution.Properties.DistributionConfig as {
        Origins: {
          Id: string;
          DomainName: unknown;
          OriginAccessControlId: unknown;
          S3OriginConfig: unknown;
        }[];
        DefaultCacheBehavior: Record<string, unknown>;
        Logging?: { Bucket: unknown };
      };
      // The bucket, and the HTTP API for the public reads (test/cdk/public-reads.test.ts); images are the default.
      expect(config.Origins).toHaveLength(2);
      const bucketOrigin = config.Origins.find((o) => o.S3OriginConfig)!;
      expect(idOf(bucketOrigin.DomainName)).toBe(bucketId);
      expect(bucketOrigin.S3OriginConfig).toEqual({ OriginAccessIdentity: '' });
      const oac = resource(idOf(bucketOrigin.OriginAccessControlId));
      expect(oac.Properties.OriginAccessControlConfig).toMatchObject({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      });
      expect(ofType('AWS::CloudFront::CloudFrontOriginAccessIdentity')).toEqual([]);
      expect(config.DefaultCacheBehavior).toMatchObject({
        TargetOriginId: bucketOrigin.Id,
        ViewerProtocolPolicy: 'https-only',
        AllowedMethods: ['GET', 'HEAD'],
        ResponseHeadersPolicyId: expect.any(String),
      });
      expect(config.Logging?.Bucket).toBeDefined();
    });

    it('ships the card renderer its wasm and fonts beside the instagram and api bundles, and no other function', () => {
      const assetDirOf = (id: string) => {
        const key = (resource(id).Properties.Code as { S3Key: string }).S3Key;
        return join(assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
      };
      const instagramAssets = join(assetDirOf(channelFn('instagram')), CARD_ASSET_DIR);
      expect(readdirSync(instagramAssets).sort()).toEqual(
        [CARD_LIBS_FILE, ...cardAssetFiles().map((f) => f.name)].sort(),
      );
      const [apiFn] = heraldFunctions().find(([id]) => id.startsWith('ApiFunction')) ?? [];
      expect(readdirSync(join(assetDirOf(apiFn!), CARD_ASSET_DIR)).length).toBe(cardAssetFiles().length + 1);
      expect(existsSync(join(assetDirOf(channelFn('x')), CARD_ASSET_DIR))).toBe(false);
    });

    it('ships the xmllint worker and wasm beside the api bundle only: the api validates posted CAP against the XSD', () => {
      const assetDirOf = (id: string) => {
        const key = (resource(id).Properties.Code as { S3Key: string }).S3Key;
        return join(assemblyDir, `asset.${key.replace(/\.zip$/, '')}`);
      };
      expect(readdirSync(join(assetDirOf(apiFn), XMLLINT_ASSET_DIR)).sort()).toEqual(
        xmllintAssetFiles()
          .map((f) => f.name)
          .sort(),
      );
      for (const [id] of heraldFunctions().filter(([id]) => id !== apiFn)) {
        expect(existsSync(join(assetDirOf(id), XMLLINT_ASSET_DIR)), id).toBe(false);
      }
    });

    it('lets only the instagram function write images, by PutObject alone, and tells it the https CDN URL', () => {
      const [bucketId] = imageBucket();
      const [distributionId] = imageDistribution();
      const instagramFn = channelFn('instagram');
      expect(envOf(instagramFn)[ENV.imageBaseUrl]).toEqual({
        'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]],
      });
      for (const [id] of heraldFunctions()) {
        const s3 = statementsOf(id).filter(
          (s) =>
            asList(s.Action).some((a) => a.startsWith('s3:')) &&
            !asList(s.Resource).some((r) => text(r).startsWith(`<${auditHeadsBucketId()}>`)),
        );
        if (id === instagramFn) {
          expect(s3).toEqual([
            expect.objectContaining({
              Action: 's3:PutObject',
              Resource: { 'Fn::Join': ['', [arnOf(bucketId), '/*']] },
            }),
          ]);
        } else {
          expect(s3, id).toEqual([]);
          expect(envOf(id)[ENV.imageBucket], id).toBeUndefined();
        }
      }
    });
  });

  describe('provider credentials', () => {
    it('creates one secret per channel with credentials, named <prefix><channel>, holding an empty object unless it exists', () => {
      // No CloudFormation secret of a fixed name: it would fail "already exists" once a kept secret holds it. The one
      // CloudFormation secret is CloudFront's edge secret, whose name and value are generated (test/cdk/site.test.ts).
      expect(
        ofType('AWS::SecretsManager::Secret').map(([id, r]) => [
          id.replace(/[0-9A-F]{8}$/, ''),
          r.Properties.Name,
        ]),
      ).toEqual([['PublicReadsEdgeSecret', undefined]]);
      const calls = sdkCalls('CreateSecret');
      expect(calls.map(([, c]) => c.parameters.Name).sort()).toEqual(
        SECRET_CHANNELS.map((c) => `${DEFAULT_SECRETS_PREFIX}${c}`).sort(),
      );
      for (const [id, call] of calls) {
        expect(call.parameters.SecretString, id).toBe('{}');
        expect(call.ignoreErrorCodesMatching, id).toBe('ResourceExistsException');
        // Never deleted, never overwritten: the value is the agency's.
        expect(resource(id).Properties.Delete, id).toBeUndefined();
        expect(JSON.parse(text(resource(id).Properties.Update)), id).toEqual(call);
      }
    });

    it.each(SECRET_CHANNELS)('lets the %s function read its own secret and no other', (channel) => {
      const fn = channelFn(channel);
      const reads = statementsOf(fn).filter((s) =>
        asList(s.Action).some((a) => a.startsWith('secretsmanager:')),
      );
      expect(reads).toHaveLength(1);
      expect(reads[0]!.Action).toBe('secretsmanager:GetSecretValue');
      // The secret's name and the six characters Secrets Manager appends: no `*`, no other name.
      expect(text(reads[0]!.Resource)).toBe(
        `arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${DEFAULT_SECRETS_PREFIX}${channel}-??????`,
      );
    });

    it.each(CHANNELS)('tells the %s function the secrets prefix its composition root needs', (channel) => {
      expect(envOf(channelFn(channel))[ENV.secretsPrefix]).toBe(DEFAULT_SECRETS_PREFIX);
    });

    it('lets no other function read any secret', () => {
      // Besides the channels: the api (the Meta webhook's facebook and instagram secrets), the replies poller and the
      // engagement poller (the social networks' secrets), each checked to read those alone in test/cdk/replies.test.ts
      // and test/cdk/engagement.test.ts.
      const readers = new Set([
        ...SECRET_CHANNELS.map(channelFn),
        apiFn,
        byService('herald-replies-poller'),
        byService('herald-engagement-poller'),
      ]);
      for (const [id] of heraldFunctions()) {
        if (readers.has(id)) continue;
        expect(
          statementsOf(id).flatMap((s) => asList(s.Action).filter((a) => a.startsWith('secretsmanager:'))),
          id,
        ).toEqual([]);
      }
    });

    it.each(['facebook', 'instagram'] as const)(
      'alarms to the alarm topic when the %s provider logs that its credentials were rejected (Graph error 190)',
      (channel) => {
        const fn = channelFn(channel);
        const logGroup = idOf((resource(fn).Properties.LoggingConfig as { LogGroup: unknown }).LogGroup);
        const filters = ofType('AWS::Logs::MetricFilter').filter(
          ([, f]) => idOf(f.Properties.LogGroupName) === logGroup,
        );
        expect(filters).toHaveLength(1);
        const filter = filters[0]![1].Properties;
        expect(filter.FilterPattern).toBe(`{ $.message = "${CREDENTIALS_REJECTED_MESSAGE}" }`);
        const [metric] = filter.MetricTransformations as { MetricName: string; MetricNamespace: string }[];
        const alarms = ofType('AWS::CloudWatch::Alarm').filter(
          ([, a]) =>
            a.Properties.MetricName === metric!.MetricName &&
            a.Properties.Namespace === metric!.MetricNamespace,
        );
        expect(alarms).toHaveLength(1);
        expect(alarms[0]![1].Properties).toMatchObject({
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          Threshold: 1,
          EvaluationPeriods: 1,
          AlarmActions: [ref(alarmTopic())],
        });
      },
    );
  });

  describe('residents and media', () => {
    const kmsActions = (fn: string) =>
      statementsOf(fn).filter((s) => asList(s.Action).some((a) => a.startsWith('kms:')));
    /** The PII key, found by its alias. */
    function piiKey(): [string, CfnResource] {
      const [, alias] = ofType('AWS::KMS::Alias').find(
        ([, a]) => a.Properties.AliasName === 'alias/herald/pii',
      )!;
      const id = idOf(alias.Properties.TargetKeyId);
      return [id, resource(id)];
    }
    function inboundTopic(): string {
      const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Description: string }>;
      return idOf(outputs.InboundSmsTopicArn!.Value);
    }
    const dependsOnOf = (id: string) =>
      (template.toJSON().Resources[id] as { DependsOn?: string[] }).DependsOn ?? [];
    const addressHandlers = () => [apiFn, channelFn('sms'), channelFn('email'), channelFn('webhook')].sort();

    it('keeps a PII key that rotates, survives a stack deletion and whose policy names no one but the account', () => {
      const [keyId, key] = piiKey();
      expect(key.Properties).toMatchObject({ EnableKeyRotation: true, Description: expect.any(String) });
      expect(key.DeletionPolicy).toBe('Retain');
      // Only the account root (which delegates to IAM): every use comes from a role policy the tests below read.
      const principals = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement.map((s) =>
        JSON.stringify(s.Principal),
      );
      expect(principals.every((p) => p.includes(':root'))).toBe(true);
      // The table keeps its own (AWS-managed) encryption; the PII key protects fields, not the table.
      const [, table] = only('AWS::DynamoDB::GlobalTable');
      expect(JSON.stringify(table.Properties.SSESpecification)).not.toContain(keyId);
    });

    it('lets only the api and the sms, email and webhook channels use it, for the herald-pii context alone', () => {
      const [keyId] = piiKey();
      const users = heraldFunctions()
        .map(([id]) => id)
        .filter((id) => kmsActions(id).length > 0)
        .sort();
      expect(users).toEqual(addressHandlers());
      for (const fn of users) {
        const [grant, ...more] = kmsActions(fn);
        expect(more, fn).toEqual([]);
        expect(asList(grant!.Action).sort(), fn).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
        expect(grant!.Resource, fn).toEqual(arnOf(keyId));
        expect(grant!.Condition, fn).toEqual({
          StringEquals: { 'kms:EncryptionContext:purpose': PII_ENCRYPTION_CONTEXT.purpose },
        });
      }
      // What the cipher sends (functions/adapters/pii/kms.ts) is what the grants require.
      expect(PII_ENCRYPTION_CONTEXT).toEqual({ purpose: 'herald-pii' });
    });

    it.each([
      ['dispatch', () => dispatchFn],
      ['the sweeper', () => sweeperFn],
      ['the sms-status callback', () => byService('herald-sms-status')],
      ['the email-events callback', () => byService('herald-email-events')],
      ['the x channel', () => channelFn('x')],
    ])('gives %s no KMS permission at all, though it is told the key id', (_, fn) => {
      expect(kmsActions(fn())).toEqual([]);
      expect(envOf(fn())[ENV.piiKeyId]).toEqual(arnOf(piiKey()[0]));
    });

    it('tells every function the PII key, since every composition root builds the cipher', () => {
      for (const [id] of heraldFunctions()) expect(envOf(id)[ENV.piiKeyId], id).toEqual(arnOf(piiKey()[0]));
    });

    it('encrypts the inbound SMS topic under a key End User Messaging may use for this account only, and takes TLS only', () => {
      const topicId = inboundTopic();
      const keyId = idOf(resource(topicId).Properties.KmsMasterKeyId);
      expect(keyId).not.toBe(piiKey()[0]);
      const fromEndUserMessaging = (
        resource(keyId).Properties.KeyPolicy as { Statement: Statement[] }
      ).Statement.filter(
        (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'sms-voice.amazonaws.com' }),
      );
      expect(fromEndUserMessaging).toHaveLength(1);
      expect(asList(fromEndUserMessaging[0]!.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
      expect(fromEndUserMessaging[0]!.Condition?.StringEquals).toEqual({
        'aws:SourceAccount': ref('AWS::AccountId'),
      });

      const topicPolicy = policyStatements('AWS::SNS::TopicPolicy', 'Topics', topicId);
      expect(topicPolicy).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Effect: 'Deny',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      );
      const allows = topicPolicy.filter((s) => s.Effect === 'Allow');
      expect(allows).toHaveLength(1);
      expect(allows[0]).toMatchObject({
        Principal: { Service: 'sms-voice.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: ref(topicId),
      });
      expect(allows[0]!.Condition!.StringEquals).toEqual({ 'aws:SourceAccount': ref('AWS::AccountId') });
      expect(joined(allows[0]!.Condition!.ArnLike!['aws:SourceArn'])).toBe(
        'arn:<AWS::Partition>:sms-voice:<AWS::Region>:<AWS::AccountId>:*',
      );
    });

    it('subscribes POST /v1/inbound/sms over HTTPS, once the route is deployed, keeping what it cannot deliver', () => {
      const topicId = inboundTopic();
      const subscriptions = ofType('AWS::SNS::Subscription').filter(
        ([, sub]) => idOf(sub.Properties.TopicArn) === topicId,
      );
      expect(subscriptions).toHaveLength(1);
      const [subscriptionId, subscription] = subscriptions[0]!;
      const [apiId] = only('AWS::ApiGatewayV2::Api');
      expect(subscription.Properties).toMatchObject({ Protocol: 'https', RawMessageDelivery: false });
      expect(joined(subscription.Properties.Endpoint)).toBe(
        `https://<${apiId}>.execute-api.<AWS::Region>.<AWS::URLSuffix>/${INBOUND_SMS_PATH}`,
      );

      // SNS posts the subscription confirmation as soon as the subscription exists: the stage must be there.
      const [stageId] = only('AWS::ApiGatewayV2::Stage');
      expect(dependsOnOf(subscriptionId)).toContain(stageId);

      // Retries within SNS's hour, throttled under the stage's rate limit, then a dead-letter queue that alarms.
      const delivery = subscription.Properties.DeliveryPolicy as {
        healthyRetryPolicy: { numRetries: number };
        throttlePolicy: { maxReceivesPerSecond: number };
      };
      expect(delivery.healthyRetryPolicy.numRetries).toBeGreaterThan(3);
      const [, stage] = only('AWS::ApiGatewayV2::Stage');
      expect(delivery.throttlePolicy.maxReceivesPerSecond).toBeLessThan(
        (stage.Properties.DefaultRouteSettings as { ThrottlingRateLimit: number }).ThrottlingRateLimit,
      );
      const dlq = idOf(
        (subscription.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
      );
      expect(resource(dlq).Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
      const [alarm] = alarmsOn(dlq, 'ApproximateNumberOfMessagesVisible');
      expect(alarm).toMatchObject({ Threshold: 0, AlarmActions: [ref(alarmTopic())] });
    });

    it('deploys POST /v1/inbound/sms as a public route (SNS cannot send a JWT) before the subscription to it', () => {
      const route = (ROUTES as readonly RouteSpec[]).find(
        (r) => r.method === 'POST' && r.path === `/${INBOUND_SMS_PATH}`,
      );
      expect(route).toMatchObject({ auth: 'public' });
      expect(route!.embeddedOnly ?? false).toBe(false);
      const [routeId, deployedRoute] = ofType('AWS::ApiGatewayV2::Route').find(
        ([, r]) => r.Properties.RouteKey === `POST /${INBOUND_SMS_PATH}`,
      )!;
      expect(deployedRoute.Properties.AuthorizationType).toBe('NONE');
      const [subscriptionId] = ofType('AWS::SNS::Subscription').find(
        ([, sub]) => idOf(sub.Properties.TopicArn) === inboundTopic(),
      )!;
      expect(dependsOnOf(subscriptionId)).toContain(routeId);
    });

    it('tells the api, and only the api, which topic it may trust; confirming by SubscribeURL needs no grant on it', () => {
      const topicId = inboundTopic();
      expect(envOf(apiFn)[ENV.inboundSmsTopicArn]).toEqual(ref(topicId));
      for (const [id] of heraldFunctions()) {
        if (id !== apiFn) expect(envOf(id)[ENV.inboundSmsTopicArn], id).toBeUndefined();
        const onTopic = statementsOf(id).filter((s) => JSON.stringify(s.Resource).includes(topicId));
        expect(onTopic, id).toEqual([]);
      }
    });

    it('tells the operator to set the topic as the two-way channel of the agency number', () => {
      const outputs = template.toJSON().Outputs as Record<string, { Description: string }>;
      expect(outputs.InboundSmsTopicArn!.Description).toMatch(/two-way/);
      expect(outputs.InboundSmsTopicArn!.Description).toMatch(/End User Messaging/);
    });

    it('lets the api text codes and replies to phone numbers, as the sms channel does, and nothing else with SNS', () => {
      const snsActions = (s: Statement) => asList(s.Action).filter((a) => a.startsWith('sns:'));
      const statements = statementsOf(apiFn);
      expect(
        statements
          .filter((s) => s.Resource === '*')
          .flatMap(snsActions)
          .sort(),
      ).toEqual(['sns:CheckIfPhoneNumberIsOptedOut', 'sns:Publish']);
      expect(statements.filter((s) => s.Resource !== '*').flatMap(snsActions)).toEqual([]);
    });

    it('sizes the SMS senders from one pair of numbers: event-source concurrency equals what the code divides the rate by', () => {
      const smsFn = channelFn('sms');
      const [mapping] = mappingsOf(channelQueues.get('sms')!);
      const concurrency = Number(envOf(smsFn)[ENV.smsSenderConcurrency]);
      expect(mapping!.ScalingConfig!.MaximumConcurrency).toBe(concurrency);
      expect(concurrency).toBe(SMS_SENDING_DEFAULTS.smsSenderConcurrency);
      expect(envOf(smsFn)[ENV.smsMessagesPerSecond]).toBe(String(SMS_SENDING_DEFAULTS.smsMessagesPerSecond));
      expect(envOf(dispatchFn)[ENV.recipientsPerJob]).toBe(String(SMS_SENDING_DEFAULTS.recipientsPerJob));
      // Every function loads the same numbers (dispatch estimates the time to the last recipient with the MPS).
      for (const [id] of heraldFunctions()) {
        for (const name of [ENV.smsMessagesPerSecond, ENV.smsSenderConcurrency, ENV.recipientsPerJob]) {
          expect(envOf(id)[name], `${id} ${name}`).toBe(envOf(smsFn)[name]);
        }
      }
    });

    it('gives an SMS sender time for its jobs at its share of the rate, with room to spare', () => {
      const smsFn = channelFn('sms');
      const perSender =
        Number(envOf(smsFn)[ENV.smsMessagesPerSecond]) / Number(envOf(smsFn)[ENV.smsSenderConcurrency]);
      const sendingSeconds =
        (SMS_JOBS_PER_INVOCATION * Number(envOf(dispatchFn)[ENV.recipientsPerJob])) / perSender;
      // 100 recipients at 10/s: 10 s of sending.
      expect(sendingSeconds).toBe(10);
      expect(resource(smsFn).Properties.Timeout as number).toBeGreaterThanOrEqual(2 * sendingSeconds + 10);
    });

    it('refuses SMS numbers that would need a sender to run past Lambda’s 15 minutes', () => {
      expect(() =>
        smsSenderTimeout({ smsMessagesPerSecond: 1, smsSenderConcurrency: 2, recipientsPerJob: 1000 }),
      ).toThrow(/900 s/);
      expect(
        smsSenderTimeout({
          smsMessagesPerSecond: 100,
          smsSenderConcurrency: 10,
          recipientsPerJob: 100,
        }).toSeconds(),
      ).toBe(40);
    });
  });

  describe('cdk-nag AwsSolutions', () => {
    // "<construct path>: <rule>" reads better in a failure than the whole annotation with its stack trace.
    const brief = (messages: ReturnType<Annotations['findError']>) =>
      messages.map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`);

    it('reports no unsuppressed error', () => {
      expect(brief(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-.*')))).toEqual([]);
    });

    it('reports no unsuppressed warning', () => {
      expect(brief(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-.*')))).toEqual([]);
    });
  });
});
