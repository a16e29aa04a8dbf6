/**
 * Starting a real embedded Herald for a test: its own temporary data directory, a free port, short timings
 * so retries and sweeps happen within seconds, and a small HTTP client with a token per role.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Role } from '../../functions/core/model';
import { type EmbeddedOptions, type Herald, startHerald } from '../../local/runtime';
import type { DeliveryReport } from '../../schemas/delivery';

export const FAST_ENV = {
  HERALD_RETRY_BASE_MS: '100',
  HERALD_PROVIDER_TIMEOUT_MS: '2000',
  HERALD_SWEEP_AFTER_SECONDS: '1',
};

export interface TestHerald extends Herald {
  call(
    method: string,
    path: string,
    options?: { role?: Role; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  token(role: Role, sub?: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function tempDir(prefix = 'herald-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function startTestHerald(options: Partial<EmbeddedOptions> = {}): Promise<TestHerald> {
  const dataDir = options.dataDir ?? (await tempDir());
  const herald = await startHerald({
    port: 0,
    functionTimeoutSeconds: 5,
    sweepIntervalMs: 500,
    ...options,
    dataDir,
    env: { ...FAST_ENV, ...options.env },
  });
  const tokens = new Map<string, string>();
  const token = async (role: Role, sub?: string) => {
    const key = `${role}/${sub ?? ''}`;
    let t = tokens.get(key);
    if (!t) {
      t = await herald.identity.issue({ roles: [role], ...(sub ? { sub } : {}) });
      tokens.set(key, t);
    }
    return t;
  };
  return {
    ...herald,
    token,
    call: async (method, path, { role, body, headers = {} } = {}) =>
      fetch(`${herald.url}${path}`, {
        method,
        headers: {
          ...(role ? { authorization: `Bearer ${await token(role)}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...headers,
        },
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      }),
    cleanup: async () => {
      await herald.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
/** A TCP port nothing listens on now, for a Herald started as a process of its own. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

export async function waitFor<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const DRAFT = {
  status: 'Actual',
  category: 'Safety',
  event: 'Road closure',
  urgency: 'Expected',
  severity: 'Minor',
  certainty: 'Observed',
  headline: 'City marathon closes Main Street on Sunday',
  description: 'Main Street is closed between 08:00 and 14:00 for the city marathon. Expect delays.',
  instruction: 'Use Ring Road instead.',
  language: 'en',
  areas: [{ zone: 'centre', areaDesc: 'City centre' }],
  channels: ['x', 'facebook', 'instagram'],
  web: 'https://police.example.org/alerts/marathon',
} as const;

const OPEN_STATUSES = ['queued', 'sending', 'retrying'];

/**
 * Waits until the alert has `count` receipts and none is still open. The totals and the page are read side by side,
 * so both must have seen the last receipt settle.
 */
export function settledDeliveries(
  herald: Pick<TestHerald, 'call'>,
  alertId: string,
  count: number,
  timeoutMs = 30_000,
): Promise<DeliveryReport> {
  return waitFor(
    async () => {
      const res = await herald.call('GET', `/v1/alerts/${alertId}/deliveries`, { role: 'auditor' });
      if (res.status !== 200) throw new Error(`deliveries answered ${res.status}`);
      const report = (await res.json()) as DeliveryReport;
      const open = report.deliveries.some((d) => OPEN_STATUSES.includes(d.status));
      const openInTotals = OPEN_STATUSES.some((s) => (report.totals as Record<string, number>)[s]);
      return report.deliveries.length === count && !open && !openInTotals ? report : undefined;
    },
    timeoutMs,
    `${count} settled receipts of ${alertId}`,
  );
}
