import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { EmbeddedQueues, type ReceivedMessage, type SendResult } from '../../local/queues/engine';
import { startEventSource } from '../../local/queues/event-source';
import { startCrashChild } from '../helpers/child-process';

const child = fileURLToPath(new URL('./embedded-queues-crash.child.ts', import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('loses nothing when the owning process is killed', async () => {
  const { dir, proc, exited, cleanup } = await startCrashChild(child, 'herald-queues-crash-');
  cleanups.push(cleanup);
  const [line] = await Promise.race([
    (async () => {
      for await (const l of createInterface({ input: proc.stdout })) return [l];
      return [undefined];
    })(),
    exited.then(() => [undefined]),
  ]);
  expect(line, 'the child reported its state').toBeDefined();
  const { sent, inFlight } = JSON.parse(line!) as { sent: SendResult[]; inFlight: ReceivedMessage };

  // One process owns the directory: LevelDB's lock refuses a second while the first lives.
  await expect(EmbeddedQueues.open(dir)).rejects.toThrow(/another process/);

  proc.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');

  const queues = await EmbeddedQueues.open(dir);
  cleanups.push(() => queues.close());
  expect(queues.releasedAtOpen()).toEqual({ crash: 1 });
  const attributes = await queues.attributes('crash');
  expect({
    visible: attributes.ApproximateNumberOfMessages,
    notVisible: attributes.ApproximateNumberOfMessagesNotVisible,
    delayed: attributes.ApproximateNumberOfMessagesDelayed,
  }).toEqual({ visible: 2, notVisible: 0, delayed: 1 });

  const handled: { body: string; messageId: string; count: string }[] = [];
  const mapping = startEventSource({
    queues,
    queue: 'crash',
    functionName: 'crash-test',
    timeoutMs: 1000,
    handler: async (event) => {
      for (const r of event.Records)
        handled.push({ body: r.body, messageId: r.messageId, count: r.attributes.ApproximateReceiveCount });
    },
  });
  cleanups.push(() => mapping.stop());
  const deadline = Date.now() + 5000;
  while (handled.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  expect(handled.map((h) => [h.body, h.count])).toEqual([
    ['waiting', '1'],
    ['in flight', '2'],
    ['delayed', '1'],
  ]);
  expect(handled[1]!.messageId).toBe(inFlight.messageId);
  expect(sent.map((s) => s.messageId)).toEqual(expect.arrayContaining(handled.map((h) => h.messageId)));
  await new Promise((r) => setTimeout(r, 100));
  expect(handled).toHaveLength(3);
});
