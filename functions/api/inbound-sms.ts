/**
 * A resident texting the agency's number: JOIN <zone> [language], STOP (and its carrier synonyms), START, HELP, and
 * anything else is a tip (`TIP <text>`, or any text that is no keyword), acknowledged with its reference.
 * `handleInboundSms` is the one domain function; the AWS route (signed SNS notifications) and the embedded
 * sandbox route (POST /v1/sandbox/inbound/sms) both call it.
 *
 * Why AWS End User Messaging SMS two-way → SNS topic → HTTPS subscription to this API: End User Messaging is
 * where the agency's number lives (SNS's own SMS sending runs on it) and two-way SMS is how it hands over
 * inbound texts — only to an SNS topic (or Amazon Connect). Subscribing the API's HTTPS route to that topic
 * needs no extra function or queue, SNS retries an endpoint that fails, and every delivery is signed by SNS, so
 * the route can be public yet trust only SNS messages from the one configured topic. (An SQS or Lambda
 * subscription would avoid the signature check but add a function outside the API for a few texts a minute.)
 *
 * Order matters for STOP: the subscriber is saved `stopped` before the reply goes out, so a send that starts
 * after the STOP arrived finds it (the sender reads subscribers strongly consistently just before it sends).
 */
import { InboundSmsMessage, SnsEnvelope } from '../../schemas/subscriptions';
import { normalisePhone } from '../core/addresses';
import { forbidden } from '../core/errors';
import {
  helpReply,
  type InboundCommand,
  joinReply,
  noZoneReply,
  parseInbound,
  quietFormReply,
  quietNotSubscribedReply,
  quietOffReply,
  quietSetReply,
  type ReplyContext,
  type ReplyLanguage,
  replyLanguageOf,
  startReply,
  stopReply,
  tipEmptyReply,
  tipReceivedReply,
  unknownZoneReply,
} from '../core/keywords';
import type { Subscriber } from '../core/model';
import { quietDetail, withQuietHours } from '../core/quiet-hours';
import { receiveSmsTip } from '../core/tips';
import type { Zone } from '../ports';
import { maskPhone } from '../shared/mask';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, fieldErrors, json, MAX_BODY_BYTES } from './http';
import { audit, type ResidentDeps, stopAt, unionZones, updateSubscriber } from './residents';
import { getFromSns, isSnsUrl, type SnsVerifier } from './sns-signature';
import { tipIntakeDeps } from './tips';

export interface InboundSms {
  /** The resident's number as the carrier reported it. */
  from: string;
  body: string;
  /** Where it came from, for the consent's evidence: `sns:<inbound message id>` or `sandbox`. */
  via: string;
}

/** The resident flows, and the store a tip is written to and its alert found in. */
export type InboundSmsDeps = ResidentDeps & Pick<ApiDeps, 'store'>;

export interface InboundOutcome {
  keyword: InboundCommand['kind'] | 'ignored';
  /** What was texted back (no personal data in it), when anything was. */
  reply?: string | undefined;
  subscriberId?: string | undefined;
}

const ACTOR = 'resident';

/** A zone by id or by any of its names, accents and case aside: "JOIN Ensanche" finds eixample. */
function findZone(zones: readonly Zone[], typed: string): Zone | undefined {
  const fold = (s: string) =>
    s
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[\s_]+/g, '-');
  const wanted = fold(typed);
  return zones.find(
    (z) =>
      z.id === wanted ||
      fold(z.name) === wanted ||
      Object.values(z.names ?? {}).some((n) => fold(n) === wanted),
  );
}

