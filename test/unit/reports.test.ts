/**
 * The reports' pure domain: weeks and months on the agency's clock (Europe/Madrid, across both changes of the
 * clocks), medians and rates, every period and zone present even when empty, alerts in two zones counted in each
 * zone and once in the totals, subscribers gained and lost, and the CSV escaped against formula injection.
 */
import { describe, expect, it } from 'vitest';
import { reportCsv } from '../../functions/api/reports';
import {
  ALL_ZONES_NAME,
  buildReport,
  median,
  periodOf,
  periodsBetween,
  type ReportRange,
  type ReportVersion,
  rate,
  reportRange,
  type SubscriberZoneChange,
} from '../../functions/core/reports';
import { parseCsv } from '../helpers/api';

const MADRID = 'Europe/Madrid';
const at = (iso: string) => new Date(iso);

describe('periods on the agency clock', () => {
  it('starts March 2026 at local midnight in winter time and ends it at local midnight in summer time', () => {
    // Act
    const march = periodOf(at('2026-03-15T12:00:00Z'), 'month', MADRID);
    const october = periodOf(at('2026-10-31T22:59:59Z'), 'month', MADRID);

    // Assess
    expect(march).toEqual({
      period: '2026-03',
      start: at('2026-02-28T23:00:00.000Z'),
      end: at('2026-03-31T22:00:00.000Z'),
    });
    expect(october).toEqual({
      period: '2026-10',
      start: at('2026-09-30T22:00:00.000Z'),
      end: at('2026-10-31T23:00:00.000Z'),
    });
  });

  it('puts an instant in the month of its local date, not of its UTC date', () => {
    // Act
    const halfPastMidnight = periodOf(at('2026-10-31T23:30:00Z'), 'month', MADRID);
    const utc = periodOf(at('2026-10-31T23:30:00Z'), 'month', 'UTC');

    // Assess
    expect(halfPastMidnight.period).toBe('2026-11');
    expect(utc.period).toBe('2026-10');
  });

  it('makes the ISO week of the spring change 167 hours long, Monday to Monday, local midnight to local midnight', () => {
    // Act
    const week = periodOf(at('2026-03-29T12:00:00Z'), 'week', MADRID);
    const lastMinuteOfSunday = periodOf(at('2026-03-29T21:59:00Z'), 'week', MADRID);
    const firstMinuteOfMonday = periodOf(at('2026-03-29T22:00:00Z'), 'week', MADRID);

    // Assess
    expect(week).toEqual({
      period: '2026-W13',
      start: at('2026-03-22T23:00:00.000Z'),
      end: at('2026-03-29T22:00:00.000Z'),
    });
    expect((week.end.getTime() - week.start.getTime()) / 3_600_000).toBe(167);
    expect(lastMinuteOfSunday.period).toBe('2026-W13');
    expect(firstMinuteOfMonday.period).toBe('2026-W14');
  });

  it('makes the ISO week of the autumn change 169 hours long', () => {
    // Act
    const week = periodOf(at('2026-10-25T12:00:00Z'), 'week', MADRID);

    // Assess
    expect(week.period).toBe('2026-W43');
    expect(week.start).toEqual(at('2026-10-18T22:00:00.000Z'));
    expect(week.end).toEqual(at('2026-10-25T23:00:00.000Z'));
    expect((week.end.getTime() - week.start.getTime()) / 3_600_000).toBe(169);
  });

  it('numbers weeks as ISO does at the turn of the year: 2026 has a week 53 that runs into 2027', () => {
    // Act
    const labels = ['2026-12-31T12:00:00Z', '2027-01-03T12:00:00Z', '2027-01-04T12:00:00Z'].map(
      (iso) => periodOf(at(iso), 'week', MADRID).period,
    );

    // Assess
    expect(labels).toEqual(['2026-W53', '2026-W53', '2027-W01']);
  });

  it('lists every period that overlaps the range, whole, oldest first', () => {
    // Act
    const months = periodsBetween(at('2026-02-10T00:00:00Z'), at('2026-04-02T00:00:00Z'), 'month', MADRID);
    const weeks = periodsBetween(at('2026-03-25T00:00:00Z'), at('2026-04-02T00:00:00Z'), 'week', MADRID);

    // Assess
    expect(months.map((m) => m.period)).toEqual(['2026-02', '2026-03', '2026-04']);
    expect(weeks.map((w) => w.period)).toEqual(['2026-W13', '2026-W14']);
    expect(weeks[1]!.start).toEqual(weeks[0]!.end);
  });
});

