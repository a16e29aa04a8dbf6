/**
 * The Facebook Page provider: a new alert is a page post (a link post, or a photo post when the alert has an
 * image); an update or cancel is a comment on that post.
 *
 * Why comments and not new posts: the story stays in one place — someone who saw the first post finds the update
 * under it, in context, and someone who only sees the update sees what it updates. A second post would sit in
 * the feed beside the first, which still reads as current and would need editing or deleting to stop misleading.
 * The cost: the feed does not push a comment to followers the way it pushes a post; the channels that notify
 * (SMS, X) carry updates on their own.
 */

import { GraphApiError, GraphClient, withCredentials } from '../../adapters/providers/graph';
import type { ChannelProvider, OutboundMessage, ProviderAccepted, SecretSource } from '../../ports';
import { ProviderError } from '../../ports';
import type { LoggerLike } from '../../shared/logger';

export interface FacebookCredentials {
  pageId: string;
  pageAccessToken: string;
}

export interface FacebookProviderOptions {
  secrets: SecretSource;
  /** Graph's origin; the tests point it at a local fake. */
  baseUrl?: string | undefined;
  logger?: LoggerLike | undefined;
}

/** Graph's "object does not exist, or does not support this operation" (code 100, subcode 33). */
const isMissingObject = (error: unknown) =>
  error instanceof GraphApiError && error.code === 100 && error.subcode === 33;

/** The text with its link, when the text does not carry it already (photo captions and comments take no link). */
const withLink = (text: string, link: string | undefined) =>
  link && !text.includes(link) ? `${text}\n\n${link}` : text;

export function createFacebookProvider(options: FacebookProviderOptions): ChannelProvider {
  const graph = new GraphClient({ baseUrl: options.baseUrl });

  const newPost = async (
    credentials: FacebookCredentials,
    content: { text: string; link?: string | undefined; image?: { url: string } | undefined },
    signal: AbortSignal,
  ): Promise<ProviderAccepted> => {
    const call = { token: credentials.pageAccessToken, signal, publishes: true };
    if (content.image) {
      const photo = await graph.post<{ id?: string; post_id?: string }>(
        `${credentials.pageId}/photos`,
        { url: content.image.url, caption: withLink(content.text, content.link) },
        call,
      );
      // `post_id` names the feed story, where comments belong; `id` is the photo object alone.
      const id = photo.post_id ?? photo.id;
      if (!id) throw new ProviderError('unknown-outcome', 'Graph accepted the photo but named no post');
      return { providerMessageId: id };
    }
    const post = await graph.post<{ id?: string }>(
      `${credentials.pageId}/feed`,
      { message: content.text, link: content.link },
      call,
    );
    if (!post.id) throw new ProviderError('unknown-outcome', 'Graph accepted the post but named no id');
    return { providerMessageId: post.id };
  };

  const comment = async (
    credentials: FacebookCredentials,
    postId: string,
    text: string,
    signal: AbortSignal,
  ): Promise<ProviderAccepted> => {
    const answer = await graph.post<{ id?: string }>(
      `${postId}/comments`,
      { message: text },
      { token: credentials.pageAccessToken, signal, publishes: true },
    );
    if (!answer.id) throw new ProviderError('unknown-outcome', 'Graph accepted the comment but named no id');
    return { providerMessageId: answer.id };
  };

  return {
    channel: 'facebook',
    mode: 'real',
    async send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted> {
      if (message.test)
        throw new ProviderError('permanent', 'a Test or Exercise alert must not reach the public page');
      const content = message.content;
      if (content.channel !== 'facebook')
        throw new ProviderError('permanent', `the Facebook provider was given ${content.channel} content`);

      return withCredentials<FacebookCredentials, ProviderAccepted>(
        {
          secrets: options.secrets,
          channel: 'facebook',
          logger: options.logger,
          parse: ({ pageId, pageAccessToken }) =>
            pageId && pageAccessToken ? { pageId, pageAccessToken } : undefined,
          token: (c) => c.pageAccessToken,
        },
        async (credentials) => {
          if (!message.inReplyTo) return newPost(credentials, content, signal);
          try {
            return await comment(
              credentials,
              message.inReplyTo,
              withLink(content.text, content.link),
              signal,
            );
          } catch (error) {
            // The original post is gone (the page removed it): the update must still reach the page, so it
            // goes out as a post of its own. Graph refused the comment, so nothing was published twice.
            if (!isMissingObject(error)) throw error;
            options.logger?.warn('the post to comment on is gone; posting the update on its own', {
              channel: 'facebook',
              alertId: message.alertId,
              version: message.version,
            });
            return newPost(credentials, content, signal);
          }
        },
      );
    },
  };
}
