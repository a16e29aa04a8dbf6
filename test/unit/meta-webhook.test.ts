/**
 * GET and POST /v1/inbound/meta against a local Graph API: the posts and Herald's own update comments are made by
 * the real Facebook and Instagram providers, so the ids a comment names are the ids Herald stored; the deliveries
 * are what Meta POSTs for them, signed (or not) as Meta signs.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { type ApiResult, problemResult } from '../../functions/api/http';
import { META_WEBHOOK_PATH, metaWebhookOperations } from '../../functions/api/meta-webhook';
import { createFacebookProvider } from '../../functions/channels/facebook/client';
import { createInstagramProvider } from '../../functions/channels/instagram/client';
import { HttpProblem } from '../../functions/core/errors';
import type { OutboundMessage, SocialReply, TipIntake } from '../../functions/ports';
import { MetaWebhookAck } from '../../schemas/replies';
import { FakeGraphApi, FakeSecrets, type MetaDelivery, signMetaWebhook } from '../fakes/graph-api';
import { apiEvent } from '../helpers/events';
import { ManualClock, RecordingLogger } from '../helpers/fakes';

const PAGE = '104000000000001';
const IG = '17841400000000001';
const TOKEN = 'EAAfakePageToken0123456789';
const APP_SECRET = 'meta-app-secret-0123456789abcdef';
const VERIFY_TOKEN = 'verify-token-for-herald-7c1e';

/** The tips backend's intake as far as this route can tell: it records every call and keeps one tip per id. */
class DedupingIntake implements TipIntake {
  readonly calls: SocialReply[] = [];
  readonly tips = new Map<string, SocialReply>();
  failNext = false;
  constructor(private readonly ourPosts: Set<string>) {}
  async receiveSocialReply(reply: SocialReply) {
    this.calls.push(structuredClone(reply));
    if (this.failNext) {
      this.failNext = false;
      throw new Error('the table is unreachable');
    }
    if (!this.ourPosts.has(reply.inReplyTo)) return { ignored: 'not a reply to a post of Herald' };
    const key = `${reply.channel}:${reply.externalId}`;
    const created = !this.tips.has(key);
    if (created) this.tips.set(key, reply);
    return { tipId: `tip-${key}`, reference: 'T-7KQ2', created };
  }
}

let graph: FakeGraphApi;
beforeAll(async () => {
  graph = await FakeGraphApi.start({ token: TOKEN, pageId: PAGE, igUserId: IG });
});
afterEach(() => graph.reset());
afterAll(async () => {
  await graph?.close();
});

const secretsWith = (facebook: Record<string, string>, instagram: Record<string, string> = {}) =>
  new FakeSecrets({
    facebook: { pageId: PAGE, pageAccessToken: TOKEN, ...facebook },
    instagram: { igUserId: IG, accessToken: TOKEN, ...instagram },
  });

function setup(secrets = secretsWith({ appSecret: APP_SECRET, webhookVerifyToken: VERIFY_TOKEN })) {
  const posts = new Set<string>();
  const intake = new DedupingIntake(posts);
  const logger = new RecordingLogger();
  const deps = { logger, clock: new ManualClock('2030-05-01T12:00:00.000Z') } as unknown as ApiDeps;
  const ops = metaWebhookOperations({ secrets, intake });
  // As the router runs an operation: a refusal is a problem+json answer.
  const run = async (op: keyof typeof ops, event: APIGatewayProxyEventV2): Promise<ApiResult> => {
    try {
      return await ops[op](deps, { event, actor: { id: 'anonymous', roles: [] }, params: {} });
    } catch (error) {
      if (error instanceof HttpProblem) return problemResult(error, META_WEBHOOK_PATH);
      throw error;
    }
  };
  const handshake = (query: string) =>
    run(
      'metaWebhookVerify',
      apiEvent({ method: 'GET', path: `${META_WEBHOOK_PATH}?${query}`, claims: null }),
    );
  const deliver = (body: string, headers: Record<string, string> = {}, isBase64Encoded = false) =>
    run(
      'metaWebhookReceive',
      apiEvent({
        method: 'POST',
        path: META_WEBHOOK_PATH,
        body,
        headers: { 'content-type': 'application/json', ...headers },
        claims: null,
        isBase64Encoded,
      }),
    );
  const signed = (delivery: MetaDelivery, secret = APP_SECRET) => {
    const body = JSON.stringify(delivery);
    return deliver(body, { 'x-hub-signature-256': signMetaWebhook(body, secret) });
  };
  return { posts, intake, logger, handshake, deliver, signed };
}

const message = (text: string, inReplyTo?: string): OutboundMessage => ({
  channel: 'facebook',
  alertId: '01J0ALERT0000000000000000',
  version: inReplyTo ? 2 : 1,
  recipient: 'agency',
  text,
  content: { channel: 'facebook', text, link: 'https://alerts.example/alerts/1' },
  idempotencyKey: `01J0ALERT0000000000000000:${inReplyTo ? 2 : 1}:facebook:agency`,
  inReplyTo,
  test: false,
});

