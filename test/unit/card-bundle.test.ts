/**
 * The card renderer bundled as the CDK bundles a function, run by a plain `node` from a folder with no
 * node_modules above it: it must find its wasm and fonts in `card-assets/` beside the bundle.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { CARD_ASSET_DIR, cardAssetFiles } from '../../functions/adapters/card/alert-card';

const run = promisify(execFile);
const dirs: string[] = [];

afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function bundle(withAssets: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'herald-card-bundle-'));
  dirs.push(dir);
  // The settings lib/herald-function.ts gives the CDK's esbuild.
  await build({
    entryPoints: ['functions/adapters/card/alert-card.ts'],
    outfile: join(dir, 'index.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    mainFields: ['module', 'main'],
    banner: {
      js: "import { createRequire as __heraldCreateRequire } from 'node:module'; const require = __heraldCreateRequire(import.meta.url);",
    },
    minify: true,
    logLevel: 'silent',
  });
  if (withAssets) {
    await mkdir(join(dir, CARD_ASSET_DIR));
    for (const file of cardAssetFiles()) await copyFile(file.source, join(dir, CARD_ASSET_DIR, file.name));
  }
  await writeFile(
    join(dir, 'run.mjs'),
    `import { renderAlertCard } from './index.mjs';
const card = await renderAlertCard({ headline: 'Boil water before drinking', event: 'Boil Water Advisory',
  agencyName: 'City Water', severity: 'Minor', msgType: 'Alert', language: 'en' });
process.stdout.write(Buffer.from(card.bytes).toString('base64'));`,
  );
  return dir;
}

describe('the bundled alert card', () => {
  it('renders from the assets copied beside the bundle, with no node_modules to resolve from', async () => {
    // Prepare
    const dir = await bundle(true);

    // Act
    const { stdout } = await run(process.execPath, ['run.mjs'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });

    // Assess
    const image = jpeg.decode(Buffer.from(stdout, 'base64'), { useTArray: true });
    expect([image.width, image.height]).toEqual([1080, 1350]);
  });

  it('fails without them, naming the missing asset', async () => {
    const dir = await bundle(false);
    await expect(run(process.execPath, ['run.mjs'], { cwd: dir })).rejects.toMatchObject({
      stderr: expect.stringMatching(/resvg-wasm|noto-sans/),
    });
  });
});
