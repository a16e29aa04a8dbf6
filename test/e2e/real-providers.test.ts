/**
 * The whole embedded pipeline with real providers: credentials in the environment make the registry choose the
 * real X, Facebook and Instagram clients, which talk to local fakes of the X API v2 and the Graph API. An alert
 * goes out on all three (Instagram with its generated alert card), an update threads under the originals, and
 * an exercise never reaches them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../schemas/alert';
import { FakeGraphApi } from '../fakes/graph-api';
import { XApiFake } from '../fakes/x-api';
import { DRAFT, settledDeliveries, startTestHerald, type TestHerald } from '../helpers/embedded';

const X_CREDENTIALS = {
  appKey: 'app-key',
  appSecret: 'app-secret',
  accessToken: 'access-token',
  accessSecret: 'access-secret',
};

let herald: TestHerald;
let x: XApiFake;
let graph: FakeGraphApi;

beforeAll(async () => {
  x = await XApiFake.start(X_CREDENTIALS);
  graph = await FakeGraphApi.start();
  graph.pollsUntilFinished = 1;
  herald = await startTestHerald({
    env: {
      HERALD_SECRET_X: JSON.stringify(X_CREDENTIALS),
      HERALD_SECRET_FACEBOOK: JSON.stringify({ pageId: graph.pageId, pageAccessToken: graph.token }),
      HERALD_SECRET_INSTAGRAM: JSON.stringify({ igUserId: graph.igUserId, accessToken: graph.token }),
      // Instagram polls its container; give the whole call room.
      HERALD_PROVIDER_TIMEOUT_MS: '10000',
    },
    providerBaseUrls: { x: x.baseUrl, graph: graph.baseUrl },
  });
});

afterAll(async () => {
  await herald?.cleanup();
  await x?.close();
  await graph?.close();
});

const settled = (alertId: string, count: number) => settledDeliveries(herald, alertId, count);

describe('Embedded pipeline with real providers against local fakes', () => {
  it('chooses the real provider for each channel with credentials, and the sandbox for the rest', () => {
    expect(herald.providerChoices.x.mode).toBe('real');
    expect(herald.providerChoices.facebook.mode).toBe('real');
    expect(herald.providerChoices.instagram.mode).toBe('real');
    expect(herald.providerChoices.sms).toMatchObject({ mode: 'sandbox', reason: 'no credentials for sms' });
  });

  it('posts an alert on X, Facebook and Instagram (with its alert card), then threads the update under each', async () => {
    // Act: an alert without an image, then an update
    const created = await herald.call('POST', '/v1/alerts', { role: 'officer', body: DRAFT });
    const alert = (await created.json()) as Alert;
    const first = await settled(alert.id, 3);
    const updated = await herald.call('POST', `/v1/alerts/${alert.id}/updates`, {
      role: 'officer',
      body: { headline: 'Main Street reopens at 13:00' },
      headers: { 'if-match': '"1"' },
    });
    expect(updated.status).toBe(201);
    const both = await settled(alert.id, 6);

    // Assess: every receipt sent, carrying the provider's own ids
    expect(first.totals).toEqual({ sent: 3 });
    expect(both.totals).toEqual({ sent: 6 });
    const id = (channel: string, version: number) =>
      both.deliveries.find((d) => d.channel === channel && d.version === version)?.providerMessageId;

    // X: the alert, and the update as a reply to it
    const tweets = [...x.tweets.values()];
    expect(tweets).toHaveLength(2);
    const original = x.tweets.get(id('x', 1)!);
    expect(original?.text).toContain(DRAFT.headline);
    expect(x.tweets.get(id('x', 2)!)).toMatchObject({ inReplyTo: original?.id });
    expect(x.tweets.get(id('x', 2)!)?.text).toMatch(/^UPDATE: Main Street reopens at 13:00/);

    // Facebook: a feed post with the link, and the update as a comment on it
    const feed = graph.posts.find((p) => p.kind === 'feed');
    // Its link is Facebook's own counted link, which sends the reader on to the officer's page.
    expect(feed?.fields.link).toMatch(new RegExp(`/a/${alert.id}/f$`));
    const click = await fetch(`${herald.url}/a/${alert.id}/f`, { redirect: 'manual' });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe(DRAFT.web);
    expect(graph.posts.find((p) => p.kind === 'comment')).toMatchObject({ parent: id('facebook', 1) });

    // Instagram: published from a container whose image is the alert card served at /media/
    const published = [...graph.containers.values()].filter((c) => c.published);
    expect(published).toHaveLength(2);
    expect(published[0]?.imageUrl).toMatch(/\/media\/[a-f0-9]{64}\.jpg$/);
    expect(published[0]?.altText).toMatch(/Minor Road closure/);
    const card = await fetch(`${herald.url}${new URL(published[0]!.imageUrl).pathname}`);
    expect(card.status).toBe(200);
    expect(card.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await card.arrayBuffer()).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('sends an exercise to the sandbox only: nothing reaches the providers', async () => {
    // Prepare
    const tweetsBefore = x.tweets.size;
    const postsBefore = graph.posts.length;
    // Act
    const res = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      body: { ...DRAFT, status: 'Exercise' },
    });
    const alert = (await res.json()) as Alert;
    await settled(alert.id, 3);
    // Assess
    expect(x.tweets.size).toBe(tweetsBefore);
    expect(graph.posts.length).toBe(postsBefore);
    const outbox = (await (await herald.call('GET', `/v1/sandbox/outbox?alertId=${alert.id}`)).json()) as {
      total: number;
    };
    expect(outbox.total).toBe(3);
  });
});
