/**
 * Residents' quiet hours in the bulk sender (functions/channel/bulk.ts): who of a job waits, who is superseded, and
 * the deferral items that hold those who wait (functions/ports.ts DeferralStore).
 *
 * Who owns a resident's message: a resident listed in a deferral is its release's to send, and the job that deferred
 * them never sends them (functions/channel/deferrals.ts releases it). The order of writes makes that hold through a
 * crash at any point:
 *   1. the `deferred` receipts of a job's attempt are stored (a batch write), before anything of the attempt is sent;
 *   2. then the deferrals list them (one conditional ADD per end instant, only while no release has claimed it);
 *   3. then the attempt sends to the others, window by window, and ends the job with `deferred` beside `sent`.
 * A listed resident always has a `deferred` receipt (1 before 2), which the release reads. A job attempt that meets a
 * `deferred` receipt of its own version (a crash between 1 and 3, or a retry) lists the resident again (idempotent)
 * and leaves them alone; only when the release has already claimed a deferral that does not list them (a crash
 * between 1 and 2, found after the end of the quiet hours) does the job send to them itself.
 */

import {
  isReleased,
  type Receipt,
  type StoredVersion,
  type Subscriber,
  type SubscriberChannel,
} from '../core/model';
import { isUrgent, localTimeOf, quietUntil } from '../core/quiet-hours';
import type { DeferralStore, SendJobKey } from '../ports';
import type { BulkDeps } from './bulk-send';
import { boundedMemo } from './deliver';

/** What the bulk sender needs for quiet hours: the deferrals, in the same store as the jobs. */
export type QuietDeps = Pick<BulkDeps, 'store' | 'config' | 'clock' | 'logger'>;

/** A deferral whose end is this close may be releasing right now: a cancel waits for it rather than guess. */
export const RELEASE_UNDER_WAY_MS = 60_000;
/** How long a cancel job waits for such a release before it looks again. */
export const WAIT_FOR_RELEASE_MS = 30_000;

/** When a resident's quiet hours hold this version back: its end, or undefined when it goes out now. */
export function deferralOf(
  deps: Pick<QuietDeps, 'config'>,
  version: StoredVersion,
  subscriber: Subscriber,
  now: Date,
): Date | undefined {
  // Media outlets (webhooks) have no quiet hours; what is urgent wakes everyone (api.md, "Time").
  if (subscriber.channel === 'webhook' || !subscriber.quietHours || isUrgent(version.content))
    return undefined;
  return quietUntil(now, subscriber.quietHours, deps.config.timeZone);
}

export const deferredReason = (until: Date, timeZone: string) =>
  `waits for the end of the resident's quiet hours (${localTimeOf(until, timeZone)}, ${timeZone})`;

/**
 * A cancel reaches a resident only if something of the alert did: an earlier version sent, possibly sent, or still
 * on its way (a retry). What only ever waited for their quiet hours (deferred, superseded) is not sent to them, so
 * with the cancel they get nothing at all; while a release of it may be going out this very moment, the cancel waits
 * to see rather than guess.
 */
export function cancelReach(earlier: readonly Receipt[], now: Date): 'reached' | 'never' | 'wait' {
  if (earlier.length === 0) return 'reached';
  const heldBack = (r: Receipt) =>
    (r.status === 'deferred' || r.status === 'superseded' || r.status === 'failed') &&
    r.outcomeUnknown !== true &&
    r.possibleDuplicate !== true;
  if (!earlier.every(heldBack)) return 'reached';
  const releasing = earlier.some(
    (r) =>
      r.status === 'deferred' && Date.parse(r.nextAttemptAt ?? '') <= now.getTime() + RELEASE_UNDER_WAY_MS,
  );
  return releasing ? 'wait' : 'never';
}

/** The receipts of the earlier released versions on this channel, by recipient: what a cancel checks. */
export async function earlierReceipts(
  deps: Pick<QuietDeps, 'store'>,
  version: StoredVersion,
  channel: SubscriberChannel,
  recipients: readonly string[],
): Promise<Map<string, Receipt[]>> {
  const found = new Map<string, Receipt[]>();
  if (recipients.length === 0) return found;
  const alert = await deps.store.getAlert(version.alertId);
  const earlier = (alert?.versions ?? []).filter(
    (v) => v.version < version.version && isReleased(v) && v.content.channels.includes(channel),
  );
  for (const v of earlier) {
    const receipts = await deps.store.getReceipts(
      recipients.map((recipient) => ({ alertId: v.alertId, version: v.version, channel, recipient })),
    );
    for (const [recipient, receipt] of receipts)
      found.set(recipient, [...(found.get(recipient) ?? []), receipt]);
  }
  return found;
}

/** The newest version released after this one, if any: everything of this one that still waits is replaced by it. */
export async function supersedingVersion(
  deps: Pick<QuietDeps, 'store'>,
  version: StoredVersion,
): Promise<StoredVersion | undefined> {
  const alert = await deps.store.getAlert(version.alertId);
  return (alert?.versions ?? [])
    .filter((v) => v.version > version.version && isReleased(v))
    .sort((a, b) => b.version - a.version)[0];
}

/** The receipt of a cancel's recipient that waits for an earlier version's release (given up on the last receive). */
export function waitingForRelease(
  now: Date,
  lastReceiveCount: number | undefined,
): { status: 'retrying' | 'failed'; fields: Partial<Receipt> } {
  const reason = 'waits to see whether an earlier version, held by quiet hours, is going out right now';
  if (lastReceiveCount !== undefined)
    return {
      status: 'failed',
      fields: { reason: `gave up after ${lastReceiveCount} receives: ${reason}`, retryable: true },
    };
  return {
    status: 'retrying',
    fields: { reason, nextAttemptAt: new Date(now.getTime() + WAIT_FOR_RELEASE_MS).toISOString() },
  };
}

