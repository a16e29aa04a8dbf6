/**
 * The X replies poller end to end below TipIntake: alerts and receipts in a real table (dynalite), the posts made
 * by the real X provider on a local X API v2, residents' replies added there, and the poller's own reads going
 * through twitter-api-v2 to that same fake (search by conversation, since_id, pages, rate-limit headers, 429).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/client';
import { DynamoReplyPollStore, repliesPk } from '../../functions/adapters/dynamo/reply-poll-store';
import { DynamoStore } from '../../functions/adapters/dynamo/store';
import { createXProvider } from '../../functions/channels/x/client';
import type { Receipt } from '../../functions/core/model';
import type { SocialReply, TipIntake } from '../../functions/ports';
import { composeReplyPoller } from '../../functions/replies/handler';
import type { ReplyPollConfig } from '../../functions/replies/poller';
import { ensureTable, startDynalite } from '../../local/dynalite';
import { rateLimited, XApiFake, type XFakeCredentials } from '../fakes/x-api';
import { version } from '../helpers/dynamo-fixtures';
import { ManualClock, RecordingLogger } from '../helpers/fakes';

const CREDENTIALS: XFakeCredentials = {
  appKey: 'app-key-replies-0001',
  appSecret: 'app-secret-replies-0001',
  accessToken: '1000-access-token-replies',
  accessSecret: 'access-secret-replies-0001',
};
const AGENCY_ID = '1000';

/** The tips backend's intake as the poller sees it: every call recorded, one tip per reply id. */
class DedupingIntake implements TipIntake {
  readonly calls: SocialReply[] = [];
  readonly tips = new Map<string, SocialReply>();
  async receiveSocialReply(reply: SocialReply) {
    this.calls.push(structuredClone(reply));
    const created = !this.tips.has(reply.externalId);
    if (created) this.tips.set(reply.externalId, reply);
    return { tipId: `tip-${reply.externalId}`, reference: 'T-7KQ2', created };
  }
}

