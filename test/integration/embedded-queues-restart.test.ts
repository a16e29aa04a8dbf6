import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { EmbeddedQueues } from '../../local/queues/engine';
import { startEventSource } from '../../local/queues/event-source';
import { startCrashChild } from '../helpers/child-process';

const child = fileURLToPath(new URL('./embedded-queues-restart.child.ts', import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface HeldRecord {
  messageId: string;
  body: string;
  firstReceive: string;
}

it('resumes the fan-out within seconds of a SIGKILL, though the visibility timeout was 300 s', async () => {
  const { dir, proc, exited, cleanup } = await startCrashChild(child, 'herald-queues-restart-');
  cleanups.push(cleanup);
  // The child reports each batch its handler holds; it holds all five visible messages before the kill.
  const held = await Promise.race([
    (async () => {
      const records: HeldRecord[] = [];
      for await (const line of createInterface({ input: proc.stdout })) {
        records.push(...(JSON.parse(line) as HeldRecord[]));
        if (records.length >= 5) return records;
      }
      return records;
    })(),
    exited.then((): HeldRecord[] => []),
  ]);
  expect(held.map((r) => r.body).sort()).toEqual(['backoff', 'job-0', 'job-1', 'job-2', 'job-3']);

  proc.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const openedAt = Date.now();
  const queues = await EmbeddedQueues.open(dir);
  cleanups.push(() => queues.close());
  const handled: { messageId: string; body: string; count: string; firstReceive: string; at: number }[] = [];
  const mapping = startEventSource({
    queues,
    queue: 'fanout',
    functionName: 'fanout-after-crash',
    timeoutMs: 60_000,
    handler: async (event) => {
      for (const r of event.Records)
        handled.push({
          messageId: r.messageId,
          body: r.body,
          count: r.attributes.ApproximateReceiveCount,
          firstReceive: r.attributes.ApproximateFirstReceiveTimestamp,
          at: Date.now(),
        });
    },
  });
  cleanups.push(() => mapping.stop());
  const deadline = openedAt + 5000;
  while (handled.length < 4 && Date.now() < deadline) await sleep(10);

  expect(handled.map((h) => h.body).sort()).toEqual(['job-0', 'job-1', 'job-2', 'job-3']);
  expect(Math.max(...handled.map((h) => h.at)) - openedAt).toBeLessThan(3000);
  expect(queues.releasedAtOpen()).toEqual({ fanout: 4 });
  // The same messages, their dead receive counted and their first receive kept.
  const before = new Map(held.map((r) => [r.messageId, r]));
  for (const h of handled) {
    expect(h.count).toBe('2');
    expect(h.firstReceive).toBe(before.get(h.messageId)?.firstReceive);
  }

  // The back-off and the delayed message keep their 300 s; nothing else arrives.
  await sleep(200);
  expect(handled).toHaveLength(4);
  const attributes = await queues.attributes('fanout');
  expect({
    visible: attributes.ApproximateNumberOfMessages,
    notVisible: attributes.ApproximateNumberOfMessagesNotVisible,
    delayed: attributes.ApproximateNumberOfMessagesDelayed,
  }).toEqual({ visible: 0, notVisible: 1, delayed: 1 });
});
