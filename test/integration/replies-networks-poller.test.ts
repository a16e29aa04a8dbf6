/**
 * The tips path on Mastodon, Bluesky, Threads and Telegram end to end below the schedule: alerts and receipts in a
 * real table (dynalite), the agency's posts made on local fakes speaking each network's wire format, residents'
 * replies added there, the pollers composed as the replies function composes them (functions/replies/compose.ts)
 * reading through the real readers, the real TipIntake storing the tips, and the officers' public answers posted by
 * `composeAnswerPoster` through the real clients, threaded under the resident's own reply.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoAnswerAttempts } from '../../functions/adapters/dynamo/answer-attempts';
import type { DynamoStore } from '../../functions/adapters/dynamo/store';
import { tipIntakeFor, tipStoreOf } from '../../functions/api/tips';
import { createBlueskyClient, decodePostId } from '../../functions/channels/bluesky/client';
import { createMastodonClient } from '../../functions/channels/mastodon/client';
import { createTelegramClient } from '../../functions/channels/telegram/client';
import { createTelegramReplies } from '../../functions/channels/telegram/replies';
import type { Receipt } from '../../functions/core/model';
import { answerKey, answerText } from '../../functions/replies/answers';
import { composeAnswerPoster, composeRepliesPollers } from '../../functions/replies/handler';
import type { PollOutcome } from '../../functions/replies/poller';
import { answerPost } from '../../functions/replies/social-answers';
import type { Channel } from '../../schemas/alert';
import { BlueskyApiFake, rateLimited } from '../fakes/bluesky-api';
import { MastodonApiFake } from '../fakes/mastodon-api';
import {
  CHANNEL_ID,
  CHANNEL_USERNAME,
  DISCUSSION_ID,
  floodWait,
  TelegramApiFake,
} from '../fakes/telegram-api';
import { FakeThreadsApi } from '../fakes/threads-api';
import { apiHarness, OFFICER } from '../helpers/api';
import type { DynaliteStore } from '../helpers/dynalite';
import { version } from '../helpers/dynamo-fixtures';
import { ManualClock, newUlid, RecordingLogger } from '../helpers/fakes';
import { dynaliteTablePerTest, type TestTable } from '../helpers/providers';
import { residentsDeps } from '../helpers/residents';

const MASTODON_TOKEN = 'token-networks-0001-abcdefghijklmnop';
const BLUESKY = {
  handle: 'agency.bsky.social',
  did: 'did:plc:agencynetworksbbbbbbbbbb',
  appPassword: 'pass-word-networks',
};
const THREADS_TOKEN = 'THAAnetworksTokenNeverInALog0123456789';
const THREADS_USER = '25000000000000001';
const TELEGRAM_TOKEN = '7000000003:AAHnetworksTokenForTheCommentsBot0001';
const SECRETS: Record<string, Record<string, string>> = {
  mastodon: { instanceUrl: 'https://mastodon.example', accessToken: MASTODON_TOKEN },
  bluesky: { identifier: BLUESKY.handle, appPassword: BLUESKY.appPassword },
  threads: { userId: THREADS_USER, accessToken: THREADS_TOKEN },
  telegram: { botToken: TELEGRAM_TOKEN, chatId: `@${CHANNEL_USERNAME}` },
};
const secrets = { get: async (name: string) => (SECRETS[name] ? { ...SECRETS[name] } : undefined) };
const signal = () => AbortSignal.timeout(5_000);

let mastodon: MastodonApiFake;
let bluesky: BlueskyApiFake;
let threads: FakeThreadsApi;
let telegram: TelegramApiFake;
beforeAll(async () => {
  [mastodon, bluesky, threads, telegram] = await Promise.all([
    MastodonApiFake.start(MASTODON_TOKEN),
    BlueskyApiFake.start(BLUESKY),
    FakeThreadsApi.start({ token: THREADS_TOKEN, userId: THREADS_USER }),
    TelegramApiFake.start(TELEGRAM_TOKEN),
  ]);
});
afterAll(async () => {
  await Promise.all([mastodon?.close(), bluesky?.close(), threads?.close(), telegram?.close()]);
});

let client: TestTable['client'];
let tableName: string;
let store: DynamoStore;
dynaliteTablePerTest('networks', (table) => ({ client, tableName, store } = table));
let api: ReturnType<typeof apiHarness>;
// Real time: the fakes stamp what they store with it, and the rate limits' resets are real instants.
let clock: ManualClock;
let logger: RecordingLogger;
beforeEach(async () => {
  const db = { store, client, tableName } as unknown as DynaliteStore;
  api = apiHarness(db, await residentsDeps(db), new Date().toISOString());
  clock = new ManualClock(new Date().toISOString());
  logger = new RecordingLogger();
  threads.reset();
  await drainTelegram();
});

const baseUrls = () => ({
  mastodon: mastodon.baseUrl,
  bluesky: bluesky.baseUrl,
  threads: threads.baseUrl,
  telegram: telegram.baseUrl,
});

function pollers(config: { requestsPerRun?: number; pagesPerRun?: number } = {}) {
  return composeRepliesPollers({
    store,
    table: { client, tableName },
    secrets,
    intake: tipIntakeFor(api.deps),
    baseUrls: baseUrls(),
    clock,
    logger,
    threadConfig: config.requestsPerRun ? { requestsPerRun: config.requestsPerRun } : undefined,
    telegramConfig: config.pagesPerRun ? { pagesPerRun: config.pagesPerRun } : undefined,
  });
}

async function poll(channel: Channel, config?: Parameters<typeof pollers>[0]): Promise<PollOutcome> {
  const run = await pollers(config).pollOnce();
  return run.channels.find((c) => c.channel === channel)!;
}

function answerPoster(config: { timeoutMs?: number } = {}) {
  return composeAnswerPoster({
    store,
    table: { client, tableName },
    secrets,
    baseUrls: baseUrls(),
    clock,
    logger,
    config,
  });
}

const ago = (minutes: number) => new Date(clock.now().getTime() - minutes * 60_000).toISOString();

/** The alert's versions and their receipts on `channel`, as a fan-out leaves them: one post per version. */
async function storeAlert(channel: Channel, postIds: readonly string[]): Promise<string> {
  const alertId = newUlid();
  const at = ago(30);
  for (let n = 1; n <= postIds.length; n++) {
    await store.putVersion(
      version(alertId, n, {
        createdAt: at,
        msgType: n === 1 ? 'Alert' : 'Update',
        dispatchStatus: 'planned',
      }),
    );
    if (n > 1) await store.advanceHead(alertId, n, at);
    const receipt: Receipt = {
      alertId,
      version: n,
      channel,
      recipient: '@agency',
      status: 'sent',
      attempts: 1,
      providerMessageId: postIds[n - 1]!,
      createdAt: at,
      updatedAt: at,
      history: [],
    };
    await store.putReceipts([receipt]);
  }
  return alertId;
}

