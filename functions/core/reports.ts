/**
 * Reports (api.md, "Impact and accountability"): per week or month and zone, on the agency's clock, how many alerts
 * went out, to how many recipients, how many the providers took, how fast the last one was reached, and how many
 * subscribers each zone gained and lost. Pure: the adapters hand over the released versions (with what their
 * receipts say) and the subscription changes of the range; this file buckets, counts, takes medians and rates.
 *
 * What is counted, and where:
 * - A version counts in the period that holds its release (`releasedAt`: when it was sent, or its publishAt for a
 *   scheduled step), on the agency's clock. Only Actual alerts: Test and Exercise reach no resident (invariant 4).
 * - `alertsSent` counts an alert once, in the period of its first released version that is not a cancel; the later
 *   versions (updates, cancels) are `updatesSent`. Recipients and the rest count every released version's receipts.
 * - Zones: a version counts in every zone its areas name, so one alert to two zones is in both zone rows; `*` is the
 *   agency-wide row: alerts that name no zone, and subscribers (media outlets) that follow every zone. Zone rows may
 *   therefore overlap; the per-period and whole-range totals count each alert and each subscriber once.
 * - `recipients`: one per receipt (version, channel, recipient; a social post is one, the agency's account), plus
 *   subscribers planned but not yet sent to; a `superseded` receipt (a waiting message a newer version replaced) is
 *   no recipient. `delivered`: receipts the provider accepted (`sent`) or confirmed (`delivered`); `failed`: `failed`.
 *   `deliveryRate` = delivered / recipients, null when there were none.
 * - `medianSecondsToLastRecipient`: per version, the last receipt's send time minus the version's release; the
 *   median over the versions of the row (null when none reached anyone).
 * - Subscribers: a change that puts a subscriber on a zone's public roster (confirmed, JOIN, START, a zone added)
 *   is one gained there; one that takes them off (STOP, deletion, a zone removed) is one lost. In the totals a
 *   subscriber is gained when they join their first zone and lost when they leave their last.
 */
import { wallClockAsUtc } from '../../schemas/wall-clock';
import { ALL_ZONES, type SubscriberChannel } from './model';

export type ReportPeriod = 'week' | 'month';

/** A period of the agency's calendar: its label (`2026-11`, `2026-W47`) and its bounds (end exclusive). */
export interface PeriodBucket {
  period: string;
  start: Date;
  end: Date;
}

/** One released version and what its receipts say (functions/adapters/dynamo/report-store.ts). */
export interface ReportVersion {
  alertId: string;
  version: number;
  /** The alert's first released version other than a cancel: this is when the alert counts as sent. */
  first: boolean;
  releasedAt: string;
  /** The zones its areas name; empty: an agency-wide alert (the `*` row). */
  zones: readonly string[];
  recipients: number;
  delivered: number;
  failed: number;
  /** When the last receipt was sent (the provider accepted it); absent when none was. */
  lastSentAt?: string | undefined;
}

/** A subscription change as the reports read it: the public rosters' zones before and after it. */
export interface SubscriberZoneChange {
  at: string;
  subscriberId: string;
  channel: SubscriberChannel;
  zonesBefore: readonly string[];
  zonesAfter: readonly string[];
}

export interface ReportFigures {
  alertsSent: number;
  updatesSent: number;
  recipients: number;
  delivered: number;
  failed: number;
  deliveryRate: number | null;
  medianSecondsToLastRecipient: number | null;
  subscribersGained: number;
  subscribersLost: number;
}

export interface ReportRow extends ReportFigures {
  period: string;
  periodStart: string;
  periodEnd: string;
  zone: string;
  zoneName: string;
}

export interface ReportPeriodTotals extends ReportFigures {
  period: string;
  periodStart: string;
  periodEnd: string;
}

export interface Report {
  from: string;
  to: string;
  period: ReportPeriod;
  timeZone: string;
  rows: ReportRow[];
  periods: ReportPeriodTotals[];
  totals: ReportFigures;
}

