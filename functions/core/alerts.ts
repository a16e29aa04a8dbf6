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
import { conflict, unprocessable } from './errors';
import type { Actor, ApprovalRecord, StoredVersion } from './model';

export interface VersionContext {
  alertId: string;
  actor: Actor;
  now: Date;
  sender: string;
  approvalSeverities: ReadonlySet<string>;
  idempotencyKey?: string | undefined;
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
  const { image, translations, areas, ...rest } = draft;
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
  note?: string,
): StoredVersion {
  const approval = approvalFor(content, msgType, ctx.approvalSeverities);
  const at = ctx.now.toISOString();
  return {
    alertId: ctx.alertId,
    version,
    msgType,
    content,
    identifier: capIdentifier(ctx.alertId, version),
    sent: capDateTime(ctx.now),
    sender: ctx.sender,
    // CAP asks for every earlier message an update or cancel supersedes; held-and-replaced versions never
    // reached anyone, so they are not referenced.
    references: earlier
      .filter((v) => v.dispatchStatus !== 'superseded' && v.dispatchStatus !== 'held')
      .map(capReference),
    ...(note ? { note } : {}),
    author: ctx.actor.id,
    createdAt: at,
    ...(ctx.idempotencyKey ? { idempotencyKey: ctx.idempotencyKey } : {}),
    approval,
    dispatchStatus: approval.required ? 'held' : 'pending',
    ...(approval.required ? {} : { releasedAt: at }),
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
  const errors: FieldError[] = [];
  if (patch.channels) {
    const before = new Set(latest.content.channels);
    patch.channels.forEach((channel, i) => {
      if (!before.has(channel))
        errors.push({
          path: `/channels/${i}`,
          message: `"${channel}" was not a channel of this alert; channels cannot grow after an alert is issued`,
        });
    });
  }
  if (errors.length) throw unprocessable('An update cannot add channels.', errors);
  return buildVersion(ctx, latest.version + 1, 'Update', mergePatch(latest.content, patch), versions);
}

export function cancelAlert(
  versions: readonly StoredVersion[],
  body: CancelBody,
  ctx: VersionContext,
): StoredVersion {
  const latest = latestOf(versions);
  refuseIfCancelled(latest);
  const content: AlertContent = body.description
    ? { ...latest.content, description: body.description }
    : latest.content;
  return buildVersion(ctx, latest.version + 1, 'Cancel', content, versions, body.reason);
}

// ---------------------------------------------------------------- states

export function versionState(v: StoredVersion, isLatest: boolean): VersionState {
  switch (v.dispatchStatus) {
    case 'held':
      return isLatest ? 'pending-approval' : 'superseded';
    case 'superseded':
      return 'superseded';
    case 'pending':
      return 'dispatching';
    case 'planned':
      return (v.receiptsSettled ?? 0) >= (v.receiptsPlanned ?? 0) ? 'sent' : 'dispatching';
  }
}

export function alertState(versions: readonly StoredVersion[], now: Date): AlertState {
  const latest = latestOf(versions);
  if (latest.msgType === 'Cancel') return 'cancelled';
  if (latest.dispatchStatus === 'held') return 'pending-approval';
  if (latest.content.expires && Date.parse(latest.content.expires) <= now.getTime()) return 'expired';
  return versionState(latest, true) === 'sent' ? 'sent' : 'dispatching';
}

// ---------------------------------------------------------------- API shapes

export function toApiVersion(v: StoredVersion, isLatest: boolean): AlertVersion {
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
    author: v.author,
    approval: v.approval,
    state: versionState(v, isLatest),
  };
}

export function toApiAlert(versions: readonly StoredVersion[], now: Date): Alert {
  const latest = latestOf(versions);
  const first = versions[0] ?? latest;
  const { state: _latestVersionState, ...current } = toApiVersion(latest, true);
  return {
    ...current,
    state: alertState(versions, now),
    createdAt: first.createdAt,
    updatedAt:
      latest.approval.approvedAt && latest.approval.approvedAt > latest.createdAt
        ? latest.approval.approvedAt
        : latest.createdAt,
    versions: versions.map((v, i) => ({
      version: v.version,
      msgType: v.msgType,
      sent: v.sent,
      author: v.author,
      headline: v.content.headline,
      state: versionState(v, i === versions.length - 1),
    })),
  };
}
