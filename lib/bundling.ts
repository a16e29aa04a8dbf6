/**
 * How every Herald function is bundled, in one place: HeraldFunction hands these to the CDK, and
 * `npm run bench` hands the same settings to esbuild directly, so the bundles it measures are the ones deployed.
 * Kept free of aws-cdk-lib so the benchmark does not load the CDK to read them.
 */
import type { BuildOptions } from 'esbuild';

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
