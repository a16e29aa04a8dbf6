/** Alerts, receipts and idempotency records: the store the api, the dispatcher and the senders share. */
import type { Channel } from '../../schemas/alert';
import type { DeliveryStatus } from '../../schemas/delivery';
import type {
  AlertHead,
  ApprovalRecord,
  IdempotencyRecord,
  Receipt,
  ReceiptKey,
  StoredResponse,
  StoredVersion,
} from '../core/model';
import type { LeaseRequest } from './fanout';
import type { PublishTarget } from './time';

// ---------------------------------------------------------------- store

export interface Page<T> {
  items: T[];
  cursor?: string | undefined;
}

export interface AlertStore {
  /**
   * Writes a new version; `exists` when that version number is taken (the optimistic-concurrency check).
   * Writing version 1 creates the alert, head included, in the same write.
   */
  putVersion(version: StoredVersion): Promise<'created' | 'exists'>;
  /** Moves the head's latestVersion forward (never back). Idempotent. */
  advanceHead(alertId: string, version: number, at: string): Promise<void>;
  /** The head and every version, oldest first; undefined when there is no such alert. */
  getAlert(alertId: string): Promise<{ head?: AlertHead | undefined; versions: StoredVersion[] } | undefined>;
  getVersion(alertId: string, version: number): Promise<StoredVersion | undefined>;
  /** Alerts newest first, each with its latest version. */
  listAlerts(options: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<{ head: AlertHead; latest: StoredVersion }>>;
  /**
   * held → pending (or → scheduled, when approved before its `publishAt`), recording who approved; `not-held` when it
   * was not waiting (already approved, superseded).
   */
  approveVersion(
    alertId: string,
    version: number,
    approval: ApprovalRecord,
    at: string,
    options?: { publishAt?: string | undefined },
  ): Promise<'approved' | 'not-held'>;
  /** held or scheduled → superseded, when a newer version replaces one that never went out. */
  supersedeVersion(alertId: string, version: number): Promise<void>;
  /** scheduled → pending at its time; `not-scheduled` when it is not (released already, replaced, withdrawn). */
  releaseScheduled(alertId: string, version: number, at: string): Promise<'released' | 'not-scheduled'>;
  /**
   * pending → superseded, for a version released at its time while a replacement was being written: only before its
   * fan-out is planned (nothing queued yet). False when it is already planned, or not pending.
   */
  revokeRelease(alertId: string, version: number): Promise<boolean>;
  /** held or scheduled → withdrawn: an officer removed a waiting step; `not-waiting` when it went out or was replaced. */
  withdrawVersion(
    alertId: string,
    version: number,
    withdrawn: { by: string; at: string },
  ): Promise<'withdrawn' | 'not-waiting'>;
  /**
   * Versions waiting for their publishAt (scheduled, or held with a publishAt), soonest first; with `dueBy`, only
   * those whose time is not after it. A page of at most `limit`.
   */
  findScheduled(options: {
    dueBy?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<PublishTarget & { dispatchStatus: StoredVersion['dispatchStatus'] }>>;
  /** pending → planned with the number of receipts the fan-out made. Idempotent. */
  markPlanned(alertId: string, version: number, receiptsPlanned: number, at: string): Promise<void>;
  /** Counts receipts of a version that reached a final status (drives the alert's `sent` state). */
  countSettled(alertId: string, version: number, count: number): Promise<void>;
  /** Versions released for fan-out before `releasedBefore` that are still not planned. */
  findUnplanned(releasedBefore: string, limit: number): Promise<{ alertId: string; version: number }[]>;
}

export type ClaimResult =
  /** This worker holds the receipt until `leaseUntil`; `previous` is what it was (to spot an unknown outcome). */
  | { kind: 'claimed'; receipt: Receipt; previous: Receipt }
  /** Another worker holds a live lease, or a retry is not yet due. */
  | { kind: 'busy'; receipt: Receipt }
  /** Nothing left to do: the receipt is final. */
  | { kind: 'done'; receipt: Receipt }
  | { kind: 'missing' };

export interface ReceiptOutcome {
  status: Exclude<DeliveryStatus, 'queued' | 'sending'>;
  at: string;
  actor: string;
  /** The attempt this outcome ends (the claimed receipt's `attempts`), for the receipt's history. */
  attempt: number;
  providerMessageId?: string | undefined;
  reason?: string | undefined;
  retryable?: boolean | undefined;
  outcomeUnknown?: boolean | undefined;
  nextAttemptAt?: string | undefined;
  /** The attempt was made by a sandbox provider: nothing reached the public, and the receipt must say so. */
  sandbox?: boolean | undefined;
}

export interface ReceiptStore {
  /** Writes `queued` receipts that do not exist yet (never overwrites); answers how many were new. */
  createReceipts(receipts: ReceiptKey[], at: string): Promise<number>;
  /**
   * Takes the receipt for one attempt (status `sending`, attempts + 1, a lease), if it is queued, due for retry,
   * abandoned by a dead worker (lease over), or failed-but-retryable (a dead-letter redrive). Appends no history:
   * `record` appends the attempt's outcome.
   */
  claim(key: ReceiptKey, lease: LeaseRequest & { actor: string }): Promise<ClaimResult>;
  /** Records how the attempt ended, if this worker still holds the lease; false when it does not. */
  record(key: ReceiptKey, leaseId: string, outcome: ReceiptOutcome): Promise<boolean>;
  get(key: ReceiptKey): Promise<Receipt | undefined>;
  /**
   * The receipt a provider's message id belongs to, for delivery callbacks (SNS SMS delivery logs, SES events).
   * Receipts are indexed by provider message id when `record` sets one.
   */
  findByProviderMessageId(channel: Channel, providerMessageId: string): Promise<ReceiptKey | undefined>;
  /**
   * Records what the provider later confirmed: `sent` → `delivered` or `failed` (a bounce, a carrier failure); a
   * complaint after delivery stays `delivered` with its reason in the history. False when the receipt is not in
   * a state the confirmation applies to.
   */
  confirm(
    key: ReceiptKey,
    outcome: { status: 'delivered' | 'failed'; at: string; actor: string; reason?: string | undefined },
  ): Promise<boolean>;
  /** Every receipt of an alert, by version, channel and recipient. */
  listForAlert(alertId: string): Promise<Receipt[]>;
}

export type BeginResult =
  | { kind: 'started'; record: IdempotencyRecord }
  | { kind: 'existing'; record: IdempotencyRecord };

export interface IdempotencyStore {
  /** Starts a request under a key, or returns the record already there (a replay, or one still running). */
  begin(record: IdempotencyRecord, now: string): Promise<BeginResult>;
  complete(scope: string, key: string, response: StoredResponse): Promise<void>;
}
