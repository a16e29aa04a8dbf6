/**
 * The domain's own types: what is stored and passed between the pure core and the adapters.
 * No I/O here; adapters (DynamoDB, SQS, providers) translate to and from these.
 */
import type { AlertContent, Channel, MsgType } from '../../schemas/alert';
import type { DeliveryStatus } from '../../schemas/delivery';
import type { QuietWindow } from './quiet-hours';

export const ROLES = ['officer', 'supervisor', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

/** Who is acting: a person (from the JWT) or a part of Herald itself (`system:sweeper`, `channel:x`). */
export interface Actor {
  id: string;
  roles: readonly Role[];
}

/** How far the fan-out of one version has come. */
export type DispatchStatus =
  /** waiting for a second person (two-person rule); with a publishAt, it is scheduled once approved */
  | 'held'
  /** waiting for its publishAt: sent nowhere, in no feed; released by the publish timer or the sweeper */
  | 'scheduled'
  /** accepted, fan-out not yet planned: the sweeper re-dispatches these when they linger */
  | 'pending'
  /** receipts written and channel jobs queued */
  | 'planned'
  /** was waiting (held or scheduled) when a newer version replaced it; never goes out */
  | 'superseded'
  /** was waiting when an officer removed it from the timeline; never goes out */
  | 'withdrawn';

/** Versions that went out, or are guaranteed to (a pending one is dispatched by the sweeper if its message is lost). */
export const isReleased = (v: Pick<StoredVersion, 'dispatchStatus'>): boolean =>
  v.dispatchStatus === 'pending' || v.dispatchStatus === 'planned';

/** Versions that may still go out: held for approval, or scheduled. */
export const isWaiting = (v: Pick<StoredVersion, 'dispatchStatus'>): boolean =>
  v.dispatchStatus === 'held' || v.dispatchStatus === 'scheduled';

export interface ApprovalRecord {
  required: boolean;
  approvedBy?: string | undefined;
  approvedAt?: string | undefined;
  note?: string | undefined;
}

/**
 * One version of an alert. Its content (`content`, `msgType`, `references`, `author`, …) is written once
 * and never rewritten; only the operational fields below the line change (approval, dispatch progress).
 */
export interface StoredVersion {
  alertId: string;
  version: number;
  msgType: MsgType;
  content: AlertContent;
  /** CAP identifier of this version. */
  identifier: string;
  /** CAP `sent`: when the version was accepted, with an explicit offset. */
  sent: string;
  sender: string;
  /** CAP references, "sender,identifier,sent" of each earlier version. */
  references: string[];
  note?: string | undefined;
  author: string;
  createdAt: string;
  /** The Idempotency-Key of the request that created it, so a retried request recognises its own work. */
  idempotencyKey?: string | undefined;
  /**
   * When it goes out (ISO 8601, UTC), if it was scheduled rather than sent at once. CAP `sent` is this time, since
   * that is when the message originates for the public.
   */
  publishAt?: string | undefined;
  /**
   * The waiting versions this one took the place of. Writing this version is what replaces them: even if the process
   * dies before their status is set to `superseded`, a version named here never goes out (functions/core/schedule.ts).
   */
  replaces?: number[] | undefined;
  // ---- operational ----
  approval: ApprovalRecord;
  dispatchStatus: DispatchStatus;
  /** Who removed a waiting version from the timeline, and when (`withdrawn`). */
  withdrawn?: { by: string; at: string } | undefined;
  /** When it was released for fan-out (creation, approval, or its publishAt). The sweeper looks for stale ones. */
  releasedAt?: string | undefined;
  plannedAt?: string | undefined;
  receiptsPlanned?: number | undefined;
  receiptsSettled?: number | undefined;
}

/** The alert's head: one item per alert for listing and to track the latest version number. */
export interface AlertHead {
  alertId: string;
  createdAt: string;
  updatedAt: string;
  latestVersion: number;
  author: string;
}

export interface ReceiptKey {
  alertId: string;
  version: number;
  channel: Channel;
  recipient: string;
}

/** One line of a receipt's own history: receipts carry their audit trail in the same item, so it can't drift. */
export interface ReceiptEvent {
  at: string;
  actor: string;
  status: DeliveryStatus;
  attempt: number;
  reason?: string | undefined;
  providerMessageId?: string | undefined;
  /** Recorded by a sandbox provider: what this event says happened reached no one. */
  sandbox?: boolean | undefined;
}

export interface Receipt extends ReceiptKey {
  status: DeliveryStatus;
  /**
   * How API answers, exports and logs show the recipient. Subscriber channels name the subscriber by id in
   * `recipient` and keep the masked address here, since the address itself is only stored encrypted.
   */
  recipientMasked?: string | undefined;
  attempts: number;
  providerMessageId?: string | undefined;
  reason?: string | undefined;
  /** A failure worth retrying later (a dead-lettered 5xx); a redrive may claim the receipt again. */
  retryable?: boolean | undefined;
  /** The last attempt ended without knowing whether the provider posted (timeout, crash mid-call). */
  outcomeUnknown?: boolean | undefined;
  /**
   * A message went out after an attempt whose outcome was lost: the recipient may have received it twice. Only the
   * recipients a crashed sender had in flight (its send window) can carry it.
   */
  possibleDuplicate?: boolean | undefined;
  /** Recorded by a sandbox provider: nothing reached the public. */
  sandbox?: boolean | undefined;
  /** A media outlet's name (webhooks, media email), so an auditor can tell which outlet a receipt is for. */
  recipientName?: string | undefined;
  nextAttemptAt?: string | undefined;
  leaseId?: string | undefined;
  leaseUntil?: string | undefined;
  createdAt: string;
  updatedAt: string;
  history: ReceiptEvent[];
}

/** A stored idempotency record: the first request's fingerprint and, once finished, its response. */
export interface IdempotencyRecord {
  scope: string;
  key: string;
  requestHash: string;
  /** The alert the request creates or changes, chosen before any write so a retry after a crash reuses it. */
  alertId: string;
  targetVersion?: number | undefined;
  state: 'started' | 'done';
  lockedUntil: string;
  response?: StoredResponse | undefined;
  expiresAt: number;
}

export interface StoredResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

// ---------------------------------------------------------------- residents and media

/** The channels people and outlets subscribe to; social channels have the agency's own account instead. */
export const SUBSCRIBER_CHANNELS = ['sms', 'email', 'webhook'] as const;
export type SubscriberChannel = (typeof SUBSCRIBER_CHANNELS)[number];

/**
 * `pending`: waiting for the double opt-in code; `confirmed`: receives alerts; `stopped`: said STOP (kept, address
 * encrypted, so START can resume and an import cannot quietly re-add them).
 */
export type SubscriberStatus = 'pending' | 'confirmed' | 'stopped';

/** Zone id meaning "every zone": media outlets that follow all of the agency's alerts. */
export const ALL_ZONES = '*';

/** Which roster a subscriber is on: Test and Exercise alerts reach only `test` subscribers (invariant 4). */
export type Audience = 'public' | 'test';

/** What the person agreed to, when and how: kept for as long as the subscription is. */
export interface Consent {
  at: string;
  method: 'sms-keyword' | 'web' | 'import' | 'officer';
  /** The words they agreed to (the JOIN reply, the sign-up page's text) or, for an import, the source's record. */
  text: string;
  /** Who recorded it: `resident` for a keyword or web sign-up, the officer's id for an import or media entry. */
  actor: string;
  /** Where it came from, without PII: `web:<client ip hash>`, `import:<file row>`, `sms-keyword`. */
  evidence?: string | undefined;
}

/**
 * A resident or media outlet. The address (phone number, email, webhook URL) is only ever stored encrypted
 * (`addressCipher`), found by a keyed hash (`addressHash`) and shown masked (`addressMasked`).
 */
export interface Subscriber {
  id: string;
  channel: SubscriberChannel;
  addressHash: string;
  addressCipher: string;
  addressMasked: string;
  /** Zone ids; `*` for every zone. */
  zones: string[];
  /** BCP 47; SMS and email are rendered in it when the alert has that language. */
  language: string;
  status: SubscriberStatus;
  audience: Audience;
  consent?: Consent | undefined;
  /** A media outlet's name (webhooks, media email). */
  name?: string | undefined;
  /** Webhooks: the Standard Webhooks signing secret (`whsec_…`), encrypted like the address. */
  secretCipher?: string | undefined;
  /**
   * SMS and email: the resident's quiet hours on the agency's clock (HERALD_TIME_ZONE), set by `QUIET 22-07` or on
   * the web. What is not urgent waits for their end (functions/core/quiet-hours.ts); webhooks (media) have none.
   */
  quietHours?: QuietWindow | undefined;
  createdAt: string;
  updatedAt: string;
  confirmedAt?: string | undefined;
  stoppedAt?: string | undefined;
}

/**
 * A code waiting to be typed back: the double opt-in's, or the one that opens a session to manage a subscription on
 * the web. Only its keyed hash is stored; one waits per address, the last one asked for.
 */
export interface Challenge {
  channel: 'sms' | 'email';
  addressHash: string;
  /** The subscriber it confirms (a sign-up) or whose subscription it opens (`manage`). */
  subscriberId: string;
  /**
   * What the code is for; absent: a sign-up's. The purpose is also part of `codeHash` (functions/api/subscriptions.ts),
   * so a sign-up code opens no manage session and a manage code confirms no sign-up, whatever this field says.
   */
  purpose?: 'manage' | undefined;
  codeHash: string;
  expiresAt: string;
  triesLeft: number;
  createdAt: string;
  /**
   * What the sign-up asked for, applied when the code comes back: an address that is already subscribed keeps its
   * zones until then, so a stranger typing someone's number cannot change what they receive.
   */
  request?:
    | {
        zones: string[];
        language: string;
        /** Quiet hours to set (a window) or clear (null) with the confirmation; absent: left as they are. */
        quietHours?: QuietWindow | null | undefined;
      }
    | undefined;
}
