/**
 * The engagement poller: every ten minutes (an EventBridge schedule on AWS, lib/engagement.ts; a timer in the
 * embedded mode) it reads, from each network's metrics API, the likes, reposts, replies and views of the agency's
 * posts of the last 7 days, and keeps the newest snapshot of each post (functions/adapters/dynamo/engagement-store.ts)
 * for the impact route.
 *
 * Which posts: those the replies poller finds (findLivePosts, functions/replies/live-posts.ts: the alert listing,
 * newest first, and each alert's receipts on the channel, never a scan), over a 7-day window, and of every alert,
 * live or not: a cancelled or expired alert's posts go on being seen and shared, which is what is measured.
 *
 * When: on the decaying schedule of ./model.ts (every 10 minutes to 6 hours, hourly to 48 hours, every 6 hours to 7
 * days; 99 reads of a post in all), the most overdue first. A post older than 7 days is not read again.
 *
 * What a run costs is bounded per network, whatever the number of posts: at most `requestsPerRun` requests (20 by
 * default) to each network's API, each for as many posts as the API takes at once (X 100, Facebook 50, Bluesky 25;
 * Instagram, Threads and Mastodon one). The README ("Social engagement") has the arithmetic. A network whose limit is
 * spent (a 429, or its headers saying the window is nearly used up) is held until its reset, for every run; the
 * other networks go on. A network without credentials is not read at all, nor is Telegram (./telegram/metrics.ts).
 */
import type { Channel } from '../../schemas/alert';
import type { AlertStore, BulkStore, Clock } from '../ports';
import { findLivePosts, type LivePost } from '../replies/live-posts';
import type { LoggerLike } from '../shared/logger';
import {
  ENGAGEMENT_WINDOW_MS,
  type EngagementSnapshot,
  type EngagementStore,
  type MetricsReader,
  nextPollAt,
  RateLimitedError,
} from './model';

export interface EngagementPollConfig {
  /** Requests to each network per run (see the README's arithmetic). */
  requestsPerRun: number;
}

export const DEFAULT_ENGAGEMENT_POLL_CONFIG: EngagementPollConfig = { requestsPerRun: 20 };

type PostFinder = Pick<AlertStore, 'listAlerts'> & Pick<BulkStore, 'listReceiptsPage'>;

export interface EngagementPollerDeps {
  /** Alerts and receipts: where the posts are found. */
  store: PostFinder;
  engagement: EngagementStore;
  readers: readonly MetricsReader[];
  clock: Clock;
  logger: LoggerLike;
  config?: Partial<EngagementPollConfig> | undefined;
}

export interface ChannelPollOutcome {
  channel: Channel;
  /** Why nothing was read: no credentials, no metrics API, or the rate limit's hold. */
  skipped?: string | undefined;
  requests: number;
  /** Posts of the window, and of those the ones the schedule said were due. */
  posts: number;
  due: number;
  /** Snapshots written (read now, or found gone). */
  stored: number;
  stoppedBy?: 'budget' | 'rate-limit' | 'deadline' | 'error' | undefined;
  /** What failed, without any credential (the readers' messages carry none). */
  error?: string | undefined;
}

export interface EngagementRunOutcome {
  channels: ChannelPollOutcome[];
}

const HOUR = 3_600_000;
const WINDOW_HOURS = ENGAGEMENT_WINDOW_MS / HOUR;

