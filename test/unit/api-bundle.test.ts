/**
 * The api handler bundled with the settings the CDK uses (lib/bundling.ts), given the commands the stack runs after
 * bundling it, and run by a plain `node` from a folder with no node_modules above it: posted CAP must be checked
 * against the OASIS XSD by the xmllint worker and wasm in `xmllint-assets/` beside the bundle.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XMLLINT_ASSET_DIR, xmllintAssetFiles } from '../../functions/adapters/cap-schema';
import { ENV } from '../../functions/shared/config';
import { esbuildOptions, xmllintAssetCommands } from '../../lib/bundling';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { apiEvent, claimsFor } from '../helpers/events';

const run = promisify(execFile);
const dirs: string[] = [];
let withAssets: string;
let withoutAssets: string;
let dynamo: DynaliteStore;

async function bundle(assets: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-api-bundle-'));
  dirs.push(dir);
  await build(esbuildOptions('functions/api/handler.ts', join(dir, 'index.mjs')));
  if (assets) await run('sh', ['-c', xmllintAssetCommands(dir).join(' && ')]);
  // Calls the handler once with the event in event.json and writes its answer to result.json. Nothing here
  // reaches AWS: a CAP preview for SMS reads no table, draws no card and sends nothing.
  await writeFile(
    join(dir, 'run.mjs'),
    `import { readFileSync, writeFileSync } from 'node:fs';
const { handler } = await import('./index.mjs');
const event = JSON.parse(readFileSync('event.json', 'utf8'));
const result = await handler(event, { functionName: 'herald-api', awsRequestId: 'bundle-test', getRemainingTimeInMillis: () => 10000 });
writeFileSync('result.json', JSON.stringify(result));`,
  );
  return dir;
}

const capMessage = (order: 'schema order' | 'sender before identifier') => {
  const identifier = '<identifier>CAD-7</identifier>';
  const sender = '<sender>cad@fire.example.org</sender>';
  return `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  ${order === 'schema order' ? identifier + sender : sender + identifier}
  <sent>2030-03-04T09:55:00-00:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <language>en</language>
    <category>Fire</category>
    <event>Wildfire</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <expires>2030-03-05T10:00:00-00:00</expires>
    <headline>Wildfire near Collserola</headline>
    <description>Keep windows closed.</description>
    <area><areaDesc>Collserola</areaDesc><circle>41.42,2.10 3</circle></area>
  </info>
</alert>`;
};

interface HandlerResult {
  statusCode: number;
  body: string;
}

async function previewInBundle(dir: string, xml: string): Promise<HandlerResult & { log: string }> {
  const event = apiEvent({
    method: 'POST',
    path: '/v1/alerts/preview?channels=sms',
    body: xml,
    headers: { 'content-type': 'application/cap+xml' },
    claims: claimsFor('officer-1', ['officer']),
  });
  await writeFile(join(dir, 'event.json'), JSON.stringify(event));
  const { stdout, stderr } = await run(process.execPath, ['run.mjs'], {
    cwd: dir,
    // What Lambda would hold, with the table on the local dynalite (the preview counts the residents it would
    // reach) through the SDK's own endpoint variable, and dummy keys for it; nothing else is reachable.
    env: {
      PATH: process.env.PATH,
      [ENV.tableName]: dynamo.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'bundle-test',
      AWS_SECRET_ACCESS_KEY: 'bundle-test',
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as HandlerResult;
  return { ...result, log: stdout + stderr };
}

beforeAll(async () => {
  [withAssets, withoutAssets, dynamo] = await Promise.all([
    bundle(true),
    bundle(false),
    startDynaliteStore(),
  ]);
}, 60_000);

afterAll(async () => {
  await dynamo?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

describe('the bundled api and posted CAP', () => {
  it('carries the xmllint worker and wasm beside the bundle, and nothing else in their folder', async () => {
    // Arrange: bundled in beforeAll

    // Act
    const files = await readdir(join(withAssets, XMLLINT_ASSET_DIR));

    // Assert
    expect(files.sort()).toEqual(
      xmllintAssetFiles()
        .map((f) => f.name)
        .sort(),
    );
  });

  it('previews a schema-valid CAP message, validated from the assets beside the bundle', async () => {
    // Arrange
    const xml = capMessage('schema order');

    // Act
    const result = await previewInBundle(withAssets, xml);

    // Assert
    expect(result.statusCode, result.body).toBe(200);
    expect(JSON.parse(result.body)).toMatchObject({ cap: { msgType: 'Alert', identifier: 'CAD-7' } });
  }, 30_000);

  it('refuses a message only the XSD finds wrong (elements out of order), naming the element', async () => {
    // Arrange
    const xml = capMessage('sender before identifier');

    // Act
    const result = await previewInBundle(withAssets, xml);

    // Assert
    expect(result.statusCode, result.body).toBe(400);
    const problem = JSON.parse(result.body) as { errors?: { path: string; message: string }[] };
    expect(problem.errors?.map((e) => e.message).join('\n')).toMatch(
      /Element 'sender': This element is not expected/,
    );
  }, 30_000);

  it('cannot validate CAP without them: the worker is not found, so the request fails', async () => {
    // Arrange
    const xml = capMessage('schema order');

    // Act
    const result = await previewInBundle(withoutAssets, xml);

    // Assert: the logged error is the missing worker, looked for in node_modules as a last resort.
    expect(result.statusCode).toBe(500);
    expect(result.log).toMatch(/Cannot find (module|package) 'xmllint-wasm/);
  }, 30_000);
});
