/**
 * A child process (run by tsx) working on a fresh temporary directory, for the crash tests that kill it with
 * SIGKILL: `cleanup` kills it if it is still running, waits for it, and removes the directory.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface CrashChild {
  dir: string;
  /** Its stdout is piped: the child reports there what it holds. */
  proc: ChildProcessByStdio<null, Readable, null>;
  /** Resolves with the signal that ended it (SIGKILL for a crash). */
  exited: Promise<NodeJS.Signals | null>;
  cleanup(): Promise<void>;
}

export async function startCrashChild(script: string, prefix: string): Promise<CrashChild> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const proc = spawn(process.execPath, ['--import', 'tsx', script, dir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    proc.once('exit', (_code, signal) => resolve(signal)),
  );
  return {
    dir,
    proc,
    exited,
    cleanup: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
