/**
 * How the handlers are composed on AWS: clients from the Lambda environment, created once per container.
 * The embedded mode composes the same handlers from local/ instead.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Channel } from '../../schemas/alert';
import { createDocumentClient } from '../adapters/dynamo/client';
import { DynamoStore } from '../adapters/dynamo/store';
import { S3ImageStore } from '../adapters/images/s3';
import { SandboxProvider } from '../adapters/providers/sandbox';
import { SecretsManagerSource } from '../adapters/secrets/secrets-manager';
import { SqsQueuePort } from '../adapters/sqs/queue';
import type { StoredVersion } from '../core/model';
import type { ChannelProvider, PublicImage, QueueName } from '../ports';
import { systemClock } from '../ports';
import { cardImageMaker, realProviderFactories } from './channel-providers';
import { ALL_QUEUES, ENV, type HeraldConfig, loadConfig, queueUrlEnv } from './config';
import { newId } from './ids';
import { logger } from './logger';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export interface AwsServices {
  store: DynamoStore;
  queue: SqsQueuePort;
  config: HeraldConfig;
  clock: typeof systemClock;
  logger: typeof logger;
  newId: () => string;
}

let services: AwsServices | undefined;

export function awsServices(): AwsServices {
  if (services) return services;
  const urls: Partial<Record<QueueName, string>> = {};
  for (const queue of ALL_QUEUES) {
    const url = process.env[queueUrlEnv(queue)];
    if (url) urls[queue] = url;
  }
  services = {
    store: new DynamoStore({ client: createDocumentClient({}), tableName: required(ENV.tableName) }),
    queue: new SqsQueuePort(new SQSClient({}), urls),
    config: loadConfig(),
    clock: systemClock,
    logger,
    newId,
  };
  return services;
}

export interface AwsChannelProviders {
  provider: ChannelProvider;
  /** Where Test and Exercise alerts go: the outbox in the table, never the public. */
  sandbox: ChannelProvider;
  cardImage?: ((version: StoredVersion) => Promise<PublicImage>) | undefined;
}

/**
 * A channel function's providers. The real provider is used whether or not its secret is filled in yet: an
 * agency that has not configured a channel sees its deliveries fail with that reason, never a sandbox `sent`.
 */
export async function awsChannelProviders(channel: Channel): Promise<AwsChannelProviders> {
  const s = awsServices();
  const secrets = new SecretsManagerSource({
    client: new SecretsManagerClient({}),
    prefix: required(ENV.secretsPrefix),
  });
  const create = realProviderFactories({
    logger,
    env: process.env,
    awsAccess: 'role',
    allowLoopbackWebhooks: false,
  })[channel];
  const cardImage =
    channel === 'instagram'
      ? cardImageMaker(
          new S3ImageStore({
            client: new S3Client({}),
            bucket: required(ENV.imageBucket),
            publicBaseUrl: required(ENV.imageBaseUrl),
          }),
          s.config.agencyName,
        )
      : undefined;
  return {
    provider: await create(secrets),
    sandbox: new SandboxProvider({ channel, outbox: s.store, clock: s.clock, newId: s.newId }),
    ...(cardImage ? { cardImage } : {}),
  };
}
