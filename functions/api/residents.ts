/**
 * What the resident and media operations share: how a subscriber is shown (masked, always), how a change of
 * subscription state is written (conditionally, then audited), the rate limits, and the public zone list.
 *
 * Audit: subscription changes are not alerts, so they do not join GET /v1/alerts/{id}/audit. The subscriber store
 * appends a stored SubscriptionEvent in the same operation that changes the state (who, how, which subscriber,
 * never the address), read by GET /v1/subscribers/{id}/audit and GET /v1/subscriptions/audit; each change also
 * writes one structured log line, `subscription.<action>`; the subscriber item keeps the consent's text.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { SubscriberView } from '../../schemas/subscriptions';
import { conflict, HttpProblem } from '../core/errors';
import type { Subscriber } from '../core/model';
import type { SubscriptionChange } from '../ports';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, header, publicRead } from './http';

/** What the resident flows need; the embedded sandbox route hands the same to the inbound-SMS function. */
export type ResidentDeps = Pick<
  ApiDeps,
  'subscribers' | 'pii' | 'zones' | 'notifier' | 'config' | 'clock' | 'newId' | 'logger'
>;

export function toSubscriberView(s: Subscriber): SubscriberView {
  return {
    id: s.id,
    channel: s.channel,
    address: s.addressMasked,
    zones: s.zones,
    language: s.language,
    status: s.status,
    audience: s.audience,
    ...(s.name ? { name: s.name } : {}),
    ...(s.consent ? { consent: { at: s.consent.at, method: s.consent.method, actor: s.consent.actor } } : {}),
    createdAt: s.createdAt,
    updatedAt: s.updatedAt,
    ...(s.confirmedAt ? { confirmedAt: s.confirmedAt } : {}),
    ...(s.stoppedAt ? { stoppedAt: s.stoppedAt } : {}),
    ...(s.quietHours ? { quietHours: { from: s.quietHours.from, to: s.quietHours.to } } : {}),
  };
}

export type AuditAction =
  | 'subscription.requested'
  | 'subscription.confirmed'
  | 'subscription.joined'
  | 'subscription.stopped'
  | 'subscription.resumed'
  | 'subscription.imported'
  | 'subscription.updated'
  | 'subscription.created'
  | 'subscription.deleted'
  | 'subscription.code-failed'
  | 'subscription.quiet-hours';

/** One audit line per change of subscription state: who, which subscriber, what; never the address. */
export function audit(
  deps: Pick<ResidentDeps, 'logger'>,
  action: AuditAction,
  fields: { actor: string; subscriber: Pick<Subscriber, 'id' | 'channel' | 'status' | 'zones'> } & Record<
    string,
    unknown
  >,
): void {
  const { actor, subscriber, ...rest } = fields;
  deps.logger.info(action, {
    audit: {
      action,
      actor,
      subscriberId: subscriber.id,
      channel: subscriber.channel,
      status: subscriber.status,
      zones: subscriber.zones,
      ...rest,
    },
  });
}

/**
 * Applies `change` to the stored subscriber and writes it if nobody changed it meanwhile, reading it again and
 * retrying a few times when someone did (a STOP and a JOIN from the same phone a moment apart).
 */
export async function updateSubscriber(
  deps: Pick<ResidentDeps, 'subscribers'>,
  current: Subscriber,
  change: (s: Subscriber) => Subscriber | undefined,
  /** The audit event the store writes with the change: fixed, or chosen from the state it changes. */
  auditAs: SubscriptionChange | ((base: Subscriber, next: Subscriber) => SubscriptionChange),
): Promise<Subscriber> {
  let base = current;
  for (let attempt = 0; attempt < 4; attempt++) {
    const changed = change(base);
    if (!changed) return base;
    // updatedAt is the concurrency token: it must move forward even when two changes fall in one millisecond.
    const next =
      changed.updatedAt > base.updatedAt
        ? changed
        : { ...changed, updatedAt: new Date(Date.parse(base.updatedAt) + 1).toISOString() };
    const event = typeof auditAs === 'function' ? auditAs(base, next) : auditAs;
    if (await deps.subscribers.saveSubscriber(next, base.updatedAt, event)) return next;
    const reread = await deps.subscribers.getSubscriber(current.id);
    if (!reread) throw conflict('The subscriber was removed a moment ago.');
    base = reread;
  }
  throw conflict('The subscriber is being changed by another request; try again.', { 'retry-after': '1' });
}

/** Zones a subscriber follows after adding some: each once, in the order first named. */
export const unionZones = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];

// ---------------------------------------------------------------- rate limits

export const tooManyRequests = (detail: string, retryAfterSeconds: number) =>
  new HttpProblem(429, 'rate-limited', 'Too many requests', detail, undefined, {
    'retry-after': String(Math.max(1, retryAfterSeconds)),
  });

