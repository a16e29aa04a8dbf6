/**
 * A child process (run by tsx) working on a fresh temporary directory, for the crash tests that kill it with
 * SIGKILL: `cleanup` kills it if it is still running, waits for it, and removes the directory.
 */
import { type ChildProcess, type ChildProcessByStdio, spawn } from 'node:child_process';
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

/**
 * The embedded Herald as `npm start` runs it (local/main.ts), in a process of its own on `dir`, so a test can kill it
 * with SIGKILL and start it again on the same data. Short timings let a restart recover within seconds.
 */
export function startEmbeddedProcess(
  port: number,
  dir: string,
  env: Record<string, string> = {},
): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HERALD_DATA_DIR: dir,
      HERALD_FUNCTION_TIMEOUT_SECONDS: '1',
      HERALD_PROVIDER_TIMEOUT_MS: '700',
      HERALD_RETRY_BASE_MS: '100',
      HERALD_SWEEP_AFTER_SECONDS: '1',
      HERALD_SWEEP_INTERVAL_MS: '500',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
