/**
 * Subscriber addresses: phone numbers, emails and webhook URLs as people type them, brought to the one form
 * that is hashed for lookup (so "+34 612 34 56 78" and "+34612345678" are the same resident), or refused with a
 * reason that never repeats the address itself (the reason ends up in API answers and import reports).
 */
import { parsePhoneNumberWithError } from 'libphonenumber-js';
// The webhook provider's SSRF classification is pure (no I/O): reusing it keeps one list of forbidden ranges.
import { classifyAddress, isLoopbackHost, normaliseHost } from '../adapters/net/addresses';
import type { SubscriberChannel } from './model';

export type Normalised = { ok: true; address: string } | { ok: false; message: string };

const refuse = (message: string): Normalised => ({ ok: false, message });

/**
 * E.164 for a valid mobile or fixed number in international form. There is no default country: a number
 * without its +country code is ambiguous for an agency near a border, and a guess would text a stranger.
 */
export function normalisePhone(raw: string): Normalised {
  const text = raw.trim();
  if (text.length === 0) return refuse('is required');
  if (text.length > 32) return refuse('is too long for a phone number');
  const international = text.startsWith('00') ? `+${text.slice(2)}` : text;
  if (!international.startsWith('+'))
    return refuse('must be a phone number in international form, starting with + and the country code');
  try {
    const parsed = parsePhoneNumberWithError(international);
    if (!parsed.isValid()) return refuse('is not a valid phone number');
    return { ok: true, address: parsed.number };
  } catch {
    return refuse('is not a valid phone number');
  }
}

/** A practical address check (RFC 5321 lengths, one @, a dotted domain), not the full RFC 5322 grammar. */
const EMAIL =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/**
 * Lower-cased whole: the local part is case-sensitive in theory, in practice no mailbox provider treats it so,
 * and one person must not become two subscribers by typing a capital.
 */
export function normaliseEmail(raw: string): Normalised {
  const text = raw.trim();
  if (text.length === 0) return refuse('is required');
  if (text.length > 254) return refuse('is too long for an email address');
  const at = text.lastIndexOf('@');
  if (at < 1 || at > 64 || !EMAIL.test(text)) return refuse('is not a valid email address');
  return { ok: true, address: text.toLowerCase() };
}

export interface WebhookUrlPolicy {
  /** The embedded mode with HERALD_WEBHOOK_ALLOW_LOOPBACK=true: a receiver under test on the same machine. */
  allowLoopback: boolean;
}

/** Host names that lead inside the network whatever DNS says: refused before any lookup. */
const INTERNAL_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/**
 * An https URL to a public host. Literal addresses are classified now (metadata, private and loopback ranges are
 * refused); names are resolved and checked again at every delivery by the webhook provider (DNS can change).
 * Plain http is allowed only to loopback, and only where loopback is allowed: a signed alert still travels in
 * clear over http, and an outlet's receiver on the internet has no reason not to use TLS.
 */
export function normaliseWebhookUrl(raw: string, policy: WebhookUrlPolicy): Normalised {
  const text = raw.trim();
  if (text.length === 0) return refuse('is required');
  if (text.length > 2048) return refuse('is too long for a URL');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return refuse('is not a URL');
  }
  if (url.username || url.password) return refuse('must not carry a user name or password');
  if (url.hash) return refuse('must not have a #fragment');
  // `localhost.`, `LOCALHOST` and `127.0.0.1.` name the same host as their plain forms: checked as those.
  const host = normaliseHost(url);
  const literal = classifyAddress(host);
  const isIpLiteral = /^[\d.]+$/.test(host) || host.includes(':');
  const loopback = isLoopbackHost(host);
  if (loopback) {
    if (!policy.allowLoopback) return refuse('must not point at this machine (loopback)');
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('must be an https URL');
    return { ok: true, address: url.toString() };
  }
  if (url.protocol !== 'https:') return refuse('must be an https URL');
  if (isIpLiteral && literal !== 'public') return refuse(`must not point at a ${literal} address`);
  if (!isIpLiteral && INTERNAL_NAMES.test(host)) return refuse('must name a public host');
  if (!isIpLiteral && !host.includes('.')) return refuse('must name a public host (a fully qualified name)');
  return { ok: true, address: url.toString() };
}

export function normaliseAddress(
  channel: SubscriberChannel,
  raw: string,
  policy: WebhookUrlPolicy = { allowLoopback: false },
): Normalised {
  switch (channel) {
    case 'sms':
      return normalisePhone(raw);
    case 'email':
      return normaliseEmail(raw);
    case 'webhook':
      return normaliseWebhookUrl(raw, policy);
  }
}

/** The confirm route takes only the address: an @ makes it an email, anything else a phone number. */
export const channelOfAddress = (raw: string): 'sms' | 'email' => (raw.includes('@') ? 'email' : 'sms');
