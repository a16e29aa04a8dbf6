/**
 * How the handlers are composed on AWS: clients from the Lambda environment, created once per container.
 * The embedded mode composes the same handlers from local/ instead.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Channel } from '../../schemas/alert';
import { createDocumentClient } from '../adapters/dynamo/client';
import { DynamoStore } from '../adapters/dynamo/store';
import { DynamoSubscriberStore } from '../adapters/dynamo/subscriber-store';
import { KmsEnvelopeCipher } from '../adapters/pii/kms';
import { SandboxProvider } from '../adapters/providers/sandbox';
import { EventBridgePublishTimer } from '../adapters/scheduler/eventbridge-timer';
import { SecretsManagerSource } from '../adapters/secrets/secrets-manager';
import { SqsQueuePort } from '../adapters/sqs/queue';
import { seededZones, type ZoneCatalog } from '../core/zones';
import type { ChannelProvider, PiiCipher, PublishTimer } from '../ports';
import { systemClock } from '../ports';
import type { AuditHeadStore } from '../ports/audit';
import { queueUrlsFromEnv, requiredEnv } from './aws-env';
import { ENV, type HeraldConfig, loadConfig } from './config';
import { newId } from './ids';
import { logger } from './logger';

export interface AwsServices {
  store: DynamoStore;
  /** Residents and media outlets; their addresses encrypted with `pii`. */
  subscribers: DynamoSubscriberStore;
  pii: PiiCipher;
  zones: ZoneCatalog;
  queue: SqsQueuePort;
  config: HeraldConfig;
  clock: typeof systemClock;
  logger: typeof logger;
  newId: () => string;
  /** The api's wake-ups for scheduled versions (EventBridge Scheduler); undefined where the stack sets no group. */
  publishTimer?: PublishTimer | undefined;
}

let services: AwsServices | undefined;

/**
 * One-time schedules for scheduled versions, where the stack configured them (the api function: ENV.scheduleGroup and
 * the three ARNs beside it). A group without the ARNs is a broken deployment, said at once rather than at the first arm.
 */
function awsPublishTimer(): PublishTimer | undefined {
  const groupName = process.env[ENV.scheduleGroup];
  if (!groupName) return undefined;
  return new EventBridgePublishTimer({
    // No call is made until a version is scheduled; the SDK's standard retries take throttling and 5xx answers.
    client: new SchedulerClient({}),
    groupName,
    dispatchQueueArn: requiredEnv(ENV.dispatchQueueArn),
    roleArn: requiredEnv(ENV.schedulerRoleArn),
    deadLetterQueueArn: requiredEnv(ENV.schedulerDeadLetterQueueArn),
    clock: systemClock,
  });
}

/**
 * Where the audit chains' heads are locked outside the table: set by the entry of each function that appends audit
 * entries (shared/aws-audit-heads.ts), so the S3 client is bundled only into those, not into every function.
 */
let auditHeads: (() => AuditHeadStore | undefined) | undefined;
export function useAuditHeads(make: () => AuditHeadStore | undefined): void {
  auditHeads = make;
}

export function awsServices(): AwsServices {
  if (services) return services;
  const urls = queueUrlsFromEnv();
  const table = { client: createDocumentClient({}), tableName: requiredEnv(ENV.tableName) };
  const store = new DynamoStore({ ...table, auditHeads: auditHeads?.() });
  services = {
    store,
    // The same audit log as the store's: one head store, one S3 client.
    subscribers: new DynamoSubscriberStore(table, store.auditLog),
    // Created on every function, used only by those that read or write addresses: no KMS call happens until then.
    pii: new KmsEnvelopeCipher({ kms: new KMSClient({}), keyId: process.env[ENV.piiKeyId] ?? '', table }),
    zones: seededZones(),
    queue: new SqsQueuePort(new SQSClient({}), urls),
    config: loadConfig(),
    clock: systemClock,
    logger,
    newId,
    publishTimer: awsPublishTimer(),
  };
  return services;
}

let secrets: SecretsManagerSource | undefined;

/** Provider credentials from Secrets Manager, cached per container (re-read after a 401 by the providers). */
export function awsSecrets(): SecretsManagerSource {
  secrets ??= new SecretsManagerSource({
    client: new SecretsManagerClient({}),
    prefix: requiredEnv(ENV.secretsPrefix),
  });
  return secrets;
}

/** Where Test and Exercise alerts go on AWS: the outbox in the table, never the public. */
export function awsSandbox(channel: Channel): ChannelProvider {
  const s = awsServices();
  return new SandboxProvider({ channel, outbox: s.store, clock: s.clock, newId: s.newId });
}
