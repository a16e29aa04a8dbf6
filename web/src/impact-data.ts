/**
 * The impact, report and audit-verify answers (api.md "Impact and accountability") read defensively into the shapes
 * the views draw: a missing count is 0, a per-channel map or list both work, and a number that is not one is not
 * drawn. No DOM here, so a unit test holds the reading to the contract.
 */
import type { TimelinePoint } from './charts/timeline-chart';

export interface Engagement {
  impressions?: number;
  reposts?: number;
  replies?: number;
  likes?: number;
}

export interface ChannelImpact {
  channel: string;
  recipients: number;
  sent: number;
  delivered: number;
  failed: number;
  deferred: number;
  firstSentAt?: string;
  lastSentAt?: string;
  clicks: number;
  /** Page views counted from this channel's links, when the API splits them per channel. */
  pageViews?: number;
  engagement?: Engagement;
}

export interface ImpactEstimate {
  channel: string;
  seconds: number;
  from: string;
}

export interface Impact {
  channels: ChannelImpact[];
  pageViews: number;
  /** Views that came through no channel's link (typed, shared, searched), when the API counts them apart. */
  directPageViews?: number;
  tips: number;
  optOutsWithin24h: number;
  timeline: TimelinePoint[];
  /** The preview's time to the last recipient, only when the API gives it (api.md does not name it). */
  estimate?: ImpactEstimate;
}

type Loose = Record<string, unknown>;
const isObject = (v: unknown): v is Loose => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const optNum = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
/** A count the API may give as a number, or as `{ total }`, or per channel: the total. */
const total = (v: unknown): number =>
  typeof v === 'number'
    ? num(v)
    : isObject(v)
      ? typeof v.total === 'number'
        ? num(v.total)
        : Object.values(v).reduce<number>((n, x) => n + num(x), 0)
      : 0;

function engagementOf(v: unknown): Engagement | undefined {
  if (!isObject(v)) return undefined;
  const e: Engagement = {};
  for (const key of ['impressions', 'reposts', 'replies', 'likes'] as const) {
    const n = optNum(v[key]);
    if (n !== undefined) e[key] = n;
  }
  return Object.keys(e).length ? e : undefined;
}

function channelEntries(raw: Loose): [string, Loose][] {
  const c = raw.channels ?? raw.perChannel;
  if (Array.isArray(c))
    return c
      .filter(isObject)
      .flatMap((x) => (str(x.channel) ? [[str(x.channel)!, x] as [string, Loose]] : []));
  if (isObject(c)) return Object.entries(c).filter((e): e is [string, Loose] => isObject(e[1]));
  return [];
}

function estimateOf(
  raw: Loose,
  channels: ChannelImpact[],
  timeline: TimelinePoint[],
): ImpactEstimate | undefined {
  const firstOf = (channel: string) =>
    channels.find((c) => c.channel === channel)?.firstSentAt ??
    timeline.filter((p) => p.channel === channel).sort((a, b) => a.at.localeCompare(b.at))[0]?.at;
  const top = isObject(raw.estimate) ? raw.estimate : undefined;
  const topSeconds = optNum(top?.secondsToLastRecipient) ?? optNum(raw.estimatedSecondsToLastRecipient);
  if (topSeconds !== undefined) {
    const channel = str(top?.channel) ?? 'sms';
    const from = str(top?.from) ?? str(top?.startedAt) ?? firstOf(channel) ?? timeline[0]?.at;
    return from ? { channel, seconds: topSeconds, from } : undefined;
  }
  for (const [channel, c] of channelEntries(raw)) {
    const seconds = optNum(c.estimatedSecondsToLastRecipient) ?? optNum(c.secondsToLastRecipient);
    const from = firstOf(channel);
    if (seconds !== undefined && from) return { channel, seconds, from };
  }
  return undefined;
}

