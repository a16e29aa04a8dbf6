/**
 * The small interfaces the handlers are given. Each has one adapter for AWS and, where the embedded mode
 * needs another, one for the machine; tests pass fakes or the real adapters against local servers.
 */
import type { Channel } from '../schemas/alert';
import type { DeliveryStatus } from '../schemas/delivery';
import type {
  AlertHead,
  ApprovalRecord,
  Audience,
  Challenge,
  IdempotencyRecord,
  Receipt,
  ReceiptKey,
  StoredResponse,
  StoredVersion,
  Subscriber,
  SubscriberChannel,
} from './core/model';
import type { QuietWindow } from './core/quiet-hours';

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

// ---------------------------------------------------------------- time

/** A scheduled version, named for the wake-up that releases it at its publishAt. */
export interface PublishTarget {
  alertId: string;
  version: number;
  /** ISO 8601 instant (UTC) of its publishAt. */
  at: string;
}

/**
 * Wakes Herald at a scheduled version's publishAt, to release it (functions/core/schedule.ts). On AWS an
 * EventBridge Scheduler one-time schedule that puts the version's dispatch message on the dispatch queue; in the
 * embedded mode the runtime's timer over the stored schedule. Either way the sweeper also releases whatever is due
 * (a wake-up lost, an arm that failed), so a timer is about punctuality, never about whether a version goes out.
 */
export interface PublishTimer {
  /** Idempotent: arming a version again keeps one wake-up (at the newest time given). */
  arm(target: PublishTarget): Promise<void>;
  /** Idempotent: a wake-up that already fired, or never existed, is fine. */
  disarm(target: Omit<PublishTarget, 'at'>): Promise<void>;
}

// ---------------------------------------------------------------- queues

/** Logical queue names; the adapter maps them to URLs (SQS) or to embedded queues. */
export type QueueName = 'dispatch' | `channel-${Channel}`;
export const channelQueue = (channel: Channel): QueueName => `channel-${channel}`;

export interface OutgoingMessage {
  /** Unique within one send call; used to report per-message failures. */
  id: string;
  body: string;
  delaySeconds?: number | undefined;
}

export interface QueuePort {
  /** Sends messages in batches of up to 10; throws if any message could not be sent after retries. */
  send(queue: QueueName, messages: OutgoingMessage[]): Promise<void>;
  /** Postpones redelivery of a received message (SQS ChangeMessageVisibility), to back off a retry. */
  changeVisibility(queue: QueueName, receiptHandle: string, seconds: number): Promise<void>;
}

// ---------------------------------------------------------------- providers

/** What a channel handler hands a provider: one rendered message for one recipient. */
/** An image at a public URL (providers fetch it from there: Instagram must). */
export interface PublicImage {
  url: string;
  alt: string;
  width?: number | undefined;
  height?: number | undefined;
}

export interface EmailAttachment {
  filename: string;
  contentType: string;
  /** The file's text (the CAP XML). */
  content: string;
}

/** What one channel carries, already rendered within that channel's budget (functions/core/render). */
export type ChannelContent =
  | { channel: 'x'; text: string; image?: PublicImage | undefined }
  | { channel: 'facebook'; text: string; link?: string | undefined; image?: PublicImage | undefined }
  | { channel: 'instagram'; caption: string; image: PublicImage }
  | { channel: 'sms'; text: string }
  | {
      channel: 'email';
      subject: string;
      text: string;
      html: string;
      attachments: EmailAttachment[];
      /** RFC 5322 Message-ID of this version's email, and those it follows, so mail clients thread updates. */
      messageId: string;
      inReplyTo?: string | undefined;
      references?: string[] | undefined;
    }
  | { channel: 'webhook'; payload: Record<string, unknown> };

export interface OutboundMessage {
  channel: Channel;
  alertId: string;
  version: number;
  recipient: string;
  /** Plain text of what goes out, for the sandbox outbox and for people reading receipts. */
  text: string;
  /** What the provider sends, shaped for its channel. */
  content: ChannelContent;
  /** The provider's id of the previous post of the same alert to the same recipient, to reply or thread. */
  inReplyTo?: string | undefined;
  image?: { url: string; alt?: string | undefined } | undefined;
  /** Stable for (alert, version, channel, recipient): lets a provider that supports it deduplicate or look up. */
  idempotencyKey: string;
  /** Exercise and Test alerts: the provider must not reach the public. */
  test: boolean;
}

export interface ProviderAccepted {
  providerMessageId: string;
}

