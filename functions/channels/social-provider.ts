/**
 * The one adapter from a network's SocialClient (./social.ts) to the channel handler's ChannelProvider: the channel
 * handler hands over an OutboundMessage, the client takes a SocialPost. Every network whose content is a
 * SocialPostContent (Mastodon, Bluesky, Threads, Telegram) goes through here, so a new one needs only its client.
 */
import {
  type ChannelProvider,
  type OutboundMessage,
  type ProviderAccepted,
  ProviderError,
  type SocialPostChannel,
} from '../ports';
import type { SocialClient, SocialPost } from './social';

/** A client that can also find the post it made with an idempotency key (Bluesky, by its record key). */
export type SocialClientWithLookup = SocialClient & {
  lookup?(idempotencyKey: string): Promise<ProviderAccepted | undefined>;
};

/** What the client is handed for `message`: its rendered content, and the thread and key the handler chose. */
export function socialPostOf(channel: SocialPostChannel, message: OutboundMessage): SocialPost {
  const { content } = message;
  // A rendering for another channel is a wiring bug: posting it could break this network's budget.
  if (content.channel !== channel || !('link' in content) || !('language' in content))
    throw new ProviderError('permanent', `${channel} was handed content rendered for ${content.channel}`);
  return {
    alertId: message.alertId,
    version: message.version,
    text: content.text,
    language: content.language,
    link: content.link,
    ...(content.image ? { image: content.image } : {}),
    ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
    idempotencyKey: message.idempotencyKey,
    test: message.test,
  };
}

export function socialProvider(channel: SocialPostChannel, client: SocialClientWithLookup): ChannelProvider {
  const lookup = client.lookup?.bind(client);
  return {
    channel,
    mode: 'real',
    send: async (message, signal) => client.post(socialPostOf(channel, message), signal),
    // Only where the network can be asked: the others leave a lost outcome to the channel's policy.
    ...(lookup ? { lookup: (key: string) => lookup(key) } : {}),
  };
}
