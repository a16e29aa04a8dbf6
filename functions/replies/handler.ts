/**
 * Lambda entry point of the replies function, run every two minutes by an EventBridge schedule (lib/replies.ts): it
 * first posts the officers' public answers queued since the last run (`composeAnswerPoster`, ./answers.ts), then polls
 * every network whose replies must be read, side by side, X, Mastodon, Bluesky, Threads and Telegram
 * (`composeRepliesPollers`, ./compose.ts). The embedded mode composes the same two, each on a timer of its own.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Channel } from '../../schemas/alert';
import { DynamoAnswerAttempts } from '../adapters/dynamo/answer-attempts';
import { createDocumentClient } from '../adapters/dynamo/client';
import type { DynamoContext } from '../adapters/dynamo/context';
import { createFacebookReplyPoster, createInstagramReplyPoster } from '../adapters/providers/meta-answers';
import { sandboxReplyPoster } from '../adapters/providers/sandbox-answers';
import { tipIntakeFor, tipStoreOf } from '../api/tips';
import { REQUIRED_KEYS as FACEBOOK_KEYS } from '../channels/facebook/provider';
import { REQUIRED_KEYS as INSTAGRAM_KEYS } from '../channels/instagram/provider';
import type { ProviderBaseUrls } from '../channels/provider-options';
import { createXReplyPoster } from '../channels/x/answers';
import { REQUIRED_KEYS as X_KEYS } from '../channels/x/provider';
import type { ChannelProvider, Clock, SecretSource } from '../ports';
import { systemClock } from '../ports';
import { awsSecrets, awsServices } from '../shared/aws';
import { lockAuditHeadsInS3 } from '../shared/aws-audit-heads';
import { ENV } from '../shared/config';
import { type LoggerLike, logger } from '../shared/logger';
import {
  type AnswerChannel,
  type AnswerPostConfig,
  type AnswerRunOutcome,
  type PosterChoice,
  type PublicReplyPoster,
  postQueuedAnswers,
} from './answers';
import {
  composeRepliesPollers,
  NETWORK_ANSWER_POSTERS,
  type RepliesPoller,
  type RepliesRunOutcome,
} from './compose';

export {
  composeRepliesPollers,
  composeReplyPoller,
  type RepliesPoller,
  type ReplyPollerComposition,
} from './compose';

export interface AnswerPosterComposition {
  /** The table's store, which keeps the tips and their queue of public answers (DynamoStore's `tips`). */
  store: object;
  /** The same table: the claims on queued answers are kept on their queue items. */
  table: DynamoContext;
  /** The social channels' secrets the providers post with (x, facebook, instagram and issue 15's four). */
  secrets: SecretSource;
  /**
   * Embedded mode: each channel's sandbox provider, which a channel without (complete) credentials answers through,
   * as its alerts go. Absent on AWS, where such a channel's answers fail, saying it is not configured.
   */
  sandbox?: ((channel: AnswerChannel) => ChannelProvider) | undefined;
  /** The agency's account per channel (HeraldConfig.socialAccounts): the sandbox outbox's recipient. */
  accounts?: Partial<Record<Channel, string>> | undefined;
  /** Provider origins: a test's or the embedded mode's fakes when set. */
  baseUrls?: ProviderBaseUrls | undefined;
  clock?: Clock | undefined;
  logger?: LoggerLike | undefined;
  config?: Partial<AnswerPostConfig> | undefined;
}

export interface AnswerPoster {
  /** One bounded run (functions/replies/answers.ts); no answer is started past `deadline` (epoch ms). */
  postOnce(options?: { deadline?: number | undefined }): Promise<AnswerRunOutcome>;
}

/** The channels whose public answers have a real poster, and the keys their secret must hold for it. */
const ANSWER_SECRET_KEYS: Partial<Record<AnswerChannel, readonly string[]>> = {
  x: X_KEYS,
  facebook: FACEBOOK_KEYS,
  instagram: INSTAGRAM_KEYS,
  ...Object.fromEntries(Object.entries(NETWORK_ANSWER_POSTERS).map(([channel, n]) => [channel, n.keys])),
};

/**
 * The public-answer poster over the given adapters; call `postOnce()` on a schedule. A channel posts for real when its
 * secret holds every key its provider needs (the rule the embedded mode picks providers by), else through the
 * sandbox when there is one, else its answers fail saying why. Rate-limit holds last as long as the poster.
 */
