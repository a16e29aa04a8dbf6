/**
 * Bundle size and module-initialisation time of each Lambda function, against an empty handler bundled the
 * same way. Each function is bundled with the esbuild settings HeraldFunction deploys (lib/bundling.ts), then
 * imported by a fresh `node` process many times; the figure is the time of the dynamic import() alone, so node's
 * own start-up, equal for every function, is left out of it. Runs are interleaved across functions so that a
 * change in machine load touches all of them alike.
 *
 * Run alone with `npx tsx bench/init.ts`; `npm run bench` prints it as section 4.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions } from '../lib/bundling';
import { CHANNELS } from '../schemas/alert';
import { fixed, ms, percentile, section, table } from './stats';

/** A channel function may take at most this many times the empty handler's median init time. */
export const CHANNEL_INIT_TARGET_RATIO = 2;
/**
 * Issue 15's target: a channel function at most this many times the init of a handler that imports only the AWS SDK
 * clients every function carries (SDK_ONLY), so a channel's own code, its provider included, costs at most half again.
 */
export const CHANNEL_SDK_TARGET_RATIO = 1.5;

const projectRoot = fileURLToPath(new URL('..', import.meta.url));

interface Bundle {
  name: string;
  /** A handler file under the project root, or the source of a synthetic one. */
  entry: { path: string } | { source: string };
  what: string;
}

const EMPTY = 'empty handler';
const SDK_ONLY = 'AWS SDK clients only';
const ZOD_ONLY = 'zod only';

const BUNDLES: Bundle[] = [
  { name: EMPTY, entry: { source: 'export const handler = async () => ({});\n' }, what: 'the baseline' },
  {
    name: SDK_ONLY,
    // What every Herald function carries before any of its own code: the DynamoDB document client and SQS.
    entry: {
      source: [
        "export { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
        "export { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';",
        "export { SQSClient } from '@aws-sdk/client-sqs';",
        'export const handler = async () => ({});',
      ].join('\n'),
    },
    what: 'reference: @aws-sdk client-dynamodb + lib-dynamodb + client-sqs, no Herald code',
  },
  {
    name: ZOD_ONLY,
    entry: {
      source:
        "import * as z from 'zod';\nexport const schema = z.strictObject({ id: z.string().min(1) });\nexport const handler = async () => ({});\n",
    },
    what: 'reference: zod 4 imported as Herald imports it (import * as z, tree-shaken), one schema, no Herald code',
  },
  { name: 'api', entry: { path: 'functions/api/handler.ts' }, what: 'HTTP API' },
  { name: 'dispatch', entry: { path: 'functions/dispatch/handler.ts' }, what: 'fan-out planner' },
  { name: 'sweeper', entry: { path: 'functions/sweeper/handler.ts' }, what: 're-dispatch on a schedule' },
  // Every channel in the list (functions/channels/list.ts): a channel added there is measured here too.
  ...CHANNELS.map((channel) => ({
    name: `channel-${channel}`,
    entry: { path: `functions/channels/${channel}/entry.ts` },
    what: `${channel} channel`,
  })),
  {
    name: 'sms-status',
    entry: { path: 'functions/callbacks/sms-status/handler.ts' },
    what: 'SMS delivery-status callback',
  },
  {
    name: 'email-events',
    entry: { path: 'functions/callbacks/email-events/handler.ts' },
    what: 'SES events callback',
  },
];

/** What the stack sets that a module might read while it loads; no credentials, nothing is called. */
const LAMBDA_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_LAMBDA_FUNCTION_NAME: 'herald-bench',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
  AWS_LAMBDA_LOG_LEVEL: 'INFO',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  POWERTOOLS_METRICS_NAMESPACE: 'Herald',
  TABLE_NAME: 'herald-bench',
};

/** Imports the bundle named on the command line and prints how long the import took, in ms. */
const RUNNER = `const url = process.argv[2];
const started = performance.now();
await import(url);
process.stdout.write(String(performance.now() - started));
`;

