// dynalite on a worker thread of its own (see startDynalite in dynalite.ts): the embedded mode's handlers and
// its store then use both cores instead of taking turns on one. Plain JavaScript so the thread needs no loader.
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';

const dynalite = createRequire(import.meta.url)('dynalite');
const server = dynalite({ path: workerData.path, createTableMs: 0, updateTableMs: 0, deleteTableMs: 0 });

server.once('error', (error) => parentPort.postMessage({ error: error.message }));
server.listen(workerData.port, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));

parentPort.on('message', (message) => {
  if (message !== 'close') return;
  // dynalite's close also closes its LevelDB, releasing the lock so the same path can be opened again at once.
  server.close((error) => parentPort.postMessage({ closed: true, error: error?.message }));
  server.closeIdleConnections();
});
