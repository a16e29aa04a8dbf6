/**
 * GET /v1/alerts/{id}/impact on a real embedded Herald (dynalite, the real router, the dispatcher's jobs, the channel
 * senders, the sandbox providers and their outbox): an alert to 2,000 residents (1,500 by SMS, ten of them in their
 * quiet hours, and 500 by email) and three social channels. Every figure is counted again here, independently, from
 * the table's own items and the outbox, and must match exactly. Clicks go through each channel's own link as the
 * messages carry it, page views through the page's image; neither sets a cookie, and the table holds neither the
 * address nor the user agent of any request. Opt-outs are counted within 24 hours of the first send only (the handlers
 * run on a shifted clock the test moves).
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSmsSubscribers, makeSubscribers, seedSubscribers } from '../../bench/seed-subscribers';
import { DynamoEngagementStore } from '../../functions/adapters/dynamo/engagement-store';
import { CHANNEL } from '../../functions/channels/list';
import type { Receipt } from '../../functions/core/model';
import type { Clock } from '../../functions/ports';
import { newId } from '../../functions/shared/ids';
import type { Channel } from '../../schemas/alert';
import { ImpactView } from '../../schemas/impact';
import { DRAFT, startTestHerald, type TestHerald, waitFor } from '../helpers/embedded';

/** Real time, shifted: the handlers live on the test's day, and time still passes for leases and timers. */
class ShiftedClock implements Clock {
  private offsetMs: number;
  constructor(startIso: string) {
    this.offsetMs = Date.parse(startIso) - Date.now();
  }
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  jumpTo(iso: string): void {
    this.offsetMs = Date.parse(iso) - Date.now();
  }
}

const T0 = '2030-05-06T09:00:00.000Z';
const HOURS = 3_600_000;
const ZONE = 'impact-zone';
const SMS_RESIDENTS = 1_500;
const EMAIL_RESIDENTS = 500;
/** The first ten SMS residents are asleep until 10:00 (the agency's clock is UTC here). */
const ASLEEP = 10;
const SOCIAL: Channel[] = ['x', 'facebook', 'mastodon'];
const CHANNELS: Channel[] = [...SOCIAL, 'sms', 'email'];
const phoneOf = (i: number) => `+3461${String(i).padStart(7, '0')}`;
/** What a reader's browser would send, which must end up nowhere in the table. */
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) ImpactTestBrowser/7.3.1-marker';
const FORWARDED_FOR = '203.0.113.197';

let herald: TestHerald;
let clock: ShiftedClock;
let alertId: string;
let otherAlertId: string;

