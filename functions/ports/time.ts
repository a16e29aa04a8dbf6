/** Time: the clock, and the publish timer that wakes Herald at a scheduled version's time. */
// ---------------------------------------------------------------- time

/** A scheduled version, named for the wake-up that releases it at its publishAt. */
export interface PublishTarget {
  alertId: string;
  version: number;
  /** ISO 8601 instant (UTC) of its publishAt. */
  at: string;
}

/**
 * Wakes Herald at a scheduled version's publishAt, to release it (functions/core/schedule.ts). On AWS an
 * EventBridge Scheduler one-time schedule that puts the version's dispatch message on the dispatch queue; in the
 * embedded mode the runtime's timer over the stored schedule. Either way the sweeper also releases whatever is due
 * (a wake-up lost, an arm that failed), so a timer is about punctuality, never about whether a version goes out.
 */
export interface PublishTimer {
  /** Idempotent: arming a version again keeps one wake-up (at the newest time given). */
  arm(target: PublishTarget): Promise<void>;
  /** Idempotent: a wake-up that already fired, or never existed, is fine. */
  disarm(target: Omit<PublishTarget, 'at'>): Promise<void>;
}

// ---------------------------------------------------------------- time

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
