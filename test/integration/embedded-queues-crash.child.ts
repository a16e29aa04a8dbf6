/**
 * Run by embedded-queues-crash.test.ts in its own process, which is then killed with SIGKILL: leaves one
 * message in flight, one deleted, one waiting and one delayed, reports them, and waits to be killed.
 */
import { EmbeddedQueues } from '../../local/queues/engine';

const directory = process.argv[2];
if (!directory) throw new Error('usage: embedded-queues-crash.child.ts <directory>');

const queues = await EmbeddedQueues.open(directory);
await queues.createQueue('crash', { visibilityTimeoutSeconds: 1.5 });
const sent = await queues.send('crash', [
  { id: 'inflight', body: 'in flight' },
  { id: 'deleted', body: 'deleted' },
  { id: 'waiting', body: 'waiting' },
  { id: 'delayed', body: 'delayed', delaySeconds: 1 },
]);
const [inFlight, deleted] = await queues.receive('crash', { max: 2 });
if (inFlight?.body !== 'in flight' || deleted?.body !== 'deleted')
  throw new Error('unexpected receive order');
await queues.deleteMessage('crash', deleted.receiptHandle);
process.stdout.write(`${JSON.stringify({ sent, inFlight })}\n`);
// Holds the database open, as a running server would, until the test kills the process.
setInterval(() => undefined, 60_000);
