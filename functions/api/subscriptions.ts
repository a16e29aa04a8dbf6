/**
 * Residents signing up on the web, with double opt-in: POST /v1/subscriptions sends a 6-digit code to the
 * address, POST /v1/subscriptions/confirm takes it back, and only then applies what was asked (zones, language,
 * quiet hours). Officers' CSV import (POST /v1/subscriptions/import) is in subscription-import.ts.
 *
 * The sign-up answers the same whether or not the address is already subscribed (nobody learns who is), stores
 * only a keyed hash of the code, and is rate limited per address and per client so it cannot be used to flood a
 * stranger's phone or to guess codes. Managing a subscription on the web (manage-subscription.ts) sends and checks its
 * codes with the same pieces (spendCodeAllowance, issueCode, checkCode), each code bound to what it is for.
 */
import { randomInt, timingSafeEqual } from 'node:crypto';
import { ConfirmRequest, SubscriptionRequest } from '../../schemas/subscriptions';
import { channelOfAddress, normaliseAddress } from '../core/addresses';
import { webConsentText } from '../core/consent';
import { HttpProblem, validationFailed } from '../core/errors';
import { codeSubject, codeText, replyLanguageOf } from '../core/keywords';
import { ALL_ZONES, type Challenge, type Consent, type Subscriber } from '../core/model';
import { quietDetail, withQuietHours } from '../core/quiet-hours';
import type { SubscriptionChange } from '../ports';
import { maskRecipient } from '../shared/mask';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, json, parseWith, problemResult, readBodyObject } from './http';
import { idempotencyKeyOf, idempotent } from './idempotency';
import {
  audit,
  clientKey,
  type ResidentDeps,
  secondsLeftInWindow,
  tooManyRequests,
  toSubscriberView,
  unionZones,
  updateSubscriber,
} from './residents';

export const CODE_TTL_MINUTES = 15;
export const CODE_TRIES = 5;
const HOUR = 3600;
/** Codes one address may be sent per hour: enough for a typo and a lost SMS, not enough to harass anyone. */
export const CODES_PER_ADDRESS_PER_HOUR = 3;
/** Sign-ups one client (IP address) may ask for per hour: a household or an office, not a script. */
export const SIGNUPS_PER_CLIENT_PER_HOUR = 20;
/** Confirmation attempts per client per hour, across addresses: 5 tries per code bound one address already. */
export const CONFIRMS_PER_CLIENT_PER_HOUR = 60;

const ACTOR = 'resident';
const WEB_REQUEST = { action: 'requested', actor: ACTOR, method: 'web' } as const;

export function invalidAddress(channel: string, message: string): HttpProblem {
  return validationFailed(
    [{ path: '/address', message }],
    `The ${channel} address is not valid: ${message}.`,
  );
}

/** Each zone that is not the agency's, as a field error naming its index. */
export function unknownZones(deps: Pick<ResidentDeps, 'zones'>, zones: readonly string[], allowAll: boolean) {
  return zones.flatMap((zone, i) =>
    (allowAll && zone === ALL_ZONES) || deps.zones.has(zone)
      ? []
      : [{ path: `/zones/${i}`, message: "is not one of the agency's zones (see GET /v1/zones)" }],
  );
}

/** What a code is for: the sign-up's double opt-in, or opening a session to manage a subscription on the web. */
export type CodePurpose = 'signup' | 'manage';

/**
 * The code's keyed hash: bound to the address, so a code sent to one address is no good for another, and to its
 * purpose, so a sign-up code opens no manage session and a manage code confirms no sign-up. A sign-up's input is
 * what it always was, so the codes already waiting when this was deployed stay good.
 */
const codeHashOf = (
  deps: Pick<ResidentDeps, 'pii'>,
  addressHash: string,
  code: string,
  purpose: CodePurpose,
) =>
  deps.pii.hash(
    purpose === 'signup' ? `code:${addressHash}:${code}` : `code:${purpose}:${addressHash}:${code}`,
  );

/**
 * Counts a code about to be sent against the limits per client and per address, and refuses it past them (429).
 * Sign-up and manage codes share the counters: what is limited is how many codes reach one phone, or leave one
 * network, whichever page asked for them.
 */
