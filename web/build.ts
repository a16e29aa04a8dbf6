/**
 * Builds the console with esbuild: one minified ES module and one stylesheet, named by their content hash so they
 * can be cached for a year, and index.html pointing at them (never cached, so a new build is seen at once). Pages
 * loaded with `import()` (reports, audit, an alert's impact and their charts) are split into chunks of their own,
 * fetched when first opened, so the first load does not carry them.
 *
 * The embedded server builds in memory at start-up (local/console.ts); `tsx web/build.ts <dir>` writes the same
 * files for a static host (S3 + CloudFront).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));

export interface ConsoleFile {
  /** The URL path, from `/`. */
  path: string;
  contentType: string;
  body: Uint8Array;
  /** Hashed names never change content: cache them for good. */
  immutable: boolean;
}

export interface ConsoleBuild {
  files: ConsoleFile[];
  /** Bytes of what a browser downloads on first load (script + stylesheet + page), raw and gzipped. */
  size: { raw: number; gzip: number };
  /** The paths of that first load: the page, the stylesheet, the script and the chunks it imports statically. */
  firstLoad: string[];
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

export async function buildConsole(): Promise<ConsoleBuild> {
  // esbuild is a development dependency: imported only when a console is built.
  const esbuild = await import('esbuild');
  const outdir = join(WEB_DIR, 'assets');
  const result = await esbuild.build({
    entryPoints: [join(WEB_DIR, 'src/main.ts'), join(WEB_DIR, 'styles.css')],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
    entryNames: '[name]-[hash]',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    metafile: true,
    outdir,
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
    tsconfig: join(WEB_DIR, 'tsconfig.json'),
  });
  const files: ConsoleFile[] = result.outputFiles.map((f) => {
    const path = `/${relative(WEB_DIR, f.path).split('\\').join('/')}`;
    const ext = path.slice(path.lastIndexOf('.'));
    return { path, contentType: TYPES[ext] ?? 'application/octet-stream', body: f.contents, immutable: true };
  });
  const script = files.find((f) => /^\/assets\/main-\w+\.js$/.test(f.path));
  const styles = files.find((f) => f.path.endsWith('.css'));
  if (!script || !styles) throw new Error('the console build made no script or no stylesheet');
  // What main imports statically (shared chunks) loads with it; what it imports with import() waits until needed.
  const outputs = result.metafile.outputs;
  const staticImports = (path: string): string[] =>
    (outputs[path]?.imports ?? []).filter((i) => i.kind === 'import-statement').map((i) => i.path);
  const byOutput = (p: string) => `/${relative(WEB_DIR, resolve(p)).split('\\').join('/')}`;
  const entry = Object.keys(outputs).find((p) => byOutput(p) === script.path);
  const loaded = new Set<string>();
  const visit = (p: string) => {
    if (loaded.has(p)) return;
    loaded.add(p);
    for (const next of staticImports(p)) visit(next);
  };
  if (entry) visit(entry);
  const chunks = files.filter((f) => f !== script && [...loaded].some((p) => byOutput(p) === f.path));
  const template = await readFile(join(WEB_DIR, 'index.html'), 'utf8');
  // The chunks main imports are asked for with it, not one round trip after it.
  const preloads = chunks.map((c) => `<link rel="modulepreload" href="${c.path}">\n`).join('');
  const html = template
    .replace('/%SCRIPT%', script.path)
    .replace('/%STYLES%', styles.path)
    .replace('<script type="module"', `${preloads}<script type="module"`);
  files.push({
    path: '/index.html',
    contentType: TYPES['.html']!,
    body: new TextEncoder().encode(html),
    immutable: false,
  });
  const firstLoad = [script, ...chunks, styles, files.at(-1)!];
  return {
    firstLoad: firstLoad.map((f) => f.path),
    files,
    size: {
      raw: firstLoad.reduce((n, f) => n + f.body.length, 0),
      gzip: firstLoad.reduce((n, f) => n + gzipSync(f.body, { level: 9 }).length, 0),
    },
  };
}

/** Writes the build under `directory` (index.html and assets/). */
export async function writeConsole(directory: string): Promise<ConsoleBuild> {
  const build = await buildConsole();
  for (const file of build.files) {
    const target = join(directory, file.path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.body);
  }
  return build;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const directory = resolve(process.argv[2] ?? join(WEB_DIR, 'dist'));
  const { size } = await writeConsole(directory);
  console.info(
    `console built in ${directory}: ${(size.raw / 1024).toFixed(1)} KiB, ${(size.gzip / 1024).toFixed(1)} KiB gzipped`,
  );
}
