/**
 * The embedded queues must fail the way SQS and Lambda fail, or the embedded mode hides the bugs that lose
 * alerts. Timers are what is under test, so these use real time with delays of a fraction of a second.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context, SQSBatchResponse, SQSEvent, SQSHandler } from 'aws-lambda';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ALL_QUEUES } from '../../functions/shared/config';
import { EmbeddedQueues, md5Hex, type QueueError, queueArn, SQS_LIMITS } from '../../local/queues/engine';
import {
  type EventSourceLog,
  type EventSourceOptions,
  failedItems,
  startEventSource,
} from '../../local/queues/event-source';
import { createHeraldQueues, deadLetterQueueName, EmbeddedQueuePort } from '../../local/queues/queue-port';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-queues-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function open(dir?: string): Promise<EmbeddedQueues> {
  const queues = await EmbeddedQueues.open(dir ?? (await tempDir()));
  cleanups.push(() => queues.close());
  return queues;
}

function quietLog(): EventSourceLog & { entries: { level: string; message: string }[] } {
  const entries: { level: string; message: string }[] = [];
  return {
    entries,
    warn: (message) => entries.push({ level: 'warn', message }),
    error: (message) => entries.push({ level: 'error', message }),
  };
}

function source(options: Omit<EventSourceOptions, 'log' | 'functionName'> & { functionName?: string }) {
  const log = quietLog();
  const mapping = startEventSource({ functionName: 'test-fn', log, ...options });
  cleanups.push(() => mapping.stop());
  return { mapping, log };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(5);
  }
}

async function expectQueueError(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let caught: unknown;
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected ${code}`).toBeInstanceOf(Error);
  expect((caught as QueueError).name).toBe(code);
}

async function counts(queues: EmbeddedQueues, queue: string) {
  const a = await queues.attributes(queue);
  return {
    visible: a.ApproximateNumberOfMessages,
    notVisible: a.ApproximateNumberOfMessagesNotVisible,
    delayed: a.ApproximateNumberOfMessagesDelayed,
  };
}

describe('engine', () => {
  it('answers each entry with a UUID v4 message id and the MD5 of its body', async () => {
    const queues = await open();
    await queues.createQueue('ids', { visibilityTimeoutSeconds: 30 });
    const bodies = ['hello', '{"alertId":"a1","version":2}', 'Évacuez — 避難 🚨'];
    const results = await queues.send(
      'ids',
      bodies.map((body, i) => ({ id: `e${i}`, body })),
    );
    expect(results.map((r) => r.id)).toEqual(['e0', 'e1', 'e2']);
    for (const r of results) expect(r.messageId).toMatch(UUID_V4);
    expect(new Set(results.map((r) => r.messageId)).size).toBe(3);
    expect(results[0]!.md5OfBody).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(results.map((r) => r.md5OfBody)).toEqual(bodies.map(md5Hex));

    const before = Date.now();
    const received = await queues.receive('ids', { max: 10 });
    expect(received.map((m) => m.body)).toEqual(bodies);
    expect(received.map((m) => m.messageId)).toEqual(results.map((r) => r.messageId));
    for (const m of received) {
      expect(m.md5OfBody).toBe(md5Hex(m.body));
      expect(m.attributes.ApproximateReceiveCount).toBe(1);
      expect(m.attributes.SenderId).toBe('000000000000');
      expect(m.attributes.SentTimestamp).toBeLessThanOrEqual(before);
      expect(m.attributes.ApproximateFirstReceiveTimestamp).toBeGreaterThanOrEqual(before);
    }
  });

  it('hides a received message for its visibility timeout, then returns it with a higher receive count', async () => {
    const queues = await open();
    await queues.createQueue('vis', { visibilityTimeoutSeconds: 0.2 });
    await queues.send('vis', [{ id: 'a', body: 'job' }]);
    const [first] = await queues.receive('vis');
    expect(first!.attributes.ApproximateReceiveCount).toBe(1);
    expect(await queues.receive('vis')).toEqual([]);
    expect(await counts(queues, 'vis')).toEqual({ visible: 0, notVisible: 1, delayed: 0 });

    await sleep(100);
    expect(await queues.receive('vis')).toEqual([]);
    await sleep(150);
    const [second] = await queues.receive('vis');
    expect(second!.messageId).toBe(first!.messageId);
    expect(second!.attributes.ApproximateReceiveCount).toBe(2);
    expect(second!.receiptHandle).not.toBe(first!.receiptHandle);
    expect(second!.attributes.ApproximateFirstReceiveTimestamp).toBe(
      first!.attributes.ApproximateFirstReceiveTimestamp,
    );

    // A receive may set its own visibility timeout.
    await sleep(250);
    const [third] = await queues.receive('vis', { visibilityTimeoutSeconds: 0 });
    expect(third!.attributes.ApproximateReceiveCount).toBe(3);
    const [fourth] = await queues.receive('vis');
    expect(fourth!.attributes.ApproximateReceiveCount).toBe(4);
  });

  it('delays messages, by entry or by the queue default', async () => {
    const queues = await open();
    await queues.createQueue('delay', { visibilityTimeoutSeconds: 30 });
    await queues.createQueue('slow', { visibilityTimeoutSeconds: 30, delaySeconds: 0.15 });
    await queues.send('delay', [
      { id: 'now', body: 'now' },
      { id: 'later', body: 'later', delaySeconds: 0.15 },
    ]);
    await queues.send('slow', [{ id: 'x', body: 'queue default' }]);
    expect(await counts(queues, 'delay')).toEqual({ visible: 1, notVisible: 0, delayed: 1 });
    expect(await counts(queues, 'slow')).toEqual({ visible: 0, notVisible: 0, delayed: 1 });
    expect((await queues.receive('delay', { max: 10 })).map((m) => m.body)).toEqual(['now']);
    expect(await queues.receive('slow')).toEqual([]);

    await sleep(200);
    expect((await queues.receive('delay', { max: 10 })).map((m) => m.body)).toEqual(['later']);
    expect((await queues.receive('slow')).map((m) => m.body)).toEqual(['queue default']);
  });

  it('changes visibility: 0 makes a message visible at once, more seconds keep it hidden longer', async () => {
    const queues = await open();
    await queues.createQueue('cv', { visibilityTimeoutSeconds: 30 });
    await queues.send('cv', [{ id: 'a', body: 'a' }]);
    const [first] = await queues.receive('cv');
    await queues.changeVisibility('cv', first!.receiptHandle, 0);
    const [again] = await queues.receive('cv', { visibilityTimeoutSeconds: 0.1 });
    expect(again!.attributes.ApproximateReceiveCount).toBe(2);

    await queues.changeVisibility('cv', again!.receiptHandle, 0.3);
    await sleep(150);
    expect(await queues.receive('cv')).toEqual([]);
    await sleep(250);
    const [third] = await queues.receive('cv', { visibilityTimeoutSeconds: 0.05 });
    expect(third!.attributes.ApproximateReceiveCount).toBe(3);

    // Once its timeout has ended the message is no longer in flight.
    await sleep(100);
    await expectQueueError(queues.changeVisibility('cv', third!.receiptHandle, 10), 'MessageNotInflight');

    // SQS caps the total at 12 hours from the receive.
    const [fourth] = await queues.receive('cv');
    await sleep(5);
    await expectQueueError(
      queues.changeVisibility('cv', fourth!.receiptHandle, 43_200),
      'InvalidParameterValue',
    );
    await queues.changeVisibility('cv', fourth!.receiptHandle, 43_000);
    await expectQueueError(
      queues.changeVisibility('cv', fourth!.receiptHandle, 43_201),
      'InvalidParameterValue',
    );
    await expectQueueError(queues.changeVisibility('cv', fourth!.receiptHandle, -1), 'InvalidParameterValue');
  });

  it('does not let a stale receipt handle delete or change a message received again since', async () => {
    const queues = await open();
    await queues.createQueue('stale', { visibilityTimeoutSeconds: 0.05 });
    await queues.createQueue('other', { visibilityTimeoutSeconds: 30 });
    await queues.send('stale', [{ id: 'a', body: 'a' }]);
    const [first] = await queues.receive('stale');
    await sleep(80);
    const [second] = await queues.receive('stale', { visibilityTimeoutSeconds: 30 });
    expect(second!.messageId).toBe(first!.messageId);

    expect(await queues.deleteMessage('stale', first!.receiptHandle)).toBe('superseded');
    expect(await counts(queues, 'stale')).toEqual({ visible: 0, notVisible: 1, delayed: 0 });
    await expectQueueError(
      queues.changeVisibility('stale', first!.receiptHandle, 0),
      'ReceiptHandleIsInvalid',
    );
    await expectQueueError(queues.deleteMessage('stale', 'not-a-handle'), 'ReceiptHandleIsInvalid');
    await expectQueueError(queues.deleteMessage('other', second!.receiptHandle), 'ReceiptHandleIsInvalid');

    expect(await queues.deleteMessage('stale', second!.receiptHandle)).toBe('deleted');
    expect(await queues.deleteMessage('stale', second!.receiptHandle)).toBe('not-found');
    await expectQueueError(
      queues.changeVisibility('stale', second!.receiptHandle, 1),
      'ReceiptHandleIsInvalid',
    );
    expect(await counts(queues, 'stale')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('moves a message to the dead-letter queue instead of receiving it a sixth time when maxReceiveCount is 5', async () => {
    const queues = await open();
    await queues.createQueue('jobs-dlq', { visibilityTimeoutSeconds: 30 });
    await queues.createQueue('jobs', {
      visibilityTimeoutSeconds: 0,
      redrive: { deadLetterQueue: 'jobs-dlq', maxReceiveCount: 5 },
    });
    const [sent] = await queues.send('jobs', [{ id: 'a', body: 'poison' }]);
    for (let n = 1; n <= 5; n++) {
      const [m] = await queues.receive('jobs');
      expect(m!.attributes.ApproximateReceiveCount).toBe(n);
    }
    expect(await queues.receive('jobs', { max: 10 })).toEqual([]);
    expect(await counts(queues, 'jobs')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });

    const [dead] = await queues.receive('jobs-dlq');
    expect(dead!.messageId).toBe(sent!.messageId);
    expect(dead!.body).toBe('poison');
    expect(dead!.attributes.DeadLetterQueueSourceArn).toBe(queueArn('jobs'));
    expect(dead!.attributes.SentTimestamp).toBeLessThanOrEqual(Date.now());
  });

  it('skips over dead letters to fill the receive with live messages', async () => {
    const queues = await open();
    await queues.createQueue('d', { visibilityTimeoutSeconds: 30 });
    await queues.createQueue('s', {
      visibilityTimeoutSeconds: 0,
      redrive: { deadLetterQueue: 'd', maxReceiveCount: 1 },
    });
    await queues.send('s', [{ id: 'old', body: 'old' }]);
    await queues.receive('s');
    await queues.send('s', [{ id: 'new', body: 'new' }]);
    const got = await queues.receive('s', { max: 10, visibilityTimeoutSeconds: 30 });
    expect(got.map((m) => m.body)).toEqual(['new']);
    expect((await queues.receive('d')).map((m) => m.body)).toEqual(['old']);
  });

  it('survives a restart: waiting and delayed messages keep their order and time, received ones come back at once', async () => {
    const dir = await tempDir();
    const first = await EmbeddedQueues.open(dir);
    await first.createQueue('durable', { visibilityTimeoutSeconds: 300 });
    const sent = await first.send('durable', [
      { id: 'inflight', body: 'in flight' },
      { id: 'deleted', body: 'deleted' },
      { id: 'w1', body: 'waiting 1' },
      { id: 'w2', body: 'waiting 2' },
      { id: 'delayed', body: 'delayed', delaySeconds: 0.5 },
    ]);
    const [inFlight, toDelete] = await first.receive('durable', { max: 2 });
    expect(inFlight!.body).toBe('in flight');
    expect(await first.deleteMessage('durable', toDelete!.receiptHandle)).toBe('deleted');
    await first.close();

    const second = await open(dir);
    expect(second.queueNames()).toEqual(['durable']);
    expect(second.settings('durable').visibilityTimeoutSeconds).toBe(300);
    expect(await counts(second, 'durable')).toEqual({ visible: 3, notVisible: 0, delayed: 1 });

    // Nothing is sent after the restart: what comes, and the delayed message's timer, come from the disk.
    const bodies: string[] = [];
    const counts2: Record<string, string> = {};
    const { mapping } = source({
      queues: second,
      queue: 'durable',
      timeoutMs: 400,
      handler: async (event: SQSEvent) => {
        for (const r of event.Records) {
          bodies.push(r.body);
          counts2[r.body] = r.attributes.ApproximateReceiveCount;
        }
      },
    });
    await until(() => bodies.length === 4);
    expect(bodies).toEqual(['waiting 1', 'waiting 2', 'in flight', 'delayed']);
    await until(() => mapping.stats.succeeded === 2);
    expect(counts2).toEqual({ 'waiting 1': '1', 'waiting 2': '1', 'in flight': '2', delayed: '1' });
    expect(sent.map((s) => s.messageId)).toContain(inFlight!.messageId);
    expect(await counts(second, 'durable')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('frees on open what the last process had received, counting that receive; a delay or a back-off keeps its time', async () => {
    const dir = await tempDir();
    const first = await EmbeddedQueues.open(dir);
    await first.createQueue('fanout', { visibilityTimeoutSeconds: 300 });
    await first.createQueue('quiet', { visibilityTimeoutSeconds: 300 });
    const [taken, backedOff] = await first.send('fanout', [
      { id: 'taken', body: 'taken' },
      { id: 'backoff', body: 'backed off' },
    ]);
    await first.send('fanout', [{ id: 'delayed', body: 'delayed', delaySeconds: 300 }]);
    const received = await first.receive('fanout', { max: 10, visibilityTimeoutSeconds: 300 });
    expect(received.map((m) => m.messageId)).toEqual([taken!.messageId, backedOff!.messageId]);
    // A handler's back-off ("retry in 300 s") is a time chosen, not a receiver's hold.
    await first.changeVisibility('fanout', received[1]!.receiptHandle, 300);
    expect(first.releasedAtOpen()).toEqual({});
    await first.close();

    const second = await open(dir);
    expect(second.releasedAtOpen()).toEqual({ fanout: 1 });
    expect(await counts(second, 'fanout')).toEqual({ visible: 1, notVisible: 1, delayed: 1 });
    const [again, ...others] = await second.receive('fanout', { max: 10 });
    expect(others).toEqual([]);
    expect(again!.messageId).toBe(taken!.messageId);
    expect(again!.attributes.ApproximateReceiveCount).toBe(2);
    expect(again!.attributes.ApproximateFirstReceiveTimestamp).toBe(
      received[0]!.attributes.ApproximateFirstReceiveTimestamp,
    );
    expect(await second.receive('fanout', { max: 10 })).toEqual([]);
    await second.close();

    // Freed again on the next open, the back-off and the delay still kept; nothing else was touched.
    const third = await open(dir);
    expect(third.releasedAtOpen()).toEqual({ fanout: 1 });
    const [thrice] = await third.receive('fanout', { max: 10 });
    expect(thrice!.attributes.ApproximateReceiveCount).toBe(3);
    expect(thrice!.messageId).toBe(taken!.messageId);
    expect(await counts(third, 'fanout')).toEqual({ visible: 0, notVisible: 2, delayed: 1 });
  });

  it('sends a message whose receivers keep dying to the dead-letter queue, restarts counting as receives', async () => {
    const dir = await tempDir();
    let queues = await EmbeddedQueues.open(dir);
    await queues.createQueue('poison-dlq', { visibilityTimeoutSeconds: 30 });
    await queues.createQueue('poison', {
      visibilityTimeoutSeconds: 300,
      redrive: { deadLetterQueue: 'poison-dlq', maxReceiveCount: 2 },
    });
    const [sent] = await queues.send('poison', [{ id: 'a', body: 'crashes its receiver' }]);
    for (let n = 1; n <= 2; n++) {
      const [m] = await queues.receive('poison');
      expect(m!.attributes.ApproximateReceiveCount).toBe(n);
      await queues.close();
      queues = await EmbeddedQueues.open(dir);
      expect(queues.releasedAtOpen()).toEqual({ poison: 1 });
    }
    cleanups.push(() => queues.close());
    expect(await queues.receive('poison')).toEqual([]);
    const [dead] = await queues.receive('poison-dlq');
    expect(dead!.messageId).toBe(sent!.messageId);
    expect(dead!.attributes.ApproximateReceiveCount).toBe(3);
  });

  it('keeps receipt handles valid across a restart', async () => {
    const dir = await tempDir();
    const first = await EmbeddedQueues.open(dir);
    await first.createQueue('h', { visibilityTimeoutSeconds: 30 });
    await first.send('h', [{ id: 'a', body: 'a' }]);
    const [m] = await first.receive('h');
    await first.close();
    const second = await open(dir);
    expect(await second.deleteMessage('h', m!.receiptHandle)).toBe('deleted');
    expect(await counts(second, 'h')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('reports the age of the oldest message', async () => {
    const queues = await open();
    await queues.createQueue('age', { visibilityTimeoutSeconds: 30 });
    expect((await queues.attributes('age')).ApproximateAgeOfOldestMessage).toBe(0);
    await queues.send('age', [{ id: 'a', body: 'a' }]);
    await sleep(1050);
    const attributes = await queues.attributes('age');
    expect(attributes.ApproximateAgeOfOldestMessage).toBe(1);
    expect(attributes.QueueArn).toBe('arn:aws:sqs:local:000000000000:age');
  });

  it('rejects what SQS rejects, and stores nothing from a rejected batch', async () => {
    const queues = await open();
    await queues.createQueue('v', { visibilityTimeoutSeconds: 30 });
    const entry = (id: string, body = 'x') => ({ id, body });
    await expectQueueError(queues.send('v', []), 'EmptyBatchRequest');
    await expectQueueError(
      queues.send(
        'v',
        Array.from({ length: 11 }, (_, i) => entry(`e${i}`)),
      ),
      'TooManyEntriesInBatchRequest',
    );
    await expectQueueError(queues.send('v', [entry('a'), entry('a')]), 'BatchEntryIdsNotDistinct');
    await expectQueueError(queues.send('v', [entry('has space')]), 'InvalidBatchEntryId');
    await expectQueueError(queues.send('v', [entry('a', '')]), 'InvalidParameterValue');
    await expectQueueError(queues.send('v', [entry('a', 'nul \u0000')]), 'InvalidMessageContents');
    await expectQueueError(queues.send('v', [entry('a', 'lone \uD800')]), 'InvalidMessageContents');
    await expectQueueError(
      queues.send('v', [entry('ok'), entry('big', 'é'.repeat(SQS_LIMITS.maxBodyBytes / 2 + 1))]),
      'InvalidParameterValue',
    );
    await expectQueueError(
      queues.send('v', [entry('a', 'a'.repeat(200_000)), entry('b', 'b'.repeat(200_000))]),
      'BatchRequestTooLong',
    );
    await expectQueueError(queues.send('v', [{ ...entry('a'), delaySeconds: 901 }]), 'InvalidParameterValue');
    await expectQueueError(queues.send('v', [{ ...entry('a'), delaySeconds: -1 }]), 'InvalidParameterValue');
    await expectQueueError(queues.send('missing', [entry('a')]), 'QueueDoesNotExist');
    expect(await counts(queues, 'v')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });

    // The limits themselves are allowed.
    await queues.send('v', [entry('max', 'm'.repeat(SQS_LIMITS.maxBodyBytes))]);
    await queues.send('v', [{ ...entry('d'), delaySeconds: 900 }]);
    expect(await counts(queues, 'v')).toEqual({ visible: 1, notVisible: 0, delayed: 1 });

    await expectQueueError(queues.receive('v', { max: 0 }), 'InvalidParameterValue');
    await expectQueueError(queues.receive('v', { max: 11 }), 'InvalidParameterValue');
    await expectQueueError(
      queues.receive('v', { visibilityTimeoutSeconds: 43_201 }),
      'InvalidParameterValue',
    );
    await expectQueueError(queues.receive('missing'), 'QueueDoesNotExist');

    await expectQueueError(
      queues.createQueue('bad.name', { visibilityTimeoutSeconds: 30 }),
      'InvalidParameterValue',
    );
    await expectQueueError(
      queues.createQueue('x'.repeat(81), { visibilityTimeoutSeconds: 30 }),
      'InvalidParameterValue',
    );
    await expectQueueError(
      queues.createQueue('w', { visibilityTimeoutSeconds: 43_201 }),
      'InvalidParameterValue',
    );
    await expectQueueError(
      queues.createQueue('w', {
        visibilityTimeoutSeconds: 30,
        redrive: { deadLetterQueue: 'nowhere', maxReceiveCount: 3 },
      }),
      'QueueDoesNotExist',
    );
    await expectQueueError(
      queues.createQueue('w', {
        visibilityTimeoutSeconds: 30,
        redrive: { deadLetterQueue: 'v', maxReceiveCount: 0 },
      }),
      'InvalidParameterValue',
    );
    expect(queues.hasQueue('w')).toBe(false);

    const handler = async () => undefined;
    await expectQueueError(
      () => startEventSource({ queues, queue: 'v', functionName: 'f', handler, timeoutMs: 31_000 }),
      'InvalidParameterValue',
    );
    await expectQueueError(
      () =>
        startEventSource({ queues, queue: 'v', functionName: 'f', handler, timeoutMs: 1000, batchSize: 11 }),
      'InvalidParameterValue',
    );
    await expectQueueError(
      () => startEventSource({ queues, queue: 'missing', functionName: 'f', handler, timeoutMs: 1000 }),
      'QueueDoesNotExist',
    );

    await queues.close();
    await expectQueueError(queues.send('v', [entry('a')]), 'QueueEngineClosed');
  });

  it('creating a queue again is harmless and applies new settings', async () => {
    const dir = await tempDir();
    const first = await EmbeddedQueues.open(dir);
    await first.createQueue('again', { visibilityTimeoutSeconds: 30 });
    await first.send('again', [{ id: 'a', body: 'kept' }]);
    await first.createQueue('again', { visibilityTimeoutSeconds: 30 });
    await first.createQueue('again', { visibilityTimeoutSeconds: 60 });
    await first.close();
    const second = await open(dir);
    expect(second.settings('again').visibilityTimeoutSeconds).toBe(60);
    expect((await second.receive('again')).map((m) => m.body)).toEqual(['kept']);
  });

  it('keeps the counts a model predicts, across a restart, for any sequence of operations', async () => {
    const command = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), n: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('receive' as const), max: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('backoff' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 25 }), async (commands) => {
        const dir = await tempDir();
        let queues = await EmbeddedQueues.open(dir, { sync: false });
        try {
          await queues.createQueue('model', { visibilityTimeoutSeconds: 60 });
          const visible = new Set<string>();
          const inFlight = new Map<string, string>();
          const backedOff = new Set<string>();
          let next = 0;
          for (const c of commands) {
            if (c.kind === 'send') {
              const bodies = Array.from({ length: c.n }, () => `m${next++}`);
              await queues.send(
                'model',
                bodies.map((body, i) => ({ id: `e${i}`, body })),
              );
              for (const b of bodies) visible.add(b);
            } else if (c.kind === 'receive') {
              const got = await queues.receive('model', { max: c.max });
              expect(got.length).toBe(Math.min(c.max, visible.size));
              for (const m of got) {
                expect(visible.delete(m.body)).toBe(true);
                inFlight.set(m.body, m.receiptHandle);
              }
            } else if (inFlight.size > 0) {
              const [body, handle] = [...inFlight][c.pick % inFlight.size]!;
              inFlight.delete(body);
              if (c.kind === 'delete') expect(await queues.deleteMessage('model', handle)).toBe('deleted');
              else if (c.kind === 'backoff') {
                await queues.changeVisibility('model', handle, 300);
                backedOff.add(body);
              } else {
                await queues.changeVisibility('model', handle, 0);
                visible.add(body);
              }
            }
          }
          await queues.close();
          queues = await EmbeddedQueues.open(dir, { sync: false });
          // What was received and neither deleted nor backed off comes back at once; a back-off keeps its time.
          for (const body of inFlight.keys()) visible.add(body);
          expect(queues.releasedAtOpen()).toEqual(inFlight.size > 0 ? { model: inFlight.size } : {});
          expect(await counts(queues, 'model')).toEqual({
            visible: visible.size,
            notVisible: backedOff.size,
            delayed: 0,
          });
          const left: string[] = [];
          for (
            let got = await queues.receive('model', { max: 10 });
            got.length > 0;
            got = await queues.receive('model', { max: 10 })
          )
            left.push(...got.map((m) => m.body));
          expect(left.sort()).toEqual([...visible].sort());
        } finally {
          await queues.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});

describe('event source', () => {
  async function queueWith(
    visibilityTimeoutSeconds: number,
    extra: { redrive?: { maxReceiveCount: number } } = {},
  ) {
    const queues = await open();
    if (extra.redrive) {
      await queues.createQueue('work-dlq', { visibilityTimeoutSeconds: 30 });
      await queues.createQueue('work', {
        visibilityTimeoutSeconds,
        redrive: { deadLetterQueue: 'work-dlq', maxReceiveCount: extra.redrive.maxReceiveCount },
      });
    } else await queues.createQueue('work', { visibilityTimeoutSeconds });
    return queues;
  }

  it('invokes with Lambda-shaped records and context, and deletes a batch that succeeds', async () => {
    const queues = await queueWith(5);
    const events: SQSEvent[] = [];
    const contexts: { context: Context; remaining: number }[] = [];
    const { mapping } = source({
      queues,
      queue: 'work',
      functionName: 'channel-sms',
      timeoutMs: 5000,
      handler: async (event, context) => {
        events.push(event);
        contexts.push({ context, remaining: context.getRemainingTimeInMillis() });
      },
    });
    const sent = await queues.send('work', [
      { id: 'a', body: 'one' },
      { id: 'b', body: 'two' },
    ]);
    await until(() => mapping.stats.succeeded === 1);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });

    const [record] = events[0]!.Records;
    expect(events[0]!.Records.map((r) => r.messageId)).toEqual(sent.map((s) => s.messageId));
    expect(record).toMatchObject({
      messageId: sent[0]!.messageId,
      body: 'one',
      md5OfBody: md5Hex('one'),
      messageAttributes: {},
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:local:000000000000:work',
      awsRegion: 'local',
    });
    expect(typeof record!.receiptHandle).toBe('string');
    expect(record!.attributes).toEqual({
      ApproximateReceiveCount: '1',
      SentTimestamp: expect.stringMatching(/^\d{13}$/),
      SenderId: '000000000000',
      ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
    });
    const { context, remaining } = contexts[0]!;
    expect(context.functionName).toBe('channel-sms');
    expect(context.functionVersion).toBe('$LATEST');
    expect(context.invokedFunctionArn).toBe('arn:aws:lambda:local:000000000000:function:channel-sms');
    expect(context.awsRequestId).toMatch(UUID_V4);
    expect(context.logGroupName).toBe('/aws/lambda/channel-sms');
    expect(context.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(remaining).toBeGreaterThan(4000);
    expect(remaining).toBeLessThanOrEqual(5000);
  });

  it('deletes the rest of a batch and redelivers only the message reported as failed', async () => {
    const queues = await queueWith(0.15);
    const seen: { body: string; count: string }[] = [];
    const { mapping } = source({
      queues,
      queue: 'work',
      timeoutMs: 150,
      handler: async (event): Promise<SQSBatchResponse> => {
        for (const r of event.Records)
          seen.push({ body: r.body, count: r.attributes.ApproximateReceiveCount });
        const failing = event.Records.filter(
          (r) => r.body === 'b' && r.attributes.ApproximateReceiveCount === '1',
        );
        return { batchItemFailures: failing.map((r) => ({ itemIdentifier: r.messageId })) };
      },
    });
    await queues.send(
      'work',
      ['a', 'b', 'c'].map((body) => ({ id: body, body })),
    );
    await until(() => mapping.stats.partiallyFailed === 1);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 1, delayed: 0 });
    await until(() => seen.length === 4);
    await until(() => mapping.stats.succeeded === 1);
    expect(seen).toEqual([
      { body: 'a', count: '1' },
      { body: 'b', count: '1' },
      { body: 'c', count: '1' },
      { body: 'b', count: '2' },
    ]);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('redelivers a failed message when the handler changed its visibility, not the queue default', async () => {
    const queues = await queueWith(30);
    const seenAt: number[] = [];
    source({
      queues,
      queue: 'work',
      timeoutMs: 1000,
      handler: async (event) => {
        seenAt.push(Date.now());
        const r = event.Records[0]!;
        if (r.attributes.ApproximateReceiveCount !== '1') return;
        await queues.changeVisibility('work', r.receiptHandle, 0.1);
        return { batchItemFailures: [{ itemIdentifier: r.messageId }] };
      },
    });
    await queues.send('work', [{ id: 'a', body: 'retry me' }]);
    await until(() => seenAt.length === 2);
    expect(seenAt[1]! - seenAt[0]!).toBeGreaterThanOrEqual(90);
    expect(seenAt[1]! - seenAt[0]!).toBeLessThan(1000);
  });

  it('keeps the whole batch when the handler throws', async () => {
    const queues = await queueWith(0.15);
    const counts2: string[][] = [];
    const { mapping, log } = source({
      queues,
      queue: 'work',
      timeoutMs: 150,
      handler: async (event) => {
        counts2.push(event.Records.map((r) => r.attributes.ApproximateReceiveCount));
        if (counts2.length === 1) throw new Error('provider down');
      },
    });
    await queues.send(
      'work',
      ['a', 'b', 'c'].map((body) => ({ id: body, body })),
    );
    await until(() => mapping.stats.failed === 1);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 3, delayed: 0 });
    await until(() => mapping.stats.succeeded === 1);
    expect(counts2).toEqual([
      ['1', '1', '1'],
      ['2', '2', '2'],
    ]);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
    expect(log.entries.some((e) => e.level === 'warn' && e.message.includes('handler failed'))).toBe(true);
  });

  it.each([
    ['an empty itemIdentifier', () => ({ batchItemFailures: [{ itemIdentifier: '' }] })],
    [
      'an itemIdentifier not in the batch',
      () => ({ batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] }),
    ],
    ['a missing itemIdentifier', () => ({ batchItemFailures: [{ id: 'x' }] })],
    ['batchItemFailures that is not a list', () => ({ batchItemFailures: 'all' })],
  ])('keeps the whole batch when the response has %s', async (_, response) => {
    const queues = await queueWith(0.15);
    const { mapping } = source({
      queues,
      queue: 'work',
      timeoutMs: 150,
      handler: (async () => response()) as unknown as SQSHandler,
    });
    await queues.send(
      'work',
      ['a', 'b'].map((body) => ({ id: body, body })),
    );
    await until(() => mapping.stats.failed === 1);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 2, delayed: 0 });
    await mapping.stop();
    await sleep(200);
    const back = await queues.receive('work', { max: 10 });
    expect(back.map((m) => m.attributes.ApproximateReceiveCount)).toEqual([2, 2]);
  });

  it('reads batch responses by Lambda rules', () => {
    const batch = new Set(['m1', 'm2']);
    expect(failedItems(undefined, batch)).toEqual(new Set());
    expect(failedItems(null, batch)).toEqual(new Set());
    expect(failedItems({}, batch)).toEqual(new Set());
    expect(failedItems({ batchItemFailures: [] }, batch)).toEqual(new Set());
    expect(failedItems({ batchItemFailures: null }, batch)).toEqual(new Set());
    expect(failedItems({ batchItemFailures: [{ itemIdentifier: 'm2' }] }, batch)).toEqual(new Set(['m2']));
    expect(failedItems({ batchItemFailures: [{ itemIdentifier: null }] }, batch)).toBe('all');
    expect(failedItems('ok', batch)).toBe('all');
    expect(failedItems([], batch)).toBe('all');
  });

  it('keeps the whole batch when the handler runs past its timeout', async () => {
    const queues = await queueWith(0.2);
    let calls = 0;
    const { mapping } = source({
      queues,
      queue: 'work',
      timeoutMs: 60,
      handler: async (_event, context) => {
        calls++;
        if (calls === 1) await sleep(150);
        expect(context.getRemainingTimeInMillis()).toBeLessThanOrEqual(60);
      },
    });
    await queues.send('work', [{ id: 'a', body: 'slow' }]);
    await until(() => mapping.stats.timedOut === 1);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 1, delayed: 0 });
    await until(() => mapping.stats.succeeded === 1);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('supports callback-style handlers', async () => {
    const queues = await queueWith(0.15);
    const { mapping } = source({
      queues,
      queue: 'work',
      timeoutMs: 150,
      handler: (event, _context, callback) => {
        const [first, second] = event.Records;
        setTimeout(() => callback(null, { batchItemFailures: [{ itemIdentifier: second!.messageId }] }), 5);
        expect(first).toBeDefined();
      },
    });
    await queues.send(
      'work',
      ['a', 'b'].map((body) => ({ id: body, body })),
    );
    await until(() => mapping.stats.partiallyFailed === 1);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 1, delayed: 0 });
  });

  it('sends a message that keeps failing to the dead-letter queue after maxReceiveCount invocations', async () => {
    const queues = await queueWith(0.05, { redrive: { maxReceiveCount: 3 } });
    const receiveCounts: string[] = [];
    const { mapping } = source({
      queues,
      queue: 'work',
      timeoutMs: 50,
      handler: async (event) => {
        receiveCounts.push(event.Records[0]!.attributes.ApproximateReceiveCount);
        throw new Error('always fails');
      },
    });
    await queues.send('work', [{ id: 'a', body: 'poison' }]);
    await until(async () => (await counts(queues, 'work-dlq')).visible === 1);
    expect(receiveCounts).toEqual(['1', '2', '3']);
    expect(mapping.stats.failed).toBe(3);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('pushes: a message sent to an idle consumer is handled within milliseconds, not on a timer', async () => {
    // Any poll or retry timer is at least as slow as this queue's 1 s visibility timeout would be.
    const queues = await queueWith(1);
    const handledAt: number[] = [];
    source({
      queues,
      queue: 'work',
      timeoutMs: 1000,
      handler: async () => {
        handledAt.push(performance.now());
      },
    });
    await sleep(50);
    const latencies: number[] = [];
    for (let i = 0; i < 7; i++) {
      const sentAt = performance.now();
      await queues.send('work', [{ id: 'a', body: `ping ${i}` }]);
      await until(() => handledAt.length === i + 1, 1000);
      latencies.push(handledAt[i]! - sentAt);
      await sleep(20);
    }
    latencies.sort((a, b) => a - b);
    // The goal is well under 10 ms; the bound leaves room for a busy machine running other suites.
    expect(latencies[3]).toBeLessThan(25);
    expect(latencies[6]).toBeLessThan(250);
  });

  it('runs at most maxConcurrency invocations at once and delivers everything', async () => {
    const queues = await queueWith(5);
    let running = 0;
    let peak = 0;
    const bodies: string[] = [];
    const { mapping } = source({
      queues,
      queue: 'work',
      timeoutMs: 1000,
      batchSize: 3,
      maxConcurrency: 2,
      handler: async (event) => {
        running++;
        peak = Math.max(peak, running);
        expect(event.Records.length).toBeLessThanOrEqual(3);
        await sleep(15);
        bodies.push(...event.Records.map((r) => r.body));
        running--;
      },
    });
    const all = Array.from({ length: 20 }, (_, i) => `m${i}`);
    for (let i = 0; i < all.length; i += 10)
      await queues.send(
        'work',
        all.slice(i, i + 10).map((body) => ({ id: body, body })),
      );
    await until(() => bodies.length === 20);
    expect(peak).toBe(2);
    expect(bodies.sort()).toEqual([...all].sort());
    await until(() => mapping.inFlight === 0);
    expect(await counts(queues, 'work')).toEqual({ visible: 0, notVisible: 0, delayed: 0 });
  });

  it('stop() takes no new batches and waits for the one in flight', async () => {
    const queues = await queueWith(5);
    let started = 0;
    let finished = 0;
    const { mapping } = source({
      queues,
      queue: 'work',
      timeoutMs: 1000,
      handler: async () => {
        started++;
        await sleep(150);
        finished++;
      },
    });
    await queues.send('work', [{ id: 'a', body: 'a' }]);
    await until(() => started === 1);
    const stopping = mapping.stop();
    await queues.send('work', [{ id: 'b', body: 'b' }]);
    await stopping;
    expect(finished).toBe(1);
    expect(mapping.inFlight).toBe(0);
    expect(await counts(queues, 'work')).toEqual({ visible: 1, notVisible: 0, delayed: 0 });
    await sleep(50);
    expect(started).toBe(1);
  });
});

describe('EmbeddedQueuePort', () => {
  it('creates every Herald queue with its dead-letter queue, and sends in batches of ten', async () => {
    const queues = await open();
    await createHeraldQueues(queues, {
      maxReceives: 4,
      visibilityTimeoutSeconds: (q) => (q === 'dispatch' ? 60 : 30),
    });
    await createHeraldQueues(queues, {
      maxReceives: 4,
      visibilityTimeoutSeconds: (q) => (q === 'dispatch' ? 60 : 30),
    });
    for (const queue of ALL_QUEUES) {
      expect(queues.settings(queue).redrive).toEqual({
        deadLetterQueue: deadLetterQueueName(queue),
        maxReceiveCount: 4,
      });
      expect(queues.hasQueue(`${queue}-dlq`)).toBe(true);
    }
    expect(queues.settings('dispatch').visibilityTimeoutSeconds).toBe(60);
    expect(queues.settings('channel-sms').visibilityTimeoutSeconds).toBe(30);

    const batches: number[] = [];
    const send = queues.send.bind(queues);
    queues.send = async (queue, entries) => {
      batches.push(entries.length);
      return send(queue, entries);
    };
    const port = new EmbeddedQueuePort(queues);
    await port.send(
      'channel-sms',
      Array.from({ length: 23 }, (_, i) => ({
        id: `job:${i}`,
        body: `job ${i}`,
        ...(i === 0 ? { delaySeconds: 30 } : {}),
      })),
    );
    expect(batches).toEqual([10, 10, 3]);
    expect(await counts(queues, 'channel-sms')).toEqual({ visible: 22, notVisible: 0, delayed: 1 });

    const [m] = await queues.receive('channel-sms');
    await port.changeVisibility('channel-sms', m!.receiptHandle, 0);
    expect(await counts(queues, 'channel-sms')).toEqual({ visible: 22, notVisible: 0, delayed: 1 });
    const [again] = await queues.receive('channel-sms');
    await port.changeVisibility('channel-sms', again!.receiptHandle, 40_000);
    expect(await counts(queues, 'channel-sms')).toEqual({ visible: 21, notVisible: 1, delayed: 1 });
    // Clamped into SQS's range, as the SQS adapter does.
    await port.changeVisibility('channel-sms', again!.receiptHandle, -5);
    expect(await counts(queues, 'channel-sms')).toEqual({ visible: 22, notVisible: 0, delayed: 1 });
  });
});

describe('group commit', () => {
  it('writes concurrent changes in shared synced batches, and answers each only once it is on disk', async () => {
    // Prepare
    const { ClassicLevel } = await import('classic-level');
    const dir = await tempDir();
    const queues = await EmbeddedQueues.open(dir);
    await queues.createQueue('work', { visibilityTimeoutSeconds: 30 });
    const batch = ClassicLevel.prototype.batch;
    let batches = 0;
    ClassicLevel.prototype.batch = function (this: InstanceType<typeof ClassicLevel>, ...args: unknown[]) {
      batches++;
      return (batch as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof batch;
    // Act
    try {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => queues.send('work', [{ id: 'm', body: `message ${i}` }])),
      );
    } finally {
      ClassicLevel.prototype.batch = batch;
    }
    await queues.close();
    // Assess: fewer disk batches than sends, and every message is there after a reopen
    expect(batches).toBeGreaterThan(0);
    expect(batches).toBeLessThan(40);
    const again = await open(dir);
    const bodies = new Set<string>();
    for (
      let received = await again.receive('work', { max: 10 });
      received.length > 0;
      received = await again.receive('work', { max: 10 })
    )
      for (const m of received) bodies.add(m.body);
    expect(bodies.size).toBe(40);
  });
});
