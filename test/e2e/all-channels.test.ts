/**
 * Every channel of the list at once, through the embedded pipeline with each real client pointed at a local fake of
 * its network: X, the Graph API (Facebook, Instagram), Mastodon, Bluesky, Threads, Telegram, and SNS, SES and a
 * webhook outlet. An alert, then its update: each channel gets both, and on every channel that threads (the
 * definition's `thread: 'reply'`) the update answers the first post in that network's own terms.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSubscribers, seedSubscribers } from '../../bench/seed-subscribers';
import { CHANNEL, CHANNELS } from '../../functions/channels/list';
import type { Alert } from '../../schemas/alert';
import { type NetworkFakes, startNetworkFakes } from '../fakes/all-networks';
import { CHANNEL_ID } from '../fakes/telegram-api';
import { DRAFT, settledDeliveries, startTestHerald, type TestHerald } from '../helpers/embedded';

const ZONE = 'centre';

let herald: TestHerald;
let fakes: NetworkFakes;

beforeAll(async () => {
  fakes = await startNetworkFakes();
  herald = await startTestHerald({ env: fakes.env, providerBaseUrls: fakes.providerBaseUrls });
  // One resident by SMS, one by email and one media outlet in the alert's zone: one receipt each per version.
  const one = { count: 1, zones: [ZONE] };
  await seedSubscribers(herald.table, [
    ...(await makeSubscribers(herald.pii, { ...one, channel: 'sms', addressOf: () => '+34650000001' })),
    ...(await makeSubscribers(herald.pii, {
      ...one,
      channel: 'email',
      addressOf: () => 'resident@mail.example',
    })),
    ...(await makeSubscribers(herald.pii, {
      ...one,
      channel: 'webhook',
      addressOf: () => `${fakes.messaging.url}/outlet/news`,
      nameOf: () => 'News desk',
      secretOf: () => `whsec_${randomBytes(32).toString('base64')}`,
    })),
  ]);
}, 60_000);

afterAll(async () => {
  await herald?.cleanup();
  await fakes?.close();
});

/** The `name: value` of a MIME header. */
const header = (raw: string | undefined, name: string) =>
  new RegExp(`^${name}: *(.+)$`, 'im').exec(raw ?? '')?.[1]?.trim();

