/**
 * Delivery receipts: one item per (alert, version, channel, recipient) in the alert's receipt partition. A receipt
 * is claimed and recorded with single-item conditional writes; the lease in the item is what keeps two workers
 * from posting the same message.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Channel } from '../../../schemas/alert';
import type { Receipt, ReceiptEvent, ReceiptKey } from '../../core/model';
import type { ClaimResult, LeaseRequest, ReceiptOutcome, ReceiptStore } from '../../ports';
import {
  claimLease,
  conditionalWrite,
  type DynamoContext,
  type Item,
  isConditionFailure,
  queryAll,
} from './context';
import { GSI1, PROVIDER_INDEX_SK, providerIndexPk, receiptPk, receiptSk, stripKeys } from './keys';

/** Enough parallel writes to plan a large fan-out quickly without one call hogging the connection pool. */
const CREATE_CONCURRENCY = 10;
const DISPATCHER = 'system:dispatcher';

/** Outcome fields that describe only the attempt they end, so a later outcome that leaves them out clears them. */
const ATTEMPT_FIELDS = ['reason', 'nextAttemptAt', 'retryable', 'outcomeUnknown', 'sandbox'] as const;

const keyOf = (key: ReceiptKey) => ({
  PK: receiptPk(key.alertId),
  SK: receiptSk(key.version, key.channel, key.recipient),
});

const toReceipt = (item: Item): Receipt => stripKeys<Receipt>(item);

export class DynamoReceiptStore implements ReceiptStore {
  constructor(private readonly ctx: DynamoContext) {}

