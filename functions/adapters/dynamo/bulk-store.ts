/**
 * The subscriber fan-out in the table: a plan record per version, one item per send job, and receipts written and
 * read in batches. Sizes are what makes a 100,000-recipient alert cheap: one BatchWriteItem carries 25 job items
 * or receipts, one BatchGetItem reads 100 receipts, and one job item's update records whom 100 messages reached.
 *
 * Items (PK / SK):
 *   PLAN#<alertId> / <000000v>                              the version's plan record (writing | written | waiting)
 *   JOB#<alertId>  / <000000v>#<channel>#<000000index>      one send job; `sent` (a String Set) is its audience,
 *                                                           with `deferred` (those waiting for their quiet hours)
 * A deferral (deferral-store.ts) is claimed, windowed and finished here exactly as a job is: a SendJobKey with
 * `deferredUntil` names it, and finishing it takes it off the index the sweeper reads.
 * Receipts keep their own layout (RCPT#<alertId> / <000000v>#<channel>#<recipient>, receipt-store.ts).
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Channel } from '../../../schemas/alert';
import type { DeliveryStatus } from '../../../schemas/delivery';
import type { Receipt, ReceiptKey, SubscriberChannel } from '../../core/model';
import type {
  BulkStore,
  FanoutPlanRecord,
  JobOutcome,
  LeaseRequest,
  Page,
  PlanAcquire,
  ReceiptFilter,
  SendJob,
  SendJobClaim,
  SendJobKey,
  SendWindow,
} from '../../ports';
import {
  batchGetAll,
  batchWriteAll,
  claimLease,
  conditionalWrite,
  type DynamoContext,
  type Item,
  isConditionFailure,
  queryAll,
} from './context';
import {
  decodeCursor,
  deferralPk,
  deferralSk,
  encodeCursor,
  PROVIDER_INDEX_SK,
  pad,
  providerIndexPk,
  receiptPk,
  receiptSk,
  stripKeys,
} from './keys';

/** Batches in flight at once: enough to hide latency, few enough not to throttle ourselves. */
const BATCH_CONCURRENCY = 4;

const planPk = (alertId: string) => `PLAN#${alertId}`;
const jobPk = (alertId: string) => `JOB#${alertId}`;
const jobPrefix = (version: number, channel?: string) =>
  channel === undefined ? `${pad(version)}#` : `${pad(version)}#${channel}#`;
const jobSk = (key: SendJobKey) =>
  `${jobPrefix(key.version, key.channel)}${String(key.index).padStart(6, '0')}`;
const jobKey = (key: SendJobKey) =>
  key.deferredUntil === undefined
    ? { PK: jobPk(key.alertId), SK: jobSk(key) }
    : {
        PK: deferralPk(key.alertId),
        SK: deferralSk(key.version, key.channel, key.index, key.deferredUntil),
      };
const receiptKey = (key: ReceiptKey) => ({
  PK: receiptPk(key.alertId),
  SK: receiptSk(key.version, key.channel, key.recipient),
});

type StringSets = 'sent' | 'deferred' | 'recipients';

export function toJob(item: Item): SendJob {
  const job = stripKeys<Omit<SendJob, StringSets> & Record<StringSets, Set<string> | string[] | undefined>>(
    item,
  );
  // A String Set comes back as a Set (a deferral's recipients are one too); the domain speaks arrays.
  for (const name of ['sent', 'deferred', 'recipients'] as const) {
    const value = job[name];
    if (value instanceof Set) job[name] = [...value];
  }
  return job as SendJob;
}

/** Runs `task` over chunks of `items`, a few at a time. */
export class DynamoBulkStore implements BulkStore {
  constructor(private readonly ctx: DynamoContext) {}

  // ---------------------------------------------------------------- plans

