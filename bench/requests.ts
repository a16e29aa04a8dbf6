/**
 * AWS requests per alert, counted at the adapters (DynamoDB through SDK middleware, SQS through the queue
 * port), set against the floor any design with a conditional claim per delivery must pay.
 *
 * The floor, per alert naming c channels with one recipient each:
 *   1        write the version (a conditional PutItem: a version number is taken once; this is the 201's promise)
 *   c        create the receipt (conditional PutItem: the auditor sees `queued`, and a re-planned fan-out must
 *            not reset a receipt that was already sent)
 *   c        claim it (conditional UpdateItem: the lease that keeps two workers from posting the same thing)
 *   c        record the outcome (conditional UpdateItem on the lease)
 *   c        queue the job (SendMessageBatch: each channel has its own queue, so jobs for different channels
 *            cannot share a batch)
 *   = 1 + 4c; for c = 3, 13 per alert, 4.33 per alert per channel.
 * Herald plans the fan-out off the request path (invariant 1: a 201 is answered as soon as the version is
 * safe), which adds one dispatch message: 2 + 4c = 14, 4.67 per channel. Anything above that is a choice
 * the code made (an index head item, reads of what it just wrote, counters) and is listed as such.
 *
 * Lambda's own polling (ReceiveMessage, DeleteMessageBatch) is not made by the adapters; it is estimated from
 * what the embedded event sources receive and delete.
 */
import { randomUUID } from 'node:crypto';
import { BenchHerald, type PollingCounts, SOCIAL, withTempDir } from './harness';
import { rounded } from './stats';

export interface RequestBatch {
  alerts: number;
  idempotencyKey: boolean;
  total: number;
  perAlert: number;
  perAlertPerChannel: number;
  byCommandPerAlert: Record<string, number>;
  /** Store port calls per alert, to say which code made which request. */
  storeCallsPerAlert: Record<string, number>;
  /** The sandbox providers' outbox writes: a real provider makes an HTTP call instead, no AWS request. */
  sandboxOutboxPerAlert: number;
  /** What the same flow would make on AWS: no outbox, and each channel function reading the version once. */
  projectedAwsPerAlert: number;
  projectedAwsPerAlertPerChannel: number;
  polling: PollingCounts;
}

export interface RequestsResult {
  channels: number;
  floor: {
    strictPerAlert: number;
    withDispatchPerAlert: number;
    perChannel: number;
    perChannelWithDispatch: number;
  };
  floorItems: string[];
  plain: RequestBatch;
  withKey: RequestBatch;
  /** Lambda's polling, not counted by the adapters, per alert. */
  lambdaPolling: {
    receiveMessagePerAlert: number;
    deleteMessageBatchPerAlert: number;
    emptyReceivesEmbeddedPerAlert: number;
    note: string;
  };
  beyondFloor: { what: string; perAlert: number }[];
}

export const FLOOR_ITEMS = [
  'write the version: 1 conditional PutItem per alert',
  'create the receipt: 1 conditional PutItem per channel',
  'claim it: 1 conditional UpdateItem per channel',
  'record the outcome: 1 conditional UpdateItem per channel',
  'queue the job: 1 SendMessageBatch per channel (one queue per channel)',
  "Herald's shape: + 1 SendMessageBatch per alert to the dispatch queue (fan-out planned off the request path)",
];

async function batch(bench: BenchHerald, alerts: number, idempotencyKey: boolean): Promise<RequestBatch> {
  const requests = bench.herald.requests;
  if (!requests) throw new Error('request counting is off');
  await bench.quiesce();
  requests.reset();
  bench.resetProbes();
  // One at a time, each to `sent` before the next: no batching across alerts flatters the figures.
  for (let i = 0; i < alerts; i++) {
    const id = await bench.create(idempotencyKey ? { 'idempotency-key': randomUUID() } : {});
    await bench.allSent(id);
    bench.forget(id);
  }
  // The settled counters and message deletes come after `sent`; count them too.
  await bench.quiesce();
  const byCommand = requests.byCommand();
  const total = requests.total();
  const storeCalls = Object.fromEntries(
    [...bench.timings.store].sort(([a], [b]) => a.localeCompare(b)).map(([k, t]) => [k, t.calls / alerts]),
  );
  const outbox = storeCalls.append ?? 0;
  const versionReads = storeCalls.getVersion ?? 0;
  const projected = total / alerts - outbox + (SOCIAL.length - versionReads);
  return {
    alerts,
    idempotencyKey,
    total,
    perAlert: total / alerts,
    perAlertPerChannel: total / alerts / SOCIAL.length,
    byCommandPerAlert: rounded(
      Object.fromEntries(
        Object.entries(byCommand)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, v / alerts]),
      ),
      2,
    ),
    storeCallsPerAlert: rounded(storeCalls, 2),
    sandboxOutboxPerAlert: outbox,
    projectedAwsPerAlert: Math.round(projected * 100) / 100,
    projectedAwsPerAlertPerChannel: Math.round((projected / SOCIAL.length) * 100) / 100,
    polling: bench.pollingCounts(),
  };
}

export async function measureRequests(options: {
  warmup: number;
  alerts: number;
  alertsWithKey: number;
}): Promise<RequestsResult> {
  return withTempDir('requests', async (dir) => {
    const bench = await BenchHerald.start(dir, { countRequests: true });
    try {
      for (let i = 0; i < options.warmup; i++) await bench.allSent(await bench.create());
      const plain = await batch(bench, options.alerts, false);
      const withKey = await batch(bench, options.alertsWithKey, true);

      const c = SOCIAL.length;
      const strict = 1 + 4 * c;
      const withDispatch = 2 + 4 * c;
      const p = plain.polling;
      const per = (n: number) => Math.round((n / plain.alerts) * 100) / 100;
      const s = plain.storeCallsPerAlert;
      return {
        channels: c,
        floor: {
          strictPerAlert: strict,
          withDispatchPerAlert: withDispatch,
          perChannel: Math.round((strict / c) * 100) / 100,
          perChannelWithDispatch: Math.round((withDispatch / c) * 100) / 100,
        },
        floorItems: FLOOR_ITEMS,
        plain,
        withKey,
        lambdaPolling: {
          receiveMessagePerAlert: per(p.receives.dispatch + p.receives.channel),
          deleteMessageBatchPerAlert: per(p.deleteBatches.dispatch + p.deleteBatches.channel),
          emptyReceivesEmbeddedPerAlert: per(p.emptyReceives.dispatch + p.emptyReceives.channel),
          note:
            'One alert at a time, every message is its own batch: at least one ReceiveMessage and one DeleteMessageBatch per message ' +
            '(1 dispatch + 1 per channel). Batching under load lowers this. Empty receives are the embedded event source checking ' +
            "a drained queue; on AWS, Lambda's pollers long-poll (up to 20 s) all the time, a cost per queue per minute, not per alert.",
        },
        beyondFloor: [
          { what: 'dispatcher reads the alert back (Query)', perAlert: s.getAlert ?? 0 },
          {
            what: 'markPlanned UpdateItem (takes the version off the sweeper index)',
            perAlert: s.markPlanned ?? 0,
          },
          {
            what: 'channel reads the version (GetItem; one process cache here, one per function on AWS)',
            perAlert: s.getVersion ?? 0,
          },
          { what: 'countSettled UpdateItem (drives the alert state `sent`)', perAlert: s.countSettled ?? 0 },
          {
            what: 'sandbox outbox PutItem (embedded only; a real provider is an HTTP call)',
            perAlert: s.append ?? 0,
          },
        ],
      };
    } finally {
      await bench.stop();
    }
  });
}
