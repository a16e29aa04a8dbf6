/**
 * Managing a subscription on the web (api.md, "The residents' site", `GET /manage`): a resident types their address,
 * gets a code, types it back, and for a short while may change their zones, language and quiet hours, or end the
 * subscription. The site's pages call these functions; there is no JSON route for them.
 *
 * Nobody learns who is subscribed. Asking for a code answers the same for every address, and every address gets a
 * code stored; only a confirmed subscriber is sent theirs. So typing codes back answers alike too (a wrong code,
 * tries counting down) whether or not anyone received one, and no stranger is sent a message they did not ask for.
 *
 * The session is a token, not a stored item: the subscriber's id and an expiry, with a MAC under the PII key. There
 * is nothing to clean up; it cannot be revoked before its time, but it stops working as soon as the subscription is
 * no longer confirmed, so ending the subscription ends the session's power too.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { LanguageTag } from '../../schemas/alert';
import { ConfirmRequest, QuietHours, SubscriptionRequest } from '../../schemas/subscriptions';
import { channelOfAddress, normaliseAddress } from '../core/addresses';
import { conflict, validationFailed } from '../core/errors';
import { manageCodeSubject, manageCodeText, REPLY_LANGUAGES, replyLanguageOf } from '../core/keywords';
import { ALL_ZONES, type Subscriber } from '../core/model';
import { type QuietWindow, withQuietHours } from '../core/quiet-hours';
import type { SubscriptionChange } from '../ports';
import { maskRecipient } from '../shared/mask';
import { parseWith } from './http';
import { audit, type ResidentDeps, stopAt, updateSubscriber } from './residents';
import {
  CODE_TTL_MINUTES,
  checkCode,
  codeGone,
  invalidAddress,
  issueCode,
  spendCodeAllowance,
  unknownZones,
  webConfirmation,
} from './subscriptions';

/** Long enough to change a few things, short enough that a phone left on a table is not an open door for the day. */
export const MANAGE_SESSION_MINUTES = 30;

const ACTOR = 'resident';
/** Longer than any token or CSRF token this module writes: anything longer is refused before it is hashed. */
const MAX_TOKEN_LENGTH = 512;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** What the page says after a code was asked for: the same for every address. */
export interface ManageCodeSent {
  channel: 'sms' | 'email';
  /** Masked, as the resident typed it: never anything read from a subscriber. */
  address: string;
  expiresAt: string;
}

export interface ManageSession {
  /** `base64url(subscriberId.expiryEpochSeconds.nonce).mac`: the page keeps it in an HttpOnly cookie. */
  token: string;
  expiresAt: string;
  subscriber: Subscriber;
}

/** What the manage form sends: the whole of what the resident wants, not a difference. */
export interface ManageChange {
  zones: string[];
  language: string;
  /** A window to set, or null for none. */
  quietHours: QuietWindow | null;
}

const CodeRequest = z.strictObject({
  address: SubscriptionRequest.shape.address,
  channel: SubscriptionRequest.shape.channel.optional(),
});

/** The sign-up's own pieces: zone ids, a language tag, quiet hours. */
const ChangeRequest = z.strictObject({
  zones: SubscriptionRequest.shape.zones,
  language: LanguageTag,
  quietHours: QuietHours.nullable(),
});

/**
 * A language Herald writes to residents in (en-GB as well as en), or the one the subscriber already has: an import
 * may have given them another, and saving the form without touching it is no error.
 */
const languageKept = (tag: string, current: string) =>
  tag === current || (REPLY_LANGUAGES as readonly string[]).includes(tag.split('-')[0]?.toLowerCase() ?? '');
const LANGUAGE_ERROR = {
  path: '/language',
  message: `must be one of the agency's languages: ${REPLY_LANGUAGES.join(', ')}`,
};

/** Normalises a typed address; 400 naming `/address` when it is none. */
async function addressOf(
  deps: Pick<ResidentDeps, 'pii'>,
  typed: string,
  channel: 'sms' | 'email' = channelOfAddress(typed),
) {
  const normalised = normaliseAddress(channel, typed);
  if (!normalised.ok) throw invalidAddress(channel, normalised.message);
  return { channel, address: normalised.address, addressHash: await deps.pii.hash(normalised.address) };
}

// ---------------------------------------------------------------- the code

/**
 * Sends a code that opens the subscription of `input.address`, if it is a confirmed one. `client` is the caller's
 * clientKey (already a keyed hash, never an IP address). Throws 400 (`/address`, `/channel`, or an unknown field)
 * and 429 (the sign-up's limits, shared with it).
 */
