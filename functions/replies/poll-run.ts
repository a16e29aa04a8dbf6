/**
 * The skeleton every replies poller's run shares (./poller.ts for X, ./thread-poller.ts for Mastodon, Bluesky and
 * Threads, ./telegram-poller.ts): the outcome's counters, the source that may be unavailable, the rate limit's hold
 * kept in the ReplyPollStore, the run's request budget and deadline, and one run at a time per process. What each
 * run reads, and how, stays in its poller.
 */
import type { Channel } from '../../schemas/alert';
import type { Clock } from '../ports';
import type { LoggerLike } from '../shared/logger';
import type { ReplyPollState, ReplyPollStore } from './model';
import type { PollOutcome } from './poller';

export interface PollRun<S> {
  /** The run's instant: what it saves is stamped with it. */
  now: Date;
  outcome: PollOutcome;
  source: S;
  state: ReplyPollState;
  /** Counts one request, or says why none may start: the deadline passed or the budget is spent (`stoppedBy`). */
  spend: () => boolean;
  /** Holds the channel until `until` (epoch ms, never before the run's start): no run reads before. */
  hold: (until: number) => Promise<void>;
}

export interface PollRunDeps<S> {
  polls: ReplyPollStore;
  /** The channel's source, or why it cannot be polled now (no credentials: nothing is read at all). */
  source: () => Promise<{ ready: S } | { unavailable: string }>;
  clock: Clock;
  logger: LoggerLike;
}

/**
 * Starts a run: the skipped outcome when the source is unavailable or the channel is held, otherwise what the run
 * reads with. `channel` is the outcome's channel, or a function giving it from the source (undefined when unavailable).
 */
export async function beginPoll<S>(
  deps: PollRunDeps<S>,
  options: {
    channel: Channel | ((source: S | undefined) => Channel);
    requestsPerRun: number;
    deadline?: number | undefined;
    /** Counters only some pollers report (`failed`, `dropped`), at their starting value. */
    counters?: Pick<PollOutcome, 'failed' | 'dropped'>;
  },
): Promise<{ skipped: PollOutcome } | PollRun<S>> {
  const { deadline, requestsPerRun } = options;
  const now = deps.clock.now();
  const chosen = await deps.source();
  const ready = 'ready' in chosen ? chosen.ready : undefined;
  const channel = typeof options.channel === 'function' ? options.channel(ready) : options.channel;
  const outcome: PollOutcome = {
    channel,
    requests: 0,
    conversationsSearched: 0,
    handedOver: 0,
    ownSkipped: 0,
    ...options.counters,
  };
  if (!('ready' in chosen)) return { skipped: { ...outcome, skipped: chosen.unavailable } };
  const source = chosen.ready;
  const state = await deps.polls.load(channel);
  if (state.holdUntil && state.holdUntil > now.toISOString())
    return { skipped: { ...outcome, skipped: `rate limited until ${state.holdUntil}` } };

  const spend = (): boolean => {
    if (deadline !== undefined && deps.clock.now().getTime() >= deadline) {
      outcome.stoppedBy = 'deadline';
      return false;
    }
    if (outcome.requests >= requestsPerRun) {
      outcome.stoppedBy = 'budget';
      return false;
    }
    outcome.requests += 1;
    return true;
  };
  const hold = async (until: number) => {
    outcome.stoppedBy = 'rate-limit';
    const at = new Date(Math.max(until, now.getTime())).toISOString();
    await deps.polls.hold(channel, at, now);
    deps.logger.warn('replies poll paused by the rate limit', { channel, until: at });
  };
  return { now, outcome, source, state, spend, hold };
}

/** Wraps a run so that one already going in this process is joined, not repeated. */
export function singleFlight<T>(run: (deadline?: number) => Promise<T>): (deadline?: number) => Promise<T> {
  let running: Promise<T> | undefined;
  return (deadline) => {
    running ??= run(deadline).finally(() => {
      running = undefined;
    });
    return running;
  };
}
