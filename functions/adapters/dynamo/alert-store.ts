/**
 * Alerts: one item per version, in the alert's own partition. The first version's item doubles as the alert's
 * head — it carries the listing index (GSI1) and the latest version number — so creating an alert is one
 * conditional write, all or nothing. Every state change is a single-item conditional write, because dynalite
 * (the embedded mode) has no transactions.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertHead, ApprovalRecord, StoredVersion } from '../../core/model';
import type { AlertStore, Page, PublishTarget } from '../../ports';
import { batchGetAll, conditionalWrite, type DynamoContext, type Item, queryAll } from './context';
import {
  ALERT_PREFIX,
  ALERTS_INDEX_PK,
  alertPk,
  decodeCursor,
  encodeCursor,
  GSI1,
  GSI2,
  headIndexSk,
  keyOf,
  SCHEDULED_INDEX_PK,
  scheduledIndexSk,
  stripKeys,
  UNPLANNED_INDEX_PK,
  unplannedIndexSk,
  VERSION_PREFIX,
  versionSk,
} from './keys';

const HEAD_INDEX_KEY = ['PK', 'SK', 'GSI1PK', 'GSI1SK'] as const;
const SCHEDULED_INDEX_KEY = ['PK', 'SK', 'GSI2PK', 'GSI2SK'] as const;

export class DynamoAlertStore implements AlertStore {
  constructor(private readonly ctx: DynamoContext) {}

  async putVersion(version: StoredVersion): Promise<'created' | 'exists'> {
    const item: Item = {
      ...version,
      // One string, not a map: nothing queries inside the content, and a nested map costs twice the CPU to
      // marshal and serialise (measured: 852 µs against 395 µs a write in the embedded mode).
      content: JSON.stringify(version.content),
      PK: alertPk(version.alertId),
      SK: versionSk(version.version),
    };
    if (version.version === FIRST_VERSION) {
      item.GSI1PK = ALERTS_INDEX_PK;
      item.GSI1SK = headIndexSk(version.createdAt, version.alertId);
      item[HEAD_LATEST] = FIRST_VERSION;
      item[HEAD_UPDATED_AT] = version.createdAt;
    }
    if (version.dispatchStatus === 'pending') {
      item.GSI2PK = UNPLANNED_INDEX_PK;
      // A pending version always has releasedAt in practice; createdAt keeps the sweeper able to find one that doesn't.
      item.GSI2SK = unplannedIndexSk(
        version.releasedAt ?? version.createdAt,
        version.alertId,
        version.version,
      );
    } else if (version.publishAt !== undefined && version.dispatchStatus !== 'superseded') {
      item.GSI2PK = SCHEDULED_INDEX_PK;
      item.GSI2SK = scheduledIndexSk(version.publishAt, version.alertId, version.version);
    }
    const written = await conditionalWrite(
      this.ctx,
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    return written ? 'created' : 'exists';
  }

  async advanceHead(alertId: string, version: number, at: string): Promise<void> {
    // Already at or past this version (a retry, or a racing newer write): the head never moves back.
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(FIRST_VERSION) },
        UpdateExpression: 'SET #latest = :v, #updatedAt = :at',
        ConditionExpression: 'attribute_exists(PK) AND #latest < :v',
        ExpressionAttributeNames: { '#latest': HEAD_LATEST, '#updatedAt': HEAD_UPDATED_AT },
        ExpressionAttributeValues: { ':v': version, ':at': at },
      }),
    );
  }

  async getAlert(
    alertId: string,
  ): Promise<{ head?: AlertHead | undefined; versions: StoredVersion[] } | undefined> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': alertPk(alertId) },
      ConsistentRead: true,
    });
    if (items.length === 0) return undefined;
    // The padded numbers keep the versions oldest first; the first one is the head.
    const versionItems = items.filter((item) => (item.SK as string).startsWith(VERSION_PREFIX));
    const first = versionItems[0];
    return {
      head: first && first.SK === versionSk(FIRST_VERSION) ? toHead(first) : undefined,
      versions: versionItems.map(toVersion),
    };
  }

  async getVersion(alertId: string, version: number): Promise<StoredVersion | undefined> {
    const { Item: item } = await this.ctx.client.send(
      new GetCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(version) },
        ConsistentRead: true,
      }),
    );
    return item ? toVersion(item) : undefined;
  }

  async listAlerts(options: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<{ head: AlertHead; latest: StoredVersion }>> {
    const { limit } = options;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive whole number, got ${limit}`);
    const start = options.cursor === undefined ? undefined : decodeHeadCursor(options.cursor);

    // One item more than asked tells whether a next page exists, so the last page carries no cursor.
    const heads: Item[] = [];
    let exclusiveStart: Item | undefined = start;
    let more = false;
    do {
      const page = await this.ctx.client.send(
        new QueryCommand({
          TableName: this.ctx.tableName,
          IndexName: GSI1,
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': ALERTS_INDEX_PK },
          ScanIndexForward: false,
          Limit: limit + 1 - heads.length,
          ExclusiveStartKey: exclusiveStart,
        }),
      );
      heads.push(...((page.Items ?? []) as Item[]));
      exclusiveStart = page.LastEvaluatedKey;
    } while (heads.length <= limit && exclusiveStart);
    if (heads.length > limit) {
      heads.length = limit;
      more = true;
    }

    // An alert never updated is its own latest version; only the others need a read.
    const latestByKey = new Map<string, StoredVersion>();
    const updated = heads.filter((h) => (h[HEAD_LATEST] as number) > FIRST_VERSION);
    const found = await batchGetAll(
      this.ctx,
      updated.map((h) => ({ PK: h.PK as string, SK: versionSk(h[HEAD_LATEST] as number) })),
    );
    for (const item of found) latestByKey.set(`${item.PK as string}|${item.SK as string}`, toVersion(item));

    const items: { head: AlertHead; latest: StoredVersion }[] = [];
    for (const h of heads) {
      const latestVersion = h[HEAD_LATEST] as number;
      const latest =
        latestVersion === FIRST_VERSION
          ? toVersion(h)
          : latestByKey.get(`${h.PK as string}|${versionSk(latestVersion)}`);
      if (latest) items.push({ head: toHead(h), latest });
    }
    const last = heads[heads.length - 1];
    return { items, cursor: more && last ? encodeCursor(keyOf(last, HEAD_INDEX_KEY)) : undefined };
  }

  async approveVersion(
    alertId: string,
    version: number,
    approval: ApprovalRecord,
    at: string,
    options: { publishAt?: string | undefined } = {},
  ): Promise<'approved' | 'not-held'> {
    // Approved before its publishAt: it waits for its time (it stays in the scheduled index); otherwise it is released.
    const scheduled = options.publishAt !== undefined;
    const written = await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(version) },
        UpdateExpression: scheduled
          ? 'SET #status = :scheduled, #approval = :approval, GSI2PK = :gsi2pk, GSI2SK = :gsi2sk'
          : 'SET #status = :pending, #approval = :approval, #releasedAt = :at, GSI2PK = :gsi2pk, GSI2SK = :gsi2sk',
        ConditionExpression: '#status = :held',
        ExpressionAttributeNames: {
          '#status': 'dispatchStatus',
          '#approval': 'approval',
          ...(scheduled ? {} : { '#releasedAt': 'releasedAt' }),
        },
        ExpressionAttributeValues: {
          ...(scheduled
            ? {
                ':scheduled': 'scheduled',
                ':gsi2pk': SCHEDULED_INDEX_PK,
                ':gsi2sk': scheduledIndexSk(options.publishAt as string, alertId, version),
              }
            : {
                ':pending': 'pending',
                ':at': at,
                ':gsi2pk': UNPLANNED_INDEX_PK,
                ':gsi2sk': unplannedIndexSk(at, alertId, version),
              }),
          ':held': 'held',
          ':approval': approval,
        },
      }),
    );
    return written ? 'approved' : 'not-held';
  }

  async releaseScheduled(
    alertId: string,
    version: number,
    at: string,
  ): Promise<'released' | 'not-scheduled'> {
    // The one transition that lets a scheduled version out. Conditional, so a cancel, a replacement or a withdrawal
    // that got there first wins, and two releasers (the timer and the sweeper) release it once.
    const written = await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(version) },
        UpdateExpression: 'SET #status = :pending, #releasedAt = :at, GSI2PK = :gsi2pk, GSI2SK = :gsi2sk',
        ConditionExpression: '#status = :scheduled',
        ExpressionAttributeNames: { '#status': 'dispatchStatus', '#releasedAt': 'releasedAt' },
        ExpressionAttributeValues: {
          ':pending': 'pending',
          ':scheduled': 'scheduled',
          ':at': at,
          ':gsi2pk': UNPLANNED_INDEX_PK,
          ':gsi2sk': unplannedIndexSk(at, alertId, version),
        },
      }),
    );
    return written ? 'released' : 'not-scheduled';
  }

  async revokeRelease(alertId: string, version: number): Promise<boolean> {
    return conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(version) },
        UpdateExpression: 'SET #status = :superseded REMOVE GSI2PK, GSI2SK',
        ConditionExpression: '#status = :pending AND attribute_not_exists(#plannedAt)',
        ExpressionAttributeNames: { '#status': 'dispatchStatus', '#plannedAt': 'plannedAt' },
        ExpressionAttributeValues: { ':superseded': 'superseded', ':pending': 'pending' },
      }),
    );
  }

  async withdrawVersion(
    alertId: string,
    version: number,
    withdrawn: { by: string; at: string },
  ): Promise<'withdrawn' | 'not-waiting'> {
    const written = await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(version) },
        UpdateExpression: 'SET #status = :withdrawn, #withdrawn = :by REMOVE GSI2PK, GSI2SK',
        ConditionExpression: '#status IN (:held, :scheduled)',
        ExpressionAttributeNames: { '#status': 'dispatchStatus', '#withdrawn': 'withdrawn' },
        ExpressionAttributeValues: {
          ':withdrawn': 'withdrawn',
          ':by': withdrawn,
          ':held': 'held',
          ':scheduled': 'scheduled',
        },
      }),
    );
    return written ? 'withdrawn' : 'not-waiting';
  }

  async findScheduled(options: {
    dueBy?: string | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<PublishTarget & { dispatchStatus: StoredVersion['dispatchStatus'] }>> {
    const { limit } = options;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive whole number, got ${limit}`);
    const start = options.cursor === undefined ? undefined : decodeScheduledCursor(options.cursor);
    const { Items = [], LastEvaluatedKey } = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        IndexName: GSI2,
        // "<dueBy>#…" sorts after dueBy: a version due at that very millisecond is found with dueBy + 1 ms; the
        // callers pass "now", and a version is due when its time is not after it, so they pass the bound as "now~".
        KeyConditionExpression:
          options.dueBy === undefined ? 'GSI2PK = :pk' : 'GSI2PK = :pk AND GSI2SK < :before',
        ExpressionAttributeValues: {
          ':pk': SCHEDULED_INDEX_PK,
          ...(options.dueBy === undefined ? {} : { ':before': `${options.dueBy}~` }),
        },
        ProjectionExpression: 'PK, SK, GSI2PK, GSI2SK, #alertId, #version, #publishAt, #status',
        ExpressionAttributeNames: {
          '#alertId': 'alertId',
          '#version': 'version',
          '#publishAt': 'publishAt',
          '#status': 'dispatchStatus',
        },
        Limit: limit,
        ExclusiveStartKey: start,
      }),
    );
    const items = Items.map((item) => ({
      alertId: item.alertId as string,
      version: item.version as number,
      at: item.publishAt as string,
      dispatchStatus: item.dispatchStatus as StoredVersion['dispatchStatus'],
    }));
    const last = Items.at(-1);
    return {
      items,
      cursor: LastEvaluatedKey && last ? encodeCursor(keyOf(last, SCHEDULED_INDEX_KEY)) : undefined,
    };
  }

  async supersedeVersion(alertId: string, version: number): Promise<void> {
    // Not waiting (approved and out meanwhile, released at its time, or already superseded): nothing to replace.
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(version) },
        UpdateExpression: 'SET #status = :superseded REMOVE GSI2PK, GSI2SK',
        ConditionExpression: '#status IN (:held, :scheduled)',
        ExpressionAttributeNames: { '#status': 'dispatchStatus' },
        ExpressionAttributeValues: {
          ':superseded': 'superseded',
          ':held': 'held',
          ':scheduled': 'scheduled',
        },
      }),
    );
  }

  async markPlanned(alertId: string, version: number, receiptsPlanned: number, at: string): Promise<void> {
    // Held or superseded versions are not for fan-out; a stray dispatch of one changes nothing.
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(version) },
        // A re-dispatch keeps the first plannedAt: it is when the fan-out really started.
        UpdateExpression:
          'SET #status = :planned, #plannedAt = if_not_exists(#plannedAt, :at), #planned = :n REMOVE GSI2PK, GSI2SK',
        ConditionExpression: '#status IN (:pending, :planned)',
        ExpressionAttributeNames: {
          '#status': 'dispatchStatus',
          '#plannedAt': 'plannedAt',
          '#planned': 'receiptsPlanned',
        },
        ExpressionAttributeValues: {
          ':planned': 'planned',
          ':pending': 'pending',
          ':at': at,
          ':n': receiptsPlanned,
        },
      }),
    );
  }

  async countSettled(alertId: string, version: number, count: number): Promise<void> {
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: alertPk(alertId), SK: versionSk(version) },
        UpdateExpression: 'ADD #settled :n',
        // Without it, ADD on a missing version would create a stray item that reads as a broken version.
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#settled': 'receiptsSettled' },
        ExpressionAttributeValues: { ':n': count },
      }),
    );
  }

  async findUnplanned(
    releasedBefore: string,
    limit: number,
  ): Promise<{ alertId: string; version: number }[]> {
    if (limit < 1) return [];
    const { Items = [] } = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        IndexName: GSI2,
        // The sort key starts with releasedAt, and "<releasedBefore>#…" > releasedBefore: the bound is strict.
        KeyConditionExpression: 'GSI2PK = :pk AND GSI2SK < :before',
        ExpressionAttributeValues: { ':pk': UNPLANNED_INDEX_PK, ':before': releasedBefore },
        ProjectionExpression: '#alertId, #version',
        ExpressionAttributeNames: { '#alertId': 'alertId', '#version': 'version' },
        Limit: limit,
      }),
    );
    return Items.map((item) => ({ alertId: item.alertId as string, version: item.version as number }));
  }
}

/** The head attributes the first version's item carries; not part of the version itself. */
const HEAD_LATEST = 'headLatestVersion';
const HEAD_UPDATED_AT = 'headUpdatedAt';
const FIRST_VERSION = 1;

