/**
 * Media outlets, managed by officers (and supervisors; auditors read): email or SMS subscribers an officer adds
 * with the outlet's consent, and webhooks signed per the Standard Webhooks spec.
 *
 * A webhook's signing secret is shown once, in the answer that creates it, and kept only encrypted. That is also
 * why POST /v1/webhooks takes no Idempotency-Key: a replayed answer would have to be stored with the secret in it.
 * A retry after a lost answer finds the URL taken (409, naming the webhook): delete it and create it again.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import { NewSubscriber, NewWebhook } from '../../schemas/subscriptions';
import { normaliseAddress } from '../core/addresses';
import { conflict, notFound, validationFailed } from '../core/errors';
import { ALL_ZONES, type Subscriber, type SubscriberChannel } from '../core/model';
import { maskRecipient } from '../shared/mask';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, fieldErrors, json, parseWith, readBodyObject } from './http';
import { idempotencyKeyOf, idempotent } from './idempotency';
import { audit, toSubscriberView } from './residents';

const ListQuery = z.strictObject({
  channel: z.enum(['sms', 'email', 'webhook']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(2048).optional(),
});

function unknownZones(deps: ApiDeps, zones: readonly string[]) {
  const errors = zones.flatMap((zone, i) =>
    zone === ALL_ZONES || deps.zones.has(zone)
      ? []
      : [{ path: `/zones/${i}`, message: "is not one of the agency's zones (see GET /v1/zones)" }],
  );
  if (zones.includes(ALL_ZONES) && zones.length > 1)
    errors.push({ path: '/zones', message: '"*" already means every zone: name it alone' });
  return errors;
}

async function list(deps: ApiDeps, event: OperationInput['event'], only?: SubscriberChannel) {
  const parsed = ListQuery.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success)
    throw validationFailed(fieldErrors(parsed.error).map((e) => ({ ...e, path: `/query${e.path}` })));
  const channel = only ?? parsed.data.channel;
  let page: Awaited<ReturnType<ApiDeps['subscribers']['listSubscribers']>>;
  try {
    page = await deps.subscribers.listSubscribers({
      channel,
      limit: parsed.data.limit,
      cursor: parsed.data.cursor,
    });
  } catch (error) {
    if (error instanceof Error && error.name === 'InvalidCursorError')
      throw validationFailed([{ path: '/query/cursor', message: 'is not a cursor this API gave out' }]);
    throw error;
  }
  return json(200, {
    items: page.items.map(toSubscriberView),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  });
}

export const listSubscribers = (deps: ApiDeps, { event }: OperationInput) => list(deps, event);
export const listWebhooks = (deps: ApiDeps, { event }: OperationInput) => list(deps, event, 'webhook');

/** Stores a new subscriber, or says which one already has this address (409): officers edit, never duplicate. */
async function create(deps: ApiDeps, subscriber: Subscriber, actorId: string): Promise<void> {
  const created = await deps.subscribers.createSubscriber(subscriber, {
    action: subscriber.channel === 'webhook' ? 'webhook-created' : 'added',
    actor: actorId,
    method: 'officer',
  });
  if (created.kind === 'exists')
    throw conflict(
      `This ${subscriber.channel} address is already subscriber ${created.subscriber.id} (${created.subscriber.status}).`,
    );
}