export async function spendCodeAllowance(
  deps: Pick<ResidentDeps, 'subscribers'>,
  channel: Challenge['channel'],
  addressHash: string,
  client: string,
  now: Date,
): Promise<void> {
  if (
    !(await deps.subscribers.rateLimitHit(`signup:client:${client}`, HOUR, SIGNUPS_PER_CLIENT_PER_HOUR, now))
  )
    throw tooManyRequests(
      'Too many sign-ups from this network in the last hour; try again later.',
      secondsLeftInWindow(now, HOUR),
    );
  if (
    !(await deps.subscribers.rateLimitHit(
      `signup:address:${channel}:${addressHash}`,
      HOUR,
      CODES_PER_ADDRESS_PER_HOUR,
      now,
    ))
  )
    throw tooManyRequests(
      `At most ${CODES_PER_ADDRESS_PER_HOUR} codes an hour go to one address; use the last code sent, or try again later.`,
      secondsLeftInWindow(now, HOUR),
    );
}

/**
 * Stores a new code for the address and hands it back to be sent. It replaces any code waiting there: the last one
 * asked for is the one that works.
 */
export async function issueCode(
  deps: Pick<ResidentDeps, 'subscribers' | 'pii'>,
  fields: Pick<Challenge, 'channel' | 'addressHash' | 'subscriberId' | 'request'>,
  purpose: CodePurpose,
  now: Date,
): Promise<{ code: string; expiresAt: string }> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const expiresAt = new Date(now.getTime() + CODE_TTL_MINUTES * 60_000).toISOString();
  await deps.subscribers.putChallenge({
    channel: fields.channel,
    addressHash: fields.addressHash,
    subscriberId: fields.subscriberId,
    ...(purpose === 'signup' ? {} : { purpose }),
    codeHash: await codeHashOf(deps, fields.addressHash, code, purpose),
    expiresAt,
    triesLeft: CODE_TRIES,
    createdAt: now.toISOString(),
    ...(fields.request ? { request: fields.request } : {}),
  });
  return { code, expiresAt };
}

// ---------------------------------------------------------------- sign-up

export async function requestSubscription(
  deps: ApiDeps,
  { event, actor }: OperationInput,
): Promise<ApiResult> {
  const body = readBodyObject(event);
  const request = parseWith(SubscriptionRequest, body);
  const zoneErrors = unknownZones(deps, request.zones, false);
  const normalised = normaliseAddress(request.channel, request.address);
  const errors = [
    ...(normalised.ok ? [] : [{ path: '/address', message: normalised.message }]),
    ...zoneErrors,
  ];
  if (errors.length > 0) throw validationFailed(errors);
  const address = (normalised as { address: string }).address;
  const addressHash = await deps.pii.hash(address);
  const client = await clientKey(deps, event);
  const now = deps.clock.now();

  // Idempotency is scoped per client, and the fingerprint holds the address's keyed hash, never the address.
  return idempotent(
    deps.store,
    idempotencyKeyOf(event),
    {
      actor: { ...actor, id: `anonymous:${client}` },
      operation: 'requestSubscription',
      path: '/v1/subscriptions',
      body: { ...request, address: addressHash },
      now,
      newAlertId: deps.newId,
    },
    async (newId) => {
      await spendCodeAllowance(deps, request.channel, addressHash, client, now);

      const at = now.toISOString();
      const language = request.language;
      let subscriber = await deps.subscribers.findSubscriber(request.channel, addressHash);
      let justCreated = false;
      if (!subscriber) {
        const pending: Subscriber = {
          id: newId,
          channel: request.channel,
          addressHash,
          addressCipher: await deps.pii.encrypt(address),
          addressMasked: maskRecipient(request.channel, address),
          zones: [...new Set(request.zones)],
          language,
          status: 'pending',
          audience: 'public',
          createdAt: at,
          updatedAt: at,
        };
        const created = await deps.subscribers.createSubscriber(pending, WEB_REQUEST);
        justCreated = created.kind === 'created';
        subscriber = created.kind === 'created' ? pending : created.subscriber;
      }
      // A pending sign-up takes the latest request; a subscribed address changes only once the code comes back.
      if (subscriber.status === 'pending' && !justCreated)
        subscriber = await updateSubscriber(
          deps,
          subscriber,
          (s) => ({
            ...s,
            zones: [...new Set(request.zones)],
            language,
            updatedAt: at,
          }),
          WEB_REQUEST,
        );

      const { code, expiresAt } = await issueCode(
        deps,
        {
          channel: request.channel,
          addressHash,
          subscriberId: subscriber.id,
          // Quiet hours too are applied only with the code back (confirmSubscription), audited then.
          request: {
            zones: [...new Set(request.zones)],
            language,
            ...(request.quietHours !== undefined ? { quietHours: request.quietHours } : {}),
          },
        },
        'signup',
        now,
      );
      const ctx = { agency: deps.config.agencyName, language: replyLanguageOf(language) };
      await deps.notifier.send({
        channel: request.channel,
        address,
        kind: 'code',
        text: codeText(ctx, code, CODE_TTL_MINUTES),
        ...(request.channel === 'email' ? { subject: codeSubject(ctx) } : {}),
      });
      audit(deps, 'subscription.requested', { actor: ACTOR, subscriber, evidence: `web:${client}` });
      return json(202, {
        status: 'confirmation-sent',
        channel: request.channel,
        address: maskRecipient(request.channel, address),
        expiresAt,
      });
    },
  );
}

