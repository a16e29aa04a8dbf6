/**
 * dynalite, the pure-JS DynamoDB the embedded mode runs on: the same adapter code, a server on 127.0.0.1, and the
 * table built from the same definition as the CDK stack's.
 */
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTableInput } from '../functions/adapters/dynamo/table';

interface DynaliteOptions {
  path?: string | undefined;
  createTableMs?: number;
  updateTableMs?: number;
  deleteTableMs?: number;
}

// dynalite is CommonJS without type declarations; requiring it keeps a hand-written type next to its one use.
const dynalite = createRequire(import.meta.url)('dynalite') as (options: DynaliteOptions) => Server;

export interface RunningDynalite {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  close(): Promise<void>;
}

export interface DynaliteOptionsPublic {
  path?: string | undefined;
  port?: number | undefined;
  /**
   * Run dynalite on a worker thread of its own. The embedded mode does: dynalite is CPU-bound JavaScript, and on
   * the handlers' thread it would take turns with them instead of using the second core. Tests that start
   * many small stores keep it in-thread, where it starts faster.
   */
  thread?: boolean | undefined;
}

/**
 * Starts dynalite. Without `path` it keeps everything in memory (tests); with one, it persists in LevelDB under
 * that directory (the embedded mode's data directory). Port 0 picks any free port.
 */
export async function startDynalite(options: DynaliteOptionsPublic = {}): Promise<RunningDynalite> {
  if (options.path !== undefined) await mkdir(options.path, { recursive: true });
  if (options.thread) return startOnThread(options.path, options.port ?? 0);
  // dynalite otherwise keeps a new table CREATING for half a second, which every start-up would wait out.
  const server = dynalite({ path: options.path, createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Clients keep connections alive; close() waits for them unless the idle ones are dropped.
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

async function startOnThread(path: string | undefined, port: number): Promise<RunningDynalite> {
  const worker = new Worker(new URL('./dynalite-thread.mjs', import.meta.url), {
    workerData: { path, port },
  });
  const next = () =>
    new Promise<{ port?: number; error?: string; closed?: boolean }>((resolve, reject) => {
      const onExit = (code: number) => reject(new Error(`the dynalite thread exited with code ${code}`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.once('message', (message) => {
        worker.off('error', reject);
        worker.off('exit', onExit);
        resolve(message);
      });
    });
  const started = await next();
  if (started.error !== undefined || started.port === undefined) {
    await worker.terminate();
    throw new Error(`dynalite could not start: ${started.error ?? 'no port'}`);
  }
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${started.port}`,
    close: () => {
      closing ??= (async () => {
        const closed = next();
        worker.postMessage('close');
        const answer = await closed;
        await worker.terminate();
        if (answer.error) throw new Error(`dynalite did not close cleanly: ${answer.error}`);
      })();
      return closing;
    },
  };
}

const TABLE_WAIT_MS = 10_000;

/**
 * Creates Herald's table when it is not there, and waits until it is ACTIVE. Time to live is left off: dynalite
 * does not implement it, and the adapter already treats expired records as absent.
 */
export async function ensureTable(
  client: DynamoDBClient | DynamoDBDocumentClient,
  tableName: string,
): Promise<void> {
  // A document client shares its base client's stack and config, so it can send the table commands too.
  const send = client.send.bind(client) as DynamoDBClient['send'];
  const deadline = Date.now() + TABLE_WAIT_MS;
  for (;;) {
    let status: string | undefined;
    try {
      const { Table } = await send(new DescribeTableCommand({ TableName: tableName }));
      status = Table?.TableStatus;
    } catch (error) {
      if (!(error instanceof Error && error.name === 'ResourceNotFoundException')) throw error;
      try {
        await send(new CreateTableCommand(createTableInput(tableName)));
      } catch (createError) {
        // Another process created it between our describe and create: fine, wait for it like ours.
        if (!(createError instanceof Error && createError.name === 'ResourceInUseException'))
          throw createError;
      }
      continue;
    }
    if (status === 'ACTIVE') return;
    if (Date.now() > deadline)
      throw new Error(`table ${tableName} still ${status ?? 'unknown'} after ${TABLE_WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