// ---------------------------------------------------------------- the agency's calendar

const DAY_MS = 24 * 3600 * 1000;

/** The local calendar day of an instant in `timeZone`, as UTC midnight of that same date. */
function localDateOf(instant: Date, timeZone: string): Date {
  const wall = new Date(wallClockAsUtc(instant.getTime(), timeZone));
  return new Date(Date.UTC(wall.getUTCFullYear(), wall.getUTCMonth(), wall.getUTCDate()));
}

/**
 * The first instant whose local reading is at or after `wall` (a wall-clock time written as if it were UTC): the
 * earlier of two when the clocks go back, the moment of the change when they skip it (a midnight some zones skip).
 */
export function instantOfWall(wall: number, timeZone: string): Date {
  const offsetAt = (instant: number) => wallClockAsUtc(instant, timeZone) - Math.floor(instant / 1000) * 1000;
  const exact = [offsetAt(wall - DAY_MS), offsetAt(wall), offsetAt(wall + DAY_MS)]
    .map((offset) => wall - offset)
    .filter((instant) => wallClockAsUtc(instant, timeZone) === wall)
    .sort((a, b) => a - b);
  if (exact[0] !== undefined) return new Date(exact[0]);
  let low = wall - offsetAt(wall - DAY_MS);
  let high = wall - offsetAt(wall + DAY_MS);
  if (low > high) [low, high] = [high, low];
  while (high - low > 1000) {
    const middle = low + Math.floor((high - low) / 2000) * 1000;
    if (wallClockAsUtc(middle, timeZone) >= wall) high = middle;
    else low = middle;
  }
  return new Date(high);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** The ISO week (Monday first; week 1 holds the year's first Thursday) of a date, and its Monday. */
function isoWeekOf(date: Date): { label: string; monday: Date } {
  const monday = new Date(date.getTime() - ((date.getUTCDay() + 6) % 7) * DAY_MS);
  const thursday = new Date(monday.getTime() + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = 1 + Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / (7 * DAY_MS));
  return { label: `${year}-W${pad2(week)}`, monday };
}

/** The period of the agency's calendar that holds `instant`. */
export function periodOf(instant: Date, period: ReportPeriod, timeZone: string): PeriodBucket {
  const date = localDateOf(instant, timeZone);
  if (period === 'month') {
    const y = date.getUTCFullYear();
    const m = date.getUTCMonth();
    return {
      period: `${y}-${pad2(m + 1)}`,
      start: instantOfWall(Date.UTC(y, m, 1), timeZone),
      end: instantOfWall(Date.UTC(y, m + 1, 1), timeZone),
    };
  }
  const { label, monday } = isoWeekOf(date);
  return {
    period: label,
    start: instantOfWall(monday.getTime(), timeZone),
    end: instantOfWall(monday.getTime() + 7 * DAY_MS, timeZone),
  };
}

/** Every period that overlaps [from, to), oldest first; the first and last may reach beyond the range. */
export function periodsBetween(from: Date, to: Date, period: ReportPeriod, timeZone: string): PeriodBucket[] {
  const buckets: PeriodBucket[] = [];
  for (let at = from; at < to; ) {
    const bucket = periodOf(at, period, timeZone);
    buckets.push(bucket);
    at = bucket.end;
  }
  return buckets;
}

// ---------------------------------------------------------------- the range asked for

/** The longest range a report covers: a year and a month, so this month can be set beside the same one last year. */
export const MAX_REPORT_MONTHS = 13;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export interface ReportRange {
  from: Date;
  /** Exclusive. */
  to: Date;
}

export type RangeResult = { ok: true; range: ReportRange } | { ok: false; path: string; message: string };

/**
 * The instants a query names. A date is a day on the agency's clock: `from` starts at its first instant, `to`
 * includes the whole day (the range ends at the next day's start). A date-time (with its offset) is that instant,
 * and `to` is then exclusive. Both are checked already to be one or the other (schemas/reports.ts).
 */
export function reportRange(query: { from: string; to: string }, timeZone: string): RangeResult {
  const dayStart = (date: string, plusDays: number) => {
    const [y, m, d] = date.split('-').map(Number) as [number, number, number];
    return instantOfWall(Date.UTC(y, m - 1, d + plusDays), timeZone);
  };
  const from = DATE_ONLY.test(query.from) ? dayStart(query.from, 0) : new Date(query.from);
  const to = DATE_ONLY.test(query.to) ? dayStart(query.to, 1) : new Date(query.to);
  if (Number.isNaN(from.getTime())) return { ok: false, path: '/query/from', message: 'is not a date' };
  if (Number.isNaN(to.getTime())) return { ok: false, path: '/query/to', message: 'is not a date' };
  if (to <= from) return { ok: false, path: '/query/to', message: 'must be after from' };
  const wall = new Date(wallClockAsUtc(from.getTime(), timeZone));
  const limit = instantOfWall(
    Date.UTC(
      wall.getUTCFullYear(),
      wall.getUTCMonth() + MAX_REPORT_MONTHS,
      wall.getUTCDate(),
      wall.getUTCHours(),
      wall.getUTCMinutes(),
      wall.getUTCSeconds(),
    ),
    timeZone,
  );
  if (to > limit)
    return {
      ok: false,
      path: '/query/to',
      message: `must be at most ${MAX_REPORT_MONTHS} months after from: ask for a longer span in parts`,
    };
  return { ok: true, range: { from, to } };
}

// ---------------------------------------------------------------- figures

/** The median of a list (the mean of the middle two when it is even); null when it is empty. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/** delivered / recipients to four decimals (0.9873); null when nobody was to be reached. */
export function rate(delivered: number, recipients: number): number | null {
  return recipients === 0 ? null : Math.round((delivered / recipients) * 10_000) / 10_000;
}

/** Seconds from a version's release to its last receipt's send, to the millisecond. */
export function secondsToLastRecipient(v: ReportVersion): number | undefined {
  if (v.lastSentAt === undefined) return undefined;
  return Math.max(0, Date.parse(v.lastSentAt) - Date.parse(v.releasedAt)) / 1000;
}

function figuresOf(versions: readonly ReportVersion[], gained: number, lost: number): ReportFigures {
  let recipients = 0;
  let delivered = 0;
  let failed = 0;
  const times: number[] = [];
  for (const v of versions) {
    recipients += v.recipients;
    delivered += v.delivered;
    failed += v.failed;
    const seconds = secondsToLastRecipient(v);
    if (seconds !== undefined) times.push(seconds);
  }
  return {
    alertsSent: versions.filter((v) => v.first).length,
    updatesSent: versions.filter((v) => !v.first).length,
    recipients,
    delivered,
    failed,
    deliveryRate: rate(delivered, recipients),
    medianSecondsToLastRecipient: median(times),
    subscribersGained: gained,
    subscribersLost: lost,
  };
}

const zonesOfVersion = (v: ReportVersion): readonly string[] => (v.zones.length > 0 ? v.zones : [ALL_ZONES]);

const within = (at: string, start: Date, end: Date) => {
  const ms = Date.parse(at);
  return ms >= start.getTime() && ms < end.getTime();
};

export interface ReportInput {
  range: ReportRange;
  period: ReportPeriod;
  timeZone: string;
  /** The agency's zones, in the order rows list them; zones met in the data but not here follow, by id. */
  zones: readonly { id: string; name: string }[];
  /** Released versions; those outside the range are ignored. */
  versions: readonly ReportVersion[];
  changes: readonly SubscriberZoneChange[];
}

/** The name the `*` row goes by. */
export const ALL_ZONES_NAME = 'Every zone (agency-wide)';

/**
 * The report: a row per period and zone (every zone of the agency and `*`, every period of the range, so a chart has
 * its zeros), the agency-wide figures per period, and the totals of the whole range. Periods cut by the range count
 * only what falls inside it.
 */
export function buildReport(input: ReportInput): Report {
  const { range, period, timeZone } = input;
  const inRange = (at: string) => within(at, range.from, range.to);
  const versions = input.versions.filter((v) => inRange(v.releasedAt));
  const changes = input.changes.filter((c) => inRange(c.at));

  const names = new Map<string, string>([[ALL_ZONES, ALL_ZONES_NAME]]);
  for (const z of input.zones) names.set(z.id, z.name);
  const seen = new Set<string>();
  for (const v of versions) for (const z of zonesOfVersion(v)) seen.add(z);
  for (const c of changes) for (const z of [...c.zonesBefore, ...c.zonesAfter]) seen.add(z);
  const zoneIds = [
    ALL_ZONES,
    ...input.zones.map((z) => z.id).filter((id) => id !== ALL_ZONES),
    ...[...seen].filter((id) => !names.has(id)).sort(),
  ];

  // Each version and change is placed in its period once (a binary search), then counted per zone in one pass, so a
  // year of weekly rows over a city's zones costs what the data costs, not periods × zones × data.
  const buckets = periodsBetween(range.from, range.to, period, timeZone);
  const bucketOf = (at: string): number => {
    const ms = Date.parse(at);
    let low = 0;
    let high = buckets.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if ((buckets[middle] as PeriodBucket).start.getTime() <= ms) low = middle;
      else high = middle - 1;
    }
    return low;
  };
  const versionsIn = buckets.map(() => [] as ReportVersion[]);
  for (const v of versions) versionsIn[bucketOf(v.releasedAt)]?.push(v);
  const changesIn = buckets.map(() => [] as SubscriberZoneChange[]);
  for (const c of changes) changesIn[bucketOf(c.at)]?.push(c);

  const rows: ReportRow[] = [];
  const periods: ReportPeriodTotals[] = [];
  buckets.forEach((bucket, i) => {
    const label = {
      period: bucket.period,
      periodStart: bucket.start.toISOString(),
      periodEnd: bucket.end.toISOString(),
    };
    const inBucket = versionsIn[i] ?? [];
    const changed = changesIn[i] ?? [];
    const byZone = new Map<string, ReportVersion[]>();
    for (const v of inBucket)
      for (const zone of zonesOfVersion(v)) {
        const list = byZone.get(zone) ?? [];
        list.push(v);
        byZone.set(zone, list);
      }
    const gained = new Map<string, number>();
    const lost = new Map<string, number>();
    for (const c of changed) {
      for (const zone of c.zonesAfter)
        if (!c.zonesBefore.includes(zone)) gained.set(zone, (gained.get(zone) ?? 0) + 1);
      for (const zone of c.zonesBefore)
        if (!c.zonesAfter.includes(zone)) lost.set(zone, (lost.get(zone) ?? 0) + 1);
    }
    for (const zone of zoneIds)
      rows.push({
        ...label,
        zone,
        zoneName: names.get(zone) ?? zone,
        ...figuresOf(byZone.get(zone) ?? [], gained.get(zone) ?? 0, lost.get(zone) ?? 0),
      });
    periods.push({ ...label, ...agencyWide(inBucket, changed) });
  });
  return {
    from: range.from.toISOString(),
    to: range.to.toISOString(),
    period,
    timeZone,
    rows,
    periods,
    totals: agencyWide(versions, changes),
  };
}

/** Each alert once, each subscriber once: joined their first zone (gained), left their last (lost). */
function agencyWide(
  versions: readonly ReportVersion[],
  changes: readonly SubscriberZoneChange[],
): ReportFigures {
  const gained = changes.filter((c) => c.zonesBefore.length === 0 && c.zonesAfter.length > 0).length;
  const lost = changes.filter((c) => c.zonesBefore.length > 0 && c.zonesAfter.length === 0).length;
  return figuresOf(versions, gained, lost);
}

// ---------------------------------------------------------------- CSV

/** The CSV's columns, in order: the rows of the JSON answer, one line each. */
export const REPORT_CSV_COLUMNS = [
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
] as const satisfies readonly (keyof ReportRow)[];