/** An alert posted on the Page and its update posted as a comment, by the real provider. */
async function postAlertOnPage() {
  const facebook = createFacebookProvider({ secrets: secretsWith({}), baseUrl: graph.baseUrl });
  const signal = new AbortController().signal;
  const post = await facebook.send(message('Missing child near the harbour'), signal);
  const update = await facebook.send(message('UPDATE: found safe', post.providerMessageId), signal);
  return { postId: post.providerMessageId, updateId: update.providerMessageId };
}

const problemOf = (answer: ApiResult) => {
  expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
  return JSON.parse(answer.body ?? '{}') as { status: number; detail: string };
};

describe('GET /v1/inbound/meta: the subscription handshake', () => {
  it('echoes hub.challenge as text/plain to the configured verify token', async () => {
    const { handshake } = setup();
    const answer = await handshake(
      `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
    );
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.body).toBe('1158201444');
  });

  it.each([
    ['a wrong token', `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}x&hub.challenge=1158201444`],
    ['no token', 'hub.mode=subscribe&hub.challenge=1158201444'],
    ['another mode', `hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`],
    [
      'a challenge that is not a token',
      `hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=%3Cb%3E`,
    ],
  ])('refuses %s with 403 and echoes nothing', async (_, query) => {
    const { handshake } = setup();
    const answer = await handshake(query);
    expect(answer.statusCode).toBe(403);
    expect(problemOf(answer).status).toBe(403);
    expect(answer.body).not.toContain('1158201444');
  });

  it('refuses every handshake while no verify token is configured', async () => {
    const { handshake, logger } = setup(secretsWith({ appSecret: APP_SECRET }));
    const answer = await handshake('hub.mode=subscribe&hub.verify_token=&hub.challenge=1');
    expect(answer.statusCode).toBe(403);
    expect(
      logger
        .at('warn')
        .map((l) => l.message)
        .join(),
    ).toMatch(/no webhookVerifyToken/);
  });
});

describe('POST /v1/inbound/meta: comments become tips', () => {
  it("hands a resident's Page comment over with the post id Herald stored for the alert", async () => {
    const { posts, intake, signed } = setup();
    const { postId } = await postAlertOnPage();
    posts.add(postId);
    const comment = graph.residentComment({
      on: postId,
      name: 'Marta Puig',
      message: 'I saw him at the bus stop',
    });

    const answer = await signed(graph.commentDelivery(comment));

    expect(answer.statusCode).toBe(200);
    expect(MetaWebhookAck.parse(JSON.parse(answer.body ?? ''))).toEqual({ received: 1, ignored: 0 });
    expect(intake.calls).toEqual([
      {
        channel: 'facebook',
        externalId: comment.id,
        inReplyTo: postId,
        author: 'Marta Puig',
        text: 'I saw him at the bus stop',
        at: new Date(comment.createdTime! * 1000).toISOString(),
      },
    ]);
  });

  it('links a reply to the update comment to the post the thread hangs from', async () => {
    const { posts, intake, signed } = setup();
    const { postId, updateId } = await postAlertOnPage();
    posts.add(postId);
    const comment = graph.residentComment({ on: updateId, name: 'Joan', message: 'Where exactly?' });

    await signed(graph.commentDelivery(comment));

    expect(intake.calls.map((c) => c.inReplyTo)).toEqual([postId]);
    expect(intake.tips.size).toBe(1);
  });

  it("skips the Page's own comments (Herald's updates), edits and removals, and acknowledges them", async () => {
    const { posts, intake, signed } = setup();
    const { postId } = await postAlertOnPage();
    posts.add(postId);
    const own = graph.posts.find((p) => p.kind === 'comment')!;
    const resident = graph.residentComment({ on: postId, name: 'Marta', message: 'Typo fixed' });

    const answers = [
      await signed(graph.commentDelivery(own)),
      await signed(graph.commentDelivery(resident, 'edited')),
      await signed(graph.commentDelivery(resident, 'remove')),
    ];

    for (const answer of answers) {
      expect(answer.statusCode).toBe(200);
      expect(JSON.parse(answer.body ?? '')).toEqual({ received: 0, ignored: 1 });
    }
    expect(own.from?.id).toBe(PAGE);
    expect(intake.calls).toEqual([]);
  });

  it('takes a comment delivered twice as one tip: the intake is called twice with the same id', async () => {
    const { posts, intake, signed } = setup();
    const { postId } = await postAlertOnPage();
    posts.add(postId);
    const delivery = graph.commentDelivery(
      graph.residentComment({ on: postId, name: 'Pau', message: 'Seen!' }),
    );

    const first = await signed(delivery);
    const again = await signed(delivery);

    expect([first.statusCode, again.statusCode]).toEqual([200, 200]);
    expect(intake.calls).toHaveLength(2);
    expect(intake.calls[0]!.externalId).toBe(intake.calls[1]!.externalId);
    expect(intake.tips.size).toBe(1);
  });

  it('hands an Instagram comment over with the media id the provider published, @username as author', async () => {
    const { posts, intake, signed } = setup();
    const instagram = createInstagramProvider({
      secrets: secretsWith({}),
      baseUrl: graph.baseUrl,
      sleep: async () => {},
    });
    const published = await instagram.send(
      {
        ...message('Missing child'),
        channel: 'instagram',
        content: {
          channel: 'instagram',
          caption: 'Missing child',
          image: { url: 'https://cdn.example/card.jpg', alt: 'Alert card' },
        },
      },
      new AbortController().signal,
    );
    posts.add(published.providerMessageId);
    const resident = graph.instagramComment({
      mediaId: published.providerMessageId,
      username: 'neighbour.bcn',
      text: 'He was on line 7',
    });
    const own = graph.instagramComment({
      mediaId: published.providerMessageId,
      username: 'agency',
      text: 'Thanks',
      own: true,
    });

    const answer = await signed(graph.instagramDelivery(resident), APP_SECRET);
    const ownAnswer = await signed(graph.instagramDelivery(own));

    expect(JSON.parse(answer.body ?? '')).toEqual({ received: 1, ignored: 0 });
    expect(JSON.parse(ownAnswer.body ?? '')).toEqual({ received: 0, ignored: 1 });
    expect(intake.calls).toMatchObject([
      {
        channel: 'instagram',
        externalId: resident.id,
        inReplyTo: published.providerMessageId,
        author: '@neighbour.bcn',
        text: 'He was on line 7',
      },
    ]);
  });

  it('verifies under the instagram secret’s app secret too, and over a base64 body', async () => {
    const { posts, intake, deliver } = setup(
      secretsWith({ webhookVerifyToken: VERIFY_TOKEN }, { appSecret: 'instagram-app-secret-42' }),
    );
    posts.add('17900000000000999');
    const body = JSON.stringify(
      graph.instagramDelivery(
        graph.instagramComment({ mediaId: '17900000000000999', username: 'a', text: 'hi' }),
      ),
    );

    const answer = await deliver(
      Buffer.from(body).toString('base64'),
      { 'x-hub-signature-256': signMetaWebhook(body, 'instagram-app-secret-42') },
      true,
    );

    expect(answer.statusCode).toBe(200);
    expect(intake.calls).toHaveLength(1);
  });

  it('answers 500 when the intake fails, so Meta delivers again and the comment is not lost', async () => {
    const { posts, intake, signed } = setup();
    const { postId } = await postAlertOnPage();
    posts.add(postId);
    const delivery = graph.commentDelivery(
      graph.residentComment({ on: postId, name: 'Pau', message: 'Seen!' }),
    );
    intake.failNext = true;

    await expect(signed(delivery)).rejects.toThrow(/unreachable/);
    const retried = await signed(delivery);

    expect(retried.statusCode).toBe(200);
    expect(intake.tips.size).toBe(1);
  });
});

describe('POST /v1/inbound/meta: only what Meta signed', () => {
  const body = () =>
    JSON.stringify(
      graph.commentDelivery(
        graph.residentComment({ on: `${PAGE}_1790`, name: 'Eve', message: 'Forged tip' }),
      ),
    );

  it.each([
    [
      'a signature under another secret',
      (b: string) => ({ 'x-hub-signature-256': signMetaWebhook(b, 'not-the-app-secret') }),
    ],
    [
      'a signature of other bytes',
      (b: string) => ({ 'x-hub-signature-256': signMetaWebhook(`${b} `, APP_SECRET) }),
    ],
    ['a SHA-1 signature', () => ({ 'x-hub-signature-256': 'sha1=0a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d' })],
    ['a signature that is not hex', () => ({ 'x-hub-signature-256': `sha256=${'z'.repeat(64)}` })],
  ])('refuses %s with 403 problem+json and hands nothing over', async (_, headers) => {
    const { intake, deliver } = setup();
    const b = body();
    const answer = await deliver(b, headers(b));
    expect(answer.statusCode).toBe(403);
    expect(problemOf(answer).detail).toMatch(/does not match/);
    expect(intake.calls).toEqual([]);
  });

  it('refuses a delivery without X-Hub-Signature-256 with 401 and hands nothing over', async () => {
    const { intake, deliver } = setup();
    const answer = await deliver(body());
    expect(answer.statusCode).toBe(401);
    expect(problemOf(answer).status).toBe(401);
    expect(intake.calls).toEqual([]);
  });

  it('refuses every delivery while no app secret is configured', async () => {
    const { intake, deliver } = setup(secretsWith({ webhookVerifyToken: VERIFY_TOKEN }));
    const b = body();
    const answer = await deliver(b, { 'x-hub-signature-256': signMetaWebhook(b, APP_SECRET) });
    expect(answer.statusCode).toBe(403);
    expect(intake.calls).toEqual([]);
  });

  it('refuses a signed body that is not a Meta webhook object with 400', async () => {
    const { intake, deliver } = setup();
    const b = '{"hello":"world"}';
    const answer = await deliver(b, { 'x-hub-signature-256': signMetaWebhook(b, APP_SECRET) });
    expect(answer.statusCode).toBe(400);
    expect(intake.calls).toEqual([]);
  });
});
