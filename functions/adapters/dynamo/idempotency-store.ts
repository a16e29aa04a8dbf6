/** Idempotency records of API requests, one item per (scope, key), expired by DynamoDB TTL on `expiresAt`. */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyRecord, StoredResponse } from '../../core/model';
import type { BeginResult, IdempotencyStore } from '../../ports';
import { conditionalWrite, type DynamoContext, isConditionFailure } from './context';
import { idempotencyPk, stripKeys } from './keys';

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(private readonly ctx: DynamoContext) {}

  async begin(record: IdempotencyRecord, now: string): Promise<BeginResult> {
    const nowSeconds = Math.floor(Date.parse(now) / 1000);
    if (!Number.isFinite(nowSeconds)) throw new RangeError(`now must be an ISO 8601 date-time, got "${now}"`);
    const key = { PK: idempotencyPk(record.scope), SK: record.key };
    // Two rounds: the record seen by the failed write can expire and vanish before it is read back.
    for (let round = 0; round < 2; round++) {
      try {
        await this.ctx.client.send(
          new PutCommand({
            TableName: this.ctx.tableName,
            Item: { ...record, ...key },
            // TTL deletes lazily (up to days late), so an expired record still in the table counts as absent.
            ConditionExpression: 'attribute_not_exists(PK) OR #expiresAt < :now',
            ExpressionAttributeNames: { '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: { ':now': nowSeconds },
          }),
        );
        return { kind: 'started', record };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
      const { Item: existing } = await this.ctx.client.send(
        new GetCommand({ TableName: this.ctx.tableName, Key: key, ConsistentRead: true }),
      );
      if (existing) return { kind: 'existing', record: stripKeys<IdempotencyRecord>(existing) };
    }
    throw new Error(
      `idempotency record ${record.scope}/${record.key} kept changing under a conditional write`,
    );
  }

  async complete(scope: string, key: string, response: StoredResponse): Promise<void> {
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: idempotencyPk(scope), SK: key },
        UpdateExpression: 'SET #state = :done, #response = :response',
        // A record that expired meanwhile stays gone: a stub with only a response would replay without a hash.
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#state': 'state', '#response': 'response' },
        ExpressionAttributeValues: { ':done': 'done', ':response': response },
      }),
    );
  }
}
