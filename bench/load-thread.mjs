// The benchmark's HTTP load generator, on a thread of its own (as wrk would be a process of its own), with
// node:http and a keep-alive agent rather than fetch: the lightest ordinary client, so the two cores go to the
// server being measured and its store rather than to the client's machinery.
import { Agent, request } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { url, token, body, count, concurrency } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const target = new URL(url);
const payload = Buffer.from(body);
const results = [];
let next = 0;

function post() {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': payload.length,
        },
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function worker() {
  while (next < count) {
    next += 1;
    const start = performance.timeOrigin + performance.now();
    const { status, text } = await post();
    const end = performance.timeOrigin + performance.now();
    if (status !== 201) throw new Error(`POST answered ${status}: ${text.slice(0, 300)}`);
    results.push({ id: JSON.parse(text).id, start, end });
  }
}

const t0 = performance.timeOrigin + performance.now();
Promise.all(Array.from({ length: concurrency }, worker)).then(
  () => {
    agent.destroy();
    parentPort.postMessage({ results, t0, t1: performance.timeOrigin + performance.now() });
  },
  (error) => parentPort.postMessage({ error: String(error) }),
);
