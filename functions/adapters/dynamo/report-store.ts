/**
 * What the reports (functions/core/reports.ts) read, without scanning the table:
 *
 * - Alerts: the ALERTS index (GSI1 = ALERTS / <createdAt>#<id>, on each alert's head) over the range, reaching back
 *   RELEASE_LOOKBACK_DAYS before it for versions released later than their alert was written (a scheduled step goes
 *   out at most 90 days after it was written). Then one Query per alert for its versions and, when one of them went
 *   out in the range, one for its fan-out plans. A version released in the range whose alert was written more than
 *   RELEASE_LOOKBACK_DAYS earlier (an update months after the alert) is not counted: the price of reading the index
 *   by creation rather than every head there is.
 * - Receipts: a paged Query per released version (RCPT#<alertId>, SK prefix <version>#), projected to the channel,
 *   status and history. This is the cost: each receipt of the range is read once per report, about 0.5 KB each, so a
 *   100,000-recipient alert is some 50 MB in 1 MB pages, about 6,400 read request units (eventually consistent; the
 *   projection saves transfer, not units) and a few seconds. No summary is kept beside the delivery path because
 *   receipts keep changing after the fan-out (delivery callbacks turn `sent` into `delivered` or `failed`): counting
 *   them when asked is what makes the figures equal the receipts, which a daily rollup would not without rewriting.
 * - Subscribers: the subscription audit's index (GSI1 = SUBAUDIT / <at>#…) over the range: one item per change,
 *   each carrying the zones it left and joined (subscriber-store.ts).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { ALL_ZONES, isReleased, type Receipt, type StoredVersion } from '../../core/model';
import type { ReportVersion, SubscriberZoneChange } from '../../core/reports';
import { DynamoAlertStore } from './alert-store';
import { DynamoBulkStore } from './bulk-store';
import { type DynamoContext, type Item, inParallel, queryAll } from './context';
import { ALERTS_INDEX_PK, GSI1, pad, receiptPk, SUBSCRIPTION_AUDIT_INDEX_PK } from './keys';
import { zoneChangeOf } from './subscriber-store';

/** How far before the range an alert may have been written and still have a version released in it. */
export const RELEASE_LOOKBACK_DAYS = 92;

/** Alerts read at once: enough to hide latency, few enough not to throttle the api's own requests. */
const ALERTS_IN_FLIGHT = 4;

const DAY_MS = 24 * 3600 * 1000;
/** Sorts after every `<instant>#<id>` that starts with the same instant. */
const AFTER = '~';

/** When a version went out: its release (creation, approval or publishAt), else when it was written. */
const releaseOf = (v: StoredVersion): string => v.releasedAt ?? v.createdAt;

interface ReceiptFigures {
  recipients: number;
  delivered: number;
  failed: number;
  lastSentAt?: string | undefined;
  /** Receipts per channel, to tell planned subscribers not yet sent to. */
  byChannel: Map<string, number>;
}

/** The time a receipt was sent: its last `sent` event (a later callback may have made it `delivered`). */
export function sentAtOf(r: Pick<Receipt, 'status' | 'history' | 'updatedAt'>): string | undefined {
  if (r.status !== 'sent' && r.status !== 'delivered') return undefined;
  const sent = (r.history ?? []).filter((e) => e.status === 'sent').at(-1);
  return sent?.at ?? r.updatedAt;
}

export class DynamoReportStore {
  private readonly alerts: DynamoAlertStore;
  private readonly bulk: DynamoBulkStore;

  constructor(private readonly ctx: DynamoContext) {
    this.alerts = new DynamoAlertStore(ctx);
    this.bulk = new DynamoBulkStore(ctx);
  }

  /** Every Actual version released in [from, to), with what its receipts say. */
  async releasedVersions(from: Date, to: Date): Promise<ReportVersion[]> {
    const heads = await queryAll(this.ctx, {
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :start AND :end',
      ExpressionAttributeValues: {
        ':pk': ALERTS_INDEX_PK,
        ':start': new Date(from.getTime() - RELEASE_LOOKBACK_DAYS * DAY_MS).toISOString(),
        ':end': `${to.toISOString()}${AFTER}`,
      },
      ProjectionExpression: 'alertId',
    });
    const out: ReportVersion[] = [];
    await inParallel(heads, ALERTS_IN_FLIGHT, async (head) => {
      out.push(...(await this.versionsOf(head.alertId as string, from, to)));
    });
    // In the order of their release, whatever order the reads finished in.
    return out.sort((a, b) => a.releasedAt.localeCompare(b.releasedAt) || a.version - b.version);
  }

