/**
 * Lambda entry point of the engagement poller, run every ten minutes by an EventBridge schedule (lib/engagement.ts),
 * and the one composition both runtimes use: `composeEngagementPoller` is what the embedded mode calls too, with its
 * own store, secrets and timer. In the embedded mode a sandboxed channel has no credentials, so nothing is read.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/client';
import type { DynamoContext } from '../adapters/dynamo/context';
import { DynamoEngagementStore } from '../adapters/dynamo/engagement-store';
import { BLUESKY_SECRET_KEYS, BLUESKY_SECRET_NAME } from '../channels/bluesky/client';
import { createBlueskyMetricsReader } from '../channels/bluesky/metrics';
import { createFacebookMetricsReader } from '../channels/facebook/metrics';
import { createInstagramMetricsReader } from '../channels/instagram/metrics';
import { createMastodonMetricsReader } from '../channels/mastodon/metrics';
import type { ProviderBaseUrls } from '../channels/provider-options';
import { createTelegramMetricsReader } from '../channels/telegram/metrics';
import { createThreadsMetricsReader } from '../channels/threads/metrics';
import { createXMetricsReader } from '../channels/x/metrics';
import type { AlertStore, BulkStore, Clock, SecretSource } from '../ports';
import { systemClock } from '../ports';
import { awsSecrets, awsServices } from '../shared/aws';
import { ENV } from '../shared/config';
import { type LoggerLike, logger } from '../shared/logger';
import {
  createEngagementPoller,
  DEFAULT_ENGAGEMENT_POLL_CONFIG,
  type EngagementPollConfig,
  type EngagementPoller,
  type EngagementRunOutcome,
} from './engagement-poller';
import type { MetricsReader } from './model';

export const ENGAGEMENT_ENV = {
  /** Requests to each network per run (default 20; README "Social engagement" has the arithmetic). */
  requestsPerRun: 'HERALD_ENGAGEMENT_REQUESTS_PER_RUN',
} as const;

export function engagementPollConfigFrom(env: NodeJS.ProcessEnv = process.env): EngagementPollConfig {
  const raw = env[ENGAGEMENT_ENV.requestsPerRun];
  if (raw === undefined || raw === '') return DEFAULT_ENGAGEMENT_POLL_CONFIG;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 200)
    throw new Error(
      `${ENGAGEMENT_ENV.requestsPerRun} must be a whole number from 1 to 200, got ${JSON.stringify(raw)}`,
    );
  return { ...DEFAULT_ENGAGEMENT_POLL_CONFIG, requestsPerRun: n };
}

export interface EngagementPollerComposition {
  /** Alerts and receipts: where the posts are found. */
  store: Pick<AlertStore, 'listAlerts'> & Pick<BulkStore, 'listReceiptsPage'>;
  /** The table the snapshots are kept in (the same table). */
  table: DynamoContext;
  /** The channels' secrets, read only. */
  secrets: SecretSource;
  /** Provider origins: a test's or the embedded mode's fakes when set. */
  baseUrls?: ProviderBaseUrls | undefined;
  clock?: Clock | undefined;
  logger?: LoggerLike | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  config?: Partial<EngagementPollConfig> | undefined;
}

/** Every network's metrics reader, over the given secrets and origins. */
export function metricsReaders(c: Pick<EngagementPollerComposition, 'secrets' | 'baseUrls' | 'clock'>) {
  const { secrets, baseUrls, clock } = c;
  const readers: MetricsReader[] = [
    createXMetricsReader({ secrets, baseUrl: baseUrls?.x, clock }),
    createFacebookMetricsReader({ secrets, baseUrl: baseUrls?.graph, clock }),
    createInstagramMetricsReader({ secrets, baseUrl: baseUrls?.graph, clock }),
    createMastodonMetricsReader({ secrets, baseUrl: baseUrls?.mastodon, clock }),
    createBlueskyMetricsReader({
      baseUrl: baseUrls?.bluesky,
      clock,
      // Read from the public AppView without a session: the secret only says the agency posts there.
      configured: async () => {
        const secret = await secrets.get(BLUESKY_SECRET_NAME).catch(() => undefined);
        return BLUESKY_SECRET_KEYS.every((key) => Boolean(secret?.[key]));
      },
    }),
    createThreadsMetricsReader({ secrets, baseUrl: baseUrls?.threads, clock }),
    createTelegramMetricsReader(),
  ];
  return readers;
}

/** The engagement poller over the given adapters; call `pollOnce()` on a schedule. */
export function composeEngagementPoller(c: EngagementPollerComposition): EngagementPoller {
  return createEngagementPoller({
    store: c.store,
    engagement: new DynamoEngagementStore(c.table),
    readers: metricsReaders(c),
    clock: c.clock ?? systemClock,
    logger: c.logger ?? logger,
    config: { ...engagementPollConfigFrom(c.env ?? process.env), ...c.config },
  });
}

/** Leaves this much of the invocation's time for the last request to finish and its snapshot to be written. */
const DEADLINE_MARGIN_MS = 15_000;

export const createEngagementHandler = (poller: EngagementPoller) =>
  middy<unknown, EngagementRunOutcome, Error, Context>(async (_event: unknown, context: Context) => {
    const deadline = Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
    const outcome = await poller.pollOnce({ deadline });
    // Every network had its turn; a failed one still fails the invocation, which the alarm counts.
    const failed = outcome.channels.filter((c) => c.stoppedBy === 'error').map((c) => c.channel);
    if (failed.length > 0) throw new Error(`engagement reads failed on ${failed.join(', ')}`);
    return outcome;
  }).use(injectLambdaContext(logger, { resetKeys: true }));

let wired: ReturnType<typeof createEngagementHandler> | undefined;

export const handler = (event: unknown, context: Context) => {
  wired ??= createEngagementHandler(
    composeEngagementPoller({
      store: awsServices().store,
      table: { client: createDocumentClient({}), tableName: process.env[ENV.tableName] ?? '' },
      secrets: awsSecrets(),
    }),
  );
  return wired(event, context);
};
