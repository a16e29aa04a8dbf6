/**
 * Reading residents' replies under the agency's Bluesky posts (functions/channels/bluesky/replies.ts) from a local
 * AppView over real HTTP: the posts are made by the real client, the replies by residents in the fake, and each
 * reply must come back tied to the providerMessageId the client returned for the post it answers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBlueskyClient } from '../../functions/channels/bluesky/client';
import { createBlueskyReplyReader } from '../../functions/channels/bluesky/replies';
import { RateLimitedError } from '../../functions/replies/model';
import { BlueskyApiFake, rateLimited, xrpcError } from '../fakes/bluesky-api';

const ACCOUNT = {
  handle: 'agency.bsky.social',
  did: 'did:plc:agencybbbbbbbbbbbbbbbbbb',
  appPassword: 'pass-word-1234',
};

describe('Bluesky replies reader against a local AppView', () => {
  let fake: BlueskyApiFake;
  const signal = () => AbortSignal.timeout(5_000);
  const uriOf = (id: string) => id.split('|')[0]!;

  beforeAll(async () => {
    fake = await BlueskyApiFake.start(ACCOUNT);
  });
  afterAll(async () => {
    await fake.close();
  });
  afterEach(() => {
    fake.requests.length = 0;
  });

  /** An alert and its update, posted by the real client: the thread residents reply in. */
  async function thread(alertId: string) {
    const client = createBlueskyClient({
      secrets: { get: async () => ({ identifier: ACCOUNT.handle, appPassword: ACCOUNT.appPassword }) },
      baseUrl: fake.baseUrl,
      sessions: new Map(),
    });
    const base = { alertId, test: false, link: undefined };
    const first = await client.post(
      { ...base, version: 1, text: `Gas leak near the market (${alertId})`, idempotencyKey: `${alertId}:1` },
      signal(),
    );
    const update = await client.post(
      {
        ...base,
        version: 2,
        text: `UPDATE: the gas leak is contained (${alertId})`,
        idempotencyKey: `${alertId}:2`,
        inReplyTo: first.providerMessageId,
      },
      signal(),
    );
    return { first: first.providerMessageId, update: update.providerMessageId };
  }

  it('finds the replies of residents at any depth, each tied to the agency post above it, and not the agency posts', async () => {
    // Prepare
    const { first, update } = await thread('01REPLIES1');
    const onFirst = fake.residentReply(
      uriOf(first),
      'I smell gas on the north side too',
      'resident-one.bsky.social',
    );
    const onReply = fake.residentReply(onFirst.uri, 'Same here, near the school', 'resident-two.bsky.social');
    const onUpdate = fake.residentReply(
      uriOf(update),
      'Is the road open again?',
      'resident-three.bsky.social',
    );
    fake.requests.length = 0;
    const reader = createBlueskyReplyReader({ baseUrl: fake.baseUrl });

    // Act
    const read = await reader.repliesTo(first, signal());

    // Assess
    expect(read.gone).toBe(false);
    // In the order the AppView ranks them, which is not the test's concern.
    const found = read.replies.map((r) => [r.externalId, r.inReplyTo, r.author, r.text]);
    expect(found.sort((a, b) => a[3]!.localeCompare(b[3]!))).toEqual([
      [onFirst.uri, first, '@resident-one.bsky.social', 'I smell gas on the north side too'],
      [onUpdate.uri, update, '@resident-three.bsky.social', 'Is the road open again?'],
      [onReply.uri, first, '@resident-two.bsky.social', 'Same here, near the school'],
    ]);
    expect(read.replies.every((r) => r.authorDid !== ACCOUNT.did && r.at.length > 0)).toBe(true);
    const [request] = fake.requests;
    expect(fake.requests).toHaveLength(1);
    expect(request).toMatchObject({
      nsid: 'app.bsky.feed.getPostThread',
      query: { uri: uriOf(first), depth: '10', parentHeight: '0' },
    });
    expect(request!.headers.authorization).toBeUndefined();
  });

  it('reads only below the post it is given, and to the depth it is given', async () => {
    const { first, update } = await thread('01REPLIES2');
    fake.residentReply(uriOf(first), 'Which market?', 'resident-four.bsky.social');
    const deep = fake.residentReply(uriOf(update), 'Thanks for the update', 'resident-five.bsky.social');

    const fromUpdate = await createBlueskyReplyReader({ baseUrl: fake.baseUrl }).repliesTo(update, signal());
    const shallow = await createBlueskyReplyReader({ baseUrl: fake.baseUrl, depth: 1 }).repliesTo(
      first,
      signal(),
    );

    expect(fromUpdate.replies.map((r) => r.externalId)).toEqual([deep.uri]);
    // One level down from the first post: its direct replies (a resident's and the update), not the update's.
    expect(shallow.replies.map((r) => r.author)).toEqual(['@resident-four.bsky.social']);
  });

  it('answers gone, with no replies, for a post the AppView cannot find', async () => {
    const id = `at://${ACCOUNT.did}/app.bsky.feed.post/3kaaaaaaaaaaa|bafyreiaaaa`;

    const read = await createBlueskyReplyReader({ baseUrl: fake.baseUrl }).repliesTo(id, signal());

    expect(read).toEqual({ replies: [], gone: true });
  });

  it('on 429 throws RateLimitedError with the ratelimit-reset the AppView names', async () => {
    const { first } = await thread('01REPLIES3');
    fake.answerNext(1, rateLimited(1_900_000_300, 3000, 300), { nsid: 'app.bsky.feed.getPostThread' });

    const error = await createBlueskyReplyReader({ baseUrl: fake.baseUrl })
      .repliesTo(first, signal())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).resetAt).toBe(1_900_000_300_000);
  });

  it('on 429 without a reset waits out a 5-minute window', async () => {
    const { first } = await thread('01REPLIES4');
    const now = new Date('2030-01-01T00:00:00.000Z');
    fake.answerNext(1, { status: 429, body: xrpcError('RateLimitExceeded', 'Rate Limit Exceeded') });

    const error = await createBlueskyReplyReader({ baseUrl: fake.baseUrl, clock: { now: () => now } })
      .repliesTo(first, signal())
      .catch((e: unknown) => e);

    expect((error as RateLimitedError).resetAt).toBe(now.getTime() + 300_000);
  });

  it('on another failure throws with the XRPC error, and refuses an id that is not a Bluesky post', async () => {
    const { first } = await thread('01REPLIES5');
    fake.answerNext(1, { status: 502, body: xrpcError('UpstreamFailure', 'Upstream Failure') });
    const reader = createBlueskyReplyReader({ baseUrl: fake.baseUrl });

    await expect(reader.repliesTo(first, signal())).rejects.toThrow(
      'Bluesky getPostThread 502 UpstreamFailure: Upstream Failure',
    );
    await expect(reader.repliesTo('1799999999999999999', signal())).rejects.toThrow(/not a Bluesky post id/);
  });
});
