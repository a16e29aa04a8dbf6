/**
 * Herald on AWS: HTTP API → api Lambda → one DynamoDB table → dispatch queue → dispatch Lambda →
 * one queue per channel → channel Lambdas; a sweeper on a schedule; alarms to one SNS topic.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  HttpApi,
  HttpMethod,
  HttpNoneAuthorizer,
  LogGroupLogDestination,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import {
  AccountRecovery,
  FeaturePlan,
  Mfa,
  OAuthScope,
  StandardThreatProtectionMode,
  UserPool,
  UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { AttributeType, Billing, ProjectionType, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { TABLE_DEFINITION } from '../functions/adapters/dynamo/table';
import { ROLES } from '../functions/core/model';
import { channelQueue } from '../functions/ports';
import { ENV } from '../functions/shared/config';
import { CHANNELS, type Channel } from '../schemas/alert';
import { ROUTES, type RouteSpec } from '../schemas/routes';
import { entryPath, HeraldFunction } from './herald-function';
import { WorkQueue } from './work-queue';

/**
 * Per-channel ceiling on concurrent channel Lambdas (2 is the SQS event source minimum). Social channels
 * post as the agency's one account, where provider rate limits bite long before Lambda does; SMS and
 * email fan out to many residents and are bounded by the SNS/SES send rates.
 */
const CHANNEL_CONCURRENCY: Record<Channel, number> = {
  x: 2,
  facebook: 2,
  instagram: 2,
  sms: 10,
  email: 10,
  webhook: 5,
};

/** Agency settings from CDK context (`-c agencyName=…` or cdk.json); unset ones keep the code's defaults. */
const CONTEXT_ENV = {
  agencyName: ENV.agencyName,
  sender: ENV.sender,
  publicBaseUrl: ENV.publicBaseUrl,
  approvalSeverities: ENV.approvalSeverities,
} as const;

export class HeraldStack extends Stack {
  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const agencyEnvironment: Record<string, string> = {};
    for (const [key, name] of Object.entries(CONTEXT_ENV)) {
      const value: unknown = this.node.tryGetContext(key);
      if (typeof value === 'string' && value !== '') agencyEnvironment[name] = value;
    }

    // ---------------------------------------------------------------- alarms

