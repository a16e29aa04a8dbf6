/**
 * The embedded mode's publish timer: the stand-in for EventBridge Scheduler's one-time schedules. What is scheduled
 * lives in the store (the SCHEDULED index, on disk with everything else), so the timer itself keeps nothing that a
 * crash could lose: at start it reads back every waiting version and wakes at the soonest; when a time comes it queues
 * the version's dispatch message (the dispatcher releases it, once, conditionally). A version whose time passed while
 * the process was down is due at start, and goes out then.
 */
import { dueVersions, queueDispatches } from '../functions/dispatch/release';
import type { AlertStore, Clock, PublishTarget, PublishTimer, QueuePort } from '../functions/ports';
import type { LoggerLike } from '../functions/shared/logger';

/** Node's timers take at most 2^31-1 ms (about 24.8 days); a wake-up further off is re-armed on the way. */
const MAX_TIMEOUT_MS = 2_147_483_647;
/** Versions read back per page at start. */
const PAGE = 100;

export interface LocalPublishTimerDeps {
  store: Pick<AlertStore, 'findScheduled'>;
  queue: QueuePort;
  clock: Clock;
  logger: LoggerLike;
}

export class LocalPublishTimer implements PublishTimer {
  /** Armed wake-ups by `<alertId>#<version>`: their times (ms since the epoch). */
  private readonly armed = new Map<string, { target: PublishTarget; at: number }>();
  private timer: NodeJS.Timeout | undefined;
  private wakeAt: number | undefined;
  private firing: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly deps: LocalPublishTimerDeps) {}

  /** Reads back every waiting version (a restart) and arms it; anything already due goes out at once. */
  async start(): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await this.deps.store.findScheduled({ limit: PAGE, cursor });
      for (const item of page.items)
        if (item.dispatchStatus === 'scheduled')
          this.armed.set(keyOf(item), { target: item, at: Date.parse(item.at) });
      cursor = page.cursor;
    } while (cursor);
    if (this.armed.size > 0)
      this.deps.logger.info('scheduled versions read back', { count: this.armed.size });
    this.reschedule();
  }

  async arm(target: PublishTarget): Promise<void> {
    this.armed.set(keyOf(target), { target, at: Date.parse(target.at) });
    this.reschedule();
  }

  async disarm(target: Omit<PublishTarget, 'at'>): Promise<void> {
    this.armed.delete(keyOf(target));
    this.reschedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.firing?.catch(() => undefined);
  }

  private reschedule(): void {
    if (this.stopped) return;
    let soonest: number | undefined;
    for (const { at } of this.armed.values()) if (soonest === undefined || at < soonest) soonest = at;
    if (soonest === this.wakeAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wakeAt = soonest;
    if (soonest === undefined) return;
    const delay = Math.min(MAX_TIMEOUT_MS, Math.max(0, soonest - this.deps.clock.now().getTime()));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wakeAt = undefined;
      this.firing = this.fire().finally(() => {
        this.firing = undefined;
        this.reschedule();
      });
    }, delay);
    // The sweeper's interval keeps the process's schedule; this timer must not keep a stopping process alive.
    this.timer.unref();
  }

  /** Queues every armed version whose time has come, and any other due one the store knows (armed elsewhere). */
  private async fire(): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const due = [...this.armed.entries()].filter(([, { at }]) => at <= now);
    for (const [key] of due) this.armed.delete(key);
    try {
      const fromStore = await dueVersions(this.deps);
      const targets = new Map(due.map(([key, { target }]) => [key, target]));
      for (const target of fromStore) targets.set(keyOf(target), target);
      if (targets.size > 0) await queueDispatches(this.deps, [...targets.values()], 'timer');
    } catch (error) {
      // The sweeper releases whatever is due on its next pass; the wake-up is not lost, only late.
      this.deps.logger.error('publish timer could not queue due versions', {
        error: error instanceof Error ? error.message : String(error),
      });
      for (const [key, entry] of due) this.armed.set(key, { ...entry, at: now + 5_000 });
    }
  }
}

const keyOf = (target: Omit<PublishTarget, 'at'>) => `${target.alertId}#${target.version}`;
