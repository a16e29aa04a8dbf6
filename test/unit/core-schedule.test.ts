/**
 * The pure rules of time (functions/core/schedule.ts): when a requested publishAt goes out, how a timeline's versions
 * settle, which waiting steps an update replaces, what it is merged over and references, and what the public has seen.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HttpProblem } from '../../functions/core/errors';
import { isReleased, isWaiting, type StoredVersion } from '../../functions/core/model';
import {
  baseVersionFor,
  goesOutAt,
  liveVersion,
  PUBLISH_AT_SKEW_MS,
  publishAtFrom,
  publishedVersions,
  referencedBy,
  settledVersions,
  versionsReplacedBy,
  waitingVersions,
} from '../../functions/core/schedule';
import { PUBLISH_AT_MAX_DAYS } from '../../schemas/alert';
import { version } from '../helpers/dynamo-fixtures';

const ID = 'alert-timeline';
const NOW = new Date('2030-06-07T10:00:00.000Z');
const DAY = 24 * 60 * 60 * 1000;
const at = (hh: number, mm = 0) =>
  new Date(`2030-06-07T${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}:00.000Z`);
const iso = (hh: number, mm = 0) => at(hh, mm).toISOString();

/** A version that went out at `hh`. */
const out = (n: number, hh: number, changes: Partial<StoredVersion> = {}) =>
  version(ID, n, { dispatchStatus: 'planned', createdAt: iso(hh), releasedAt: iso(hh), ...changes });
/** A version waiting for its publishAt at `hh` (written at 09:00). */
const scheduled = (n: number, hh: number, changes: Partial<StoredVersion> = {}) => {
  const { releasedAt: _none, ...rest } = version(ID, n, {
    dispatchStatus: 'scheduled',
    createdAt: iso(9),
    publishAt: iso(hh),
    ...changes,
  });
  return rest as StoredVersion;
};
const held = (n: number, changes: Partial<StoredVersion> = {}) =>
  scheduled(n, 0, { dispatchStatus: 'held', publishAt: undefined, createdAt: iso(9, n), ...changes });

function problemOf(act: () => unknown): HttpProblem {
  try {
    act();
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('expected an HttpProblem');
}

describe('publishAtFrom', () => {
  it.each([
    ['absent', undefined],
    ['this very instant', NOW.toISOString()],
    ['the same instant written with an offset', '2030-06-07T12:00:00+02:00'],
    ['59 s in the past (clock skew)', new Date(NOW.getTime() - 59_000).toISOString()],
    ['exactly the skew in the past', new Date(NOW.getTime() - PUBLISH_AT_SKEW_MS).toISOString()],
  ])('reads %s as now (undefined)', (_name, value) => {
    // Act
    const when = publishAtFrom(value, NOW);

    // Assess
    expect(when).toBeUndefined();
  });

  it('answers the instant of a future time, whatever its offset', () => {
    // Act
    const when = publishAtFrom('2030-06-07T14:30:00+02:00', NOW);

    // Assess
    expect(when?.toISOString()).toBe('2030-06-07T12:30:00.000Z');
  });

  it('accepts exactly 90 days ahead', () => {
    // Arrange
    const limit = new Date(NOW.getTime() + PUBLISH_AT_MAX_DAYS * DAY);

    // Act
    const when = publishAtFrom(limit.toISOString(), NOW);

    // Assess
    expect(when).toEqual(limit);
  });

  it.each([
    ['more than 60 s in the past', NOW.getTime() - PUBLISH_AT_SKEW_MS - 1, /past/],
    ['a day in the past', NOW.getTime() - DAY, /past/],
    ['one millisecond beyond 90 days', NOW.getTime() + PUBLISH_AT_MAX_DAYS * DAY + 1, /90 days/],
  ])('refuses a time %s with a 400 naming /publishAt', (_name, ms, message) => {
    // Act
    const problem = problemOf(() => publishAtFrom(new Date(ms).toISOString(), NOW));

    // Assess
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ path: '/publishAt', message: expect.stringMatching(message) }]);
  });

  it('names the path it is given', () => {
    // Act
    const problem = problemOf(() => publishAtFrom('2020-01-01T00:00:00Z', NOW, '/steps/2/publishAt'));

    // Assess
    expect(problem.errors?.[0]?.path).toBe('/steps/2/publishAt');
  });

  it('splits every offset from now into now, later, or a 400', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -2 * PUBLISH_AT_MAX_DAYS * DAY, max: 2 * PUBLISH_AT_MAX_DAYS * DAY }),
        (ms) => {
          const value = new Date(NOW.getTime() + ms).toISOString();
          if (ms < -PUBLISH_AT_SKEW_MS || ms > PUBLISH_AT_MAX_DAYS * DAY)
            expect(problemOf(() => publishAtFrom(value, NOW)).status).toBe(400);
          else if (ms <= 0) expect(publishAtFrom(value, NOW)).toBeUndefined();
          else expect(publishAtFrom(value, NOW)?.getTime()).toBe(NOW.getTime() + ms);
        },
      ),
    );
  });
});

