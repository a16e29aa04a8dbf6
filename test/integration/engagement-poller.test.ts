/**
 * The engagement poller end to end: alerts and their receipts in a real table (dynalite), posts on the local fakes of
 * X, Facebook (Graph) and Mastodon, the real metrics readers reading them, and the snapshots in the same table. The
 * clock is injected: the decaying schedule (10 minutes, then hourly, then every 6 hours, then never) is driven by
 * moving it, never by waiting.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoEngagementStore, engagementForAlert } from '../../functions/adapters/dynamo/engagement-store';
import type { DynamoStore } from '../../functions/adapters/dynamo/store';
import type { Receipt } from '../../functions/core/model';
import type { EngagementPollConfig } from '../../functions/impact/engagement-poller';
import { composeEngagementPoller } from '../../functions/impact/handler';
import type { SecretSource } from '../../functions/ports';
import type { Channel } from '../../schemas/alert';
import { FakeGraphApi } from '../fakes/graph-api';
import { MastodonApiFake } from '../fakes/mastodon-api';
import { rateLimited, XApiFake } from '../fakes/x-api';
import { version } from '../helpers/dynamo-fixtures';
import { ManualClock, RecordingLogger } from '../helpers/fakes';
import { dynaliteTablePerTest, type TestTable } from '../helpers/providers';

const X_CREDENTIALS = {
  appKey: 'x-app-key-engage-01',
  appSecret: 'x-app-secret-engage-01',
  accessToken: '1000-x-access-engage-01',
  accessSecret: 'x-access-secret-engage-01',
};
const MASTODON_TOKEN = 'mastodon-token-engage-0001-abcdefgh';
const INSTANCE_HOST = 'police.social.example';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let x: XApiFake;
let graph: FakeGraphApi;
let mastodon: MastodonApiFake;
beforeAll(async () => {
  [x, graph, mastodon] = await Promise.all([
    XApiFake.start(X_CREDENTIALS),
    FakeGraphApi.start(),
    MastodonApiFake.start(MASTODON_TOKEN),
  ]);
});
afterAll(async () => {
  await Promise.all([x?.close(), graph?.close(), mastodon?.close()]);
});

let clock: ManualClock;
let client: TestTable['client'];
let store: DynamoStore;
let tableName: string;
dynaliteTablePerTest('engage', (table) => ({ client, tableName, store } = table));
let logger: RecordingLogger;
/** When the posts went out: the clock starts 30 minutes later. */
let sentAt: number;
beforeEach(async () => {
  // Real time: the X fake checks OAuth timestamps against its own clock.
  sentAt = Date.now() - 30 * MINUTE;
  clock = new ManualClock(new Date(sentAt + 30 * MINUTE).toISOString());
  logger = new RecordingLogger();
  x.requests.length = 0;
  graph.reset();
  mastodon.requests.length = 0;
});

const secrets: SecretSource = {
  get: async (name: string) =>
    (<Record<string, Record<string, string>>>{
      x: X_CREDENTIALS,
      facebook: { pageId: graph.pageId, pageAccessToken: graph.token },
      mastodon: { instanceUrl: `https://${INSTANCE_HOST}`, accessToken: MASTODON_TOKEN },
      // Telegram is configured, and still nothing is read from it: its Bot API has no metrics.
      telegram: { botToken: '123456:ABCdefGhIJKlmnoPQRstuVWxyz0123456789', chatId: '@citypolice' },
    })[name],
};

function poller(config: Partial<EngagementPollConfig> = {}) {
  return composeEngagementPoller({
    store,
    table: { client, tableName },
    secrets,
    baseUrls: { x: x.baseUrl, graph: graph.baseUrl, mastodon: mastodon.baseUrl },
    clock,
    logger,
    env: {},
    config,
  });
}

let sequence = 0;
const nextId = (prefix: string) => `${prefix}${String(++sequence).padStart(6, '0')}`;