function toVersion(item: Item): StoredVersion {
  const { [HEAD_LATEST]: _latest, [HEAD_UPDATED_AT]: _updated, content, ...rest } = item;
  return { ...stripKeys<Omit<StoredVersion, 'content'>>(rest), content: JSON.parse(content as string) };
}

function toHead(first: Item): AlertHead {
  return {
    alertId: first.alertId as string,
    createdAt: first.createdAt as string,
    updatedAt: first[HEAD_UPDATED_AT] as string,
    latestVersion: first[HEAD_LATEST] as number,
    author: first.author as string,
  };
}

function decodeHeadCursor(cursor: string): Item {
  return decodeCursor(cursor, HEAD_INDEX_KEY, (key) => {
    const alertId = key.PK?.startsWith(ALERT_PREFIX) ? key.PK.slice(ALERT_PREFIX.length) : '';
    return (
      alertId.length > 0 &&
      key.SK === versionSk(FIRST_VERSION) &&
      key.GSI1PK === ALERTS_INDEX_PK &&
      (key.GSI1SK?.endsWith(`#${alertId}`) ?? false) &&
      (key.GSI1SK?.length ?? 0) > alertId.length + 1
    );
  });
}

function decodeScheduledCursor(cursor: string): Item {
  return decodeCursor(
    cursor,
    SCHEDULED_INDEX_KEY,
    (key) =>
      (key.PK?.startsWith(ALERT_PREFIX) ?? false) &&
      (key.SK?.startsWith(VERSION_PREFIX) ?? false) &&
      key.GSI2PK === SCHEDULED_INDEX_PK &&
      (key.GSI2SK?.includes(`#${key.PK?.slice(ALERT_PREFIX.length)}#`) ?? false),
  );
}
