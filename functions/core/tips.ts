/**
 * Residents talk back (api.md, "Tips and replies"): a text to the agency's number, the web form, or a reply under
 * one of the agency's posts becomes a tip; officers answer it the way it came. The rules live here, behind ports:
 * the API, the embedded sandbox and the social reply helpers all reach them through this module.
 *
 * Anonymity (invariant 7): the tipster's number or address is encrypted into the tip's contact item and read only
 * to send an answer; everything shown or logged names the tipster by an alias derived from the contact's keyed hash,
 * `Tipster 4F2K`, the same for every tip from the same number or address and meaningless without the PII key.
 */
import { randomInt } from 'node:crypto';
import { CHANNELS, type Channel } from '../../schemas/alert';
import { isBlank, safeText } from '../../schemas/text';
import type {
  AlertStore,
  Clock,
  Notifier,
  PiiCipher,
  ReceiptStore,
  SocialAnswer,
  SocialAnswerQueue,
  SocialReply,
  StoredTip,
  TipIntake,
  TipMessage,
  TipReplySender,
  TipSource,
  TipStore,
} from '../ports';
import type { HeraldConfig } from '../shared/config';
import type { LoggerLike } from '../shared/logger';
import { SUBSCRIBER_CHANNELS, type SubscriberChannel } from './model';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** `T-7KQ2`: short enough to read over the phone, 32⁴ (about a million) of them. */
export const REFERENCE = /^T-[0-9A-HJKMNP-TV-Z]{4}$/;
/** Tries at a free reference before the intake gives up (each a conditional put); a collision is rare until ~100k tips. */
const REFERENCE_TRIES = 12;
/** A text is linked to the latest alert SMS that number received this recently. */
export const SMS_LINK_HOURS = 72;
/** Alerts with SMS looked at for that link, newest first, and their latest versions: bounded work per text. */
const SMS_LINK_MAX_ALERTS = 20;
const SMS_LINK_VERSIONS = 3;
const RECEIPT_READS_AT_ONCE = 8;
/** Answers one thread may hold: keeps the tip item (answers included) far below DynamoDB's 400 KB. */
export const MAX_ANSWERS = 50;
/** The longest text or social reply kept whole (SMS carries 1,600 at most; web tips are refused above 2,000). */
const MAX_STORED_TEXT = 8000;
/**
 * Provider ids and handles Herald keeps as they come, bounded. A Bluesky reply's id names it and its thread's root
 * (`<uri>|<cid>|<root uri>|<root cid>`, functions/channels/bluesky/client.ts): about 261 characters with a did:plc.
 */
const MAX_PROVIDER_ID = 512;
const MAX_HANDLE = 100;
/** The `from` of a web tip that left no contact: nothing links it to any other tip. */
export const ANONYMOUS = 'Anonymous';
/** Who a tipster is in audit entries: never their alias's source, never a number. */
const RESIDENT = 'resident';

/** The social channels: every channel that is not a subscriber's (sms, email, webhook). */
export const SOCIAL_SOURCES = CHANNELS.filter(
  (c): c is Exclude<Channel, SubscriberChannel> => !(SUBSCRIBER_CHANNELS as readonly string[]).includes(c),
);
export const isSocialSource = (source: string): source is SocialAnswer['channel'] =>
  (SOCIAL_SOURCES as readonly string[]).includes(source);

export function newReference(random: (max: number) => number = randomInt): string {
  let code = '';
  for (let i = 0; i < 4; i++) code += CROCKFORD[random(32)];
  return `T-${code}`;
}

/**
 * `Tipster 4F2K`: 20 bits of the contact's keyed hash as 4 Crockford characters. Keyed by the address alone, so a
 * number that texts and the same number left on the web form are one tipster. Two tipsters may share an alias (one
 * in a million): it is a label for officers, never a key.
 */