export const supersededReason = (newer: StoredVersion) =>
  newer.msgType === 'Cancel'
    ? `not sent: the alert was cancelled (version ${newer.version}) before the end of the resident's quiet hours`
    : `not sent: version ${newer.version} replaced it before the end of the resident's quiet hours`;

/**
 * Lists each group of recipients in its deferral (by the instant their quiet hours end) and answers those that could
 * not be listed: their deferral's release has begun without them, so the job must send to them itself.
 */
export async function listInDeferrals(
  deps: Pick<QuietDeps, 'store'>,
  job: SendJobKey,
  byUntil: ReadonlyMap<string, readonly string[]>,
  at: string,
): Promise<Set<string>> {
  const unlisted = new Set<string>();
  await Promise.all(
    [...byUntil].map(async ([deferredUntil, ids]) => {
      const key = { ...job, deferredUntil };
      if (await deps.store.addDeferred(key, ids, at)) return;
      // Claimed already: whoever it lists is its release's; anyone else was never handed over.
      const listed = new Set((await deps.store.getDeferral(key))?.recipients ?? []);
      for (const id of ids) if (!listed.has(id)) unlisted.add(id);
    }),
  );
  return unlisted;
}

/** Once per version and warm sender is enough: the request is idempotent, and the sweeper carries it out. */
const earlierRequested = boundedMemo<void>(500);

/**
 * An update or a cancel is going out: what earlier versions still hold back for residents' quiet hours is released
 * now (and superseded by its release) instead of at the end of the quiet hours. A failure only delays that to the
 * end of the quiet hours, when the release supersedes it just the same: it is logged, never thrown.
 */
export async function releaseEarlierDeferrals(
  deps: Pick<QuietDeps, 'store' | 'clock' | 'logger'> & { store: DeferralStore },
  version: StoredVersion,
): Promise<void> {
  if (version.msgType === 'Alert') return;
  try {
    await earlierRequested(`${version.alertId}#${version.version}`, () =>
      deps.store.releaseEarlierDeferrals(version.alertId, version.version, deps.clock.now().toISOString()),
    );
  } catch (error) {
    deps.logger.warn(
      'earlier deferrals not released early; their release at the end of quiet hours supersedes them',
      {
        alertId: version.alertId,
        version: version.version,
        error: error instanceof Error ? error.message : String(error),
      },
    );
  }
}

/** Who of an attempt's recipients is not sent to now, and why: decided before anything of the attempt is sent. */
export interface Holds {
  /** Waiting for the end of their quiet hours, at this instant. */
  deferred: Map<string, Date>;
  /** Not sent at all, with the reason their receipt gives. */
  superseded: Map<string, string>;
  /** A cancel's recipients whose earlier message may be going out this moment: the job tries them again soon. */
  waitForRelease: Set<string>;
}

export async function decideHolds(
  deps: Pick<QuietDeps, 'store' | 'config'>,
  input: {
    version: StoredVersion;
    channel: SubscriberChannel;
    /** Set on a release: the newer version that went out meanwhile, if any. */
    release: { newer: StoredVersion | undefined } | undefined;
    todo: readonly string[];
    lost: ReadonlySet<string>;
    subscribers: ReadonlyMap<string, Subscriber>;
    /** False for a subscriber the sender refuses anyway (it records why). */
    sendable: (subscriber: Subscriber | undefined) => subscriber is Subscriber;
    /** Whether the provider has this recipient's message already; absent when it cannot be asked. */
    lookup: ((recipient: string) => Promise<boolean>) | undefined;
    now: Date;
  },
): Promise<Holds> {
  const holds: Holds = { deferred: new Map(), superseded: new Map(), waitForRelease: new Set() };
  const { version, release, todo, now } = input;
  if (release) {
    // A release never defers again: it sends, or everything waiting was replaced by what went out since.
    if (release.newer) for (const r of todo) holds.superseded.set(r, supersededReason(release.newer));
    return holds;
  }
  const earlier =
    version.msgType === 'Cancel' ? await earlierReceipts(deps, version, input.channel, todo) : undefined;
  const ends = new Map<string, Date | undefined>();
  for (const recipient of todo) {
    const subscriber = input.subscribers.get(recipient);
    if (!input.sendable(subscriber)) continue;
    if (earlier) {
      const reach = cancelReach(earlier.get(recipient) ?? [], now);
      if (reach === 'never') {
        holds.superseded.set(recipient, NEVER_REACHED);
        continue;
      }
      if (reach === 'wait') {
        holds.waitForRelease.add(recipient);
        continue;
      }
    }
    // Every recipient of the attempt shares its `now`: a window's end is worked out once per attempt.
    const window = subscriber.quietHours ? `${subscriber.quietHours.from}-${subscriber.quietHours.to}` : '';
    if (!ends.has(window)) ends.set(window, deferralOf(deps, version, subscriber, now));
    const until = ends.get(window);
    if (!until) continue;
    // A dead attempt may have sent to this one: a provider that can say so settles it (the sender records it sent).
    if (input.lost.has(recipient) && input.lookup && (await input.lookup(recipient))) continue;
    holds.deferred.set(recipient, until);
  }
  return holds;
}

export const NEVER_REACHED =
  'not sent: nothing of this alert reached the resident before it was cancelled (it waited for their quiet hours)';
