/**
 * What the audit chain records of an alert, and what its versions say it should hold. The alert's readable trail
 * (GET /v1/alerts/{id}/audit) is derived from its version items; the chain records the same events as they happen, so
 * the verifier can derive them again from the versions as they are now and compare (core/audit-chain.ts
 * compareWithTrail): a version whose author, note, approval or text was edited in the table no longer matches.
 *
 * The events are those getAudit (functions/api/deliveries.ts) derives from versions: created, updated, cancelled,
 * held for approval, scheduled, replaced, approved, withdrawn, released. Not the fan-out's and deliveries' events:
 * each receipt carries its own history in the item its conditional write changes, and chaining one entry per
 * recipient would cost an alert to 100,000 residents as many extra writes.
 */
import { createHash } from 'node:crypto';
import type { AuditContent } from './audit-chain';
import { canonicalJson } from './audit-chain';
import type { ApprovalRecord, StoredVersion } from './model';

const CREATED_ACTION = {
  Alert: 'alert.created',
  Update: 'alert.updated',
  Cancel: 'alert.cancelled',
} as const;

/**
 * `version.released` is chained but not derived for the comparison: a version's releasedAt is also set when it goes
 * out at once or on approval, so the versions alone cannot say whether the scheduler released it.
 */
export const ALERT_ACTIONS_NOT_DERIVED: ReadonlySet<string> = new Set(['version.released']);

/**
 * A digest of the part of a version written once and never rewritten (model.ts): the chain holds it, so an edit of
 * what an alert said (its text, areas, channels, author) shows as a mismatch, not only an edit of the chain.
 */
export function versionDigest(v: StoredVersion): string {
  const written = {
    msgType: v.msgType,
    content: v.content,
    identifier: v.identifier,
    sent: v.sent,
    sender: v.sender,
    references: v.references,
    note: v.note,
    author: v.author,
    createdAt: v.createdAt,
    publishAt: v.publishAt,
    replaces: v.replaces,
  };
  return createHash('sha256').update(canonicalJson(written)).digest('hex');
}

const event = (fields: Record<string, string | number | undefined>): AuditContent =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));

/** The events writing version `v` makes, in the order getAudit lists them. */
export function versionCreatedEvents(v: StoredVersion): AuditContent[] {
  const events = [
    event({
      action: CREATED_ACTION[v.msgType],
      actor: v.author,
      at: v.createdAt,
      version: v.version,
      detail: v.note,
      digest: versionDigest(v),
    }),
  ];
  if (v.approval.required)
    events.push(
      event({
        action: 'version.held-for-approval',
        actor: 'system:policy',
        at: v.createdAt,
        version: v.version,
      }),
    );
  if (v.publishAt)
    events.push(
      event({
        action: 'version.scheduled',
        actor: v.author,
        at: v.createdAt,
        version: v.version,
        detail: `to go out at ${v.publishAt}`,
      }),
    );
  for (const replaced of v.replaces ?? [])
    events.push(
      event({
        action: 'version.replaced',
        actor: v.author,
        at: v.createdAt,
        version: replaced,
        detail: `by version ${v.version}, before it went out`,
      }),
    );
  return events;
}

export function versionApprovedEvent(version: number, approval: ApprovalRecord, at: string): AuditContent {
  return event({
    action: 'version.approved',
    actor: approval.approvedBy,
    at: approval.approvedAt ?? at,
    version,
    detail: approval.note,
  });
}

export const versionReleasedEvent = (version: number, at: string): AuditContent =>
  event({ action: 'version.released', actor: 'system:scheduler', at, version });

export const versionWithdrawnEvent = (version: number, withdrawn: { by: string; at: string }): AuditContent =>
  event({ action: 'version.withdrawn', actor: withdrawn.by, at: withdrawn.at, version });

/** Every chained event the alert's versions, as they are now, say happened (but `version.released`). */
export function alertTrail(versions: readonly StoredVersion[]): AuditContent[] {
  const events: AuditContent[] = [];
  for (const v of versions) {
    events.push(...versionCreatedEvents(v));
    if (v.approval.approvedAt && v.approval.approvedBy)
      events.push(versionApprovedEvent(v.version, v.approval, v.approval.approvedAt));
    if (v.withdrawn) events.push(versionWithdrawnEvent(v.version, v.withdrawn));
  }
  return events;
}
