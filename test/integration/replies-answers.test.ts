/**
 * Officers' public answers to social tips, end to end below the schedule: the tip in a real table (dynalite), the
 * answer queued by the API's own `POST /v1/tips/{id}/replies { public: true }`, and `composeAnswerPoster` posting it
 * through the real clients to local fakes speaking each wire format (X API v2 through twitter-api-v2 with OAuth 1.0a,
 * Graph for Facebook and Instagram), or to the sandbox outbox when the channel has no credentials.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoAnswerAttempts } from '../../functions/adapters/dynamo/answer-attempts';
import type { DynamoStore } from '../../functions/adapters/dynamo/store';
import { createFacebookReplyPoster } from '../../functions/adapters/providers/meta-answers';
import { InMemoryFaults, SandboxProvider } from '../../functions/adapters/providers/sandbox';
import { tipStoreOf } from '../../functions/api/tips';
import { weightedLength } from '../../functions/channels/x/render';
import type { SocialAnswer, StoredTip, TipSource } from '../../functions/ports';
import { answerText, OUTCOME_UNKNOWN, sandboxNote } from '../../functions/replies/answers';
import { type AnswerPosterComposition, composeAnswerPoster } from '../../functions/replies/handler';
import { FakeGraphApi, FakeSecrets } from '../fakes/graph-api';
import { rateLimited, XApiFake, type XFakeCredentials } from '../fakes/x-api';
import { apiHarness, OFFICER } from '../helpers/api';
import type { DynaliteStore } from '../helpers/dynalite';
import { ManualClock, newUlid, RecordingLogger } from '../helpers/fakes';
import { dynaliteTablePerTest, type TestTable } from '../helpers/providers';
import { residentsDeps } from '../helpers/residents';

const X_CREDENTIALS: XFakeCredentials = {
  appKey: 'app-key-answers-0001',
  appSecret: 'app-secret-answers-0001',
  accessToken: '1000-access-token-answers',
  accessSecret: 'access-secret-answers-0001',
};
const PAGE_TOKEN = 'EAAfakePageTokenAnswers0001';
const SECRETS: Record<string, Record<string, string>> = {
  x: { ...X_CREDENTIALS },
  facebook: { pageId: '104000000000001', pageAccessToken: PAGE_TOKEN },
  instagram: { igUserId: '17841400000000001', accessToken: PAGE_TOKEN },
};

let x: XApiFake;
let graph: FakeGraphApi;
beforeAll(async () => {
  x = await XApiFake.start(X_CREDENTIALS);
  graph = await FakeGraphApi.start({ token: PAGE_TOKEN });
});
afterAll(async () => {
  await graph?.close();
  await x?.close();
});

let client: TestTable['client'];
let tableName: string;
let store: DynamoStore;
dynaliteTablePerTest('answers', (table) => ({ client, tableName, store } = table));
let api: ReturnType<typeof apiHarness>;
// Real time: the fake's rate-limit resets and OAuth timestamps are real epoch seconds; the test moves it on.
let clock: ManualClock;
let logger: RecordingLogger;
beforeEach(async () => {
  const db = { store, client, tableName } as unknown as DynaliteStore;
  api = apiHarness(db, await residentsDeps(db), new Date().toISOString());
  clock = new ManualClock(new Date().toISOString());
  logger = new RecordingLogger();
  x.requests.length = 0;
  x.credentials = X_CREDENTIALS;
  graph.reset();
});

function poster(
  options: Partial<AnswerPosterComposition> & { secrets?: AnswerPosterComposition['secrets'] } = {},
) {
  return composeAnswerPoster({
    store,
    table: { client, tableName },
    secrets: { get: async (name) => SECRETS[name] },
    baseUrls: { x: x.baseUrl, graph: graph.baseUrl },
    clock,
    logger,
    ...options,
  });
}

const noSecrets = { get: async () => undefined };

/** A tip from a resident's public reply `externalId` under the agency's post `postId`, as the intake stores it. */
async function socialTip(source: TipSource, externalId: string, postId: string): Promise<StoredTip> {
  const receivedAt = new Date().toISOString();
  const tip: StoredTip = {
    id: newUlid(),
    reference: `T-${randomUUID()
      .replace(/[^0-9]/g, '')
      .slice(0, 4)
      .padEnd(4, '7')}`,
    alertId: `alert-${randomUUID()}`,
    source,
    from: '@vecina_bcn',
    text: 'I think I saw him by the harbour gate',
    receivedAt,
    state: 'open',
    language: 'en',
    replyBy: 'public-reply',
    externalId,
    inReplyTo: postId,
    updatedAt: receivedAt,
    answerCount: 0,
  };
  expect(await tipStoreOf(store).putTip(tip)).toBe('created');
  return tip;
}

