/**
 * Scheduled versions end to end through the embedded runtime (real HTTP, handlers, dynalite, durable queues, the
 * publish timer and the sandbox providers): a version scheduled a few seconds ahead is invisible everywhere until its
 * time and goes out once after it; replaced, cancelled, withdrawn or approved before its time; and a timeline of
 * three steps threads on X, on Facebook, and reaches the same SMS audience.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../schemas/alert';
import { DRAFT, settledDeliveries, startTestHerald, type TestHerald } from '../helpers/embedded';

let herald: TestHerald;

beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald?.cleanup();
});

const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface OutboxItem {
  channel: string;
  version: number;
  recipient: string;
  text: string;
  inReplyTo?: string;
  providerMessageId: string;
  at: string;
}

async function outbox(alertId: string, channel?: string): Promise<OutboxItem[]> {
  const res = await herald.call(
    'GET',
    `/v1/sandbox/outbox?alertId=${alertId}${channel ? `&channel=${channel}` : ''}`,
  );
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: OutboxItem[] }).items.sort(
    (a, b) => a.version - b.version || a.at.localeCompare(b.at),
  );
}

async function create(body: Record<string, unknown>) {
  const res = await herald.call('POST', '/v1/alerts', { role: 'officer', body });
  return { res, alert: (await res.json()) as Alert };
}

async function update(alertId: string, ifMatch: number, body: Record<string, unknown>) {
  const res = await herald.call('POST', `/v1/alerts/${alertId}/updates`, {
    role: 'officer',
    body,
    headers: { 'if-match': `"${ifMatch}"` },
  });
  return { res, alert: (await res.json()) as Alert };
}

async function getAlert(alertId: string): Promise<Alert> {
  const res = await herald.call('GET', `/v1/alerts/${alertId}`, { role: 'auditor' });
  expect(res.status).toBe(200);
  return (await res.json()) as Alert;
}

async function publicReads(alertId: string) {
  const feed = (await (await herald.call('GET', '/v1/feed.json')).json()) as { items: { id: string }[] };
  const atom = await (await herald.call('GET', '/v1/feed.atom')).text();
  const cap = await herald.call('GET', `/v1/alerts/${alertId}.cap`);
  return {
    inJsonFeed: feed.items.some((i) => i.id.includes(alertId)),
    inAtom: atom.includes(alertId),
    capStatus: cap.status,
  };
}

describe('Scheduled versions', () => {
  it('keeps a version scheduled 3 s ahead out of every channel, feed and CAP until its time, then sends it once', async () => {
    // Prepare
    const publishAt = inSeconds(3);
    // Act
    const { res, alert } = await create({ ...DRAFT, channels: ['x', 'facebook'], publishAt });
    const listed = await herald.call('GET', '/v1/alerts?state=scheduled', { role: 'officer' });
    const before = await publicReads(alert.id);
    const earlyPosts = await outbox(alert.id);
    // Assess: before its time
    expect(res.status).toBe(201);
    expect(alert.state).toBe('scheduled');
    expect(alert.publishAt).toBe(new Date(publishAt).toISOString());
    expect(alert.sent).toBe(`${new Date(publishAt).toISOString().slice(0, 19)}-00:00`);
    const scheduled = (await listed.json()) as { items: (Alert & { scheduled: { version: number }[] })[] };
    const entry = scheduled.items.find((i) => i.id === alert.id);
    expect(entry?.scheduled.map((s) => s.version)).toEqual([1]);
    expect(before).toEqual({ inJsonFeed: false, inAtom: false, capStatus: 404 });
    expect(earlyPosts).toEqual([]);
    // Assess: after its time, once per channel, not before it
    await settledDeliveries(herald, alert.id, 2, 20_000);
    const posts = await outbox(alert.id);
    expect(posts.map((p) => p.channel).sort()).toEqual(['facebook', 'x']);
    for (const post of posts) expect(Date.parse(post.at)).toBeGreaterThanOrEqual(Date.parse(publishAt));
    expect((await getAlert(alert.id)).state).toBe('sent');
    expect(await publicReads(alert.id)).toEqual({ inJsonFeed: true, inAtom: true, capStatus: 200 });
    await sleep(1_500);
    expect(await outbox(alert.id)).toHaveLength(2);
  });

  it('replaces a scheduled alert by an update before its time: only the replacement goes out', async () => {
    // Prepare
    const { alert } = await create({ ...DRAFT, channels: ['x'], publishAt: inSeconds(2) });
    // Act
    const { res, alert: replaced } = await update(alert.id, 1, { headline: 'Marathon moved to Saturday' });
    // Assess
    expect(res.status).toBe(201);
    expect(replaced.versions.map((v) => v.state)).toEqual([
      'superseded',
      expect.stringMatching(/dispatching|sent/),
    ]);
    expect(replaced.replaces).toEqual([1]);
    await settledDeliveries(herald, alert.id, 1, 20_000);
    await sleep(2_500); // past the original's time: it must not go out then either
    const posts = await outbox(alert.id);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ version: 2 });
    expect(posts[0]?.text).toContain('Marathon moved to Saturday');
  });

  it('reschedules by an update with a time no later than the original, keeping the content it does not change', async () => {
    // Prepare
    const { alert } = await create({ ...DRAFT, channels: ['x'], publishAt: inSeconds(60) });
    // Act
    const { res, alert: moved } = await update(alert.id, 1, { publishAt: inSeconds(2) });
    // Assess
    expect(res.status).toBe(201);
    expect(moved.state).toBe('scheduled');
    expect(moved.headline).toBe(DRAFT.headline);
    await settledDeliveries(herald, alert.id, 1, 20_000);
    expect((await outbox(alert.id)).map((p) => p.version)).toEqual([2]);
  });

  it('sends nothing at all for a schedule cancelled before its time, and keeps it out of the feeds', async () => {
    // Prepare
    const { alert } = await create({ ...DRAFT, channels: ['x', 'facebook'], publishAt: inSeconds(2) });
    // Act
    const cancelled = await herald.call('POST', `/v1/alerts/${alert.id}/cancel`, {
      role: 'officer',
      body: { reason: 'Race called off' },
    });
    await sleep(3_500);
    // Assess
    expect(cancelled.status).toBe(201);
    const body = (await cancelled.json()) as Alert;
    expect(body.state).toBe('cancelled');
    expect(body.versions.map((v) => v.state)).toEqual(['superseded', expect.any(String)]);
    expect(await outbox(alert.id)).toEqual([]);
    expect(await publicReads(alert.id)).toEqual({ inJsonFeed: false, inAtom: false, capStatus: 404 });
    const receipts = await herald.call('GET', `/v1/alerts/${alert.id}/deliveries`, { role: 'auditor' });
    expect(((await receipts.json()) as { deliveries: unknown[] }).deliveries).toEqual([]);
  });

  it('holds a scheduled Extreme alert for approval; approved before its time, it goes out at its time', async () => {
    // Prepare
    const publishAt = inSeconds(3);
    const { alert } = await create({ ...DRAFT, severity: 'Extreme', channels: ['x'], publishAt });
    expect(alert.state).toBe('pending-approval');
    // Act
    const approved = await herald.call('POST', `/v1/alerts/${alert.id}/approve`, { role: 'supervisor' });
    // Assess
    expect(approved.status).toBe(200);
    expect(((await approved.json()) as Alert).state).toBe('scheduled');
    expect(await outbox(alert.id)).toEqual([]);
    await settledDeliveries(herald, alert.id, 1, 20_000);
    const posts = await outbox(alert.id);
    expect(posts).toHaveLength(1);
    expect(Date.parse(posts[0]!.at)).toBeGreaterThanOrEqual(Date.parse(publishAt));
  });

  it('sends a scheduled version approved only after its time at once, and never before approval', async () => {
    // Prepare
    const { alert } = await create({
      ...DRAFT,
      severity: 'Extreme',
      channels: ['x'],
      publishAt: inSeconds(1),
    });
    await sleep(2_000);
    expect(await outbox(alert.id)).toEqual([]);
    // Act
    const approved = await herald.call('POST', `/v1/alerts/${alert.id}/approve`, { role: 'supervisor' });
    // Assess
    expect(approved.status).toBe(200);
    await settledDeliveries(herald, alert.id, 1, 20_000);
    expect(await outbox(alert.id)).toHaveLength(1);
  });

  it('threads a timeline of three steps on X and Facebook and reaches the same SMS audience each time', async () => {
    // Prepare: a resident of the zone, and one who joins after the first step went out
    const early = '+34600111222';
    const late = '+34600333444';
    const joined = await herald.call('POST', '/v1/sandbox/inbound/sms', {
      body: { from: early, body: 'JOIN eixample' },
    });
    expect(joined.status).toBeLessThan(300);
    const timeline = { ...DRAFT, areas: [{ zone: 'eixample' }], channels: ['x', 'facebook', 'sms'] };
    // Act
    const { alert } = await create({
      ...timeline,
      headline: 'Marathon on Sunday: Main Street closed 08:00-14:00',
    });
    await settledDeliveries(herald, alert.id, 3, 20_000);
    await herald.call('POST', '/v1/sandbox/inbound/sms', { body: { from: late, body: 'JOIN eixample' } });
    const second = await update(alert.id, 1, {
      headline: 'Main Street closing now',
      publishAt: inSeconds(2),
    });
    const third = await update(alert.id, 2, { headline: 'Main Street reopened', publishAt: inSeconds(4) });
    // Assess: both steps wait, in order, and the alert stays live meanwhile
    expect(second.res.status).toBe(201);
    expect(third.res.status).toBe(201);
    expect(third.alert.versions.map((v) => v.state)).toEqual([
      expect.stringMatching(/sent|dispatching/),
      'scheduled',
      'scheduled',
    ]);
    expect(third.alert.state).toMatch(/sent|dispatching/);
    expect(third.alert.nextPublishAt).toBeDefined();
    await settledDeliveries(herald, alert.id, 9, 30_000);
    for (const channel of ['x', 'facebook']) {
      const posts = await outbox(alert.id, channel);
      expect(posts.map((p) => p.version)).toEqual([1, 2, 3]);
      expect(posts[1]?.inReplyTo).toBe(posts[0]?.providerMessageId);
      expect(posts[2]?.inReplyTo).toBe(posts[1]?.providerMessageId);
    }
    const texts = await outbox(alert.id, 'sms');
    expect(texts.map((t) => t.version)).toEqual([1, 2, 3]);
    expect(new Set(texts.map((t) => t.recipient)).size).toBe(1);
    expect(texts[2]?.text).toContain('Main Street reopened');
  });

  it('withdraws a waiting step: it never goes out, the next one still does, and it stays on record', async () => {
    // Prepare
    const { alert } = await create({ ...DRAFT, channels: ['x'] });
    await settledDeliveries(herald, alert.id, 1, 20_000);
    await update(alert.id, 1, { headline: 'Closing now', publishAt: inSeconds(2) });
    await update(alert.id, 2, { headline: 'Reopened', publishAt: inSeconds(3) });
    // Act
    const withdrawn = await herald.call('DELETE', `/v1/alerts/${alert.id}/versions/2`, { role: 'officer' });
    const again = await herald.call('DELETE', `/v1/alerts/${alert.id}/versions/2`, { role: 'officer' });
    const sentOne = await herald.call('DELETE', `/v1/alerts/${alert.id}/versions/1`, { role: 'officer' });
    // Assess
    expect(withdrawn.status).toBe(200);
    expect(((await withdrawn.json()) as Alert).versions.map((v) => v.state)).toEqual([
      expect.any(String),
      'withdrawn',
      'scheduled',
    ]);
    expect(again.status).toBe(409);
    expect(sentOne.status).toBe(409);
    await settledDeliveries(herald, alert.id, 2, 20_000);
    const posts = await outbox(alert.id);
    expect(posts.map((p) => p.version)).toEqual([1, 3]);
    expect(posts[1]?.inReplyTo).toBe(posts[0]?.providerMessageId);
    const v2 = await herald.call('GET', `/v1/alerts/${alert.id}/versions/2`, { role: 'auditor' });
    expect(((await v2.json()) as { state: string }).state).toBe('withdrawn');
  });

  it('refuses a publishAt in the past or more than 90 days ahead, naming the field, and stores nothing', async () => {
    // Act
    const past = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      body: { ...DRAFT, publishAt: inSeconds(-3600) },
    });
    const far = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      body: { ...DRAFT, publishAt: inSeconds(91 * 24 * 3600) },
    });
    const noOffset = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      body: { ...DRAFT, publishAt: '2030-01-01T08:00:00' },
    });
    // Assess
    for (const res of [past, far, noOffset]) {
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      const problem = (await res.json()) as { errors: { path: string }[] };
      expect(problem.errors.map((e) => e.path)).toContain('/publishAt');
    }
  });
});
