/**
 * Key layout of the single table (see table.ts) and the opaque cursors built from it. Every PK/SK string the
 * adapter writes or reads is spelled here, so the layout in table.ts has one implementation.
 */

export const VERSION_DIGITS = 10;

/** Zero-padded so versions sort as numbers inside a partition. */
export const pad = (version: number): string => {
  if (!Number.isSafeInteger(version) || version < 0)
    throw new RangeError(`version must be a whole number, got ${version}`);
  return String(version).padStart(VERSION_DIGITS, '0');
};

export const ALERT_PREFIX = 'ALERT#';
export const VERSION_PREFIX = 'V#';
export const ALERTS_INDEX_PK = 'ALERTS';
export const UNPLANNED_INDEX_PK = 'UNPLANNED';
/** Versions waiting for their publishAt (scheduled, or held for approval with a publishAt), by that time. */
export const SCHEDULED_INDEX_PK = 'SCHEDULED';
export const RECEIPT_PREFIX = 'RCPT#';
export const IDEMPOTENCY_PREFIX = 'IDEM#';
export const OUTBOX_PK = 'OUTBOX';

export const GSI1 = 'GSI1';
export const GSI2 = 'GSI2';

export const alertPk = (alertId: string): string => `${ALERT_PREFIX}${alertId}`;
export const versionSk = (version: number): string => `${VERSION_PREFIX}${pad(version)}`;
export const headIndexSk = (createdAt: string, alertId: string): string => `${createdAt}#${alertId}`;
export const unplannedIndexSk = (releasedAt: string, alertId: string, version: number): string =>
  `${releasedAt}#${alertId}#${pad(version)}`;
export const scheduledIndexSk = (publishAt: string, alertId: string, version: number): string =>
  `${publishAt}#${alertId}#${pad(version)}`;

/** Receipts by the provider's message id (GSI1), for delivery callbacks. */
export const providerIndexPk = (channel: string, providerMessageId: string): string =>
  `PMID#${channel}#${providerMessageId}`;
export const PROVIDER_INDEX_SK = 'R';

export const receiptPk = (alertId: string): string => `${RECEIPT_PREFIX}${alertId}`;
export const receiptSk = (version: number, channel: string, recipient: string): string =>
  `${pad(version)}#${channel}#${recipient}`;

export const idempotencyPk = (scope: string): string => `${IDEMPOTENCY_PREFIX}${scope}`;

export const outboxSk = (at: string, providerMessageId: string): string => `${at}#${providerMessageId}`;

/** The attributes that only exist to place an item in the table or an index; never part of a domain object. */
export const KEY_ATTRIBUTES = ['PK', 'SK', 'GSI1PK', 'GSI1SK', 'GSI2PK', 'GSI2SK'] as const;

export function stripKeys<T>(item: Record<string, unknown>): T {
  const copy: Record<string, unknown> = { ...item };
  for (const name of KEY_ATTRIBUTES) delete copy[name];
  return copy as T;
}

// ---------------------------------------------------------------- cursors

/** A cursor the API received that this adapter did not make (or that was tampered with); the API answers 400. */
export class InvalidCursorError extends Error {
  constructor(message = 'the cursor is not one this API returned') {
    super(message);
    this.name = 'InvalidCursorError';
  }
}

export type KeyCursor = Record<string, string>;

export function encodeCursor(key: KeyCursor): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor and checks it has exactly the expected string attributes, then lets `check` vet their
 * values. Strict on purpose: a cursor becomes an ExclusiveStartKey, and a forged one must not steer a query
 * into another partition.
 */
export function decodeCursor(
  cursor: string,
  attributes: readonly string[],
  check: (key: KeyCursor) => boolean,
): KeyCursor {
  // Node's base64url decoder skips characters it does not know; insisting on a round trip rejects them.
  if (cursor.length === 0 || cursor.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(cursor))
    throw new InvalidCursorError();
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.toString('base64url') !== cursor) throw new InvalidCursorError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidCursorError();
  const entries = Object.entries(parsed);
  if (entries.length !== attributes.length) throw new InvalidCursorError();
  const key: KeyCursor = {};
  for (const name of attributes) {
    const value = (parsed as Record<string, unknown>)[name];
    if (typeof value !== 'string' || value.length === 0) throw new InvalidCursorError();
    key[name] = value;
  }
  if (!check(key)) throw new InvalidCursorError();
  return key;
}

/** Picks the named key attributes of an item, to build a cursor that resumes right after it. */
export function keyOf(item: Record<string, unknown>, attributes: readonly string[]): KeyCursor {
  const key: KeyCursor = {};
  for (const name of attributes) {
    const value = item[name];
    if (typeof value !== 'string') throw new Error(`item has no string key attribute ${name}`);
    key[name] = value;
  }
  return key;
}

// ---------------------------------------------------------------- residents and media