/** One post per version on each network named, made on its fake, with the version and receipt a fan-out stores. */
async function alertWith(
  channels: Channel[],
  options: { versions?: number; cancel?: boolean; expires?: string; sandboxOn?: Channel } = {},
) {
  const alertId = `alert-${randomUUID()}`;
  const at = new Date(sentAt).toISOString();
  const posts: Partial<Record<Channel, string[]>> = {};
  const count = options.versions ?? 1;
  for (let n = 1; n <= count; n++) {
    const content = version(alertId, n).content;
    await store.putVersion(
      version(alertId, n, {
        createdAt: at,
        msgType: n === count && options.cancel ? 'Cancel' : n === 1 ? 'Alert' : 'Update',
        dispatchStatus: 'planned',
        content: { ...content, channels, ...(options.expires ? { expires: options.expires } : {}) },
      }),
    );
    if (n > 1) await store.advanceHead(alertId, n, at);
    const receipts: Receipt[] = [];
    for (const channel of channels) {
      let postId: string;
      if (channel === 'x') {
        postId = nextId('1860000000000');
        x.tweets.set(postId, { id: postId, text: `post ${postId}`, authorId: '1000' });
      } else if (channel === 'facebook') {
        // The first version is a Page post; an update is a comment under it (as the provider posts them).
        const root = posts.facebook?.[0];
        postId = root ? `${root.split('_')[1]}_${nextId('1790')}` : `${graph.pageId}_${nextId('1780')}`;
        graph.posts.push(
          root
            ? { id: postId, kind: 'comment', parent: root, fields: { message: 'update' } }
            : { id: postId, kind: 'feed', fields: { message: 'alert' } },
        );
      } else if (channel === 'mastodon') {
        const statusId = nextId('1134000000000');
        mastodon.statuses.set(statusId, {
          id: statusId,
          text: 'alert',
          visibility: 'public',
          mediaIds: [],
          account: mastodon.agency,
          createdAt: at,
        });
        postId = `${statusId}@${INSTANCE_HOST}`;
      } else postId = `-1001234567890:${++sequence}`;
      posts[channel] = [...(posts[channel] ?? []), postId];
      receipts.push({
        alertId,
        version: n,
        channel,
        recipient: '@agency',
        status: 'sent',
        attempts: 1,
        providerMessageId: postId,
        ...(options.sandboxOn === channel ? { sandbox: true } : {}),
        createdAt: at,
        updatedAt: at,
        history: [],
      });
    }
    await store.putReceipts(receipts);
  }
  return { alertId, posts };
}

const xReads = () => x.requests.filter((r) => r.path === '/2/tweets' && r.method === 'GET');
const graphReads = () => graph.requests.filter((r) => r.path === '' && r.method === 'GET');
const mastodonReads = () => mastodon.requests.filter((r) => /^\/api\/v1\/statuses\/\d+$/.test(r.path));
const readsNow = () => ({
  x: xReads().length,
  facebook: graphReads().length,
  mastodon: mastodonReads().length,
});
const at = (ms: number) => clock.set(new Date(sentAt + ms).toISOString());