/** A provider failure, classified: what the channel handler does next depends only on `kind`. */
export class ProviderError extends Error {
  constructor(
    readonly kind: 'retryable' | 'permanent' | 'unknown-outcome',
    readonly reason: string,
    readonly retryAfterMs?: number,
  ) {
    super(reason);
    this.name = 'ProviderError';
  }
}

export interface ChannelProvider {
  readonly channel: Channel;
  /** `sandbox` for the recording provider, `real` for one that reaches the public. */
  readonly mode: 'real' | 'sandbox';
  /** Posts; resolves with the provider's id or throws a ProviderError (anything else counts as unknown outcome). */
  send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted>;
  /**
   * Finds an earlier post by idempotency key, for when an attempt's outcome was lost. Providers that cannot
   * look up leave this out, and the channel's policy decides (see functions/core/delivery-policy.ts).
   */
  lookup?(idempotencyKey: string): Promise<ProviderAccepted | undefined>;
}

// ---------------------------------------------------------------- sandbox outbox

export interface OutboxItem {
  channel: Channel;
  alertId: string;
  version: number;
  recipient: string;
  text: string;
  providerMessageId: string;
  inReplyTo?: string | undefined;
  image?: { url: string } | undefined;
  at: string;
  idempotencyKey: string;
}