export async function aliasOf(pii: Pick<PiiCipher, 'hash'>, address: string): Promise<string> {
  const bytes = Buffer.from(await pii.hash(`tipster:${address}`), 'base64url');
  const bits = ((bytes[0] ?? 0) << 12) | ((bytes[1] ?? 0) << 4) | ((bytes[2] ?? 0) >> 4);
  let code = '';
  for (let shift = 15; shift >= 0; shift -= 5) code += CROCKFORD[(bits >> shift) & 31];
  return `Tipster ${code}`;
}

/** Text from a provider, kept as written but safe for every output, and bounded. */
const cleanText = (text: string) => safeText(text.normalize('NFC').trim()).slice(0, MAX_STORED_TEXT);

/**
 * The tip store rides on the table's store (DynamoStore.tips): every composition (AWS, embedded, tests) already
 * hands the handlers that store, so the tips need no field of their own in the handlers' dependencies.
 */
export function tipStoreOf(store: object): TipStore & SocialAnswerQueue {
  const tips = (store as { tips?: TipStore & SocialAnswerQueue }).tips;
  if (!tips) throw new Error('the store keeps no tips: compose the handlers with DynamoStore');
  return tips;
}

// ---------------------------------------------------------------- intake

export interface TipIntakeDeps {
  tips: TipStore;
  /** Finds the alert a social reply answers by the post's provider message id. */
  receipts: Pick<ReceiptStore, 'findByProviderMessageId' | 'get'>;
  /** Finds the alerts an SMS may answer (newest first). */
  alerts: Pick<AlertStore, 'listAlerts'>;
  pii: PiiCipher;
  clock: Clock;
  newId: () => string;
  logger: LoggerLike;
  config: Pick<HeraldConfig, 'tipRetentionDays' | 'socialAccounts'>;
}

export interface NewTip {
  /** The id to store it under when the caller chose one (an Idempotency-Key's), a new one otherwise. */
  tipId?: string | undefined;
  source: TipSource;
  from: string;
  text: string;
  language: string;
  alertId?: string | undefined;
  /** The tipster's number or address, to be stored encrypted; undefined for social and anonymous web tips. */
  contact?: { channel: 'sms' | 'email'; address: string } | undefined;
  /** Social: the reply's id (which an answer replies to) and the agency's post it answered. */
  externalId?: string | undefined;
  inReplyTo?: string | undefined;
  /** One provider message is one tip, however often it is delivered: `<channel>#<its id>`. */
  intakeKey?: string | undefined;
  /** For the audit entry: who the tip came from, never a number. */
  actor: string;
}

export interface StoredTipRef {
  tipId: string;
  reference: string;
  /** False when this message was already a tip (a redelivery): nothing more should be sent for it. */
  created: boolean;
}

async function reserveReference(deps: TipIntakeDeps, tipId: string): Promise<string> {
  for (let attempt = 0; attempt < REFERENCE_TRIES; attempt++) {
    const reference = newReference();
    if (await deps.tips.reserveReference(reference, tipId)) return reference;
  }
  throw new Error(`no free tip reference after ${REFERENCE_TRIES} tries`);
}

/**
 * Stores a tip once. With an intake key the lock decides which delivery creates it. A delivery that finds the lock
 * taken answers with its tip, writing that tip (conditionally, under the lock's id) only when it is missing: an
 * intake that crashed between its lock and its tip is finished by the next delivery. A poller that sees the same
 * reply every minute costs two reads each time, and no reference. Exactly one caller sees `created: true`.
 */