describe('the range a query names', () => {
  it('reads dates as local days, `to` included whole; date-times as given, `to` excluded', () => {
    // Act
    const days = reportRange({ from: '2026-03-01', to: '2026-03-31' }, MADRID);
    const instants = reportRange({ from: '2026-03-01T00:00:00+01:00', to: '2026-03-02T00:00:00Z' }, MADRID);

    // Assess
    expect(days).toEqual({
      ok: true,
      range: { from: at('2026-02-28T23:00:00.000Z'), to: at('2026-03-31T22:00:00.000Z') },
    });
    expect(instants).toEqual({
      ok: true,
      range: { from: at('2026-02-28T23:00:00.000Z'), to: at('2026-03-02T00:00:00.000Z') },
    });
  });

  it('names `to` when it is not after `from`, and when the span passes 13 months', () => {
    // Act
    const backwards = reportRange({ from: '2026-03-02', to: '2026-03-01' }, MADRID);
    const thirteenMonths = reportRange({ from: '2025-11-01', to: '2026-11-30' }, MADRID);
    const oneDayMore = reportRange({ from: '2025-11-01', to: '2026-12-01' }, MADRID);

    // Assess
    expect(backwards).toEqual({ ok: false, path: '/query/to', message: 'must be after from' });
    expect(thirteenMonths.ok).toBe(true);
    expect(oneDayMore).toMatchObject({ ok: false, path: '/query/to' });
  });
});

describe('medians and rates', () => {
  it('takes the middle value, the mean of the middle two, or null for nothing', () => {
    expect(median([])).toBeNull();
    expect(median([7])).toBe(7);
    expect(median([9, 1, 4])).toBe(4);
    expect(median([10, 1, 3, 2])).toBe(2.5);
  });

  it('rounds a rate to four decimals and has none without recipients', () => {
    expect(rate(2, 3)).toBe(0.6667);
    expect(rate(5, 5)).toBe(1);
    expect(rate(0, 0)).toBeNull();
  });
});