interface TipView {
  id: string;
  reference: string;
  alertId?: string;
  source: string;
  from: string;
  text: string;
}

async function tipsOf(alertId: string): Promise<TipView[]> {
  const res = await api.call({ method: 'GET', path: `/v1/tips?alertId=${alertId}`, claims: OFFICER });
  expect(res.status).toBe(200);
  return (res.body.items as TipView[]).sort((a, b) => a.text.localeCompare(b.text));
}

async function storedTip(id: string) {
  return (await tipStoreOf(store).getTip(id))!;
}

/** The officer's public answer through the API: queued in the thread until the poster posts it. */
async function answer(tip: TipView, text: string) {
  const res = await api.call({
    method: 'POST',
    path: `/v1/tips/${tip.id}/replies`,
    body: { text, public: true },
    claims: OFFICER,
  });
  expect(res.status).toBe(201);
}

const lastMessage = async (tip: TipView) => (await storedTip(tip.id)).messages?.at(-1);

async function drainTelegram() {
  const reader = createTelegramReplies({ secrets, baseUrl: telegram.baseUrl });
  const page = await reader.readComments({}, signal());
  if (page.nextOffset !== undefined) await reader.readComments({ offset: page.nextOffset }, signal());
}

// ---------------------------------------------------------------- Mastodon

