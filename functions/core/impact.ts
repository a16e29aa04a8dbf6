/**
 * What one alert achieved, from what Herald recorded (api.md "Impact and accountability"): pure figures, no I/O.
 *
 * Per channel, over every version of the alert:
 * - `recipients`: the distinct recipients Herald addressed (subscribers by id, an outlet, the agency's account): an
 *   update or a cancel goes to the original's audience (invariant 3), so this is the first version's audience plus
 *   anyone a later version added (a channel named only in an update), each counted once however many versions they
 *   received;
 * - `sent`: messages the provider accepted (receipts that reached `sent`, including those later `delivered`, or
 *   `failed` by a bounce after being sent), one per (version, recipient): an alert and its update to 2,000 residents
 *   are 4,000 messages to 2,000 recipients;
 * - `delivered` and `failed`: receipts in that state now; `deferred`: messages that waited for the end of the
 *   resident's quiet hours (their receipt's history says `deferred`), whether or not they have gone out since;
 * - `firstSentAt`, `lastSentAt`: the first and last provider acceptance;
 * - `clicks`: clicks on the channel's own link (./links.ts), every day summed; `pageViews`: views of the alert's page
 *   that came through that link; `engagement`: what the network reported of its posts, when it did.
 * Beside them: `pageViews` in all, `directPageViews` (no channel's link), `tips` linked to the alert, and
 * `optOutsWithin24h`: residents who had been sent the alert by SMS or email and STOPped within 24 hours of its first
 * send. The `timeline` is each channel's cumulative `sent`, one point per second in which some were sent (the last
 * instant of that second): the chart's steps, exact at every point, and bounded however many residents there are.
 */
import type { Channel } from '../../schemas/alert';
import type { DeliveryStatus } from '../../schemas/delivery';
import type { EngagementCounts } from '../impact/model';
import { DIRECT_SOURCE, type ViewSource } from './links';
import type { Receipt } from './model';

/** One counter: how many on one UTC day for one channel (clicks) or source (views). */
export interface DailyCount<What extends string = string> {
  day: string;
  what: What;
  count: number;
}

/** A subscriber's STOP (or web unsubscribe), as the subscription audit recorded it. */
export interface OptOut {
  subscriberId: string;
  at: string;
}

/**
 * The counters the residents' site writes and the impact route's reads besides receipts (on DynamoDB:
 * functions/adapters/dynamo/impact-store.ts). Writes hold nothing but the count: no address, no user agent.
 */
export interface ImpactStore {
  countClick(alertId: string, channel: Channel, day: string): Promise<void>;
  countView(alertId: string, source: ViewSource, day: string): Promise<void>;
  clicks(alertId: string): Promise<DailyCount<Channel>[]>;
  views(alertId: string): Promise<DailyCount<ViewSource>[]>;
  tipCount(alertId: string): Promise<number>;
  /** Opt-outs recorded from `from` up to and including `to`. */
  optOutsBetween(from: string, to: string): Promise<OptOut[]>;
  engagement(alertId: string): Promise<Partial<Record<Channel, EngagementCounts>>>;
}

/** The impact store of the store the handlers are given (a property of it, as the tips are). */
export function impactStoreOf(store: object): ImpactStore {
  const impact = (store as { impact?: ImpactStore }).impact;
  if (!impact) throw new Error('the store keeps no impact counters: compose the handlers with DynamoStore');
  return impact;
}

/** The window after the first send in which an opt-out is put down to the alert. */
export const OPT_OUT_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Channels whose recipients are residents who can opt out (SMS and email subscribers). */
const OPT_OUT_CHANNELS: ReadonlySet<Channel> = new Set(['sms', 'email']);

export type ImpactReceipt = Pick<Receipt, 'channel' | 'recipient' | 'version' | 'status' | 'history'>;

export interface ChannelImpact {
  recipients: number;
  sent: number;
  delivered: number;
  failed: number;
  deferred: number;
  firstSentAt?: string | undefined;
  lastSentAt?: string | undefined;
  clicks: number;
  pageViews: number;
  engagement?: EngagementCounts | undefined;
}

export interface TimelinePoint {
  at: string;
  channel: Channel;
  /** Messages sent on the channel up to and including `at`. */
  sent: number;
}

export interface AlertImpact {
  alertId: string;
  channels: Partial<Record<Channel, ChannelImpact>>;
  pageViews: number;
  directPageViews: number;
  tips: number;
  optOutsWithin24h: number;
  timeline: TimelinePoint[];
  /** The preview's estimate of when the last SMS recipient is reached, for the timeline to be read against. */
  estimate?: SmsEstimate | undefined;
}

/** How long the last SMS recipient waits after the first send, at the account's rate (what the preview says). */
export interface SmsEstimate {
  channel: 'sms';
  /** The SMS channel's first send: the estimate counts from it. */
  from: string;
  recipients: number;
  /** Segments per message, the longest of the alert's languages (each segment counts against the rate). */
  segments: number;
  messagesPerSecond: number;
  secondsToLastRecipient: number;
}