export function createEngagementPoller(deps: EngagementPollerDeps) {
  const config = { ...DEFAULT_ENGAGEMENT_POLL_CONFIG, ...deps.config };
  let running: Promise<EngagementRunOutcome> | undefined;

  async function pollChannel(
    reader: MetricsReader,
    now: Date,
    snapshotsOf: (alertId: string) => Promise<EngagementSnapshot[]>,
    deadline: number | undefined,
  ): Promise<ChannelPollOutcome> {
    const channel = reader.channel;
    const outcome: ChannelPollOutcome = { channel, requests: 0, posts: 0, due: 0, stored: 0 };
    const unavailable = await reader.unavailable();
    if (unavailable) return { ...outcome, skipped: unavailable };
    const held = await deps.engagement.holdOf(channel);
    if (held && held > now.toISOString()) return { ...outcome, skipped: `rate limited until ${held}` };

    const hold = async (until: number) => {
      outcome.stoppedBy = 'rate-limit';
      const at = new Date(Math.max(until, now.getTime())).toISOString();
      await deps.engagement.hold(channel, at, now);
      deps.logger.warn('engagement reads paused by the rate limit', { channel, until: at });
    };

    try {
      // Whatever became of the alert: engagement is counted for a week after each post.
      const found = await findLivePosts(deps.store, {
        channel,
        includeEnded: true,
        now,
        watchHours: WINDOW_HOURS,
        searchWindowHours: WINDOW_HOURS,
      });
      const oldest = new Date(now.getTime() - ENGAGEMENT_WINDOW_MS).toISOString();
      const posts = new Map<string, LivePost>();
      for (const post of found)
        if (post.sentAt >= oldest && !posts.has(post.postId)) posts.set(post.postId, post);
      outcome.posts = posts.size;

      // ---- which are due, the most overdue first
      const due: { post: LivePost; known?: EngagementSnapshot | undefined; at: number }[] = [];
      for (const post of posts.values()) {
        const known = (await snapshotsOf(post.alertId)).find(
          (s) => s.channel === channel && s.postId === post.postId,
        );
        if (known?.gone) continue;
        const sentAt = Date.parse(known?.sentAt ?? post.sentAt);
        const polledAt = known?.polledAt ? Date.parse(known.polledAt) : undefined;
        const at = nextPollAt(sentAt, polledAt, now.getTime());
        if (at === undefined || at > now.getTime()) continue;
        if (reader.accepts && !(await reader.accepts(post.postId))) continue;
        due.push({ post, known, at });
      }
      due.sort((a, b) => a.at - b.at || a.post.postId.localeCompare(b.post.postId));
      outcome.due = due.length;

      // ---- read them, batch by batch, until the budget, the deadline or the rate limit says stop
      for (let i = 0; i < due.length; i += reader.batchSize) {
        if (deadline !== undefined && deps.clock.now().getTime() >= deadline) {
          outcome.stoppedBy = 'deadline';
          break;
        }
        if (outcome.requests >= config.requestsPerRun) {
          outcome.stoppedBy = 'budget';
          break;
        }
        const chunk = due.slice(i, i + reader.batchSize);
        outcome.requests += 1;
        const batch = await reader.read(chunk.map((d) => d.post.postId));
        const gone = new Set(batch.gone);
        for (const { post, known } of chunk) {
          // A post neither counted nor gone (X: not visible to the account) keeps its last counts until next time.
          const counts = batch.counts.get(post.postId) ?? known?.counts ?? {};
          await deps.engagement.put({
            alertId: post.alertId,
            channel,
            postId: post.postId,
            sentAt: known?.sentAt ?? post.sentAt,
            polledAt: now.toISOString(),
            counts,
            ...(gone.has(post.postId) ? { gone: true } : {}),
          });
          outcome.stored += 1;
        }
        if (batch.holdUntil !== undefined) {
          await hold(batch.holdUntil);
          break;
        }
      }
    } catch (error) {
      if (error instanceof RateLimitedError) await hold(error.resetAt);
      else {
        outcome.stoppedBy = 'error';
        outcome.error = error instanceof Error ? error.message : String(error);
        deps.logger.error('engagement read failed', { channel, error: outcome.error });
      }
    }
    return outcome;
  }

  async function run(deadline?: number): Promise<EngagementRunOutcome> {
    const now = deps.clock.now();
    // An alert's snapshots, read once per run whichever networks ask.
    const cache = new Map<string, Promise<EngagementSnapshot[]>>();
    const snapshotsOf = (alertId: string) => {
      let found = cache.get(alertId);
      if (!found) {
        found = deps.engagement.snapshotsOf(alertId);
        cache.set(alertId, found);
      }
      return found;
    };
    // Networks are independent: each has its own limit, and one that fails or waits holds up none of the others.
    const channels = await Promise.all(deps.readers.map((r) => pollChannel(r, now, snapshotsOf, deadline)));
    deps.logger.info('engagement polled', {
      channels: channels.map((c) => ({ ...c, error: c.error ? 'see above' : undefined })),
    });
    return { channels };
  }

  return {
    /**
     * One pass over every network. `deadline` (epoch milliseconds) stops it from starting requests past that
     * instant. A pass already running in this process is joined, not repeated.
     */
    pollOnce(options: { deadline?: number | undefined } = {}): Promise<EngagementRunOutcome> {
      running ??= run(options.deadline).finally(() => {
        running = undefined;
      });
      return running;
    },
  };
}

export type EngagementPoller = ReturnType<typeof createEngagementPoller>;