describe('Embedded pipeline, all ten channels with real clients against local fakes', () => {
  it('uses the real provider on every channel', () => {
    for (const channel of CHANNELS) expect(herald.providerChoices[channel].mode, channel).toBe('real');
  });

  it('sends an alert and its update on all ten channels, each update threaded under the first post', async () => {
    const { x, graph, mastodon, bluesky, threads, telegram, messaging } = fakes;
    // Act: an alert on every channel, then an update
    const created = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      body: { ...DRAFT, channels: CHANNELS },
    });
    expect(created.status).toBe(201);
    const alert = (await created.json()) as Alert;
    const first = await settledDeliveries(herald, alert.id, CHANNELS.length);
    const updated = await herald.call('POST', `/v1/alerts/${alert.id}/updates`, {
      role: 'officer',
      body: { headline: 'Main Street reopens at 13:00' },
      headers: { 'if-match': '"1"' },
    });
    expect(updated.status).toBe(201);
    const both = await settledDeliveries(herald, alert.id, 2 * CHANNELS.length);

    // Assess: every receipt sent, and every channel threading by its definition
    expect(first.totals).toEqual({ sent: CHANNELS.length });
    expect(both.totals).toEqual({ sent: 2 * CHANNELS.length });
    const id = (channel: string, version: number) =>
      both.deliveries.find((d) => d.channel === channel && d.version === version)?.providerMessageId;
    for (const channel of CHANNELS) {
      expect(id(channel, 1), channel).toBeTruthy();
      expect(id(channel, 2), channel).toBeTruthy();
    }

    // X: the update replies to the alert's post
    const tweet = x.tweets.get(id('x', 1)!);
    expect(tweet?.text).toContain(DRAFT.headline);
    expect(x.tweets.get(id('x', 2)!)).toMatchObject({ inReplyTo: tweet?.id });

    // Facebook: a comment on the feed post; Instagram posts each version on its own (`standalone`)
    expect(graph.posts.find((p) => p.kind === 'comment')).toMatchObject({ parent: id('facebook', 1) });
    expect(CHANNEL.instagram.thread).toBe('standalone');
    expect([...graph.containers.values()].filter((c) => c.published)).toHaveLength(2);

    // Mastodon: in_reply_to_id names the first status; ids name the instance of the secret
    const statuses = [...mastodon.statuses.values()];
    expect(statuses).toHaveLength(2);
    const [toot, tootUpdate] = statuses;
    expect(id('mastodon', 1)).toBe(`${toot!.id}@police.social`);
    expect(toot!.text).toContain(DRAFT.headline);
    expect(toot!.language).toBe('en');
    expect(tootUpdate!.inReplyToId).toBe(toot!.id);
    expect(tootUpdate!.text).toMatch(/^UPDATE: Main Street reopens at 13:00/);
    const statusBodies = mastodon.requests
      .filter((r) => r.method === 'POST' && r.path === '/api/v1/statuses')
      .map((r) => r.body as { in_reply_to_id?: string });
    expect(statusBodies.map((b) => b.in_reply_to_id)).toEqual([undefined, toot!.id]);

    // Bluesky: the reply names the first post as both root and parent, and the link is a facet
    const [post, reply] = bluesky.posts;
    expect(bluesky.posts).toHaveLength(2);
    expect(post!.value.text).toContain(DRAFT.headline);
    // Bluesky's own counting link (functions/core/links.ts), which leads to DRAFT.web.
    expect(JSON.stringify(post!.value.facets)).toContain(`/a/${alert.id}/b`);
    expect(reply!.value.reply).toEqual({
      root: { uri: post!.uri, cid: post!.cid },
      parent: { uri: post!.uri, cid: post!.cid },
    });

    // Threads: the update's container carries reply_to_id, and the published reply answers the first post
    const own = threads.media.filter((m) => m.own);
    expect(own).toHaveLength(2);
    expect(own[0]!.text).toContain(DRAFT.headline);
    expect(own[1]!.replyTo).toBe(own[0]!.id);
    const containers = [...threads.containers.values()];
    expect(containers.map((c) => c.body.reply_to_id)).toEqual([undefined, own[0]!.id]);

    // Telegram: the update is sent with reply_parameters naming the first message in the channel
    // The channel's own messages (the discussion group gets automatic forwards of them as well)
    const sent = telegram.messages.filter((m) => m.chatId === CHANNEL_ID);
    expect(sent).toHaveLength(2);
    expect(sent[0]!.text).toContain(DRAFT.headline);
    expect(sent[1]!.replyTo).toBe(sent[0]!.message_id);
    const sends = telegram.apiRequests.filter((r) => r.method.toLowerCase() === 'sendmessage');
    expect(sends).toHaveLength(2);
    expect(JSON.stringify(sends[1]!.params.reply_parameters)).toContain(String(sent[0]!.message_id));

    // Email threads by In-Reply-To; SMS and webhooks send each version on its own (`standalone`)
    const emails = messaging.accepted.filter((a) => a.channel === 'email');
    expect(emails).toHaveLength(2);
    expect(header(emails[0]!.raw, 'Message-ID')).toMatch(/^<.+>$/);
    expect(header(emails[1]!.raw, 'In-Reply-To')).toBe(header(emails[0]!.raw, 'Message-ID'));
    expect(CHANNEL.sms.thread).toBe('standalone');
    expect(messaging.countsOf('sms')).toEqual(new Map([['+34650000001', 2]]));
    expect(CHANNEL.webhook.thread).toBe('standalone');
    const hooks = messaging.accepted.filter((a) => a.channel === 'webhook');
    expect(hooks.map((h) => h.recipient)).toEqual(['/outlet/news', '/outlet/news']);
    expect(new Set(hooks.map((h) => h.messageId)).size).toBe(2);
  }, 90_000);
});