export async function storeTip(deps: TipIntakeDeps, input: NewTip): Promise<StoredTipRef> {
  const seen = input.intakeKey === undefined ? undefined : await deps.tips.findIntake(input.intakeKey);
  if (seen && (await deps.tips.getTip(seen.tipId)))
    return { tipId: seen.tipId, reference: seen.reference, created: false };
  let { tipId, reference, receivedAt } = seen ?? {
    tipId: input.tipId ?? deps.newId(),
    reference: '',
    receivedAt: deps.clock.now().toISOString(),
  };
  if (!seen) {
    reference = await reserveReference(deps, tipId);
    if (input.intakeKey !== undefined) {
      const lock = await deps.tips.lockIntake(input.intakeKey, { tipId, reference, receivedAt });
      // Another delivery took it between our look and our lock: its claim wins (our reference stays unused).
      if (lock.kind === 'held') ({ tipId, reference, receivedAt } = lock);
    }
  }
  const tip: StoredTip = {
    id: tipId,
    reference,
    alertId: input.alertId,
    source: input.source,
    from: input.from,
    text: input.text,
    receivedAt,
    state: 'open',
    language: input.language,
    replyBy: input.contact
      ? input.contact.channel
      : isSocialSource(input.source)
        ? 'public-reply'
        : undefined,
    externalId: input.externalId,
    inReplyTo: input.inReplyTo,
    updatedAt: receivedAt,
    answerCount: 0,
  };
  const contact = input.contact && {
    channel: input.contact.channel,
    cipher: await deps.pii.encrypt(input.contact.address),
    eraseBy: Math.floor(Date.parse(receivedAt) / 1000) + deps.config.tipRetentionDays * 86_400,
  };
  const written = await deps.tips.putTip(tip, contact);
  if (written === 'exists') {
    // A retried request, or an intake another delivery finished first: the stored tip keeps its own reference.
    reference = (await deps.tips.getTip(tipId))?.reference ?? reference;
  }
  if (written === 'created') {
    const detail = `from ${input.source}${input.alertId ? `, about alert ${input.alertId}` : ''}`;
    await deps.tips.appendAudit({
      tipId,
      at: receivedAt,
      actor: input.actor,
      action: 'tip.received',
      detail,
    });
    // The log's audit stream, as subscriptions write theirs: the actor is `resident` or a public handle, never a number.
    deps.logger.info('tip.received', {
      audit: {
        action: 'tip.received',
        actor: input.actor,
        tipId,
        source: input.source,
        alertId: input.alertId,
      },
    });
  }
  return { tipId, reference, created: written === 'created' };
}

/**
 * The alert SMS the subscriber received last within SMS_LINK_HOURS, found without a scan: the alerts list newest
 * first (stopping at alerts created before the window), then the subscriber's receipt of each recent version that
 * went by SMS, read by key. An alert created before the window whose update was texted within it is not looked at:
 * the list is ordered by creation, and reading further back would cost every text a longer walk.
 */
export async function latestAlertTexted(
  deps: Pick<TipIntakeDeps, 'alerts' | 'receipts' | 'clock'>,
  subscriberId: string,
): Promise<string | undefined> {
  const since = new Date(deps.clock.now().getTime() - SMS_LINK_HOURS * 3_600_000).toISOString();
  const candidates: { alertId: string; latest: number }[] = [];
  let cursor: string | undefined;
  let more = true;
  while (more && candidates.length < SMS_LINK_MAX_ALERTS) {
    const page = await deps.alerts.listAlerts({ limit: SMS_LINK_MAX_ALERTS, cursor });
    let reachedOlder = false;
    for (const { head, latest } of page.items) {
      if (head.createdAt < since) {
        reachedOlder = true;
        break;
      }
      if (latest.content.channels.includes('sms'))
        candidates.push({ alertId: head.alertId, latest: head.latestVersion });
    }
    cursor = page.cursor;
    more = !reachedOlder && cursor !== undefined;
  }

  const keys = candidates.slice(0, SMS_LINK_MAX_ALERTS).flatMap(({ alertId, latest }) =>
    Array.from({ length: Math.min(SMS_LINK_VERSIONS, latest) }, (_, i) => ({
      alertId,
      version: latest - i,
      channel: 'sms' as const,
      recipient: subscriberId,
    })),
  );
  let best: { alertId: string; at: string } | undefined;
  for (let i = 0; i < keys.length; i += RECEIPT_READS_AT_ONCE) {
    const receipts = await Promise.all(
      keys.slice(i, i + RECEIPT_READS_AT_ONCE).map((k) => deps.receipts.get(k)),
    );
    for (const receipt of receipts) {
      if (!receipt || (receipt.status !== 'sent' && receipt.status !== 'delivered')) continue;
      const at = receipt.history.find((e) => e.status === 'sent')?.at ?? receipt.updatedAt;
      if (at >= since && (!best || at > best.at)) best = { alertId: receipt.alertId, at };
    }
  }
  return best?.alertId;
}