export async function createSubscriber(deps: ApiDeps, { event, actor }: OperationInput): Promise<ApiResult> {
  const body = readBodyObject(event);
  const request = parseWith(NewSubscriber, body);
  const normalised = normaliseAddress(request.channel, request.address);
  const errors = [
    ...(normalised.ok ? [] : [{ path: '/address', message: normalised.message }]),
    ...unknownZones(deps, request.zones),
  ];
  if (errors.length > 0) throw validationFailed(errors);
  const address = (normalised as { address: string }).address;
  const addressHash = await deps.pii.hash(address);
  const now = deps.clock.now();
  return idempotent(
    deps.store,
    idempotencyKeyOf(event),
    {
      actor,
      operation: 'createSubscriber',
      path: '/v1/subscribers',
      // The fingerprint holds the address's keyed hash: an unkeyed hash of a phone number is easily reversed.
      body: { ...request, address: addressHash },
      now,
      newAlertId: deps.newId,
    },
    async (id) => {
      const existing = await deps.subscribers.getSubscriber(id);
      // A retry of this very request, after its answer was lost: the subscriber it wrote is the answer.
      if (existing && existing.addressHash === addressHash)
        return json(201, toSubscriberView(existing), { location: `/v1/subscribers/${id}` });
      const at = now.toISOString();
      const subscriber: Subscriber = {
        id,
        channel: request.channel,
        addressHash,
        addressCipher: await deps.pii.encrypt(address),
        addressMasked: maskRecipient(request.channel, address),
        zones: [...new Set(request.zones)],
        language: request.language,
        status: 'confirmed',
        audience: request.audience,
        ...(request.name ? { name: request.name } : {}),
        consent: { at, method: 'officer', text: request.consent, actor: actor.id, evidence: 'officer' },
        createdAt: at,
        updatedAt: at,
        confirmedAt: at,
      };
      await create(deps, subscriber, actor.id);
      audit(deps, 'subscription.created', { actor: actor.id, subscriber });
      return json(201, toSubscriberView(subscriber), { location: `/v1/subscribers/${id}` });
    },
  );
}

/** Removes a subscriber and its PII; its receipts keep only the subscriber id and the masked address. */
async function remove(deps: ApiDeps, { actor, params }: OperationInput, only?: SubscriberChannel) {
  const id = params.id ?? '';
  const found = id.length <= 64 ? await deps.subscribers.getSubscriber(id) : undefined;
  if (!found || (only && found.channel !== only))
    throw notFound(`There is no ${only ?? 'subscriber'} ${JSON.stringify(id.slice(0, 64))}.`);
  await deps.subscribers.deleteSubscriber(found.id, {
    action: found.channel === 'webhook' ? 'webhook-deleted' : 'deleted',
    actor: actor.id,
    method: 'officer',
    at: deps.clock.now().toISOString(),
  });
  audit(deps, 'subscription.deleted', { actor: actor.id, subscriber: found });
  return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' } satisfies ApiResult;
}

export const deleteSubscriber = (deps: ApiDeps, input: OperationInput) => remove(deps, input);
export const deleteWebhook = (deps: ApiDeps, input: OperationInput) => remove(deps, input, 'webhook');

/** `whsec_` and 32 random bytes, base64: the shape the Standard Webhooks libraries expect. */
const newSigningSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

export async function createWebhook(deps: ApiDeps, { event, actor }: OperationInput): Promise<ApiResult> {
  const request = parseWith(NewWebhook, readBodyObject(event));
  const normalised = normaliseAddress('webhook', request.url, {
    allowLoopback: deps.config.webhookAllowLoopback === true,
  });
  const errors = [
    ...(normalised.ok ? [] : [{ path: '/url', message: normalised.message }]),
    ...unknownZones(deps, request.zones),
  ];
  if (errors.length > 0) throw validationFailed(errors);
  const url = (normalised as { address: string }).address;
  const at = deps.clock.now().toISOString();
  const secret = newSigningSecret();
  const subscriber: Subscriber = {
    id: deps.newId(),
    channel: 'webhook',
    addressHash: await deps.pii.hash(url),
    addressCipher: await deps.pii.encrypt(url),
    addressMasked: maskRecipient('webhook', url),
    zones: [...new Set(request.zones)],
    language: request.language,
    status: 'confirmed',
    audience: request.audience,
    name: request.name,
    consent: {
      at,
      method: 'officer',
      text: request.consent ?? `webhook for ${request.name}, registered by an officer`,
      actor: actor.id,
      evidence: 'officer',
    },
    secretCipher: await deps.pii.encrypt(secret),
    createdAt: at,
    updatedAt: at,
    confirmedAt: at,
  };
  await create(deps, subscriber, actor.id);
  audit(deps, 'subscription.created', { actor: actor.id, subscriber });
  return json(
    201,
    { ...toSubscriberView(subscriber), secret },
    { location: `/v1/webhooks/${subscriber.id}` },
  );
}