export async function handleInboundSms(deps: InboundSmsDeps, sms: InboundSms): Promise<InboundOutcome> {
  const number = normalisePhone(sms.from);
  if (!number.ok) {
    // Short codes and alphanumeric senders cannot be subscribers; nothing to answer.
    deps.logger.warn('inbound sms from a sender that is not a phone number', { via: sms.via });
    return { keyword: 'ignored' };
  }
  const address = number.address;
  const addressHash = await deps.pii.hash(address);
  const command = parseInbound(sms.body);
  const existing = await deps.subscribers.findSubscriber('sms', addressHash);
  // The resident's stored language wins, unless this very text names one (JOIN … es).
  const explicit = command.kind === 'join' ? command.language : undefined;
  const language: ReplyLanguage =
    explicit ??
    (existing
      ? replyLanguageOf(existing.language)
      : (('language' in command ? command.language : undefined) ?? 'en'));
  const ctx: ReplyContext = { agency: deps.config.agencyName, language };
  const now = deps.clock.now().toISOString();
  const zoneIds = deps.zones.zones.map((z) => z.id);

  const reply = async (text: string, subscriberId?: string): Promise<InboundOutcome> => {
    try {
      await deps.notifier.send({ channel: 'sms', address, kind: 'keyword-reply', text });
    } catch (error) {
      // The state change stands whatever happens to the reply (a number SNS has on its opt-out list refuses it).
      // A tipster's number is not logged at all, not even masked, nor a provider's message that may quote it.
      const tip = command.kind === 'tip';
      deps.logger.warn('keyword reply not sent', {
        keyword: command.kind,
        ...(tip ? {} : { recipient: maskPhone(address) }),
        error: error instanceof Error ? (tip ? error.name : error.message) : String(error),
      });
    }
    return { keyword: command.kind, reply: text, subscriberId };
  };

  switch (command.kind) {
    case 'stop': {
      if (!existing) return reply(stopReply(ctx));
      const stopped = await updateSubscriber(deps, existing, stopAt(now), {
        action: 'stopped',
        actor: ACTOR,
        method: 'sms-keyword',
      });
      audit(deps, 'subscription.stopped', { actor: ACTOR, subscriber: stopped, keyword: command.keyword });
      return reply(stopReply(ctx), stopped.id);
    }
    case 'start': {
      if (!existing || existing.zones.length === 0) return reply(noZoneReply(ctx, zoneIds));
      const resumed = await updateSubscriber(
        deps,
        existing,
        (s) =>
          s.status === 'confirmed'
            ? undefined
            : {
                ...s,
                status: 'confirmed',
                confirmedAt: now,
                stoppedAt: undefined,
                updatedAt: now,
                // START after a web sign-up that was never confirmed proves the number as well as a code would.
                consent: consentOf(command.keyword, startReplyText(deps, ctx, s), now, sms.via),
              },
        // START after STOP starts again; after a web sign-up never confirmed, it is the confirmation.
        (base) => ({
          action: base.status === 'stopped' ? 'started' : 'confirmed',
          actor: ACTOR,
          method: 'sms-keyword',
        }),
      );
      audit(deps, 'subscription.resumed', { actor: ACTOR, subscriber: resumed, keyword: command.keyword });
      return reply(startReplyText(deps, ctx, resumed), resumed.id);
    }
    case 'join': {
      if (!command.zone) return reply(noZoneReply(ctx, zoneIds));
      const zone = findZone(deps.zones.zones, command.zone);
      if (!zone) return reply(unknownZoneReply(ctx, command.zone, zoneIds));
      const text = joinReply(ctx, deps.zones.nameIn(zone.id, language));
      const consent = consentOf(command.keyword, text, now, sms.via);
      const joined = await join(deps, {
        address,
        addressHash,
        zone: zone.id,
        language,
        explicit,
        consent,
        now,
      });
      audit(deps, 'subscription.joined', { actor: ACTOR, subscriber: joined, keyword: command.keyword });
      return reply(text, joined.id);
    }
    case 'help':
      return reply(helpReply(ctx), existing?.id);
    case 'quiet': {
      // A form QUIET does not take changes nothing: the reply shows how to write it.
      if (command.quiet.kind === 'invalid') return reply(quietFormReply(ctx), existing?.id);
      if (!existing) return reply(quietNotSubscribedReply(ctx));
      const window = command.quiet.kind === 'set' ? command.quiet.window : undefined;
      const changed = await updateSubscriber(
        deps,
        existing,
        (s) => withQuietHours(s, window, now),
        window
          ? { action: 'quiet-hours-set', actor: ACTOR, method: 'sms-keyword', detail: quietDetail(window) }
          : { action: 'quiet-hours-cleared', actor: ACTOR, method: 'sms-keyword' },
      );
      audit(deps, 'subscription.quiet-hours', {
        actor: ACTOR,
        subscriber: changed,
        keyword: command.keyword,
      });
      return reply(window ? quietSetReply(ctx, window) : quietOffReply(ctx), changed.id);
    }
    case 'tip': {
      if (command.text === '') return reply(tipEmptyReply(ctx), existing?.id);
      const tip = await receiveSmsTip(tipIntakeDeps(deps), {
        address,
        text: command.text,
        language,
        // Anyone who was ever subscribed may have had the alert; a stranger's text is a tip about no alert.
        subscriberId: existing?.id,
        messageId: sms.via.startsWith('sns:') ? sms.via.slice('sns:'.length) : undefined,
      });
      // SNS delivered this text before and it was acknowledged then: once is enough.
      if (!tip.created) return { keyword: 'tip', subscriberId: existing?.id };
      return reply(tipReceivedReply(ctx, tip.reference), existing?.id);
    }
  }
}

const startReplyText = (deps: ResidentDeps, ctx: ReplyContext, s: Subscriber) =>
  startReply(
    ctx,
    s.zones.map((z) => deps.zones.nameIn(z, ctx.language)),
  );

/** JOIN by text is the opt-in: what they texted and what they were told back is the consent. */
const consentOf = (keyword: string, replyText: string, at: string, via: string): Subscriber['consent'] => ({
  at,
  method: 'sms-keyword',
  text: `${keyword} → ${replyText}`,
  actor: ACTOR,
  evidence: via.startsWith('sns:') ? via : 'sms-keyword',
});