/** A resident's text that is not a keyword; `subscriberId` when the number is subscribed (to find the alert). */
export async function receiveSmsTip(
  deps: TipIntakeDeps,
  sms: {
    address: string;
    text: string;
    language: string;
    subscriberId?: string | undefined;
    messageId?: string;
  },
): Promise<StoredTipRef & { alertId?: string | undefined }> {
  const alertId = sms.subscriberId ? await latestAlertTexted(deps, sms.subscriberId) : undefined;
  const stored = await storeTip(deps, {
    source: 'sms',
    from: await aliasOf(deps.pii, sms.address),
    text: cleanText(sms.text),
    language: sms.language,
    alertId,
    contact: { channel: 'sms', address: sms.address },
    // SNS retries a delivery our endpoint did not acknowledge: the inbound message's id makes it one tip.
    intakeKey: sms.messageId ? `sms#${sms.messageId.slice(0, MAX_PROVIDER_ID)}` : undefined,
    actor: RESIDENT,
  });
  return { ...stored, alertId };
}

/** Stores a reply under one of the agency's posts as a tip linked to the alert (functions/ports.ts TipIntake). */
export async function receiveSocialReply(
  deps: TipIntakeDeps,
  reply: SocialReply,
): Promise<{ tipId: string; reference: string; created: boolean } | { ignored: string }> {
  if (!isSocialSource(reply.channel)) return { ignored: `${reply.channel} is not a social channel` };
  if (!reply.externalId || reply.externalId.length > MAX_PROVIDER_ID)
    return { ignored: 'the reply has no usable id' };
  if (!reply.inReplyTo || reply.inReplyTo.length > MAX_PROVIDER_ID)
    return { ignored: 'the reply names no post it answers' };
  const author = cleanText(reply.author).slice(0, MAX_HANDLE);
  // Herald's own public answers show up in the same conversations: never a tip.
  const own = deps.config.socialAccounts[reply.channel];
  if (own && author.replace(/^@/, '').toLowerCase() === own.replace(/^@/, '').toLowerCase())
    return { ignored: "written by the agency's own account" };
  const text = cleanText(reply.text);
  if (isBlank(text)) return { ignored: 'the reply has no text' };
  const post = await deps.receipts.findByProviderMessageId(reply.channel, reply.inReplyTo);
  if (!post) return { ignored: 'not a reply to a post Herald made' };
  const stored = await storeTip(deps, {
    source: reply.channel,
    from: author || 'unknown',
    text,
    language: 'en',
    alertId: post.alertId,
    externalId: reply.externalId,
    inReplyTo: reply.inReplyTo,
    intakeKey: `${reply.channel}#${reply.externalId}`,
    actor: author || RESIDENT,
  });
  return { tipId: stored.tipId, reference: stored.reference, created: stored.created };
}

/**
 * The TipIntake every channel's reply helper calls (the Meta webhook route, the X poller): its one method stores a
 * reply as a tip, once per reply id however often or concurrently it arrives.
 */
export function createTipIntake(deps: TipIntakeDeps): TipIntake {
  return { receiveSocialReply: (reply) => receiveSocialReply(deps, reply) };
}

// ---------------------------------------------------------------- answers