const statusOf = (providerMessageId: string) => providerMessageId.split('@')[0]!;

async function mastodonAlert(versions = 2) {
  const poster = createMastodonClient({ secrets, baseUrl: mastodon.baseUrl });
  const postIds: string[] = [];
  const key = randomUUID();
  for (let n = 1; n <= versions; n++) {
    const posted = await poster.post(
      {
        alertId: key,
        version: n,
        text: `${n === 1 ? 'Missing person' : 'UPDATE'}: a child near the park (${key})`,
        idempotencyKey: `${key}:${n}:mastodon`,
        inReplyTo: postIds.at(-1),
        test: false,
      },
      signal(),
    );
    postIds.push(posted.providerMessageId);
  }
  return { postIds, alertId: await storeAlert('mastodon', postIds) };
}

describe('Mastodon', () => {
  it('turns nested replies into tips linked to the alert, each once across runs, and never the agency’s own statuses', async () => {
    // Prepare
    const { postIds, alertId } = await mastodonAlert();
    const [first, update] = postIds.map(statusOf) as [string, string];
    const seen = mastodon.residentReply(first, 'I saw her by the bakery', 'vecina@town.example');
    const nested = mastodon.residentReply(seen, 'Same, around 5 pm', 'veí@other.example');
    mastodon.residentReply(update, 'Is she found?', 'neighbour@town.example');

    // Act
    const firstRun = await poll('mastodon');
    const secondRun = await poll('mastodon');

    // Assess
    expect(firstRun).toMatchObject({ handedOver: 3, requests: 2, conversationsSearched: 2 });
    expect(secondRun).toMatchObject({ handedOver: 0, requests: 2 });
    const tips = await tipsOf(alertId);
    expect(tips.map((t) => [t.source, t.from, t.text])).toEqual([
      ['mastodon', '@vecina@town.example', 'I saw her by the bakery'],
      ['mastodon', '@neighbour@town.example', 'Is she found?'],
      ['mastodon', '@veí@other.example', 'Same, around 5 pm'],
    ]);
    const nestedTip = await storedTip(tips.find((t) => t.text.startsWith('Same'))!.id);
    expect(nestedTip).toMatchObject({ externalId: `${nested}@mastodon.example`, inReplyTo: postIds[0] });
    const onUpdate = await storedTip(tips.find((t) => t.text.startsWith('Is she'))!.id);
    expect(onUpdate.inReplyTo).toBe(postIds[1]);
    // The agency's own statuses (the update) were read, and are no tip.
    expect(tips).toHaveLength(3);

    // A later reply is the only one handed over next.
    mastodon.residentReply(first, 'Now she is at the station', 'vecina@town.example');
    expect(await poll('mastodon')).toMatchObject({ handedOver: 1 });
    expect(await tipsOf(alertId)).toHaveLength(4);
  });

  it('reads the least recently read post first within its budget, and holds every read after a 429 until the reset', async () => {
    // Prepare
    const one = await mastodonAlert(1);
    const two = await mastodonAlert(1);
    const contextReads = () =>
      mastodon.apiRequests.filter((r) => r.path.endsWith('/context')).map((r) => r.path.split('/')[4]);

    // Act: a budget of one read a run
    mastodon.requests.length = 0;
    const first = await poll('mastodon', { requestsPerRun: 1 });
    clock.advance(1000);
    const second = await poll('mastodon', { requestsPerRun: 1 });

    // Assess
    expect(first).toMatchObject({ requests: 1, stoppedBy: 'budget' });
    expect(second).toMatchObject({ requests: 1, stoppedBy: 'budget' });
    expect(new Set(contextReads())).toEqual(new Set([statusOf(one.postIds[0]!), statusOf(two.postIds[0]!)]));

    // Act: a 429 naming its reset
    const reset = new Date(clock.now().getTime() + 60_000).toISOString();
    mastodon.answerNext(
      1,
      {
        status: 429,
        body: { error: 'Too many requests' },
        headers: { 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      },
      { path: /\/context$/ },
    );
    const limited = await poll('mastodon');
    mastodon.requests.length = 0;
    const held = await poll('mastodon');
    clock.advance(61_000);
    const resumed = await poll('mastodon');

    // Assess
    expect(limited).toMatchObject({ stoppedBy: 'rate-limit', requests: 1 });
    expect(held.skipped).toBe(`rate limited until ${reset}`);
    expect(held.requests).toBe(0);
    expect(resumed).toMatchObject({ requests: 2 });
    expect(resumed.skipped).toBeUndefined();
  });

  it("answers publicly under the resident's nested reply, and a lost answer is posted once", async () => {
    // Prepare
    const { postIds, alertId } = await mastodonAlert(1);
    const seen = mastodon.residentReply(
      statusOf(postIds[0]!),
      'I saw her by the bakery',
      'vecina@town.example',
    );
    const nested = mastodon.residentReply(seen, 'Same, around 5 pm', 'veí@other.example');
    await poll('mastodon');
    const tip = (await tipsOf(alertId)).find((t) => t.text.startsWith('Same'))!;
    await answer(tip, 'Thank you, an officer is on the way.');
    // The instance posts the answer and the connection is lost before its answer comes back.
    mastodon.answerNext(1, { lose: true }, { method: 'POST', path: '/api/v1/statuses' });

    // Act
    const lost = await answerPoster({ timeoutMs: 500 }).postOnce();
    const retried = await answerPoster({ timeoutMs: 500 }).postOnce();

    // Assess
    expect(lost).toMatchObject({ sent: 0, deferred: 1 });
    expect(retried).toMatchObject({ sent: 1, failed: 0 });
    const answers = mastodon.posted.filter((s) => s.inReplyToId === nested);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.text).toBe(`Thank you, an officer is on the way. (${tip.reference})`);
    expect(await lastMessage(tip)).toMatchObject({
      status: 'sent',
      providerMessageId: `${answers[0]!.id}@mastodon.example`,
    });
  });

  it("never posts an answer on its own when the resident's reply is gone", async () => {
    // Prepare
    const { postIds, alertId } = await mastodonAlert(1);
    const reply = mastodon.residentReply(statusOf(postIds[0]!), 'Which park?', 'vecina@town.example');
    await poll('mastodon');
    const [tip] = await tipsOf(alertId);
    await answer(tip!, 'The park by the river.');
    mastodon.deleteStatus(reply);
    const before = mastodon.posted.length;

    // Act
    const outcome = await answerPoster().postOnce();

    // Assess
    expect(outcome).toMatchObject({ sent: 0, failed: 1 });
    expect(mastodon.posted).toHaveLength(before);
    expect(await lastMessage(tip!)).toMatchObject({ status: 'failed' });
  });

  it('after a run that posted and died before settling, finds the answer by its Idempotency-Key and posts nothing more', async () => {
    // Prepare: a run claims the answer, posts it, and dies before settling
    const { postIds, alertId } = await mastodonAlert(1);
    const reply = mastodon.residentReply(statusOf(postIds[0]!), 'Which park?', 'vecina@town.example');
    await poll('mastodon');
    const [tip] = await tipsOf(alertId);
    await answer(tip!, 'The park by the river.');
    const [queued] = await tipStoreOf(store).listQueued('mastodon', 5);
    const claim = await new DynamoAnswerAttempts({ client, tableName }).claim(queued!, clock.now(), 60_000);
    expect(claim.kind).toBe('claimed');
    const request = {
      inReplyTo: queued!.inReplyTo,
      text: answerText('mastodon', queued!.text, tip!.reference),
      key: answerKey(queued!),
    };
    await createMastodonClient({ secrets, baseUrl: mastodon.baseUrl }).post(answerPost(request), signal());

    // Act: the claim runs out
    clock.advance(61_000);
    const outcome = await answerPoster().postOnce();

    // Assess
    expect(outcome).toMatchObject({ sent: 1, failed: 0 });
    const answers = mastodon.posted.filter((s) => s.inReplyToId === reply);
    expect(answers).toHaveLength(1);
    expect(await lastMessage(tip!)).toMatchObject({
      status: 'sent',
      providerMessageId: `${answers[0]!.id}@mastodon.example`,
    });
  });
});