/**
 * Recipients times segments over the account's messages per second, to a tenth of a second: the one formula the
 * preview (before sending) and the impact route (after) both show, so the two can be compared.
 */
export const secondsToLastRecipient = (
  recipients: number,
  segments: number,
  messagesPerSecond: number,
): number => Math.round(((recipients * segments) / messagesPerSecond) * 10) / 10;

export interface ImpactInputs {
  alertId: string;
  /** The channels the alert's versions name, in the order to show them. */
  channels: readonly Channel[];
  receipts: readonly ImpactReceipt[];
  clicks: readonly Pick<DailyCount<Channel>, 'what' | 'count'>[];
  views: readonly Pick<DailyCount<ViewSource>, 'what' | 'count'>[];
  tips: number;
  /** Opt-outs recorded in the window (optOutWindow), in any order; those of non-recipients are left out here. */
  optOuts: readonly OptOut[];
  engagement: Partial<Record<Channel, EngagementCounts>>;
}

/**
 * When the provider accepted the message: the receipt's first `sent` event (a `delivered` one when the callback's
 * event is all there is); undefined when it never went out.
 */
export function sentAtOf(receipt: Pick<Receipt, 'status' | 'history'>): string | undefined {
  const reached = (status: DeliveryStatus) => receipt.history.find((e) => e.status === status)?.at;
  return reached('sent') ?? reached('delivered');
}

const wasDeferred = (receipt: Pick<Receipt, 'history'>) =>
  receipt.history.some((e) => e.status === 'deferred');

/** The instants between which opt-outs are counted: from the alert's first send, 24 hours; none before it went out. */
export function optOutWindow(receipts: readonly ImpactReceipt[]): { from: string; to: string } | undefined {
  const first = receipts
    .map(sentAtOf)
    .filter((at): at is string => at !== undefined)
    .sort()[0];
  if (!first) return undefined;
  return { from: first, to: new Date(Date.parse(first) + OPT_OUT_WINDOW_MS).toISOString() };
}

export function computeImpact(input: ImpactInputs): AlertImpact {
  const channels = [...new Set([...input.channels, ...input.receipts.map((r) => r.channel)])];
  const byChannel = new Map<Channel, ImpactReceipt[]>(channels.map((c) => [c, []]));
  for (const receipt of input.receipts) byChannel.get(receipt.channel)!.push(receipt);

  const sum = <W extends string>(rows: readonly { what: W; count: number }[], what: W) =>
    rows.reduce((n, row) => (row.what === what ? n + row.count : n), 0);

  const out: Partial<Record<Channel, ChannelImpact>> = {};
  const timeline: TimelinePoint[] = [];
  for (const channel of channels) {
    const receipts = byChannel.get(channel) ?? [];
    const sentTimes = receipts
      .map(sentAtOf)
      .filter((at): at is string => at !== undefined)
      .sort();
    const engagement = input.engagement[channel];
    out[channel] = {
      recipients: new Set(receipts.map((r) => r.recipient)).size,
      sent: sentTimes.length,
      delivered: receipts.filter((r) => r.status === 'delivered').length,
      failed: receipts.filter((r) => r.status === 'failed').length,
      deferred: receipts.filter(wasDeferred).length,
      ...(sentTimes.length ? { firstSentAt: sentTimes[0], lastSentAt: sentTimes.at(-1) } : {}),
      clicks: sum(input.clicks, channel),
      pageViews: sum(input.views, channel),
      ...(engagement ? { engagement } : {}),
    };
    timeline.push(...cumulative(channel, sentTimes));
  }
  timeline.sort((a, b) => a.at.localeCompare(b.at) || a.channel.localeCompare(b.channel));

  const residents = new Set(
    input.receipts
      .filter((r) => OPT_OUT_CHANNELS.has(r.channel) && sentAtOf(r) !== undefined)
      .map((r) => r.recipient),
  );
  const window = optOutWindow(input.receipts);
  const optedOut = new Set(
    input.optOuts
      .filter((o) => window && o.at >= window.from && o.at <= window.to && residents.has(o.subscriberId))
      .map((o) => o.subscriberId),
  );

  return {
    alertId: input.alertId,
    channels: out,
    pageViews: input.views.reduce((n, row) => n + row.count, 0),
    directPageViews: sum(input.views, DIRECT_SOURCE),
    tips: input.tips,
    optOutsWithin24h: optedOut.size,
    timeline,
  };
}

/** One point per second in which messages went out: the last instant of it, with the running total. */
function cumulative(channel: Channel, sortedTimes: readonly string[]): TimelinePoint[] {
  const points: TimelinePoint[] = [];
  sortedTimes.forEach((at, i) => {
    const last = points.at(-1);
    const point = { at, channel, sent: i + 1 };
    if (last && last.at.slice(0, 19) === at.slice(0, 19)) points[points.length - 1] = point;
    else points.push(point);
  });
  return points;
}
