/**
 * Time, pure: when a version goes out (publishAt), which waiting versions a new one replaces, and the timeline an
 * alert's versions make. No I/O and no clock of its own: callers pass `now`.
 *
 * The model: versions are numbered in the order they are written; each goes out at its publishAt, or at once.
 * A timeline (a race: the closure announced on Friday, "closing now" at 08:00 Sunday, "reopened" at 14:00) is an
 * alert plus updates scheduled later than one another. Each version's content is whole when it is written (an
 * update is merged over the version the public will be reading at its time), so a step reads the same whatever
 * happens to the others before it goes out.
 */
import { PUBLISH_AT_MAX_DAYS } from '../../schemas/vocabulary';
import { conflict, validationFailed } from './errors';
import { isReleased, isWaiting, type StoredVersion } from './model';

/**
 * A publishAt this little in the past means "now": the officer's clock, the network and a slow form submit all
 * take a moment. Further in the past it is a mistake worth saying (a date typed wrong), not something to send at once.
 */
export const PUBLISH_AT_SKEW_MS = 60_000;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * The instant a requested publishAt names, when it is in the future; undefined when it is (within the skew) now.
 * Throws a 400 naming `path` when it is in the past or beyond PUBLISH_AT_MAX_DAYS.
 */
export function publishAtFrom(value: string | undefined, now: Date, path = '/publishAt'): Date | undefined {
  if (value === undefined) return undefined;
  const at = Date.parse(value);
  if (at < now.getTime() - PUBLISH_AT_SKEW_MS)
    throw validationFailed([
      { path, message: 'is in the past: give a time from now on, or leave it out to send at once' },
    ]);
  if (at > now.getTime() + PUBLISH_AT_MAX_DAYS * DAY_MS)
    throw validationFailed([{ path, message: `must be at most ${PUBLISH_AT_MAX_DAYS} days ahead` }]);
  return at > now.getTime() ? new Date(at) : undefined;
}

/** When a version goes (or went) out, for ordering: its publishAt, else when it was released, else written. */
export const goesOutAt = (v: StoredVersion): string => v.publishAt ?? v.releasedAt ?? v.createdAt;

const byTime = (a: StoredVersion, b: StoredVersion) =>
  Date.parse(goesOutAt(a)) - Date.parse(goesOutAt(b)) || a.version - b.version;

/**
 * The versions as they stand: a waiting version that a later version names in `replaces` reads as superseded even
 * if the process that wrote the replacement died before marking it (the replacement's write is the commit point).
 */
export function settledVersions(versions: readonly StoredVersion[]): StoredVersion[] {
  const replaced = new Set<number>();
  for (const v of versions) for (const n of v.replaces ?? []) replaced.add(n);
  return versions.map((v) =>
    replaced.has(v.version) && isWaiting(v) ? { ...v, dispatchStatus: 'superseded' as const } : v,
  );
}

/** The version the public is reading: the last to go out. Undefined while nothing has. */
export function liveVersion(versions: readonly StoredVersion[]): StoredVersion | undefined {
  return settledVersions(versions).filter(isReleased).sort(byTime).at(-1);
}

/** What is still to come, in the order it will go out. */
export function waitingVersions(versions: readonly StoredVersion[]): StoredVersion[] {
  return settledVersions(versions).filter(isWaiting).sort(byTime);
}

export interface NewVersionTiming {
  /** An explicit `replaces` from the request. */
  replaces?: number | undefined;
  /** The new version's publishAt, when it is scheduled. */
  publishAt?: Date | undefined;
}

/**
 * Which waiting versions a new update takes the place of.
 * - `replaces: n` names one: it must still be waiting (409 otherwise: it went out, or was replaced already).
 * - Otherwise the newest version is replaced when it waits and the update comes no later than it would:
 *   an update to an alert held for approval (as before scheduling existed), or to an alert scheduled but not yet
 *   out (the officer changes it or sends it now). An update of a live alert never removes its waiting steps
 *   unless it says so: a correction sent now must not silently cancel "reopened at 14:00".
 */
export function versionsReplacedBy(versions: readonly StoredVersion[], timing: NewVersionTiming): number[] {
  const settled = settledVersions(versions);
  if (timing.replaces !== undefined) {
    const target = settled.find((v) => v.version === timing.replaces);
    if (!target)
      throw validationFailed([{ path: '/replaces', message: `there is no version ${timing.replaces}` }]);
    if (!isWaiting(target))
      throw conflict(
        `Version ${target.version} is not waiting (it is ${target.dispatchStatus}); only a scheduled or held version can be replaced.`,
      );
    return [target.version];
  }
  const newest = settled.at(-1);
  if (!newest || !isWaiting(newest)) return [];
  if (newest.dispatchStatus === 'held' && newest.publishAt === undefined) return [newest.version];
  const nothingOut = !settled.some(isReleased);
  const notLater =
    timing.publishAt === undefined ||
    newest.publishAt === undefined ||
    timing.publishAt.getTime() <= Date.parse(newest.publishAt);
  return nothingOut && notLater ? [newest.version] : [];
}

/**
 * The content an update is merged over: the version it replaces, or else the one the public will be reading when
 * it goes out (the last version out, or due out, by then).
 */
export function baseVersionFor(
  versions: readonly StoredVersion[],
  replaced: readonly number[],
  at: Date,
): StoredVersion {
  const settled = settledVersions(versions);
  const standing = settled.filter((v) => isReleased(v) || isWaiting(v)).sort(byTime);
  // The version it replaces; else the last out (or due out) by its time; else, before everything still standing, the
  // first of it; with nothing standing (every step withdrawn), the newest written.
  const base =
    settled.filter((v) => replaced.includes(v.version)).at(-1) ??
    standing.filter((v) => Date.parse(goesOutAt(v)) <= at.getTime()).at(-1) ??
    standing[0] ??
    settled.at(-1);
  if (!base) throw conflict('This alert has no version an update could follow.');
  return base;
}

/**
 * The earlier versions a new version's CAP `references` names: those out, and those scheduled to go out before it.
 * A referenced step withdrawn later stays named (a version's content is never rewritten); see the README.
 */
export function referencedBy(
  versions: readonly StoredVersion[],
  replaced: readonly number[],
  at: Date,
): StoredVersion[] {
  return settledVersions(versions).filter(
    (v) =>
      !replaced.includes(v.version) &&
      (isReleased(v) || (v.dispatchStatus === 'scheduled' && Date.parse(goesOutAt(v)) <= at.getTime())),
  );
}

/**
 * What the public has been shown, in the order it went out. An alert cancelled before anything of it went out (a
 * schedule called off) has nothing public: its cancel went nowhere, and no feed or CAP file mentions it.
 */
export function publishedVersions(versions: readonly StoredVersion[]): StoredVersion[] {
  const out = settledVersions(versions).filter(isReleased).sort(byTime);
  return out.some((v) => v.msgType !== 'Cancel') ? out : [];
}
