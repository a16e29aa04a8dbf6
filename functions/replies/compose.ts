/**
 * The replies function's composition, shared by the Lambda (./handler.ts) and the embedded mode (local/runtime.ts):
 * one poller per network whose replies must be read, all run side by side in one pass within the caller's deadline.
 *
 *   x          conversation search (./poller.ts)
 *   mastodon   per post (./thread-poller.ts over ./network-sources.ts)
 *   bluesky    per thread, through the public AppView
 *   threads    per post
 *   telegram   the bot's update queue (./telegram-poller.ts)
 *
 * Facebook and Instagram are not here: their comments arrive by webhook (functions/api/meta-webhook.ts). A network
 * without credentials is skipped at no cost, each run (so credentials added later are picked up without a restart).
 * Adding a network is one entry in REPLY_NETWORKS (and its secret in lib/replies.ts's list, which is derived from it).
 */
import type { Channel } from '../../schemas/alert';
import type { DynamoContext } from '../adapters/dynamo/context';
import { DynamoReplyPollStore } from '../adapters/dynamo/reply-poll-store';
import { BLUESKY_SECRET_KEYS } from '../channels/bluesky/client';
import { MASTODON_SECRET_KEYS } from '../channels/mastodon/client';
import type { ProviderBaseUrls } from '../channels/provider-options';
import { TELEGRAM_SECRET_KEYS } from '../channels/telegram/client';
import { createTelegramReplies } from '../channels/telegram/replies';
import { THREADS_SECRET_KEYS } from '../channels/threads/client';
import { createXReplySource } from '../channels/x/replies';
import type { AlertStore, BulkStore, Clock, SecretSource, TipIntake } from '../ports';
import { systemClock } from '../ports';
import { type LoggerLike, logger } from '../shared/logger';
import type { AnswerChannel, PublicReplyPoster } from './answers';
import { replyPollConfigFrom } from './config';
import {
  blueskyThreadSource,
  mastodonThreadSource,
  missingCredentials,
  type SourceOptions,
  threadsThreadSource,
} from './network-sources';
import { createReplyPoller, type PollOutcome, type ReplyPollConfig, type ReplyPoller } from './poller';
import {
  type AnswerPosterOptions,
  createBlueskyAnswerPoster,
  createMastodonAnswerPoster,
  createTelegramAnswerPoster,
  createThreadsAnswerPoster,
} from './social-answers';
import { createTelegramPoller, type TelegramPollConfig } from './telegram-poller';
import { createThreadPoller, type ThreadPollConfig, type ThreadSource } from './thread-poller';

export interface ReplyPollerComposition {
  /** Alerts and receipts: where the live posts are found. */
  store: Pick<AlertStore, 'listAlerts'> & Pick<BulkStore, 'listReceiptsPage'>;
  /** The table the pollers keep their cursors in (the same table). */
  table: DynamoContext;
  /** Where each network's secret is read (the credentials its provider posts with). */
  secrets: SecretSource;
  intake: TipIntake;
  /** The X API's origin; a test's or the embedded mode's fake when set. */
  xBaseUrl?: string | undefined;
  /** The other networks' origins (`mastodon`, `bluesky`, `threads`, `telegram`); fakes when set. */
  baseUrls?: ProviderBaseUrls | undefined;
  clock?: Clock | undefined;
  logger?: LoggerLike | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /** Settings over those the environment gives (tests: smaller pages). */
  config?: Partial<ReplyPollConfig> | undefined;
  /** The per-post pollers' settings over the defaults and the environment's watch hours. */
  threadConfig?: Partial<ThreadPollConfig> | undefined;
  telegramConfig?: Partial<TelegramPollConfig> | undefined;
}

/** What every poller answers: one pass, no request started past `deadline` (epoch ms). */
export interface ChannelPoller {
  pollOnce(options?: { deadline?: number | undefined }): Promise<PollOutcome>;
}