describe('settledVersions, liveVersion, waitingVersions', () => {
  it('reads a waiting version named in a later replaces as superseded, and leaves the others as stored', () => {
    // Arrange: v2 (scheduled) and v3 (held) were replaced by v4, whose writer died before marking them.
    const versions = [
      out(1, 8),
      scheduled(2, 14),
      held(3),
      scheduled(4, 12, { replaces: [2, 3] }),
      scheduled(5, 16),
    ];

    // Act
    const settled = settledVersions(versions);

    // Assess
    expect(settled.map((v) => v.dispatchStatus)).toEqual([
      'planned',
      'superseded',
      'superseded',
      'scheduled',
      'scheduled',
    ]);
    expect(versions[1]?.dispatchStatus).toBe('scheduled');
  });

  it('leaves a version that went out as it is even when a later version names it', () => {
    // Arrange: released at its time a moment before the replacement was written.
    const versions = [out(1, 8), out(2, 9, { publishAt: iso(9) }), scheduled(3, 12, { replaces: [2] })];

    // Act
    const settled = settledVersions(versions);

    // Assess
    expect(settled[1]?.dispatchStatus).toBe('planned');
  });

  it('answers no live version while nothing is out', () => {
    // Act
    const live = liveVersion([scheduled(1, 14), held(2)]);

    // Assess
    expect(live).toBeUndefined();
  });

  it('reads as live the last version to go out, by its time rather than its number', () => {
    // Arrange: a step written first for 14:00, then a correction sent at 12:00; at 14:30 both are out.
    const versions = [out(1, 8), out(2, 14, { publishAt: iso(14) }), out(3, 12)];

    // Act
    const live = liveVersion(versions);

    // Assess
    expect(live?.version).toBe(2);
  });

  it('lists what is still to come in the order it goes out, without replaced, withdrawn or released versions', () => {
    // Arrange
    const versions = [
      out(1, 8),
      scheduled(2, 16),
      scheduled(3, 11),
      scheduled(4, 13, { dispatchStatus: 'withdrawn' }),
      scheduled(5, 12),
      scheduled(6, 15, { replaces: [5] }),
    ];

    // Act
    const waiting = waitingVersions(versions);

    // Assess
    expect(waiting.map((v) => v.version)).toEqual([3, 6, 2]);
  });
});

describe('versionsReplacedBy', () => {
  it('answers the version an explicit replaces names when it waits', () => {
    // Act
    const replaced = versionsReplacedBy([out(1, 8), scheduled(2, 14), scheduled(3, 16)], { replaces: 2 });

    // Assess
    expect(replaced).toEqual([2]);
  });

  it('refuses a replaces naming no version with a 400 on /replaces', () => {
    // Act
    const problem = problemOf(() => versionsReplacedBy([out(1, 8)], { replaces: 7 }));

    // Assess
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ path: '/replaces', message: expect.stringContaining('7') }]);
  });

  it.each<[string, StoredVersion[]]>([
    ['went out', [out(1, 8), out(2, 9)]],
    ['was withdrawn', [out(1, 8), scheduled(2, 14, { dispatchStatus: 'withdrawn' })]],
    [
      'was replaced (marked)',
      [out(1, 8), scheduled(2, 14, { dispatchStatus: 'superseded' }), scheduled(3, 15)],
    ],
    [
      'was replaced (only named by a later version)',
      [out(1, 8), scheduled(2, 14), scheduled(3, 15, { replaces: [2] })],
    ],
  ])('refuses with 409 to replace a version that %s', (_name, versions) => {
    // Act
    const problem = problemOf(() => versionsReplacedBy(versions, { replaces: 2 }));

    // Assess
    expect(problem.status).toBe(409);
    expect(problem.detail).toMatch(/not waiting/);
  });

  it('replaces the newest version when it is held for approval without a time, even on a live alert', () => {
    // Act
    const replaced = versionsReplacedBy([out(1, 8), held(2)], { publishAt: at(18) });

    // Assess
    expect(replaced).toEqual([2]);
  });

  it.each<[string, Date | undefined]>([
    ['sent now', undefined],
    ['earlier than it', at(11)],
    ['at the same time', at(14)],
  ])('replaces a scheduled alert not out yet by an update %s', (_name, publishAt) => {
    // Act
    const replaced = versionsReplacedBy([scheduled(1, 14)], { publishAt });

    // Assess
    expect(replaced).toEqual([1]);
  });

  it('replaces a scheduled alert held for approval (held with a time) by an update no later than it', () => {
    // Act
    const replaced = versionsReplacedBy([held(1, { publishAt: iso(14) })], { publishAt: at(13) });

    // Assess
    expect(replaced).toEqual([1]);
  });

  it('keeps a scheduled alert not out yet when the update comes after it: a second step', () => {
    // Act
    const replaced = versionsReplacedBy([scheduled(1, 14)], { publishAt: at(15) });

    // Assess
    expect(replaced).toEqual([]);
  });

  it.each<[string, Date | undefined]>([
    ['sent now', undefined],
    ['scheduled before it', at(12)],
  ])('never removes a waiting step of a live alert implicitly (update %s)', (_name, publishAt) => {
    // Act
    const replaced = versionsReplacedBy([out(1, 8), scheduled(2, 14)], { publishAt });

    // Assess
    expect(replaced).toEqual([]);
  });

  it('replaces nothing when the newest version went out', () => {
    // Act
    const replaced = versionsReplacedBy([scheduled(1, 14, { dispatchStatus: 'withdrawn' }), out(2, 9)], {});

    // Assess
    expect(replaced).toEqual([]);
  });
});

