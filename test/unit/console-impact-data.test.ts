/**
 * How the console reads the impact, report and audit-verify answers (web/src/impact-data.ts; api.md "Impact and
 * accountability"): the contract's fields per channel from a map or a list, a missing count as 0, a null rate or
 * median as none, an estimate of the last recipient only when the answer carries one, and a trail said to be whole
 * only when nothing in it is named broken.
 */
import { describe, expect, it } from 'vitest';
import { readImpact, readReport, readVerification } from '../../web/src/impact-data';

const START = Date.parse('2026-11-20T10:00:00Z');
const at = (seconds: number) => new Date(START + seconds * 1000).toISOString();

describe('Reading the impact, report and verify answers', () => {
  it('reads api.md impact fields per channel, from a map or a list, and a missing count as 0', () => {
    // Arrange
    const body = {
      alertId: '01JXXXXXXXXXXXXXXXXXXXXXXX',
      channels: {
        sms: {
          recipients: 2000,
          sent: 1990,
          delivered: 1950,
          failed: 10,
          deferred: 0,
          firstSentAt: at(0),
          lastSentAt: at(200),
          clicks: 41,
        },
        x: {
          recipients: 1,
          sent: 1,
          delivered: 1,
          failed: 0,
          deferred: 0,
          clicks: 7,
          engagement: { impressions: 900, likes: 12, bogus: 'n' },
        },
      },
      pageViews: 55,
      directPageViews: 9,
      tips: 3,
      optOutsWithin24h: 2,
      timeline: [
        { at: at(0), channel: 'sms', sent: 100 },
        { at: 'not a time', channel: 'sms', sent: 5 },
      ],
    };

    // Act
    const fromMap = readImpact(body);
    const fromList = readImpact({ ...body, channels: [{ channel: 'x', sent: 1 }] });

    // Assess
    expect(fromMap.channels).toEqual([
      {
        channel: 'sms',
        recipients: 2000,
        sent: 1990,
        delivered: 1950,
        failed: 10,
        deferred: 0,
        clicks: 41,
        firstSentAt: at(0),
        lastSentAt: at(200),
      },
      {
        channel: 'x',
        recipients: 1,
        sent: 1,
        delivered: 1,
        failed: 0,
        deferred: 0,
        clicks: 7,
        engagement: { impressions: 900, likes: 12 },
      },
    ]);
    expect(fromMap).toMatchObject({ pageViews: 55, directPageViews: 9, tips: 3, optOutsWithin24h: 2 });
    expect(fromMap.timeline).toEqual([{ at: at(0), channel: 'sms', sent: 100 }]);
    expect(fromMap.estimate).toBeUndefined();
    expect(fromList.channels).toEqual([
      { channel: 'x', recipients: 0, sent: 1, delivered: 0, failed: 0, deferred: 0, clicks: 0 },
    ]);
  });

  it('reads an estimate of the last recipient when the answer carries one, counted from the channel’s first send', () => {
    const perChannel = readImpact({
      channels: { sms: { sent: 5, firstSentAt: at(10), estimatedSecondsToLastRecipient: 66.7 } },
    });
    const topLevel = readImpact({
      channels: { sms: { sent: 5, firstSentAt: at(10) } },
      estimate: { channel: 'sms', secondsToLastRecipient: 30 },
    });
    expect(perChannel.estimate).toEqual({ channel: 'sms', seconds: 66.7, from: at(10) });
    expect(topLevel.estimate).toEqual({ channel: 'sms', seconds: 30, from: at(10) });
  });

  it('reads a report’s rows, agency-wide periods and totals, a null rate or median being none', () => {
    const report = readReport({
      from: '2026-11-01T00:00:00Z',
      to: '2026-12-01T00:00:00Z',
      period: 'month',
      timeZone: 'Europe/Madrid',
      rows: [
        {
          period: '2026-11',
          periodStart: '2026-10-31T23:00:00Z',
          zone: 'ciutat-vella',
          zoneName: 'Ciutat Vella',
          alertsSent: 3,
          recipients: 2003,
          delivered: 2000,
          deliveryRate: 0.9985,
          medianSecondsToLastRecipient: 190,
          subscribersGained: 40,
          subscribersLost: 2,
        },
        {
          period: '2026-11',
          zone: '*',
          alertsSent: 0,
          deliveryRate: null,
          medianSecondsToLastRecipient: null,
        },
      ],
      periods: [{ period: '2026-11', alertsSent: 3, subscribersGained: 40, subscribersLost: 2 }],
      totals: { alertsSent: 3, deliveryRate: 0.9985, note: 'x' },
    });
    expect(report.rows[0]).toMatchObject({
      zone: 'ciutat-vella',
      zoneName: 'Ciutat Vella',
      deliveryRate: 0.9985,
      medianSecondsToLastRecipient: 190,
    });
    expect(report.rows[1]).toEqual({
      period: '2026-11',
      zone: '*',
      alertsSent: 0,
      recipients: 0,
      delivered: 0,
      subscribersGained: 0,
      subscribersLost: 0,
    });
    expect(report.periods).toEqual([
      {
        period: '2026-11',
        alertsSent: 3,
        recipients: 0,
        delivered: 0,
        subscribersGained: 40,
        subscribersLost: 2,
      },
    ]);
    expect(report.totals).toEqual({ alertsSent: 3, deliveryRate: 0.9985 });
    expect(report.timeZone).toBe('Europe/Madrid');
  });

  it('says the trail is whole only when the answer says ok and names nothing broken', () => {
    expect(readVerification({ ok: true, checked: 12, broken: [] })).toEqual({
      ok: true,
      checked: 12,
      broken: [],
    });
    expect(
      readVerification({
        ok: true,
        checked: 12,
        broken: [
          { alertId: 'A', entry: { pk: 'ALERT#A', sk: 'AUDIT#3' }, reason: 'hash mismatch' },
          { entry: 7, reason: 'missing' },
        ],
      }),
    ).toEqual({
      ok: false,
      checked: 12,
      broken: [
        { alertId: 'A', entry: 'pk ALERT#A, sk AUDIT#3', reason: 'hash mismatch' },
        { entry: '7', reason: 'missing' },
      ],
    });
    expect(readVerification(null)).toEqual({ ok: false, checked: 0, broken: [] });
  });
});