interface Built {
  bundle: Bundle;
  file: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  /** Bundled input bytes per top-level package (or "herald" for the project's own files), largest first. */
  packages: [string, number][];
  /**
   * The AWS SDK clients the bundle loads when it starts (reached from the entry by static imports, not by a lazy
   * `import()`): the SDK-only handler a channel function is measured against imports exactly these.
   */
  sdkClients: string[];
}

interface Target {
  label: string;
  built: Built;
  env: Record<string, string>;
  channel?: string;
}

export interface InitRow {
  label: string;
  bytes: number;
  gzipBytes: number;
  mapBytes: number;
  /** As deployed: NODE_OPTIONS=--enable-source-maps. */
  initMs: { p50: number; p90: number };
  /** The same import with source maps off, to show what they cost. */
  initNoMapsMs: { p50: number; p90: number };
  /** Spawn to exit, as deployed: node's start-up plus the import; closer to what a cold start adds up to. */
  processMs: { p50: number; p90: number };
  ratio: number;
  processRatio: number;
  /** initMs.p50 over the SDK-only handler's. */
  sdkRatio: number;
  channel?: string;
  /** A channel function: the handler importing only its own AWS SDK clients, and its init p50 over that one's. */
  sameSdk?: { label: string; clients: string[]; bytes: number; initMs: number; ratio: number };
  /** A channel function: its largest parts other than the AWS SDK (input bytes kept in the output). */
  ownParts?: [string, number][];
}

export interface InitResult {
  runs: number;
  node: string;
  rows: InitRow[];
  targetRatio: number;
  channelsPass: boolean;
  /** The largest contributors to the channel bundle, by input bytes. */
  channelPackages: [string, number][];
  /** Issue 15's target, each channel function's init p50 over its same-SDK handler's; and whether all are within. */
  sameSdkTargetRatio: number;
  sameSdkPass: boolean;
}

function packageOf(input: string): string {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) return 'herald';
  const parts = input.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function byPackage(metafile: Metafile): [string, number][] {
  const sizes = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const name = packageOf(input);
      sizes.set(name, (sizes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return [...sizes.entries()].sort((a, b) => b[1] - a[1]);
}

const SDK_PACKAGE = /^@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)$/;

/** The AWS SDK clients reached from the entry by static imports: what the bundle loads when it starts. */
function staticSdkClients(metafile: Metafile): string[] {
  const entry = Object.values(metafile.outputs).find((o) => o.entryPoint)?.entryPoint;
  const start = entry ?? Object.keys(metafile.inputs).find((k) => !k.includes('node_modules/'));
  const seen = new Set<string>(start ? [start] : []);
  const queue = [...seen];
  while (queue.length) {
    const file = queue.shift() as string;
    for (const imported of metafile.inputs[file]?.imports ?? []) {
      if (imported.kind === 'dynamic-import' || imported.external || seen.has(imported.path)) continue;
      seen.add(imported.path);
      queue.push(imported.path);
    }
  }
  return [...new Set([...seen].map(packageOf).filter((p) => SDK_PACKAGE.test(p)))].sort();
}

/** A handler that imports these AWS SDK clients and nothing of Herald's. */
function sdkOnlySource(clients: string[]): string {
  return [
    ...clients.map((client, i) =>
      client === '@aws-sdk/lib-dynamodb'
        ? `export { DynamoDBDocumentClient } from '${client}';`
        : `export * as client${i} from '${client}';`,
    ),
    'export const handler = async () => ({});',
  ].join('\n');
}

const isSdkPart = (name: string) => name.startsWith('@aws-sdk/') || name.startsWith('@smithy/');

async function bundleOne(bundle: Bundle, dir: string, index: number): Promise<Built> {
  const file = join(dir, `bundle-${index}`, 'index.mjs');
  const options = esbuildOptions('path' in bundle.entry ? join(projectRoot, bundle.entry.path) : '', file);
  const { metafile } = await build({
    ...options,
    ...('source' in bundle.entry
      ? {
          entryPoints: undefined,
          stdin: {
            contents: bundle.entry.source,
            resolveDir: projectRoot,
            loader: 'ts',
            sourcefile: 'entry.ts',
          },
        }
      : {}),
    metafile: true,
    absWorkingDir: projectRoot,
  });
  const code = await readFile(file);
  return {
    bundle,
    file,
    bytes: code.length,
    gzipBytes: gzipSync(code).length,
    mapBytes: (await stat(`${file}.map`)).size,
    packages: byPackage(metafile),
    sdkClients: staticSdkClients(metafile),
  };
}

/** The import time the runner reports, and the whole process's wall time (node start-up, import, exit). */
function importOnce(
  runner: string,
  target: Target,
  sourceMaps: boolean,
): Promise<{ importMs: number; processMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [...(sourceMaps ? ['--enable-source-maps'] : []), runner, pathToFileURL(target.built.file).href],
      { env: { PATH: process.env.PATH ?? '', ...target.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const value = Number(out);
      if (code === 0 && Number.isFinite(value) && out !== '')
        resolve({ importMs: value, processMs: performance.now() - started });
      else reject(new Error(`importing ${target.label} failed (exit ${code}): ${err.slice(0, 500)}`));
    });
  });
}