// ---------------------------------------------------------------- Bluesky

const uriOf = (providerMessageId: string) => providerMessageId.split('|')[0]!;

async function blueskyAlert() {
  const poster = createBlueskyClient({ secrets, baseUrl: bluesky.baseUrl, sessions: new Map() });
  const key = randomUUID();
  const first = await poster.post(
    {
      alertId: key,
      version: 1,
      text: `Gas leak near the market (${key})`,
      idempotencyKey: `${key}:1`,
      test: false,
    },
    signal(),
  );
  const update = await poster.post(
    {
      alertId: key,
      version: 2,
      text: `UPDATE: contained (${key})`,
      idempotencyKey: `${key}:2`,
      inReplyTo: first.providerMessageId,
      test: false,
    },
    signal(),
  );
  const postIds = [first.providerMessageId, update.providerMessageId];
  return { postIds, alertId: await storeAlert('bluesky', postIds) };
}

describe('Bluesky', () => {
  it("reads a thread once through its root, tips each resident's reply at any depth under the nearest agency post, once", async () => {
    // Prepare
    const { postIds, alertId } = await blueskyAlert();
    const [first, update] = postIds as [string, string];
    const smell = bluesky.residentReply(uriOf(first), 'I smell gas on the north side', 'one.bsky.social');
    const nested = bluesky.residentReply(smell.uri, 'Same here, near the school', 'two.bsky.social');
    bluesky.residentReply(uriOf(update), 'Is the road open again?', 'three.bsky.social');
    bluesky.requests.length = 0;

    // Act
    const firstRun = await poll('bluesky');
    const secondRun = await poll('bluesky');

    // Assess
    expect(firstRun).toMatchObject({ requests: 1, conversationsSearched: 1, handedOver: 3 });
    expect(bluesky.xrpc('app.bsky.feed.getPostThread').map((r) => r.query.uri)).toEqual([
      uriOf(first),
      uriOf(first),
    ]);
    // Within the AppView's indexing overlap the replies are read again: the intake keeps one tip each.
    expect(secondRun.requests).toBe(1);
    const tips = await tipsOf(alertId);
    expect(tips.map((t) => [t.source, t.from, t.text])).toEqual([
      ['bluesky', '@one.bsky.social', 'I smell gas on the north side'],
      ['bluesky', '@three.bsky.social', 'Is the road open again?'],
      ['bluesky', '@two.bsky.social', 'Same here, near the school'],
    ]);
    const nestedTip = await storedTip(tips.find((t) => t.text.startsWith('Same'))!.id);
    expect(nestedTip.inReplyTo).toBe(first);
    // Its id is what the client replies to: the reply itself, and the thread's root.
    expect(decodePostId(nestedTip.externalId!)).toEqual({
      parent: { uri: nested.uri, cid: nested.cid },
      root: decodePostId(first)!.root,
    });
    const onUpdate = await storedTip(tips.find((t) => t.text.startsWith('Is the road'))!.id);
    expect(onUpdate.inReplyTo).toBe(update);
  });

  it('holds the channel after a 429 until the reset the AppView names', async () => {
    // Prepare
    await blueskyAlert();
    const reset = Math.ceil(clock.now().getTime() / 1000) + 120;
    bluesky.answerNext(1, rateLimited(reset), { nsid: 'app.bsky.feed.getPostThread' });

    // Act
    const limited = await poll('bluesky');
    const held = await poll('bluesky');

    // Assess
    expect(limited).toMatchObject({ stoppedBy: 'rate-limit', requests: 1, handedOver: 0 });
    expect(held).toMatchObject({
      requests: 0,
      skipped: `rate limited until ${new Date(reset * 1000).toISOString()}`,
    });
  });

  it("answers under the resident's nested reply, naming the thread's root, and finds a lost answer by its record key", async () => {
    // Prepare
    const { postIds, alertId } = await blueskyAlert();
    const smell = bluesky.residentReply(uriOf(postIds[0]!), 'I smell gas', 'one.bsky.social');
    const nested = bluesky.residentReply(smell.uri, 'Me too', 'two.bsky.social');
    await poll('bluesky');
    const tip = (await tipsOf(alertId)).find((t) => t.text === 'Me too')!;
    await answer(tip, 'Thank you, the fire brigade is there.');
    // The post is made and the connection drops before its answer.
    bluesky.answerNext(1, { drop: true, commit: true }, { nsid: 'com.atproto.repo.createRecord' });

    // Act
    const outcome = await answerPoster().postOnce();
    const again = await answerPoster().postOnce();

    // Assess
    expect(outcome).toMatchObject({ sent: 1, failed: 0 });
    expect(again).toMatchObject({ sent: 0, failed: 0, deferred: 0 });
    const answers = bluesky.posts.filter(
      (r) => (r.value.reply as { parent?: { uri?: string } } | undefined)?.parent?.uri === nested.uri,
    );
    expect(answers).toHaveLength(1);
    expect(answers[0]!.value).toMatchObject({
      text: `Thank you, the fire brigade is there. (${tip.reference})`,
      reply: { parent: { uri: nested.uri, cid: nested.cid }, root: decodePostId(postIds[0]!)!.root },
    });
    expect((await lastMessage(tip))?.status).toBe('sent');
  });
});

