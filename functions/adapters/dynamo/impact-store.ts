/**
 * What the impact route reads beyond receipts, and the two counters the residents' site writes (layout in table.ts):
 *
 *   CLICKS#<alertId> / <YYYY-MM-DD>#<channel>   `count`: clicks on the channel's link to the alert that UTC day
 *   VIEWS#<alertId>  / <YYYY-MM-DD>#<source>    `count`: loads of the alert page's view image that day, by the
 *                                               channel whose link brought the reader, or `direct`
 *
 * A counter is one item updated by one atomic ADD: no read first, no condition, so concurrent clicks never lose one
 * and a click costs one write. Nothing else is written: no time finer than the day, no address, no user agent, no
 * cookie, no referrer; only the count. The alert's tips are counted from the tips' own per-alert index
 * (TIPALERT#<alertId>, tip-store.ts) and its opt-outs from the subscription audit's time index (GSI1 SUBAUDIT), so
 * nothing here scans the table.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Channel } from '../../../schemas/alert';
import type { DailyCount, ImpactStore, OptOut } from '../../core/impact';
import type { ViewSource } from '../../core/links';
import type { EngagementCounts } from '../../impact/model';
import { countAll, type DynamoContext, queryAll } from './context';
import { engagementForAlert } from './engagement-store';
import { GSI1, SUBSCRIPTION_AUDIT_INDEX_PK } from './keys';
import { alertTipsPk } from './tip-keys';

export const CLICKS_PREFIX = 'CLICKS#';
export const VIEWS_PREFIX = 'VIEWS#';
export const clicksPk = (alertId: string) => `${CLICKS_PREFIX}${alertId}`;
export const viewsPk = (alertId: string) => `${VIEWS_PREFIX}${alertId}`;
export const counterSk = (day: string, what: string) => `${day}#${what}`;

export class DynamoImpactStore implements ImpactStore {
  constructor(private readonly ctx: DynamoContext) {}

  /** One more click on `channel`'s link to the alert on `day`. */
  countClick(alertId: string, channel: Channel, day: string): Promise<void> {
    return this.add(clicksPk(alertId), counterSk(day, channel));
  }

  /** One more view of the alert's page on `day`, from `source`. */
  countView(alertId: string, source: ViewSource, day: string): Promise<void> {
    return this.add(viewsPk(alertId), counterSk(day, source));
  }

  clicks(alertId: string): Promise<DailyCount<Channel>[]> {
    return this.counts<Channel>(clicksPk(alertId));
  }

  views(alertId: string): Promise<DailyCount<ViewSource>[]> {
    return this.counts<ViewSource>(viewsPk(alertId));
  }

  /** Tips linked to the alert, from the tips' per-alert index (one key per tip). */
  tipCount(alertId: string): Promise<number> {
    return countAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': alertTipsPk(alertId) },
    });
  }

  /** Every opt-out (`stopped`) recorded from `from` up to and including `to` (ISO instants), oldest first. */
  async optOutsBetween(from: string, to: string): Promise<OptOut[]> {
    const items = await queryAll(this.ctx, {
      IndexName: GSI1,
      // The index's sort key is <at>#<subscriberId>#<unique>: `~` sorts after `#`, so `to` itself is in.
      KeyConditionExpression: 'GSI1PK = :pk AND GSI1SK BETWEEN :from AND :to',
      FilterExpression: '#action = :stopped',
      ExpressionAttributeNames: { '#action': 'action', '#at': 'at' },
      ExpressionAttributeValues: {
        ':pk': SUBSCRIPTION_AUDIT_INDEX_PK,
        ':from': from,
        ':to': `${to}~`,
        ':stopped': 'stopped',
      },
      ProjectionExpression: 'subscriberId, #at',
    });
    return items.map((item) => ({ subscriberId: String(item.subscriberId), at: String(item.at) }));
  }

  /** Social engagement per channel, as the engagement poller last read it (engagement-store.ts). */
  engagement(alertId: string): Promise<Partial<Record<Channel, EngagementCounts>>> {
    return engagementForAlert(this.ctx, alertId);
  }

  private async add(pk: string, sk: string): Promise<void> {
    await this.ctx.client.send(
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: pk, SK: sk },
        UpdateExpression: 'ADD #count :one',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':one': 1 },
      }),
    );
  }

  private async counts<What extends string>(pk: string): Promise<DailyCount<What>[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': pk },
    });
    return items.map((item) => {
      const sk = String(item.SK);
      const split = sk.indexOf('#');
      return { day: sk.slice(0, split), what: sk.slice(split + 1) as What, count: Number(item.count ?? 0) };
    });
  }
}
