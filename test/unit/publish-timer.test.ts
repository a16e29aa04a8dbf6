/**
 * The embedded publish timer (local/publish-timer.ts) with a fake store and a recording queue, on vitest's fake
 * setTimeout and Date: what it reads back at start, what it queues when a time comes, arm and disarm, a queue that
 * fails, stop; and the release pass's reading of the store (functions/dispatch/release.ts dueVersions).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { StoredVersion } from '../../functions/core/model';
import { dueVersions } from '../../functions/dispatch/release';
import type { AlertStore, Clock, PublishTarget, QueueName } from '../../functions/ports';
import { LocalPublishTimer } from '../../local/publish-timer';
import { RecordingLogger, RecordingQueue } from '../helpers/fakes';

const T0 = '2030-03-04T10:00:00.000Z';
const inMs = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const DAY = 24 * 60 * 60 * 1000;

type Waiting = PublishTarget & { dispatchStatus: StoredVersion['dispatchStatus'] };

/** findScheduled over an array, soonest first, at most `pageSize` a page whatever the limit, with index cursors. */
class FakeStore implements Pick<AlertStore, 'findScheduled'> {
  readonly calls: { dueBy?: string | undefined; limit: number; cursor?: string | undefined }[] = [];
  constructor(
    readonly items: Waiting[] = [],
    private readonly pageSize = 2,
  ) {}
  async findScheduled(options: { dueBy?: string | undefined; limit: number; cursor?: string | undefined }) {
    this.calls.push(options);
    const all = this.items
      .filter((i) => i.dispatchStatus === 'scheduled' || i.dispatchStatus === 'held')
      .filter((i) => options.dueBy === undefined || i.at <= options.dueBy)
      .sort((a, b) => a.at.localeCompare(b.at) || a.version - b.version);
    const start = options.cursor === undefined ? 0 : Number(options.cursor);
    const end = start + Math.min(options.limit, this.pageSize);
    return { items: all.slice(start, end), cursor: end < all.length ? String(end) : undefined };
  }
}

/**
 * Fails its next `failures` sends, as a queue that cannot be reached does. What it takes is dispatched at once: the
 * dispatcher releases the version, so the store no longer lists it (`store`, when given).
 */
class FlakyQueue extends RecordingQueue {
  store: FakeStore | undefined;
  constructor(public failures = 0) {
    super();
  }
  override async send(queue: QueueName, messages: Parameters<RecordingQueue['send']>[1]): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('queue unavailable');
    }
    await super.send(queue, messages);
    for (const m of messages) {
      const { alertId, version } = JSON.parse(m.body) as PublishTarget;
      const item = this.store?.items.find((i) => i.alertId === alertId && i.version === version);
      if (item) item.dispatchStatus = 'pending';
    }
  }
}

const systemClock: Clock = { now: () => new Date() };
const scheduled = (alertId: string, version: number, at: string): Waiting => ({
  alertId,
  version,
  at,
  dispatchStatus: 'scheduled',
});

/** Lets the wake-up's promise chain run to its end (setImmediate is left real). */
const flush = async () => {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
};

