/**
 * Each network's real metrics reader (functions/channels/<network>/metrics.ts) against the local fake of its API
 * (test/fakes/): the numbers each one turns into Herald's four, what it leaves out when the network does not say,
 * one request per batch where the API batches, a post that is gone, the rate limit (a 429 held until its reset,
 * and a nearly spent window), and credentials the network refuses.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBlueskyMetricsReader } from '../../functions/channels/bluesky/metrics';
import { createFacebookMetricsReader } from '../../functions/channels/facebook/metrics';
import { createInstagramMetricsReader } from '../../functions/channels/instagram/metrics';
import { createMastodonMetricsReader } from '../../functions/channels/mastodon/metrics';
import { createTelegramMetricsReader, TELEGRAM_NO_METRICS } from '../../functions/channels/telegram/metrics';
import { createThreadsMetricsReader } from '../../functions/channels/threads/metrics';
import { createXMetricsReader } from '../../functions/channels/x/metrics';
import { RateLimitedError } from '../../functions/impact/model';
import type { SecretSource } from '../../functions/ports';
import { BlueskyApiFake } from '../fakes/bluesky-api';
import { FakeGraphApi } from '../fakes/graph-api';
import { MastodonApiFake } from '../fakes/mastodon-api';
import { FakeThreadsApi } from '../fakes/threads-api';
import { rateLimited, XApiFake } from '../fakes/x-api';

const secretsOf = (secrets: Record<string, Record<string, string>>): SecretSource => ({
  get: async (name) => secrets[name],
});

async function rejectionOf(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(outcome, 'the read should have failed').toBeInstanceOf(Error);
  return outcome as Error;
}

describe('X: GET /2/tweets?ids=&tweet.fields=public_metrics', () => {
  const credentials = {
    appKey: 'x-app-key-0001',
    appSecret: 'x-app-secret-0001',
    accessToken: '1500-x-access-token-0001',
    accessSecret: 'x-access-secret-0001',
  };
  let fake: XApiFake;
  const reader = () =>
    createXMetricsReader({ secrets: secretsOf({ x: credentials }), baseUrl: fake.baseUrl });
  const tweet = (id: string) => fake.tweets.set(id, { id, text: `post ${id}`, authorId: '1500' });

  beforeAll(async () => {
    fake = await XApiFake.start(credentials);
  });
  afterAll(() => fake.close());

  it('reads many posts in one request: impressions, retweets plus quotes, replies, likes', async () => {
    tweet('1800000000000000101');
    tweet('1800000000000000102');
    fake.publicMetrics.set('1800000000000000101', {
      retweet_count: 4,
      reply_count: 3,
      like_count: 25,
      quote_count: 2,
      bookmark_count: 1,
      impression_count: 1200,
    });
    const before = fake.apiRequests.length;
    const batch = await reader().read(['1800000000000000101', '1800000000000000102', '1800000000000000999']);
    expect(fake.apiRequests.length - before).toBe(1);
    const request = fake.apiRequests.at(-1)!;
    expect(request.query).toMatchObject({ 'tweet.fields': 'public_metrics' });
    expect(request.query.ids!.split(',')).toHaveLength(3);
    expect(batch.counts.get('1800000000000000101')).toEqual({
      impressions: 1200,
      reposts: 6,
      replies: 3,
      likes: 25,
    });
    expect(batch.counts.get('1800000000000000102')).toEqual({
      impressions: 0,
      reposts: 0,
      replies: 0,
      likes: 0,
    });
    expect(batch.gone).toEqual(['1800000000000000999']);
  });

  it('leaves out a count X does not report, rather than writing 0', async () => {
    tweet('1800000000000000103');
    fake.publicMetrics.set('1800000000000000103', { retweet_count: 1, reply_count: 0, like_count: 7 });
    const batch = await reader().read(['1800000000000000103']);
    expect(batch.counts.get('1800000000000000103')).toEqual({ reposts: 1, replies: 0, likes: 7 });
  });

  it("turns a 429 into a hold until X's reset", async () => {
    const reset = Math.floor(Date.now() / 1000) + 600;
    fake.answerNext(1, rateLimited(reset, 900), { path: '/2/tweets' });
    const error = await rejectionOf(reader().read(['1800000000000000101']));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt).toBe(reset * 1000);
  });

  it('fails on refused credentials, naming none of them', async () => {
    const wrong = { ...credentials, accessSecret: 'x-access-secret-WRONG' };
    const error = await rejectionOf(
      createXMetricsReader({ secrets: secretsOf({ x: wrong }), baseUrl: fake.baseUrl }).read([
        '1800000000000000101',
      ]),
    );
    expect(error).not.toBeInstanceOf(RateLimitedError);
    expect(error.message).toMatch(/X 401/);
    expect(error.message).not.toContain('WRONG');
  });

  it('says when there are no credentials', async () => {
    expect(await createXMetricsReader({ secrets: secretsOf({}) }).unavailable()).toBe('no credentials for x');
    expect(await reader().unavailable()).toBeUndefined();
  });
});

describe('Facebook: GET /?ids=&fields=shares,comments,reactions,insights', () => {
  let fake: FakeGraphApi;
  const secrets = () => secretsOf({ facebook: { pageId: fake.pageId, pageAccessToken: fake.token } });
  const reader = () => createFacebookMetricsReader({ secrets: secrets(), baseUrl: fake.baseUrl });
  const post = (n: number) => {
    const id = `${fake.pageId}_${n}`;
    fake.posts.push({ id, kind: 'feed', fields: { message: `post ${n}` } });
    return id;
  };

  beforeAll(async () => {
    fake = await FakeGraphApi.start();
  });
  beforeEach(() => fake.reset());
  afterAll(() => fake.close());

  it('reads the Page posts in one request: views, shares, comments, reactions', async () => {
    const [a, b] = [post(1), post(2)];
    fake.postCounts.set(a, { shares: 12, comments: 5, reactions: 40 });
    fake.insights.set(a, { post_media_view: 3400 });
    const batch = await reader().read([a, b]);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.path).toBe('');
    expect(fake.requests[0]!.query.ids).toBe(`${a},${b}`);
    expect(fake.requests[0]!.query.fields).toContain('insights.metric(post_media_view)');
    expect(batch.counts.get(a)).toEqual({ impressions: 3400, reposts: 12, replies: 5, likes: 40 });
    // Nobody shared it: Graph leaves `shares` out, which is 0; no views reported: left out.
    expect(batch.counts.get(b)).toEqual({ reposts: 0, replies: 0, likes: 0 });
  });

  it('reads Page posts only, not the comments an update is posted as', async () => {
    const r = reader();
    expect(await r.accepts!(`${fake.pageId}_7`)).toBe(true);
    expect(await r.accepts!('179000000000000107_179000000000000108')).toBe(false);
  });

  it('finds a deleted post named in the error, as gone', async () => {
    const a = post(1);
    const deleted = `${fake.pageId}_99`;
    const batch = await reader().read([a, deleted]);
    expect(batch.gone).toEqual([deleted]);
    expect(batch.counts.size).toBe(0);
  });

  it('without read_insights, fails once and then reads the rest without views', async () => {
    const a = post(1);
    fake.postCounts.set(a, { shares: 1, comments: 2, reactions: 3 });
    fake.insightsAllowed = false;
    const r = reader();
    const error = await rejectionOf(r.read([a]));
    expect(error.message).toMatch(/code 10/);
    const batch = await r.read([a]);
    expect(fake.requests.at(-1)!.query.fields).not.toContain('insights');
    expect(batch.counts.get(a)).toEqual({ reposts: 1, replies: 2, likes: 3 });
  });

  it('holds on a throttle (code 4) for the regain time Graph names, and on usage near its ceiling', async () => {
    const a = post(1);
    fake.fail(
      { pathMatches: /^$/ },
      {
        status: 400,
        error: { message: '(#4) Application request limit reached', code: 4, type: 'OAuthException' },
        headers: {
          'x-app-usage': JSON.stringify({ call_count: 100, total_cputime: 20, total_time: 20 }),
          'x-business-use-case-usage': JSON.stringify({
            [fake.pageId]: [{ type: 'pages', call_count: 100, estimated_time_to_regain_access: 30 }],
          }),
        },
      },
    );
    const before = Date.now();
    const error = await rejectionOf(reader().read([a]));
    expect(error).toBeInstanceOf(RateLimitedError);
    const resetAt = (error as RateLimitedError).resetAt;
    expect(resetAt).toBeGreaterThanOrEqual(before + 30 * 60_000);
    expect(resetAt).toBeLessThanOrEqual(Date.now() + 30 * 60_000);
  });

  it('fails on a refused token, without the token in the message', async () => {
    const a = post(1);
    const bad = createFacebookMetricsReader({
      secrets: secretsOf({ facebook: { pageId: fake.pageId, pageAccessToken: 'EAAexpiredToken99999' } }),
      baseUrl: fake.baseUrl,
    });
    const error = await rejectionOf(bad.read([a]));
    expect(error.message).toMatch(/code 190/);
    expect(error.message).not.toContain('EAAexpiredToken99999');
  });
});

describe('Instagram: GET /{media-id}/insights?metric=views,likes,comments,shares', () => {
  let fake: FakeGraphApi;
  const reader = () =>
    createInstagramMetricsReader({
      secrets: secretsOf({ instagram: { igUserId: fake.igUserId, accessToken: fake.token } }),
      baseUrl: fake.baseUrl,
    });
  const media = (id: string) =>
    fake.media.unshift({ id, timestamp: '2026-12-02T10:00:00+0000', caption: 'x' });

  beforeAll(async () => {
    fake = await FakeGraphApi.start();
  });
  beforeEach(() => fake.reset());
  afterAll(() => fake.close());

  it('reads one media per request, asking for views (not the retired impressions)', async () => {
    media('17900000000000501');
    fake.insights.set('17900000000000501', { views: 800, likes: 31, comments: 4, shares: 9 });
    const batch = await reader().read(['17900000000000501']);
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.path).toBe('17900000000000501/insights');
    expect(fake.requests[0]!.query.metric).toBe('views,likes,comments,shares');
    expect(batch.counts.get('17900000000000501')).toEqual({
      impressions: 800,
      reposts: 9,
      replies: 4,
      likes: 31,
    });
  });

  it('leaves out what Instagram does not report, and marks a media that is gone', async () => {
    media('17900000000000502');
    fake.insights.set('17900000000000502', { likes: 2 });
    const r = reader();
    expect((await r.read(['17900000000000502'])).counts.get('17900000000000502')).toEqual({ likes: 2 });
    expect((await r.read(['17900000000000503'])).gone).toEqual(['17900000000000503']);
  });

  it('holds on a 429 and fails on a refused token', async () => {
    media('17900000000000504');
    fake.fail({ pathEndsWith: '/insights' }, { status: 429, error: { message: 'throttled', code: 80002 } });
    expect(await rejectionOf(reader().read(['17900000000000504']))).toBeInstanceOf(RateLimitedError);
    const bad = createInstagramMetricsReader({
      secrets: secretsOf({ instagram: { igUserId: fake.igUserId, accessToken: 'IGQexpired0000' } }),
      baseUrl: fake.baseUrl,
    });
    expect((await rejectionOf(bad.read(['17900000000000504']))).message).toMatch(/code 190/);
  });
});

describe('Threads: GET /{media-id}/insights?metric=views,likes,replies,reposts,quotes', () => {
  let fake: FakeThreadsApi;
  const reader = () =>
    createThreadsMetricsReader({
      secrets: secretsOf({ threads: { userId: fake.userId, accessToken: fake.token } }),
      baseUrl: fake.baseUrl,
    });
  const media = (id: string) =>
    fake.media.push({
      id,
      text: 'post',
      username: fake.username,
      own: true,
      timestamp: '2026-12-02T10:00:00+0000',
      mediaType: 'TEXT_POST',
      fields: {},
    });

  beforeAll(async () => {
    fake = await FakeThreadsApi.start();
  });
  beforeEach(() => fake.reset());
  afterAll(() => fake.close());

  it('reads views, likes, replies, and reposts plus quotes', async () => {
    media('18000000000000601');
    fake.insights.set('18000000000000601', { views: 210, likes: 12, replies: 3, reposts: 2, quotes: 1 });
    const batch = await reader().read(['18000000000000601']);
    expect(fake.requests.at(-1)!.query.metric).toBe('views,likes,replies,reposts,quotes');
    expect(batch.counts.get('18000000000000601')).toEqual({
      impressions: 210,
      reposts: 3,
      replies: 3,
      likes: 12,
    });
  });

  it('leaves out what is not reported; a post that is gone; a 429; a refused token', async () => {
    media('18000000000000602');
    fake.insights.set('18000000000000602', { views: 5 });
    const r = reader();
    expect((await r.read(['18000000000000602'])).counts.get('18000000000000602')).toEqual({ impressions: 5 });
    expect((await r.read(['18000000000000699'])).gone).toEqual(['18000000000000699']);
    fake.fail({ pathEndsWith: '/insights' }, { status: 400, error: { message: 'limit', code: 17 } });
    expect(await rejectionOf(r.read(['18000000000000602']))).toBeInstanceOf(RateLimitedError);
    fake.token = 'THAArotatedToken000000';
    expect((await rejectionOf(r.read(['18000000000000602']))).message).toMatch(/code 190/);
  });
});

describe('Mastodon: GET /api/v1/statuses/:id', () => {
  const TOKEN = 'mastodon-token-0001-abcdefghijklmnop';
  let fake: MastodonApiFake;
  const secrets = (token = TOKEN) =>
    secretsOf({ mastodon: { instanceUrl: 'https://police.social.example', accessToken: token } });
  const reader = (token?: string) =>
    createMastodonMetricsReader({ secrets: secrets(token), baseUrl: fake.baseUrl });
  const status = (id: string) =>
    fake.statuses.set(id, {
      id,
      text: 'post',
      visibility: 'public',
      mediaIds: [],
      account: fake.agency,
      createdAt: new Date().toISOString(),
    });

  beforeAll(async () => {
    fake = await MastodonApiFake.start(TOKEN);
  });
  afterAll(() => fake.close());

  it('reads replies, boosts and favourites, and no impressions (Mastodon counts none)', async () => {
    status('113400000000000701');
    fake.counts.set('113400000000000701', { reblogs: 6, favourites: 14 });
    fake.residentReply('113400000000000701', 'seen him near the station');
    const batch = await reader().read(['113400000000000701@police.social.example']);
    expect(fake.apiRequests.at(-1)!.path).toBe('/api/v1/statuses/113400000000000701');
    expect(batch.counts.get('113400000000000701@police.social.example')).toEqual({
      reposts: 6,
      replies: 1,
      likes: 14,
    });
  });

  it("marks a deleted status, and another instance's, as gone", async () => {
    status('113400000000000702');
    fake.deleteStatus('113400000000000702');
    const r = reader();
    expect((await r.read(['113400000000000702@police.social.example'])).gone).toHaveLength(1);
    expect((await r.read(['113400000000000701@elsewhere.example'])).gone).toHaveLength(1);
  });

  it('holds when the window is nearly spent, and on a 429 until its reset', async () => {
    status('113400000000000703');
    fake.windows.api.remaining = 5;
    const nearly = await reader().read(['113400000000000703']);
    expect(nearly.counts.size).toBe(1);
    expect(nearly.holdUntil).toBe(fake.windows.api.resetAt);
    const reset = new Date(Date.now() + 240_000).toISOString();
    fake.answerNext(
      1,
      { status: 429, body: { error: 'Too many requests' }, headers: { 'x-ratelimit-reset': reset } },
      { path: /^\/api\/v1\/statuses\// },
    );
    const error = await rejectionOf(reader().read(['113400000000000703']));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt).toBe(Date.parse(reset));
    fake.windows.api.remaining = 300;
  });

  it('fails on a refused token, without the token in the message', async () => {
    const error = await rejectionOf(
      reader('mastodon-token-REVOKED-abcdefghijkl').read(['113400000000000701']),
    );
    expect(error.message).toMatch(/Mastodon 401/);
    expect(error.message).not.toContain('REVOKED');
  });
});

describe('Bluesky: app.bsky.feed.getPosts on the public AppView', () => {
  const ACCOUNT = {
    handle: 'police.example',
    did: 'did:plc:agency0000000000000000',
    appPassword: 'abcd-efgh-ijkl-mnop',
  };
  let fake: BlueskyApiFake;
  const reader = () => createBlueskyMetricsReader({ baseUrl: fake.baseUrl, configured: async () => true });
  const record = (rkey: string) => {
    const uri = `at://${ACCOUNT.did}/app.bsky.feed.post/${rkey}`;
    fake.records.set(uri, {
      uri,
      cid: `bafyrei${rkey}`,
      did: ACCOUNT.did,
      rkey,
      value: { $type: 'app.bsky.feed.post', text: 'post', createdAt: new Date().toISOString() },
      indexedAt: new Date().toISOString(),
    });
    return `${uri}|bafyrei${rkey}`;
  };

  beforeAll(async () => {
    fake = await BlueskyApiFake.start(ACCOUNT);
  });
  afterAll(() => fake.close());

  it('reads up to 25 posts in one request, without a session: likes, reposts plus quotes, replies', async () => {
    const a = record('3kabcdefgh2aa');
    const b = record('3kabcdefgh2ab');
    fake.counts.set(a.split('|')[0]!, { likeCount: 40, repostCount: 7, quoteCount: 2 });
    const before = fake.xrpc('app.bsky.feed.getPosts').length;
    const batch = await reader().read([a, b]);
    const requests = fake.xrpc('app.bsky.feed.getPosts');
    expect(requests.length - before).toBe(1);
    expect(requests.at(-1)!.repeated?.uris).toHaveLength(2);
    expect(requests.at(-1)!.headers.authorization).toBeUndefined();
    expect(batch.counts.get(a)).toEqual({ reposts: 9, replies: 0, likes: 40 });
    expect(batch.counts.get(b)).toEqual({ reposts: 0, replies: 0, likes: 0 });
  });

  it('marks a post the AppView no longer has, and an id that is not a post, as gone', async () => {
    const missing = `at://${ACCOUNT.did}/app.bsky.feed.post/3kzzzzzzzzzzz|bafyreimissing`;
    const batch = await reader().read([missing, 'not-a-post-id']);
    expect(batch.gone.sort()).toEqual([missing, 'not-a-post-id'].sort());
  });

  it("holds on a 429 until the AppView's reset", async () => {
    const a = record('3kabcdefgh2ac');
    const reset = Math.floor(Date.now() / 1000) + 300;
    fake.answerNext(
      1,
      { status: 429, body: { error: 'RateLimitExceeded' }, headers: { 'ratelimit-reset': String(reset) } },
      {
        nsid: 'app.bsky.feed.getPosts',
      },
    );
    const error = await rejectionOf(reader().read([a]));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt).toBe(reset * 1000);
  });

  it('reads nothing for an agency that does not post to Bluesky', async () => {
    const r = createBlueskyMetricsReader({ baseUrl: fake.baseUrl, configured: async () => false });
    expect(await r.unavailable()).toBe('no credentials for bluesky');
  });
});

describe('Telegram', () => {
  it('says the Bot API cannot read a post’s views, and reads nothing', async () => {
    const reader = createTelegramMetricsReader();
    expect(await reader.unavailable()).toBe(TELEGRAM_NO_METRICS);
    await expect(reader.read(['-1001234567890:42'])).rejects.toThrow(TELEGRAM_NO_METRICS);
  });
});