export function composeAnswerPoster(c: AnswerPosterComposition): AnswerPoster {
  // What socialAnswersFor hands the helpers: the tip store is the queue too.
  const tips = tipStoreOf(c.store);
  const clock = c.clock ?? systemClock;
  const log = c.logger ?? logger;
  const real: Partial<Record<AnswerChannel, PublicReplyPoster>> = {
    x: createXReplyPoster({ secrets: c.secrets, baseUrl: c.baseUrls?.x, clock }),
    facebook: createFacebookReplyPoster({ secrets: c.secrets, baseUrl: c.baseUrls?.graph, logger: log }),
    instagram: createInstagramReplyPoster({ secrets: c.secrets, baseUrl: c.baseUrls?.graph, logger: log }),
    ...Object.fromEntries(
      Object.entries(NETWORK_ANSWER_POSTERS).map(([channel, n]) => [
        channel,
        n.make({
          secrets: c.secrets,
          baseUrl: n.baseUrl ? c.baseUrls?.[n.baseUrl] : undefined,
          clock,
          logger: log,
        }),
      ]),
    ),
  };
  const posterFor = async (channel: AnswerChannel): Promise<PosterChoice> => {
    const poster = real[channel];
    const keys = ANSWER_SECRET_KEYS[channel];
    // Said rather than sandboxed: an officer must not read `sent` for an answer no network could have taken.
    if (!poster || !keys)
      return { unavailable: `public answers on ${channel} are not supported yet: the answer was not posted` };
    let secret: Record<string, string> | undefined;
    try {
      secret = await c.secrets.get(channel);
    } catch {
      // The secret store's error may quote what it read; the answers stay queued for the next run.
      return { unavailable: `could not read the ${channel} credentials`, transient: true };
    }
    const present = (key: string) => typeof secret?.[key] === 'string' && secret[key].trim() !== '';
    const missing = keys.filter((key) => !present(key));
    if (missing.length === 0) return { poster };
    if (c.sandbox)
      return { poster: sandboxReplyPoster(channel, c.sandbox(channel), c.accounts?.[channel] ?? channel) };
    const why =
      !secret || !Object.keys(secret).some(present)
        ? `no credentials for ${channel}`
        : `incomplete credentials for ${channel}: missing ${missing.join(', ')}`;
    return { unavailable: `${channel} is not configured (${why}): the answer was not posted` };
  };
  const holds = new Map<AnswerChannel, number>();
  return {
    postOnce: (options = {}) =>
      postQueuedAnswers(
        {
          queue: tips,
          tips,
          attempts: new DynamoAnswerAttempts(c.table),
          posterFor,
          clock,
          logger: log,
          config: c.config,
          holds,
        },
        options,
      ),
  };
}

/** Leaves this much of the invocation's time for the last request to finish and its cursor to be saved. */
const DEADLINE_MARGIN_MS = 15_000;
/** The most of a run the answers may take before the poll: each is one request, rarely more than a second. */
const ANSWERS_SHARE_MS = 25_000;

export const createReplyPollerHandler = (poller: RepliesPoller, answers?: AnswerPoster) =>
  middy<unknown, RepliesRunOutcome & { answers?: AnswerRunOutcome }, Error, Context>(
    async (_event: unknown, context: Context) => {
      const deadline = Date.now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS;
      // Answers first: an officer is waiting for each, and the poll resumes from its saved cursors in what is left.
      const posted = answers
        ? await answers.postOnce({ deadline: Math.min(deadline, Date.now() + ANSWERS_SHARE_MS) }).then(
            (outcome) => ({ outcome }),
            (error: unknown) => ({ error }),
          )
        : undefined;
      const polled = await poller.pollOnce({ deadline });
      // A failed answer run still fails the invocation (the alarm counts failed runs), once the poll had its turn.
      if (posted && 'error' in posted) throw posted.error;
      return { ...polled, ...(posted ? { answers: posted.outcome } : {}) };
    },
  ).use(injectLambdaContext(logger, { resetKeys: true }));

// The tips it takes in and the answers it posts are audited: their chains' heads go to S3 as well.
lockAuditHeadsInS3();

let wired: ReturnType<typeof createReplyPollerHandler> | undefined;

export const handler = (event: unknown, context: Context) => {
  if (!wired) {
    const table = { client: createDocumentClient({}), tableName: process.env[ENV.tableName] ?? '' };
    wired = createReplyPollerHandler(
      composeRepliesPollers({
        store: awsServices().store,
        table,
        secrets: awsSecrets(),
        intake: tipIntakeFor(awsServices()),
      }),
      // No sandbox on AWS: a channel without credentials fails its answers, saying so (as its alert posts fail).
      composeAnswerPoster({ store: awsServices().store, table, secrets: awsSecrets() }),
    );
  }
  return wired(event, context);
};
