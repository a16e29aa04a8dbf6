/**
 * One embedded Herald per measurement, in its own temporary data directory, with in-process probes:
 * - completion: the store's `record` is wrapped, so the moment the UpdateItem that makes a receipt `sent`
 *   returns is known without reading anything back (polling would add Query load to the dynalite being measured);
 * - a timeline: when the dispatcher and the channel functions received an alert's messages, when its fan-out
 *   was planned;
 * - where the time goes: calls and time spent per store method and per queue-engine operation;
 * - Lambda's own SQS polling, which the adapters' request counter cannot see: every receive and delete the
 *   embedded event sources make.
 * The probes wrap methods on the instances the handlers were given; none changes what they do.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { Herald } from '../local/runtime';
import { sleep } from './stats';

export const SOCIAL = ['x', 'facebook', 'instagram'] as const;

/**
 * An ordinary alert naming the three social channels: one receipt and one channel job each. Severity Minor
 * so that it is not held for a supervisor's approval. It carries an image, as most alerts with Instagram do;
 * without one Instagram draws an alert card, measured on its own (bench/card.ts) so neither figure hides the other.
 */
export const DRAFT = {
  status: 'Actual',
  category: 'Safety',
  event: 'Road closure',
  urgency: 'Expected',
  severity: 'Minor',
  certainty: 'Observed',
  headline: 'City marathon closes Main Street on Sunday',
  description: 'Main Street is closed between 08:00 and 14:00 for the city marathon. Expect delays.',
  instruction: 'Use Ring Road instead.',
  language: 'en',
  areas: [{ zone: 'centre', areaDesc: 'City centre' }],
  channels: [...SOCIAL],
  web: 'https://police.example.org/alerts/marathon',
  image: {
    url: 'https://police.example.org/img/marathon-closures.jpg',
    alt: 'Map of the streets closed for the marathon',
  },
};
const DRAFT_JSON = JSON.stringify(DRAFT);

export async function withTempDir<T>(prefix: string, use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `herald-bench-${prefix}-`));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Progress {
  sent: Map<string, number>;
  dispatchReceived?: number;
  planned?: number;
  channelReceived: Map<string, number>;
  waiter?: (at: number) => void;
}

export interface Timeline {
  dispatchReceived: number;
  planned: number;
  lastChannelReceived: number;
  allSent: number;
}

export interface OpTiming {
  calls: number;
  totalMs: number;
}

export interface PollingCounts {
  /** Receives that returned messages, per queue kind. */
  receives: Record<'dispatch' | 'channel', number>;
  emptyReceives: Record<'dispatch' | 'channel', number>;
  deleteBatches: Record<'dispatch' | 'channel', number>;
  messagesReceived: Record<'dispatch' | 'channel', number>;
}

const STORE_METHODS = [
  'putVersion',
  'advanceHead',
  'getAlert',
  'getVersion',
  'markPlanned',
  'countSettled',
  'createReceipts',
  'claim',
  'record',
  'get',
  'listForAlert',
  'begin',
  'complete',
  'append',
  'findByIdempotencyKey',
  'findUnplanned',
] as const;
const QUEUE_METHODS = ['send', 'receive', 'deleteMessages', 'changeVisibility'] as const;

const kindOf = (queue: string): 'dispatch' | 'channel' => (queue === 'dispatch' ? 'dispatch' : 'channel');

export class BenchHerald {
  readonly timings = { store: new Map<string, OpTiming>(), queue: new Map<string, OpTiming>() };
  /** Receipts recorded with another status than `sent` (retries, failures): there should be none. */
  anomalies = 0;
  private readonly progress = new Map<string, Progress>();
  private polling: PollingCounts = emptyPolling();
  /** While set, the event sources' receives wait on it: the fan-out is held back, the API is not. */
  private gate: Promise<void> | undefined;

  private constructor(
    readonly herald: Herald,
    private readonly token: string,
  ) {
    this.probe();
  }