/** The officer's public answer, through the API: queued in the thread and on the queue. */
async function answer(tip: StoredTip, text: string) {
  const res = await api.call({
    method: 'POST',
    path: `/v1/tips/${tip.id}/replies`,
    body: { text, public: true },
    claims: OFFICER,
  });
  expect(res.status).toBe(201);
  expect((res.body.messages as { status?: string }[]).at(-1)?.status).toBe('queued');
}

const thread = async (tip: StoredTip) => (await tipStoreOf(store).getTip(tip.id))?.messages ?? [];
const queued = (channel: SocialAnswer['channel']) => tipStoreOf(store).listQueued(channel, 10);
const tweetsPosted = () => x.apiRequests.filter((r) => r.method === 'POST' && r.path === '/2/tweets');

/** The agency's post on the X fake, and a resident's reply under it. */
function xConversation() {
  const postId = `17${Date.now()}${Math.floor(Math.random() * 1000)}`.slice(0, 19);
  x.tweets.set(postId, {
    id: postId,
    text: `Missing person ${postId}`,
    authorId: x.account.id,
    conversationId: postId,
  });
  const replyId = x.reply({
    to: postId,
    username: 'vecina_bcn',
    text: 'I think I saw him by the harbour gate',
  });
  return { postId, replyId };
}

describe('answerText', () => {
  it("adds the tip's reference when it fits, and cuts a long answer to X's 280 weighted characters between graphemes", () => {
    // Prepare
    const long = `${'Thank you for the report 🙏🏽 '.repeat(12)}👨‍👩‍👧 we are on our way`;

    // Act
    const short = answerText('x', 'Thank you, an officer is on the way.', 'T-7KQ2');
    const cut = answerText('x', long, 'T-7KQ2');
    const onFacebook = answerText('facebook', long, 'T-7KQ2');

    // Assess
    expect(short).toBe('Thank you, an officer is on the way. (T-7KQ2)');
    expect(weightedLength(cut)).toBeLessThanOrEqual(280);
    expect(cut.endsWith('…')).toBe(true);
    expect(cut).not.toContain('T-7KQ2');
    // No lone surrogate, and the emoji with its skin tone kept whole or left out whole.
    expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
    expect(cut.replace('…', '').trimEnd()).toMatch(/(🙏🏽|[a-z])$/u);
    expect(onFacebook).toBe(`${long} (T-7KQ2)`);
  });
});

