/**
 * What Herald hands a social network's client: one post of one version of an alert, already rendered within that
 * network's budget, and the id of the post it answers (the previous version's on the same network), so updates and
 * cancels read as one thread. The networks added for issue 15 (Mastodon, Bluesky, Threads, Telegram) speak this; the
 * channel registry adapts it to the channel handler's ChannelProvider.
 */
import type { ProviderAccepted, PublicImage } from '../ports';

export interface SocialPost {
  alertId: string;
  version: number;
  /** The post's text, within the network's budget; it ends with the alert's link when there is one. */
  text: string;
  /** The language the text is written in (BCP 47): networks that tag posts by language (Mastodon, Bluesky) say it. */
  language?: string | undefined;
  /** The link in `text` (Bluesky marks it with a facet; others let the network find it). */
  link?: string | undefined;
  /** Fetched through the guarded fetcher (./post-image.ts) and uploaded with its alt text. */
  image?: PublicImage | undefined;
  /**
   * The `providerMessageId` this client returned for the previous post of the alert: the post to reply to. Each
   * client chooses what it holds (Bluesky needs the thread's root as well as the parent).
   */
  inReplyTo?: string | undefined;
  /** Stable for (alert, version, channel): a network that takes one deduplicates a retried post by it. */
  idempotencyKey: string;
  /** Exercise and Test alerts must never reach the public: a client refuses them. */
  test: boolean;
  /**
   * An officer's public answer to a resident's reply (functions/replies/social-answers.ts), not an alert's post: it
   * threads under `inReplyTo` or does not go out (a client refuses, permanently, where it would post an update on
   * its own), and it goes where that reply is (Telegram: the channel's discussion group, not the channel).
   */
  answer?: boolean | undefined;
}

export interface SocialClient {
  /** Posts; resolves with the network's id, or throws a ProviderError whose kind says what to do next. */
  post(post: SocialPost, signal: AbortSignal): Promise<ProviderAccepted>;
}
