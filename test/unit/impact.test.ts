/**
 * The impact figures (functions/core/impact.ts) from receipts written by hand, and the channel links
 * (functions/core/links.ts) as the renderers and the preview carry them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PREVIEW_ALERT_ID } from '../../functions/api/preview';
import { CHANNEL_LIST, CHANNELS } from '../../functions/channels/list';
import { rendererOf } from '../../functions/channels/renderers';
import { newAlert } from '../../functions/core/alerts';
import {
  computeImpact,
  type ImpactInputs,
  type ImpactReceipt,
  optOutWindow,
  sentAtOf,
} from '../../functions/core/impact';
import {
  CHANNEL_BY_LINK_CODE,
  channelLink,
  channelOfLinkCode,
  LINK_CODES,
  utcDay,
} from '../../functions/core/links';
import { AlertDraft, type Channel } from '../../schemas/alert';
import type { DeliveryStatus } from '../../schemas/delivery';
import { apiHarness, draft, OFFICER } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

const ALERT = '01JQ3ZB6V4TQ9Y8X7W6V5T4S3R';

/** A receipt that went through `steps`, each [status, at]. */
function receipt(
  channel: Channel,
  recipient: string,
  steps: [DeliveryStatus, string][],
  version = 1,
): ImpactReceipt {
  return {
    channel,
    recipient,
    version,
    status: steps.at(-1)![0],
    history: steps.map(([status, at], i) => ({ status, at, actor: 'test', attempt: i })),
  };
}

const none: Omit<ImpactInputs, 'channels' | 'receipts'> = {
  alertId: ALERT,
  clicks: [],
  views: [],
  tips: 0,
  optOuts: [],
  engagement: {},
};

describe('the impact figures', () => {
  it('counts recipients once over versions, and messages per version, by what each receipt went through', () => {
    const receipts = [
      receipt('sms', 'sub-1', [
        ['queued', '2030-01-01T10:00:00.000Z'],
        ['sent', '2030-01-01T10:00:01.100Z'],
      ]),
      receipt('sms', 'sub-1', [['sent', '2030-01-01T11:00:00.000Z']], 2),
      receipt('sms', 'sub-2', [
        ['deferred', '2030-01-01T10:00:00.500Z'],
        ['sent', '2030-01-01T12:00:00.000Z'],
        ['delivered', '2030-01-01T12:00:03.000Z'],
      ]),
      receipt('sms', 'sub-3', [
        ['retrying', '2030-01-01T10:00:01.000Z'],
        ['failed', '2030-01-01T10:00:02.000Z'],
      ]),
      receipt('sms', 'sub-4', [
        ['sent', '2030-01-01T10:00:01.900Z'],
        ['failed', '2030-01-01T10:05:00.000Z'],
      ]),
      receipt('sms', 'sub-5', [
        ['deferred', '2030-01-01T10:00:00.500Z'],
        ['superseded', '2030-01-01T11:00:00.000Z'],
      ]),
      receipt('x', '@agency', [['sent', '2030-01-01T10:00:00.300Z']]),
    ];

    const impact = computeImpact({ ...none, channels: ['x', 'sms', 'email'], receipts });

    expect(impact.channels.sms).toEqual({
      recipients: 5,
      sent: 4,
      delivered: 1,
      // A bounce after sending and a failure before it are both failed; only the first was ever sent.
      failed: 2,
      deferred: 2,
      firstSentAt: '2030-01-01T10:00:01.100Z',
      lastSentAt: '2030-01-01T12:00:00.000Z',
      clicks: 0,
      pageViews: 0,
    });
    expect(impact.channels.x).toMatchObject({
      recipients: 1,
      sent: 1,
      firstSentAt: '2030-01-01T10:00:00.300Z',
    });
    // A channel the alert names that has no receipt yet shows zeros, not nothing.
    expect(impact.channels.email).toEqual({
      recipients: 0,
      sent: 0,
      delivered: 0,
      failed: 0,
      deferred: 0,
      clicks: 0,
      pageViews: 0,
    });
  });

  it('draws a cumulative timeline, one point per second with messages, exact at its instant', () => {
    const at = (s: string) => `2030-01-01T10:00:${s}Z`;
    const receipts = [
      receipt('sms', 'a', [['sent', at('01.100')]]),
      receipt('sms', 'b', [['sent', at('01.900')]]),
      receipt('sms', 'c', [['sent', at('03.000')]]),
      receipt('x', '@agency', [['sent', at('01.500')]]),
      receipt('sms', 'd', [['failed', at('02.000')]]),
    ];

    const { timeline } = computeImpact({ ...none, channels: ['x', 'sms'], receipts });

    expect(timeline).toEqual([
      { at: at('01.500'), channel: 'x', sent: 1 },
      { at: at('01.900'), channel: 'sms', sent: 2 },
      { at: at('03.000'), channel: 'sms', sent: 3 },
    ]);
  });

  it('sums the days of clicks and views per channel, and tells direct views apart', () => {
    const impact = computeImpact({
      ...none,
      channels: ['sms', 'x'],
      receipts: [],
      clicks: [
        { what: 'sms', count: 3 },
        { what: 'sms', count: 2 },
        { what: 'x', count: 1 },
      ],
      views: [
        { what: 'sms', count: 4 },
        { what: 'direct', count: 6 },
        { what: 'facebook', count: 1 },
      ],
      tips: 7,
      engagement: { x: { impressions: 1200, likes: 4 } },
    });

    expect(impact.channels.sms).toMatchObject({ clicks: 5, pageViews: 4 });
    expect(impact.channels.x).toMatchObject({
      clicks: 1,
      pageViews: 0,
      engagement: { impressions: 1200, likes: 4 },
    });
    expect(impact.channels.sms!.engagement).toBeUndefined();
    expect(impact).toMatchObject({ pageViews: 11, directPageViews: 6, tips: 7 });
  });

  it('counts the opt-outs of residents it was sent to, once each, within 24 hours of the first send', () => {
    const first = '2030-01-01T10:00:00.000Z';
    const receipts = [
      receipt('x', '@agency', [['sent', first]]),
      receipt('sms', 'sub-1', [['sent', '2030-01-01T10:00:05.000Z']]),
      receipt('sms', 'sub-2', [['sent', '2030-01-01T10:00:05.000Z']]),
      receipt('email', 'sub-3', [['sent', '2030-01-01T10:00:06.000Z']]),
      receipt('sms', 'sub-4', [['failed', '2030-01-01T10:00:06.000Z']]),
      receipt('sms', 'sub-5', [['sent', '2030-01-01T10:00:06.000Z']]),
    ];
    const window = optOutWindow(receipts)!;

    const impact = computeImpact({
      ...none,
      channels: ['x', 'sms', 'email'],
      receipts,
      optOuts: [
        { subscriberId: 'sub-1', at: '2030-01-01T10:30:00.000Z' },
        { subscriberId: 'sub-1', at: '2030-01-01T11:30:00.000Z' },
        { subscriberId: 'sub-3', at: '2030-01-02T10:00:00.000Z' },
        // Never sent it (failed), never a recipient, too early, a day too late:
        { subscriberId: 'sub-4', at: '2030-01-01T10:30:00.000Z' },
        { subscriberId: 'stranger', at: '2030-01-01T10:30:00.000Z' },
        { subscriberId: 'sub-2', at: '2030-01-01T09:59:59.999Z' },
        { subscriberId: 'sub-5', at: '2030-01-02T10:00:00.001Z' },
      ],
    });

    expect(window).toEqual({ from: first, to: '2030-01-02T10:00:00.000Z' });
    expect(impact.optOutsWithin24h).toBe(2);
    expect(optOutWindow([receipt('sms', 'a', [['queued', first]])])).toBeUndefined();
  });

  it('takes the first send from a delivered event when the sent one is missing', () => {
    expect(sentAtOf(receipt('sms', 'a', [['delivered', '2030-01-01T10:00:00.000Z']]))).toBe(
      '2030-01-01T10:00:00.000Z',
    );
    expect(sentAtOf(receipt('sms', 'a', [['unknown', '2030-01-01T10:00:00.000Z']]))).toBeUndefined();
  });
});