/** Seconds until the fixed window that holds `now` ends: when a refused client may try again. */
export const secondsLeftInWindow = (now: Date, windowSeconds: number) =>
  windowSeconds - (Math.floor(now.getTime() / 1000) % windowSeconds);

/** The viewer's address, set by the CDN's viewer-request function (lib/public-site.ts) over whatever the viewer sent. */
export const VIEWER_IP_HEADER = 'x-herald-viewer-ip';
/** Added by CloudFront to every request it sends the api (lib/public-reads.ts): the edge secret's value. */
export const EDGE_SECRET_HEADER = 'x-herald-edge-secret';
/** The edge secret is JSON, `{"value": "…"}`: the key CloudFront's header and the api both read. */
export const EDGE_SECRET_KEY = 'value';

/**
 * The caller's address, hashed with the PII key before it is used as a rate-limit key or kept as consent evidence: an
 * IP address is personal data too. Through CloudFront, API Gateway's sourceIp is an edge server's, which every resident
 * behind that edge would share (one sign-up and tip allowance for a whole city); the viewer's own address comes in
 * VIEWER_IP_HEADER instead. That header is believed only beside the edge secret, which only CloudFront sends, so a
 * direct caller of the execute-api URL cannot pick the address its requests count against. Without `edgeSecret` (the
 * embedded mode, which has no CDN) it is never believed.
 */
/**
 * STOP, by text or on the web: the subscriber stopped from `at`, or no change for one already stopped. The rosters
 * follow the status in the store.
 */
export const stopAt =
  (at: string) =>
  (s: Subscriber): Subscriber | undefined =>
    s.status === 'stopped' ? undefined : { ...s, status: 'stopped', stoppedAt: at, updatedAt: at };

export async function clientKey(deps: Pick<ApiDeps, 'pii' | 'edgeSecret'>, event: APIGatewayProxyEventV2) {
  return deps.pii.hash(`client:${rateLimitAddress(await clientAddress(deps, event))}`);
}

/** The caller's IP address: the viewer's as CloudFront vouches for it, else API Gateway's sourceIp. */
export async function clientAddress(
  deps: Pick<ApiDeps, 'edgeSecret'>,
  event: APIGatewayProxyEventV2,
): Promise<string> {
  const sourceIp = event.requestContext.http.sourceIp;
  const viewer = header(event, VIEWER_IP_HEADER)?.trim();
  const presented = header(event, EDGE_SECRET_HEADER);
  // The secret is read only for a request that claims to come through the CDN: direct callers cost no read.
  if (!deps.edgeSecret || !viewer || !presented || isIP(viewer) === 0) return sourceIp;
  return sameSecret(presented, await deps.edgeSecret()) ? viewer : sourceIp;
}

/** Compared in constant time, as digests, so neither the content nor the length of the secret leaks through timing. */
function sameSecret(presented: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return expected !== '' && timingSafeEqual(digest(presented), digest(expected));
}

/**
 * What one client is counted as: an IPv4 address as it is, an IPv6 address by its /64 prefix. One subscriber line or
 * phone is given a whole /64 to pick addresses from, so counting each address apart would let one client appear as
 * billions. An IPv4-mapped IPv6 address counts as its IPv4 address.
 */
export function rateLimitAddress(address: string): string {
  if (isIP(address) !== 6) return address;
  const groups = ipv6Groups(address);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    return [groups[6]! >> 8, groups[6]! & 0xff, groups[7]! >> 8, groups[7]! & 0xff].join('.');
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` expanded, a trailing dotted IPv4 part as two groups). */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0]!.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const split = (part: string) => (part === '' ? [] : part.split(':'));
  const before = split(head);
  const after = tail === undefined ? [] : split(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - before.length - after.length).fill('0');
  return [...before, ...zeros, ...after].map((g) => Number.parseInt(g, 16));
}

// ---------------------------------------------------------------- zones

/** The zone list only changes with a deployment: its ETag is its content's hash, computed once per catalog. */
const zoneBodies = new WeakMap<ApiDeps['zones'], { timeZone: string; body: string; etag: string }>();

/**
 * The agency's zones, and the time zone its clock runs on (HERALD_TIME_ZONE): the console turns the times an
 * officer types into instants on that clock, wherever the officer's own browser thinks it is.
 */
export async function listZones(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const { timeZone } = deps.config;
  let zonesBody = zoneBodies.get(deps.zones);
  if (zonesBody?.timeZone !== timeZone) {
    const zones = deps.zones.zones.map((z) => ({
      id: z.id,
      name: z.name,
      ...(z.names ? { names: z.names } : {}),
      ...(z.polygon ? { polygon: z.polygon } : {}),
    }));
    const body = JSON.stringify({ zones, timeZone });
    zonesBody = {
      timeZone,
      body,
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
    };
    zoneBodies.set(deps.zones, zonesBody);
  }
  return publicRead(event, {
    body: zonesBody.body,
    etag: zonesBody.etag,
    contentType: 'application/json; charset=utf-8',
    cacheControl: 'public, max-age=300',
  });
}
