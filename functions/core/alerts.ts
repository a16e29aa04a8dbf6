/**
 * The alert lifecycle, pure: new versions from drafts, updates and cancels; the two-person rule; and the
 * states the API reports. No I/O: the api handler loads and stores, this decides.
 */
import type {
  Alert,
  AlertContent,
  AlertDraft,
  AlertState,
  AlertVersion,
  CancelBody,
  UpdatePatch,
  VersionState,
} from '../../schemas/alert';
import type { FieldError } from '../../schemas/problem';
import { timeProblems } from './cap-times';
import { conflict, unprocessable, validationFailed } from './errors';
import { type Actor, type ApprovalRecord, isReleased, type StoredVersion } from './model';
import {
  baseVersionFor,
  liveVersion,
  referencedBy,
  settledVersions,
  versionsReplacedBy,
  waitingVersions,
} from './schedule';

export interface VersionContext {
  alertId: string;
  actor: Actor;
  now: Date;
  sender: string;
  approvalSeverities: ReadonlySet<string>;
  idempotencyKey?: string | undefined;
  /** When the new version goes out, if scheduled (functions/core/schedule.ts publishAtFrom decides). */
  publishAt?: Date | undefined;
}

/**
 * CAP writes date-times with an explicit offset and no fraction, and CAP 1.2 (3.3.2) spells UTC's offset "-00:00":
 * 2026-11-21T07:05:00-00:00.
 */