function setup(items: Waiting[] = [], queue = new FlakyQueue()) {
  const store = new FakeStore(items);
  queue.store = store;
  const logger = new RecordingLogger();
  const timer = new LocalPublishTimer({ store, queue, clock: systemClock, logger });
  const queued = () => queue.bodies('dispatch');
  /** Moves the clock and the timers on, then lets what fired finish. */
  const advance = async (ms: number) => {
    await vi.advanceTimersByTimeAsync(ms);
    await flush();
  };
  return { store, queue, logger, timer, queued, advance };
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: new Date(T0) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('LocalPublishTimer', () => {
  it('reads back every waiting version at start, page by page, and sends the ones already due at once', async () => {
    // Arrange: two were due while the process was down, one is held for approval, two are still to come.
    const { timer, store, queued, advance, logger } = setup([
      scheduled('a', 1, inMs(-60_000)),
      scheduled('b', 2, inMs(-1)),
      { ...scheduled('c', 1, inMs(-30_000)), dispatchStatus: 'held' },
      scheduled('d', 1, inMs(60_000)),
      scheduled('e', 3, inMs(120_000)),
    ]);

    // Act
    await timer.start();
    await advance(0);

    // Assess
    expect(store.calls.filter((c) => c.dueBy === undefined).length).toBeGreaterThanOrEqual(3);
    expect(queued()).toEqual([
      { alertId: 'a', version: 1 },
      { alertId: 'b', version: 2 },
    ]);
    expect(logger.at('info')[0]?.extra[0]).toEqual({ count: 4 });
    await timer.stop();
  });

  it('queues a version read back at start when its time comes, not before', async () => {
    // Arrange
    const { timer, queued, advance } = setup([
      scheduled('a', 1, inMs(5_000)),
      scheduled('b', 1, inMs(9_000)),
    ]);
    await timer.start();

    // Act
    await advance(4_999);
    const early = queued();
    await advance(1);
    const atFirst = queued();
    await advance(4_000);

    // Assess
    expect(early).toEqual([]);
    expect(atFirst).toEqual([{ alertId: 'a', version: 1 }]);
    expect(queued()).toEqual([
      { alertId: 'a', version: 1 },
      { alertId: 'b', version: 1 },
    ]);
    await timer.stop();
  });

  it('queues an armed version at its time, once, even when armed twice', async () => {
    // Arrange
    const { timer, queued, advance } = setup();
    await timer.start();

    // Act
    await timer.arm({ alertId: 'x', version: 2, at: inMs(3_000) });
    await timer.arm({ alertId: 'x', version: 2, at: inMs(3_000) });
    await advance(10_000);

    // Assess
    expect(queued()).toEqual([{ alertId: 'x', version: 2 }]);
    await timer.stop();
  });

  it('keeps one wake-up per version, at the newest time it was given', async () => {
    // Arrange
    const { timer, queued, advance } = setup();
    await timer.start();
    await timer.arm({ alertId: 'x', version: 1, at: inMs(10_000) });

    // Act
    await timer.arm({ alertId: 'x', version: 1, at: inMs(20_000) });
    await advance(15_000);
    const atOldTime = queued();
    await advance(5_000);

    // Assess
    expect(atOldTime).toEqual([]);
    expect(queued()).toEqual([{ alertId: 'x', version: 1 }]);
    await timer.stop();
  });

  it('never queues a disarmed version, and still queues the others', async () => {
    // Arrange
    const { timer, queued, advance } = setup();
    await timer.start();
    await timer.arm({ alertId: 'x', version: 1, at: inMs(1_000) });
    await timer.arm({ alertId: 'y', version: 1, at: inMs(2_000) });

    // Act
    await timer.disarm({ alertId: 'x', version: 1 });
    await timer.disarm({ alertId: 'never-armed', version: 7 });
    await advance(5_000);

    // Assess
    expect(queued()).toEqual([{ alertId: 'y', version: 1 }]);
    await timer.stop();
  });

  it('queues with an armed version any other due one the store knows, each once', async () => {
    // Arrange: another process armed b; a is armed here and listed by the store too.
    const { timer, store, queued, advance } = setup();
    await timer.start();
    store.items.push(scheduled('a', 1, inMs(1_000)), scheduled('b', 4, inMs(500)));
    await timer.arm({ alertId: 'a', version: 1, at: inMs(1_000) });

    // Act
    await advance(1_000);

    // Assess
    expect(queued()).toHaveLength(2);
    expect(queued()).toEqual(
      expect.arrayContaining([
        { alertId: 'a', version: 1 },
        { alertId: 'b', version: 4 },
      ]),
    );
    await timer.stop();
  });

  it('logs an error when the queue fails and tries the version again a little later', async () => {
    // Arrange
    const { timer, queued, advance, logger } = setup([], new FlakyQueue(1));
    await timer.start();
    await timer.arm({ alertId: 'x', version: 1, at: inMs(1_000) });

    // Act
    await advance(1_000);
    const afterFailure = queued();
    await advance(5_000);

    // Assess
    expect(afterFailure).toEqual([]);
    expect(logger.at('error').map((l) => l.message)).toEqual(['publish timer could not queue due versions']);
    expect(queued()).toEqual([{ alertId: 'x', version: 1 }]);
    await timer.stop();
  });

  it('wakes for a version further off than a Node timer can wait, only at its time', async () => {
    // Arrange
    const { timer, queued, advance } = setup();
    await timer.start();
    await timer.arm({ alertId: 'far', version: 1, at: inMs(30 * DAY) });

    // Act
    await advance(25 * DAY);
    const early = queued();
    await advance(5 * DAY);

    // Assess
    expect(early).toEqual([]);
    expect(queued()).toEqual([{ alertId: 'far', version: 1 }]);
    await timer.stop();
  });

  it('queues nothing more once stopped', async () => {
    // Arrange
    const { timer, queued, advance } = setup([scheduled('a', 1, inMs(1_000))]);
    await timer.start();

    // Act
    await timer.stop();
    await timer.arm({ alertId: 'b', version: 1, at: inMs(500) });
    await advance(5_000);

    // Assess
    expect(queued()).toEqual([]);
  });
});

describe('dueVersions', () => {
  it('answers the scheduled versions due by now across pages, soonest first, without held ones', async () => {
    // Arrange
    const store = new FakeStore([
      scheduled('a', 1, inMs(-3_000)),
      { ...scheduled('b', 1, inMs(-2_000)), dispatchStatus: 'held' },
      scheduled('c', 2, inMs(-1_000)),
      scheduled('d', 1, inMs(0)),
      scheduled('e', 1, inMs(1)),
    ]);

    // Act
    const due = await dueVersions({ store, clock: systemClock });

    // Assess
    expect(due.map((d) => `${d.alertId}${d.version}`)).toEqual(['a1', 'c2', 'd1']);
    expect(due[0]).toEqual({ alertId: 'a', version: 1, at: inMs(-3_000) });
    expect(store.calls.every((c) => c.dueBy === T0)).toBe(true);
  });

  it('stops reading at its limit', async () => {
    // Arrange
    const store = new FakeStore(
      Array.from({ length: 9 }, (_, i) => scheduled(`v${i}`, 1, inMs(-10_000 + i))),
    );

    // Act
    const due = await dueVersions({ store, clock: systemClock }, 3);

    // Assess
    expect(due.map((d) => d.alertId)).toEqual(['v0', 'v1', 'v2']);
    expect(store.calls).toHaveLength(2);
  });
});