  async createReceipts(receipts: ReceiptKey[], at: string): Promise<number> {
    let created = 0;
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (failure === undefined && next < receipts.length) {
        const key = receipts[next++]!;
        try {
          if (await this.createOne(key, at)) created++;
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    // On a failure the workers stop taking new receipts, and the call waits for the writes in flight to end.
    await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, receipts.length) }, worker));
    if (failure) throw failure.error;
    return created;
  }

  private async createOne(key: ReceiptKey, at: string): Promise<boolean> {
    const receipt: Receipt = {
      alertId: key.alertId,
      version: key.version,
      channel: key.channel,
      recipient: key.recipient,
      status: 'queued',
      attempts: 0,
      createdAt: at,
      updatedAt: at,
      history: [{ at, actor: DISPATCHER, status: 'queued', attempt: 0 }],
    };
    return conditionalWrite(
      this.ctx,
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: { ...receipt, ...keyOf(key) },
        // A re-planned fan-out must not reset a receipt that may already have been sent.
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
  }

  async claim(key: ReceiptKey, lease: LeaseRequest & { actor: string }): Promise<ClaimResult> {
    try {
      const { Attributes } = await this.ctx.client.send(claimLease(this.ctx, keyOf(key), lease));
      const previous = toReceipt(Attributes ?? {});
      const receipt: Receipt = {
        ...previous,
        status: 'sending',
        attempts: previous.attempts + 1,
        leaseId: lease.leaseId,
        leaseUntil: lease.leaseUntil,
        updatedAt: lease.now,
      };
      return { kind: 'claimed', receipt, previous };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    const current = await this.get(key);
    if (!current) return { kind: 'missing' };
    const final =
      current.status === 'sent' ||
      current.status === 'delivered' ||
      current.status === 'unknown' ||
      (current.status === 'failed' && current.retryable !== true);
    return final ? { kind: 'done', receipt: current } : { kind: 'busy', receipt: current };
  }

  async record(key: ReceiptKey, leaseId: string, outcome: ReceiptOutcome): Promise<boolean> {
    const names: Record<string, string> = {
      '#status': 'status',
      '#updatedAt': 'updatedAt',
      '#history': 'history',
      '#leaseId': 'leaseId',
      '#leaseUntil': 'leaseUntil',
    };
    const event: ReceiptEvent = {
      at: outcome.at,
      actor: outcome.actor,
      status: outcome.status,
      attempt: outcome.attempt,
      reason: outcome.reason,
      providerMessageId: outcome.providerMessageId,
      // On the event too: the audit shows each event, and a receipt retried after a restart with credentials
      // can hold both sandbox and real attempts.
      ...(outcome.sandbox ? { sandbox: true } : {}),
    };
    const values: Record<string, unknown> = {
      ':status': outcome.status,
      ':at': outcome.at,
      ':event': [event],
      ':sending': 'sending',
      ':leaseId': leaseId,
    };
    const set = ['#status = :status', '#updatedAt = :at', '#history = list_append(#history, :event)'];
    const remove = ['#leaseId', '#leaseUntil'];

    // providerMessageId outlives the attempt that got it: a later failure must not forget what was posted.
    if (outcome.providerMessageId !== undefined) {
      names['#providerMessageId'] = 'providerMessageId';
      values[':providerMessageId'] = outcome.providerMessageId;
      set.push('#providerMessageId = :providerMessageId');
      // Indexed, so a delivery callback that knows only the provider's id finds its receipt.
      values[':gsi1pk'] = providerIndexPk(key.channel, outcome.providerMessageId);
      values[':gsi1sk'] = PROVIDER_INDEX_SK;
      set.push('GSI1PK = :gsi1pk', 'GSI1SK = :gsi1sk');
    }
    for (const field of ATTEMPT_FIELDS) {
      names[`#${field}`] = field;
      if (outcome[field] === undefined) remove.push(`#${field}`);
      else {
        values[`:${field}`] = outcome[field];
        set.push(`#${field} = :${field}`);
      }
    }

    return conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: keyOf(key),
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}`,
        ConditionExpression: '#status = :sending AND #leaseId = :leaseId',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async findByProviderMessageId(
    channel: Channel,
    providerMessageId: string,
  ): Promise<ReceiptKey | undefined> {
    const { Items = [] } = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': providerIndexPk(channel, providerMessageId) },
        ProjectionExpression: 'alertId, #version, channel, recipient',
        ExpressionAttributeNames: { '#version': 'version' },
        Limit: 1,
      }),
    );
    const item = Items[0];
    return item
      ? {
          alertId: item.alertId as string,
          version: item.version as number,
          channel: item.channel as Channel,
          recipient: item.recipient as string,
        }
      : undefined;
  }

  async confirm(
    key: ReceiptKey,
    outcome: { status: 'delivered' | 'failed'; at: string; actor: string; reason?: string | undefined },
  ): Promise<boolean> {
    const current = await this.get(key);
    const event: ReceiptEvent = {
      at: outcome.at,
      actor: outcome.actor,
      status: outcome.status,
      attempt: current?.attempts ?? 0,
      reason: outcome.reason,
    };
    // delivered comes only from sent (a repeated callback changes nothing); failed (a bounce, a carrier
    // failure) from sent or delivered; a delivered one with a reason (a complaint) keeps its status and adds
    // the reason to its history, once: SNS delivers at least once, so the same complaint may come twice.
    const from =
      outcome.status === 'failed' || outcome.reason !== undefined ? ['sent', 'delivered'] : ['sent'];
    const sameNote =
      outcome.status === 'delivered' && outcome.reason !== undefined
        ? ' AND NOT (#status = :from1 AND #reason = :reason)'
        : '';
    return conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: keyOf(key),
        UpdateExpression: `SET #status = :status, #updatedAt = :at, #history = list_append(#history, :event)${
          outcome.reason !== undefined ? ', #reason = :reason' : ''
        }`,
        ConditionExpression: `#status IN (${from.map((_, i) => `:from${i}`).join(', ')})${sameNote}`,
        ExpressionAttributeNames: {
          '#status': 'status',
          '#updatedAt': 'updatedAt',
          '#history': 'history',
          ...(outcome.reason !== undefined ? { '#reason': 'reason' } : {}),
        },
        ExpressionAttributeValues: {
          ':status': outcome.status,
          ':at': outcome.at,
          ':event': [event],
          ...(outcome.reason !== undefined ? { ':reason': outcome.reason } : {}),
          ...Object.fromEntries(from.map((status, i) => [`:from${i}`, status])),
        },
      }),
    );
  }

  async get(key: ReceiptKey): Promise<Receipt | undefined> {
    const { Item: item } = await this.ctx.client.send(
      new GetCommand({ TableName: this.ctx.tableName, Key: keyOf(key), ConsistentRead: true }),
    );
    return item ? toReceipt(item) : undefined;
  }

  async listForAlert(alertId: string): Promise<Receipt[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': receiptPk(alertId) },
      ConsistentRead: true,
    });
    return items.map(toReceipt);
  }
}