  async acquirePlan(
    alertId: string,
    version: number,
    purpose: 'writing' | 'waiting',
    times: { now: string; until: string },
  ): Promise<PlanAcquire> {
    const record: FanoutPlanRecord = { alertId, version, state: purpose, until: times.until };
    const taken = await conditionalWrite(
      this.ctx,
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: { PK: planPk(alertId), SK: pad(version), ...record },
        // A written plan is never taken again: its jobs may already be sending.
        ConditionExpression: 'attribute_not_exists(PK) OR (#state <> :written AND #until < :now)',
        ExpressionAttributeNames: { '#state': 'state', '#until': 'until' },
        ExpressionAttributeValues: { ':written': 'written', ':now': times.now },
      }),
    );
    if (taken) return { kind: 'acquired' };
    const { Item: item } = await this.ctx.client.send(
      new GetCommand({
        TableName: this.ctx.tableName,
        Key: { PK: planPk(alertId), SK: pad(version) },
        ConsistentRead: true,
      }),
    );
    const current = stripKeys<FanoutPlanRecord>(item ?? {});
    return current.state === 'written'
      ? { kind: 'written', record: current }
      : { kind: 'held', record: current };
  }

  async finishPlan(record: FanoutPlanRecord & { state: 'written' }): Promise<void> {
    const { until: _until, ...written } = record;
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: { PK: planPk(record.alertId), SK: pad(record.version), ...written },
      }),
    );
  }

  async listPlans(alertId: string): Promise<FanoutPlanRecord[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': planPk(alertId) },
      ConsistentRead: true,
    });
    return items.map((i) => stripKeys<FanoutPlanRecord>(i));
  }

  // ---------------------------------------------------------------- jobs

  async putJobs(jobs: SendJob[]): Promise<void> {
    await batchWriteAll(
      this.ctx,
      jobs.map((job) => ({ PutRequest: { Item: { ...job, ...jobKey(job) } } })),
      BATCH_CONCURRENCY,
    );
  }

  async deleteJobs(alertId: string, version: number): Promise<void> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': jobPk(alertId), ':prefix': jobPrefix(version) },
      ProjectionExpression: 'PK, SK',
      ConsistentRead: true,
    });
    await batchWriteAll(
      this.ctx,
      items.map((key) => ({ DeleteRequest: { Key: { PK: key.PK, SK: key.SK } } })),
      BATCH_CONCURRENCY,
    );
  }

  async listJobs(alertId: string, version: number, channel?: SubscriberChannel): Promise<SendJob[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': jobPk(alertId), ':prefix': jobPrefix(version, channel) },
      ConsistentRead: true,
    });
    return items.map(toJob);
  }

  async claimJob(key: SendJobKey, lease: LeaseRequest, firstWindow?: SendWindow): Promise<SendJobClaim> {
    // A first attempt writes its first window with the claim. A re-claim (rare: a crash, a retry) must keep the
    // window a dead attempt left, so it is claimed by the general condition, one request later.
    const attempts = firstWindow
      ? [claimLease(this.ctx, jobKey(key), lease, { firstAttempt: { window: firstWindow } })]
      : [];
    attempts.push(claimLease(this.ctx, jobKey(key), lease));
    for (const command of attempts)
      try {
        const { Attributes } = await this.ctx.client.send(command);
        const previous = toJob(Attributes ?? {});
        const first = command !== attempts.at(-1);
        return {
          kind: 'claimed',
          previous,
          job: {
            ...previous,
            ...(first ? { window: firstWindow } : {}),
            status: 'sending',
            attempts: previous.attempts + 1,
            leaseId: lease.leaseId,
            leaseUntil: lease.leaseUntil,
            updatedAt: lease.now,
          },
        };
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    const { Item: item } = await this.ctx.client.send(
      new GetCommand({ TableName: this.ctx.tableName, Key: jobKey(key), ConsistentRead: true }),
    );
    if (!item) return { kind: 'missing' };
    const job = toJob(item);
    const final = job.status === 'done' || (job.status === 'failed' && job.retryable !== true);
    return final ? { kind: 'done', job } : { kind: 'busy', job };
  }

  async markWindow(key: SendJobKey, leaseId: string, window: SendWindow): Promise<boolean> {
    return conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: jobKey(key),
        UpdateExpression: 'SET #window = :window',
        ConditionExpression: '#status = :sending AND #leaseId = :leaseId',
        ExpressionAttributeNames: { '#window': 'window', '#status': 'status', '#leaseId': 'leaseId' },
        ExpressionAttributeValues: { ':window': window, ':sending': 'sending', ':leaseId': leaseId },
      }),
    );
  }

  async finishJob(key: SendJobKey, leaseId: string, outcome: JobOutcome): Promise<boolean> {
    const names: Record<string, string> = {
      '#status': 'status',
      '#updatedAt': 'updatedAt',
      '#leaseId': 'leaseId',
      '#leaseUntil': 'leaseUntil',
      '#nextAttemptAt': 'nextAttemptAt',
      '#retryable': 'retryable',
    };
    const values: Record<string, unknown> = {
      ':status': outcome.status,
      ':at': outcome.at,
      ':sending': 'sending',
      ':leaseId': leaseId,
    };
    const set = ['#status = :status', '#updatedAt = :at'];
    // Every outcome of the attempt is stored by now: its window names nobody whose outcome is unknown.
    names['#window'] = 'window';
    const remove = ['#leaseId', '#leaseUntil', '#window'];
    if (outcome.nextAttemptAt !== undefined) {
      values[':nextAttemptAt'] = outcome.nextAttemptAt;
      set.push('#nextAttemptAt = :nextAttemptAt');
    } else remove.push('#nextAttemptAt');
    if (outcome.retryable !== undefined) {
      values[':retryable'] = outcome.retryable;
      set.push('#retryable = :retryable');
    } else remove.push('#retryable');
    const adds: string[] = [];
    if (outcome.sent.length > 0) {
      // The audience grows by ADD to a String Set, in the same write that ends the attempt: no extra request,
      // and a recipient sent twice (a retried attempt) is still one member.
      names['#sent'] = 'sent';
      values[':sent'] = new Set(outcome.sent);
      adds.push('#sent :sent');
    }
    if (outcome.deferred && outcome.deferred.length > 0) {
      names['#deferred'] = 'deferred';
      values[':deferred'] = new Set(outcome.deferred);
      adds.push('#deferred :deferred');
    }
    if (key.deferredUntil !== undefined && outcome.status !== 'retrying') {
      // A deferral that is over leaves the index the sweeper reads (a dead-lettered one waits for its redrive).
      names['#gsi1pk'] = 'GSI1PK';
      names['#gsi1sk'] = 'GSI1SK';
      remove.push('#gsi1pk', '#gsi1sk');
    }
    const add = adds.length > 0 ? ` ADD ${adds.join(', ')}` : '';
    return conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: jobKey(key),
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${remove.join(', ')}${add}`,
        ConditionExpression: '#status = :sending AND #leaseId = :leaseId',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async audienceOf(alertId: string, version: number, channel: SubscriberChannel): Promise<Set<string>> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :prefix)',
      ExpressionAttributeValues: { ':pk': jobPk(alertId), ':prefix': jobPrefix(version, channel) },
      ProjectionExpression: '#sent',
      ExpressionAttributeNames: { '#sent': 'sent' },
      ConsistentRead: true,
    });
    const audience = new Set<string>();
    for (const item of items) for (const id of (item.sent as Set<string> | undefined) ?? []) audience.add(id);
    return audience;
  }

  // ---------------------------------------------------------------- receipts in batches

  async getReceipts(keys: readonly ReceiptKey[]): Promise<Map<string, Receipt>> {
    const found = new Map<string, Receipt>();
    for (const item of await batchGetAll(this.ctx, keys.map(receiptKey), BATCH_CONCURRENCY)) {
      const receipt = stripKeys<Receipt>(item);
      found.set(receipt.recipient, receipt);
    }
    return found;
  }

  async putReceipts(receipts: readonly Receipt[]): Promise<void> {
    await batchWriteAll(
      this.ctx,
      receipts.map((r) => ({
        PutRequest: {
          Item: {
            ...r,
            ...receiptKey(r),
            // Delivery callbacks (SNS SMS logs, SES events) find the receipt by the provider's id.
            ...(r.providerMessageId
              ? { GSI1PK: providerIndexPk(r.channel, r.providerMessageId), GSI1SK: PROVIDER_INDEX_SK }
              : {}),
          },
        },
      })),
      BATCH_CONCURRENCY,
    );
  }

  async listReceiptsPage(
    alertId: string,
    filter: ReceiptFilter & { limit: number; cursor?: string | undefined },
  ): Promise<Page<Receipt>> {
    const pk = receiptPk(alertId);
    let start: Item | undefined = filter.cursor
      ? decodeCursor(filter.cursor, ['PK', 'SK'], (k) => k.PK === pk)
      : undefined;
    const query = this.receiptQuery(alertId, filter);
    const items: Receipt[] = [];
    do {
      const page = await this.ctx.client.send(
        new QueryCommand({
          ...query,
          TableName: this.ctx.tableName,
          ConsistentRead: true,
          Limit: filter.limit - items.length,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) items.push(stripKeys<Receipt>(item));
      start = page.LastEvaluatedKey;
    } while (start && items.length < filter.limit);
    return {
      items,
      ...(start ? { cursor: encodeCursor({ PK: String(start.PK), SK: String(start.SK) }) } : {}),
    };
  }

  async countReceipts(
    alertId: string,
    filter: ReceiptFilter,
  ): Promise<{ version: number; channel: Channel; status: DeliveryStatus; count: number }[]> {
    const query = this.receiptQuery(alertId, filter);
    const counts = new Map<string, number>();
    let start: Item | undefined;
    do {
      const page = await this.ctx.client.send(
        new QueryCommand({
          ...query,
          TableName: this.ctx.tableName,
          ConsistentRead: true,
          // Only what the totals need: a 100,000-receipt alert reads a few pages, not every receipt's history.
          ProjectionExpression: 'SK, #status',
          ExpressionAttributeNames: { ...query.ExpressionAttributeNames, '#status': 'status' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const [version, channel] = String(item.SK).split('#') as [string, string];
        const key = `${Number(version)}#${channel}#${String(item.status)}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return [...counts].map(([key, count]) => {
      const [version, channel, status] = key.split('#') as [string, Channel, DeliveryStatus];
      return { version: Number(version), channel, status, count };
    });
  }

  /** The key condition and filter of a receipts query: a version (and channel) narrow the key range. */
  private receiptQuery(alertId: string, filter: ReceiptFilter) {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': receiptPk(alertId) };
    let keyCondition = 'PK = :pk';
    const filters: string[] = [];
    if (filter.version !== undefined) {
      values[':prefix'] =
        `${pad(filter.version)}#${filter.channel !== undefined ? `${filter.channel}#` : ''}`;
      keyCondition += ' AND begins_with(SK, :prefix)';
    } else if (filter.channel !== undefined) {
      names['#channel'] = 'channel';
      values[':channel'] = filter.channel;
      filters.push('#channel = :channel');
    }
    if (filter.status !== undefined) {
      names['#status'] = 'status';
      values[':status'] = filter.status;
      filters.push('#status = :status');
    }
    return {
      KeyConditionExpression: keyCondition,
      ExpressionAttributeValues: values,
      ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
      ...(filters.length ? { FilterExpression: filters.join(' AND ') } : {}),
    };
  }
}
