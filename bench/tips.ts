/**
 * A burst of replies after a big alert: residents who got it text back at once (a sighting, a question), each a tip.
 * Runs on the Herald the fan-out section leaves behind (100,000 residents who all got the alert by SMS): 2,000 of
 * them text the agency's number through the same road as SNS on AWS (`POST /v1/sandbox/inbound/sms`, which runs
 * the inbound handler), as fast as the embedded server takes them. Measures how fast tips are stored, how long
 * until the last one is counted in the officers' inbox, and what each costs in DynamoDB requests.
 */
import type { Herald } from '../local/runtime';

export interface TipBurst {
  texts: number;
  /** Over how long the texts arrived (0: all at once). */
  spreadOverSeconds: number;
  /** From the last text's arrival to every tip counted in the inbox: how long the burst takes to absorb. */
  afterLastTextSeconds: number;
  /** The longest any one text waited for its answer (its tip stored). */
  slowestTextSeconds: number;
  /** From the first text sent to the last one answered (each answer comes once its tip is stored). */
  storedSeconds: number;
  tipsPerSecond: number;
  /** From the first text sent to the inbox's open count reaching every tip. */
  visibleSeconds: number;
  /** Tips in the inbox afterwards: as many as texts, no more, no fewer. */
  tipsInInbox: number;
  /** DynamoDB requests per tip, the acknowledgement's outbox write (standing in for the SNS publish) left out. */
  requestsPerTip: number;
  byCommandPerTip: Record<string, number>;
}

const CONCURRENCY = 32;

export async function measureTipBurst(
  herald: Herald,
  options: {
    phones: readonly string[];
    officerToken: string;
    /** The texts arrive evenly over this long (as "2,000 replies within a minute" would); 0: all at once. */
    spreadOverMs?: number;
  },
): Promise<TipBurst> {
  const base = herald.url;
  let acks = 0;
  const append = herald.store.append.bind(herald.store);
  herald.store.append = async (item) => {
    await append(item);
    acks++;
  };
  const openCount = async () => {
    const res = await fetch(`${base}/v1/tips/count?state=open`, {
      headers: { authorization: `Bearer ${options.officerToken}` },
    });
    return ((await res.json()) as { count: number }).count;
  };
  const before = await openCount();
  herald.requests?.reset();
  const t0 = performance.now();
  let next = 0;
  let slowestMs = 0;
  const spread = options.spreadOverMs ?? 0;
  const worker = async () => {
    while (next < options.phones.length) {
      const i = next++;
      // Each text at its arrival time: a resident does not wait for the one before to be answered.
      const due = t0 + (spread * i) / options.phones.length;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const sentAt = performance.now();
      const res = await fetch(`${base}/v1/sandbox/inbound/sms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          from: options.phones[i],
          body: `I think I smelled gas on my street, reply ${i}`,
        }),
      });
      if (!res.ok) throw new Error(`an inbound text was answered ${res.status}`);
      await res.arrayBuffer();
      slowestMs = Math.max(slowestMs, performance.now() - sentAt);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const storedAt = performance.now();
  // Read now: the count polls below are the inbox's cost, not the tips'.
  const byCommand = herald.requests?.byCommand() ?? {};
  let inbox = await openCount();
  while (inbox - before < options.phones.length) {
    if (performance.now() - t0 > 120_000) break;
    await new Promise((r) => setTimeout(r, 50));
    inbox = await openCount();
  }
  const visibleAt = performance.now();
  const lastArrival = t0 + (spread * (options.phones.length - 1)) / options.phones.length;
  // The acknowledgement's outbox write stands in for the SNS publish: not the tip's cost.
  byCommand['dynamodb:PutItem'] = (byCommand['dynamodb:PutItem'] ?? 0) - acks;
  const perTip = (n: number) => Math.round((n / options.phones.length) * 100) / 100;
  const total = Object.entries(byCommand)
    .filter(([k]) => k.startsWith('dynamodb:'))
    .reduce((a, [, n]) => a + n, 0);
  const storedSeconds = (storedAt - t0) / 1000;
  return {
    texts: options.phones.length,
    storedSeconds: Math.round(storedSeconds * 100) / 100,
    tipsPerSecond: Math.round(options.phones.length / storedSeconds),
    visibleSeconds: Math.round(((visibleAt - t0) / 1000) * 100) / 100,
    afterLastTextSeconds: Math.round(((visibleAt - lastArrival) / 1000) * 100) / 100,
    slowestTextSeconds: Math.round((slowestMs / 1000) * 100) / 100,
    spreadOverSeconds: spread / 1000,
    tipsInInbox: inbox - before,
    requestsPerTip: perTip(total),
    byCommandPerTip: Object.fromEntries(
      Object.entries(byCommand)
        .filter(([k, n]) => k.startsWith('dynamodb:') && n > 0)
        .map(([k, n]) => [k, perTip(n)]),
    ),
  };
}
