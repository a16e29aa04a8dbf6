/**
 * Herald on AWS: HTTP API → api Lambda → one DynamoDB table → dispatch queue → dispatch Lambda →
 * one queue per channel → channel Lambdas; a sweeper on a schedule, and one-time schedules that wake the dispatcher for
 * versions scheduled ahead; alarms to one SNS topic. Around the
 * channels: provider credentials in Secrets Manager, alert-card images in S3 behind CloudFront, and the
 * receipt callbacks (SNS SMS delivery-status logs, SES events) that move receipts to delivered or failed.
 * Residents and media: their addresses encrypted under a KMS key of their own (only the functions that send to
 * them or sign them up may use it), and residents' texts arriving from End User Messaging through an SNS topic
 * to the API's POST /v1/inbound/sms.
 */
import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  type CfnRoute,
  type CfnStage,
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
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import {
  addressLockPk,
  challengePk,
  RECEIPT_PREFIX,
  SUBSCRIBER_PREFIX,
} from '../functions/adapters/dynamo/keys';
import { TABLE_DEFINITION } from '../functions/adapters/dynamo/table';
import { CHANNEL, channelsWhere } from '../functions/channels/list';
import { isSubscriberChannel, RECIPIENTS_PER_JOB } from '../functions/core/fanout';
import { ROLES } from '../functions/core/model';
import { channelQueue } from '../functions/ports';
import { ENV } from '../functions/shared/config';
import { CHANNELS, type Channel } from '../schemas/alert';
import { MAX_RECIPIENTS_PER_JOB } from '../schemas/messages';
import { ROUTES, type RouteSpec } from '../schemas/routes';
import { DEFAULT_SMS_MONTHLY_SPEND_LIMIT_USD, OperationalAlarms } from './alarms';
import { AuditHeads } from './audit-heads';
import { cardAssetCommands, xmllintAssetCommands } from './bundling';
import { Console } from './console';
import { EmailEvents } from './email-events';
import { ENGAGEMENT_SECRET_CHANNELS, Engagement } from './engagement';
import { agencyLanguages, entryPath, HeraldFunction } from './herald-function';
import { ImageCdn } from './image-cdn';
import { INBOUND_SMS_PATH, InboundSms } from './inbound-sms';
import { NamedSecret } from './named-resources';
import { PiiKey } from './pii-key';
import { PublicReads } from './public-reads';
import { isSiteRoute, PublicSite } from './public-site';
import { PublishSchedules } from './publish-schedules';
import { META_WEBHOOK_NAG_REASON, META_WEBHOOK_PATH, REPLY_SECRET_CHANNELS, Replies } from './replies';
import { SmsDeliveryStatus } from './sms-delivery-status';
import { alarmWhenNotEmpty, WorkQueue } from './work-queue';

/** The SMS fan-out's numbers when the context does not set them (cdk.json carries the same). */
export const SMS_SENDING_DEFAULTS = {
  /** The account's SMS messages per second (SNS / End User Messaging quota); 20 is a common starting quota. */
  smsMessagesPerSecond: 20,
  /** Concurrent SMS sender invocations, each sending at MPS / concurrency (2 is the SQS event source minimum). */
  smsSenderConcurrency: 2,
  /** Recipients per subscriber-channel job (one SQS message): the code's own default. */
  recipientsPerJob: RECIPIENTS_PER_JOB,
} as const;

/**
 * SQS messages (jobs) per SMS sender invocation. One: a job of `recipientsPerJob` recipients already keeps a
 * sender busy for seconds at its share of the account's rate, so a batch of ten would only multiply the
 * timeout (and the visibility timeout, six times it) by ten and make a crashed invocation delay ten jobs.
 */
export const SMS_JOBS_PER_INVOCATION = 1;

/**
 * Jobs per email and webhook sender invocation: one, as for SMS. A sender has at most one send window (HERALD_SEND_WINDOW
 * recipients) whose outcomes a crash can lose; a batch of ten jobs, processed side by side, would make that ten.
 */
export const SUBSCRIBER_JOBS_PER_INVOCATION = 1;

/** Provider calls time out after ENV.providerTimeoutMs (10 s by default): a job's last call may take that long. */
const PROVIDER_TIMEOUT_SECONDS = 10;

export interface SmsSending {
  smsMessagesPerSecond: number;
  smsSenderConcurrency: number;
  recipientsPerJob: number;
}

