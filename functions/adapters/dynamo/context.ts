/** What every part of the DynamoDB adapter shares: the client, the table, and how to read a partition. */

import type { DynamoDBDocumentClient, QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { LeaseRequest } from '../../ports';

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
  lease: LeaseRequest,
  options: {
    /** Only an item never attempted may be claimed, and these attributes are set by the same write. */
    firstAttempt?: Record<string, unknown>;
  } = {},
): UpdateCommand {
  const extra = Object.keys(options.firstAttempt ?? {});
  const owner = lease.owner;
  // A lease whose holder is not this sole sender belonged to a process that is gone: taken over without waiting.
  const takeOver = owner !== undefined;
  return new UpdateCommand({
    TableName: ctx.tableName,
    Key: key,
    UpdateExpression:
      'SET #status = :sending, #attempts = #attempts + :one, #leaseId = :leaseId, #leaseUntil = :leaseUntil, #updatedAt = :now' +
      (owner ? ', #leaseOwner = :owner' : '') +
      extra.map((_, i) => `, #x${i} = :x${i}`).join(''),
    ConditionExpression: options.firstAttempt
      ? '#status = :queued AND #attempts = :zero'
      : '#status = :queued' +
        ' OR (#status = :retrying AND #nextAttemptAt <= :now)' +
        (takeOver
          ? ' OR (#status = :sending AND (#leaseUntil < :now OR attribute_not_exists(#leaseOwner) OR #leaseOwner <> :owner))'
          : ' OR (#status = :sending AND #leaseUntil < :now)') +
        ' OR (#status = :failed AND #retryable = :true)',
    ExpressionAttributeNames: {
      '#status': 'status',
      '#attempts': 'attempts',
      '#leaseId': 'leaseId',
      '#leaseUntil': 'leaseUntil',
      '#updatedAt': 'updatedAt',
      ...(owner ? { '#leaseOwner': 'leaseOwner' } : {}),
      ...(options.firstAttempt
        ? Object.fromEntries(extra.map((name, i) => [`#x${i}`, name]))
        : { '#nextAttemptAt': 'nextAttemptAt', '#retryable': 'retryable' }),
    },
    ExpressionAttributeValues: {
      ':sending': 'sending',
      ':queued': 'queued',
      ':one': 1,
      ':leaseId': lease.leaseId,
      ':leaseUntil': lease.leaseUntil,
      ':now': lease.now,
      ...(owner ? { ':owner': owner } : {}),
      ...(options.firstAttempt
        ? {
            ':zero': 0,
            ...Object.fromEntries(extra.map((name, i) => [`:x${i}`, options.firstAttempt![name]])),
          }
        : { ':retrying': 'retrying', ':failed': 'failed', ':true': true }),
    },
    ReturnValues: 'ALL_OLD',
  });
}

/** BatchGetItem takes at most 100 keys a call, BatchWriteItem 25 requests. */
export const BATCH_GET_MAX = 100;
export const BATCH_WRITE_MAX = 25;
/** Calls of one batch before what DynamoDB keeps leaving unprocessed (a throttled partition) is an error. */
const UNPROCESSED_MAX_ROUNDS = 10;
const UNPROCESSED_BASE_DELAY_MS = 20;
const UNPROCESSED_MAX_DELAY_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items`, at most `limit` at a time. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Sends one batch call again for what DynamoDB left unprocessed (throttled partitions), backing off, until nothing
 * is left; an error after UNPROCESSED_MAX_ROUNDS calls.
 */
async function untilProcessed<T>(
  first: T[],
  what: string,
  call: (pending: T[]) => Promise<T[]>,
): Promise<void> {
  let pending = first;
  for (let round = 0; pending.length > 0; round++) {
    if (round >= UNPROCESSED_MAX_ROUNDS)
      throw new Error(`${what} left ${pending.length} unprocessed after ${round} rounds`);
    if (round > 0)
      await sleep(Math.min(UNPROCESSED_BASE_DELAY_MS * 2 ** (round - 1), UNPROCESSED_MAX_DELAY_MS));
    pending = await call(pending);
  }
}

/** Strongly consistent reads of many items by key, 100 a call, `concurrency` calls at a time. */
export async function batchGetAll(
  ctx: DynamoContext,
  keys: readonly Item[],
  concurrency = 1,
): Promise<Item[]> {
  const found: Item[] = [];
  await inParallel(chunks(keys, BATCH_GET_MAX), concurrency, (chunk) =>
    untilProcessed(chunk, 'BatchGetItem', async (pending) => {
      const result = await ctx.client.send(
        new BatchGetCommand({ RequestItems: { [ctx.tableName]: { Keys: pending, ConsistentRead: true } } }),
      );
      found.push(...((result.Responses?.[ctx.tableName] ?? []) as Item[]));
      return (result.UnprocessedKeys?.[ctx.tableName]?.Keys ?? []) as Item[];
    }),
  );
  return found;
}

/** Put and delete requests, 25 a call, `concurrency` calls at a time. */
export async function batchWriteAll(
  ctx: DynamoContext,
  requests: readonly Item[],
  concurrency = 1,
): Promise<void> {
  await inParallel(chunks(requests, BATCH_WRITE_MAX), concurrency, (chunk) =>
    untilProcessed(chunk, 'BatchWriteItem', async (pending) => {
      const result = await ctx.client.send(
        new BatchWriteCommand({ RequestItems: { [ctx.tableName]: pending as never } }),
      );
      return (result.UnprocessedItems?.[ctx.tableName] ?? []) as Item[];
    }),
  );
}
