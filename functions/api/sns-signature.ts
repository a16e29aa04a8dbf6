/**
 * Verifying Amazon SNS HTTP(S) messages (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html):
 * the public inbound-SMS route trusts nothing it is sent until SNS's signature checks against SNS's certificate.
 *
 * - The string to sign is "<Name>\n<value>\n" for each signed field, in byte order of the names: Message,
 *   MessageId, Subject (when present), Timestamp, TopicArn, Type for a notification; Message, MessageId,
 *   SubscribeURL, Timestamp, Token, TopicArn, Type for a (un)subscription confirmation.
 * - SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over that string; Signature is base64.
 * - The certificate comes only from https://sns.<region>.amazonaws.com[.cn]/…pem, never from anywhere a forged
 *   message could name; it is fetched once per container and kept (SNS rotates it rarely, under a new URL).
 * - The URL still arrives in the message, so it is fetched through the guarded fetcher too: the name must
 *   resolve to public addresses only, the connection goes to the address checked, no redirect is followed and
 *   the answer is bounded.
 */
import { createVerify, X509Certificate } from 'node:crypto';
import type { SnsEnvelope } from '../../schemas/subscriptions';
import { guardedFetch, type PinnedTransport, type Resolver } from '../adapters/net/guarded-fetch';

/** Only SNS's own endpoints serve its signing certificates (and its subscribe URLs). */
const SNS_HOST = /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

export function isSnsUrl(raw: string | undefined, options: { pem?: boolean } = {}): boolean {
  if (!raw) return false;
  try {
    const url = new URL(raw);
    return (
      url.protocol === 'https:' &&
      url.port === '' &&
      !url.username &&
      !url.password &&
      SNS_HOST.test(url.hostname) &&
      (!options.pem || url.pathname.endsWith('.pem'))
    );
  } catch {
    return false;
  }
}

export function stringToSign(message: SnsEnvelope): string {
  const fields =
    message.Type === 'Notification'
      ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const)
      : (['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const);
  let out = '';
  for (const field of fields) {
    const value = message[field];
    if (value === undefined) continue;
    out += `${field}\n${value}\n`;
  }
  return out;
}

export type CertificateFetcher = (url: string) => Promise<string>;

/** SNS's certificates and answers are a few kilobytes; anything near this is not one. */
const MAX_SNS_BYTES = 64 * 1024;
const SNS_TIMEOUT_MS = 5000;

/** For tests: where the guarded fetcher resolves and connects. */
export interface SnsFetchOptions {
  resolve?: Resolver;
  transport?: PinnedTransport;
}

/**
 * A GET of an SNS URL (a signing certificate, a SubscribeURL): refused unless the URL is on an SNS endpoint, then
 * fetched within the guard, so a resolver answering an internal address for SNS's name gains nothing.
 */
export async function getFromSns(url: string, options: SnsFetchOptions = {}): Promise<Buffer> {
  if (!isSnsUrl(url)) throw new Error('the URL is not on an SNS endpoint');
  const response = await guardedFetch(url, {
    maxBytes: MAX_SNS_BYTES,
    timeoutMs: SNS_TIMEOUT_MS,
    maxRedirects: 0,
    ...(options.resolve ? { resolve: options.resolve } : {}),
    ...(options.transport ? { transport: options.transport } : {}),
  });
  if (response.status < 200 || response.status >= 300) throw new Error(`SNS answered ${response.status}`);
  return response.body;
}

export async function fetchSnsCertificate(url: string, options: SnsFetchOptions = {}): Promise<string> {
  if (!isSnsUrl(url, { pem: true })) throw new Error('the signing certificate is not on an SNS endpoint');
  return (await getFromSns(url, options)).toString('utf8');
}

export type Verdict = { ok: true } | { ok: false; reason: string };

export interface SnsVerifier {
  verify(message: SnsEnvelope): Promise<Verdict>;
}

/** Certificates kept per container: one per signing-cert URL, and only a handful ever exist. */
const MAX_CACHED = 16;

export function createSnsVerifier(options: { fetch?: CertificateFetcher } = {}): SnsVerifier {
  const fetchPem = options.fetch ?? ((url: string) => fetchSnsCertificate(url));
  const cache = new Map<string, Promise<string>>();

  const certificate = (url: string): Promise<string> => {
    let pem = cache.get(url);
    if (!pem) {
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
      pem = fetchPem(url).catch((error: unknown) => {
        // A failed fetch is not remembered: the next message tries again.
        cache.delete(url);
        throw error;
      });
      cache.set(url, pem);
    }
    return pem;
  };

  return {
    async verify(message) {
      if (!isSnsUrl(message.SigningCertURL, { pem: true }))
        return { ok: false, reason: 'the signing certificate is not on an SNS endpoint' };
      let pem: string;
      try {
        pem = await certificate(message.SigningCertURL);
      } catch (error) {
        return {
          ok: false,
          reason: `the signing certificate could not be read: ${error instanceof Error ? error.message : String(error)}`,
        };
      }
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(pem);
      } catch {
        return { ok: false, reason: 'the signing certificate is not a certificate' };
      }
      const now = Date.now();
      if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now)
        return { ok: false, reason: 'the signing certificate is not valid now' };
      const algorithm = message.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256';
      let good = false;
      try {
        good = createVerify(algorithm)
          .update(stringToSign(message), 'utf8')
          .verify(cert.publicKey, message.Signature, 'base64');
      } catch {
        good = false;
      }
      return good ? { ok: true } : { ok: false, reason: 'the signature does not match' };
    },
  };
}
