import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoStore } from '../../functions/adapters/dynamo/store';
import type { Receipt, ReceiptKey } from '../../functions/core/model';
import { version } from '../helpers/dynamo-fixtures';

const ddb = mockClient(DynamoDBDocumentClient);
const TABLE = 'herald-unit';
let store: DynamoStore;

beforeEach(() => {
  ddb.reset();
  const base = new DynamoDBClient({
    region: 'local',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  store = new DynamoStore({ client: DynamoDBDocumentClient.from(base), tableName: TABLE });
});
afterEach(() => {
  vi.useRealTimers();
});

const conditionFailed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'Rate of requests exceeds the allowed throughput',
    $metadata: {},
  });

const rkey: ReceiptKey = { alertId: 'a1', version: 1, channel: 'sms', recipient: '+34600000001' };
const receipt = (overrides: Partial<Receipt>): Receipt => ({
  ...rkey,
  status: 'queued',
  attempts: 0,
  createdAt: 't0',
  updatedAt: 't0',
  history: [],
  ...overrides,
});
const lease = { leaseId: 'L', leaseUntil: 't2', now: 't1', actor: 'channel:sms' };

describe('errors other than a failed condition propagate unchanged', () => {
  it.each([
    ['putVersion', () => store.putVersion(version('a1', 1))],
    ['advanceHead', () => store.advanceHead('a1', 2, 't')],
    ['approveVersion', () => store.approveVersion('a1', 1, { required: true }, 't')],
    ['markPlanned', () => store.markPlanned('a1', 1, 3, 't')],
    ['claim', () => store.claim(rkey, lease)],
    ['record', () => store.record(rkey, 'L', { status: 'sent', at: 't', actor: 'a', attempt: 1 })],
    [
      'begin',
      () =>
        store.begin(
          {
            scope: 's',
            key: 'k',
            requestHash: 'h',
            alertId: 'a1',
            state: 'started',
            lockedUntil: 't',
            expiresAt: 1,
          },
          '2030-01-01T00:00:00Z',
        ),
    ],
  ])('%s', async (_, call) => {
    const error = throttled();
    ddb.on(PutCommand).rejects(error).on(UpdateCommand).rejects(error);
    await expect(call()).rejects.toBe(error);
    // No retries of the adapter's own: the SDK's retry strategy is the only one.
    expect(ddb.calls()).toHaveLength(1);
  });

  it('from reads too', async () => {
    const error = throttled();
    ddb.on(QueryCommand).rejects(error).on(GetCommand).rejects(error);
    await expect(store.getAlert('a1')).rejects.toBe(error);
    await expect(store.getVersion('a1', 1)).rejects.toBe(error);
    await expect(store.listForAlert('a1')).rejects.toBe(error);
    await expect(store.list({ limit: 3 })).rejects.toBe(error);
  });

  it('from createReceipts, which stops taking new receipts and waits for those in flight', async () => {
    const error = throttled();
    let calls = 0;
    ddb.on(PutCommand).callsFake(async () => {
      calls++;
      if (calls === 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5));
      return {};
    });
    const keys = Array.from({ length: 100 }, (_, i) => ({ ...rkey, recipient: `r${i}` }));
    await expect(store.createReceipts(keys, 't0')).rejects.toBe(error);
    const settled = calls;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(settled);
    expect(calls).toBeLessThan(25);
  });
});

describe('a failed condition maps to the documented answer', () => {
  beforeEach(() => {
    ddb.on(PutCommand).rejects(conditionFailed()).on(UpdateCommand).rejects(conditionFailed());
  });

  it('putVersion answers exists; version 1 carries the head in the same write', async () => {
    expect(await store.putVersion(version('a1', 1))).toBe('exists');
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      TableName: TABLE,
      ConditionExpression: 'attribute_not_exists(PK)',
      Item: expect.objectContaining({
        PK: 'ALERT#a1',
        SK: 'V#0000000001',
        GSI2PK: 'UNPLANNED',
        GSI1PK: 'ALERTS',
        headLatestVersion: 1,
      }),
    });
  });

  it('approveVersion answers not-held; the idempotent updates resolve', async () => {
    expect(await store.approveVersion('a1', 1, { required: true }, 't')).toBe('not-held');
    await expect(store.advanceHead('a1', 2, 't')).resolves.toBeUndefined();
    await expect(store.supersedeVersion('a1', 1)).resolves.toBeUndefined();
    await expect(store.markPlanned('a1', 1, 3, 't')).resolves.toBeUndefined();
    await expect(store.countSettled('a1', 1, 1)).resolves.toBeUndefined();
    await expect(
      store.complete('s', 'k', { statusCode: 200, headers: {}, body: '' }),
    ).resolves.toBeUndefined();
  });

  it('createReceipts counts the receipts that were already there as not new', async () => {
    ddb.on(PutCommand).rejectsOnce(conditionFailed()).resolves({});
    expect(
      await store.createReceipts([rkey, { ...rkey, recipient: 'r2' }, { ...rkey, recipient: 'r3' }], 't0'),
    ).toBe(2);
  });

  it('record answers false', async () => {
    expect(await store.record(rkey, 'L', { status: 'sent', at: 't', actor: 'a', attempt: 1 })).toBe(false);
  });

  it.each([
    [undefined, 'missing'],
    [receipt({ status: 'sending', leaseId: 'other', leaseUntil: 't9' }), 'busy'],
    [receipt({ status: 'retrying', nextAttemptAt: 't9' }), 'busy'],
    [receipt({ status: 'sent' }), 'done'],
    [receipt({ status: 'delivered' }), 'done'],
    [receipt({ status: 'unknown' }), 'done'],
    [receipt({ status: 'failed' }), 'done'],
    [receipt({ status: 'failed', retryable: false }), 'done'],
  ])('claim reads the receipt back to classify it: %j → %s', async (current, kind) => {
    ddb.on(GetCommand).resolves({ Item: current && { ...current, PK: 'RCPT#a1', SK: 'x' } });
    const result = await store.claim(rkey, lease);
    expect(result.kind).toBe(kind);
    if (result.kind !== 'missing') expect(result.receipt).toEqual(current);
    expect(ddb).toHaveReceivedCommandWith(GetCommand, { ConsistentRead: true });
  });

  it('begin reads the record back and answers existing', async () => {
    const stored = {
      scope: 's',
      key: 'k',
      requestHash: 'h0',
      alertId: 'a0',
      state: 'done' as const,
      lockedUntil: 't',
      expiresAt: 2e9,
    };
    ddb.on(GetCommand).resolves({ Item: { ...stored, PK: 'IDEM#s', SK: 'k' } });
    const result = await store.begin(
      { ...stored, requestHash: 'h1', state: 'started' },
      '2030-01-01T00:00:00Z',
    );
    expect(result).toEqual({ kind: 'existing', record: stored });
    expect(ddb).toHaveReceivedCommandWith(PutCommand, {
      ConditionExpression: 'attribute_not_exists(PK) OR #expiresAt < :now',
      ExpressionAttributeValues: { ':now': Date.parse('2030-01-01T00:00:00Z') / 1000 },
    });
  });
});

