/**
 * `npm start`: Herald on this machine. PORT (default 3000) and HERALD_DATA_DIR (default .data) choose the port
 * and where state lives; everything else is configured as on AWS, through HERALD_* variables.
 */
import { describeProviders } from '../functions/shared/providers';

// The embedded mode runs on Node 20 on purpose, with an SDK version pinned in the lockfile that supports it;
// the SDK's notice about its future releases is for people upgrading, not for every start.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { startHerald } from './runtime';

const positive = (name: string): number | undefined => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number ≥ 0, got "${raw}"`);
  return n;
};

const port = positive('PORT') ?? 3000;
// Links in messages, feeds and CAP point at this server unless the agency says where it is published.
process.env.HERALD_PUBLIC_BASE_URL ??= `http://localhost:${port}`;

const herald = await startHerald({
  dataDir: process.env.HERALD_DATA_DIR ?? '.data',
  port,
  host: process.env.HOST ?? '127.0.0.1',
  functionTimeoutSeconds: positive('HERALD_FUNCTION_TIMEOUT_SECONDS'),
  sweepIntervalMs: positive('HERALD_SWEEP_INTERVAL_MS'),
  sandboxDelayMs: positive('HERALD_SANDBOX_DELAY_MS'),
});

console.info(
  [
    `Herald is running at ${herald.url}`,
    `  console          ${herald.url}/  (sign in as officer, supervisor or auditor)`,
    `  data directory   ${herald.dataDir}`,
    `  API description  ${herald.url}/v1/openapi.json`,
    `  sandbox outbox   ${herald.url}/v1/sandbox/outbox`,
    '  channels:',
    ...describeProviders(herald.providerChoices).map((line) => `    ${line}`),
    '  a token:         npm run -s token -- officer',
  ].join('\n'),
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.info(`\n${signal}: stopping Herald…`);
    herald.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('stop failed', error);
        process.exit(1);
      },
    );
  });
