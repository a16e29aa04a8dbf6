/** What a channel hands a provider, what it answers, the sandbox outbox, and images and secrets. */
import type { Channel } from '../../schemas/alert';
import type { Page } from './store';

// ---------------------------------------------------------------- providers

/** What a channel handler hands a provider: one rendered message for one recipient. */
/** An image at a public URL (providers fetch it from there: Instagram must). */
export interface PublicImage {
  url: string;
  alt: string;
  width?: number | undefined;
  height?: number | undefined;
}

export interface EmailAttachment {
  filename: string;
  contentType: string;
  /** The file's text (the CAP XML). */
  content: string;
}

/**
 * The networks whose clients speak SocialClient (functions/channels/social.ts), through the one adapter
 * functions/channels/social-provider.ts: they all carry the same thing, a text with its link, so they share a shape.
 */
export type SocialPostChannel = 'mastodon' | 'bluesky' | 'threads' | 'telegram';

/** A short post on a SocialClient network, rendered within that network's budget (functions/channels/<name>/render.ts). */
export interface SocialPostContent {
  channel: SocialPostChannel;
  /** Ends with `link`. */
  text: string;
  /** The alert's link: Bluesky marks it with a facet; Telegram previews it. */
  link: string;
  image?: PublicImage | undefined;
  /** The language `text` is written in (BCP 47), for networks that tag posts by language. */
  language: string;
}

/** What one channel carries, already rendered within that channel's budget (functions/channels/<name>/render.ts). */
export type ChannelContent =
  | { channel: 'x'; text: string; image?: PublicImage | undefined }
  | { channel: 'facebook'; text: string; link?: string | undefined; image?: PublicImage | undefined }
  | { channel: 'instagram'; caption: string; image: PublicImage }
  | SocialPostContent
  | { channel: 'sms'; text: string }
  | {
      channel: 'email';
      subject: string;
      text: string;
      html: string;
      attachments: EmailAttachment[];
      /** RFC 5322 Message-ID of this version's email, and those it follows, so mail clients thread updates. */
      messageId: string;
      inReplyTo?: string | undefined;
      references?: string[] | undefined;
    }
  | { channel: 'webhook'; payload: Record<string, unknown> };

export interface OutboundMessage {
  channel: Channel;
  alertId: string;
  version: number;
  recipient: string;
  /** Plain text of what goes out, for the sandbox outbox and for people reading receipts. */
  text: string;
  /** What the provider sends, shaped for its channel. */
  content: ChannelContent;
  /** The provider's id of the previous post of the same alert to the same recipient, to reply or thread. */
  inReplyTo?: string | undefined;
  image?: { url: string; alt?: string | undefined } | undefined;
  /** Stable for (alert, version, channel, recipient): lets a provider that supports it deduplicate or look up. */
  idempotencyKey: string;
  /** Exercise and Test alerts: the provider must not reach the public. */
  test: boolean;
}

export interface ProviderAccepted {
  providerMessageId: string;
}

/** A provider failure, classified: what the channel handler does next depends only on `kind`. */
export class ProviderError extends Error {
  constructor(
    readonly kind: 'retryable' | 'permanent' | 'unknown-outcome',
    readonly reason: string,
    readonly retryAfterMs?: number,
  ) {
    super(reason);
    this.name = 'ProviderError';
  }
}

export interface ChannelProvider {
  readonly channel: Channel;
  /** `sandbox` for the recording provider, `real` for one that reaches the public. */
  readonly mode: 'real' | 'sandbox';
  /** Posts; resolves with the provider's id or throws a ProviderError (anything else counts as unknown outcome). */
  send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted>;
  /**
   * Finds an earlier post by idempotency key, for when an attempt's outcome was lost. Providers that cannot
   * look up leave this out, and the channel's policy decides (see functions/core/delivery-policy.ts).
   */
  lookup?(idempotencyKey: string): Promise<ProviderAccepted | undefined>;
}

// ---------------------------------------------------------------- sandbox outbox

export interface OutboxItem {
  channel: Channel;
  alertId: string;
  version: number;
  recipient: string;
  text: string;
  providerMessageId: string;
  inReplyTo?: string | undefined;
  image?: { url: string } | undefined;
  at: string;
  idempotencyKey: string;
}

export interface OutboxStore {
  append(item: OutboxItem): Promise<void>;
  /** Newest first. */
  list(filter: {
    channel?: Channel | undefined;
    alertId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<OutboxItem> & { total: number }>;
  findByIdempotencyKey(key: string): Promise<OutboxItem | undefined>;
}

// ---------------------------------------------------------------- images and secrets

/** Where rendered images (alert cards) are kept and served from: S3 behind the CDN, or the embedded server. */
export interface ImageStore {
  put(key: string, bytes: Uint8Array, contentType: 'image/jpeg' | 'image/png'): Promise<{ url: string }>;
}

/**
 * Provider credentials by name (`x`, `facebook`, …): Secrets Manager on AWS (cached; `refresh` re-reads after a
 * 401), the environment or a config file in the embedded mode. Undefined when the channel has none configured.
 * Values are never logged.
 */
export interface SecretSource {
  get(name: string, options?: { refresh?: boolean }): Promise<Record<string, string> | undefined>;
}
