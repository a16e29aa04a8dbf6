import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/client';
import { DynamoStore } from '../../functions/adapters/dynamo/store';
import { countRequests } from '../../functions/adapters/request-counter';
import { ensureTable, startDynalite } from '../../local/dynalite';
import { version } from '../helpers/dynamo-fixtures';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function open(path?: string, thread = false) {
  const server = await startDynalite({ path, thread });
  const client = createDocumentClient({ endpoint: server.endpoint });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    client.destroy();
    await server.close();
  };
  cleanups.push(close);
  return { server, client, close };
}

describe('startDynalite and ensureTable', () => {
  it('listens on 127.0.0.1 and builds the table from the shared definition, once', async () => {
    const { server, client } = await open();
    expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await ensureTable(client, 'herald');
    await ensureTable(client, 'herald');
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'herald' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['PK', 'SK']);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual(['GSI1', 'GSI2']);
  });

  it('accepts a plain DynamoDBClient too, and tolerates two start-ups racing', async () => {
    const { server } = await open();
    const plain = new DynamoDBClient({
      endpoint: server.endpoint,
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    cleanups.push(async () => plain.destroy());
    await Promise.all([ensureTable(plain, 'herald'), ensureTable(plain, 'herald')]);
    const { TableNames } = await plain.send(new ListTablesCommand({}));
    expect(TableNames).toEqual(['herald']);
  });

  it.each([
    ["on the caller's thread", false],
    ['on a thread of its own', true],
  ])('keeps what was written on disk across a restart on the same path, %s', async (_where, thread) => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-dynalite-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const path = join(dir, 'dynamo');

    const first = await open(path, thread);
    await ensureTable(first.client, 'herald');
    const store = new DynamoStore({ client: first.client, tableName: 'herald' });
    await store.putVersion(version('persisted', 1));
    await store.append({
      channel: 'x',
      alertId: 'persisted',
      version: 1,
      recipient: '@agency',
      text: 'hello',
      providerMessageId: 'pm-1',
      at: '2030-05-01T10:00:00.000Z',
      idempotencyKey: 'ik-1',
    });
    await first.close();

    const second = await open(path, thread);
    await ensureTable(second.client, 'herald');
    const again = new DynamoStore({ client: second.client, tableName: 'herald' });
    const alert = await again.getAlert('persisted');
    expect(alert?.head?.alertId).toBe('persisted');
    expect(alert?.versions.map((v) => v.content.headline)).toEqual(['Missing child, version 1']);
    expect((await again.list({ limit: 10 })).total).toBe(1);
  });

  it('closes while a client still holds a kept-alive connection', async () => {
    const { server, client } = await open();
    await ensureTable(client, 'herald');
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('createDocumentClient', () => {
  it('drops undefined fields instead of failing on them', async () => {
    const { client } = await open();
    await ensureTable(client, 'herald');
    const store = new DynamoStore({ client, tableName: 'herald' });
    await store.putVersion(version('a', 1, { note: undefined, idempotencyKey: undefined }));
    expect(await store.getVersion('a', 1)).not.toHaveProperty('note');
  });

  it('counts the requests of a document client by operation', async () => {
    const { client } = await open();
    await ensureTable(client, 'herald');
    const counter = countRequests(client);
    const store = new DynamoStore({ client, tableName: 'herald' });
    await store.putVersion(version('c', 1));
    await store.putVersion(version('c', 1));
    await store.getVersion('c', 1);
    await store.putVersion(version('c', 2));
    await store.advanceHead('c', 2, '2030-05-01T10:00:00.000Z');
    await store.listAlerts({ limit: 10 });
    // Each version written is chained too (adapters/dynamo/audit-log.ts): one conditional UpdateItem each, and for
    // version 2 a Query of the chain's last entry first (version 1 starts a chain, which is known empty).
    expect(counter.byCommand()).toEqual({ PutItem: 3, GetItem: 1, UpdateItem: 3, Query: 2, BatchGetItem: 1 });
    expect(counter.total()).toBe(10);
    counter.reset();
    expect(counter.total()).toBe(0);
    expect(counter.byCommand()).toEqual({});
  });
});