describe('X', () => {
  it("posts the answer as a reply under the resident's post, settles it sent, and posts nothing more on the next runs", async () => {
    // Prepare
    const { postId, replyId } = xConversation();
    const tip = await socialTip('x', replyId, postId);
    await answer(tip, 'Thank you, an officer is on the way.');

    // Act
    const first = await poster().postOnce();
    const again = await poster().postOnce();

    // Assess
    expect(first).toMatchObject({ sent: 1, failed: 0, deferred: 0 });
    expect(again).toMatchObject({ sent: 0, failed: 0, deferred: 0 });
    expect(tweetsPosted()).toHaveLength(1);
    expect(tweetsPosted()[0]).toMatchObject({
      authorized: true,
      body: {
        text: `Thank you, an officer is on the way. (${tip.reference})`,
        reply: { in_reply_to_tweet_id: replyId },
      },
    });
    const posted = [...x.tweets.values()].find((t) => t.inReplyTo === replyId && t.authorId === x.account.id);
    expect(posted).toBeDefined();
    expect((await thread(tip)).at(-1)).toMatchObject({
      status: 'sent',
      providerMessageId: posted!.id,
      public: true,
    });
    expect(await queued('x')).toEqual([]);
    expect(await tipStoreOf(store).listAudit(tip.id)).toContainEqual(
      expect.objectContaining({
        action: 'tip.replied',
        actor: 'system:replies',
        detail: 'public reply on x: sent',
      }),
    );
  });

  it('leaves an answer refused with 429 queued, sends nothing more to X until the reset, then posts it once', async () => {
    // Prepare
    const { postId, replyId } = xConversation();
    const tip = await socialTip('x', replyId, postId);
    await answer(tip, 'Thank you, we are looking into it.');
    const resetAt = Math.floor(clock.now().getTime() / 1000) + 120;
    x.answerNext(1, rateLimited(resetAt), { method: 'POST', path: '/2/tweets' });
    const answers = poster();

    // Act
    const limited = await answers.postOnce();
    const stillQueued = await queued('x');
    const threadWhileLimited = await thread(tip);
    const beforeReset = await answers.postOnce();
    const requestsBeforeReset = tweetsPosted().length;
    clock.advance(121_000);
    const afterReset = await answers.postOnce();

    // Assess
    expect(limited).toMatchObject({ sent: 0, failed: 0, deferred: 1 });
    expect(stillQueued).toHaveLength(1);
    expect(threadWhileLimited.at(-1)).toMatchObject({ status: 'queued' });
    expect(beforeReset.channels.find((c) => c.channel === 'x')?.skipped).toMatch(/rate limited until/);
    expect(requestsBeforeReset).toBe(1);
    expect(afterReset).toMatchObject({ sent: 1, failed: 0 });
    expect(tweetsPosted()).toHaveLength(2);
    expect(
      [...x.tweets.values()].filter((t) => t.inReplyTo === replyId && t.authorId === x.account.id),
    ).toHaveLength(1);
    expect((await thread(tip)).at(-1)).toMatchObject({ status: 'sent' });
  });

  it("fails an answer X refuses for good, with its reason: duplicate content, or the resident's post gone", async () => {
    // Prepare
    const first = xConversation();
    const duplicate = await socialTip('x', first.replyId, first.postId);
    const gone = await socialTip('x', '1799999999999999999', first.postId);
    await answer(duplicate, 'Thank you.');
    await answer(gone, 'Thank you!');
    x.answerNext(
      1,
      {
        status: 403,
        body: {
          title: 'Forbidden',
          detail: 'You are not allowed to create a Tweet with duplicate content.',
          type: 'about:blank',
          status: 403,
        },
      },
      { method: 'POST', path: '/2/tweets' },
    );

    // Act
    const outcome = await poster().postOnce();

    // Assess
    expect(outcome).toMatchObject({ sent: 0, failed: 2 });
    expect((await thread(duplicate)).at(-1)).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/^duplicate content/),
    });
    expect((await thread(gone)).at(-1)).toMatchObject({
      status: 'failed',
      reason: "the resident's post is deleted or not visible to the agency",
    });
    expect(await queued('x')).toEqual([]);
  });

  it('fails an answer whose outcome was lost (timeout) as unknown rather than posting it again', async () => {
    // Prepare
    const { postId, replyId } = xConversation();
    const tip = await socialTip('x', replyId, postId);
    await answer(tip, 'Thank you, noted.');
    x.answerNext(1, { hang: true }, { method: 'POST', path: '/2/tweets' });

    // Act
    const lost = await poster({ config: { timeoutMs: 300 } }).postOnce();
    const again = await poster().postOnce();

    // Assess
    expect(lost).toMatchObject({ sent: 0, failed: 1 });
    expect(again).toMatchObject({ sent: 0, failed: 0 });
    expect(tweetsPosted()).toHaveLength(1);
    expect((await thread(tip)).at(-1)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
  });

  it('after a crash between the post and the settle, leaves the answer alone while the claim lasts, then fails it as unknown', async () => {
    // Prepare: a run claimed the answer and died (its call may have reached X).
    const { postId, replyId } = xConversation();
    const tip = await socialTip('x', replyId, postId);
    await answer(tip, 'Thank you, an officer will call.');
    const [queuedAnswer] = await queued('x');
    const crashed = await new DynamoAnswerAttempts({ client, tableName }).claim(
      queuedAnswer!,
      clock.now(),
      60_000,
    );

    // Act
    const whileClaimed = await poster().postOnce();
    clock.advance(61_000);
    const afterLease = await poster().postOnce();

    // Assess
    expect(crashed.kind).toBe('claimed');
    expect(whileClaimed).toMatchObject({ sent: 0, failed: 0, deferred: 0 });
    expect(afterLease).toMatchObject({ sent: 0, failed: 1 });
    expect(tweetsPosted()).toHaveLength(0);
    expect((await thread(tip)).at(-1)).toMatchObject({ status: 'failed', reason: OUTCOME_UNKNOWN });
  });

  it('re-reads a rotated secret once after a 401 (nothing was posted) and posts with the new credentials', async () => {
    // Prepare
    const { postId, replyId } = xConversation();
    const tip = await socialTip('x', replyId, postId);
    await answer(tip, 'Thank you, noted with thanks.');
    const rotated = {
      ...X_CREDENTIALS,
      accessToken: '1000-rotated-token',
      accessSecret: 'rotated-secret-0001',
    };
    x.credentials = rotated;
    const secrets = new FakeSecrets({ ...SECRETS });
    secrets.rotate('x', rotated);

    // Act
    const outcome = await poster({ secrets }).postOnce();

    // Assess
    expect(outcome).toMatchObject({ sent: 1, failed: 0 });
    expect(tweetsPosted().map((r) => r.authorized)).toEqual([false, true]);
    expect(secrets.reads.filter((r) => r.name === 'x' && r.refresh)).toHaveLength(1);
  });

  it('posts each answer once when two runs start at the same time', async () => {
    // Prepare
    const conversations = [xConversation(), xConversation(), xConversation()];
    const tips = await Promise.all(conversations.map((c) => socialTip('x', c.replyId, c.postId)));
    for (const [i, tip] of tips.entries()) await answer(tip, `Thank you, resident number ${i + 1}.`);

    // Act
    const runs = await Promise.all([poster().postOnce(), poster().postOnce()]);

    // Assess
    expect(runs[0].sent + runs[1].sent).toBe(3);
    expect(tweetsPosted()).toHaveLength(3);
    expect(
      new Set(
        tweetsPosted().map(
          (r) => (r.body as { reply: { in_reply_to_tweet_id: string } }).reply.in_reply_to_tweet_id,
        ),
      ),
    ).toEqual(new Set(conversations.map((c) => c.replyId)));
  });
});

