/**
 * How every Herald function is bundled, in one place: HeraldFunction hands these to the CDK, and
 * `npm run bench` hands the same settings to esbuild directly, so the bundles it measures are the ones deployed.
 * Kept free of aws-cdk-lib so the benchmark does not load the CDK to read them.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import { XMLLINT_ASSET_DIR, xmllintAssetFiles } from '../functions/adapters/cap-schema';
import {
  CARD_ASSET_DIR,
  CARD_LIBS_FILE,
  CARD_LIBS_SOURCE,
  cardAssetFiles,
} from '../functions/adapters/card/alert-card';

export const BUNDLING = {
  format: 'esm',
  target: 'node22',
  // Prefer packages' ESM builds so esbuild can tree-shake them.
  mainFields: ['module', 'main'],
  // ESM output has no `require`; some CommonJS dependencies still call it.
  banner:
    "import { createRequire as __heraldCreateRequire } from 'node:module'; const require = __heraldCreateRequire(import.meta.url);",
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // Everything is bundled, the AWS SDK included: the runtime's SDK is whatever version AWS last shipped,
  // lib-dynamodb must match its client's version exactly, and Herald is tested against the versions pinned
  // in package-lock.json. The cost is bundle size and init time, which `npm run bench` measures.
  externalModules: [] as string[],
} as const;

/**
 * The esbuild call the CDK makes for a NodejsFunction with BUNDLING (its `--bundle --platform=node` plus each
 * setting above), writing `outfile` (name it `.mjs`, as the CDK does for ESM).
 */
export function esbuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: BUNDLING.format,
    target: BUNDLING.target,
    mainFields: [...BUNDLING.mainFields],
    banner: { js: BUNDLING.banner },
    minify: BUNDLING.minify,
    sourcemap: BUNDLING.sourceMap,
    sourcesContent: BUNDLING.sourcesContent,
    external: [...BUNDLING.externalModules],
    logLevel: 'silent',
  };
}

/**
 * Shell commands that put the alert card's assets beside a bundle in `output`: the wasm and fonts the renderer
 * reads, and its libraries built on their own (`card-libs.mjs`), which the renderer imports the first time it
 * draws a card, so the function's start-up never parses them. `projectRoot` holds the sources.
 */
export function cardAssetCommands(output: string, projectRoot: string): string[] {
  const esbuild = createRequire(import.meta.url).resolve('esbuild/bin/esbuild');
  const assets = join(output, CARD_ASSET_DIR);
  return [
    `mkdir -p "${assets}"`,
    ...cardAssetFiles().map((f) => `cp "${f.source}" "${join(assets, f.name)}"`),
    [
      `"${process.execPath}"`,
      `"${esbuild}"`,
      `"${join(projectRoot, CARD_LIBS_SOURCE)}"`,
      '--bundle',
      '--platform=node',
      `--format=${BUNDLING.format}`,
      `--target=${BUNDLING.target}`,
      `--main-fields=${BUNDLING.mainFields.join(',')}`,
      '--minify',
      `--banner:js="${BUNDLING.banner}"`,
      `--outfile="${join(assets, CARD_LIBS_FILE)}"`,
      '--log-level=warning',
    ].join(' '),
  ];
}

/**
 * Shell commands that put xmllint-wasm's worker script and wasm in `xmllint-assets/` beside a bundle in `output`:
 * the api validates posted CAP against the XSD by starting that worker (functions/adapters/cap-schema.ts), and a
 * bundle has no node_modules to find it in.
 */
export function xmllintAssetCommands(output: string): string[] {
  const assets = join(output, XMLLINT_ASSET_DIR);
  return [
    `mkdir -p "${assets}"`,
    ...xmllintAssetFiles().map((f) => `cp "${f.source}" "${join(assets, f.name)}"`),
  ];
}