async function post(path: string, body: unknown) {
  const res = await herald.call('POST', path, {
    role: 'officer',
    body,
    headers: { 'idempotency-key': newId() },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json()) as { id: string };
}

async function rawItems(pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await herald.table.client.send(
      new QueryCommand({
        TableName: herald.table.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function impactOf(id: string, role: 'officer' | 'supervisor' | 'auditor' = 'auditor') {
  const res = await herald.call('GET', `/v1/alerts/${id}/impact`, { role });
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  return ImpactView.parse(await res.json());
}

/** A reader's request to the site, as a browser sends it; never a cookie back. */
async function browse(path: string) {
  const res = await fetch(`${herald.url}${path}`, {
    redirect: 'manual',
    headers: { 'user-agent': USER_AGENT, 'x-forwarded-for': FORWARDED_FOR },
  });
  expect(res.headers.get('set-cookie'), path).toBeNull();
  return res;
}

/** A click on a link a message carried, then the page it leads to and the page's image, as a browser loads them. */
async function clickAndRead(link: string): Promise<void> {
  const click = await browse(new URL(link).pathname);
  expect(click.status).toBe(302);
  expect(click.headers.get('cache-control')).toContain('no-store');
  const location = new URL(click.headers.get('location')!);
  const page = await browse(`${location.pathname}${location.search}`);
  expect(page.status).toBe(200);
  const html = await page.text();
  const image = /<img class="seen" src="([^"]+)"/.exec(html)?.[1];
  expect(image, 'the page carries its view image').toBeDefined();
  const seen = await browse(image!);
  expect(seen.status).toBe(200);
  expect(seen.headers.get('content-type')).toBe('image/gif');
  expect(seen.headers.get('cache-control')).toContain('no-store');
}

beforeAll(async () => {
  clock = new ShiftedClock(T0);
  herald = await startTestHerald({
    clock,
    // Room for a sender's batch on two busy cores: a timed-out batch is retried, which only slows the test.
    functionTimeoutSeconds: 30,
    env: { HERALD_SMS_MPS: '100000', HERALD_SMS_SENDER_CONCURRENCY: '4', HERALD_TIME_ZONE: 'UTC' },
  });
  const sms = await makeSmsSubscribers(herald.pii, {
    count: SMS_RESIDENTS,
    zones: [ZONE],
    quietHoursOf: (i) => (i < ASLEEP ? { from: '08:00', to: '10:00' } : undefined),
  });
  const email = await makeSubscribers(herald.pii, {
    channel: 'email',
    count: EMAIL_RESIDENTS,
    zones: [ZONE],
    addressOf: (i) => `resident-${i}@example.org`,
  });
  // Someone who never got the alert (another zone), whose STOP must not count against it.
  const elsewhere = await makeSmsSubscribers(herald.pii, {
    count: 1,
    zones: ['elsewhere'],
    firstNumber: 900_000,
  });
  await seedSubscribers(herald.table, [...sms, ...email, ...elsewhere]);

  ({ id: alertId } = await post('/v1/alerts', {
    ...DRAFT,
    areas: [{ zone: ZONE, areaDesc: 'Impact zone' }],
    channels: CHANNELS,
    web: undefined,
  }));
  ({ id: otherAlertId } = await post('/v1/alerts', { ...DRAFT, channels: ['x'] }));
  // Everyone but the ten asleep, who wait for 10:00.
  await waitFor(
    async () => {
      const counts = await herald.store.countReceipts(alertId, {});
      const of = (status: string) =>
        counts.filter((c) => c.status === status).reduce((n, c) => n + c.count, 0);
      return of('sent') === SOCIAL.length + SMS_RESIDENTS + EMAIL_RESIDENTS - ASLEEP &&
        of('deferred') === ASLEEP
        ? true
        : undefined;
    },
    90_000,
    'the fan-out, but for those asleep',
  );
  // 11:00: the sleepers' messages are released, and three residents who got it STOP.
  clock.jumpTo(new Date(Date.parse(T0) + 2 * HOURS).toISOString());
  for (const from of [phoneOf(20), phoneOf(21), phoneOf(22), phoneOf(900_000)])
    expect(
      (await herald.call('POST', '/v1/sandbox/inbound/sms', { body: { from, body: 'STOP' } })).status,
    ).toBe(200);
  await waitFor(
    async () => {
      const counts = await herald.store.countReceipts(alertId, {});
      const sent = counts.filter((c) => c.status === 'sent').reduce((n, c) => n + c.count, 0);
      return sent === SOCIAL.length + SMS_RESIDENTS + EMAIL_RESIDENTS ? true : undefined;
    },
    60_000,
    'the sleepers released at the end of their quiet hours',
  );
  // The next day, past the 24 hours: this STOP is not the alert's.
  clock.jumpTo(new Date(Date.parse(T0) + 25 * HOURS).toISOString());
  expect(
    (await herald.call('POST', '/v1/sandbox/inbound/sms', { body: { from: phoneOf(23), body: 'STOP' } }))
      .status,
  ).toBe(200);
}, 240_000);

afterAll(async () => {
  await herald?.cleanup();
});

describe('the impact of an alert to 2,000 residents and three social channels', () => {
  it('matches the receipts and the outbox exactly, counted here on their own', async () => {
    // Arrange: the receipts' own items and the outbox.
    const receipts = (await rawItems(`RCPT#${alertId}`)) as unknown as Receipt[];
    const deferrals = (await rawItems(`DEFER#${alertId}`)).filter((d) => !String(d.SK).startsWith('EARLY#'));

    // Act
    const impact = await impactOf(alertId);

    // Assert
    expect(Object.keys(impact.channels).sort()).toEqual([...CHANNELS].sort());
    for (const channel of CHANNELS) {
      const mine = receipts.filter((r) => r.channel === channel);
      const sentTimes = mine
        .map((r) => r.history.find((e) => e.status === 'sent')?.at)
        .filter((at): at is string => at !== undefined)
        .sort();
      const outbox = await herald.store.list({ channel, alertId, limit: 5_000 });
      const figures = impact.channels[channel]!;
      expect(figures.recipients, channel).toBe(new Set(mine.map((r) => r.recipient)).size);
      expect(figures.sent, channel).toBe(sentTimes.length);
      expect(figures.sent, `${channel}: one outbox item per message sent`).toBe(outbox.total);
      expect(figures.delivered, channel).toBe(mine.filter((r) => r.status === 'delivered').length);
      expect(figures.failed, channel).toBe(mine.filter((r) => r.status === 'failed').length);
      expect(figures.deferred, channel).toBe(
        mine.filter((r) => r.history.some((e) => e.status === 'deferred')).length,
      );
      expect(figures.firstSentAt, channel).toBe(sentTimes[0]);
      expect(figures.lastSentAt, channel).toBe(sentTimes.at(-1));
      // The timeline climbs to the channel's sent, never down, and each point is exact at its instant.
      const points = impact.timeline.filter((p) => p.channel === channel);
      expect(points.at(-1)?.sent, channel).toBe(sentTimes.length);
      for (const p of points)
        expect(p.sent, `${channel} ${p.at}`).toBe(sentTimes.filter((at) => at <= p.at).length);
    }
    expect(impact.channels.sms).toMatchObject({
      recipients: SMS_RESIDENTS,
      sent: SMS_RESIDENTS,
      deferred: ASLEEP,
    });
    expect(impact.channels.email).toMatchObject({
      recipients: EMAIL_RESIDENTS,
      sent: EMAIL_RESIDENTS,
      deferred: 0,
    });
    for (const channel of SOCIAL) expect(impact.channels[channel]).toMatchObject({ recipients: 1, sent: 1 });
    // The deferrals' own items list the same sleepers.
    const deferredIds = new Set(deferrals.flatMap((d) => [...(d.recipients as Set<string>)]));
    expect(deferredIds.size).toBe(ASLEEP);
    const timelineTimes = impact.timeline.map((p) => p.at);
    expect(timelineTimes).toEqual([...timelineTimes].sort());
  });

  it("reads the SMS timeline against the preview's estimate, worked out for the recipients the alert really had", async () => {
    // Arrange: what the preview says of the same draft, for its segments (the roster has changed since: STOPs).
    const preview = await herald.call('POST', '/v1/alerts/preview', {
      role: 'officer',
      body: { ...DRAFT, areas: [{ zone: ZONE, areaDesc: 'Impact zone' }], channels: ['sms'], web: undefined },
    });
    expect(preview.status).toBe(200);
    const { segments, reach } = (
      (await preview.json()) as {
        channels: { sms: { segments: number; reach: { messagesPerSecond: number } } };
      }
    ).channels.sms;

    // Act
    const impact = await impactOf(alertId);

    // Assert
    const sms = impact.channels.sms!;
    expect(impact.estimate).toEqual({
      channel: 'sms',
      from: sms.firstSentAt,
      recipients: SMS_RESIDENTS,
      segments,
      messagesPerSecond: reach.messagesPerSecond,
      secondsToLastRecipient: Math.round(((SMS_RESIDENTS * segments) / reach.messagesPerSecond) * 10) / 10,
    });
    // An alert with no SMS has nothing to be read against.
    expect((await impactOf(otherAlertId)).estimate).toBeUndefined();
  });

  it("gives each channel's messages a link of their own, short, that counts its clicks and page views, with no cookie and nothing of the reader kept", async () => {
    // Arrange: the links as the messages carry them.
    const linkOf = async (channel: Channel) => {
      const { items } = await herald.store.list({ channel, alertId, limit: 5_000 });
      const links = new Set(
        items.flatMap((item) => item.text.match(/\S+\/a\/[0-9A-Z]{26}\/[a-z]{1,2}\b/g) ?? []),
      );
      expect([...links], `${channel}: every message carries the same link`).toHaveLength(1);
      return [...links][0]!;
    };
    const links = Object.fromEntries(
      await Promise.all(CHANNELS.map(async (c) => [c, await linkOf(c)] as const)),
    ) as Record<Channel, string>;
    for (const channel of CHANNELS)
      expect(links[channel]).toBe(`${herald.config.publicBaseUrl}/a/${alertId}/${CHANNEL[channel].linkCode}`);
    const before = await impactOf(alertId);
    const clicks: Partial<Record<Channel, number>> = { sms: 3, email: 2, x: 1, facebook: 1 };

    // Act: readers click and read the page; two more come to the page directly; a robot and a mistyped code do not count.
    for (const [channel, times] of Object.entries(clicks) as [Channel, number][])
      for (let i = 0; i < times; i++) await clickAndRead(links[channel]);
    for (let i = 0; i < 2; i++) {
      const page = await browse(`/alerts/${alertId}`);
      const image = /<img class="seen" src="([^"]+)"/.exec(await page.text())![1]!;
      expect(image).toBe(`/alerts/${alertId}/seen.gif`);
      expect((await browse(image)).status).toBe(200);
    }
    const robot = await fetch(`${herald.url}/a/${alertId}/s`, {
      redirect: 'manual',
      headers: { 'user-agent': 'Twitterbot/1.0' },
    });
    expect(robot.status).toBe(302);
    const mistyped = await browse(`/a/${alertId}/zz`);
    expect(mistyped.status).toBe(302);
    expect(mistyped.headers.get('location')).toBe(`${herald.config.publicBaseUrl}/alerts/${alertId}`);
    expect((await browse(`/a/${newId()}/s`)).status).toBe(404);
    expect((await browse(`/alerts/${newId()}/seen.gif`)).status).toBe(404);

    // Assert
    const after = await impactOf(alertId);
    for (const channel of CHANNELS) {
      expect(after.channels[channel]!.clicks - before.channels[channel]!.clicks, channel).toBe(
        clicks[channel] ?? 0,
      );
      expect(after.channels[channel]!.pageViews - before.channels[channel]!.pageViews, channel).toBe(
        clicks[channel] ?? 0,
      );
    }
    expect(after.directPageViews - before.directPageViews).toBe(2);
    expect(after.pageViews - before.pageViews).toBe(7 + 2);
    // Nowhere in the table: not the address the requests came from, not their user agent.
    let start: Record<string, unknown> | undefined;
    let scanned = 0;
    do {
      const page = await herald.table.client.send(
        new ScanCommand({ TableName: herald.table.tableName, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) {
        const text = JSON.stringify(item, (_k, v) => (v instanceof Set ? [...v] : v));
        for (const trace of ['127.0.0.1', FORWARDED_FOR, USER_AGENT, 'ImpactTestBrowser', 'Twitterbot'])
          expect(text.includes(trace), `${trace} in ${String(item.PK)}`).toBe(false);
        scanned++;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    expect(scanned).toBeGreaterThan(SMS_RESIDENTS + EMAIL_RESIDENTS);
    // A counter holds its key and its count, nothing more.
    for (const counter of [...(await rawItems(`CLICKS#${alertId}`)), ...(await rawItems(`VIEWS#${alertId}`))])
      expect(Object.keys(counter).sort()).toEqual(['PK', 'SK', 'count']);
  });

  it("sends a click on an alert with the officer's own link there, and only there", async () => {
    const { items } = await herald.store.list({ channel: 'x', alertId: otherAlertId, limit: 10 });
    const link = items[0]!.text.match(/\S+\/a\/[0-9A-Z]{26}\/x\b/)![0];
    const click = await browse(new URL(link).pathname);
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe(DRAFT.web);
    expect((await impactOf(otherAlertId)).channels.x!.clicks).toBe(1);
  });

  it('counts the STOPs of those it reached within 24 hours of its first send, and the tips about it', async () => {
    // Arrange
    for (const [text, id] of [
      ['I saw the runner at the corner', alertId],
      ['The street is open again', alertId],
      ['Another alert altogether', otherAlertId],
    ] as const)
      expect((await herald.call('POST', '/v1/tips', { body: { text, alertId: id } })).status).toBe(202);

    // Act
    const impact = await impactOf(alertId);

    // Assert: residents 20, 21 and 22; not the one in another zone, nor resident 23 a day later.
    expect(impact.optOutsWithin24h).toBe(3);
    expect(impact.tips).toBe(2);
    expect((await impactOf(otherAlertId)).tips).toBe(1);
  });

  it("shows each network's engagement as the engagement poller stored it, and none where it read nothing", async () => {
    // Arrange: the poller's reading of the X post (the receipt's provider id), as engagement-store.ts keeps it.
    const receipts = (await rawItems(`RCPT#${alertId}`)) as unknown as Receipt[];
    const post = receipts.find((r) => r.channel === 'x')!;
    await new DynamoEngagementStore(herald.table).put({
      alertId,
      channel: 'x',
      postId: post.providerMessageId!,
      sentAt: post.history.find((e) => e.status === 'sent')!.at,
      polledAt: clock.now().toISOString(),
      counts: { impressions: 1_250, reposts: 14, replies: 3, likes: 41 },
    });

    // Act
    const impact = await impactOf(alertId);

    // Assert
    expect(impact.channels.x!.engagement).toEqual({ impressions: 1_250, reposts: 14, replies: 3, likes: 41 });
    expect(impact.channels.mastodon!.engagement).toBeUndefined();
    expect(impact.channels.sms!.engagement).toBeUndefined();
  });

  it('answers every role the same figures, nobody without a token, and 404 for an alert that does not exist', async () => {
    const [officer, supervisor, auditor] = await Promise.all(
      (['officer', 'supervisor', 'auditor'] as const).map((role) => impactOf(otherAlertId, role)),
    );
    expect(supervisor).toEqual(officer);
    expect(auditor).toEqual(officer);
    expect((await herald.call('GET', `/v1/alerts/${otherAlertId}/impact`)).status).toBe(401);
    expect((await herald.call('GET', `/v1/alerts/${newId()}/impact`, { role: 'auditor' })).status).toBe(404);
  });
});
