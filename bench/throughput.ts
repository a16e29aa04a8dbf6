/**
 * API create throughput against the store's own ceiling. Herald's rate is alerts/s through HTTP POST
 * /v1/alerts at a fixed concurrency, with the fan-out consuming the queues in the same process as it would in
 * the embedded mode. The ceiling is raw PutItem/s against a dynalite configured the same way (on disk, the same
 * table and indexes), with an item shaped and sized like an alert's version item, at the same concurrency.
 */
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type AttributeValue, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { StoredVersion } from '../functions/core/model';
import { BenchHerald, withTempDir } from './harness';
import { pool, rounded, type Summary, summarize } from './stats';

export interface ApiThroughputResult {
  concurrency: number;
  warmup: number;
  alerts: number;
  /** Diagnostic variant: the fan-out is held back while the POSTs run, so the API path is measured alone. */
  fanoutHeld: boolean;
  /** Alerts accepted (201) per second. */
  alertsPerSecond: number;
  /** POST → 201 under this load. */
  acceptMs: Summary;
  /** Share of wall time the one JS thread was busy while the POSTs ran (1 = saturated). */
  eventLoopUtilization: number;
  /** CPU time (user + system, all threads) over wall time while the POSTs ran, in cores. */
  cpuCores: number;
  /** Alerts whose three receipts were all `sent` when the last 201 arrived: how far the fan-out kept up. */
  sentWhenAcceptDone: number;
  /**
   * Alerts fully delivered per second: from the first POST to the last receipt `sent`; when the fan-out was
   * held, from its release (the fan-out alone, draining the backlog).
   */
  deliveredPerSecond: number;
  /** Accept → every receipt `sent` (includes the hold when the fan-out was held). */
  latencyMs: Summary;
  /** A version item as stored, for the raw PutItem comparison. */
  sampleVersion: StoredVersion;
}

export interface RawPutResult {
  concurrency: number;
  warmup: number;
  puts: number;
  putsPerSecond: number;
  putMs: Summary;
  itemBytes: number;
  conditional: boolean;
  eventLoopUtilization: number;
  cpuCores: number;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export async function measureApiThroughput(options: {
  concurrency: number;
  warmup: number;
  alerts: number;
  fanoutHeld: boolean;
}): Promise<ApiThroughputResult> {
  return withTempDir(options.fanoutHeld ? 'throughput-api-alone' : 'throughput-api', async (dir) => {
    const bench = await BenchHerald.start(dir);
    try {
      await pool(range(options.warmup), options.concurrency, async () => {
        const id = await bench.create();
        await bench.allSent(id);
        bench.forget(id);
      });
      await bench.quiesce();

      const release = options.fanoutHeld ? bench.holdFanout() : undefined;
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      const load = await bench.loadFromThread(options.alerts, options.concurrency);
      // Times from the load thread are absolute; this thread's clock is performance.now().
      const toLocal = (absolute: number) => absolute - performance.timeOrigin;
      const t0 = toLocal(load.t0);
      const ids = load.results.map((r) => r.id);
      const starts = new Map(load.results.map((r) => [r.id, toLocal(r.start)]));
      const accepts = load.results.map((r) => r.end - r.start);
      const acceptDone = toLocal(load.t1);
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      const alertsPerSecond = options.alerts / ((acceptDone - t0) / 1000);

      // The fan-out may still be behind (or held); wait for every receipt, then see when each alert completed.
      const from = options.fanoutHeld ? performance.now() : t0;
      release?.();
      const doneAt = await Promise.all(ids.map((id) => bench.allSent(id, 120_000)));
      const sentWhenAcceptDone = doneAt.filter((t) => t <= acceptDone).length;
      const lastSent = Math.max(...doneAt);
      const latencies = ids.map((id, i) => doneAt[i]! - starts.get(id)!);
      const sampleVersion = await bench.herald.store.getVersion(ids[0]!, 1);
      if (!sampleVersion) throw new Error('the first alert has no version 1');
      await bench.quiesce();
      return {
        ...options,
        alertsPerSecond: Math.round(alertsPerSecond * 10) / 10,
        acceptMs: rounded(summarize(accepts)),
        eventLoopUtilization: Math.round(elu.utilization * 100) / 100,
        cpuCores: Math.round(((cpu.user + cpu.system) / 1000 / (acceptDone - t0)) * 100) / 100,
        sentWhenAcceptDone,
        deliveredPerSecond: Math.round((options.alerts / ((lastSent - from) / 1000)) * 10) / 10,
        latencyMs: rounded(summarize(latencies)),
        sampleVersion,
      };
    } finally {
      await bench.stop();
    }
  });
}

/** DynamoDB's wire format for a plain JSON value; enough for a version item (strings, numbers, lists, maps). */
function toAttribute(value: unknown): AttributeValue {
  if (typeof value === 'string') return { S: value };
  if (typeof value === 'number') return { N: String(value) };
  if (typeof value === 'boolean') return { BOOL: value };
  if (value === null) return { NULL: true };
  if (Array.isArray(value)) return { L: value.map(toAttribute) };
  if (typeof value === 'object')
    return {
      M: Object.fromEntries(
        Object.entries(value)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, toAttribute(v)]),
      ),
    };
  throw new TypeError(`cannot marshal a ${typeof value}`);
}