export const SUBSCRIBER_PREFIX = 'SUB#';
export const SUBSCRIBER_PROFILE_SK = 'PROFILE';
/** Every subscriber, oldest first (GSI1); GSI2 holds the same listing per channel. */
export const SUBSCRIBERS_INDEX_PK = 'SUBS';
export const ADDRESS_LOCK_SK = 'SUB';
export const ROSTER_BUCKET_PREFIX = 'B#';
/**
 * Buckets per roster. A roster's ids are spread over this many items (String Sets) so that one item stays far below
 * DynamoDB's 400 KB, about 6,000 ids (of ~40 characters) a bucket: 64 buckets hold 400,000 subscribers of one zone,
 * and a fan-out still reads the whole roster in a handful of 1 MB query pages.
 */
export const ROSTER_BUCKETS = 64;
export const CHALLENGE_SK = 'CODE';
export const RATE_PREFIX = 'RATE#';
export const KEYRING_PK = 'KEYRING';
export const PII_DATA_KEY_SK = 'PII#1';

export const subscriberPk = (id: string): string => `${SUBSCRIBER_PREFIX}${id}`;
export const subscribersByChannelIndexPk = (channel: string): string => `${SUBSCRIBERS_INDEX_PK}#${channel}`;
export const subscriberIndexSk = (createdAt: string, id: string): string => `${createdAt}#${id}`;
export const addressLockPk = (channel: string, addressHash: string): string =>
  `ADDR#${channel}#${addressHash}`;
export const rosterPk = (channel: string, audience: string, zone: string): string =>
  `ROSTER#${channel}#${audience}#${zone}`;
export const challengePk = (channel: string, addressHash: string): string => `CHAL#${channel}#${addressHash}`;

/**
 * Quiet hours beside the rosters: the ids of a zone's confirmed subscribers that have a window, one partition per
 * roster and one item per window and bucket (the roster's bucket of the id), so the preview reads a zone's few windows
 * instead of every profile.
 */
export const quietIndexPk = (channel: string, audience: string, zone: string): string =>
  `QUIET#${channel}#${audience}#${zone}`;
export const quietIndexSk = (windowLabel: string, subscriberId: string): string =>
  `${windowLabel}#${rosterBucketSk(subscriberId)}`;

/**
 * Deferrals (functions/channel/deferrals.ts): recipients of one job of one version waiting for the end of their quiet
 * hours, and the requests to release an alert's deferrals early; all indexed on GSI1 by when to look at them.
 */
export const deferralPk = (alertId: string): string => `DEFER#${alertId}`;
export const deferralSk = (version: number, channel: string, index: number, until: string): string =>
  `${pad(version)}#${channel}#${String(index).padStart(6, '0')}#${until}`;
export const earlyReleaseSk = (beforeVersion: number): string => `EARLY#${pad(beforeVersion)}`;
export const DEFERRALS_INDEX_PK = 'DEFERRALS';
export const deferralIndexSk = (lookAt: string, alertId: string, rest: string): string =>
  `${lookAt}#${alertId}#${rest}`;

/** A subscriber's bucket in every roster: a stable hash (32-bit FNV-1a) of its id, so ADD and DELETE meet. */
export function rosterBucketSk(subscriberId: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < subscriberId.length; i++) {
    hash ^= subscriberId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return `${ROSTER_BUCKET_PREFIX}${String((hash >>> 0) % ROSTER_BUCKETS).padStart(2, '0')}`;
}

/**
 * Subscription audit: one item per change of a subscriber's state, kept after the subscriber is deleted (it holds
 * no PII). A subscriber's trail is one partition; GSI1 lists every event by time.
 */
export const SUBSCRIPTION_AUDIT_PREFIX = 'SUBAUDIT#';
export const SUBSCRIPTION_AUDIT_INDEX_PK = 'SUBAUDIT';
export const subscriptionAuditPk = (subscriberId: string): string =>
  `${SUBSCRIPTION_AUDIT_PREFIX}${subscriberId}`;
/** `<at>#<unique>`: time order inside the trail, and two events of one millisecond never overwrite each other. */
export const subscriptionAuditSk = (at: string, unique: string): string => `${at}#${unique}`;
export const subscriptionAuditIndexSk = (at: string, subscriberId: string, unique: string): string =>
  `${at}#${subscriberId}#${unique}`;

/**
 * A page from a read of up to `limit + 1` items: the first `limit`, and a cursor after the last of them when the
 * extra item shows there is more.
 */
export function pageOf<T>(
  items: readonly Record<string, unknown>[],
  limit: number,
  cursorKey: readonly string[],
  toDomain: (item: Record<string, unknown>) => T,
): { items: T[]; cursor: string | undefined } {
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toDomain),
    cursor: items.length > limit && last ? encodeCursor(keyOf(last, cursorKey)) : undefined,
  };
}