/**
 * The SMS sender's timeout: twice the time its jobs take at its share of the rate (room for slow SNS answers
 * and retries of throttled calls), plus a provider timeout and ten seconds for start-up, claims and receipt
 * writes. Lambda allows 15 minutes; numbers that would need more are refused at synth.
 */
export function smsSenderTimeout(sending: SmsSending): Duration {
  const perSenderRate = sending.smsMessagesPerSecond / sending.smsSenderConcurrency;
  const sendingSeconds = (SMS_JOBS_PER_INVOCATION * sending.recipientsPerJob) / perSenderRate;
  const seconds = Math.max(30, Math.ceil(2 * sendingSeconds) + PROVIDER_TIMEOUT_SECONDS + 10);
  if (seconds > 900) {
    throw new Error(
      `an SMS job of ${sending.recipientsPerJob} recipients at ${perSenderRate} messages/s per sender needs a ${seconds} s timeout, over Lambda's 900 s: lower recipientsPerJob or smsSenderConcurrency, or raise smsMessagesPerSecond`,
    );
  }
  return Duration.seconds(seconds);
}

/** The literal start of a key built by one of the table's key functions, up to its first `#`. */
const keyPrefix = (key: string): string => key.slice(0, key.indexOf('#') + 1);

/** Send-job items of the subscriber fan-out (functions/adapters/dynamo/bulk-store.ts: `JOB#<alertId>`). */
export const JOB_PREFIX = 'JOB#';

/** Items a resident's deletion or a spent code removes: profile, address lock, pending code. */
export const SUBSCRIBER_ITEM_PREFIXES = [
  SUBSCRIBER_PREFIX,
  keyPrefix(addressLockPk('sms', 'hash')),
  keyPrefix(challengePk('sms', 'hash')),
] as const;

/** Agency settings from CDK context (`-c agencyName=…` or cdk.json); unset ones keep the code's defaults. */
/** The secrets' name prefix unless the context sets `secretsPrefix`; the providers read `<prefix><channel>`. */
export const DEFAULT_SECRETS_PREFIX = 'herald/';

/**
 * Channels whose provider needs credentials of its own (their definitions say `credentials: 'secret'`); SMS and
 * email use the functions' IAM roles.
 */
export const SECRET_CHANNELS: readonly Channel[] = channelsWhere((c) => c.credentials === 'secret');

/**
 * The instagram function (cards it posts) and the api function (cards the preview shows) draw alert cards, whose
 * renderer reads its wasm and fonts from `card-assets/` beside the bundle at run time (files, so that no other
 * function carries them and the wasm is never base64-decoded).
 */
const cardAssetHooks = {
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (input: string, output: string) => cardAssetCommands(output, input),
};

/** The api function draws cards (preview) and validates posted CAP against the XSD: it carries both sets of assets. */
const apiAssetHooks = {
  ...cardAssetHooks,
  afterBundling: (input: string, output: string) => [
    ...cardAssetCommands(output, input),
    ...xmllintAssetCommands(output),
  ],
};

