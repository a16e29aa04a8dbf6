/**
 * Webhooks: the alert's JSON POSTed to a subscriber's URL, signed per the Standard Webhooks spec
 * (https://www.standardwebhooks.com), so a receiver can check it came from Herald and drop a retry it already has.
 *
 * The URL is written by a subscriber, not by us, so the request is a server-side request forgery risk: on AWS a
 * URL naming 169.254.169.254 would read the function's credentials. Every address the name resolves to is checked,
 * and the connection goes to the address checked (a second lookup could answer differently: DNS rebinding).
 * Redirects are not followed, since the target of a redirect was never checked.
 */
import { createHash, createHmac } from 'node:crypto';
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import {
  type ChannelProvider,
  type OutboundMessage,
  type ProviderAccepted,
  ProviderError,
  type SecretSource,
} from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import { maskUrl } from '../../shared/mask';

// ---------------------------------------------------------------- addresses

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'multicast'
  | 'reserved';

const V4_RANGES: [cidr: string, cls: Exclude<AddressClass, 'public'>][] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  // Carrier-grade NAT: not reachable from the internet, often is from inside a VPC.
  ['100.64.0.0/10', 'private'],
  ['127.0.0.0/8', 'loopback'],
  // Includes the instance metadata service at 169.254.169.254 (and ECS's 169.254.170.2).
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];

function parseV4(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

const V4_TABLE = V4_RANGES.map(([cidr, cls]) => {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = parseV4(base)!;
  return { start, end: start + size - 1, cls };
});

function classifyV4(value: number): AddressClass {
  for (const range of V4_TABLE) if (value >= range.start && value <= range.end) return range.cls;
  return 'public';
}

/** An IPv6 address as 8 groups of 16 bits; undefined when it is not one. */
function parseV6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  // A dotted IPv4 tail (::ffff:10.0.0.1) is two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    const head = text.slice(0, lastColon + 1);
    text = head.endsWith('::') ? head : head.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string) => (s === '' ? [] : s.split(':'));
  const head = group(halves[0] ?? '');
  const rest = halves.length === 2 ? group(halves[1] ?? '') : [];
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const fill = new Array<string>(8 - explicit).fill('0');
  const groups = [...head, ...(halves.length === 2 ? fill : []), ...rest];
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    out.push(Number.parseInt(g, 16));
  }
  return [...out, ...tail];
}

function classifyV6(groups: number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embeddedV4 = g6 * 65536 + g7;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0) {
    if (g7 === 0) return 'unspecified';
    if (g7 === 1) return 'loopback';
  }
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) reach the IPv4 address inside.
  if (upperZero && (g5 === 0xffff || g5 === 0)) return classifyV4(embeddedV4);
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) also carry an IPv4 address a gateway would reach.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return classifyV4(embeddedV4);
  if (g0 === 0x2002) return classifyV4(g1 * 65536 + g2);
  if ((g0 & 0xfe00) === 0xfc00) return 'private';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  // Site-local, deprecated but still routed inside some networks.
  if ((g0 & 0xffc0) === 0xfec0) return 'private';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved';
  return 'public';
}

/** What kind of address this is, for deciding whether a webhook may reach it. Not an IP: `reserved`. */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 4) return classifyV4(parseV4(address)!);
  if (family === 6) {
    const groups = parseV6(address);
    return groups ? classifyV6(groups) : 'reserved';
  }
  return 'reserved';
}

// ---------------------------------------------------------------- transport

export interface WebhookRequest {
  url: URL;
  /** The addresses that were checked, in the resolver's order; the connection goes to one of them, nowhere else. */
  addresses: { address: string; family: 4 | 6 }[];
  headers: Record<string, string>;
  body: string;
}

export interface WebhookResponse {
  status: number;
  headers: IncomingHttpHeaders;
}

/** Why a request got no answer, and whether the request had left this process by then. */
export class WebhookTransportError extends Error {
  constructor(
    readonly sent: boolean,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'WebhookTransportError';
  }
}

export type WebhookTransport = (request: WebhookRequest, signal: AbortSignal) => Promise<WebhookResponse>;