// ---------------------------------------------------------------- confirmation

/** Where a resident asks for another code: named in the problems' words. */
const askAgain = (purpose: CodePurpose) => (purpose === 'signup' ? ' with POST /v1/subscriptions' : '');

/** 410: no code waits for the address, none of its tries is left, or it expired. */
export const codeGone = (purpose: CodePurpose = 'signup') =>
  new HttpProblem(
    410,
    'code-expired',
    'Code expired',
    `There is no code waiting for this address: it expired, its tries are used up, or none was asked for. Ask for a new code${askAgain(purpose)}.`,
    [{ path: '/code', message: 'has expired or has no tries left; ask for a new code' }],
  );

/** 422: not the code that was sent. `triesLeft` is what a page or an answer shows beside the problem. */
export class WrongCode extends HttpProblem {
  constructor(
    readonly triesLeft: number,
    purpose: CodePurpose,
  ) {
    super(
      422,
      'wrong-code',
      'Wrong code',
      triesLeft > 0
        ? `That is not the code that was sent; ${triesLeft} ${triesLeft === 1 ? 'try is' : 'tries are'} left.`
        : `That is not the code that was sent, and no tries are left: ask for a new code${askAgain(purpose)}.`,
      [{ path: '/code', message: `is not the code that was sent (tries left: ${triesLeft})` }],
    );
  }
}

/**
 * The one check of a code typed back, for every purpose: per-client limit on attempts (429), a code waiting and in
 * time (410 `code-expired`), one try spent, then the code compared (422 WrongCode). Answers the challenge it matched;
 * the caller deletes it once it has done what the code was for.
 */
export async function checkCode(
  deps: Pick<ResidentDeps, 'subscribers' | 'pii' | 'logger'>,
  typed: { channel: Challenge['channel']; addressHash: string; code: string; purpose: CodePurpose },
  client: string,
  now: Date,
): Promise<Challenge> {
  const { channel, addressHash, purpose } = typed;
  if (
    !(await deps.subscribers.rateLimitHit(
      `confirm:client:${client}`,
      HOUR,
      CONFIRMS_PER_CLIENT_PER_HOUR,
      now,
    ))
  )
    throw tooManyRequests(
      'Too many confirmation attempts from this network in the last hour; try again later.',
      secondsLeftInWindow(now, HOUR),
    );

  const challenge = await deps.subscribers.getChallenge(channel, addressHash);
  if (!challenge) throw codeGone(purpose);
  if (Date.parse(challenge.expiresAt) <= now.getTime()) {
    await deps.subscribers.deleteChallenge(channel, addressHash);
    throw codeGone(purpose);
  }
  // The try is spent before the code is compared: two guesses racing cannot both use the last try.
  if (!(await deps.subscribers.spendChallengeTry(channel, addressHash))) throw codeGone(purpose);
  const expected = Buffer.from(challenge.codeHash);
  // A code for another purpose hashes to something else: it is a wrong code here, and spends a try like one.
  const given = Buffer.from(await codeHashOf(deps, addressHash, typed.code, purpose));
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    const triesLeft = Math.max(0, challenge.triesLeft - 1);
    if (triesLeft === 0) await deps.subscribers.deleteChallenge(channel, addressHash);
    deps.logger.info('subscription.code-failed', {
      audit: {
        action: 'subscription.code-failed',
        actor: ACTOR,
        subscriberId: challenge.subscriberId,
        purpose,
        triesLeft,
      },
    });
    throw new WrongCode(triesLeft, purpose);
  }
  return challenge;
}

