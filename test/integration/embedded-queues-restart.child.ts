/**
 * Run by embedded-queues-restart.test.ts in its own process, which is killed with SIGKILL mid-fan-out: an
 * event source (visibility timeout 300 s) hands a batch to a handler that backs one message off with
 * ChangeMessageVisibility and holds the others, as a handler stuck on a slow provider would, when the kill
 * comes. Each batch is reported on stdout once the back-off is on disk.
 */
import { EmbeddedQueues } from '../../local/queues/engine';
import { startEventSource } from '../../local/queues/event-source';

const directory = process.argv[2];
if (!directory) throw new Error('usage: embedded-queues-restart.child.ts <directory>');

const queues = await EmbeddedQueues.open(directory);
await queues.createQueue('fanout-dlq', { visibilityTimeoutSeconds: 30 });
await queues.createQueue('fanout', {
  visibilityTimeoutSeconds: 300,
  redrive: { deadLetterQueue: 'fanout-dlq', maxReceiveCount: 5 },
});
await queues.send('fanout', [
  ...['job-0', 'job-1', 'job-2', 'job-3'].map((body) => ({ id: body, body })),
  { id: 'backoff', body: 'backoff' },
  { id: 'later', body: 'not due yet', delaySeconds: 300 },
]);
startEventSource({
  queues,
  queue: 'fanout',
  functionName: 'fanout-before-crash',
  timeoutMs: 60_000,
  handler: async (event) => {
    for (const r of event.Records)
      if (r.body === 'backoff') await queues.changeVisibility('fanout', r.receiptHandle, 300);
    const records = event.Records.map((r) => ({
      messageId: r.messageId,
      body: r.body,
      firstReceive: r.attributes.ApproximateFirstReceiveTimestamp,
    }));
    process.stdout.write(`${JSON.stringify(records)}\n`);
    // Holds the batch until the test kills the process.
    await new Promise(() => undefined);
  },
});
setInterval(() => undefined, 60_000);