describe('Facebook', () => {
  it("posts the answer as a reply in the resident's comment thread with the Page token", async () => {
    // Prepare
    const postId = `${graph.pageId}_1790000000000099`;
    graph.posts.push({ id: postId, kind: 'feed', fields: { message: 'Missing person' } });
    const comment = graph.residentComment({
      on: postId,
      name: 'Marta Vila',
      message: 'I saw him by the gate',
    });
    const tip = await socialTip('facebook', comment.id, postId);
    await answer(tip, 'Thank you Marta, an officer is on the way.');

    // Act
    const first = await poster().postOnce();
    const again = await poster().postOnce();

    // Assess
    expect(first).toMatchObject({ sent: 1, failed: 0 });
    expect(again).toMatchObject({ sent: 0 });
    const posts = graph.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({
      path: `${comment.id}/comments`,
      body: { message: `Thank you Marta, an officer is on the way. (${tip.reference})` },
      headers: expect.objectContaining({ authorization: `Bearer ${PAGE_TOKEN}` }),
    });
    const reply = graph.posts.find((p) => p.kind === 'comment' && p.parent === comment.id);
    expect(reply?.from?.id).toBe(graph.pageId);
    expect((await thread(tip)).at(-1)).toMatchObject({ status: 'sent', providerMessageId: reply!.id });
  });

  it('after a lost outcome, finds the reply Graph did post and settles it sent instead of posting again', async () => {
    // Prepare: a run claimed the answer, Graph posted the reply, and the run died before settling it.
    const postId = `${graph.pageId}_1790000000000098`;
    graph.posts.push({ id: postId, kind: 'feed', fields: { message: 'Missing person' } });
    const comment = graph.residentComment({ on: postId, name: 'Marta Vila', message: 'I saw him' });
    const tip = await socialTip('facebook', comment.id, postId);
    await answer(tip, 'Thank you, noted.');
    const [queuedAnswer] = await queued('facebook');
    await new DynamoAnswerAttempts({ client, tableName }).claim(queuedAnswer!, clock.now(), 60_000);
    const earlier = await createFacebookReplyPoster({
      secrets: { get: async (name) => SECRETS[name] },
      baseUrl: graph.baseUrl,
    }).reply(
      { inReplyTo: comment.id, text: answerText('facebook', 'Thank you, noted.', tip.reference), key: 'k' },
      AbortSignal.timeout(5000),
    );

    // Act
    clock.advance(61_000);
    const outcome = await poster().postOnce();

    // Assess
    expect(outcome).toMatchObject({ sent: 1, failed: 0 });
    expect(graph.posts.filter((p) => p.kind === 'comment' && p.parent === comment.id)).toHaveLength(1);
    expect(graph.requests.filter((r) => r.method === 'GET').map((r) => r.path)).toEqual([
      `${comment.id}/comments`,
    ]);
    expect((await thread(tip)).at(-1)).toMatchObject({
      status: 'sent',
      providerMessageId: earlier.providerMessageId,
    });
  });
});

