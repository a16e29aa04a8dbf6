/**
 * The card renderer bundled as the CDK bundles a function, run by a plain `node` from a folder with no
 * node_modules above it: it must find its wasm and fonts in `card-assets/` beside the bundle.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import jpeg from 'jpeg-js';
import { afterAll, describe, expect, it } from 'vitest';
import { CARD_ASSET_DIR, CARD_LIBS_FILE, cardAssetFiles } from '../../functions/adapters/card/alert-card';
import { cardAssetCommands } from '../../lib/bundling';

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
  // The commands the CDK runs after bundling the functions that draw cards.
  if (withAssets) await run('sh', ['-c', cardAssetCommands(dir, process.cwd()).join(' && ')]);
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

  it('keeps the libraries out of the bundle: they are built beside it, with every asset', async () => {
    const dir = await bundle(true);
    const main = await readFile(join(dir, 'index.mjs'), 'utf8');
    expect(main.length).toBeLessThan(200_000);
    // satori's own code (its font parser) is not in it; only the property it is read through is.
    expect(main).not.toMatch(/opentype|harfbuzz/i);
    const files = await readdir(join(dir, CARD_ASSET_DIR));
    expect(files.sort()).toEqual([CARD_LIBS_FILE, ...cardAssetFiles().map((f) => f.name)].sort());
  });

  it('fails without them, naming what is missing', async () => {
    const dir = await bundle(false);
    await expect(run(process.execPath, ['run.mjs'], { cwd: dir })).rejects.toMatchObject({
      stderr: expect.stringMatching(/resvg-wasm|noto-sans|libs\.ts/),
    });
  });
});
