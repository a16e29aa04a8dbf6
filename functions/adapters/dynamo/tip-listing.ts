/**
 * The tips' listings, newest first: every tip or one state's through the reused indexes (GSI1, GSI2), one alert's
 * through its link partition. A filter the index cannot apply (source, assignee) is applied to what each round
 * reads, and a listing stops after a bounded number of rounds, handing back a cursor where it stopped.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Page, StoredTip, TipFilter } from '../../ports';
import { batchGetAll, type DynamoContext, type Item } from './context';
import { decodeCursor, encodeCursor, GSI1, GSI2, type KeyCursor, keyOf } from './keys';
import { alertTipsPk, TIP_PREFIX, TIP_SK, TIPS_INDEX_PK, tipPk, tipsByStatePk, toTip } from './tip-keys';

/** A listing reads this many items a round when a filter may drop some, and gives up a page after MAX_ROUNDS. */
const FILTERED_ROUND = 100;
const MAX_ROUNDS = 10;

/** What a listing reads of a tip: everything but the thread (read, and audited, one tip at a time). */
const SUMMARY_ATTRIBUTES = [
  'PK',
  'SK',
  'GSI1PK',
  'GSI1SK',
  'GSI2PK',
  'GSI2SK',
  'id',
  'reference',
  'alertId',
  'source',
  'from',
  'text',
  'receivedAt',
  'state',
  'assignee',
  'language',
  'replyBy',
  'externalId',
  'inReplyTo',
  'contactErasedAt',
  'closedAt',
  'updatedAt',
  'answerCount',
] as const;
const SUMMARY_PROJECTION = {
  ProjectionExpression: SUMMARY_ATTRIBUTES.map((_, i) => `#p${i}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(SUMMARY_ATTRIBUTES.map((name, i) => [`#p${i}`, name])),
};

/** Every tip or one state's, newest first; source and assignee filter what each round reads. */
export async function listTipsByIndex(ctx: DynamoContext, filter: TipFilter): Promise<Page<StoredTip>> {
  const index =
    filter.state === undefined
      ? { name: GSI1, pk: 'GSI1PK', sk: 'GSI1SK', value: TIPS_INDEX_PK }
      : { name: GSI2, pk: 'GSI2PK', sk: 'GSI2SK', value: tipsByStatePk(filter.state) };
  const cursorKey = ['PK', 'SK', index.pk, index.sk] as const;
  const start =
    filter.cursor === undefined
      ? undefined
      : decodeCursor(
          filter.cursor,
          cursorKey,
          (key) =>
            (key.PK?.startsWith(TIP_PREFIX) ?? false) && key.SK === TIP_SK && key[index.pk] === index.value,
        );
  const conditions: string[] = [];
  const names: Record<string, string> = { ...SUMMARY_PROJECTION.ExpressionAttributeNames };
  const values: Record<string, unknown> = { ':pk': index.value };
  if (filter.source !== undefined) {
    conditions.push('#fsource = :source');
    names['#fsource'] = 'source';
    values[':source'] = filter.source;
  }
  if (filter.assignee !== undefined) {
    conditions.push('#fassignee = :assignee');
    names['#fassignee'] = 'assignee';
    values[':assignee'] = filter.assignee;
  }
  const filtered = conditions.length > 0;
  const items: Item[] = [];
  let exclusiveStart: Item | undefined = start;
  for (let round = 0; round < MAX_ROUNDS && items.length <= filter.limit; round++) {
    const page = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        IndexName: index.name,
        KeyConditionExpression: `${index.pk} = :pk`,
        ...(filtered ? { FilterExpression: conditions.join(' AND ') } : {}),
        ProjectionExpression: SUMMARY_PROJECTION.ProjectionExpression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: filtered ? FILTERED_ROUND : filter.limit + 1 - items.length,
        ExclusiveStartKey: exclusiveStart,
      }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    exclusiveStart = page.LastEvaluatedKey;
    if (!exclusiveStart) break;
  }
  return pageAfter(items, filter.limit, exclusiveStart, (item) => keyOf(item, cursorKey), toTip);
}

/** One alert's tips: its link partition newest first, each page of links read back in one BatchGetItem. */
export async function listTipsOfAlert(
  ctx: DynamoContext,
  alertId: string,
  filter: TipFilter,
): Promise<Page<StoredTip>> {
  const partition = alertTipsPk(alertId);
  const cursorKey = ['PK', 'SK'] as const;
  const start =
    filter.cursor === undefined
      ? undefined
      : decodeCursor(filter.cursor, cursorKey, (key) => key.PK === partition && (key.SK?.length ?? 0) > 0);
  const matches = (tip: StoredTip) =>
    (filter.state === undefined || tip.state === filter.state) &&
    (filter.source === undefined || tip.source === filter.source) &&
    (filter.assignee === undefined || tip.assignee === filter.assignee);
  const found: { link: Item; tip: StoredTip }[] = [];
  let exclusiveStart: Item | undefined = start;
  for (let round = 0; round < MAX_ROUNDS && found.length <= filter.limit; round++) {
    const page = await ctx.client.send(
      new QueryCommand({
        TableName: ctx.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: false,
        Limit: FILTERED_ROUND,
        ExclusiveStartKey: exclusiveStart,
        ConsistentRead: true,
      }),
    );
    const links = (page.Items ?? []) as Item[];
    const tips = new Map(
      (
        await batchGetAll(
          ctx,
          links.map((link) => ({ PK: tipPk(link.tipId as string), SK: TIP_SK })),
        )
      )
        .map(toTip)
        .map((tip) => [tip.id, tip] as const),
    );
    // A link whose tip is missing is an intake that crashed before its tip: skipped, never shown half-made.
    for (const link of links) {
      const tip = tips.get(link.tipId as string);
      if (tip && matches(tip)) found.push({ link, tip: { ...tip, messages: undefined } });
    }
    exclusiveStart = page.LastEvaluatedKey;
    if (!exclusiveStart) break;
  }
  return pageAfter(
    found,
    filter.limit,
    exclusiveStart,
    (entry) => keyOf(entry.link, cursorKey),
    (entry) => entry.tip,
  );
}

/**
 * A page of up to `limit` from what the rounds read: a cursor after the last one given when more were read, or
 * where the reading stopped when the rounds ran out before the end (a sparse filter); none at the end.
 */
function pageAfter<T, R>(
  read: readonly T[],
  limit: number,
  stoppedAt: Item | undefined,
  cursorOf: (entry: T) => KeyCursor,
  toDomain: (entry: T) => R,
): Page<R> {
  const page = read.slice(0, limit);
  const last = page.at(-1);
  const cursor =
    read.length > limit && last
      ? encodeCursor(cursorOf(last))
      : stoppedAt
        ? encodeCursor(stoppedAt as KeyCursor)
        : undefined;
  return { items: page.map(toDomain), cursor };
}
