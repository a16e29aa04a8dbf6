/** Residents and media: subscribers, rosters, codes, rate limits and the notifier. */
import type { Audience, Challenge, Subscriber, SubscriberChannel } from '../core/model';
import type { QuietWindow } from '../core/quiet-hours';
import type { Page } from './store';

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
