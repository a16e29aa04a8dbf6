/** Residents talk back: tips, replies under the agency's posts, and answers. */
import type { Channel } from '../../schemas/alert';
import type { SubscriberChannel } from '../core/model';
import type { Page } from './store';

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