export async function confirmSubscription(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const request = parseWith(ConfirmRequest, readBodyObject(event));
  const channel = channelOfAddress(request.address);
  const normalised = normaliseAddress(channel, request.address);
  if (!normalised.ok) throw invalidAddress(channel, normalised.message);
  const address = normalised.address;
  const addressHash = await deps.pii.hash(address);
  const client = await clientKey(deps, event);
  const now = deps.clock.now();
  let challenge: Challenge;
  try {
    challenge = await checkCode(
      deps,
      { channel, addressHash, code: request.code, purpose: 'signup' },
      client,
      now,
    );
  } catch (error) {
    if (!(error instanceof WrongCode)) throw error;
    // The problem names the field and, beside the standard members, how many tries are left.
    const problem = problemResult(error, event.rawPath);
    return {
      ...problem,
      body: JSON.stringify({ ...JSON.parse(problem.body ?? '{}'), triesLeft: error.triesLeft }),
    };
  }

  const subscriber =
    (await deps.subscribers.getSubscriber(challenge.subscriberId)) ??
    (await deps.subscribers.findSubscriber(channel, addressHash));
  if (!subscriber) {
    await deps.subscribers.deleteChallenge(channel, addressHash);
    throw codeGone();
  }
  const at = now.toISOString();
  const consent: Consent = {
    at,
    method: 'web',
    // Recorded in the language of the alerts they asked for, which the sign-up page shows it in by default.
    text: webConsentText(challenge.request?.language),
    actor: ACTOR,
    evidence: `web:${client}`,
  };
  const asked = challenge.request;
  const confirmed = await updateSubscriber(
    deps,
    subscriber,
    (s) => {
      const next: Subscriber = {
        ...s,
        // A confirmed subscriber adds the zones asked for; a pending or stopped one gets exactly them.
        zones: asked ? (s.status === 'confirmed' ? unionZones(s.zones, asked.zones) : asked.zones) : s.zones,
        language: asked?.language ?? s.language,
        status: 'confirmed',
        confirmedAt: at,
        stoppedAt: undefined,
        consent,
        updatedAt: at,
      };
      // Quiet hours change only now, with the code back, as the zones do: a stranger cannot change them.
      return asked?.quietHours === undefined ? next : (withQuietHours(next, asked.quietHours, at) ?? next);
    },
    // A confirmed subscriber confirming more zones changes them; anyone else becomes confirmed.
    (base, next) => webConfirmation(base, next),
  );
  await deps.subscribers.deleteChallenge(channel, addressHash);
  audit(deps, 'subscription.confirmed', { actor: ACTOR, subscriber: confirmed, method: 'web' });
  return json(200, toSubscriberView(confirmed));
}

/**
 * The audit event of a change made on the web (a confirmation, or the manage page: functions/api/manage-subscription.ts):
 * `confirmed` for anyone not confirmed before, `changed` for other zones or another language, and the quiet hours' own
 * actions when they are all that changed; a change of quiet hours is named in `detail` either way.
 */
export function webConfirmation(base: Subscriber, next: Subscriber): SubscriptionChange {
  const quietChanged =
    base.quietHours?.from !== next.quietHours?.from || base.quietHours?.to !== next.quietHours?.to;
  const detail = quietChanged ? { detail: quietDetail(next.quietHours) } : {};
  if (base.status !== 'confirmed') return { action: 'confirmed', actor: ACTOR, method: 'web', ...detail };
  const otherwiseSame = base.language === next.language && base.zones.join(',') === next.zones.join(',');
  if (quietChanged && otherwiseSame)
    return {
      action: next.quietHours ? 'quiet-hours-set' : 'quiet-hours-cleared',
      actor: ACTOR,
      method: 'web',
      ...detail,
    };
  return { action: 'changed', actor: ACTOR, method: 'web', ...detail };
}

// The CSV import lives in its own module; the router reaches it here, as before.
export { importSubscriptions, MAX_IMPORT_ROWS } from './subscription-import';
