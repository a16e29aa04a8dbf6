/**
 * Social engagement: what the engagement poller (./engagement-poller.ts) asks of each network's metrics reader
 * (functions/channels/<network>/metrics.ts), and the schedule it polls a post on. Pure: no I/O here.
 *
 * The four numbers are those api.md's impact route shows per channel. A reader fills only what its network really
 * reports, and leaves the rest out rather than writing 0: "Mastodon does not count views" is not "nobody saw it".
 */
import type { Channel } from '../../schemas/alert';

export { RateLimitedError } from '../replies/model';

/** One post's engagement as its network reports it; absent means the network does not say. */
export interface EngagementCounts {
  /** Times it was shown (X impressions, Meta "views"). */
  impressions?: number | undefined;
  /** Reposts, shares and quotes: someone put it before their own followers. */
  reposts?: number | undefined;
  replies?: number | undefined;
  /** Likes, favourites and reactions. */
  likes?: number | undefined;
}

export const ENGAGEMENT_FIELDS = ['impressions', 'reposts', 'replies', 'likes'] as const;

export interface MetricsBatch {
  /** Counts by post id (the receipt's providerMessageId), for the posts the network still shows. */
  counts: Map<string, EngagementCounts>;
  /** Posts the network says are gone (deleted): not asked for again. */
  gone: string[];
  /**
   * The network's rate-limit headers say its window is (nearly) spent: no request before this instant, epoch
   * milliseconds. Each reader keeps a reserve for whatever else the agency runs on the same account.
   */
  holdUntil?: number | undefined;
}

/**
 * A network's metrics API. `read` makes exactly one request (so the poller can count what a run costs) for at most
 * `batchSize` posts, and throws RateLimitedError when the network says to wait; any other failure is an Error whose
 * message carries no credential.
 */
export interface MetricsReader {
  readonly channel: Channel;
  /** Post ids one request can ask about (1 where the API reads one post per request). */
  readonly batchSize: number;
  /** Why nothing can be read (no credentials, or a network with no metrics API): undefined when it can. */
  unavailable(): Promise<string | undefined>;
  /** Whether this id names something the API reads metrics of (Facebook: a Page post, not a comment). */
  accepts?(postId: string): Promise<boolean>;
  read(postIds: readonly string[], signal?: AbortSignal): Promise<MetricsBatch>;
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** How long after posting a post is polled at all: the 7 days. */
export const ENGAGEMENT_WINDOW_MS = 7 * 24 * HOUR_MS;

/**
 * The decaying schedule: how often a post of this age is read. Engagement on a public-safety post comes early (the
 * share wave of a missing-person post runs in its first hours, and is mostly over within a day or two), so the early
 * curve is read finely and the tail coarsely:
 *
 *   0 to 6 h      every 10 minutes   36 reads
 *   6 h to 48 h   every hour         42 reads
 *   48 h to 7 d   every 6 hours      20 reads
 *                                    98 reads of a post over its 7 days (+1 at once when first seen)
 *
 * The run itself comes every 10 minutes, the finest step; README "Social engagement" has the cost per network.
 */
export const ENGAGEMENT_SCHEDULE: readonly { untilMs: number; everyMs: number }[] = [
  { untilMs: 6 * HOUR_MS, everyMs: 10 * MINUTE_MS },
  { untilMs: 48 * HOUR_MS, everyMs: HOUR_MS },
  { untilMs: ENGAGEMENT_WINDOW_MS, everyMs: 6 * HOUR_MS },
];

/**
 * A scheduled run can start a little early (EventBridge's rate schedules and a timer both drift by seconds), and a
 * post read 9 min 58 s ago must not wait a whole further step: this much early counts as due.
 */
export const SCHEDULE_SLACK_MS = MINUTE_MS;

/** How often a post `ageMs` old is read; undefined once it is past the window (never again). */
export function pollIntervalFor(ageMs: number): number | undefined {
  if (ageMs < 0) return ENGAGEMENT_SCHEDULE[0]!.everyMs;
  return ENGAGEMENT_SCHEDULE.find((step) => ageMs < step.untilMs)?.everyMs;
}

/**
 * When a post sent at `sentAt` and last read at `polledAt` (undefined: never) is next due, in epoch milliseconds;
 * undefined when it is not to be read again (past the window).
 */
export function nextPollAt(sentAt: number, polledAt: number | undefined, now: number): number | undefined {
  if (now - sentAt >= ENGAGEMENT_WINDOW_MS) return undefined;
  if (polledAt === undefined) return sentAt;
  const every = pollIntervalFor(now - sentAt);
  if (every === undefined) return undefined;
  return polledAt + every - SCHEDULE_SLACK_MS;
}

/** Reads over a post's window, by the schedule (what README's cost arithmetic counts). */
export function readsPerPost(): number {
  let from = 0;
  let reads = 1;
  for (const step of ENGAGEMENT_SCHEDULE) {
    reads += Math.round((step.untilMs - from) / step.everyMs);
    from = step.untilMs;
  }
  return reads;
}

/** Sums counts field by field; a field stays absent unless some post reported it. */
export function addCounts(into: EngagementCounts, add: EngagementCounts): EngagementCounts {
  const out: EngagementCounts = { ...into };
  for (const field of ENGAGEMENT_FIELDS) {
    const value = add[field];
    if (typeof value === 'number' && Number.isFinite(value)) out[field] = (out[field] ?? 0) + value;
  }
  return out;
}

/** A count from a network's JSON: a finite, non-negative whole number, or absent. */
export function countOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Adds counts that may be absent: absent only when every part is. */
export function sumOf(...parts: (number | undefined)[]): number | undefined {
  const present = parts.filter((p): p is number => p !== undefined);
  return present.length === 0 ? undefined : present.reduce((a, b) => a + b, 0);
}

/**
 * Requests left in a window that a reader leaves to everything else on the same account (the replies poller reads
 * X's and Mastodon's statuses too, and the channel functions post through the same limits).
 */
export const RATE_LIMIT_RESERVE = 10;

/** Drops absent fields, so a snapshot stores and compares what the network said and nothing else. */
export function definedCounts(counts: EngagementCounts): EngagementCounts {
  const out: EngagementCounts = {};
  for (const field of ENGAGEMENT_FIELDS) if (counts[field] !== undefined) out[field] = counts[field];
  return out;
}

/** The newest reading of one of the agency's posts: `ENGAGE#<alertId> / <channel>#<postId>` on the table. */
export interface EngagementSnapshot {
  alertId: string;
  channel: Channel;
  postId: string;
  /** When the post went out (its receipt's time): the schedule counts its age from here. */
  sentAt: string;
  /** When it was last read; absent until the first read. */
  polledAt?: string | undefined;
  counts: EngagementCounts;
  /** The network says it is deleted: never read again; its last counts stay. */
  gone?: boolean | undefined;
}

/** Where the poller keeps its snapshots and the networks' rate-limit holds. */
export interface EngagementStore {
  /** Every snapshot of one alert (one Query). */
  snapshotsOf(alertId: string): Promise<EngagementSnapshot[]>;
  put(snapshot: EngagementSnapshot): Promise<void>;
  /** No read of `channel` before this instant (ISO 8601), if one is set. */
  holdOf(channel: Channel): Promise<string | undefined>;
  hold(channel: Channel, until: string, at: Date): Promise<void>;
}