export async function sendManageCode(
  deps: ResidentDeps,
  input: { address: string; channel?: 'sms' | 'email' | undefined },
  client: string,
): Promise<ManageCodeSent> {
  const request = parseWith(CodeRequest, input);
  const { channel, address, addressHash } = await addressOf(deps, request.address, request.channel);
  const now = deps.clock.now();
  // Counted for every address, subscribed or not: the 429 itself must not tell them apart.
  await spendCodeAllowance(deps, channel, addressHash, client, now);
  const found = await deps.subscribers.findSubscriber(channel, addressHash);
  const subscriber = found?.status === 'confirmed' ? found : undefined;
  // Anyone else's code is stored under an id that is no subscriber's, so even a lucky guess opens nothing.
  const { code, expiresAt } = await issueCode(
    deps,
    { channel, addressHash, subscriberId: subscriber?.id ?? deps.newId() },
    'manage',
    now,
  );
  if (subscriber) {
    const ctx = { agency: deps.config.agencyName, language: replyLanguageOf(subscriber.language) };
    try {
      await deps.notifier.send({
        channel,
        address,
        kind: 'code',
        text: manageCodeText(ctx, code, CODE_TTL_MINUTES),
        ...(channel === 'email' ? { subject: manageCodeSubject(ctx) } : {}),
      });
    } catch (error) {
      // The answer stays the same: a failure only a subscriber's address can have would tell who is one. The
      // provider's message may quote the address, so only the error's name is logged.
      deps.logger.warn('manage code not sent', {
        subscriberId: subscriber.id,
        channel,
        error: error instanceof Error ? error.name : 'unknown',
      });
    }
    deps.logger.info('subscription.manage-code-sent', {
      audit: {
        action: 'subscription.manage-code-sent',
        actor: ACTOR,
        subscriberId: subscriber.id,
        channel,
        evidence: `web:${client}`,
      },
    });
  }
  return { channel, address: maskRecipient(channel, address), expiresAt };
}

// ---------------------------------------------------------------- the session

const sessionMac = (deps: Pick<ResidentDeps, 'pii'>, payload: string) =>
  deps.pii.hash(`manage-session:${payload}`);

/** Two secrets compared in time that does not depend on where they differ. */
function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Opens a session with the code sent by sendManageCode. Throws 400 (`/address`, `/code`: not 6 digits), 429 (the
 * confirmations' per-client limit, shared with the sign-up), 410 `code-expired` (`/code`: none waiting, expired,
 * tries used up, or the subscription is no longer confirmed) and 422 `wrong-code` (`/code`; a WrongCode, whose
 * `triesLeft` the page shows).
 */
export async function openManageSession(
  deps: ResidentDeps,
  input: { address: string; code: string },
  client: string,
): Promise<ManageSession> {
  const request = parseWith(ConfirmRequest, input);
  const { channel, addressHash } = await addressOf(deps, request.address);
  const now = deps.clock.now();
  const challenge = await checkCode(
    deps,
    { channel, addressHash, code: request.code, purpose: 'manage' },
    client,
    now,
  );
  // A code is good once, whatever follows.
  await deps.subscribers.deleteChallenge(channel, addressHash);
  const subscriber = await deps.subscribers.getSubscriber(challenge.subscriberId);
  if (subscriber?.status !== 'confirmed' || subscriber.addressHash !== addressHash) throw codeGone('manage');

  const expiry = Math.floor(now.getTime() / 1000) + MANAGE_SESSION_MINUTES * 60;
  const payload = Buffer.from(`${subscriber.id}.${expiry}.${randomBytes(16).toString('base64url')}`).toString(
    'base64url',
  );
  const token = `${payload}.${await sessionMac(deps, payload)}`;
  deps.logger.info('subscription.manage-opened', {
    audit: {
      action: 'subscription.manage-opened',
      actor: ACTOR,
      subscriberId: subscriber.id,
      channel: subscriber.channel,
      status: subscriber.status,
      zones: subscriber.zones,
      evidence: `web:${client}`,
    },
  });
  return { token, expiresAt: new Date(expiry * 1000).toISOString(), subscriber };
}

/**
 * The subscriber a session token opens, read afresh, and when the session ends; undefined for a token that is
 * missing, malformed, forged or expired, or whose subscription is gone or no longer confirmed.
 */
export async function readManageSession(
  deps: Pick<ResidentDeps, 'pii' | 'subscribers' | 'clock'>,
  token: string | undefined,
): Promise<{ subscriber: Subscriber; expiresAt: string } | undefined> {
  if (!token || token.length > MAX_TOKEN_LENGTH) return undefined;
  const [payload, mac, ...rest] = token.split('.');
  if (!payload || !mac || rest.length > 0 || !BASE64URL.test(payload) || !BASE64URL.test(mac))
    return undefined;
  // The MAC covers the payload as written, so no other spelling of the same bytes passes.
  if (!sameSecret(mac, await sessionMac(deps, payload))) return undefined;
  const [subscriberId, expiry, nonce, ...extra] = Buffer.from(payload, 'base64url')
    .toString('utf8')
    .split('.');
  if (!subscriberId || !expiry || !/^\d{1,12}$/.test(expiry) || !nonce || extra.length > 0) return undefined;
  const expiresMs = Number(expiry) * 1000;
  if (expiresMs <= deps.clock.now().getTime()) return undefined;
  const subscriber = await deps.subscribers.getSubscriber(subscriberId);
  if (subscriber?.status !== 'confirmed') return undefined;
  // A session opened before the subscription was (re)confirmed belongs to the one that ended: it opens nothing.
  // The token keeps whole seconds: a confirmation earlier in the second the session opened is before it.
  const openedMs = expiresMs - MANAGE_SESSION_MINUTES * 60_000;
  const confirmedSecond = subscriber.confirmedAt
    ? Math.floor(Date.parse(subscriber.confirmedAt) / 1000) * 1000
    : 0;
  if (confirmedSecond > openedMs) return undefined;
  return { subscriber, expiresAt: new Date(expiresMs).toISOString() };
}