export function capDateTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}-00:00`;
}

export const capIdentifier = (alertId: string, version: number) => `herald-${alertId}-v${version}`;

/** CAP `references` entry for an earlier message. */
export const capReference = (v: Pick<StoredVersion, 'sender' | 'identifier' | 'sent'>) =>
  `${v.sender},${v.identifier},${v.sent}`;

export function normaliseDraft(draft: AlertDraft): AlertContent {
  const { image, translations, areas, publishAt: _ownToTheVersion, ...rest } = draft;
  return {
    ...rest,
    ...(image ? { image } : {}),
    translations: translations ?? [],
    areas: areas ?? [],
  };
}

/** The two-person rule: which versions wait for a supervisor. A cancel never waits. */
export function approvalFor(
  content: AlertContent,
  msgType: StoredVersion['msgType'],
  severities: ReadonlySet<string>,
): ApprovalRecord {
  return { required: msgType !== 'Cancel' && severities.has(content.severity) };
}

function buildVersion(
  ctx: VersionContext,
  version: number,
  msgType: StoredVersion['msgType'],
  content: AlertContent,
  earlier: readonly StoredVersion[],
  options: { note?: string | undefined; replaces?: readonly number[] | undefined } = {},
): StoredVersion {
  const approval = approvalFor(content, msgType, ctx.approvalSeverities);
  const at = ctx.now.toISOString();
  const goesOut = ctx.publishAt ?? ctx.now;
  const replaces = options.replaces ?? [];
  const dispatchStatus = approval.required ? 'held' : ctx.publishAt ? 'scheduled' : 'pending';
  return {
    alertId: ctx.alertId,
    version,
    msgType,
    content,
    identifier: capIdentifier(ctx.alertId, version),
    // CAP `sent` is when the message originates for the public: a scheduled version's time.
    sent: capDateTime(goesOut),
    sender: ctx.sender,
    // CAP asks for every earlier message an update or cancel supersedes: those out, or due out before this one.
    // Versions replaced while waiting never reached anyone, so they are not referenced.
    references: referencedBy(earlier, replaces, goesOut).map(capReference),
    ...(options.note ? { note: options.note } : {}),
    author: ctx.actor.id,
    createdAt: at,
    ...(ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {}),
    ...(ctx.publishAt ? { publishAt: ctx.publishAt.toISOString() } : {}),
    ...(replaces.length ? { replaces: [...replaces] } : {}),
    approval,
    dispatchStatus,
    ...(dispatchStatus === 'pending' ? { releasedAt: at } : {}),
  };
}

export function newAlert(draft: AlertDraft, ctx: VersionContext): StoredVersion {
  return buildVersion(ctx, 1, 'Alert', normaliseDraft(draft), []);
}

const latestOf = (versions: readonly StoredVersion[]): StoredVersion => {
  const latest = versions[versions.length - 1];
  if (!latest) throw new Error('an alert without versions');
  return latest;
};

function refuseIfCancelled(latest: StoredVersion): void {
  if (latest.msgType === 'Cancel')
    throw conflict(
      `Alert ${latest.alertId} was cancelled in version ${latest.version}; it takes no further changes.`,
    );
}

/** Applies a JSON merge-patch (RFC 7396) to the updatable fields: null removes, a value replaces. */
export function mergePatch(content: AlertContent, patch: UpdatePatch): AlertContent {
  const next: Record<string, unknown> = { ...content };
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (value === null) {
      if (field === 'translations' || field === 'areas') next[field] = [];
      else delete next[field];
    } else next[field] = value;
  }
  return next as AlertContent;
}

export function updateAlert(
  versions: readonly StoredVersion[],
  patch: UpdatePatch,
  ctx: VersionContext,
): StoredVersion {
  const latest = latestOf(versions);
  refuseIfCancelled(latest);
  const { publishAt: _when, replaces: replacesRequested, ...changes } = patch;
  const replaces = versionsReplacedBy(versions, { replaces: replacesRequested, publishAt: ctx.publishAt });
  const base = baseVersionFor(versions, replaces, ctx.publishAt ?? ctx.now);
  const errors: FieldError[] = [];
  if (changes.channels) {
    // Channels cannot grow past what the alert was issued on (the first version's, or what a replacement said).
    const before = new Set(base.content.channels);
    changes.channels.forEach((channel, i) => {
      if (!before.has(channel))
        errors.push({
          path: `/channels/${i}`,
          message: `"${channel}" was not a channel of this alert; channels cannot grow after an alert is issued`,
        });
    });
  }
  if (errors.length) throw unprocessable('An update cannot add channels.', errors);
  // The patch may move one time past another it does not name: the order is checked on what the version will say.
  const content = mergePatch(base.content, changes);
  const timeErrors = timeProblems(content);
  if (timeErrors.length) throw validationFailed(timeErrors);
  return buildVersion(ctx, latest.version + 1, 'Update', content, versions, { replaces });
}

export function cancelAlert(
  versions: readonly StoredVersion[],
  body: CancelBody,
  ctx: VersionContext,
): StoredVersion {
  const latest = latestOf(versions);
  refuseIfCancelled(latest);
  // What is cancelled is what the public is reading; with nothing out yet, the newest version (nothing goes out).
  const base = liveVersion(versions) ?? latest;
  const content: AlertContent = body.description
    ? { ...base.content, description: body.description }
    : base.content;
  // A cancel takes every waiting step with it: nothing scheduled goes out after it.
  const replaces = waitingVersions(versions).map((v) => v.version);
  return buildVersion({ ...ctx, publishAt: undefined }, latest.version + 1, 'Cancel', content, versions, {
    note: body.reason,
    replaces,
  });
}

// ---------------------------------------------------------------- states

export function versionState(v: StoredVersion): VersionState {
  switch (v.dispatchStatus) {
    case 'held':
      return 'pending-approval';
    case 'scheduled':
      return 'scheduled';
    case 'superseded':
      return 'superseded';
    case 'withdrawn':
      return 'withdrawn';
    case 'pending':
      return 'dispatching';
    case 'planned':
      return (v.receiptsSettled ?? 0) >= (v.receiptsPlanned ?? 0) ? 'sent' : 'dispatching';
  }
}

/**
 * The alert's state is the state of what the public is reading (the last version out); before anything is out,
 * `pending-approval` or `scheduled`. A version held for approval, whether it would go out now or as a later step of
 * the timeline, makes the alert `pending-approval`: that is where supervisors look.
 */
export function alertState(versions: readonly StoredVersion[], now: Date): AlertState {
  const settled = settledVersions(versions);
  const latest = latestOf(settled);
  if (latest.msgType === 'Cancel' && isReleased(latest)) return 'cancelled';
  const live = liveVersion(settled);
  if (!live) {
    if (settled.some((v) => v.dispatchStatus === 'held')) return 'pending-approval';
    // Every step withdrawn or replaced, nothing out: nothing will go out unless an update schedules or sends one.
    return settled.some((v) => v.dispatchStatus === 'scheduled') ? 'scheduled' : 'cancelled';
  }
  // A version waiting for a supervisor, to go out now or as a later step, puts the alert in the approvals queue:
  // a held step must be approved before its time, so it cannot hide behind the live alert's `sent`.
  if (settled.some((v) => v.dispatchStatus === 'held')) return 'pending-approval';
  if (live.content.expires && Date.parse(live.content.expires) <= now.getTime()) return 'expired';
  return versionState(live) === 'sent' ? 'sent' : 'dispatching';
}

// ---------------------------------------------------------------- API shapes

export function toApiVersion(v: StoredVersion): AlertVersion {
  return {
    ...v.content,
    id: v.alertId,
    version: v.version,
    identifier: v.identifier,
    msgType: v.msgType,
    sent: v.sent,
    sender: v.sender,
    references: v.references,
    ...(v.note ? { note: v.note } : {}),
    ...(v.publishAt ? { publishAt: v.publishAt } : {}),
    ...(v.replaces?.length ? { replaces: v.replaces } : {}),
    author: v.author,
    approval: v.approval,
    state: versionState(v),
  };
}

export function toApiAlert(versions: readonly StoredVersion[], now: Date): Alert {
  const settled = settledVersions(versions);
  const latest = latestOf(settled);
  const first = settled[0] ?? latest;
  const { state: _latestVersionState, ...current } = toApiVersion(latest);
  const next = waitingVersions(settled).find((v) => v.publishAt !== undefined);
  return {
    ...current,
    state: alertState(settled, now),
    ...(next?.publishAt ? { nextPublishAt: next.publishAt } : {}),
    createdAt: first.createdAt,
    updatedAt:
      latest.approval.approvedAt && latest.approval.approvedAt > latest.createdAt
        ? latest.approval.approvedAt
        : latest.createdAt,
    versions: settled.map((v) => ({
      version: v.version,
      msgType: v.msgType,
      sent: v.sent,
      author: v.author,
      headline: v.content.headline,
      state: versionState(v),
      ...(v.publishAt ? { publishAt: v.publishAt } : {}),
    })),
  };
}
