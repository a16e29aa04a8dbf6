/**
 * A real crash, not a clean close: a child process changes the queues and is killed with SIGKILL while it
 * holds them open. What it was told was done must be there, and its in-flight message must stay hidden
 * until its visibility timeout ends, then come back with its receive count.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { EmbeddedQueues, type ReceivedMessage, type SendResult } from '../../local/queues/engine';
import { startEventSource } from '../../local/queues/event-source';

const root = fileURLToPath(new URL('../..', import.meta.url));
const child = fileURLToPath(new URL('./embedded-queues-crash.child.ts', import.meta.url));

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('loses nothing when the owning process is killed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'herald-queues-crash-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));

  const proc = spawn(process.execPath, ['--import', 'tsx', child, dir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.once('exit', (_code, signal) => resolve(signal)),
  );
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
  });
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
  const attributes = await queues.attributes('crash');
  expect({
    visible: attributes.ApproximateNumberOfMessages,
    notVisible: attributes.ApproximateNumberOfMessagesNotVisible,
    delayed: attributes.ApproximateNumberOfMessagesDelayed,
  }).toEqual({ visible: 1, notVisible: 1, delayed: 1 });
  const waiting = await queues.receive('crash', { max: 10, visibilityTimeoutSeconds: 30 });
  expect(waiting.map((m) => m.body)).toEqual(['waiting']);

  const handled: { body: string; messageId: string; count: string; at: number }[] = [];
  const mapping = startEventSource({
    queues,
    queue: 'crash',
    functionName: 'crash-test',
    timeoutMs: 1000,
    handler: async (event) => {
      for (const r of event.Records)
        handled.push({
          body: r.body,
          messageId: r.messageId,
          count: r.attributes.ApproximateReceiveCount,
          at: Date.now(),
        });
    },
  });
  cleanups.push(() => mapping.stop());
  const deadline = Date.now() + 5000;
  while (handled.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  expect(handled.map((h) => h.body)).toEqual(['delayed', 'in flight']);
  const back = handled[1]!;
  expect(back.messageId).toBe(inFlight.messageId);
  expect(back.count).toBe('2');
  expect(back.at).toBeGreaterThanOrEqual(inFlight.attributes.ApproximateFirstReceiveTimestamp + 1500);
  expect(sent.map((s) => s.messageId)).toContain(back.messageId);
  await new Promise((r) => setTimeout(r, 100));
  expect(handled).toHaveLength(2);
});