describe('listAlerts reads the latest versions of updated alerts in a batch', () => {
  // The index holds each alert's first version, which says the alert is now at version 2.
  // Items as stored: the content is one JSON string.
  const stored = (id: string, n: number) => ({
    ...version(id, n),
    content: JSON.stringify(version(id, n).content),
  });
  const heads = ['a3', 'a2', 'a1'].map((id) => ({
    ...stored(id, 1),
    PK: `ALERT#${id}`,
    SK: 'V#0000000001',
    GSI1PK: 'ALERTS',
    GSI1SK: `t#${id}`,
    headLatestVersion: 2,
    headUpdatedAt: 't',
  }));
  const versionItem = (id: string) => ({ ...stored(id, 2), PK: `ALERT#${id}`, SK: 'V#0000000002' });
  const keyOf = (id: string) => ({ PK: `ALERT#${id}`, SK: 'V#0000000002' });

  it('retries UnprocessedKeys until none are left', async () => {
    ddb.on(QueryCommand).resolves({ Items: heads });
    ddb
      .on(BatchGetCommand)
      .resolvesOnce({
        Responses: { [TABLE]: [versionItem('a2')] },
        UnprocessedKeys: { [TABLE]: { Keys: [keyOf('a3'), keyOf('a1')] } },
      })
      .resolvesOnce({ Responses: { [TABLE]: [] }, UnprocessedKeys: { [TABLE]: { Keys: [keyOf('a1')] } } })
      .resolvesOnce({ Responses: { [TABLE]: [versionItem('a1'), versionItem('a3')] }, UnprocessedKeys: {} });

    const page = await store.listAlerts({ limit: 5 });
    expect(page.items.map((i) => i.head.alertId)).toEqual(['a3', 'a2', 'a1']);
    expect(page.items.map((i) => i.latest.alertId)).toEqual(['a3', 'a2', 'a1']);
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 3);
    expect(ddb).toHaveReceivedNthCommandWith(BatchGetCommand, 2, {
      RequestItems: { [TABLE]: { Keys: [keyOf('a3'), keyOf('a1')], ConsistentRead: true } },
    });
    expect(ddb).toHaveReceivedNthCommandWith(BatchGetCommand, 3, {
      RequestItems: { [TABLE]: { Keys: [keyOf('a1')], ConsistentRead: true } },
    });
  });

  it('gives up with an error when DynamoDB never processes them', async () => {
    vi.useFakeTimers();
    ddb.on(QueryCommand).resolves({ Items: heads });
    ddb
      .on(BatchGetCommand)
      .resolves({ Responses: {}, UnprocessedKeys: { [TABLE]: { Keys: [keyOf('a1')] } } });
    const listing = expect(store.listAlerts({ limit: 5 })).rejects.toThrow(/unprocessed/);
    await vi.runAllTimersAsync();
    await listing;
    expect(ddb).toHaveReceivedCommandTimes(BatchGetCommand, 10);
  });

  it('asks for one head more than the page, to know whether a cursor is needed', async () => {
    ddb.on(QueryCommand).resolves({ Items: heads });
    ddb.on(BatchGetCommand).resolves({ Responses: { [TABLE]: [versionItem('a3'), versionItem('a2')] } });
    const page = await store.listAlerts({ limit: 2 });
    expect(ddb).toHaveReceivedCommandWith(QueryCommand, {
      IndexName: 'GSI1',
      Limit: 3,
      ScanIndexForward: false,
    });
    expect(page.items.map((i) => i.head.alertId)).toEqual(['a3', 'a2']);
    const cursor = JSON.parse(Buffer.from(page.cursor ?? '', 'base64url').toString());
    expect(cursor).toEqual({ PK: 'ALERT#a2', SK: 'V#0000000001', GSI1PK: 'ALERTS', GSI1SK: 't#a2' });
  });
});