export interface OutboxStore {
  append(item: OutboxItem): Promise<void>;
  /** Newest first. */
  list(filter: {
    channel?: Channel | undefined;
    alertId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<OutboxItem> & { total: number }>;
  findByIdempotencyKey(key: string): Promise<OutboxItem | undefined>;
}

// ---------------------------------------------------------------- images and secrets

/** Where rendered images (alert cards) are kept and served from: S3 behind the CDN, or the embedded server. */
export interface ImageStore {
  put(key: string, bytes: Uint8Array, contentType: 'image/jpeg' | 'image/png'): Promise<{ url: string }>;
}

/**
 * Provider credentials by name (`x`, `facebook`, …): Secrets Manager on AWS (cached; `refresh` re-reads after a
 * 401), the environment or a config file in the embedded mode. Undefined when the channel has none configured.
 * Values are never logged.
 */
export interface SecretSource {
  get(name: string, options?: { refresh?: boolean }): Promise<Record<string, string> | undefined>;
}

// ---------------------------------------------------------------- residents and media

/**
 * Personal data at rest: addresses are encrypted (AES-256-GCM under a data key: KMS-wrapped on AWS, a key file
 * in the embedded mode) and found by a keyed hash, so the table never holds a phone number or email in clear.
 */
export interface PiiCipher {
  /** Deterministic keyed hash (HMAC-SHA-256, base64url) of an already normalised address: the lookup key. */
  hash(value: string): Promise<string>;
  encrypt(plain: string): Promise<string>;
  decrypt(cipher: string): Promise<string>;
}

/** What a change of subscription state was (invariant 6): the subscription audit's actions. */
export type SubscriptionAction =
  | 'requested'
  | 'confirmed'
  | 'changed'
  | 'stopped'
  | 'started'
  | 'imported'
  | 'added'
  | 'deleted'
  | 'webhook-created'
  | 'webhook-deleted'
  /** `QUIET 22-07` or the web: the resident's quiet hours set or changed (the window in `detail`). */
  | 'quiet-hours-set'
  /** `QUIET OFF` or the web: the resident's quiet hours removed. */
  | 'quiet-hours-cleared';
export type SubscriptionMethod = 'sms-keyword' | 'web' | 'import' | 'officer';

/** Who made a change and how; the store stamps the rest (subscriber id, channel, time). */
export interface SubscriptionChange {
  action: SubscriptionAction;
  /** `resident`, or the officer's id. */
  actor: string;
  method: SubscriptionMethod;
  /** ISO 8601; the subscriber's `updatedAt` (or now, for a deletion) when absent. */
  at?: string | undefined;
  /** What else the change was, in words that hold no personal data: `quiet hours 22:00-07:00`. */
  detail?: string | undefined;
}

/**
 * One stored audit entry of a subscription: no address, no address hash, no masked address, so it outlives the
 * subscriber's deletion and still shows that they existed, consented and were removed, by whom and when.
 */
export interface SubscriptionEvent {
  at: string;
  action: SubscriptionAction;
  actor: string;
  method: SubscriptionMethod;
  subscriberId: string;
  channel: SubscriberChannel;
  detail?: string | undefined;
}

export interface SubscriberStore {
  /**
   * Creates a subscriber, unique per (channel, addressHash); `exists` hands back the one already there. Every
   * state-changing method appends a SubscriptionEvent (from `change`, or one derived from the state when absent).
   */
  createSubscriber(
    subscriber: Subscriber,
    change?: SubscriptionChange,
  ): Promise<{ kind: 'created' } | { kind: 'exists'; subscriber: Subscriber }>;
  getSubscriber(id: string): Promise<Subscriber | undefined>;
  findSubscriber(channel: SubscriberChannel, addressHash: string): Promise<Subscriber | undefined>;
  /**
   * Strongly consistent batch read by id (BatchGetItem, 100 keys a call): the sender's last look before it sends,
   * so a STOP stored before it wins. Ids with no subscriber are absent from the map.
   */
  getSubscribers(ids: readonly string[]): Promise<Map<string, Subscriber>>;
  /**
   * Replaces a subscriber if its `updatedAt` is still `expectedUpdatedAt` (false when someone changed it first), and
   * keeps the zone rosters in step: on every roster of its zones while confirmed, on none otherwise.
   */
  saveSubscriber(next: Subscriber, expectedUpdatedAt: string, change?: SubscriptionChange): Promise<boolean>;
  /**
   * Removes the subscriber, its roster entries and its address lookup: no PII is left. False when absent. Its
   * audit trail stays (it holds no PII).
   */
  deleteSubscriber(id: string, change?: SubscriptionChange): Promise<boolean>;
  /** One subscriber's audit trail, oldest first (one Query); empty for an id never seen. */
  subscriberAudit(id: string): Promise<SubscriptionEvent[]>;
  /** Every subscription event, newest first, a page at a time. */
  listSubscriptionAudit(filter: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<SubscriptionEvent>>;
  /** Officers' and auditors' listing, oldest first. */
  listSubscribers(filter: {
    channel?: SubscriberChannel | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<Subscriber>>;
  /** Ids of the confirmed subscribers of one zone (or `*`) on one channel and audience: the fan-out's input. */
  rosterMembers(zone: string, channel: SubscriberChannel, audience: Audience): Promise<string[]>;
  /**
   * Who of the confirmed subscribers of one zone (or `*`) on one channel and audience has quiet hours, by window: a
   * small index kept beside the rosters, so the preview can count who would wait without reading every profile. Like
   * a roster it may hold an id too many after a crash (the sender decides from the profile itself).
   */
  quietMembers(
    zone: string,
    channel: SubscriberChannel,
    audience: Audience,
  ): Promise<{ window: QuietWindow; ids: string[] }[]>;
  putChallenge(challenge: Challenge): Promise<void>;
  getChallenge(channel: Challenge['channel'], addressHash: string): Promise<Challenge | undefined>;
  /** Spends one try (conditional on triesLeft > 0); false when none was left or the challenge is gone. */
  spendChallengeTry(channel: Challenge['channel'], addressHash: string): Promise<boolean>;
  deleteChallenge(channel: Challenge['channel'], addressHash: string): Promise<void>;
  /**
   * Counts one hit of `key` in the fixed window that holds `now`; true while the count stays within `limit`.
   * Keys hold no PII (hashes only). Counters expire with the table's TTL.
   */
  rateLimitHit(key: string, windowSeconds: number, limit: number, now: Date): Promise<boolean>;
}

/** A message to one person outside any alert: a double opt-in code, the answer to a keyword. */
export interface Notice {
  channel: 'sms' | 'email';
  /** The full address, in memory only: never stored in clear, never logged. */
  address: string;
  kind: 'code' | 'keyword-reply';
  /** Email only. */
  subject?: string | undefined;
  text: string;
}

/** Sends notices through the channel's provider (the sandbox outbox where it is sandboxed). */
export interface Notifier {
  send(notice: Notice, signal?: AbortSignal): Promise<void>;
}

/** A zone residents subscribe to, seeded from seed/zones.json. */
export interface Zone {
  id: string;
  name: string;
  /** Names in other languages, by BCP 47 primary tag, for replies in the resident's language. */
  names?: Record<string, string> | undefined;
  /** WGS 84 "lat,lon" pairs, closed (CAP polygon order), when the agency has drawn the zone. */
  polygon?: string[] | undefined;
}

// ---------------------------------------------------------------- time

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

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
  finishJob(
    key: SendJobKey,
    leaseId: string,
    outcome: {
      status: 'done' | 'retrying' | 'failed';
      at: string;
      sent: readonly string[];
      /** Recipients deferred to the end of their quiet hours, listed in a deferral item already. */
      deferred?: readonly string[] | undefined;
      nextAttemptAt?: string | undefined;
      retryable?: boolean | undefined;
    },
  ): Promise<boolean>;
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

// ---------------------------------------------------------------- residents talk back: tips

/** A public reply or comment under one of the agency's posts, as a provider reports it. */
export interface SocialReply {
  channel: Channel;
  /** The reply's id at the provider (an X post id, a Meta comment id): one tip per id, however often it arrives. */
  externalId: string;
  /** The providerMessageId of the agency's post it answers (or of the post whose conversation it belongs to). */
  inReplyTo: string;
  /** The public handle that wrote it (`@resident`): public on social, so it is the tip's `from`. */
  author: string;
  text: string;
  /** When the provider says it was written (ISO 8601). */
  at: string;
}

/** Where every channel's replies enter: the Meta webhook route, the X poller, and any channel added later. */
export interface TipIntake {
  /**
   * Stores `reply` as a tip linked to the alert whose post it answers. The same `externalId` twice is the same tip
   * (`created: false`); a reply to a post Herald did not make is ignored with the reason.
   */
  receiveSocialReply(
    reply: SocialReply,
  ): Promise<{ tipId: string; reference: string; created: boolean } | { ignored: string }>;
}

/** Where a tip came from: a text to the agency's number, the web form, or a reply under one of the agency's posts. */
export type TipSource = 'sms' | 'web' | Exclude<Channel, SubscriberChannel>;
export type TipState = 'open' | 'closed';
/**
 * How an officer's answer reaches the tipster: a text from the agency's number, an email, or a public reply under
 * their post (only when the officer says `public: true`). None: an anonymous web tip, or a contact past retention.
 */
export type TipReplyRoute = 'sms' | 'email' | 'public-reply';

/** One message of a tip's thread after the tip itself: an officer's answer, and what became of it. */
export interface TipMessage {
  /** A ULID: the thread sorts by it. */
  id: string;
  direction: 'in' | 'out';
  text: string;
  at: string;
  /** The officer who wrote it (the token's sub). */
  author?: string | undefined;
  /** `sending` until the provider answers (`sent` or `failed`); a public reply on social waits `queued`. */
  status?: 'sending' | 'sent' | 'failed' | 'queued' | undefined;
  reason?: string | undefined;
  /** A public reply on a social channel. */
  public?: boolean | undefined;
  providerMessageId?: string | undefined;
}

/**
 * A tip as stored. It holds no number, address or hash of either: `from` is an alias derived from the contact's
 * keyed hash (or the public handle on social), and the contact itself is a separate encrypted item (TipContact).
 */
export interface StoredTip {
  id: string;
  /** `T-` and 4 Crockford base32 characters, unique: what the resident quotes. */
  reference: string;
  alertId?: string | undefined;
  source: TipSource;
  from: string;
  text: string;
  receivedAt: string;
  state: TipState;
  assignee?: string | undefined;
  /** The reply language (en, es, ca) of acknowledgements and answers' wrappers. */
  language: string;
  replyBy?: TipReplyRoute | undefined;
  /** Social: the reply's id at the provider, which a public answer answers. */
  externalId?: string | undefined;
  /** Social: the providerMessageId of the agency's post it answers. */
  inReplyTo?: string | undefined;
  /** When retention erased the contact: the tip can no longer be answered privately. */
  contactErasedAt?: string | undefined;
  closedAt?: string | undefined;
  updatedAt: string;
  /** Answers in the thread (read whole by getTip only; listings leave them out). */
  answerCount: number;
  messages?: TipMessage[] | undefined;
}

/** The tipster's number or address, encrypted with the PiiCipher: read only to send an answer, never shown. */
export interface TipContact {
  channel: 'sms' | 'email';
  cipher: string;
}

export type TipAuditAction =
  | 'tip.received'
  | 'tip.read'
  | 'tip.replied'
  | 'tip.assigned'
  | 'tip.closed'
  | 'tip.reopened'
  | 'tip.contact-erased';

/** One audit entry of a tip (invariant 6): who did what, when. Never the contact, its hash or a mask of it. */
export interface TipAuditEntry {
  tipId: string;
  at: string;
  /** An officer's id, `resident`, a public handle, or `system:<part>`. */
  actor: string;
  action: TipAuditAction;
  detail?: string | undefined;
}

export interface TipFilter {
  alertId?: string | undefined;
  state?: TipState | undefined;
  source?: TipSource | undefined;
  assignee?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface TipStore {
  /** Takes a reference for a tip (a conditional put): false when another tip has it. */
  reserveReference(reference: string, tipId: string): Promise<boolean>;
  /** The tip a reference names. */
  findReference(reference: string): Promise<string | undefined>;
  /**
   * Takes the intake lock of one provider message (a social reply's id, an inbound SMS's id). The first caller gets
   * `taken`; a redelivery or a concurrent caller gets the claim already there, to finish or answer with.
   */
  lockIntake(
    key: string,
    claim: { tipId: string; reference: string; receivedAt: string },
  ): Promise<{ kind: 'taken' } | { kind: 'held'; tipId: string; reference: string; receivedAt: string }>;
  /** The claim on a provider message's intake lock, if it was ever taken (a cheap look before taking it). */
  findIntake(key: string): Promise<{ tipId: string; reference: string; receivedAt: string } | undefined>;
  /**
   * Writes a new tip, its contact first: `exists` when the tip was already there (a crashed intake finished by its
   * retry). `eraseBy` (epoch seconds) is the contact's TTL on AWS, behind the sweeper's erasure.
   */
  putTip(tip: StoredTip, contact?: TipContact & { eraseBy: number }): Promise<'created' | 'exists'>;
  /** The tip with its whole thread. */
  getTip(id: string): Promise<StoredTip | undefined>;
  /** Newest first, without threads. */
  listTips(filter: TipFilter): Promise<Page<StoredTip>>;
  countOpen(): Promise<number>;
  getContact(tipId: string): Promise<TipContact | undefined>;
  /** Adds an answer while the tip is open and its thread has room. */
  appendAnswer(
    tipId: string,
    message: TipMessage,
    limits: { maxAnswers: number },
  ): Promise<'appended' | 'closed' | 'full' | 'missing'>;
  /** Records what became of an answer; false when there is no such answer. */
  setAnswerStatus(
    tipId: string,
    messageId: string,
    outcome: Pick<TipMessage, 'status' | 'reason' | 'providerMessageId'> & { at: string },
  ): Promise<boolean>;
  setAssignee(tipId: string, assignee: string | undefined, at: string): Promise<StoredTip | undefined>;
  /** Moves the tip from `from` to `to`: `unchanged` when it was not in `from`. */
  setState(
    tipId: string,
    change: { from: TipState; to: TipState; at: string },
  ): Promise<StoredTip | 'unchanged' | 'missing'>;
  appendAudit(entry: TipAuditEntry): Promise<void>;
  /** One tip's audit trail, oldest first. */
  listAudit(tipId: string): Promise<TipAuditEntry[]>;
  /** Tips received before `before` that still hold a contact, oldest first: the retention sweep's work. */
  contactsReceivedBefore(before: string, limit: number): Promise<string[]>;
  /** Erases a tip's contact and marks the tip; false when there was none left to erase. */
  eraseContact(tipId: string, at: string): Promise<boolean>;
}

/** An officer's public answer under a resident's social reply, queued for the channel's helper to post. */
export interface SocialAnswer {
  tipId: string;
  /** The answer's id in the tip's thread. */
  messageId: string;
  channel: Exclude<Channel, SubscriberChannel>;
  /** The resident's reply it answers (the tip's externalId), and the agency's post that reply answered. */
  inReplyTo: string;
  postId?: string | undefined;
  alertId?: string | undefined;
  text: string;
  at: string;
}

/**
 * The seam between the tips and whatever posts on each social channel (the X and Meta reply helpers): Herald queues
 * an answer here (status `queued` in the thread); the helper lists what is queued for its channel, posts it, and
 * settles it, which records the outcome in the thread and takes it off the queue.
 */
export interface SocialAnswerQueue {
  enqueue(answer: SocialAnswer): Promise<void>;
  /** Oldest first. */
  listQueued(channel: SocialAnswer['channel'], limit: number): Promise<SocialAnswer[]>;
  settle(
    answer: Pick<SocialAnswer, 'tipId' | 'messageId'>,
    outcome: { status: 'sent' | 'failed'; at: string; providerMessageId?: string; reason?: string },
  ): Promise<boolean>;
}

/** How an officer's answer goes back the way the tip came: one road per kind of source. */
export interface TipReplySender {
  /** A text from the agency's number. */
  sms(to: { address: string; text: string }): Promise<void>;
  /** An email from the agency's address, to a web tipster who left one. */
  email(to: { address: string; subject: string; text: string }): Promise<void>;
  /** A public reply under the resident's post: queued for the channel's helper. */
  social(answer: SocialAnswer): Promise<void>;
}
