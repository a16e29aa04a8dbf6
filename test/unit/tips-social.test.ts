/**
 * Replies under the agency's posts become tips through the TipIntake the social helpers call: linked to the alert
 * whose post they answer, one tip per reply however often or concurrently it is delivered; and an officer's public
 * answer is queued for the channel's helper, which settles it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { socialAnswersFor, tipIntakeFor } from '../../functions/api/tips';
import type { SocialReply } from '../../functions/ports';
import { apiHarness, draft, OFFICER, settle } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { residentsDeps } from '../helpers/residents';

const open: DynaliteStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

/** An alert posted on X as `x-post-1`, and a resident's reply under that post. */
async function posted() {
  const db = await startDynaliteStore();
  open.push(db);
  const h = apiHarness(db, await residentsDeps(db), '2030-05-01T09:00:00.000Z');
  const alertId = await h.create(draft({ channels: ['x'] }));
  await h.dispatch(alertId, 1);
  await settle(db, { alertId, version: 1, channel: 'x', recipient: '@agency' }, '2030-05-01T09:00:02.000Z', {
    status: 'sent',
    providerMessageId: 'x-post-1',
  });
  const reply: SocialReply = {
    channel: 'x',
    externalId: '1790000000000000001',
    inReplyTo: 'x-post-1',
    author: '@vecina_bcn',
    text: 'I think I saw him by the harbour gate',
    at: '2030-05-01T09:05:00.000Z',
  };
  const list = async () =>
    (await h.call({ method: 'GET', path: '/v1/tips', claims: OFFICER })).body.items as Record<
      string,
      unknown
    >[];
  return { db, h, alertId, reply, intake: tipIntakeFor(h.deps), list };
}

describe('TipIntake.receiveSocialReply', () => {
  it('stores a reply as a tip from its public handle, linked to the alert whose post it answers', async () => {
    // Prepare
    const { alertId, reply, intake, list } = await posted();

    // Act
    const outcome = await intake.receiveSocialReply(reply);

    // Assess
    expect(outcome).toEqual({
      tipId: expect.any(String),
      reference: expect.stringMatching(/^T-/),
      created: true,
    });
    expect(await list()).toEqual([
      expect.objectContaining({
        source: 'x',
        from: '@vecina_bcn',
        alertId,
        text: reply.text,
        replyBy: 'public-reply',
      }),
    ]);
  });

  it('makes one tip of a reply delivered twice, and of one delivered five times at once', async () => {
    // Prepare
    const { reply, intake, list } = await posted();

    // Act
    const concurrent = await Promise.all(Array.from({ length: 5 }, () => intake.receiveSocialReply(reply)));
    const later = await intake.receiveSocialReply(reply);

    // Assess
    const all = [...concurrent, later] as { tipId: string; reference: string; created: boolean }[];
    expect(new Set(all.map((o) => o.tipId)).size).toBe(1);
    expect(new Set(all.map((o) => o.reference)).size).toBe(1);
    expect(all.filter((o) => o.created)).toHaveLength(1);
    expect(later).toMatchObject({ created: false });
    expect(await list()).toHaveLength(1);
  });

  it.each([
    [
      'a reply to a post Herald did not make',
      { inReplyTo: 'someone-elses-post' },
      /not a reply to a post Herald made/,
    ],
    ["the agency's own answer in the conversation", { author: '@Agency' }, /own account/],
    ['a reply with no text', { text: ' \u200B ' }, /no text/],
    ['a channel that is not social', { channel: 'sms' }, /not a social channel/],
    ['a reply without an id', { externalId: '' }, /no usable id/],
  ])('ignores %s, saying why', async (_case, change, reason) => {
    // Prepare
    const { reply, intake, list } = await posted();

    // Act
    const outcome = await intake.receiveSocialReply({ ...reply, ...change } as SocialReply);

    // Assess
    expect(outcome).toEqual({ ignored: expect.stringMatching(reason) });
    expect(await list()).toEqual([]);
  });
});

describe('answering a social tip', () => {
  it('refuses a private answer with 409: an answer on social is public only when the officer says so', async () => {
    // Prepare
    const { h, reply, intake } = await posted();
    const { tipId } = (await intake.receiveSocialReply(reply)) as { tipId: string };

    // Act
    const res = await h.call({
      method: 'POST',
      path: `/v1/tips/${tipId}/replies`,
      body: { text: 'Thank you' },
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/"public": true/);
  });

  it('queues a public answer for the channel helper, which posts it and settles it in the thread', async () => {
    // Prepare
    const { h, alertId, reply, intake } = await posted();
    const { tipId } = (await intake.receiveSocialReply(reply)) as { tipId: string };
    const queue = socialAnswersFor(h.deps);

    // Act
    const res = await h.call({
      method: 'POST',
      path: `/v1/tips/${tipId}/replies`,
      body: { text: 'Thank you, an officer is on the way.', public: true },
      claims: OFFICER,
    });
    const queued = await queue.listQueued('x', 10);
    await queue.settle(queued[0]!, {
      status: 'sent',
      at: '2030-05-01T09:06:00.000Z',
      providerMessageId: 'x-answer-1',
    });
    const after = await h.call({ method: 'GET', path: `/v1/tips/${tipId}`, claims: OFFICER });

    // Assess
    expect(res.status).toBe(201);
    expect((res.body.messages as Record<string, unknown>[]).at(-1)).toMatchObject({
      direction: 'out',
      status: 'queued',
      public: true,
    });
    expect(queued).toEqual([
      expect.objectContaining({
        tipId,
        channel: 'x',
        inReplyTo: reply.externalId,
        postId: 'x-post-1',
        alertId,
        text: 'Thank you, an officer is on the way.',
      }),
    ]);
    expect(await queue.listQueued('x', 10)).toEqual([]);
    expect((after.body.messages as Record<string, unknown>[]).at(-1)).toMatchObject({ status: 'sent' });
  });
});