export async function measureInit(options: { runs: number }): Promise<InitResult> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-init-'));
  try {
    const present = BUNDLES.filter((b) => 'source' in b.entry || existsSync(join(projectRoot, b.entry.path)));
    const functions = await Promise.all(present.map((b, i) => bundleOne(b, dir, i)));
    // Each channel function against a handler importing the same AWS SDK clients (one per distinct set).
    const clientSets = new Map<string, string[]>();
    for (const b of functions)
      if (b.bundle.name.startsWith('channel-')) clientSets.set(sameSdkLabel(b.sdkClients), b.sdkClients);
    const baselines = await Promise.all(
      [...clientSets].map(([label, clients], i) =>
        bundleOne(
          {
            name: label,
            entry: { source: sdkOnlySource(clients) },
            what: 'reference: these AWS SDK clients only',
          },
          dir,
          functions.length + i,
        ),
      ),
    );
    const built = [...functions, ...baselines];
    const runner = join(dir, 'runner.mjs');
    await writeFile(runner, RUNNER);

    const targets: Target[] = built.map((b): Target => {
      const env = { ...LAMBDA_ENV, POWERTOOLS_SERVICE_NAME: `herald-${b.bundle.name}` };
      const channel = CHANNELS.find((c) => b.bundle.name === `channel-${c}`);
      // Each channel has its own entry and bundle, loaded with its own HERALD_CHANNEL as the stack sets it.
      return channel
        ? { label: b.bundle.name, built: b, channel, env: { ...env, HERALD_CHANNEL: channel } }
        : { label: b.bundle.name, built: b, env };
    });

    const samples = new Map<Target, { maps: number[]; noMaps: number[]; process: number[] }>(
      targets.map((t) => [t, { maps: [], noMaps: [], process: [] }]),
    );
    // One warm-up import each (the file cache), then interleaved rounds.
    for (const t of targets) await importOnce(runner, t, true);
    for (let run = 0; run < options.runs; run++) {
      for (const t of targets) {
        const s = samples.get(t)!;
        const deployed = await importOnce(runner, t, true);
        s.maps.push(deployed.importMs);
        s.process.push(deployed.processMs);
        s.noMaps.push((await importOnce(runner, t, false)).importMs);
      }
    }

    const summary = (values: number[]) => {
      const sorted = [...values].sort((a, b) => a - b);
      return { p50: percentile(sorted, 50), p90: percentile(sorted, 90) };
    };
    const rows: InitRow[] = targets.map((t) => {
      const s = samples.get(t)!;
      return {
        label: t.label,
        bytes: t.built.bytes,
        gzipBytes: t.built.gzipBytes,
        mapBytes: t.built.mapBytes,
        initMs: summary(s.maps),
        initNoMapsMs: summary(s.noMaps),
        processMs: summary(s.process),
        ratio: Number.NaN,
        processRatio: Number.NaN,
        sdkRatio: Number.NaN,
        ...(t.channel ? { channel: t.channel } : {}),
      };
    });
    const empty = rows.find((r) => r.label === EMPTY)!;
    const sdkOnly = rows.find((r) => r.label === SDK_ONLY)!;
    for (const r of rows) {
      r.ratio = r.initMs.p50 / empty.initMs.p50;
      r.processRatio = r.processMs.p50 / empty.processMs.p50;
      r.sdkRatio = r.initMs.p50 / sdkOnly.initMs.p50;
    }
    const channelRows = rows.filter((r) => r.channel);
    for (const r of channelRows) {
      const own = built.find((b) => b.bundle.name === r.label) as Built;
      const label = sameSdkLabel(own.sdkClients);
      const base = rows.find((x) => x.label === label) as InitRow;
      r.sameSdk = {
        label,
        clients: own.sdkClients,
        bytes: base.bytes,
        initMs: base.initMs.p50,
        ratio: r.initMs.p50 / base.initMs.p50,
      };
      r.ownParts = own.packages.filter(([name]) => !isSdkPart(name)).slice(0, 5);
    }
    return {
      sameSdkTargetRatio: CHANNEL_SDK_TARGET_RATIO,
      sameSdkPass:
        channelRows.length > 0 &&
        channelRows.every((r) => (r.sameSdk?.ratio ?? Infinity) <= CHANNEL_SDK_TARGET_RATIO),
      runs: options.runs,
      node: process.version,
      rows,
      targetRatio: CHANNEL_INIT_TARGET_RATIO,
      channelsPass: channelRows.length > 0 && channelRows.every((r) => r.ratio <= CHANNEL_INIT_TARGET_RATIO),
      // The heaviest channel bundle's largest parts (Instagram's, with the card renderer).
      channelPackages:
        built
          .filter((b) => b.bundle.name.startsWith('channel-'))
          .sort((a, b) => b.bytes - a.bytes)[0]
          ?.packages.slice(0, 8) ?? [],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The name of the SDK-only handler with these clients: "SDK: dynamodb+lib-dynamodb+sqs". */
function sameSdkLabel(clients: string[]): string {
  return `SDK: ${clients.map((c) => c.replace('@aws-sdk/', '').replace('client-', '')).join('+')}`;
}

const kb = (bytes: number) => (bytes < 10_240 ? `${bytes} B` : `${(bytes / 1024).toFixed(0)} KB`);

export function initSection(result: InitResult): string {
  const channelRows = result.rows.filter((r) => r.channel);
  const worst = channelRows.reduce((a, b) => (b.ratio > a.ratio ? b : a), channelRows[0]!);
  const sdk = result.rows.find((r) => r.label === SDK_ONLY);
  const zod = result.rows.find((r) => r.label === ZOD_ONLY);
  const empty = result.rows.find((r) => r.label === EMPTY)!;
  const channelBytes = result.channelPackages.reduce((sum, [, n]) => sum + n, 0);
  return section(
    '4. Function bundles and initialisation (esbuild as deployed: minified ESM, everything bundled)',
    [
      table(
        [
          'bundle',
          'size',
          'gzip',
          'map',
          'init p50',
          'init p90',
          '× empty',
          'no maps p50',
          'process p50',
          '× empty',
          '× SDK only',
        ],
        result.rows.map((r) => [
          r.label,
          kb(r.bytes),
          kb(r.gzipBytes),
          kb(r.mapBytes),
          ms(r.initMs.p50),
          ms(r.initMs.p90),
          fixed(r.ratio),
          ms(r.initNoMapsMs.p50),
          ms(r.processMs.p50),
          fixed(r.processRatio),
          fixed(r.sdkRatio),
        ]),
      ),
      '',
      `Each channel function against a handler importing only the same AWS SDK clients (those its bundle loads at start), issue 15's target ≤ ${result.sameSdkTargetRatio}×:`,
      table(
        ['function', 'size', 'gzip', 'init p50', 'same SDK clients only', 'size', 'init p50', 'ratio', ''],
        channelRows.map((r) => [
          r.label,
          kb(r.bytes),
          kb(r.gzipBytes),
          ms(r.initMs.p50),
          r.sameSdk?.label ?? '',
          kb(r.sameSdk?.bytes ?? 0),
          ms(r.sameSdk?.initMs ?? Number.NaN),
          `${fixed(r.sameSdk?.ratio ?? Number.NaN)}×`,
          (r.sameSdk?.ratio ?? Number.POSITIVE_INFINITY) <= result.sameSdkTargetRatio ? 'PASS' : 'FAIL',
        ]),
      ),
      `target: every channel function ≤ ${result.sameSdkTargetRatio}× its same-SDK handler's init p50 — ${result.sameSdkPass ? 'PASS' : 'FAIL'}`,
      'What each channel bundle carries besides the AWS SDK (largest parts, input bytes kept in the minified output):',
      ...channelRows.map(
        (r) =>
          `  ${r.label.padEnd(17)} ${(r.ownParts ?? []).map(([name, bytes]) => `${name} ${kb(bytes)}`).join(', ')}`,
      ),
      '',
      `target: each channel function ≤ ${result.targetRatio}× the empty handler's init p50 — ${result.channelsPass ? 'PASS' : 'FAIL'} (worst ${worst?.label ?? 'none'} at ${fixed(worst?.ratio ?? Number.NaN)}×)`,
      (() => {
        const worstSdk = channelRows.reduce((a, b) => (b.sdkRatio > a.sdkRatio ? b : a), channelRows[0]!);
        const pass = channelRows.every((r) => r.sdkRatio <= CHANNEL_SDK_TARGET_RATIO);
        return `reference: each channel function ≤ ${CHANNEL_SDK_TARGET_RATIO}× the init p50 of the handler importing only DynamoDB, lib-dynamodb and SQS (the clients every function carries) — ${pass ? 'PASS' : 'FAIL'} (worst ${worstSdk?.label ?? 'none'} at ${fixed(worstSdk?.sdkRatio ?? Number.NaN)}×)`;
      })(),
      `whole process (node start-up + import + exit, the 'process' columns): worst channel ${fixed(
        Math.max(...channelRows.map((r) => r.processRatio)),
      )}× the empty handler's — ${Math.max(...channelRows.map((r) => r.processRatio)) <= result.targetRatio ? 'within' : 'also over'} ${result.targetRatio}× (context only; the target is on init)`,
      `init = the time of import() of the bundle in a fresh node ${result.node} process (${result.runs} runs each, interleaved, after one warm-up import);`,
      "  as deployed, with --enable-source-maps (the functions' NODE_OPTIONS); 'no maps' is the same import without it",
      '  Lambda runs Node 22 on arm64; these are figures from this machine, for comparing bundles with each other',
      sdk
        ? `the AWS SDK clients every function carries (DynamoDB + lib-dynamodb + SQS) alone take ${ms(sdk.initMs.p50)} (${fixed(sdk.ratio)}× empty, ${kb(sdk.bytes)})`
        : '',
      zod
        ? `zod alone, imported as Herald does, takes ${ms(zod.initMs.p50)} (${fixed(zod.ratio)}× empty, ${kb(zod.bytes)}): imported as a namespace (import * as z), esbuild keeps only what is used, so its 60-odd locales (about 260 KB) stay out`
        : '',
      `empty handler: ${kb(empty.bytes)}, ${ms(empty.initMs.p50)}`,
      '',
      `Largest parts of the channel bundle (input bytes kept in the minified output, of ${kb(channelBytes)} in the top ${result.channelPackages.length}):`,
      ...result.channelPackages.map(([name, bytes]) => `  ${kb(bytes).padStart(7)}  ${name}`),
    ]
      .filter((l) => l !== '')
      .join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `npx tsx bench/init.ts [runs]`: this section alone (15 runs by default, as `npm run bench` takes).
  const runs = Number(process.argv[2] ?? 15);
  process.stdout.write(
    `${initSection(await measureInit({ runs: Number.isInteger(runs) && runs > 0 ? runs : 15 }))}\n`,
  );
}