function contextString(scope: Construct, key: string): string | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A whole-number context value: a number in cdk.json, a string from `-c key=value`. */
function contextInteger(scope: Construct, key: string, fallback: number, min: number, max: number): number {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(
      `context ${key} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** The SMS fan-out's numbers from the context: one source for the event source, the env and the timeout. */
export function smsSendingFrom(scope: Construct): SmsSending {
  const d = SMS_SENDING_DEFAULTS;
  return {
    smsMessagesPerSecond: contextInteger(scope, 'smsMessagesPerSecond', d.smsMessagesPerSecond, 1, 10_000),
    // 2 to 1000: the SQS event source's bounds for maximum concurrency.
    smsSenderConcurrency: contextInteger(scope, 'smsSenderConcurrency', d.smsSenderConcurrency, 2, 1000),
    // No more than a job message may carry (its schema's bound, well inside SQS's size limit).
    recipientsPerJob: contextInteger(
      scope,
      'recipientsPerJob',
      d.recipientsPerJob,
      1,
      MAX_RECIPIENTS_PER_JOB,
    ),
  };
}

const CONTEXT_ENV = {
  agencyName: ENV.agencyName,
  sender: ENV.sender,
  approvalSeverities: ENV.approvalSeverities,
} as const;

/** Requests per second (and burst) each public read route may take from the API; the CDN answers the rest. */
export const PUBLIC_READ_LIMIT = { rate: 20, burst: 40 } as const;
/** The same for web sign-up, confirmation and tips, which the API also limits per address and per client. */
export const SIGN_UP_LIMIT = { rate: 5, burst: 10 } as const;
/** The public forms a resident's browser posts to the JSON API: capped by SIGN_UP_LIMIT, as every site form is. */
const PUBLIC_FORM_PATHS: ReadonlySet<string> = new Set([
  '/v1/subscriptions',
  '/v1/subscriptions/confirm',
  '/v1/tips',
]);
/** A form a resident's browser posts: the JSON API's above, and every POST of the residents' site. */
const isPublicForm = (route: RouteSpec) =>
  route.method === 'POST' && (PUBLIC_FORM_PATHS.has(route.path) || isSiteRoute(route));

/**
 * Lets `fn` text phone numbers through SNS: Publish with PhoneNumber, and the opt-out check the SMS provider
 * makes first. Neither acts on a resource ARN and SNS has no condition key for a phone-number publish, so IAM
 * requires Resource "*" for both.
 */
function grantSmsToPhoneNumbers(fn: HeraldFunction): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ['sns:Publish', 'sns:CheckIfPhoneNumberIsOptedOut'],
      resources: ['*'],
    }),
  );
  NagSuppressions.addResourceSuppressions(
    fn.role!,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'sns:Publish to a phone number (PhoneNumber, not TopicArn) and sns:CheckIfPhoneNumberIsOptedOut act on no resource ARN and SNS offers no condition key to narrow them, so IAM requires Resource "*"; the statement allows those two actions only.',
        appliesTo: ['Resource::*'],
      },
    ],
    true,
  );
}

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

    // ---------------------------------------------------------------- PII
    // Addresses are encrypted field by field under this key (the table's own encryption stays as it is).
    const piiKey = new PiiKey(this, 'Pii');

    // ---------------------------------------------------------------- channel functions and queues
    // Each function is granted the table calls its handler makes today, named beside the grant. dynalite
    // enforces no IAM, so a handler that starts making a new call needs it added here or fails only on AWS.

    const smsSending = smsSendingFrom(this);
    const channelFunctions = {} as Record<Channel, HeraldFunction>;
    // Every channel in the list (functions/channels/list.ts) gets its function, queue and dead-letter queue here,
    // sized by its definition; what a channel needs beyond that (SNS, SES, the image bucket) follows below.
    const channelQueues = CHANNELS.map((channel) => {
      const definition = CHANNEL[channel];
      const consumer = new HeraldFunction(this, `ChannelFunction-${channel}`, {
        description: `Herald: delivers alerts on the ${channel} channel`,
        // One entry per channel, so each bundle carries only its own provider (the card renderer only the channels
        // that need an image).
        entry: entryPath(`functions/channels/${channel}/entry.ts`),
        serviceName: `herald-channel-${channel}`,
        // Others: room for a batch of jobs whose provider calls each time out after ENV.providerTimeoutMs (10 s).
        // SMS: a job's recipients at the sender's share of the account's rate.
        timeout: channel === 'sms' ? smsSenderTimeout(smsSending) : Duration.seconds(60),
        environment: { ...agencyEnvironment, [ENV.channel]: channel },
        ...(definition.needsImage ? { bundling: { commandHooks: cardAssetHooks } } : {}),
      })
        // getVersion, receipt get/claim/record, countSettled; the sandbox provider's outbox append and lookup.
        .bindTable(table, ['GetItem', 'Query', 'PutItem', 'UpdateItem']);
      channelFunctions[channel] = consumer;
      return new WorkQueue(this, `Queue-${channelQueue(channel)}`, {
        name: channelQueue(channel),
        consumer,
        // The SMS senders share the account's messages per second: as many as the code divides the rate by.
        ...(channel === 'sms'
          ? { maxConcurrency: smsSending.smsSenderConcurrency, batchSize: SMS_JOBS_PER_INVOCATION }
          : {
              // A social channel posts as one account, where rate limits bite long before Lambda does.
              maxConcurrency: definition.concurrency,
              ...(isSubscriberChannel(channel) ? { batchSize: SUBSCRIBER_JOBS_PER_INVOCATION } : {}),
            }),
        alarmTopic,
        maxMessageAge: Duration.minutes(5),
      });
    });

    // ---------------------------------------------------------------- provider credentials
    // One secret per channel that needs one, named `<prefix><channel>` (the name the providers read) and created
    // holding `{}` for the agency to fill in. Kept when the stack is deleted (tokens issued by hand in a provider's
    // console must outlive that), so a CloudFormation secret of that fixed name would fail the next deployment
    // with "already exists": a create-if-missing call makes it instead (lib/named-resources.ts), adopting a kept
    // one with its value, and never writes a value again. Under the AWS-managed key (aws/secretsmanager): every
    // use in CloudTrail, no key policy or kms:Decrypt grant to keep right. Not rotated by a function: the provider
    // issues the credentials to the agency (app keys, page tokens, signing secrets), who rotates them in its console.

    const secretsPrefix = contextString(this, 'secretsPrefix') ?? DEFAULT_SECRETS_PREFIX;
    for (const channel of SECRET_CHANNELS) {
      const secret = new NamedSecret(this, `ChannelSecret-${channel}`, {
        secretName: `${secretsPrefix}${channel}`,
        description: `Herald ${channel} provider credentials (JSON), filled in by the agency`,
      });
      // GetSecretValue on this secret's ARNs (its name and the six characters Secrets Manager appends): not
      // DescribeSecret, not another channel's secret, not one whose name merely starts with it.
      channelFunctions[channel].addToRolePolicy(
        new PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [secret.secretArnPattern],
        }),
      );
    }
    // Every channel function is told the prefix: the composition root builds one secret source for all of them,
    // and the prefix alone grants nothing (sms and email hold no secretsmanager permission at all).
    for (const channel of CHANNELS)
      channelFunctions[channel].addEnvironment(ENV.secretsPrefix, secretsPrefix);

    // The channels that send to subscribers decrypt their addresses; the social channels post to the agency's
    // own account and never touch one. Their jobs carry many recipients: receipts are read (and subscribers
    // looked up) 100 at a time, and written 25 at a time, by BatchWriteItem on receipt items only.
    for (const channel of channelsWhere((c) => c.audience === 'subscriber')) {
      piiKey.grantUse(channelFunctions[channel]);
      channelFunctions[channel]
        .bindTable(table, ['BatchGetItem'])
        .bindTableItems(table, ['BatchWriteItem'], [RECEIPT_PREFIX]);
    }

    // ---------------------------------------------------------------- images (Instagram needs a public URL)

    // The public host: the agency's own (publicBaseUrl, with publicCertificateArn for CloudFront to answer for it),
    // else the distribution's *.cloudfront.net name. Feeds, CAP links, alert pages and card images all use it.
    const customPublicUrl = contextString(this, 'publicBaseUrl')?.replace(/\/+$/, '');
    const publicCertificateArn = contextString(this, 'publicCertificateArn');
    const images = new ImageCdn(this, 'Images', {
      ...(customPublicUrl && publicCertificateArn
        ? {
            customDomain: {
              domainName: new URL(customPublicUrl).hostname,
              certificateArn: publicCertificateArn,
            },
          }
        : {}),
    });
    for (const channel of channelsWhere((c) => c.needsImage === true)) {
      images.grantPut(channelFunctions[channel]);
      channelFunctions[channel].addEnvironment(ENV.imageBucket, images.bucket.bucketName);
      channelFunctions[channel].addEnvironment(ENV.imageBaseUrl, images.baseUrl);
    }

    // ---------------------------------------------------------------- SMS

    const sms = channelFunctions.sms;
    // Where the country allows them: an alphanumeric sender id, or a registered origination number (10DLC,
    // toll-free, short code) that SNS must send from.
    const smsSenderSettings: Record<string, string> = {};
    for (const [key, name] of [
      ['smsSenderId', ENV.smsSenderId],
      ['smsOriginationNumber', ENV.smsOriginationNumber],
    ] as const) {
      const value = contextString(this, key);
      if (value) smsSenderSettings[name] = value;
    }
    for (const [name, value] of Object.entries(smsSenderSettings)) sms.addEnvironment(name, value);
    // The senders pace themselves at MPS / senders, the senders being the event source's maximum concurrency
    // above; every function is told both numbers further down, where the PII key id is set.
    grantSmsToPhoneNumbers(sms);

    const smsStatus = this.callbackFunction('SmsStatusFunction', {
      description: 'Herald: SNS SMS delivery-status logs move SMS receipts to delivered or failed',
      entry: 'functions/callbacks/sms-status/handler.ts',
      serviceName: 'herald-sms-status',
      environment: agencyEnvironment,
      table,
      alarmTopic,
    });
    const smsStatusLogs = new SmsDeliveryStatus(this, 'SmsDeliveryStatus', {
      consumer: smsStatus,
      manageAccountSettings: this.node.tryGetContext('manageSmsSettings') !== false,
    });

    // ---------------------------------------------------------------- email

    const sesIdentity = contextString(this, 'sesIdentity');
    if (!sesIdentity) {
      throw new Error(
        'set the SES identity Herald sends email from: -c sesIdentity=agency.example (or in cdk.json)',
      );
    }
    const emailFrom =
      contextString(this, 'emailFrom') ?? (sesIdentity.includes('@') ? sesIdentity : `alerts@${sesIdentity}`);
    const emailEventsFn = this.callbackFunction('EmailEventsFunction', {
      description: 'Herald: SES delivery, bounce, complaint and reject events move email receipts',
      entry: 'functions/callbacks/email-events/handler.ts',
      serviceName: 'herald-email-events',
      environment: agencyEnvironment,
      table,
      alarmTopic,
    });
    const email = new EmailEvents(this, 'EmailEvents', {
      consumer: emailEventsFn,
      identity: sesIdentity,
      alarmTopic,
    });
    email.grantSend(channelFunctions.email);
    channelFunctions.email.addEnvironment(ENV.emailFrom, emailFrom);
    channelFunctions.email.addEnvironment(
      ENV.sesConfigurationSet,
      email.configurationSet.configurationSetName,
    );

    // ---------------------------------------------------------------- dispatch

    const dispatch = new HeraldFunction(this, 'DispatchFunction', {
      description: 'Herald: plans the fan-out of one alert version into channel jobs',
      entry: entryPath('functions/dispatch/handler.ts'),
      serviceName: 'herald-dispatch',
      // Expanding the subscribers of large zones into receipts and jobs is the longest step in Herald.
      timeout: Duration.seconds(60),
      environment: agencyEnvironment,
    })
      // getAlert, createReceipts, markPlanned; the fan-out plan (GetItem, PutItem), rosters and jobs (Query).
      .bindTable(table, ['GetItem', 'Query', 'PutItem', 'UpdateItem'])
      // Send jobs written 25 a call, and a taken-over plan's jobs deleted; job items only.
      .bindTableItems(table, ['BatchWriteItem'], [JOB_PREFIX]);

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
      bundling: { commandHooks: apiAssetHooks },
    })
      // Versions, heads, approvals, idempotency records and receipt listings; listAlerts batch-reads heads.
      .bindTable(table, ['GetItem', 'BatchGetItem', 'Query', 'PutItem', 'UpdateItem'])
      // Deleting a subscriber (their PII goes with the profile and address lock) and a spent or expired code.
      .bindTableItems(table, ['DeleteItem'], SUBSCRIBER_ITEM_PREFIXES)
      .bindQueue(dispatchQueue.name, dispatchQueue.queue);
    // Notices: double opt-in codes and keyword replies, sent through the sms and email providers with the
    // channels' own settings (sender id or origination number; From address and configuration set).
    grantSmsToPhoneNumbers(api);
    for (const [name, value] of Object.entries(smsSenderSettings)) api.addEnvironment(name, value);
    email.grantSend(api);
    api.addEnvironment(ENV.emailFrom, emailFrom);
    api.addEnvironment(ENV.sesConfigurationSet, email.configurationSet.configurationSetName);
    // Sign-up, confirmation, keywords and import encrypt and look up addresses; listings mask decrypted ones.
    piiKey.grantUse(api);

    // ---------------------------------------------------------------- scheduled versions (lib/publish-schedules.ts)
    // The api arms a one-time EventBridge schedule per version with a publishAt; it puts the version's dispatch
    // message on the dispatch queue just before its time. The sweeper below, every minute, is the backstop.
    new PublishSchedules(this, 'PublishSchedules', { dispatchQueue: dispatchQueue.queue, api, alarmTopic });

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
      // findUnplanned (GSI2) and advanceHead; due deferrals (GSI1, and an alert's own) marked released.
      .bindTable(table, ['Query', 'UpdateItem'])
      .bindQueue(dispatchQueue.name, dispatchQueue.queue);
    // Residents whose quiet hours are over: their releases go on the queues of the channels where quiet hours apply
    // (SMS and email; functions/channel/deferrals.ts).
    const quietQueues = new Set(channelsWhere((c) => c.quietHours === true).map(channelQueue));
    for (const q of channelQueues) if (quietQueues.has(q.name)) sweeper.bindQueue(q.name, q.queue);
    new Rule(this, 'SweeperSchedule', {
      description: 'Runs the Herald sweeper every minute',
      schedule: Schedule.rate(Duration.minutes(1)),
      // A tick EventBridge cannot deliver is covered by the next one.
      targets: [new LambdaFunction(sweeper, { retryAttempts: 0 })],
    });

    // ---------------------------------------------------------------- replies (lib/replies.ts)
    // Replies to the agency's live social posts, polled into tips; the api reads the Meta secrets for the webhook route.
    const channelSecret = (channel: Channel) =>
      this.node.findChild(`ChannelSecret-${channel}`) as NamedSecret;
    const replies = new Replies(this, 'Replies', {
      table,
      api,
      secrets: {
        ...Object.fromEntries(REPLY_SECRET_CHANNELS.map((channel) => [channel, channelSecret(channel)])),
        facebook: channelSecret('facebook'),
        instagram: channelSecret('instagram'),
      },
      secretsPrefix,
      alarmTopic,
    });

    // ---------------------------------------------------------------- social engagement (lib/engagement.ts)
    // Likes, reposts, replies and views of the agency's posts, read from each network for 7 days after posting.
    new Engagement(this, 'Engagement', {
      table,
      secrets: Object.fromEntries(
        ENGAGEMENT_SECRET_CHANNELS.map((channel) => [channel, channelSecret(channel)]),
      ) as Record<(typeof ENGAGEMENT_SECRET_CHANNELS)[number], NamedSecret>,
      secretsPrefix,
      alarmTopic,
    });

    // ---------------------------------------------------------------- audit heads (lib/audit-heads.ts)
    // Each function that appends audit entries (alert events, tips' and subscribers' audit) locks the chain's head in
    // S3 as it appends (its entry calls lockAuditHeadsInS3); the api's verifier compares the table's chains with them.
    // The replies poller appends tips' entries too: the tips it takes in and the public answers it posts.
    const auditHeads = new AuditHeads(this, 'AuditHeads', {
      mode: this.node.tryGetContext('auditHeadLockMode') === 'COMPLIANCE' ? 'COMPLIANCE' : 'GOVERNANCE',
    });
    for (const fn of [api, dispatch, sweeper, replies.poller]) auditHeads.grantAppend(fn);
    auditHeads.grantVerify(api);

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
    // Public routes get route-level limits of their own, below the stage's: reads that miss the CDN's cache (a
    // made-up alert id, a feed reader that ignores caching) and sign-ups spin up the same api function officers
    // use, so a flood of them is capped where it cannot cost an officer's POST its capacity or run up the bill.
    const publicLimits = (route: RouteSpec) =>
      route.method === 'GET'
        ? { ThrottlingRateLimit: PUBLIC_READ_LIMIT.rate, ThrottlingBurstLimit: PUBLIC_READ_LIMIT.burst }
        : isPublicForm(route)
          ? { ThrottlingRateLimit: SIGN_UP_LIMIT.rate, ThrottlingBurstLimit: SIGN_UP_LIMIT.burst }
          : undefined;
    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    const cfnStage = stage.node.defaultChild as CfnStage;
    const integration = new HttpLambdaIntegration('ApiIntegration', api);
    const deployed: readonly RouteSpec[] = ROUTES;
    const inboundRoutes: Construct[] = [];
    for (const route of deployed) {
      if (route.embeddedOnly) continue;
      const [created] = httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration,
        authorizer: route.auth === 'jwt' ? authorizer : new HttpNoneAuthorizer(),
      });
      const inbound = route.method === 'POST' && route.path === `/${INBOUND_SMS_PATH}`;
      if (inbound && created) inboundRoutes.push(created);
      const limits = route.auth === 'public' ? publicLimits(route) : undefined;
      if (limits && created) {
        routeSettings[`${route.method} ${route.path}`] = limits;
        // A stage's route settings must name routes that exist: without the dependency CloudFormation may
        // create the stage first and fail ("Unable to find Route by key").
        cfnStage.addResourceDependency(created.node.defaultChild as CfnRoute);
      }
      if (route.auth === 'public' && created) {
        NagSuppressions.addResourceSuppressions(created, [
          {
            id: 'AwsSolutions-APIG4',
            reason:
              route.path === META_WEBHOOK_PATH
                ? META_WEBHOOK_NAG_REASON
                : inbound
                  ? `${route.method} ${route.path} is called by SNS, which cannot present a JWT: the api function accepts only messages whose SNS signature verifies and whose TopicArn is the inbound SMS topic, and SNS confirms the subscription through it.`
                  : isSiteRoute(route)
                    ? `${route.method} ${route.path} is a page of the residents' public site (${route.summary}), reached through CloudFront without an account: it shows only published alerts and public text, codes are rate limited per address and client, and a resident's own settings are reached only with a session opened by a code sent to their own address.`
                    : `${route.method} ${route.path} is public in the route table (${route.summary}): the public and residents reach it without an account; it returns only published alerts or public data, never a subscriber's address, and sign-up is rate limited per address and client.`,
          },
        ]);
      }
    }
    cfnStage.routeSettings = routeSettings;

    // ---------------------------------------------------------------- public reads behind CloudFront

    // Behaviours of the image distribution: the functions are told its URL (below), which refers to the HTTP API's
    // id only, while the API's routes and integration refer to the api function: no cycle. The reads first, then the
    // residents' site (lib/public-site.ts) on the same origin; the api checks the edge secret that origin sends before
    // it believes the viewer address the site's edge function passes.
    const publicReads = new PublicReads(this, 'PublicReads', { distribution: images.distribution, httpApi });
    new PublicSite(this, 'PublicSite', {
      distribution: images.distribution,
      origin: publicReads.apiOrigin,
      assetCachePolicy: publicReads.readsCachePolicy,
      languages: agencyLanguages(this),
    });
    publicReads.trustEdgeIn(api);
    const publicBaseUrl = customPublicUrl ?? images.baseUrl;
    if (customPublicUrl && !publicCertificateArn) {
      Annotations.of(this).addWarningV2(
        'herald:publicBaseUrl',
        `Links use publicBaseUrl ${customPublicUrl}, which the distribution does not answer for without publicCertificateArn: proxy it to the distribution's own URL (output ImageBaseUrl) yourself, or give the certificate (ACM, us-east-1).`,
      );
    }

    // ---------------------------------------------------------------- console (lib/console.ts)
    // Its own distribution, forwarding /v1/* to this API; sets the console client's redirect URLs to its URL.
    const webConsole = new Console(this, 'Console', { userPool, client: consoleClient, httpApi });

    // ---------------------------------------------------------------- inbound SMS

    const inboundSms = new InboundSms(this, 'InboundSms', {
      apiBaseUrl: stage.url,
      routeReady: [stage, ...inboundRoutes],
      alarmTopic,
    });
    // The only topic whose signed messages the route accepts.
    api.addEnvironment(ENV.inboundSmsTopicArn, inboundSms.topic.topicArn);

    // ---------------------------------------------------------------- every function: public URL, PII key id, SMS numbers
    // The public base URL makes the links in messages, feeds and CAP (pages, .cap files).
    // Every composition root builds the KMS cipher (functions/shared/aws.ts), which calls KMS only when used;
    // the id grants nothing, so functions without grantUse above (dispatch, sweeper, the social channels, the
    // receipt callbacks) are told it and can still not use the key. The SMS numbers are configuration every
    // function loads alike: the senders pace by them, dispatch sizes jobs and estimates the time to the last
    // recipient by them, and no function's view can drift from the event source's concurrency.
    const sharedEnvironment = {
      [ENV.publicBaseUrl]: publicBaseUrl,
      [ENV.piiKeyId]: piiKey.key.keyArn,
      [ENV.smsMessagesPerSecond]: String(smsSending.smsMessagesPerSecond),
      [ENV.smsSenderConcurrency]: String(smsSending.smsSenderConcurrency),
      [ENV.recipientsPerJob]: String(smsSending.recipientsPerJob),
    };
    const heraldFunctions = this.node
      .findAll()
      .filter((c): c is HeraldFunction => c instanceof HeraldFunction);
    for (const fn of heraldFunctions) {
      for (const [name, value] of Object.entries(sharedEnvironment)) fn.addEnvironment(name, value);
    }

    // ---------------------------------------------------------------- alarms (lib/alarms.ts)
    // smsMonthlySpendLimit: the account's SNS monthly SMS spend limit in whole USD, as AWS has raised it.
    const smsLimit = contextInteger(
      this,
      'smsMonthlySpendLimit',
      DEFAULT_SMS_MONTHLY_SPEND_LIMIT_USD,
      1,
      1e6,
    );
    new OperationalAlarms(this, 'Alarms', {
      topic: alarmTopic,
      httpApi,
      functions: heraldFunctions,
      smsMonthlySpendLimitUsd: smsLimit,
      metaChannels: channelsWhere((c) => c.alarmOnRejectedCredentials === true).map((channel) => ({
        channel,
        fn: channelFunctions[channel],
        secretName: `${secretsPrefix}${channel}`,
      })),
    });

    // ---------------------------------------------------------------- outputs

    new CfnOutput(this, 'ApiUrl', { value: stage.url, description: 'Base URL of the Herald API' });
    new CfnOutput(this, 'UserPoolId', { value: userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: consoleClient.userPoolClientId });
    new CfnOutput(this, 'ConsoleUrl', {
      value: `${webConsole.url}/`,
      description: 'The officer console; sign in with a user of the pool, in the group of your role',
    });
    new CfnOutput(this, 'AlarmTopicArn', { value: alarmTopic.topicArn });
    new CfnOutput(this, 'ImageBaseUrl', { value: images.baseUrl });
    new CfnOutput(this, 'PublicBaseUrl', {
      value: publicBaseUrl,
      description: 'Where the public reads are: alert pages, CAP, zones and feeds, through CloudFront',
    });
    new CfnOutput(this, 'FeedUrl', {
      value: `${publicBaseUrl}/v1/feed.atom`,
      description: 'The CAP index feed (Atom) for media and aggregators; feed.rss and feed.json beside it',
    });
    new CfnOutput(this, 'SecretsPrefix', {
      value: secretsPrefix,
      description: `Fill in the secrets ${SECRET_CHANNELS.map((c) => secretsPrefix + c).join(', ')}`,
    });
    new CfnOutput(this, 'SesConfigurationSet', { value: email.configurationSet.configurationSetName });
    new CfnOutput(this, 'InboundSmsTopicArn', {
      value: inboundSms.topic.topicArn,
      description:
        "Set this topic as the two-way SMS channel of the agency's phone number in AWS End User Messaging SMS (the number is bought and registered outside this stack); residents' texts then reach POST /v1/inbound/sms",
    });
    new CfnOutput(this, 'PiiKeyArn', {
      value: piiKey.key.keyArn,
      description:
        "The KMS key that protects subscribers' addresses; kept when the stack is deleted, since without it they cannot be read",
    });
    new CfnOutput(this, 'SmsSettingsCommand', {
      description: 'Run once if the stack does not manage the SMS settings (-c manageSmsSettings=false)',
      value: `aws sns set-sms-attributes --attributes ${Object.entries(smsStatusLogs.attributes)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`,
    });
  }

  /**
   * A receipt-callback function. Its events arrive by asynchronous invocation (CloudWatch Logs, SNS), which
   * Lambda retries twice; an event that still fails lands in a queue of its own and alarms, so a lost
   * confirmation is visible and can be replayed rather than leaving a receipt at `sent` unnoticed.
   */
  private callbackFunction(
    id: string,
    props: {
      description: string;
      entry: string;
      serviceName: string;
      environment: Record<string, string>;
      table: TableV2;
      alarmTopic: Topic;
    },
  ): HeraldFunction {
    const failures = new Queue(this, `${id}Failures`, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    NagSuppressions.addResourceSuppressions(failures, [
      {
        id: 'AwsSolutions-SQS3',
        reason: `This queue is the failure destination of ${props.serviceName}; it is a dead-letter queue itself, and it alarms.`,
      },
    ]);
    const fn = new HeraldFunction(this, id, {
      description: props.description,
      entry: entryPath(props.entry),
      serviceName: props.serviceName,
      timeout: Duration.seconds(30),
      environment: props.environment,
      retryAttempts: 2,
      // SNS retries delivery for a while; past six hours a delivery report is history, kept in the failure queue.
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(failures),
    })
      // findByProviderMessageId (Query on GSI1) and confirm (GetItem, then a conditional UpdateItem).
      .bindTable(props.table, ['Query', 'GetItem', 'UpdateItem']);
    alarmWhenNotEmpty(this, `${id}FailuresAlarm`, {
      queue: failures,
      description: `Herald ${props.serviceName}: a delivery report could not be applied to its receipt after retries; it waits in the failure queue.`,
      topic: props.alarmTopic,
    });
    return fn;
  }
}