/**
 * Node's http(s) client, connecting to the checked address: the name stays in the URL, so the Host header, SNI
 * and certificate check still use it, while the lookup the socket performs answers with the pinned addresses
 * (all of them: Node tries each in turn, so `localhost` answering ::1 first still reaches a receiver on 127.0.0.1).
 * `ca` is for tests and for agencies whose receivers sit behind a private CA.
 */
export function createNodeTransport(options: { ca?: string | Buffer | undefined } = {}): WebhookTransport {
  return (req, signal) =>
    new Promise<WebhookResponse>((resolve, reject) => {
      const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
        const [first] = req.addresses;
        if (lookupOptions.all) callback(null, req.addresses);
        else if (first) callback(null, first.address, first.family);
        else callback(new Error('no checked address'), '', 4);
      };
      const https = req.url.protocol === 'https:';
      const send = https ? httpsRequest : httpRequest;
      let sent = false;
      let settled = false;
      const client = send(
        req.url,
        {
          method: 'POST',
          headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
          lookup: pinned,
          signal,
          // A fresh connection per request: a pooled socket could belong to an address checked for another URL.
          agent: false,
          ...(https && options.ca ? { ca: options.ca } : {}),
        },
        (res) => {
          settled = true;
          // Only the status matters; drain the body so the socket closes.
          res.resume();
          resolve({ status: res.statusCode ?? 0, headers: res.headers });
        },
      );
      client.on('finish', () => {
        sent = true;
      });
      client.on('error', (error: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        const timedOut = signal.aborted || error.name === 'AbortError';
        reject(
          new WebhookTransportError(
            sent,
            timedOut ? 'no answer in time' : (error.code ?? error.name),
            timedOut ? 'TIMEOUT' : error.code,
          ),
        );
      });
      client.end(req.body);
    });
}

// ---------------------------------------------------------------- provider

/** What the `webhook` secret must hold for the real provider to be chosen (functions/shared/providers.ts). */
export const WEBHOOK_SECRET_KEYS = ['signingSecret'] as const;

export interface WebhookProviderOptions {
  secrets: SecretSource;
  /** The embedded mode may post to a receiver on the same machine; on AWS this stays false. */
  allowLoopback: boolean;
  /** Every address a host name resolves to. Defaults to the system resolver. */
  resolve?: (host: string) => Promise<string[]>;
  /**
   * The signing secret (`whsec_…`) for one message. Defaults to the shared one in the `webhook` secret; when
   * subscriptions carry their own secret, this is where it comes from.
   */
  signingSecret?: (message: OutboundMessage) => Promise<string | undefined>;
  transport?: WebhookTransport;
  /** Epoch milliseconds, for the `webhook-timestamp`. */
  now?: () => number;
  logger?: LoggerLike;
}

const systemResolve = async (host: string): Promise<string[]> =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * The `webhook-id`: the same for every attempt at one (alert, version, recipient), which is what receivers
 * deduplicate on. Derived from the idempotency key rather than equal to it: the key holds the subscriber's URL,
 * whose path may carry a token, and the id ends up on receipts and in logs.
 */
export function webhookId(idempotencyKey: string): string {
  return `msg_${createHash('sha256').update(idempotencyKey).digest('base64url').slice(0, 32)}`;
}

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed with the secret's bytes after `whsec_`. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The spec's shape: `whsec_` and 24 to 64 random bytes in base64 (shorter keys are guessable). */
export function isSigningSecret(secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match?.[1]) return false;
  const bytes = Buffer.from(match[1], 'base64').length;
  return bytes >= 24 && bytes <= 64;
}