/**
 * The ceiling: a low-level PutItem through Herald's own client configuration, the item marshalled once up front (Herald's document
 * client marshals on every call, so this is the cheapest a client can be). Each put has the condition Herald's
 * version write has (attribute_not_exists), and carries the same index keys, so dynalite does the same work.
 */
export async function measureRawPut(options: {
  concurrency: number;
  warmup: number;
  puts: number;
  sampleVersion: StoredVersion;
}): Promise<RawPutResult> {
  const { startDynalite, ensureTable } = await import('../local/dynalite');
  const { TABLE_NAME } = await import('../local/runtime');
  const { alertPk, versionSk, UNPLANNED_INDEX_PK, unplannedIndexSk, ALERTS_INDEX_PK, headIndexSk } =
    await import('../functions/adapters/dynamo/keys');
  return withTempDir('throughput-raw', async (dir) => {
    const dynalite = await startDynalite({ path: join(dir, 'dynamodb'), thread: true });
    // The client Herald uses against a local endpoint (same signing, same HTTP handling), sent a low-level
    // PutItem with the item marshalled once: Herald's own path with every cost of its own taken out.
    const { createDocumentClient } = await import('../functions/adapters/dynamo/client');
    const client = createDocumentClient({ endpoint: dynalite.endpoint });
    try {
      await ensureTable(client, TABLE_NAME);
      const v = options.sampleVersion;
      const template: Record<string, unknown> = {
        ...v,
        PK: alertPk(v.alertId),
        SK: versionSk(v.version),
        GSI2PK: UNPLANNED_INDEX_PK,
        GSI2SK: unplannedIndexSk(v.releasedAt ?? v.createdAt, v.alertId, v.version),
        // Version 1 is also the alert's head: it is in the listing index too.
        GSI1PK: ALERTS_INDEX_PK,
        GSI1SK: headIndexSk(v.createdAt, v.alertId),
        headLatestVersion: 1,
        headUpdatedAt: v.createdAt,
        content: JSON.stringify(v.content),
      };
      const itemBytes = Buffer.byteLength(JSON.stringify(template));
      const marshalled = toAttribute(template).M!;
      let n = 0;
      const put = async () => {
        // A new partition per put, as every new alert is; only the key changes.
        const pk = `ALERT#BENCH${String(n++).padStart(15, '0')}`;
        await client.send(
          // A low-level command through the document client: no marshalling on the way.
          new PutItemCommand({
            TableName: TABLE_NAME,
            Item: { ...marshalled, PK: { S: pk } },
            ConditionExpression: 'attribute_not_exists(PK)',
          }),
        );
      };
      await pool(range(options.warmup), options.concurrency, put);
      const durations: number[] = [];
      const elu0 = performance.eventLoopUtilization();
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await pool(range(options.puts), options.concurrency, async () => {
        const start = performance.now();
        await put();
        durations.push(performance.now() - start);
      });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      return {
        concurrency: options.concurrency,
        warmup: options.warmup,
        puts: options.puts,
        putsPerSecond: Math.round((options.puts / seconds) * 10) / 10,
        putMs: rounded(summarize(durations), 2),
        itemBytes,
        conditional: true,
        eventLoopUtilization: Math.round(elu.utilization * 100) / 100,
        cpuCores: Math.round(((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100) / 100,
      };
    } finally {
      client.destroy();
      await dynalite.close();
    }
  });
}