describe('Instagram', () => {
  it("posts the answer as a reply to the resident's comment with the Instagram token", async () => {
    // Prepare
    const comment = graph.instagramComment({
      mediaId: '17900000000000500',
      username: 'vecina_bcn',
      text: 'Seen him!',
    });
    const tip = await socialTip('instagram', comment.id, comment.mediaId);
    await answer(tip, 'Thank you, please call 112 if you see him again.');

    // Act
    const outcome = await poster().postOnce();

    // Assess
    expect(outcome).toMatchObject({ sent: 1, failed: 0 });
    const posts = graph.requests.filter((r) => r.method === 'POST');
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({
      path: `${comment.id}/replies`,
      body: { message: `Thank you, please call 112 if you see him again. (${tip.reference})` },
    });
    const reply = [...graph.instagramComments.values()].find((c) => c.parent === comment.id);
    expect(reply?.from.id).toBe(graph.igUserId);
    expect((await thread(tip)).at(-1)).toMatchObject({ status: 'sent', providerMessageId: reply!.id });
  });
});

describe('without credentials', () => {
  it("records the answer in the sandbox outbox under the resident's reply, once, and says so in the thread", async () => {
    // Prepare
    const tip = await socialTip('x', 'sbx-reply-0001', 'sbx-x-post-0001');
    await answer(tip, 'Thank you, an officer is on the way.');
    const faults = new InMemoryFaults();
    faults.set('x', { status: 429, times: 1 });
    const sandbox = (channel: SocialAnswer['channel']) =>
      new SandboxProvider({ channel, outbox: store, clock, newId: newUlid, faults });
    const answers = poster({ secrets: noSecrets, sandbox, accounts: { x: '@agency' } });

    // Act
    const limited = await answers.postOnce();
    clock.advance(2000);
    const posted = await answers.postOnce();
    const again = await answers.postOnce();

    // Assess
    expect(limited).toMatchObject({ sent: 0, deferred: 1 });
    expect(posted).toMatchObject({ sent: 1 });
    expect(again).toMatchObject({ sent: 0 });
    const outbox = await store.list({ limit: 10 });
    expect(outbox.items).toEqual([
      expect.objectContaining({
        channel: 'x',
        alertId: tip.alertId,
        version: 0,
        recipient: '@agency',
        text: `Thank you, an officer is on the way. (${tip.reference})`,
        inReplyTo: 'sbx-reply-0001',
        providerMessageId: expect.stringMatching(/^sbx-x-/),
      }),
    ]);
    expect((await thread(tip)).at(-1)).toMatchObject({
      status: 'sent',
      reason: sandboxNote('x'),
      providerMessageId: outbox.items[0]!.providerMessageId,
    });
    expect(x.requests).toHaveLength(0);
  });

  it('on AWS (no sandbox), fails the answer saying the channel is not configured', async () => {
    // Prepare
    const tip = await socialTip('instagram', '17900000000000777', '17900000000000500');
    await answer(tip, 'Thank you.');

    // Act
    const outcome = await poster({ secrets: noSecrets }).postOnce();

    // Assess
    expect(outcome).toMatchObject({ sent: 0, failed: 1 });
    expect((await thread(tip)).at(-1)).toMatchObject({
      status: 'failed',
      reason: 'instagram is not configured (no credentials for instagram): the answer was not posted',
    });
    expect(graph.requests).toHaveLength(0);
  });
});