/** Retry-After as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

const permanent = (reason: string) => new ProviderError('permanent', reason);

function hostOf(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

export function createWebhookProvider(options: WebhookProviderOptions): ChannelProvider {
  const resolve = options.resolve ?? systemResolve;
  const transport = options.transport ?? createNodeTransport();
  const now = options.now ?? Date.now;
  const signingSecret =
    options.signingSecret ?? (async () => (await options.secrets.get('webhook'))?.signingSecret);

  /** The addresses that may be connected to, or a ProviderError saying why this URL may not be reached. */
  async function target(url: URL): Promise<WebhookRequest['addresses']> {
    const host = hostOf(url);
    const where = maskUrl(url.href);
    const loopbackName = host === 'localhost' || (isIP(host) !== 0 && classifyAddress(host) === 'loopback');
    if (url.protocol === 'http:') {
      if (!options.allowLoopback || !loopbackName)
        throw permanent(`refused ${where}: webhooks must use https`);
    } else if (url.protocol !== 'https:') {
      throw permanent(`refused ${where}: webhooks must use https`);
    }
    if (url.username || url.password) throw permanent(`refused ${where}: credentials in the URL`);

    let addresses: string[];
    if (isIP(host)) addresses = [host];
    else {
      try {
        addresses = await resolve(host);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // A name that does not exist will not start to; a resolver hiccup may pass.
        if (code === 'ENOTFOUND' || code === 'ENODATA') throw permanent(`${where}: no such host`);
        throw new ProviderError('retryable', `${where}: could not resolve the host (${code ?? 'error'})`);
      }
    }
    if (addresses.length === 0) throw permanent(`${where}: no such host`);
    // Every answer is checked, not only the first: a resolver may rotate, and the name's owner chooses the answers.
    for (const address of addresses) {
      const cls = classifyAddress(address);
      if (cls === 'public' || (cls === 'loopback' && options.allowLoopback)) continue;
      throw permanent(`refused ${where}: ${address} is a ${cls} address`);
    }
    if (url.protocol === 'http:' && addresses.some((a) => classifyAddress(a) !== 'loopback'))
      throw permanent(`refused ${where}: webhooks must use https`);
    return addresses.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
  }

  return {
    channel: 'webhook',
    mode: 'real',
    async send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted> {
      if (message.content.channel !== 'webhook')
        throw permanent(`the webhook provider was given ${message.content.channel} content`);
      if (message.test) throw permanent('test and exercise alerts never reach subscribers');
      let url: URL;
      try {
        url = new URL(message.recipient);
      } catch {
        throw permanent('the recipient is not a URL');
      }
      const where = maskUrl(url.href);
      let secret: string | undefined;
      try {
        secret = await signingSecret(message);
      } catch (error) {
        throw new ProviderError(
          'retryable',
          `could not read the webhook signing secret: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      // Without a secret the channel should have been given the sandbox; sending unsigned would teach receivers
      // to accept unsigned requests.
      if (!secret) throw permanent('no webhook signing secret is configured');
      if (!isSigningSecret(secret))
        throw permanent('the webhook signing secret is not whsec_ followed by 24 to 64 bytes in base64');

      const addresses = await target(url);
      const id = webhookId(message.idempotencyKey);
      // A fresh timestamp per attempt: receivers refuse old ones, and the id already ties retries together.
      const timestamp = Math.floor(now() / 1000);
      const body = JSON.stringify(message.content.payload);
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'Herald-Webhooks/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook(secret, id, timestamp, body),
      };

      let response: WebhookResponse;
      try {
        response = await transport({ url, addresses, headers, body }, signal);
      } catch (error) {
        if (error instanceof WebhookTransportError && !error.sent)
          throw new ProviderError('retryable', `${where}: could not connect (${error.message})`);
        const detail = error instanceof Error ? error.message : String(error);
        throw new ProviderError('unknown-outcome', `${where}: sent, but ${detail}`);
      }

      const { status } = response;
      options.logger?.debug('webhook answered', { recipient: where, status, webhookId: id });
      if (status >= 200 && status < 300) return { providerMessageId: id };
      if (status === 410) throw permanent(`${where}: endpoint gone (410)`);
      const retryAfterHeader = response.headers['retry-after'];
      const retryAfterMs = parseRetryAfter(
        Array.isArray(retryAfterHeader) ? retryAfterHeader[0] : retryAfterHeader,
        now(),
      );
      // 408: the receiver gave up waiting for the request, so it did nothing with it.
      if (status === 429 || status === 408 || status >= 500)
        throw new ProviderError('retryable', `${where}: HTTP ${status}`, retryAfterMs);
      if (status >= 300 && status < 400)
        throw permanent(`${where}: HTTP ${status}; redirects are not followed`);
      throw permanent(`${where}: HTTP ${status}`);
    },
  };
}