describe('the engagement poller', () => {
  it('reads each network in as few requests as it allows, and stores the newest snapshot per post', async () => {
    const one = await alertWith(['x', 'facebook', 'mastodon', 'telegram'], { versions: 2 });
    const two = await alertWith(['x', 'mastodon']);
    const [x1, x2] = one.posts.x!;
    x.publicMetrics.set(x1!, {
      retweet_count: 3,
      quote_count: 1,
      reply_count: 2,
      like_count: 10,
      impression_count: 500,
    });
    x.publicMetrics.set(x2!, {
      retweet_count: 1,
      quote_count: 0,
      reply_count: 0,
      like_count: 4,
      impression_count: 120,
    });
    const fbPost = one.posts.facebook![0]!;
    graph.postCounts.set(fbPost, { shares: 5, comments: 7, reactions: 30 });
    graph.insights.set(fbPost, { post_media_view: 2000 });
    const [m1] = one.posts.mastodon!;
    mastodon.counts.set(m1!.split('@')[0]!, { reblogs: 2, favourites: 9 });

    const outcome = await poller().pollOnce();

    const byChannel = Object.fromEntries(outcome.channels.map((c) => [c.channel, c]));
    // X: three posts of two alerts in one lookup. Facebook: the Page post in one request; the update's comment is
    // not a post. Mastodon: one request per status. Telegram: nothing, and says why.
    expect(byChannel.x).toMatchObject({ posts: 3, due: 3, requests: 1, stored: 3 });
    expect(xReads()[0]!.query.ids!.split(',').sort()).toEqual([x1, x2, two.posts.x![0]].sort());
    expect(byChannel.facebook).toMatchObject({ posts: 2, due: 1, requests: 1, stored: 1 });
    expect(byChannel.mastodon).toMatchObject({ posts: 3, due: 3, requests: 3, stored: 3 });
    expect(byChannel.telegram!.skipped).toMatch(/Bot API cannot read/);
    expect(byChannel.instagram!.skipped).toBe('no credentials for instagram');

    const snapshots = await new DynamoEngagementStore({ client, tableName }).snapshotsOf(one.alertId);
    expect(snapshots.find((s) => s.postId === x1)).toMatchObject({
      channel: 'x',
      sentAt: new Date(sentAt).toISOString(),
      polledAt: clock.now().toISOString(),
      counts: { impressions: 500, reposts: 4, replies: 2, likes: 10 },
    });

    // Summed over the channel's posts; a network that reports no views has none; Telegram has no entry at all.
    expect(await engagementForAlert({ client, tableName }, one.alertId)).toEqual({
      x: { impressions: 620, reposts: 5, replies: 2, likes: 14 },
      facebook: { impressions: 2000, reposts: 5, replies: 7, likes: 30 },
      mastodon: { reposts: 2, replies: 0, likes: 9 },
    });
    expect(await engagementForAlert({ client, tableName }, two.alertId)).toEqual({
      x: { impressions: 0, reposts: 0, replies: 0, likes: 0 },
      mastodon: { reposts: 0, replies: 0, likes: 0 },
    });

    // A later read replaces the snapshot: the newest counts, not a sum over reads.
    x.publicMetrics.set(x1!, {
      retweet_count: 9,
      quote_count: 1,
      reply_count: 5,
      like_count: 40,
      impression_count: 1500,
    });
    at(40 * MINUTE);
    await poller().pollOnce();
    expect((await engagementForAlert({ client, tableName }, one.alertId)).x).toEqual({
      impressions: 1620,
      reposts: 11,
      replies: 5,
      likes: 44,
    });
  });

  it('reads a post on a decaying schedule, and not at all after 7 days', async () => {
    await alertWith(['x', 'facebook', 'mastodon']);
    const p = poller();
    const runAt = async (ms: number) => {
      at(ms);
      const before = readsNow();
      await p.pollOnce();
      const after = readsNow();
      return after.x - before.x + (after.facebook - before.facebook) + (after.mastodon - before.mastodon);
    };

    // First 6 hours: every 10 minutes.
    expect(await runAt(30 * MINUTE)).toBe(3);
    expect(await runAt(35 * MINUTE)).toBe(0);
    expect(await runAt(40 * MINUTE)).toBe(3);
    expect(await runAt(50 * MINUTE)).toBe(3);
    // 6 to 48 hours: hourly.
    expect(await runAt(10 * HOUR)).toBe(3);
    expect(await runAt(10 * HOUR + 10 * MINUTE)).toBe(0);
    expect(await runAt(10 * HOUR + 30 * MINUTE)).toBe(0);
    expect(await runAt(11 * HOUR)).toBe(3);
    // 48 hours to 7 days: every 6 hours.
    expect(await runAt(72 * HOUR)).toBe(3);
    expect(await runAt(73 * HOUR)).toBe(0);
    expect(await runAt(77 * HOUR)).toBe(0);
    expect(await runAt(78 * HOUR)).toBe(3);
    // Past 7 days: never again.
    expect(await runAt(7 * 24 * HOUR + MINUTE)).toBe(0);
    expect(await runAt(8 * 24 * HOUR)).toBe(0);
  });

  it('goes on reading the posts of cancelled and expired alerts, and never a sandbox post', async () => {
    const cancelled = await alertWith(['x'], { versions: 2, cancel: true });
    const expired = await alertWith(['x'], { expires: new Date(sentAt + 10 * MINUTE).toISOString() });
    const sandboxed = await alertWith(['x'], { sandboxOn: 'x' });
    await poller().pollOnce();
    const asked = xReads()[0]!.query.ids!.split(',');
    expect(asked.sort()).toEqual([...cancelled.posts.x!, ...expired.posts.x!].sort());
    expect(asked).not.toContain(sandboxed.posts.x![0]);
  });

  it('keeps within its budget per network and run, the most overdue first', async () => {
    const first = await alertWith(['mastodon']);
    const second = await alertWith(['mastodon']);
    const third = await alertWith(['mastodon']);
    const p = poller({ requestsPerRun: 2 });

    const run1 = await p.pollOnce();
    expect(run1.channels.find((c) => c.channel === 'mastodon')).toMatchObject({
      due: 3,
      requests: 2,
      stored: 2,
      stoppedBy: 'budget',
    });
    const unread = [first, second, third].find(
      (a) => !mastodonReads().some((r) => a.posts.mastodon![0]!.startsWith(r.path.split('/').at(-1)!)),
    )!;
    // Ten minutes on, all three are due: the one never read goes first.
    at(40 * MINUTE);
    const before = mastodonReads().length;
    await p.pollOnce();
    const next = mastodonReads().slice(before);
    expect(next).toHaveLength(2);
    expect(unread.posts.mastodon![0]!.startsWith(next[0]!.path.split('/').at(-1)!)).toBe(true);
  });

  it('holds a network after a 429 until its reset, while the others go on', async () => {
    await alertWith(['x', 'mastodon']);
    const reset = Math.floor(sentAt / 1000) + 3 * 3600;
    x.answerNext(1, rateLimited(reset, 900), { path: '/2/tweets' });
    const first = await poller().pollOnce();
    expect(first.channels.find((c) => c.channel === 'x')).toMatchObject({
      stoppedBy: 'rate-limit',
      stored: 0,
    });
    expect(first.channels.find((c) => c.channel === 'mastodon')).toMatchObject({ stored: 1 });
    expect(await new DynamoEngagementStore({ client, tableName }).holdOf('x')).toBe(
      new Date(reset * 1000).toISOString(),
    );

    // Before the reset, not one request to X; Mastodon is read on its schedule.
    at(40 * MINUTE);
    const held = await poller().pollOnce();
    expect(held.channels.find((c) => c.channel === 'x')!.skipped).toMatch(/rate limited until/);
    expect(held.channels.find((c) => c.channel === 'mastodon')).toMatchObject({ requests: 1 });
    expect(xReads()).toHaveLength(1);

    // After it, X is read again.
    at(3 * HOUR + 31 * MINUTE);
    const after = await poller().pollOnce();
    expect(after.channels.find((c) => c.channel === 'x')).toMatchObject({ requests: 1, stored: 1 });
  });

  it('stops reading a deleted post, keeping its last counts', async () => {
    const alert = await alertWith(['mastodon']);
    const statusId = alert.posts.mastodon![0]!.split('@')[0]!;
    mastodon.counts.set(statusId, { reblogs: 3, favourites: 8 });
    const p = poller();
    await p.pollOnce();
    mastodon.deleteStatus(statusId);
    at(40 * MINUTE);
    await p.pollOnce();
    at(50 * MINUTE);
    const before = mastodonReads().length;
    await p.pollOnce();
    expect(mastodonReads().length).toBe(before);
    expect(await engagementForAlert({ client, tableName }, alert.alertId)).toEqual({
      mastodon: { reposts: 3, replies: 0, likes: 8 },
    });
  });

  it('reports a network whose credentials are refused, and reads the others', async () => {
    await alertWith(['x', 'mastodon']);
    const broken = composeEngagementPoller({
      store,
      table: { client, tableName },
      secrets: {
        get: async (name: string) =>
          name === 'x' ? { ...X_CREDENTIALS, accessSecret: 'x-access-secret-REVOKED' } : secrets.get(name),
      },
      baseUrls: { x: x.baseUrl, graph: graph.baseUrl, mastodon: mastodon.baseUrl },
      clock,
      logger,
      env: {},
    });
    const outcome = await broken.pollOnce();
    const xOutcome = outcome.channels.find((c) => c.channel === 'x')!;
    expect(xOutcome).toMatchObject({ stoppedBy: 'error', stored: 0 });
    expect(xOutcome.error).toMatch(/X 401/);
    expect(outcome.channels.find((c) => c.channel === 'mastodon')).toMatchObject({ stored: 1 });
    expect(JSON.stringify(logger.lines)).not.toContain('REVOKED');
  });
});