  private async versionsOf(alertId: string, from: Date, to: Date): Promise<ReportVersion[]> {
    const alert = await this.alerts.getAlert(alertId);
    const released = (alert?.versions ?? []).filter((v) => isReleased(v) && v.content.status === 'Actual');
    // The alert counts as sent with its first released version that is not a cancel, whenever that was.
    const first = released.find((v) => v.msgType !== 'Cancel');
    const inRange = released.filter((v) => {
      const at = Date.parse(releaseOf(v));
      return at >= from.getTime() && at < to.getTime();
    });
    if (inRange.length === 0) return [];
    const plans = await this.bulk.listPlans(alertId);
    const out: ReportVersion[] = [];
    for (const v of inRange) {
      const figures = await this.receiptFigures(alertId, v.version);
      // Subscribers planned but without a receipt yet are recipients still to be sent to.
      let unsent = 0;
      const plan = plans.find((p) => p.version === v.version && p.state === 'written');
      for (const [channel, planned] of Object.entries(plan?.recipients ?? {}))
        unsent += Math.max(0, (planned ?? 0) - (figures.byChannel.get(channel) ?? 0));
      out.push({
        alertId,
        version: v.version,
        first: v === first,
        releasedAt: releaseOf(v),
        zones: [...new Set(v.content.areas.flatMap((a) => (a.zone ? [a.zone] : [])))].filter(
          (z) => z !== ALL_ZONES,
        ),
        recipients: figures.recipients + unsent,
        delivered: figures.delivered,
        failed: figures.failed,
        ...(figures.lastSentAt ? { lastSentAt: figures.lastSentAt } : {}),
      });
    }
    return out;
  }

  /** One version's receipts, a 1 MB page at a time, counted as they come (never all held at once). */
  private async receiptFigures(alertId: string, version: number): Promise<ReceiptFigures> {
    const figures: ReceiptFigures = { recipients: 0, delivered: 0, failed: 0, byChannel: new Map() };
    let start: Item | undefined;
    do {
      const page = await this.ctx.client.send(
        new QueryCommand({
          TableName: this.ctx.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
          ExpressionAttributeValues: { ':pk': receiptPk(alertId), ':prefix': `${pad(version)}#` },
          ProjectionExpression: '#channel, #status, #history, #updatedAt',
          ExpressionAttributeNames: {
            '#channel': 'channel',
            '#status': 'status',
            '#history': 'history',
            '#updatedAt': 'updatedAt',
          },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const r = item as Pick<Receipt, 'channel' | 'status' | 'history' | 'updatedAt'>;
        figures.byChannel.set(r.channel, (figures.byChannel.get(r.channel) ?? 0) + 1);
        if (r.status === 'superseded') continue;
        figures.recipients++;
        if (r.status === 'failed') figures.failed++;
        const sentAt = sentAtOf(r);
        if (sentAt === undefined) continue;
        figures.delivered++;
        if (figures.lastSentAt === undefined || sentAt > figures.lastSentAt) figures.lastSentAt = sentAt;
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return figures;
  }

  /** Subscription changes in [from, to) that carry their zones, oldest first. */
  async subscriberChanges(from: Date, to: Date): Promise<SubscriberZoneChange[]> {
    const items = await queryAll(this.ctx, {
      IndexName: GSI1,
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :start AND :end',
      ExpressionAttributeValues: {
        ':pk': SUBSCRIPTION_AUDIT_INDEX_PK,
        ':start': from.toISOString(),
        ':end': `${to.toISOString()}${AFTER}`,
      },
      ProjectionExpression: '#at, subscriberId, #channel, zonesBefore, zonesAfter',
      ExpressionAttributeNames: { '#at': 'at', '#channel': 'channel' },
    });
    return items.flatMap((item) => {
      const change = zoneChangeOf(item);
      return change ? [change] : [];
    });
  }
}