/** The X replies poller over the given adapters; call `pollOnce()` on a schedule. */
export function composeReplyPoller(c: ReplyPollerComposition): ReplyPoller {
  const x = createXReplySource({ secrets: c.secrets, baseUrl: c.xBaseUrl ?? c.baseUrls?.x, clock: c.clock });
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

/** A per-post network: its secret's keys and its source. */
function perPost(
  channel: Channel,
  keys: readonly string[] | undefined,
  make: (options: SourceOptions) => ThreadSource,
): (c: ReplyPollerComposition) => ChannelPoller {
  return (c) => {
    const source = make({
      secrets: c.secrets,
      baseUrl: c.baseUrls?.[channel as keyof ProviderBaseUrls],
      clock: c.clock,
      logger: c.logger ?? logger,
    });
    const env = replyPollConfigFrom(c.env ?? process.env);
    return createThreadPoller({
      channel,
      store: c.store,
      polls: new DynamoReplyPollStore(c.table),
      source: async () => {
        const unavailable = keys && (await missingCredentials(c.secrets, channel, keys));
        return unavailable ? { unavailable } : { ready: source };
      },
      intake: c.intake,
      clock: c.clock ?? systemClock,
      logger: c.logger ?? logger,
      config: { watchHours: env.watchHours, ...c.threadConfig },
    });
  };
}

/**
 * Every network whose replies are polled, and how its poller is made. Bluesky's reads need no session (the public
 * AppView), but are made only for an agency that posts there: its credentials say so.
 */
export const REPLY_NETWORKS: Partial<Record<Channel, (c: ReplyPollerComposition) => ChannelPoller>> = {
  x: composeReplyPoller,
  mastodon: perPost('mastodon', MASTODON_SECRET_KEYS, mastodonThreadSource),
  bluesky: perPost('bluesky', BLUESKY_SECRET_KEYS, blueskyThreadSource),
  threads: perPost('threads', THREADS_SECRET_KEYS, threadsThreadSource),
  telegram: (c) => {
    const reader = createTelegramReplies({
      secrets: c.secrets,
      ...(c.baseUrls?.telegram ? { baseUrl: c.baseUrls.telegram } : {}),
      logger: c.logger ?? logger,
      ...(c.clock ? { clock: c.clock } : {}),
    });
    return createTelegramPoller({
      polls: new DynamoReplyPollStore(c.table),
      source: async () => {
        const unavailable = await missingCredentials(c.secrets, 'telegram', TELEGRAM_SECRET_KEYS);
        return unavailable ? { unavailable } : { ready: reader };
      },
      intake: c.intake,
      clock: c.clock ?? systemClock,
      logger: c.logger ?? logger,
      config: c.telegramConfig,
    });
  },
};

/** The channels the replies function reads secrets for: those it polls, and those it answers on. */
export const REPLY_SECRET_CHANNELS: readonly Channel[] = [
  ...new Set<Channel>([...(Object.keys(REPLY_NETWORKS) as Channel[]), 'facebook', 'instagram']),
];

export interface RepliesRunOutcome {
  channels: PollOutcome[];
}

export interface RepliesPoller {
  /** One pass of every network side by side; throws the first failure once every network had its turn. */
  pollOnce(options?: { deadline?: number | undefined }): Promise<RepliesRunOutcome>;
}

/** Every network's poller over the given adapters (a network without credentials reads nothing). */
export function composeRepliesPollers(c: ReplyPollerComposition): RepliesPoller {
  const pollers = Object.values(REPLY_NETWORKS).map((make) => make(c));
  return {
    async pollOnce(options = {}) {
      const settled = await Promise.allSettled(pollers.map((p) => p.pollOnce(options)));
      const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
      if (failed) throw failed.reason;
      return { channels: settled.map((s) => (s as PromiseFulfilledResult<PollOutcome>).value) };
    },
  };
}

/** The four networks' public-answer posters (./social-answers.ts), with the secret keys each client needs. */
export const NETWORK_ANSWER_POSTERS: Partial<
  Record<
    AnswerChannel,
    {
      keys: readonly string[];
      make(options: AnswerPosterOptions): PublicReplyPoster;
      baseUrl?: keyof ProviderBaseUrls;
    }
  >
> = {
  mastodon: { keys: MASTODON_SECRET_KEYS, make: createMastodonAnswerPoster, baseUrl: 'mastodon' },
  bluesky: { keys: BLUESKY_SECRET_KEYS, make: createBlueskyAnswerPoster, baseUrl: 'bluesky' },
  threads: { keys: THREADS_SECRET_KEYS, make: createThreadsAnswerPoster, baseUrl: 'threads' },
  telegram: { keys: TELEGRAM_SECRET_KEYS, make: createTelegramAnswerPoster, baseUrl: 'telegram' },
};