/** Sends answers through the notifier keyword replies use (sms, email), and queues public ones for the helpers. */
export function notifierTipReplies(notifier: Notifier, socialAnswers: SocialAnswerQueue): TipReplySender {
  return {
    // A notice of kind keyword-reply: an answer to what the resident texted, with no receipt of its own.
    sms: ({ address, text }) => notifier.send({ channel: 'sms', address, kind: 'keyword-reply', text }),
    email: ({ address, subject, text }) =>
      notifier.send({ channel: 'email', address, kind: 'keyword-reply', subject, text }),
    social: (answer) => socialAnswers.enqueue(answer),
  };
}

export type AnswerRoute =
  | { via: 'sms' | 'email'; address: string }
  | { via: 'public-reply'; channel: SocialAnswer['channel']; inReplyTo: string }
  | { cannot: string };

/** Which way an answer to `tip` goes, or why it cannot be answered (the API's 409). */
export async function answerRoute(
  deps: Pick<TipIntakeDeps, 'tips' | 'pii'>,
  tip: StoredTip,
  asked: { public: boolean },
): Promise<AnswerRoute> {
  if (isSocialSource(tip.source)) {
    if (!asked.public)
      return {
        cannot: `An answer on ${tip.source} is a public reply under the resident's post: send "public": true to post it.`,
      };
    if (!tip.externalId) return { cannot: 'The reply this tip came from has no id to answer.' };
    return { via: 'public-reply', channel: tip.source, inReplyTo: tip.externalId };
  }
  if (tip.contactErasedAt)
    return { cannot: "The tipster's contact was erased at the end of the retention period." };
  if (!tip.replyBy) return { cannot: 'The tipster left no way to answer them.' };
  const contact = await deps.tips.getContact(tip.id);
  if (!contact) return { cannot: "The tipster's contact is no longer kept." };
  return { via: contact.channel, address: await deps.pii.decrypt(contact.cipher) };
}

/** A new answer as it enters the thread: `sending` for a text or an email, `queued` for a public reply. */
export const newAnswer = (
  id: string,
  text: string,
  at: string,
  author: string,
  route: Exclude<AnswerRoute, { cannot: string }>,
): TipMessage => ({
  id,
  direction: 'out',
  text,
  at,
  author,
  status: route.via === 'public-reply' ? 'queued' : 'sending',
  ...(route.via === 'public-reply' ? { public: true } : {}),
});

// ---------------------------------------------------------------- retention

/** Contacts erased per sweep: bounded work each minute; a backlog drains over the next runs. */
export const ERASE_PER_SWEEP = 200;
const SWEEPER = 'system:sweeper';

/**
 * Erases the contacts of tips received more than `tipRetentionDays` ago (invariant 7): their aliases stay, and an
 * audit entry says when. Reads the contacts' index oldest first, so no table scan; a shorter retention set later
 * applies to every stored contact at the next sweep.
 */
export async function eraseExpiredTipContacts(
  deps: { tips: TipStore; clock: Clock; config: Pick<HeraldConfig, 'tipRetentionDays'>; logger: LoggerLike },
  limit = ERASE_PER_SWEEP,
): Promise<number> {
  const now = deps.clock.now();
  const before = new Date(now.getTime() - deps.config.tipRetentionDays * 86_400_000).toISOString();
  const due = await deps.tips.contactsReceivedBefore(before, limit);
  let erased = 0;
  for (const tipId of due) {
    if (!(await deps.tips.eraseContact(tipId, now.toISOString()))) continue;
    erased++;
    await deps.tips.appendAudit({
      tipId,
      at: now.toISOString(),
      actor: SWEEPER,
      action: 'tip.contact-erased',
      detail: `retention of ${deps.config.tipRetentionDays} days`,
    });
  }
  if (erased > 0) deps.logger.info('tip contacts erased', { count: erased });
  return erased;
}