describe('the channel links', () => {
  it('gives every channel a code of one or two letters of its own', () => {
    const codes = CHANNEL_LIST.map((c) => c.linkCode);
    expect(codes.every((c) => /^[a-z]{1,2}$/.test(c))).toBe(true);
    expect(new Set(codes).size).toBe(CHANNELS.length);
    expect(LINK_CODES).toHaveLength(CHANNELS.length);
    for (const c of CHANNEL_LIST) expect(channelOfLinkCode(c.linkCode)).toBe(c.name);
    expect(CHANNEL_BY_LINK_CODE.get('x')).toBe('x');
    expect(channelOfLinkCode('s')).toBe('sms');
    expect(channelOfLinkCode('S')).toBeUndefined();
    expect(channelOfLinkCode('toString')).toBeUndefined();
    expect(channelLink('https://alerts.example.org', ALERT, 'sms')).toBe(
      `https://alerts.example.org/a/${ALERT}/s`,
    );
    expect(utcDay(new Date('2030-01-01T23:59:59.999+00:00'))).toBe('2030-01-01');
  });

  it("puts the channel's own link in what each channel sends, whatever link the officer gave", () => {
    const config = { ...testConfig(), publicBaseUrl: 'https://alerts.example.org' };
    const version = newAlert(AlertDraft.parse(draft({ channels: [...CHANNELS] })), {
      alertId: ALERT,
      actor: { id: 'officer-1', roles: ['officer'] },
      now: new Date('2030-01-01T10:00:00.000Z'),
      sender: config.sender,
      approvalSeverities: config.approvalSeverities,
    });
    for (const channel of CHANNELS) {
      const { content, text } = rendererOf(channel).content(
        version,
        { ...config, channel },
        { image: { url: 'https://img.example.org/card.jpg', alt: 'card' }, cap: '<alert/>' },
      );
      const link = channelLink(config.publicBaseUrl, ALERT, channel)!;
      expect(`${text}${JSON.stringify(content)}`, channel).toContain(link);
      // The officer's link is where the channel's link leads, not in the message itself (a webhook's payload carries
      // the alert's fields as they are, `web` among them, beside its `link`).
      if (channel !== 'webhook')
        expect(`${text}${JSON.stringify(content)}`, channel).not.toContain(version.content.web);
    }
  });
});

describe('the preview', () => {
  const open: DynaliteStore[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
  });

  it('shows each channel the link it will carry, so its count is the count of what is sent', async () => {
    const db = await startDynaliteStore();
    open.push(db);
    const h = apiHarness(db, await residentsDeps(db));
    const res = await h.call({
      method: 'POST',
      path: '/v1/alerts/preview',
      claims: OFFICER,
      body: draft({ channels: ['x', 'facebook', 'mastodon', 'sms', 'email', 'webhook'] }),
    });
    expect(res.status).toBe(200);
    const channels = (res.body as { channels: Record<Channel, unknown> }).channels;
    for (const channel of ['x', 'facebook', 'mastodon', 'sms', 'email', 'webhook'] as const)
      expect(JSON.stringify(channels[channel]), channel).toContain(
        `/a/${PREVIEW_ALERT_ID}/${CHANNEL_LIST.find((c) => c.name === channel)!.linkCode}`,
      );
  });
});