describe('buildReport', () => {
  const zones = [
    { id: 'gracia', name: 'Gràcia' },
    { id: 'sants', name: 'Sants-Montjuïc' },
  ];
  const range: ReportRange = { from: at('2026-02-28T23:00:00Z'), to: at('2026-04-30T22:00:00Z') };
  const version = (v: Partial<ReportVersion> & Pick<ReportVersion, 'releasedAt'>): ReportVersion => ({
    alertId: 'A',
    version: 1,
    first: true,
    zones: [],
    recipients: 0,
    delivered: 0,
    failed: 0,
    ...v,
  });
  const change = (c: Partial<SubscriberZoneChange> & Pick<SubscriberZoneChange, 'at'>) => ({
    subscriberId: 'S',
    channel: 'sms' as const,
    zonesBefore: [],
    zonesAfter: [],
    ...c,
  });

  it('lists every period by every zone, `*` first, with zeros and nulls where nothing happened', () => {
    // Act
    const report = buildReport({
      range,
      period: 'month',
      timeZone: MADRID,
      zones,
      versions: [],
      changes: [],
    });

    // Assess
    expect(report.rows.map((r) => `${r.period} ${r.zone}`)).toEqual([
      '2026-03 *',
      '2026-03 gracia',
      '2026-03 sants',
      '2026-04 *',
      '2026-04 gracia',
      '2026-04 sants',
    ]);
    expect(report.rows[0]).toEqual({
      period: '2026-03',
      periodStart: '2026-02-28T23:00:00.000Z',
      periodEnd: '2026-03-31T22:00:00.000Z',
      zone: '*',
      zoneName: ALL_ZONES_NAME,
      alertsSent: 0,
      updatesSent: 0,
      recipients: 0,
      delivered: 0,
      failed: 0,
      deliveryRate: null,
      medianSecondsToLastRecipient: null,
      subscribersGained: 0,
      subscribersLost: 0,
    });
    expect(report.periods.map((p) => p.period)).toEqual(['2026-03', '2026-04']);
    expect(report.totals.alertsSent).toBe(0);
  });

  it('counts an alert to two zones in each zone row and once in the totals; updates apart; medians per row', () => {
    // Prepare: an alert to both zones and its update, one to Gràcia alone, one agency-wide; the month changes at
    // local midnight (22:00 UTC on 31 March), not at UTC midnight.
    const versions = [
      version({
        alertId: 'A',
        releasedAt: '2026-03-10T10:00:00.000Z',
        zones: ['gracia', 'sants'],
        recipients: 10,
        delivered: 9,
        failed: 1,
        lastSentAt: '2026-03-10T10:01:00.000Z',
      }),
      version({
        alertId: 'A',
        version: 2,
        first: false,
        releasedAt: '2026-03-31T22:30:00.000Z',
        zones: ['gracia', 'sants'],
        recipients: 9,
        delivered: 9,
        lastSentAt: '2026-03-31T22:30:30.000Z',
      }),
      version({
        alertId: 'B',
        releasedAt: '2026-03-20T08:00:00.000Z',
        zones: ['gracia'],
        recipients: 4,
        delivered: 4,
        lastSentAt: '2026-03-20T08:02:00.000Z',
      }),
      version({
        alertId: 'C',
        releasedAt: '2026-03-21T08:00:00.000Z',
        recipients: 1,
        delivered: 1,
        lastSentAt: '2026-03-21T08:00:05.000Z',
      }),
      // Outside the range: not counted.
      version({ alertId: 'D', releasedAt: '2026-05-02T08:00:00.000Z', recipients: 50, delivered: 50 }),
    ];

    // Act
    const report = buildReport({ range, period: 'month', timeZone: MADRID, zones, versions, changes: [] });

    // Assess
    const row = (period: string, zone: string) =>
      report.rows.find((r) => r.period === period && r.zone === zone);
    expect(row('2026-03', 'gracia')).toMatchObject({
      alertsSent: 2,
      updatesSent: 0,
      recipients: 14,
      delivered: 13,
      failed: 1,
      deliveryRate: 0.9286,
      medianSecondsToLastRecipient: 90,
    });
    expect(row('2026-03', 'sants')).toMatchObject({
      alertsSent: 1,
      recipients: 10,
      medianSecondsToLastRecipient: 60,
    });
    expect(row('2026-03', '*')).toMatchObject({
      alertsSent: 1,
      recipients: 1,
      medianSecondsToLastRecipient: 5,
    });
    expect(row('2026-04', 'gracia')).toMatchObject({
      alertsSent: 0,
      updatesSent: 1,
      recipients: 9,
      deliveryRate: 1,
    });
    expect(report.periods[0]).toMatchObject({
      period: '2026-03',
      alertsSent: 3,
      recipients: 15,
      delivered: 14,
      medianSecondsToLastRecipient: 60,
    });
    expect(report.totals).toMatchObject({
      alertsSent: 3,
      updatesSent: 1,
      recipients: 24,
      delivered: 23,
      failed: 1,
      deliveryRate: 0.9583,
      medianSecondsToLastRecipient: 45,
    });
  });

  it('counts subscribers gained and lost per zone, and in the totals only joining the first zone and leaving the last', () => {
    // Prepare
    const changes = [
      change({ subscriberId: 'S1', at: '2026-03-02T09:00:00Z', zonesAfter: ['gracia', 'sants'] }),
      change({ subscriberId: 'S2', at: '2026-03-03T09:00:00Z', zonesAfter: ['gracia'] }),
      // S1 drops Sants: a loss there, none agency-wide.
      change({
        subscriberId: 'S1',
        at: '2026-03-09T09:00:00Z',
        zonesBefore: ['gracia', 'sants'],
        zonesAfter: ['gracia'],
      }),
      // S2 texts STOP in April.
      change({ subscriberId: 'S2', at: '2026-04-09T09:00:00Z', zonesBefore: ['gracia'] }),
      // A media outlet following every zone.
      change({ subscriberId: 'M', channel: 'email', at: '2026-04-10T09:00:00Z', zonesAfter: ['*'] }),
      // Quiet hours set: no move.
      change({
        subscriberId: 'S1',
        at: '2026-04-11T09:00:00Z',
        zonesBefore: ['gracia'],
        zonesAfter: ['gracia'],
      }),
    ];

    // Act
    const report = buildReport({ range, period: 'month', timeZone: MADRID, zones, versions: [], changes });

    // Assess
    const moves = report.rows.map(
      (r) => `${r.period} ${r.zone} +${r.subscribersGained} -${r.subscribersLost}`,
    );
    expect(moves).toEqual([
      '2026-03 * +0 -0',
      '2026-03 gracia +2 -0',
      '2026-03 sants +1 -1',
      '2026-04 * +1 -0',
      '2026-04 gracia +0 -1',
      '2026-04 sants +0 -0',
    ]);
    expect(report.periods.map((p) => [p.subscribersGained, p.subscribersLost])).toEqual([
      [2, 0],
      [1, 1],
    ]);
    expect(report.totals).toMatchObject({ subscribersGained: 3, subscribersLost: 1 });
  });

  it('adds a row for a zone met in the data but no longer in the catalogue, named by its id', () => {
    // Act
    const report = buildReport({
      range,
      period: 'month',
      timeZone: MADRID,
      zones,
      versions: [version({ releasedAt: '2026-03-05T10:00:00Z', zones: ['old-zone'], recipients: 2 })],
      changes: [],
    });

    // Assess
    expect(report.rows.filter((r) => r.period === '2026-03').map((r) => r.zone)).toEqual([
      '*',
      'gracia',
      'sants',
      'old-zone',
    ]);
    expect(report.rows.find((r) => r.zone === 'old-zone')).toMatchObject({
      zoneName: 'old-zone',
      recipients: 2,
    });
  });
});

