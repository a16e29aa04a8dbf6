/** The fan-out to subscribers: jobs, plans, send windows, deferrals. */
import type { Channel } from '../../schemas/alert';
import type { DeliveryStatus } from '../../schemas/delivery';
import type { Receipt, ReceiptKey, SubscriberChannel } from '../core/model';
import type { Page } from './store';

// ---------------------------------------------------------------- fan-out to subscribers

/**
 * A subscriber-channel send job: one SQS message and one item in the table. The item is the job's state (claimed
 * with a lease, like a receipt) and, once done, the record of whom it reached: updates and cancels go to the
 * union of `sent` over the original's jobs, never back to the zone rosters (invariant 3).
 */
export type SendJobStatus = 'queued' | 'sending' | 'retrying' | 'done' | 'failed';

export interface SendJobKey {
  alertId: string;
  version: number;
  channel: SubscriberChannel;
  /** 0, 1, 2, … within the version and channel. */
  index: number;
  /**
   * Set on a deferral, not a job: the recipients of job `index` whose quiet hours end at this instant (ISO 8601), kept
   * in an item of their own and released then as a job of its own (functions/channel/deferrals.ts).
   */
  deferredUntil?: string | undefined;
}

/** A claim on a receipt or a job for one attempt, held until `leaseUntil` unless its holder ends it first. */
export interface LeaseRequest {
  leaseId: string;
  leaseUntil: string;
  now: string;
  /**
   * Set only by the embedded mode's sole sender (its boot id): a lease held by another owner belonged to a process
   * that is gone, and is taken over at once instead of waited out. Unset on AWS, where leases are waited out.
   */
  owner?: string | undefined;
}

/** The lease owner fields a sender adds to its claims: only the embedded mode's sole sender has any. */
export const leaseOwnerOf = (config: { soleSenderId?: string | undefined }): Pick<LeaseRequest, 'owner'> =>
  config.soleSenderId ? { owner: config.soleSenderId } : {};

export interface SendJob extends SendJobKey {
  /** Subscriber ids. */
  recipients: string[];
  status: SendJobStatus;
  attempts: number;
  leaseId?: string | undefined;
  leaseUntil?: string | undefined;
  nextAttemptAt?: string | undefined;
  /** A dead-lettered job a redrive may claim again. */
  retryable?: boolean | undefined;
  /** Recipients this job's attempts sent to (the provider accepted): the alert's audience on this channel. */
  sent?: string[] | undefined;
  /**
   * The recipients the current attempt may be sending to, written before the first of them is sent and removed
   * when the attempt ends. Found by a re-claim, it names the only recipients whose outcome a dead attempt lost.
   */
  window?: SendWindow | undefined;
  /**
   * Recipients this job deferred to the end of their quiet hours (their receipts say `deferred`): part of the alert's
   * audience on this channel as much as `sent`, so an update or a cancel reaches them (or replaces what waits).
   */
  deferred?: string[] | undefined;
  createdAt: string;
  updatedAt: string;
}

export interface SendWindow {
  recipients: string[];
  /** When the attempt started sending to them. */
  at: string;
}

export type SendJobClaim =
  /** This worker holds the job until `leaseUntil`; `previous` tells a first attempt from a re-claim. */
  | { kind: 'claimed'; job: SendJob; previous: SendJob }
  | { kind: 'busy'; job: SendJob }
  | { kind: 'done'; job: SendJob }
  | { kind: 'missing' };

/**
 * Planning a version's subscriber fan-out, one record per version: `writing` while one dispatcher writes the jobs
 * (a lease, so two never interleave and a crashed one is taken over), `written` once every job item exists (they
 * may then be queued, and re-queued, freely), `waiting` while an update waits for the original's jobs to finish.
 */
export interface FanoutPlanRecord {
  alertId: string;
  version: number;
  state: 'writing' | 'written' | 'waiting';
  until?: string | undefined;
  /** Recipients and jobs per subscriber channel, once written. */
  recipients?: Partial<Record<SubscriberChannel, number>> | undefined;
  jobs?: Partial<Record<SubscriberChannel, number>> | undefined;
}

export type PlanAcquire =
  | { kind: 'acquired' }
  /** Someone else holds the plan (`writing`, or `waiting`) until `until`. */
  | { kind: 'held'; record: FanoutPlanRecord }
  | { kind: 'written'; record: FanoutPlanRecord };

export interface ReceiptFilter {
  version?: number | undefined;
  channel?: Channel | undefined;
  status?: DeliveryStatus | undefined;
}

/** How a job attempt ended (BulkStore.finishJob). */
export interface JobOutcome {
  status: 'done' | 'retrying' | 'failed';
  at: string;
  sent: readonly string[];
  /** Recipients deferred to the end of their quiet hours, listed in a deferral item already. */
  deferred?: readonly string[] | undefined;
  nextAttemptAt?: string | undefined;
  retryable?: boolean | undefined;
}