// ---------------------------------------------------------------- Threads

function threadsAlert() {
  const first = threads.ownPost('ALERT: missing child near the park', new Date(Date.now() - 30 * 60_000));
  const update = threads.ownPost(
    'UPDATE: seen near the fountain',
    new Date(Date.now() - 20 * 60_000),
    first.id,
  );
  return { first: first.id, update: update.id };
}

describe('Threads', () => {
  it('tips the replies under each post once, from the cursor it ended at, and not the agency’s own', async () => {
    // Prepare
    const { first, update } = threadsAlert();
    const alertId = await storeAlert('threads', [first, update]);
    const red = threads.residentReply(first, 'A child in a red coat by the fountain', 'resident.one');
    threads.residentReply(update, 'Heading north on Park Rd', 'resident.two');
    threads.residentReply(red.id, 'Nested: I saw them too', 'resident.three');

    // Act
    const firstRun = await poll('threads');
    const secondRun = await poll('threads');
    threads.residentReply(first, 'Now at the station', '');
    const thirdRun = await poll('threads');

    // Assess
    expect(firstRun).toMatchObject({ requests: 2, handedOver: 2 });
    expect(secondRun).toMatchObject({ requests: 2, handedOver: 0 });
    expect(thirdRun).toMatchObject({ handedOver: 1 });
    const tips = await tipsOf(alertId);
    expect(tips.map((t) => [t.source, t.from, t.text])).toEqual([
      ['threads', '@resident.one', 'A child in a red coat by the fountain'],
      ['threads', '@resident.two', 'Heading north on Park Rd'],
      ['threads', 'unknown', 'Now at the station'],
    ]);
    const onFirst = await storedTip(tips[0]!.id);
    expect(onFirst).toMatchObject({ externalId: red.id, inReplyTo: first });
  });

  it('stops reading a post the agency deleted, without failing the run', async () => {
    // Prepare: a receipt whose post is no longer on Threads
    await storeAlert('threads', ['17999999999999999']);

    // Act
    const first = await poll('threads');
    const second = await poll('threads');

    // Assess
    expect(first).toMatchObject({ requests: 1, failed: 0, handedOver: 0 });
    expect(second).toMatchObject({ requests: 0 });
  });

  it('holds the channel after a throttle, and answers under the resident’s reply', async () => {
    // Prepare
    const { first } = threadsAlert();
    const alertId = await storeAlert('threads', [first]);
    const red = threads.residentReply(first, 'A child in a red coat', 'resident.one');
    threads.fail(
      { pathEndsWith: '/replies' },
      { status: 400, error: { message: 'User request limit reached', type: 'OAuthException', code: 17 } },
    );

    // Act
    const limited = await poll('threads');
    const held = await poll('threads');
    clock.advance(16 * 60_000);
    const resumed = await poll('threads');
    const [tip] = await tipsOf(alertId);
    await answer(tip!, 'Thank you, we are on our way.');
    const posted = await answerPoster().postOnce();

    // Assess
    expect(limited).toMatchObject({ stoppedBy: 'rate-limit' });
    expect(held.skipped).toMatch(/^rate limited until /);
    expect(resumed).toMatchObject({ handedOver: 1 });
    expect(posted).toMatchObject({ sent: 1, failed: 0 });
    const answers = threads.ownMedia().filter((m) => m.replyTo === red.id);
    expect(answers.map((m) => m.text)).toEqual([`Thank you, we are on our way. (${tip!.reference})`]);
    expect(await lastMessage(tip!)).toMatchObject({ status: 'sent', providerMessageId: answers[0]!.id });
  });
});