    // CloudWatch cannot publish to a topic under the AWS-managed SNS key (its policy admits no service),
    // so the topic gets its own key that lets CloudWatch encrypt what it publishes.
    const alarmKey = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts Herald alarm notifications',
      enableKeyRotation: true,
    });
    alarmKey.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
      }),
    );
    const alarmTopic = new Topic(this, 'AlarmTopic', { masterKey: alarmKey, enforceSSL: true });
    // The enforceSSL policy replaces SNS's default one, so CloudWatch's right to publish is stated here.
    alarmTopic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [alarmTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
    );
    const alarmEmail: unknown = this.node.tryGetContext('alarmEmail');
    if (typeof alarmEmail === 'string' && alarmEmail !== '') {
      alarmTopic.addSubscription(new EmailSubscription(alarmEmail));
    }

    // ---------------------------------------------------------------- table

    const keyAttribute = (name: string) => ({ name, type: AttributeType.STRING });
    const table = new TableV2(this, 'Table', {
      partitionKey: keyAttribute(TABLE_DEFINITION.partitionKey),
      sortKey: keyAttribute(TABLE_DEFINITION.sortKey),
      globalSecondaryIndexes: TABLE_DEFINITION.globalSecondaryIndexes.map((index) => ({
        indexName: index.indexName,
        partitionKey: keyAttribute(index.partitionKey),
        sortKey: keyAttribute(index.sortKey),
        projectionType: ProjectionType.ALL,
      })),
      timeToLiveAttribute: TABLE_DEFINITION.timeToLiveAttribute,
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The AWS-managed key (aws/dynamodb): SSE-KMS with every use logged in CloudTrail and rotated by AWS,
      // with no key policy to run and no KMS grants on every function. A customer key would add key-policy
      // control and cross-account backup copies, neither needed yet; the design's KMS protection of phone
      // numbers belongs at field level, with its own key.
      encryption: TableEncryptionV2.awsManagedKey(),
      // Alerts, receipts and the audit log are records an agency must keep: never delete them with the stack.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ---------------------------------------------------------------- channel functions and queues
    // Each function is granted the table calls its handler makes today, named beside the grant. dynalite
    // enforces no IAM, so a handler that starts making a new call needs it added here or fails only on AWS.

    const channelQueues = CHANNELS.map((channel) => {
      const consumer = new HeraldFunction(this, `ChannelFunction-${channel}`, {
        description: `Herald: delivers alerts on the ${channel} channel`,
        entry: entryPath('functions/channel/handler.ts'),
        serviceName: `herald-channel-${channel}`,
        // Room for a batch of ten jobs whose provider calls each time out after ENV.providerTimeoutMs (10 s).
        timeout: Duration.seconds(60),
        environment: { ...agencyEnvironment, [ENV.channel]: channel },
      })
        // getVersion, receipt get/claim/record, countSettled; the sandbox provider's outbox append and lookup.
        .bindTable(table, ['GetItem', 'Query', 'PutItem', 'UpdateItem']);
      return new WorkQueue(this, `Queue-${channelQueue(channel)}`, {
        name: channelQueue(channel),
        consumer,
        maxConcurrency: CHANNEL_CONCURRENCY[channel],
        alarmTopic,
        maxMessageAge: Duration.minutes(5),
      });
    });

    // ---------------------------------------------------------------- dispatch

    const dispatch = new HeraldFunction(this, 'DispatchFunction', {
      description: 'Herald: plans the fan-out of one alert version into channel jobs',
      entry: entryPath('functions/dispatch/handler.ts'),
      serviceName: 'herald-dispatch',
      // Expanding the subscribers of large zones into receipts and jobs is the longest step in Herald.
      timeout: Duration.seconds(60),
      environment: agencyEnvironment,
    })
      // getAlert, createReceipts, markPlanned.
      .bindTable(table, ['Query', 'PutItem', 'UpdateItem']);
    for (const q of channelQueues) dispatch.bindQueue(q.name, q.queue);
    const dispatchQueue = new WorkQueue(this, 'Queue-dispatch', {
      name: 'dispatch',
      consumer: dispatch,
      alarmTopic,
      // Nothing reaches any channel until dispatch has planned it, so this queue alarms soonest.
      maxMessageAge: Duration.minutes(2),
    });

    // ---------------------------------------------------------------- api

    const api = new HeraldFunction(this, 'ApiFunction', {
      description: 'Herald: the HTTP API',
      entry: entryPath('functions/api/handler.ts'),
      serviceName: 'herald-api',
      // API Gateway gives up after 30 s; a request that needs more than 10 s is broken, not slow.
      timeout: Duration.seconds(10),
      environment: agencyEnvironment,
    })
      // Versions, heads, approvals, idempotency records and receipt listings; listAlerts batch-reads heads.
      .bindTable(table, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem'])
      .bindQueue(dispatchQueue.name, dispatchQueue.queue);

    // ---------------------------------------------------------------- sweeper

    const sweeper = new HeraldFunction(this, 'SweeperFunction', {
      description: 'Herald: re-dispatches accepted versions whose fan-out was never planned',
      entry: entryPath('functions/sweeper/handler.ts'),
      serviceName: 'herald-sweeper',
      memorySize: 512,
      // Under the one-minute schedule, so one sweep ends before the next begins.
      timeout: Duration.seconds(50),
      // A failed or delayed sweep is not retried: the next one a minute later does the same work afresh.
      retryAttempts: 0,
      maxEventAge: Duration.minutes(1),
      environment: agencyEnvironment,
    })
      // findUnplanned (GSI2) and advanceHead.
      .bindTable(table, ['Query', 'UpdateItem'])
      .bindQueue(dispatchQueue.name, dispatchQueue.queue);
    new Rule(this, 'SweeperSchedule', {
      description: 'Runs the Herald sweeper every minute',
      schedule: Schedule.rate(Duration.minutes(1)),
      // A tick EventBridge cannot deliver is covered by the next one.
      targets: [new LambdaFunction(sweeper, { retryAttempts: 0 })],
    });

    // ---------------------------------------------------------------- identity

    const userPool = new UserPool(this, 'UserPool', {
      // Accounts are issued by the agency, never self-created.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      // Required, by authenticator app only: a stolen password must not be enough to alert a whole city,
      // and SMS codes are open to SIM swapping.
      mfa: Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 14,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
        passwordHistorySize: 5,
      },
      // Threat protection (the former advanced security) needs the Plus plan; a handful of staff accounts
      // makes its per-user price small next to blocking credential stuffing on an account that can post.
      featurePlan: FeaturePlan.PLUS,
      standardThreatProtectionMode: StandardThreatProtectionMode.FULL_FUNCTION,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const role of ROLES) {
      new UserPoolGroup(this, `Group-${role}`, {
        userPool,
        // The group name is the contract: it arrives in the token's cognito:groups claim as a Role.
        groupName: role,
        description: `Herald ${role}s`,
      });
    }
    const consoleUrl = String(this.node.tryGetContext('consoleUrl') ?? 'http://localhost:3000').replace(
      /\/$/,
      '',
    );
    const consoleClient = userPool.addClient('ConsoleClient', {
      // A browser app cannot keep a secret; it proves itself with PKCE instead.
      generateSecret: false,
      // SRP only (plus refresh): never plain passwords over the wire, and no custom-auth flow to abuse.
      authFlows: { userSrp: true },
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [`${consoleUrl}/auth/callback`],
        logoutUrls: [`${consoleUrl}/`],
      },
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    const authDomainPrefix: unknown = this.node.tryGetContext('authDomainPrefix');
    if (typeof authDomainPrefix === 'string' && authDomainPrefix !== '') {
      userPool.addDomain('AuthDomain', { cognitoDomain: { domainPrefix: authDomainPrefix } });
    }

    // ---------------------------------------------------------------- HTTP API

    const httpApi = new HttpApi(this, 'HttpApi', {
      description: 'Herald public-alert API',
      // The default stage is made below, where access logs and throttling can be set on it.
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', { retention: RetentionDays.ONE_YEAR });
    const stage = httpApi.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // Far above what an agency's officers and CAD generate; caps the cost of a runaway client.
      throttle: { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTime',
            ip: '$context.identity.sourceIp',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            responseLength: '$context.responseLength',
            user: '$context.authorizer.claims.sub',
            authorizerError: '$context.authorizer.error',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    const authorizer = new HttpJwtAuthorizer(
      'CognitoJwt',
      `https://cognito-idp.${this.region}.${this.urlSuffix}/${userPool.userPoolId}`,
      {
        jwtAudience: [consoleClient.userPoolClientId],
        identitySource: ['$request.header.Authorization'],
      },
    );
    const integration = new HttpLambdaIntegration('ApiIntegration', api);
    const deployed: readonly RouteSpec[] = ROUTES;
    for (const route of deployed) {
      if (route.embeddedOnly) continue;
      const [created] = httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        authorizer: route.auth === 'jwt' ? authorizer : new HttpNoneAuthorizer(),
      });
      if (route.auth === 'public' && created) {
        NagSuppressions.addResourceSuppressions(created, [
          {
            id: 'AwsSolutions-APIG4',
            reason: `${route.method} ${route.path} is public in the route table (${route.summary}); it reads no alert data.`,
          },
        ]);
      }
    }

    // ---------------------------------------------------------------- outputs

    new CfnOutput(this, 'ApiUrl', { value: stage.url, description: 'Base URL of the Herald API' });
    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: consoleClient.userPoolClientId });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
  }
}