/**
 * The synchronizer token the manage forms carry: derived from the session token with the keyed hash, so another
 * site, which can make the browser send the cookie but cannot read the page, cannot write it.
 */
export const csrfTokenFor = (deps: Pick<ResidentDeps, 'pii'>, token: string): Promise<string> =>
  deps.pii.hash(`manage-csrf:${token}`);

/** Whether a form's CSRF token is the one for this session token. It does not check the session itself. */
export async function checkCsrf(
  deps: Pick<ResidentDeps, 'pii'>,
  token: string | undefined,
  given: string | undefined,
): Promise<boolean> {
  if (!token || !given || given.length > MAX_TOKEN_LENGTH) return false;
  return sameSecret(given, await csrfTokenFor(deps, token));
}

// ---------------------------------------------------------------- changing and ending

const ended = () => conflict('The subscription was ended a moment ago; sign up again to receive alerts.');

const sameZones = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((zone) => b.includes(zone));

/**
 * Replaces the subscriber's zones, language and quiet hours with `change` (the zones are replaced, not added to).
 * `evidence` is `web:<clientKey>`. Throws 400 (`/zones`, `/zones/<i>`, `/language`, `/quietHours/from`,
 * `/quietHours/to`, or an unknown field) and 409 (ended or removed meanwhile, or changed by others too often).
 */
export async function changeSubscription(
  deps: ResidentDeps,
  subscriber: Subscriber,
  change: ManageChange,
  evidence: string,
): Promise<Subscriber> {
  const request = parseWith(ChangeRequest, change);
  const errors = [
    // A media outlet following every zone (`*`, set by an officer) may keep it; nobody else may choose it here.
    ...unknownZones(deps, request.zones, subscriber.zones.includes(ALL_ZONES)),
    ...(languageKept(request.language, subscriber.language) ? [] : [LANGUAGE_ERROR]),
  ];
  if (errors.length > 0) throw validationFailed(errors);
  const zones = [...new Set(request.zones)];
  const at = deps.clock.now().toISOString();
  let recorded: SubscriptionChange | undefined;
  const changed = await updateSubscriber(
    deps,
    subscriber,
    (s) => {
      recorded = undefined;
      // Only a confirmed subscription changes here: one ended meanwhile (STOP by text) stays ended.
      if (s.status !== 'confirmed') throw ended();
      // The same zones in another order are no change: the order kept is the one they had.
      const keepZones = sameZones(s.zones, zones);
      const next = { ...s, zones: keepZones ? s.zones : zones, language: request.language, updatedAt: at };
      const quiet = withQuietHours(next, request.quietHours, at);
      if (keepZones && s.language === request.language && !quiet) return undefined;
      return quiet ?? next;
    },
    (base, next) => {
      recorded = webConfirmation(base, next);
      return recorded;
    },
  );
  if (recorded) {
    const quietOnly = recorded.action === 'quiet-hours-set' || recorded.action === 'quiet-hours-cleared';
    audit(deps, quietOnly ? 'subscription.quiet-hours' : 'subscription.updated', {
      actor: ACTOR,
      subscriber: changed,
      method: 'web',
      change: recorded.action,
      evidence,
    });
  }
  return changed;
}

/**
 * Ends the subscription as STOP by text does: `stopped`, off every roster (the store keeps them in step), kept
 * encrypted so START or a new sign-up can bring it back. Ending twice is no error and records nothing more. Throws
 * 409 only when the subscriber was removed meanwhile, or changed by others too often.
 */
export async function endSubscription(
  deps: ResidentDeps,
  subscriber: Subscriber,
  evidence: string,
): Promise<Subscriber> {
  const at = deps.clock.now().toISOString();
  let stoppedNow = false;
  const stopped = await updateSubscriber(
    deps,
    subscriber,
    (s) => {
      const next = stopAt(at)(s);
      stoppedNow = next !== undefined;
      return next;
    },
    { action: 'stopped', actor: ACTOR, method: 'web' },
  );
  if (stoppedNow)
    audit(deps, 'subscription.stopped', { actor: ACTOR, subscriber: stopped, method: 'web', evidence });
  return stopped;
}
