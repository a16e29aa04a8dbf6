/**
 * The sandbox providers' outbox: what they accepted, newest first, in one partition. It lives in the embedded
 * mode's table, so what "would have been posted" survives a restart like everything else.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Channel } from '../../../schemas/alert';
import type { OutboxItem, OutboxStore, Page } from '../../ports';
import { countAll, type DynamoContext, type Item } from './context';
import { decodeCursor, OUTBOX_PK, outboxSk, pageOf, stripKeys } from './keys';

const OUTBOX_KEY = ['PK', 'SK'] as const;
/** Pages read while filtering: large enough that a sparse filter does not cost a round trip per item. */
const FILTERED_PAGE = 100;
const LOOKUP_PAGE = 500;

export class DynamoOutboxStore implements OutboxStore {
  constructor(private readonly ctx: DynamoContext) {}

  async append(item: OutboxItem): Promise<void> {
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: {
          ...item,
          PK: OUTBOX_PK,
          SK: outboxSk(item.at, item.providerMessageId),
        },
      }),
    );
  }

  async list(filter: {
    channel?: Channel | undefined;
    alertId?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<OutboxItem> & { total: number }> {
    const { limit } = filter;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive whole number, got ${limit}`);
    const start =
      filter.cursor === undefined
        ? undefined
        : decodeCursor(
            filter.cursor,
            OUTBOX_KEY,
            (key) => key.PK === OUTBOX_PK && (key.SK?.includes('#') ?? false),
          );

    const conditions: string[] = [];
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': OUTBOX_PK };
    if (filter.channel !== undefined) {
      conditions.push('#channel = :channel');
      names['#channel'] = 'channel';
      values[':channel'] = filter.channel;
    }
    if (filter.alertId !== undefined) {
      conditions.push('#alertId = :alertId');
      names['#alertId'] = 'alertId';
      values[':alertId'] = filter.alertId;
    }
    const filtered = conditions.length > 0;
    const query = {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: values,
      ...(filtered ? { FilterExpression: conditions.join(' AND '), ExpressionAttributeNames: names } : {}),
    };

    // Filters apply after Limit, so pages are read until one item more than asked is found (or the end).
    const found: Item[] = [];
    let exclusiveStart: Item | undefined = start;
    do {
      const need = limit + 1 - found.length;
      const page = await this.ctx.client.send(
        new QueryCommand({
          ...query,
          TableName: this.ctx.tableName,
          ScanIndexForward: false,
          Limit: filtered ? Math.max(need, FILTERED_PAGE) : need,
          ExclusiveStartKey: exclusiveStart,
        }),
      );
      found.push(...((page.Items ?? []) as Item[]));
      exclusiveStart = page.LastEvaluatedKey;
    } while (found.length <= limit && exclusiveStart);

    const total = await countAll(this.ctx, query);
    return { ...pageOf(found, limit, OUTBOX_KEY, (item) => stripKeys<OutboxItem>(item)), total };
  }

  /**
   * Reads the table itself, newest first, rather than an index: dynalite writes an item's index entries before
   * the item, so a process killed in between leaves an index entry for a post that was never recorded, and a
   * lookup through the index would confirm a post that never happened. Lookups follow a lost outcome, which is
   * rare, and the post looked for is among the newest, so the scan stops early.
   */
  async findByIdempotencyKey(key: string): Promise<OutboxItem | undefined> {
    let exclusiveStart: Item | undefined;
    do {
      const page = await this.ctx.client.send(
        new QueryCommand({
          TableName: this.ctx.tableName,
          KeyConditionExpression: 'PK = :pk',
          FilterExpression: '#key = :key',
          ExpressionAttributeNames: { '#key': 'idempotencyKey' },
          ExpressionAttributeValues: { ':pk': OUTBOX_PK, ':key': key },
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: LOOKUP_PAGE,
          ExclusiveStartKey: exclusiveStart,
        }),
      );
      const item = page.Items?.[0];
      if (item) return stripKeys<OutboxItem>(item);
      exclusiveStart = page.LastEvaluatedKey;
    } while (exclusiveStart);
    return undefined;
  }
}
