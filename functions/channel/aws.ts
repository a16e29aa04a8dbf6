/**
 * How a channel function is composed on AWS: only what delivering needs (the table, the queues, the configuration,
 * the zones), created once per container. What only some channels need is handed in by their entry
 * (functions/channels/<name>/entry.ts): the secret store (./aws-secrets.ts) by the channels whose credentials are a
 * secret, the subscribers and the address cipher (./aws-subscribers.ts) by the subscriber channels, the image store
 * by Instagram. So a channel's bundle holds no AWS client it never calls; the other functions compose from
 * functions/shared/aws.ts.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Channel } from '../../schemas/alert';
import { createDocumentClient } from '../adapters/dynamo/client';
import type { DynamoContext } from '../adapters/dynamo/context';
import { DynamoStore } from '../adapters/dynamo/store';
import { SandboxProvider } from '../adapters/providers/sandbox';
import { SqsQueuePort } from '../adapters/sqs/queue';
import { seededZones, type ZoneCatalog } from '../core/zones';
import type { ChannelProvider } from '../ports';
import { systemClock } from '../ports';
import { queueUrlsFromEnv, requiredEnv } from '../shared/aws-env';
import { ENV, type HeraldConfig, loadConfig } from '../shared/config';
import { newId } from '../shared/ids';
import { logger } from '../shared/logger';

export interface ChannelServices {
  /** The table, for the adapters an entry adds (subscribers, the address cipher). */
  table: DynamoContext;
  store: DynamoStore;
  zones: ZoneCatalog;
  queue: SqsQueuePort;
  config: HeraldConfig;
  clock: typeof systemClock;
  logger: typeof logger;
  newId: () => string;
}

let services: ChannelServices | undefined;

export function channelServices(): ChannelServices {
  if (services) return services;
  const urls = queueUrlsFromEnv();
  const table = { client: createDocumentClient({}), tableName: requiredEnv(ENV.tableName) };
  services = {
    table,
    store: new DynamoStore(table),
    zones: seededZones(),
    queue: new SqsQueuePort(new SQSClient({}), urls),
    config: loadConfig(),
    clock: systemClock,
    logger,
    newId,
  };
  return services;
}

/** Where Test and Exercise alerts go on AWS: the outbox in the table, never the public. */
export function channelSandbox(channel: Channel, s: ChannelServices): ChannelProvider {
  return new SandboxProvider({ channel, outbox: s.store, clock: s.clock, newId: s.newId });
}
