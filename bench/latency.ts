/**
 * Embedded latency: from just before POST /v1/alerts to the moment every receipt of the alert is `sent`, with
 * instant sandbox providers, so what is measured is Herald itself (API, store, queues, dispatcher, channels).
 */
import { performance } from 'node:perf_hooks';
import { BenchHerald, type OpTiming, SOCIAL, withTempDir } from './harness';
import { pool, rounded, type Summary, sleep, summarize } from './stats';

export interface LatencyOptions {
  warmup: number;
  alerts: number;
  /** Alerts in flight at once; 1 is one at a time. */
  inFlight: number;
  /** Pause after each alert when one at a time, so its tail (settled counter, message delete) is not measured. */
  gapMs: number;
  /** Alerts timed a second way, by polling the receipts, to check the probe (0 to skip). */
  pollCheck: number;
  pollIntervalMs: number;
}

export interface LatencyResult {
  options: LatencyOptions;
  detection: string;
  /** Accept → every receipt `sent`. */
  latencyMs: Summary;
  /** POST → 201 read by the client. */
  acceptMs: Summary;
  /** Median milestones, in ms after the POST started. */
  timelineP50Ms: Record<
    'created' | 'dispatchReceived' | 'planned' | 'lastChannelReceived' | 'allSent',
    number
  >;
  wallSeconds: number;
  /** Per alert: calls and mean duration of each store method and queue-engine operation. */
  storeOps: Record<string, { perAlert: number; meanMs: number }>;
  queueOps: Record<string, { perAlert: number; meanMs: number }>;
  /** Receipts that read back as anything but three `sent` after the run (should be 0). */
  unverified: number;
  anomalies: number;
  pollCheck?: { latencyMs: Summary; queriesPerAlert: number } | undefined;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

export function perAlert(timings: Map<string, OpTiming>, alerts: number) {
  return Object.fromEntries(
    [...timings]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, t]) => [name, rounded({ perAlert: t.calls / alerts, meanMs: t.totalMs / t.calls }, 2)]),
  );
}

export async function measureLatency(options: LatencyOptions): Promise<LatencyResult> {
  return withTempDir(`latency-${options.inFlight}`, async (dir) => {
    const bench = await BenchHerald.start(dir);
    try {
      // Warm-up: JIT, connection pools, the LevelDB files of both stores.
      await pool(range(options.warmup), options.inFlight, async () => {
        const id = await bench.create();
        await bench.allSent(id);
        bench.forget(id);
      });
      await bench.quiesce();
      bench.resetProbes();

      const latencies: number[] = [];
      const accepts: number[] = [];
      const milestones = {
        created: [] as number[],
        dispatchReceived: [] as number[],
        planned: [] as number[],
        lastChannelReceived: [] as number[],
        allSent: [] as number[],
      };
      const ids: string[] = [];
      const t0 = performance.now();
      await pool(range(options.alerts), options.inFlight, async () => {
        const start = performance.now();
        const id = await bench.create();
        const created = performance.now();
        const done = await bench.allSent(id);
        latencies.push(done - start);
        accepts.push(created - start);
        const t = bench.timeline(id);
        if (t) {
          milestones.created.push(created - start);
          milestones.dispatchReceived.push(t.dispatchReceived - start);
          milestones.planned.push(t.planned - start);
          milestones.lastChannelReceived.push(t.lastChannelReceived - start);
          milestones.allSent.push(t.allSent - start);
        }
        ids.push(id);
        bench.forget(id);
        if (options.inFlight === 1 && options.gapMs > 0) await sleep(options.gapMs);
      });
      const wallSeconds = (performance.now() - t0) / 1000;
      await bench.quiesce();
      const storeOps = perAlert(bench.timings.store, options.alerts);
      const queueOps = perAlert(bench.timings.queue, options.alerts);
      const anomalies = bench.anomalies;

      // The probe says `sent`; the table must say so too.
      let unverified = 0;
      for (const id of ids) {
        const receipts = await bench.herald.store.listForAlert(id);
        if (receipts.length !== SOCIAL.length || receipts.some((r) => r.status !== 'sent')) unverified++;
      }

      const pollCheck = options.pollCheck > 0 ? await timeByPolling(bench, options) : undefined;
      const p50 = (xs: number[]) => summarize(xs).p50;
      return {
        options,
        detection:
          'in-process probe on the store port: the instant the conditional UpdateItem recording the last receipt as `sent` returned (no reads added)',
        latencyMs: rounded(summarize(latencies)),
        acceptMs: rounded(summarize(accepts)),
        timelineP50Ms: rounded({
          created: p50(milestones.created),
          dispatchReceived: p50(milestones.dispatchReceived),
          planned: p50(milestones.planned),
          lastChannelReceived: p50(milestones.lastChannelReceived),
          allSent: p50(milestones.allSent),
        }),
        wallSeconds: Math.round(wallSeconds * 100) / 100,
        storeOps,
        queueOps,
        unverified,
        anomalies,
        pollCheck,
      };
    } finally {
      await bench.stop();
    }
  });
}

/**
 * The same latency, detected the way a client outside the process would: reading the receipts every few ms.
 * It agrees with the probe to within the polling interval, and shows what polling costs in Query requests.
 */
async function timeByPolling(
  bench: BenchHerald,
  options: LatencyOptions,
): Promise<{ latencyMs: Summary; queriesPerAlert: number }> {
  const latencies: number[] = [];
  let queries = 0;
  for (let i = 0; i < options.pollCheck; i++) {
    const start = performance.now();
    const id = await bench.create();
    for (;;) {
      queries++;
      const receipts = await bench.herald.store.listForAlert(id);
      if (receipts.length === SOCIAL.length && receipts.every((r) => r.status === 'sent')) break;
      if (performance.now() - start > 30_000) throw new Error(`alert ${id} not sent after 30 s`);
      await sleep(options.pollIntervalMs);
    }
    latencies.push(performance.now() - start);
    bench.forget(id);
    await sleep(options.gapMs);
  }
  return {
    latencyMs: rounded(summarize(latencies)),
    queriesPerAlert: Math.round((queries / options.pollCheck) * 10) / 10,
  };
}