let x: XApiFake;
let dynalite: Awaited<ReturnType<typeof startDynalite>>;
let client: ReturnType<typeof createDocumentClient>;
beforeAll(async () => {
  x = await XApiFake.start(CREDENTIALS);
  dynalite = await startDynalite({});
  client = createDocumentClient({ endpoint: dynalite.endpoint, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await dynalite?.close();
  await x?.close();
});

// Real time, not a date of its own: the fake's rate-limit resets and OAuth timestamps are in real epoch seconds.
let clock: ManualClock;
let store: DynamoStore;
let polls: DynamoReplyPollStore;
let intake: DedupingIntake;
let logger: RecordingLogger;
let tableName: string;
beforeEach(async () => {
  tableName = `replies-${randomUUID()}`;
  await ensureTable(client, tableName);
  store = new DynamoStore({ client, tableName });
  polls = new DynamoReplyPollStore({ client, tableName });
  clock = new ManualClock(new Date().toISOString());
  intake = new DedupingIntake();
  logger = new RecordingLogger();
  x.requests.length = 0;
  x.credentials = CREDENTIALS;
  x.searchLimit = { limit: 300, remaining: 300, resetAt: Math.floor(Date.now() / 1000) + 900 };
});

function poller(
  env: Record<string, string> = {},
  secrets: Record<string, string> | null = { ...CREDENTIALS },
  config: Partial<ReplyPollConfig> = {},
) {
  return composeReplyPoller({
    config,
    store,
    table: { client, tableName },
    secrets: { get: async (name) => (name === 'x' && secrets ? secrets : undefined) },
    intake,
    xBaseUrl: x.baseUrl,
    clock,
    logger,
    env,
  });
}

const ago = (minutes: number) => new Date(clock.now().getTime() - minutes * 60_000).toISOString();
let sequence = 0;

/** Posts on X through the real provider and stores the alert's version and its X receipt, as a fan-out would. */
async function postAlert(
  options: {
    versions?: number;
    cancel?: boolean;
    expires?: string;
    sentMinutesAgo?: number;
    sandbox?: boolean;
  } = {},
) {
  const alertId = `alert-${randomUUID()}`;
  const provider = createXProvider({
    secrets: { get: async () => ({ ...CREDENTIALS }) },
    baseUrl: x.baseUrl,
  });
  const postIds: string[] = [];
  const at = ago(options.sentMinutesAgo ?? 30);
  const count = options.versions ?? 1;
  for (let n = 1; n <= count; n++) {
    sequence += 1;
    const text = `Alert ${sequence}: missing person near the harbour, version ${n}`;
    const posted = await provider.send(
      {
        channel: 'x',
        alertId,
        version: n,
        recipient: '@agency',
        text,
        content: { channel: 'x', text },
        inReplyTo: postIds.at(-1),
        idempotencyKey: `${alertId}:${n}:x:@agency`,
        test: false,
      },
      AbortSignal.timeout(5000),
    );
    postIds.push(posted.providerMessageId);
    const last = n === count;
    const content = version(alertId, n).content;
    await store.putVersion(
      version(alertId, n, {
        createdAt: at,
        msgType: last && options.cancel ? 'Cancel' : n === 1 ? 'Alert' : 'Update',
        dispatchStatus: 'planned',
        content: { ...content, ...(options.expires ? { expires: options.expires } : {}) },
      }),
    );
    if (n > 1) await store.advanceHead(alertId, n, at);
    const receipt: Receipt = {
      alertId,
      version: n,
      channel: 'x',
      recipient: '@agency',
      status: 'sent',
      attempts: 1,
      providerMessageId: posted.providerMessageId,
      ...(options.sandbox ? { sandbox: true } : {}),
      createdAt: at,
      updatedAt: at,
      history: [],
    };
    await store.putReceipts([receipt]);
  }
  return { alertId, postIds, root: postIds[0]! };
}

const replies = (root: string, count: number, prefix = 'resident') =>
  Array.from({ length: count }, (_, i) =>
    x.reply({ to: root, username: `${prefix}${i}`, text: `${prefix} ${i}: I saw something` }),
  );

describe('the X replies poller', () => {
  it('finds replies by conversation, page by page, and hands each over once across runs', async () => {
    const alert = await postAlert({ versions: 2 });
    const early = replies(alert.root, 11);
    const onUpdate = x.reply({ to: alert.postIds[1]!, username: 'late', text: 'Is the update right?' });
    const p = poller({ HERALD_REPLY_REQUESTS_PER_RUN: '20' });

    const first = await p.pollOnce();

    expect(first).toMatchObject({ handedOver: 12, ownSkipped: 1, conversationsSearched: 1 });
    expect(new Set(intake.calls.map((c) => c.externalId))).toEqual(new Set([...early, onUpdate]));
    // One conversation: the update threads under the original, whose id the lookup named for both.
    const lookup = x.requests.find((r) => r.path === '/2/tweets' && r.method === 'GET')!;
    expect(lookup.query).toMatchObject({ ids: alert.postIds.join(','), 'tweet.fields': 'conversation_id' });
    const [page1] = x.searches;
    expect(x.searches).toHaveLength(1);
    expect(page1!.query).toMatchObject({
      query: `conversation_id:${alert.root}`,
      max_results: '100',
      expansions: 'author_id',
      'user.fields': 'username',
    });
    expect(page1!.query.since_id).toBeUndefined();
    expect(intake.calls.find((c) => c.externalId === onUpdate)).toEqual({
      channel: 'x',
      externalId: onUpdate,
      inReplyTo: alert.root,
      author: '@late',
      text: 'Is the update right?',
      at: x.tweets.get(onUpdate)!.createdAt,
    });

    // Nothing new: one search from the newest reply on, nothing handed over.
    const second = await p.pollOnce();
    expect(second).toMatchObject({ handedOver: 0, requests: 1 });
    expect(x.searches.at(-1)!.query.since_id).toBe(onUpdate);

    // One new reply: handed over once.
    const later = x.reply({ to: alert.root, username: 'witness', text: 'Near the fish market now' });
    const third = await p.pollOnce();
    expect(third.handedOver).toBe(1);
    expect(intake.calls.map((c) => c.externalId).filter((id) => id === later)).toHaveLength(1);
    expect(intake.calls).toHaveLength(13);
    expect(intake.tips.size).toBe(13);
  });

  it('reads the later pages with next_token and moves since_id only when the last page is read', async () => {
    const alert = await postAlert();
    const all = replies(alert.root, 25);
    // Lookup, account and one search of X's smallest page (10): the first run ends after the first page.
    const p = poller({ HERALD_REPLY_REQUESTS_PER_RUN: '3' }, { ...CREDENTIALS }, { maxResults: 10 });

    const first = await p.pollOnce();
    expect(first).toMatchObject({ handedOver: 10, stoppedBy: 'budget', requests: 3 });
    const saved = (await polls.load('x')).conversations.get(alert.root)!;
    expect(saved.sinceId).toBeUndefined();
    expect(saved.pending?.nextToken).toBeTruthy();

    const second = await p.pollOnce();
    expect(second).toMatchObject({ handedOver: 15, requests: 2 });
    expect((await polls.load('x')).conversations.get(alert.root)).toMatchObject({ sinceId: all.at(-1) });
    const third = await p.pollOnce();

    expect(third.handedOver).toBe(0);
    expect(x.searches.map((s) => [Boolean(s.query.next_token), s.query.since_id])).toEqual([
      [false, undefined],
      [true, undefined],
      [true, undefined],
      [false, all.at(-1)],
    ]);
    expect(x.searches.every((s) => s.query.max_results === '10')).toBe(true);
    expect(new Set(intake.calls.map((c) => c.externalId))).toEqual(new Set(all));
    expect(intake.calls).toHaveLength(25);
  });

  it('stops at a 429, polls nothing before its reset, and carries on after it', async () => {
    const alert = await postAlert();
    const all = replies(alert.root, 3);
    const reset = Math.floor(clock.now().getTime() / 1000) + 600;
    x.answerNext(1, rateLimited(reset, 300), { method: 'GET', path: '/2/tweets/search/recent' });
    const p = poller();

    const limited = await p.pollOnce();
    expect(limited).toMatchObject({ stoppedBy: 'rate-limit', handedOver: 0 });
    expect((await polls.load('x')).holdUntil).toBe(new Date(reset * 1000).toISOString());

    clock.advance(599_000);
    const held = await p.pollOnce();
    expect(held.skipped).toMatch(/rate limited until/);
    expect(held.requests).toBe(0);
    expect(x.searches).toHaveLength(1);

    clock.advance(2_000);
    const resumed = await p.pollOnce();
    expect(resumed.handedOver).toBe(3);
    expect(new Set(intake.calls.map((c) => c.externalId))).toEqual(new Set(all));
  });

  it('stops when X says few searches remain, and starts the next run with the conversation left out', async () => {
    const a = await postAlert();
    const b = await postAlert();
    replies(a.root, 1, 'a');
    replies(b.root, 1, 'b');
    const resetAt = Math.floor(Date.now() / 1000) + 900;
    // The default reserve is 15: after this search X reports 15 left.
    x.searchLimit = { limit: 300, remaining: 16, resetAt };
    const p = poller();

    const first = await p.pollOnce();
    expect(first).toMatchObject({ stoppedBy: 'rate-limit', conversationsSearched: 1 });
    const searchedFirst = x.searches[0]!.query.query;

    x.searchLimit = { limit: 300, remaining: 300, resetAt: resetAt + 900 };
    clock.set(new Date(resetAt * 1000 + 1000).toISOString());
    await p.pollOnce();

    const order = x.searches.map((s) => s.query.query);
    expect(order[1]).not.toBe(searchedFirst);
    expect(new Set(order)).toEqual(new Set([`conversation_id:${a.root}`, `conversation_id:${b.root}`]));
    expect(intake.calls).toHaveLength(2);
  });

  it('spends at most the run budget, the least recently searched conversations first', async () => {
    const alerts = [await postAlert(), await postAlert(), await postAlert(), await postAlert()];
    const p = poller({ HERALD_REPLY_REQUESTS_PER_RUN: '2' });

    const runs = [];
    for (let i = 0; i < 5; i++) {
      runs.push(await p.pollOnce());
      clock.advance(60_000);
    }

    // The first run spends its two requests resolving the posts and asking who the account is.
    expect(runs.map((r) => [r.requests, r.conversationsSearched, r.stoppedBy])).toEqual([
      [2, 0, 'budget'],
      [2, 2, 'budget'],
      [2, 2, 'budget'],
      [2, 2, 'budget'],
      [2, 2, 'budget'],
    ]);
    const roots = alerts.map((a) => `conversation_id:${a.root}`);
    expect(x.searches.map((s) => s.query.query)).toEqual([...roots, ...roots]);
  });

  it("skips the agency's own posts in a thread: Herald's updates and a reply typed by staff", async () => {
    const alert = await postAlert({ versions: 3 });
    const staff = x.reply({
      to: alert.root,
      username: 'agency',
      authorId: AGENCY_ID,
      text: 'Please call 112',
    });
    const resident = x.reply({ to: staff, username: 'resident', text: 'Called!' });
    const p = poller();

    const outcome = await p.pollOnce();

    expect(outcome).toMatchObject({ handedOver: 1, ownSkipped: 3 });
    expect(intake.calls.map((c) => c.externalId)).toEqual([resident]);
    expect(x.requests.filter((r) => r.path === '/2/users/me')).toHaveLength(1);
  });

  it('watches only live alerts: not cancelled, not expired, not sandboxed, posted within the watch window', async () => {
    const live = await postAlert();
    const cancelled = await postAlert({ versions: 2, cancel: true });
    const expired = await postAlert({ expires: ago(5) });
    const sandboxed = await postAlert({ sandbox: true });
    const old = await postAlert({ sentMinutesAgo: 49 * 60 });
    for (const a of [live, cancelled, expired, sandboxed, old]) replies(a.root, 1);
    const p = poller();

    await p.pollOnce();

    expect(x.searches.map((s) => s.query.query)).toEqual([`conversation_id:${live.root}`]);
    expect(intake.calls.map((c) => c.inReplyTo)).toEqual([live.root]);
  });

  it('starts a conversation again when X refuses its saved page token', async () => {
    const alert = await postAlert();
    const all = replies(alert.root, 12);
    const p = poller({ HERALD_REPLY_REQUESTS_PER_RUN: '3' }, { ...CREDENTIALS }, { maxResults: 10 });
    await p.pollOnce();
    const saved = (await polls.load('x')).conversations.get(alert.root)!;
    await polls.putConversation(
      { ...saved, pending: { nextToken: 'expired-token', newestId: saved.pending?.newestId } },
      clock.now(),
    );

    const refused = await p.pollOnce();
    const again = await p.pollOnce();

    expect(refused.handedOver).toBe(0);
    expect(logger.at('warn').map((l) => l.message)).toContain('page token refused; the search starts again');
    // The first page is read again: the intake is handed its ten replies twice and keeps one tip each.
    expect(again.handedOver).toBe(12);
    expect(intake.calls).toHaveLength(22);
    expect(new Set(intake.tips.keys())).toEqual(new Set(all));
  });

  it('reads nothing at all without X credentials', async () => {
    await postAlert();
    x.requests.length = 0;
    const outcome = await poller({}, null).pollOnce();
    expect(outcome).toMatchObject({ skipped: 'no credentials for x', requests: 0 });
    expect(x.requests).toEqual([]);
    expect((await polls.load('x')).conversations.size).toBe(0);
  });

  it('keeps its state in its own partition, each item expiring a day after the search window', async () => {
    const alert = await postAlert();
    await poller().pollOnce();
    const state = await polls.load('x');
    expect([...state.posts.keys()]).toEqual([alert.root]);
    expect(state.conversations.get(alert.root)).toMatchObject({ alertId: alert.alertId, channel: 'x' });
    const { Items } = await client.send(
      new (await import('@aws-sdk/lib-dynamodb')).QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': repliesPk('x') },
      }),
    );
    const days = (Items ?? []).map((i) => ((i.expiresAt as number) - clock.now().getTime() / 1000) / 86_400);
    expect(days.every((d) => d > 7.9 && d <= 8)).toBe(true);
  });
});