export interface BulkStore {
  /**
   * Takes a version's plan record for `purpose` until `until`, if it is absent or its holder's time is over; answers
   * what is there otherwise.
   */
  acquirePlan(
    alertId: string,
    version: number,
    purpose: 'writing' | 'waiting',
    times: { now: string; until: string },
  ): Promise<PlanAcquire>;
  /** Marks the plan written, with its counts (the deliveries totals show recipients not yet sent as queued). */
  finishPlan(record: FanoutPlanRecord & { state: 'written' }): Promise<void>;
  /** Every plan record of an alert. */
  listPlans(alertId: string): Promise<FanoutPlanRecord[]>;
  /** Writes job items in batches (BatchWriteItem, 25 a call), replacing any with the same key. */
  putJobs(jobs: SendJob[]): Promise<void>;
  /** Deletes a version's job items (a taken-over plan is written again from scratch). */
  deleteJobs(alertId: string, version: number): Promise<void>;
  /** A version's jobs on one channel, or on every channel. */
  listJobs(alertId: string, version: number, channel?: SubscriberChannel): Promise<SendJob[]>;
  /** Claims a job for one attempt if it is queued, due for retry, abandoned (lease over) or a dead-letter redrive. */
  claimJob(
    key: SendJobKey,
    lease: LeaseRequest,
    /** The first recipients a first attempt sends to: written by the claim itself, at no extra request. */
    firstWindow?: SendWindow,
  ): Promise<SendJobClaim>;
  /**
   * Records the recipients this attempt is about to send to, if its lease is still held (false: another worker
   * owns the job now, and this one must stop sending).
   */
  markWindow(key: SendJobKey, leaseId: string, window: SendWindow): Promise<boolean>;
  /**
   * Ends the attempt (if the lease is still held): status, the recipients it sent to added to `sent`, and its window
   * removed (every outcome in it is stored).
   */
  finishJob(key: SendJobKey, leaseId: string, outcome: JobOutcome): Promise<boolean>;
  /** Who the version was sent to on a channel: the union of its jobs' `sent`. */
  audienceOf(alertId: string, version: number, channel: SubscriberChannel): Promise<Set<string>>;
  /** Receipts by key (BatchGetItem, 100 a call, consistent); absent ones are absent from the map (by recipient). */
  getReceipts(keys: readonly ReceiptKey[]): Promise<Map<string, Receipt>>;
  /** Writes whole receipts in batches (BatchWriteItem, 25 a call), indexed by provider message id when they have one. */
  putReceipts(receipts: readonly Receipt[]): Promise<void>;
  /** A page of an alert's receipts, by version, channel and recipient. */
  listReceiptsPage(
    alertId: string,
    filter: ReceiptFilter & { limit: number; cursor?: string | undefined },
  ): Promise<Page<Receipt>>;
  /** How many receipts per version, channel and status (a Query that reads only those three). */
  countReceipts(
    alertId: string,
    filter: ReceiptFilter,
  ): Promise<{ version: number; channel: Channel; status: DeliveryStatus; count: number }[]>;
}

/**
 * Recipients waiting for the end of their quiet hours, one item per (alert, version, channel, job, end instant): a
 * SendJobKey with `deferredUntil`, claimed, windowed and finished through the BulkStore exactly as a job is. Indexed
 * by the time the sweeper should look at it (its end, then a re-check while its release is under way) until it is
 * done.
 */
export interface DeferralStore {
  /**
   * Lists `recipients` in the deferral, creating it if need be, while nobody has claimed it yet (status `queued`);
   * false when its release has begun: the caller must not count on it for these recipients.
   */
  addDeferred(
    key: SendJobKey & { deferredUntil: string },
    recipients: readonly string[],
    at: string,
  ): Promise<boolean>;
  /** One deferral, read consistently. */
  getDeferral(key: SendJobKey & { deferredUntil: string }): Promise<SendJob | undefined>;
  /**
   * Deferrals whose time to look at has come (`dueBy` or earlier), soonest first, and the alerts whose earlier
   * versions' deferrals a newer version made due at once (`releaseEarlierDeferrals`).
   */
  findDueDeferrals(
    dueBy: string,
    limit: number,
  ): Promise<{ deferrals: SendJob[]; earlier: { alertId: string; beforeVersion: number; mark: string }[] }>;
  /** An alert's deferrals of versions before `beforeVersion` that are not released yet. */
  pendingDeferrals(alertId: string, beforeVersion: number): Promise<SendJob[]>;
  /** After queueing a deferral's release: look at it again at `recheckAt` if it is not done by then. */
  markReleased(key: SendJobKey & { deferredUntil: string }, recheckAt: string): Promise<void>;
  /**
   * A newer version went out: the deferrals of earlier versions are to be released now (their releases find it and
   * supersede what waits) rather than at the end of the quiet hours. One small item per version, idempotent.
   */
  releaseEarlierDeferrals(alertId: string, beforeVersion: number, at: string): Promise<void>;
  /** Removes the request of releaseEarlierDeferrals once it is carried out (unless written again since: `mark`). */
  earlierReleased(alertId: string, beforeVersion: number, mark: string): Promise<void>;
}
