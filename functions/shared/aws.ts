/**
 * How the handlers are composed on AWS: clients from the Lambda environment, created once per container.
 * The embedded mode composes the same handlers from local/ instead.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Channel } from '../../schemas/alert';
import { createDocumentClient } from '../adapters/dynamo/client';
import { DynamoStore } from '../adapters/dynamo/store';
import { SandboxProvider } from '../adapters/providers/sandbox';
import { SqsQueuePort } from '../adapters/sqs/queue';
import type { ChannelProvider, QueueName } from '../ports';
import { systemClock } from '../ports';
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

/** Real clients arrive with the channel providers; until a channel has one, it posts to the sandbox outbox. */
export function awsProviders(channel: Channel): { provider: ChannelProvider; sandbox: ChannelProvider } {
  const s = awsServices();
  const sandbox = new SandboxProvider({ channel, outbox: s.store, clock: s.clock, newId: s.newId });
  return { provider: sandbox, sandbox };
}
