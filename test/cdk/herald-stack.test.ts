/**
 * The synthesized Herald stack, read as CloudFormation: each test follows the wiring (which function
 * consumes which queue, who may send where) rather than counting resources.
 */
import { readFileSync } from 'node:fs';
import { App, Aspects } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTableInput, TABLE_DEFINITION } from '../../functions/adapters/dynamo/table';
import { ROLES } from '../../functions/core/model';
import { channelQueue } from '../../functions/ports';
import { ENV, queueUrlEnv } from '../../functions/shared/config';
import { HeraldStack } from '../../lib/herald-stack';
import { CHANNELS } from '../../schemas/alert';
import { ROUTES, type RouteSpec } from '../../schemas/routes';

interface CfnResource {
  Type: string;
  Properties: Record<string, unknown>;
  DeletionPolicy?: string;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
interface EventSourceMapping {
  EventSourceArn: unknown;
  FunctionName: unknown;
  FunctionResponseTypes?: string[];
  BatchSize?: number;
  ScalingConfig?: { MaximumConcurrency?: number };
}

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
/** The logical id behind `{ Ref: id }` or `{ Fn::GetAtt: [id, …] }`. */
function idOf(value: unknown): string {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  const id = v.Ref ?? v['Fn::GetAtt']?.[0];
  if (!id) throw new Error(`not a reference: ${JSON.stringify(value)}`);
  return id;
}
const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

let template: Template;
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
      const functions = ofType('AWS::Lambda::Function');
      expect(functions).toHaveLength(3 + CHANNELS.length);
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
          BatchSize: 10,
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
      expect(queues).toHaveLength(2 * (1 + CHANNELS.length));
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
    const alarmsOn = (queueId: string, metric: string) =>
      ofType('AWS::CloudWatch::Alarm')
        .map(([, a]) => a.Properties)
        .filter(
          (a) =>
            a.MetricName === metric &&
            (a.Dimensions as { Value: unknown }[]).some((d) => idOf(d.Value) === queueId),
        );

    it('raises an alarm to the encrypted topic as soon as anything is dead-lettered', () => {
      const [topicId, topic] = only('AWS::SNS::Topic');
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
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

    it('lets the sweeper send to the dispatch queue only', () => {
      expect(targetsOf(sweeperFn, 'sqs:SendMessage')).toEqual([dispatchQueue]);
      expect(queueIn(sweeperFn, 'dispatch')).toBe(dispatchQueue);
    });

    it.each(CHANNELS)('lets the %s function consume its own queue and send nowhere', (channel) => {
      const fn = consumerOf(channelQueues.get(channel)!);
      expect(targetsOf(fn, 'sqs:SendMessage')).toEqual([]);
      expect(targetsOf(fn, 'sqs:ChangeMessageVisibility')).toEqual([channelQueues.get(channel)]);
      expect(targetsOf(fn, 'sqs:ReceiveMessage')).toEqual([channelQueues.get(channel)]);
    });

    it('grants no DynamoDB Scan, DeleteItem or action wildcard to anyone', () => {
      const actions = ofType('AWS::IAM::Policy').flatMap(([, p]) =>
        (p.Properties.PolicyDocument as { Statement: Statement[] }).Statement.flatMap((s) =>
          asList(s.Action),
        ),
      );
      expect(actions).not.toContain('dynamodb:Scan');
      expect(actions).not.toContain('dynamodb:DeleteItem');
      expect(actions).not.toContain('dynamodb:BatchWriteItem');
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    });

    it('uses no resource wildcard except the table indexes and X-Ray, which has no resource-level permissions', () => {
      const tableId = only('AWS::DynamoDB::GlobalTable')[0];
      for (const [id] of ofType('AWS::Lambda::Function')) {
        for (const s of statementsOf(id)) {
          for (const r of asList(s.Resource)) {
            if (r === '*') {
              expect(
                asList(s.Action).every((a) => a.startsWith('xray:')),
                id,
              ).toBe(true);
            } else if (JSON.stringify(r).includes('*')) {
              expect(r, id).toEqual({ 'Fn::Join': ['', [arnOf(tableId), '/index/*']] });
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
      expect.arrayContaining(['ApiUrl', 'UserPoolId', 'UserPoolClientId', 'AlarmTopicArn']),
    );
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
