/**
 * The repository tests itself: nothing a test, the app or the CDK reads may live outside the clone. Its files are
 * copied, as a clone would have them, into a temporary folder with nothing beside it, and the suites that read the
 * CAP schema, the feed grammars and the CAP corpus run there.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = process.cwd();
/**
 * The project's reference material sits beside the repository, at ../shared; functions/shared is the app's own.
 * Built here rather than written out, so this file does not match its own search.
 */
const OUTSIDE = new RegExp(
  ["'\\.\\.', 'shared'", '\\.\\./(\\.\\./)*shared/(cap|api|design|style|hooks)\\b'].join('|'),
);
/** The suites that read test/fixtures/cap. */
const FIXTURE_SUITES = [
  'test/unit/cap-corpus.test.ts',
  'test/unit/cap-writer.test.ts',
  'test/unit/cap-zones.test.ts',
  'test/unit/api-cap.test.ts',
  'test/unit/feeds.test.ts',
];

/** What a clone of this checkout holds: the tracked files, and the new ones git does not ignore. */
function repositoryFiles(): string[] {
  const listed = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return listed.split('\0').filter((file) => file && existsSync(join(ROOT, file)));
}

const workDirs: string[] = [];
afterAll(() => {
  for (const dir of workDirs) rmSync(dir, { recursive: true, force: true });
});

describe('a clone with nothing beside it', () => {
  it('names no file outside the repository in its code, tests, CDK app or scripts', () => {
    const offenders = repositoryFiles()
      .filter((file) => /\.(ts|mts|mjs|js|json)$/.test(file) && !file.endsWith('package-lock.json'))
      .filter((file) => OUTSIDE.test(readFileSync(join(ROOT, file), 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('runs the suites that read the CAP schema, the feed grammars and the corpus', () => {
    // Prepare: the files alone, in a folder whose parent holds nothing else; node_modules is linked, as `npm ci`
    // would install the same tree.
    const parent = mkdtempSync(join(tmpdir(), 'herald-clone-'));
    workDirs.push(parent);
    const clone = join(parent, 'herald');
    for (const file of repositoryFiles()) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      copyFileSync(join(ROOT, file), join(clone, file));
    }
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'), 'dir');
    expect(existsSync(join(parent, 'shared'))).toBe(false);

    // Act
    const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...FIXTURE_SUITES], {
      cwd: clone,
      encoding: 'utf8',
      env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: '0' },
      timeout: 240_000,
    });

    // Assess: every suite ran and passed there.
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(new RegExp(`Test Files\\s+${FIXTURE_SUITES.length} passed`));
  }, 300_000);
});