describe('reportCsv', () => {
  it('writes a header and a line per row, quoting what needs it and defusing what a spreadsheet would run', () => {
    // Prepare: zone names an agency (or an attacker with the catalogue) could have typed.
    const evil = [
      { id: 'eq', name: '=HYPERLINK("http://attacker.example","click")' },
      { id: 'plus', name: '+34 600 000 000' },
      { id: 'minus', name: '-2+3' },
      { id: 'at', name: '@SUM(A1:A9)' },
      { id: 'tab', name: '\tTabbed' },
      { id: 'cr', name: '\rReturn' },
      { id: 'comma', name: 'Sant "Martí", nord\nline two' },
    ];
    const report = buildReport({
      range: { from: at('2026-02-28T23:00:00Z'), to: at('2026-03-31T22:00:00Z') },
      period: 'month',
      timeZone: MADRID,
      zones: evil,
      versions: [],
      changes: [],
    });

    // Act
    const csv = reportCsv(report);
    const table = parseCsv(csv);

    // Assess
    expect(csv.endsWith('\r\n')).toBe(true);
    expect(table[0]).toEqual([
      'period',
      'periodStart',
      'periodEnd',
      'zone',
      'zoneName',
      'alertsSent',
      'updatesSent',
      'recipients',
      'delivered',
      'failed',
      'deliveryRate',
      'medianSecondsToLastRecipient',
      'subscribersGained',
      'subscribersLost',
    ]);
    expect(table).toHaveLength(1 + 1 + evil.length);
    const names = new Map(table.slice(1).map((r) => [r[3], r[4]]));
    expect(names.get('*')).toBe(ALL_ZONES_NAME);
    expect(names.get('eq')).toBe(`'=HYPERLINK("http://attacker.example","click")`);
    expect(names.get('plus')).toBe("'+34 600 000 000");
    expect(names.get('minus')).toBe("'-2+3");
    expect(names.get('at')).toBe("'@SUM(A1:A9)");
    expect(names.get('tab')).toBe("'\tTabbed");
    expect(names.get('cr')).toBe("'\rReturn");
    expect(names.get('comma')).toBe('Sant "Martí", nord\nline two');
    expect(csv).toContain('"Sant ""Martí"", nord\nline two"');
    expect(csv).toContain(`"'=HYPERLINK(""http://attacker.example"",""click"")"`);
    // Empty figures are empty cells, not "null".
    expect(table[1]!.slice(10, 12)).toEqual(['', '']);
  });
});