describe('baseVersionFor', () => {
  const timeline = [out(1, 8), scheduled(2, 14), scheduled(3, 11, { dispatchStatus: 'withdrawn' })];

  it('merges over the version it replaces', () => {
    // Act
    const base = baseVersionFor(timeline, [2], at(12));

    // Assess
    expect(base.version).toBe(2);
  });

  it.each([
    ['before the scheduled step', at(12), 1],
    ['after it', at(15), 2],
    ['at its very time', at(14), 2],
  ])('merges over what the public reads at the update time: %s', (_name, when, expected) => {
    // Act
    const base = baseVersionFor(timeline, [], when);

    // Assess
    expect(base.version).toBe(expected);
  });

  it('ignores a withdrawn step whose time passed', () => {
    // Act
    const base = baseVersionFor(timeline, [], at(11, 30));

    // Assess
    expect(base.version).toBe(1);
  });

  it('takes the first standing version for a step earlier than everything', () => {
    // Arrange
    const versions = [scheduled(1, 14), scheduled(2, 16)];

    // Act
    const base = baseVersionFor(versions, [], at(10));

    // Assess
    expect(base.version).toBe(1);
  });

  it('takes the newest written version when every step was withdrawn', () => {
    // Arrange
    const versions = [
      scheduled(1, 14, { dispatchStatus: 'withdrawn' }),
      scheduled(2, 16, { dispatchStatus: 'withdrawn' }),
    ];

    // Act
    const base = baseVersionFor(versions, [], at(10));

    // Assess
    expect(base.version).toBe(2);
  });
});

describe('referencedBy', () => {
  it('names what is out and what is scheduled before it, never a replaced, held or withdrawn version', () => {
    // Arrange
    const versions = [
      out(1, 8),
      scheduled(2, 12),
      scheduled(3, 13),
      held(4, { publishAt: iso(11) }),
      scheduled(5, 11, { dispatchStatus: 'withdrawn' }),
      scheduled(6, 16),
    ];

    // Act
    const named = referencedBy(versions, [3], at(14));

    // Assess
    expect(named.map((v) => v.version)).toEqual([1, 2]);
  });
});

describe('publishedVersions', () => {
  it('lists what went out in the order it went out, and nothing waiting', () => {
    // Arrange
    const versions = [out(1, 8), out(2, 14, { publishAt: iso(14) }), out(3, 12), scheduled(4, 18)];

    // Act
    const published = publishedVersions(versions);

    // Assess
    expect(published.map((v) => v.version)).toEqual([1, 3, 2]);
  });

  it('shows nothing of an alert cancelled before anything of it went out', () => {
    // Arrange
    const versions = [
      scheduled(1, 14, { dispatchStatus: 'superseded' }),
      out(2, 10, { msgType: 'Cancel', replaces: [1] }),
    ];

    // Act
    const published = publishedVersions(versions);

    // Assess
    expect(published).toEqual([]);
  });

  it('keeps the cancel of an alert that went out', () => {
    // Act
    const published = publishedVersions([out(1, 8), out(2, 10, { msgType: 'Cancel' })]);

    // Assess
    expect(published.map((v) => v.msgType)).toEqual(['Alert', 'Cancel']);
  });
});

