/** What every part of the DynamoDB adapter shares: the client, the table, and how to read a partition. */
import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

export interface DynamoContext {
  client: DynamoDBDocumentClient;
  tableName: string;
}

export type Item = Record<string, unknown>;

/**
 * Conditional writes are how this adapter takes decisions, so their failure is an answer, not an error.
 * Matched by name because the class can come from more than one copy of the SDK (and from test mocks).
 */
export function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * Sends a conditional write: true when it was written, false when its condition did not hold (an answer, not an
 * error). Any other failure is thrown.
 */
export async function conditionalWrite(
  ctx: DynamoContext,
  command: PutCommand | UpdateCommand,
): Promise<boolean> {
  try {
    await (command instanceof PutCommand ? ctx.client.send(command) : ctx.client.send(command));
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Runs a query to the end of its result set (DynamoDB pages at 1 MB). */
export async function queryAll(
  ctx: DynamoContext,
  input: Omit<QueryCommandInput, 'TableName'>,
): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await ctx.client.send(
      new QueryCommand({ ...input, TableName: ctx.tableName, ExclusiveStartKey: start }),
    );
    items.push(...((page.Items ?? []) as Item[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Counts what a query matches (after its filter) without reading the items back. */
export async function countAll(
  ctx: DynamoContext,
  input: Omit<QueryCommandInput, 'TableName' | 'Select'>,
): Promise<number> {
  let total = 0;
  let start: Item | undefined;
  do {
    const page = await ctx.client.send(
      new QueryCommand({ ...input, TableName: ctx.tableName, Select: 'COUNT', ExclusiveStartKey: start }),
    );
    total += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return total;
}

/**
 * The one rule for taking the lease of a receipt or a send job for one attempt: it is free when queued, due for a
 * retry, abandoned by a dead worker (lease over) or failed-but-retryable (a dead-letter redrive). The old image
 * comes back so the caller can tell whether a previous attempt may have posted already.
 */
export function claimLease(
  ctx: DynamoContext,
  key: Record<string, string>,
  lease: { leaseId: string; leaseUntil: string; now: string },
): UpdateCommand {
  return new UpdateCommand({
    TableName: ctx.tableName,
    Key: key,
    UpdateExpression:
      'SET #status = :sending, #attempts = #attempts + :one, #leaseId = :leaseId, #leaseUntil = :leaseUntil, #updatedAt = :now',
    ConditionExpression:
      '#status = :queued' +
      ' OR (#status = :retrying AND #nextAttemptAt <= :now)' +
      ' OR (#status = :sending AND #leaseUntil < :now)' +
      ' OR (#status = :failed AND #retryable = :true)',
    ExpressionAttributeNames: {
      '#status': 'status',
      '#attempts': 'attempts',
      '#leaseId': 'leaseId',
      '#leaseUntil': 'leaseUntil',
      '#updatedAt': 'updatedAt',
      '#nextAttemptAt': 'nextAttemptAt',
      '#retryable': 'retryable',
    },
    ExpressionAttributeValues: {
      ':sending': 'sending',
      ':queued': 'queued',
      ':retrying': 'retrying',
      ':failed': 'failed',
      ':true': true,
      ':one': 1,
      ':leaseId': lease.leaseId,
      ':leaseUntil': lease.leaseUntil,
      ':now': lease.now,
    },
    ReturnValues: 'ALL_OLD',
  });
}