  static async start(
    dataDir: string,
    options: { countRequests?: boolean; sweepIntervalMs?: number } = {},
  ): Promise<BenchHerald> {
    // Imported here, not at the top: the logger reads POWERTOOLS_LOG_LEVEL when its module loads, so no bench
    // module may load Herald before run.ts has set the environment.
    const { startHerald } = await import('../local/runtime');
    const herald = await startHerald({
      dataDir,
      port: 0,
      // The embedded default. It only sets visibility timeouts, which matter when a handler fails; none does here.
      functionTimeoutSeconds: 30,
      // The schedule's own Query is per minute, not per alert; a long interval keeps it out of every figure.
      sweepIntervalMs: options.sweepIntervalMs ?? 3_600_000,
      sandboxDelayMs: 0,
      countRequests: options.countRequests ?? false,
      env: {},
    });
    const token = await herald.identity.issue({ roles: ['officer'] });
    return new BenchHerald(herald, token);
  }

  async stop(): Promise<void> {
    await this.herald.stop();
  }

  /** POST /v1/alerts; resolves with the new alert's id once the 201 has been read. */
  async create(headers: Record<string, string> = {}): Promise<string> {
    const res = await fetch(`${this.herald.url}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', ...headers },
      body: DRAFT_JSON,
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST /v1/alerts answered ${res.status}: ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { id: string }).id;
  }

  /**
   * Creates `count` alerts from a load thread of its own at the given concurrency; answers each alert's id with
   * absolute start and end times (performance.timeOrigin + now) and the run's bounds.
   */
  async loadFromThread(
    count: number,
    concurrency: number,
  ): Promise<{ results: { id: string; start: number; end: number }[]; t0: number; t1: number }> {
    const worker = new Worker(new URL('./load-thread.mjs', import.meta.url), {
      workerData: {
        url: `${this.herald.url}/v1/alerts`,
        token: this.token,
        body: DRAFT_JSON,
        count,
        concurrency,
      },
    });
    try {
      const answer = await new Promise<{
        results?: { id: string; start: number; end: number }[];
        t0?: number;
        t1?: number;
        error?: string;
      }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      if (answer.error || !answer.results || answer.t0 === undefined || answer.t1 === undefined)
        throw new Error(`the load thread failed: ${answer.error ?? 'no results'}`);
      return { results: answer.results, t0: answer.t0, t1: answer.t1 };
    } finally {
      await worker.terminate();
    }
  }

  /** Resolves at the moment the last of the alert's receipts was recorded `sent` (performance.now() time). */
  allSent(alertId: string, timeoutMs = 30_000): Promise<number> {
    const p = this.entry(alertId);
    if (p.sent.size === SOCIAL.length) return Promise.resolve(Math.max(...p.sent.values()));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`alert ${alertId}: ${p.sent.size} of ${SOCIAL.length} receipts sent`)),
        timeoutMs,
      );
      p.waiter = (at) => {
        clearTimeout(timer);
        resolve(at);
      };
    });
  }

  /** The alert's milestones in performance.now() time; undefined when one is missing. */
  timeline(alertId: string): Timeline | undefined {
    const p = this.progress.get(alertId);
    if (!p || p.dispatchReceived === undefined || p.planned === undefined) return undefined;
    if (p.channelReceived.size < SOCIAL.length || p.sent.size < SOCIAL.length) return undefined;
    return {
      dispatchReceived: p.dispatchReceived,
      planned: p.planned,
      lastChannelReceived: Math.max(...p.channelReceived.values()),
      allSent: Math.max(...p.sent.values()),
    };
  }

  forget(alertId: string): void {
    this.progress.delete(alertId);
  }

  resetProbes(): void {
    this.timings.store.clear();
    this.timings.queue.clear();
    this.polling = emptyPolling();
    this.anomalies = 0;
  }

  /**
   * Holds the fan-out back (a diagnostic: the API path alone) until the returned function is called. The
   * event sources' workers wait inside receive, as Lambda's pollers would wait on an empty queue; nothing spins.
   */
  holdFanout(): () => void {
    let release = () => {};
    this.gate = new Promise<void>((resolve) => {
      release = () => {
        this.gate = undefined;
        resolve();
      };
    });
    return release;
  }

  pollingCounts(): PollingCounts {
    return structuredClone(this.polling);
  }

  /**
   * Waits until nothing is left to do: every queue empty (nothing visible, in flight or delayed) and the
   * request counter (when on) unchanged for `quietMs`. The work after a receipt is `sent` (the settled
   * counter, deleting the message) must be over before requests are read.
   */
  async quiesce(quietMs = 300, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastTotal = -1;
    let quietSince = Date.now();
    for (;;) {
      let busy = false;
      for (const queue of this.herald.queues.queueNames()) {
        // A dead letter is not work in progress; it would only keep this waiting for nothing.
        if (queue.endsWith('-dlq')) continue;
        const a = await this.herald.queues.attributes(queue);
        if (a.ApproximateNumberOfMessages + a.ApproximateNumberOfMessagesNotVisible > 0) busy = true;
      }
      const total = this.herald.requests?.total() ?? 0;
      if (busy || total !== lastTotal) {
        lastTotal = total;
        quietSince = Date.now();
      } else if (Date.now() - quietSince >= quietMs) return;
      if (Date.now() > deadline) throw new Error('the system did not go quiet');
      await sleep(20);
    }
  }

  private entry(alertId: string): Progress {
    let p = this.progress.get(alertId);
    if (!p) {
      p = { sent: new Map(), channelReceived: new Map() };
      this.progress.set(alertId, p);
    }
    return p;
  }

  private probe(): void {
    const { store, queues } = this.herald;
    const target = store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const name of STORE_METHODS) timeMethod(target, name, this.timings.store);
    const queueTarget = queues as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const name of QUEUE_METHODS) timeMethod(queueTarget, name, this.timings.queue);

    // Completion: after the conditional write that made the receipt `sent` returned true.
    const record = store.record.bind(store);
    store.record = async (key, leaseId, outcome) => {
      const ok = await record(key, leaseId, outcome);
      const at = performance.now();
      if (!ok || outcome.status !== 'sent') {
        this.anomalies++;
        return ok;
      }
      const p = this.entry(key.alertId);
      p.sent.set(key.channel, at);
      if (p.sent.size === SOCIAL.length) p.waiter?.(Math.max(...p.sent.values()));
      return ok;
    };
    const markPlanned = store.markPlanned.bind(store);
    store.markPlanned = async (alertId, version, n, at) => {
      await markPlanned(alertId, version, n, at);
      this.entry(alertId).planned = performance.now();
    };

    // What the event sources (Lambda's pollers, on AWS) receive and delete.
    const receive = queues.receive.bind(queues);
    queues.receive = async (queue, options) => {
      if (this.gate) await this.gate;
      const batch = await receive(queue, options);
      const at = performance.now();
      const kind = kindOf(queue);
      if (batch.length === 0) {
        this.polling.emptyReceives[kind]++;
        return batch;
      }
      this.polling.receives[kind]++;
      this.polling.messagesReceived[kind] += batch.length;
      for (const m of batch) {
        const body = JSON.parse(m.body) as { alertId?: string; channel?: string };
        if (!body.alertId) continue;
        const p = this.entry(body.alertId);
        if (kind === 'dispatch') p.dispatchReceived ??= at;
        else if (body.channel && !p.channelReceived.has(body.channel))
          p.channelReceived.set(body.channel, at);
      }
      return batch;
    };
    const deleteMessages = queues.deleteMessages.bind(queues);
    queues.deleteMessages = async (queue, handles) => {
      this.polling.deleteBatches[kindOf(queue)]++;
      return deleteMessages(queue, handles);
    };
  }
}

function emptyPolling(): PollingCounts {
  const zero = () => ({ dispatch: 0, channel: 0 });
  return { receives: zero(), emptyReceives: zero(), deleteBatches: zero(), messagesReceived: zero() };
}

/** Replaces `obj[name]` with a wrapper that adds each call's duration to `sink` (the wait for a lock included). */
function timeMethod(
  obj: Record<string, (...args: unknown[]) => Promise<unknown>>,
  name: string,
  sink: Map<string, OpTiming>,
): void {
  const original = obj[name];
  if (typeof original !== 'function') return;
  const bound = original.bind(obj);
  obj[name] = async (...args: unknown[]) => {
    const start = performance.now();
    try {
      return await bound(...args);
    } finally {
      const t = sink.get(name) ?? { calls: 0, totalMs: 0 };
      t.calls++;
      t.totalMs += performance.now() - start;
      sink.set(name, t);
    }
  };
}