async function join(
  deps: ResidentDeps,
  j: {
    address: string;
    addressHash: string;
    zone: string;
    language: ReplyLanguage;
    explicit: ReplyLanguage | undefined;
    consent: Subscriber['consent'];
    now: string;
  },
): Promise<Subscriber> {
  const fresh: Subscriber = {
    id: deps.newId(),
    channel: 'sms',
    addressHash: j.addressHash,
    addressCipher: await deps.pii.encrypt(j.address),
    addressMasked: maskPhone(j.address),
    zones: [j.zone],
    language: j.language,
    status: 'confirmed',
    audience: 'public',
    consent: j.consent,
    createdAt: j.now,
    updatedAt: j.now,
    confirmedAt: j.now,
  };
  let existing = await deps.subscribers.findSubscriber('sms', j.addressHash);
  if (!existing) {
    const created = await deps.subscribers.createSubscriber(fresh, {
      action: 'confirmed',
      actor: ACTOR,
      method: 'sms-keyword',
    });
    if (created.kind === 'created') return fresh;
    existing = created.subscriber;
  }
  return updateSubscriber(
    deps,
    existing,
    (s) => ({
      ...s,
      // A stopped resident who JOINs again starts over with this zone; everyone else adds it.
      zones: s.status === 'stopped' ? [j.zone] : unionZones(s.zones, [j.zone]),
      language: j.explicit ?? s.language,
      status: 'confirmed',
      confirmedAt: s.status === 'confirmed' ? s.confirmedAt : j.now,
      stoppedAt: undefined,
      consent: j.consent,
      updatedAt: j.now,
    }),
    (base) => ({
      action: base.status === 'confirmed' ? 'changed' : base.status === 'stopped' ? 'started' : 'confirmed',
      actor: ACTOR,
      method: 'sms-keyword',
    }),
  );
}

// ---------------------------------------------------------------- AWS: SNS HTTPS subscription

export interface InboundSmsRouteOptions {
  verifier: SnsVerifier;
  /** GETs an SNS SubscribeURL, to confirm the topic's subscription of this route. */
  confirmSubscription: (subscribeUrl: string) => Promise<void>;
}

/** The SubscribeURL comes in the request: fetched only on an SNS host, through the guarded fetcher. */
export const confirmByGet = async (subscribeUrl: string) => {
  await getFromSns(subscribeUrl);
};

/** The SNS envelope is JSON sent as text/plain; its size is bounded like every body. */
function readEnvelope(event: OperationInput['event']): SnsEnvelope {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) throw forbidden('This route takes SNS notifications only.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw forbidden('This route takes SNS notifications only.');
  }
  const envelope = SnsEnvelope.safeParse(parsed);
  if (!envelope.success) throw forbidden('This route takes SNS notifications only.');
  return envelope.data;
}

/**
 * POST /v1/inbound/sms: anything that is not a correctly signed message from the configured topic is refused
 * with 403 before its content is looked at.
 */
export function inboundSmsOperation(options: InboundSmsRouteOptions) {
  return async (deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> => {
    const topicArn = deps.config.inboundSmsTopicArn;
    if (!topicArn) throw forbidden('Inbound SMS is not configured (no topic is trusted).');
    const envelope = readEnvelope(event);
    if (envelope.TopicArn !== topicArn) throw forbidden('This topic may not post here.');
    const verdict = await options.verifier.verify(envelope);
    if (!verdict.ok) {
      deps.logger.warn('inbound sms refused', { reason: verdict.reason, type: envelope.Type });
      throw forbidden('The SNS signature could not be verified.');
    }
    if (envelope.Type === 'SubscriptionConfirmation') {
      if (!isSnsUrl(envelope.SubscribeURL)) throw forbidden('The SubscribeURL is not an SNS endpoint.');
      await options.confirmSubscription(envelope.SubscribeURL!);
      deps.logger.info('inbound sms topic subscription confirmed', { topicArn });
      return json(200, { status: 'subscription-confirmed' });
    }
    if (envelope.Type === 'UnsubscribeConfirmation') {
      deps.logger.warn('inbound sms topic unsubscribed this route', { topicArn });
      return json(200, { status: 'ok' });
    }
    let message: unknown;
    try {
      message = JSON.parse(envelope.Message);
    } catch {
      message = undefined;
    }
    const inbound = InboundSmsMessage.safeParse(message);
    if (!inbound.success) {
      // Signed by SNS but not a two-way SMS payload: answered 200 so SNS does not retry what will never parse.
      deps.logger.warn('inbound sms notification is not a two-way SMS payload', {
        messageId: envelope.MessageId,
        errors: fieldErrors(inbound.error).map((e) => e.path),
      });
      return json(200, { status: 'ignored' });
    }
    const outcome = await handleInboundSms(deps, {
      from: inbound.data.originationNumber,
      body: inbound.data.messageBody,
      via: `sns:${inbound.data.inboundMessageId ?? envelope.MessageId}`,
    });
    return json(200, { status: 'ok', keyword: outcome.keyword });
  };
}