// ---------------------------------------------------------------- Telegram

async function telegramAlert() {
  const poster = createTelegramClient({ secrets, baseUrl: telegram.baseUrl });
  const key = randomUUID();
  const posted = await poster.post(
    { alertId: key, version: 1, text: `Road closed for the race (${key})`, idempotencyKey: key, test: false },
    signal(),
  );
  const messageId = Number(posted.providerMessageId.split(':')[1]);
  return {
    postId: posted.providerMessageId,
    messageId,
    alertId: await storeAlert('telegram', [posted.providerMessageId]),
  };
}

describe('Telegram', () => {
  it('tips comments and comments answering comments once, learning each post’s thread, and not the bots’', async () => {
    // Prepare
    const { postId, messageId, alertId } = await telegramAlert();
    const question = telegram.residentComment({
      on: messageId,
      text: 'Which streets?',
      from: { username: 'vecina' },
    });
    telegram.residentComment({
      on: messageId,
      text: 'Main St and the harbour',
      replyTo: question,
      from: { id: 5_000_002 },
    });
    telegram.residentComment({
      on: messageId,
      text: 'Automated digest',
      from: { id: 9_000_001, is_bot: true },
    });

    // Act
    const firstRun = await poll('telegram');
    const secondRun = await poll('telegram');
    // Days later, an answer to a comment: its thread is known from the kept map alone.
    telegram.residentComment({
      on: messageId,
      text: 'Open again?',
      replyTo: question,
      from: { username: 'vei' },
    });
    const thirdRun = await poll('telegram');

    // Assess
    expect(firstRun).toMatchObject({ handedOver: 2, dropped: 0 });
    expect(secondRun).toMatchObject({ handedOver: 0, requests: 1 });
    expect(thirdRun).toMatchObject({ handedOver: 1, dropped: 0 });
    const tips = await tipsOf(alertId);
    expect(tips.map((t) => [t.source, t.from, t.text])).toEqual([
      ['telegram', 'unknown', 'Main St and the harbour'],
      ['telegram', '@vei', 'Open again?'],
      ['telegram', '@vecina', 'Which streets?'],
    ]);
    expect(await storedTip(tips[2]!.id)).toMatchObject({
      externalId: `${DISCUSSION_ID}:${question}`,
      inReplyTo: postId,
    });
    expect(postId).toBe(`${CHANNEL_ID}:${messageId}`);
  });

  it('drops a comment whose post is unknown, and holds the channel after a 429 for its retry_after', async () => {
    // Prepare: the post's forward and first comment were confirmed by someone else before the poller read them
    const { messageId } = await telegramAlert();
    const first = telegram.residentComment({ on: messageId, text: 'Before Herald read it' });
    await drainTelegram();
    telegram.residentComment({ on: messageId, text: 'A reply to an unseen comment', replyTo: first });

    // Act
    const dropped = await poll('telegram');
    telegram.answerNext(1, floodWait(30), { method: 'getUpdates' });
    const limited = await poll('telegram');
    const held = await poll('telegram');

    // Assess
    expect(dropped).toMatchObject({ handedOver: 0, dropped: 1 });
    expect(logger.at('warn').map((l) => l.message)).toContain(
      'a comment under a post whose thread is not known was dropped',
    );
    expect(JSON.stringify(logger.at('warn'))).not.toContain('unseen comment');
    expect(limited).toMatchObject({ stoppedBy: 'rate-limit', requests: 1 });
    expect(held).toMatchObject({ requests: 0 });
    expect(held.skipped).toMatch(/^rate limited until /);
  });

  it("answers in the discussion group, replying to the resident's comment in the post's thread", async () => {
    // Prepare
    const { messageId, alertId } = await telegramAlert();
    const question = telegram.residentComment({
      on: messageId,
      text: 'Which streets?',
      from: { username: 'vecina' },
    });
    await poll('telegram');
    const [tip] = await tipsOf(alertId);
    await answer(tip!, 'Main St until 14:00.');

    // Act
    const posted = await answerPoster().postOnce();

    // Assess
    expect(posted).toMatchObject({ sent: 1, failed: 0 });
    const forward = telegram.forwardOf(messageId)!;
    const answers = telegram.messages.filter(
      (m) => m.chatId === DISCUSSION_ID && m.replyTo === question && !m.from,
    );
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({
      text: `Main St until 14:00. (${tip!.reference})`,
      threadId: forward.message_id,
    });
    // Nothing went to the channel itself.
    expect(telegram.channelPosts(CHANNEL_ID).filter((m) => m.text?.startsWith('Main St'))).toEqual([]);
    expect(await lastMessage(tip!)).toMatchObject({
      status: 'sent',
      providerMessageId: `${DISCUSSION_ID}:${answers[0]!.message_id}`,
    });
  });
});

describe('every network at once', () => {
  it('polls X and the four side by side, and a network without credentials reads nothing', async () => {
    const run = await composeRepliesPollers({
      store,
      table: { client, tableName },
      secrets: { get: async (name) => (name === 'telegram' ? { ...SECRETS.telegram } : undefined) },
      intake: tipIntakeFor(api.deps),
      baseUrls: baseUrls(),
      clock,
      logger,
    }).pollOnce();

    expect(run.channels.map((c) => c.channel).sort()).toEqual(
      ['bluesky', 'mastodon', 'telegram', 'threads', 'x'].sort(),
    );
    for (const outcome of run.channels.filter((c) => c.channel !== 'telegram')) {
      expect(outcome.requests).toBe(0);
      expect(outcome.skipped).toMatch(/credentials/);
    }
    expect(run.channels.find((c) => c.channel === 'telegram')).toMatchObject({ requests: 1 });
  });
});
