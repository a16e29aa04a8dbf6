/**
 * Webhooks: the alert's JSON POSTed to a subscriber's URL, signed per the Standard Webhooks spec
 * (https://www.standardwebhooks.com), so a receiver can check it came from Herald and drop a retry it already has.
 *
 * The URL is written by a subscriber, not by us, so the request goes through the guarded fetcher
 * (../net/guarded-fetch.ts): https only, every resolved address checked, the connection pinned to the address
 * checked. Redirects are not followed: a receiver that moved says so with a new URL, not with a 3xx.
 */
import { createHash, createHmac } from 'node:crypto';
import {
  createPinnedTransport,
  GuardedFetchError,
  guardedFetch,
  type PinnedTransport,
  type Resolver,
} from '../../adapters/net/guarded-fetch';
import {
  type ChannelProvider,
  type OutboundMessage,
  type ProviderAccepted,
  ProviderError,
  type SecretSource,
} from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import { maskUrl } from '../../shared/mask';

// What this module exported before the guard moved to ../net: callers and tests keep their names.
export { type AddressClass, classifyAddress } from '../../adapters/net/addresses';
export { createPinnedTransport as createNodeTransport } from '../../adapters/net/guarded-fetch';
export type WebhookTransport = PinnedTransport;

/**
 * What the `webhook` secret holds when there is one: a shared signing secret for webhooks without their own. The
 * channel does not need it (each webhook registered through the API signs with its own secret).
 */
export const WEBHOOK_SECRET_KEYS = ['signingSecret'] as const;

export interface WebhookProviderOptions {
  secrets: SecretSource;
  /** The embedded mode may post to a receiver on the same machine; on AWS this stays false. */
  allowLoopback: boolean;
  /** Every address a host name resolves to. Defaults to the system resolver. */
  resolve?: Resolver;
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

/** The guard's reason without the URL it starts with, for reasons that name the URL themselves. */
const detailOf = (error: GuardedFetchError, where: string) =>
  error.message.startsWith(`${where}: `) ? error.message.slice(where.length + 2) : error.message;

export function createWebhookProvider(options: WebhookProviderOptions): ChannelProvider {
  const transport = options.transport ?? createPinnedTransport();
  const now = options.now ?? Date.now;
  const signingSecret =
    options.signingSecret ?? (async () => (await options.secrets.get('webhook'))?.signingSecret);

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
      // Every webhook registered through the API has its own secret; one without (none can be made today) fails
      // here, saying why, rather than going out unsigned, which would teach receivers to accept unsigned requests.
      if (!secret)
        throw permanent(
          'this webhook has no signing secret of its own and no shared signingSecret is configured: register it again (POST /v1/webhooks)',
        );
      if (!isSigningSecret(secret))
        throw permanent('the webhook signing secret is not whsec_ followed by 24 to 64 bytes in base64');

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

      let status: number;
      let retryAfterHeader: string | string[] | undefined;
      try {
        const response = await guardedFetch(url, {
          method: 'POST',
          headers,
          body,
          // Only the status matters; what a receiver sends back is not kept.
          discardBody: true,
          maxRedirects: 0,
          allowLoopback: options.allowLoopback,
          signal,
          transport,
          ...(options.resolve ? { resolve: options.resolve } : {}),
        });
        status = response.status;
        retryAfterHeader = response.headers['retry-after'];
      } catch (error) {
        if (!(error instanceof GuardedFetchError)) throw error;
        // Refused before sending (https, addresses), or a name that does not exist: no retry will change that.
        if (error.failure === 'refused' || error.failure === 'no-such-host') throw permanent(error.message);
        if (error.failure === 'resolver') throw new ProviderError('retryable', error.message);
        if (!error.sent)
          throw new ProviderError('retryable', `${where}: could not connect (${detailOf(error, where)})`);
        throw new ProviderError('unknown-outcome', `${where}: sent, but ${detailOf(error, where)}`);
      }

      options.logger?.debug('webhook answered', { recipient: where, status, webhookId: id });
      if (status >= 200 && status < 300) return { providerMessageId: id };
      if (status === 410) throw permanent(`${where}: endpoint gone (410)`);
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
