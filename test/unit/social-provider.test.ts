/**
 * The one adapter between the channel handler and the SocialClient networks: what a client is handed for an
 * OutboundMessage, a rendering for another channel refused, and a client's lookup offered to the handler.
 */
import { describe, expect, it } from 'vitest';
import type { SocialPost } from '../../functions/channels/social';
import { socialProvider } from '../../functions/channels/social-provider';
import { type OutboundMessage, ProviderError } from '../../functions/ports';

const message = (overrides: Partial<OutboundMessage> = {}): OutboundMessage => ({
  channel: 'mastodon',
  alertId: '01J0ALERT0000000000000000',
  version: 2,
  recipient: '@agency',
  text: 'UPDATE: Main Street reopens https://police.example/a',
  content: {
    channel: 'mastodon',
    text: 'UPDATE: Main Street reopens https://police.example/a',
    link: 'https://police.example/a',
    image: { url: 'https://police.example/a.jpg', alt: 'Main Street' },
    language: 'es-ES',
  },
  inReplyTo: '113401234567890123@police.social',
  idempotencyKey: '01J0ALERT0000000000000000:2:mastodon:@agency',
  test: false,
  ...overrides,
});

function recordingClient() {
  const posts: SocialPost[] = [];
  return {
    posts,
    post: async (post: SocialPost) => {
      posts.push(post);
      return { providerMessageId: 'posted-1' };
    },
  };
}

describe('socialProvider', () => {
  it('hands the client the rendered content, the thread, the key and the test flag', async () => {
    // Prepare
    const client = recordingClient();
    const provider = socialProvider('mastodon', client);
    // Act
    const accepted = await provider.send(message(), AbortSignal.timeout(1000));
    // Assess
    expect(accepted).toEqual({ providerMessageId: 'posted-1' });
    expect(provider).toMatchObject({ channel: 'mastodon', mode: 'real' });
    expect(provider.lookup).toBeUndefined();
    expect(client.posts).toEqual([
      {
        alertId: '01J0ALERT0000000000000000',
        version: 2,
        text: 'UPDATE: Main Street reopens https://police.example/a',
        language: 'es-ES',
        link: 'https://police.example/a',
        image: { url: 'https://police.example/a.jpg', alt: 'Main Street' },
        inReplyTo: '113401234567890123@police.social',
        idempotencyKey: '01J0ALERT0000000000000000:2:mastodon:@agency',
        test: false,
      },
    ]);
  });

  it('leaves out a reply target the first version does not have', async () => {
    const client = recordingClient();
    await socialProvider('mastodon', client).send(
      message({ version: 1, inReplyTo: undefined }),
      AbortSignal.timeout(1000),
    );
    expect(client.posts[0]).not.toHaveProperty('inReplyTo');
  });

  it('refuses, for good, content rendered for another channel', async () => {
    const client = recordingClient();
    const sent = socialProvider('bluesky', client).send(message(), AbortSignal.timeout(1000));
    await expect(sent).rejects.toBeInstanceOf(ProviderError);
    await expect(sent).rejects.toMatchObject({ kind: 'permanent' });
    expect(client.posts).toEqual([]);
  });

  it("offers the client's lookup by idempotency key when it has one", async () => {
    const keys: string[] = [];
    const provider = socialProvider('bluesky', {
      ...recordingClient(),
      lookup: async (key: string) => {
        keys.push(key);
        return { providerMessageId: 'found' };
      },
    });
    expect(await provider.lookup?.('k-1')).toEqual({ providerMessageId: 'found' });
    expect(keys).toEqual(['k-1']);
  });
});