export function readImpact(body: unknown): Impact {
  const raw = isObject(body) ? body : {};
  const viewsPerChannel = isObject(raw.pageViews)
    ? ((isObject(raw.pageViews.perChannel) ? raw.pageViews.perChannel : raw.pageViews) as Loose)
    : undefined;
  const channels: ChannelImpact[] = channelEntries(raw).map(([channel, c]) => {
    const views = optNum(c.pageViews) ?? optNum(viewsPerChannel?.[channel]);
    const engagement = engagementOf(c.engagement);
    const first = str(c.firstSentAt);
    const last = str(c.lastSentAt);
    return {
      channel,
      recipients: num(c.recipients),
      sent: num(c.sent),
      delivered: num(c.delivered),
      failed: num(c.failed),
      deferred: num(c.deferred),
      clicks: num(c.clicks),
      ...(first ? { firstSentAt: first } : {}),
      ...(last ? { lastSentAt: last } : {}),
      ...(views !== undefined ? { pageViews: views } : {}),
      ...(engagement ? { engagement } : {}),
    };
  });
  const timeline: TimelinePoint[] = (Array.isArray(raw.timeline) ? raw.timeline : [])
    .filter(isObject)
    .flatMap((p) =>
      str(p.at) && str(p.channel) && Number.isFinite(Date.parse(p.at as string))
        ? [{ at: p.at as string, channel: p.channel as string, sent: num(p.sent) }]
        : [],
    );
  const estimate = estimateOf(raw, channels, timeline);
  const direct = optNum(raw.directPageViews);
  return {
    channels,
    pageViews: total(raw.pageViews),
    ...(direct !== undefined ? { directPageViews: direct } : {}),
    tips: total(raw.tips),
    optOutsWithin24h: total(raw.optOutsWithin24h),
    timeline,
    ...(estimate ? { estimate } : {}),
  };
}

export interface ReportFigures {
  period: string;
  periodStart?: string;
  alertsSent: number;
  recipients: number;
  delivered: number;
  /** 0 to 1; undefined when nothing was sent. */
  deliveryRate?: number;
  medianSecondsToLastRecipient?: number;
  subscribersGained: number;
  subscribersLost: number;
}

export interface ReportRow extends ReportFigures {
  zone: string;
  zoneName?: string;
}

export interface Report {
  from?: string;
  to?: string;
  period?: string;
  timeZone?: string;
  rows: ReportRow[];
  /** Agency-wide figures per period, each alert and subscriber counted once (rows per zone do not add up to them). */
  periods: ReportFigures[];
  totals: Record<string, number>;
}

/** A rate from 0 to 1 (null, when nothing was to be delivered, is no rate). */
const rateOf = (v: unknown): number | undefined => {
  const n = optNum(v);
  return n === undefined ? undefined : Math.min(1, Math.max(0, n));
};

function figuresOf(r: Loose): ReportFigures {
  const rate = rateOf(r.deliveryRate);
  const median = optNum(r.medianSecondsToLastRecipient);
  const start = str(r.periodStart);
  return {
    period: str(r.period) ?? start ?? '',
    ...(start ? { periodStart: start } : {}),
    alertsSent: num(r.alertsSent),
    recipients: num(r.recipients),
    delivered: num(r.delivered),
    ...(rate !== undefined ? { deliveryRate: rate } : {}),
    ...(median !== undefined ? { medianSecondsToLastRecipient: median } : {}),
    subscribersGained: num(r.subscribersGained),
    subscribersLost: num(r.subscribersLost),
  };
}

export function readReport(body: unknown): Report {
  const raw = isObject(body) ? body : {};
  const list = Array.isArray(raw.rows) ? raw.rows : Array.isArray(raw.items) ? raw.items : [];
  const rows: ReportRow[] = list.filter(isObject).map((r) => {
    const zoneName = str(r.zoneName);
    return { ...figuresOf(r), zone: str(r.zone) ?? '', ...(zoneName ? { zoneName } : {}) };
  });
  const periods = (Array.isArray(raw.periods) ? raw.periods : []).filter(isObject).map(figuresOf);
  const totals = Object.fromEntries(
    Object.entries(isObject(raw.totals) ? raw.totals : {}).filter(
      (e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1]),
    ),
  );
  return {
    ...(str(raw.from) ? { from: str(raw.from)! } : {}),
    ...(str(raw.to) ? { to: str(raw.to)! } : {}),
    ...(str(raw.period) ? { period: str(raw.period)! } : {}),
    ...(str(raw.timeZone) ? { timeZone: str(raw.timeZone)! } : {}),
    rows,
    periods,
    totals,
  };
}

export interface BrokenEntry {
  alertId?: string;
  entry: string;
  reason: string;
}

export interface Verification {
  ok: boolean;
  checked: number;
  broken: BrokenEntry[];
}

/** An entry the API names by a key, a sequence number or an object of its keys: said as one line of text. */
const entryText = (v: unknown): string =>
  typeof v === 'string' || typeof v === 'number'
    ? String(v)
    : isObject(v)
      ? Object.entries(v)
          .map(([k, x]) => `${k} ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
          .join(', ')
      : '';

export function readVerification(body: unknown): Verification {
  const raw = isObject(body) ? body : {};
  const broken = (Array.isArray(raw.broken) ? raw.broken : []).filter(isObject).map((b) => {
    const alertId = str(b.alertId);
    return { ...(alertId ? { alertId } : {}), entry: entryText(b.entry), reason: str(b.reason) ?? '' };
  });
  // Whole only when the API says so and names nothing broken.
  return { ok: raw.ok === true && broken.length === 0, checked: num(raw.checked), broken };
}
