/**
 * Lambda entry point of the X replies poller, run every two minutes by an EventBridge schedule (lib/replies.ts),
 * and the one composition both runtimes use: `composeReplyPoller` is what the embedded mode calls too, with its own
 * store, secrets and timer.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../adapters/dynamo/client';
import type { DynamoContext } from '../adapters/dynamo/context';
import { DynamoReplyPollStore } from '../adapters/dynamo/reply-poll-store';
import { createXReplySource } from '../adapters/providers/x-replies';
import { tipIntakeFor } from '../api/tips';
import type { AlertStore, BulkStore, Clock, SecretSource, TipIntake } from '../ports';
import { systemClock } from '../ports';
import { awsSecrets, awsServices } from '../shared/aws';
import { ENV } from '../shared/config';
import { type LoggerLike, logger } from '../shared/logger';
import { replyPollConfigFrom } from './config';
import { createReplyPoller, type PollOutcome, type ReplyPollConfig, type ReplyPoller } from './poller';

export interface ReplyPollerComposition {
  /** Alerts and receipts: where the live posts are found. */
  store: Pick<AlertStore, 'listAlerts'> & Pick<BulkStore, 'listReceiptsPage'>;
  /** The table the poller keeps its cursors in (the same table). */
  table: DynamoContext;
  /** Where the `x` secret is read (the credentials the X provider posts with). */
  secrets: SecretSource;
  intake: TipIntake;
  /** The X API's origin; a test's or the embedded mode's fake when set. */
  xBaseUrl?: string | undefined;
  clock?: Clock | undefined;
  logger?: LoggerLike | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Settings over those the environment gives (tests: smaller pages). */
  config?: Partial<ReplyPollConfig> | undefined;
}

/** The X replies poller over the given adapters; call `pollOnce()` on a schedule. */
export function composeReplyPoller(c: ReplyPollerComposition): ReplyPoller {
  const x = createXReplySource({ secrets: c.secrets, baseUrl: c.xBaseUrl, clock: c.clock });
  return createReplyPoller({
    store: c.store,
    polls: new DynamoReplyPollStore(c.table),
    // No X credentials: nothing is read or searched (the embedded mode's sandboxed X has no replies to find).
    source: async () => {
      const unavailable = await x.unavailable();
      return unavailable ? { unavailable } : { ready: x };
    },
    intake: c.intake,
    clock: c.clock ?? systemClock,
    logger: c.logger ?? logger,
    config: { ...replyPollConfigFrom(c.env ?? process.env), ...c.config },
  });
}

/** Leaves this much of the invocation's time for the last request to finish and its cursor to be saved. */
const DEADLINE_MARGIN_MS = 15_000;

export const createReplyPollerHandler = (poller: ReplyPoller) =>
  middy<unknown, PollOutcome, Error, Context>(async (_event: unknown, context: Context) =>
    poller.pollOnce({ deadline: Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS }),
  ).use(injectLambdaContext(logger, { resetKeys: true }));

let wired: ReturnType<typeof createReplyPollerHandler> | undefined;

export const handler = (event: unknown, context: Context) => {
  wired ??= createReplyPollerHandler(
    composeReplyPoller({
      store: awsServices().store,
      table: { client: createDocumentClient({}), tableName: process.env[ENV.tableName] ?? '' },
      secrets: awsSecrets(),
      intake: tipIntakeFor(awsServices()),
    }),
  );
  return wired(event, context);
};
