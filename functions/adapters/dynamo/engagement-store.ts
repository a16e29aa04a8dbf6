/**
 * Social engagement on the single table (functions/impact): the newest snapshot of each of the agency's posts, and
 * each network's rate-limit hold.
 *
 *   ENGAGE#<alertId> / <channel>#<postId>   the newest counts of one post (impressions, reposts, replies, likes),
 *                                           polledAt, sentAt, gone; overwritten by each read, never expired: the
 *                                           impact route shows an alert's engagement for as long as the alert is kept
 *   ENGAGE-HOLD / <channel>                 no read of the network before `until` (a 429, or its window nearly
 *                                           spent); expires a day later (TTL)
 *
 * An alert's engagement is one Query on its partition, whatever the number of channels and posts. Plain puts: one
 * poller runs at a time (a ten-minute schedule, a shorter timeout, no retries), and a snapshot is a reading, so the
 * later write of two racing ones is as right as the other.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Channel } from '../../../schemas/alert';
import {
  addCounts,
  definedCounts,
  ENGAGEMENT_FIELDS,
  type EngagementCounts,
  type EngagementSnapshot,
  type EngagementStore,
} from '../../impact/model';
import { type DynamoContext, type Item, queryAll } from './context';

export const ENGAGE_PREFIX = 'ENGAGE#';
export const ENGAGE_HOLD_PK = 'ENGAGE-HOLD';
const HOLD_TTL_SECONDS = 24 * 3600;

export const engagePk = (alertId: string): string => `${ENGAGE_PREFIX}${alertId}`;
export const engageSk = (channel: Channel, postId: string): string => `${channel}#${postId}`;

function snapshotOf(item: Item): EngagementSnapshot {
  const counts: EngagementCounts = {};
  for (const field of ENGAGEMENT_FIELDS)
    if (typeof item[field] === 'number') counts[field] = item[field] as number;
  return {
    alertId: String(item.alertId),
    channel: item.channel as Channel,
    postId: String(item.postId),
    sentAt: String(item.sentAt),
    ...(typeof item.polledAt === 'string' ? { polledAt: item.polledAt } : {}),
    counts,
    ...(item.gone === true ? { gone: true } : {}),
  };
}

export class DynamoEngagementStore implements EngagementStore {
  constructor(private readonly ctx: DynamoContext) {}

  async snapshotsOf(alertId: string): Promise<EngagementSnapshot[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': engagePk(alertId) },
    });
    return items.map(snapshotOf);
  }

  async put(snapshot: EngagementSnapshot): Promise<void> {
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: {
          PK: engagePk(snapshot.alertId),
          SK: engageSk(snapshot.channel, snapshot.postId),
          alertId: snapshot.alertId,
          channel: snapshot.channel,
          postId: snapshot.postId,
          sentAt: snapshot.sentAt,
          ...(snapshot.polledAt ? { polledAt: snapshot.polledAt } : {}),
          ...definedCounts(snapshot.counts),
          ...(snapshot.gone ? { gone: true } : {}),
        },
      }),
    );
  }

  async holdOf(channel: Channel): Promise<string | undefined> {
    const page = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        KeyConditionExpression: 'PK = :pk AND SK = :sk',
        ExpressionAttributeValues: { ':pk': ENGAGE_HOLD_PK, ':sk': channel },
        ConsistentRead: true,
      }),
    );
    const until = page.Items?.[0]?.until;
    return typeof until === 'string' ? until : undefined;
  }

  async hold(channel: Channel, until: string, at: Date): Promise<void> {
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: {
          PK: ENGAGE_HOLD_PK,
          SK: channel,
          until,
          expiresAt: Math.floor(Math.max(Date.parse(until), at.getTime()) / 1000) + HOLD_TTL_SECONDS,
        },
      }),
    );
  }
}

/**
 * An alert's engagement per channel: the newest snapshot of each of its posts on the channel, summed (an update
 * posted as a post of its own counts with the first). A channel appears once one of its posts was read; a field
 * only when its network reports it. What the impact route (api.md "Impact and accountability") shows.
 */
export async function engagementForAlert(
  ctx: DynamoContext,
  alertId: string,
): Promise<Partial<Record<Channel, EngagementCounts>>> {
  const out: Partial<Record<Channel, EngagementCounts>> = {};
  for (const snapshot of await new DynamoEngagementStore(ctx).snapshotsOf(alertId)) {
    if (!snapshot.polledAt) continue;
    out[snapshot.channel] = addCounts(out[snapshot.channel] ?? {}, snapshot.counts);
  }
  return out;
}