// ---------------------------------------------------------------- properties over any alert's versions

const STATUSES = ['held', 'scheduled', 'pending', 'planned', 'superseded', 'withdrawn'] as const;
const BASE = at(0).getTime();

/** Any alert's versions as a store may hold them: each with its status, maybe a time, maybe naming earlier ones. */
const anyVersions = fc
  .array(
    fc.record({
      status: fc.constantFrom(...STATUSES),
      minutes: fc.option(fc.integer({ min: 0, max: 24 * 60 }), { nil: undefined }),
      written: fc.integer({ min: 0, max: 24 * 60 }),
      replaces: fc.array(fc.integer({ min: 1, max: 12 }), { maxLength: 3 }),
      cancel: fc.boolean(),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((specs) =>
    specs.map((s, i): StoredVersion => {
      const n = i + 1;
      const written = new Date(BASE + s.written * 60_000).toISOString();
      const publishAt =
        s.minutes === undefined ? undefined : new Date(BASE + s.minutes * 60_000).toISOString();
      const released = s.status === 'pending' || s.status === 'planned';
      const { releasedAt: _r, publishAt: _p, replaces: _x, ...plain } = version(ID, n);
      const earlier = [...new Set(s.replaces.filter((m) => m < n))];
      return {
        ...plain,
        msgType: n === 1 ? 'Alert' : s.cancel ? 'Cancel' : 'Update',
        dispatchStatus: s.status,
        createdAt: written,
        ...(publishAt ? { publishAt } : {}),
        ...(released ? { releasedAt: publishAt ?? written } : {}),
        ...(earlier.length ? { replaces: earlier } : {}),
      };
    }),
  );

const anyTiming = fc.record({
  replaces: fc.option(fc.integer({ min: 1, max: 13 }), { nil: undefined }),
  publishAt: fc.option(
    fc.integer({ min: 0, max: 24 * 60 }).map((m) => new Date(BASE + m * 60_000)),
    { nil: undefined },
  ),
});

describe('properties', () => {
  it('settledVersions never turns a released version into anything else, and changes only a status', () => {
    fc.assert(
      fc.property(anyVersions, (versions) => {
        const settled = settledVersions(versions);
        expect(settled).toHaveLength(versions.length);
        settled.forEach((v, i) => {
          const stored = versions[i]!;
          if (isReleased(stored) || !isWaiting(stored)) expect(v).toEqual(stored);
          else expect(['held', 'scheduled', 'superseded']).toContain(v.dispatchStatus);
          expect({ ...v, dispatchStatus: stored.dispatchStatus }).toEqual(stored);
        });
      }),
    );
  });

  it('publishedVersions lists released versions only, ordered by when they went out, never a lone cancel', () => {
    fc.assert(
      fc.property(anyVersions, (versions) => {
        const published = publishedVersions(versions);
        const times = published.map((v) => Date.parse(goesOutAt(v)));
        expect(times).toEqual([...times].sort((a, b) => a - b));
        expect(published.every(isReleased)).toBe(true);
        if (published.length) expect(published.some((v) => v.msgType !== 'Cancel')).toBe(true);
        if (published.length) expect(liveVersion(versions)?.version).toBe(published.at(-1)?.version);
      }),
    );
  });

  it('versionsReplacedBy never answers a version that went out, or one that no longer waits', () => {
    fc.assert(
      fc.property(anyVersions, anyTiming, (versions, timing) => {
        let replaced: number[];
        try {
          replaced = versionsReplacedBy(versions, timing);
        } catch (error) {
          expect(error).toBeInstanceOf(HttpProblem);
          expect([400, 409]).toContain((error as HttpProblem).status);
          return;
        }
        const settled = settledVersions(versions);
        for (const n of replaced) expect(isWaiting(settled.find((v) => v.version === n)!)).toBe(true);
        if (timing.replaces === undefined) expect(replaced.length).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('baseVersionFor and waitingVersions never pick a withdrawn or replaced version unless nothing stands', () => {
    fc.assert(
      fc.property(anyVersions, anyTiming, (versions, timing) => {
        const settled = settledVersions(versions);
        const standing = settled.filter((v) => isReleased(v) || isWaiting(v));
        const base = baseVersionFor(versions, [], timing.publishAt ?? at(12));
        if (standing.length) expect(standing.map((v) => v.version)).toContain(base.version);
        else expect(base.version).toBe(versions.length);
        expect(waitingVersions(versions).every(isWaiting)).toBe(true);
      }),
    );
  });
});
