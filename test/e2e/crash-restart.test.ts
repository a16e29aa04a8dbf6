/**
 * Invariants 1 and 2 under the worst case: the embedded process is killed (SIGKILL, no chance to clean up) in
 * the middle of a fan-out, then started again on the same data directory. Every delivery must complete, and
 * the sandbox outbox — what the public would have seen — must hold each post exactly once.
 */
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedIdentity } from '../../local/auth';
import type { Alert } from '../../schemas/alert';
import type { DeliveryReport } from '../../schemas/delivery';
import { startEmbeddedProcess } from '../helpers/child-process';
import { DRAFT, freePort, tempDir, waitFor } from '../helpers/embedded';

const children: ChildProcess[] = [];
let dataDir: string | undefined;

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function startHeraldProcess(port: number, dir: string): ChildProcess {
  // Slow providers so the kill lands mid-fan-out.
  const child = startEmbeddedProcess(port, dir, { HERALD_SANDBOX_DELAY_MS: '250' });
  children.push(child);
  return child;
}

describe('Embedded process killed mid-fan-out', () => {
  it('loses nothing and posts nothing twice after a restart', async () => {
    // Prepare
    dataDir = await tempDir('herald-crash-');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const first = startHeraldProcess(port, dataDir);
    await waitFor(
      async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined),
      30_000,
      'first start',
    );
    const identity = await EmbeddedIdentity.open(dataDir);
    const officer = `Bearer ${await identity.issue({ roles: ['officer'] })}`;
    const auditor = `Bearer ${await identity.issue({ roles: ['auditor'] })}`;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${base}/v1/alerts`, {
        method: 'POST',
        headers: { authorization: officer, 'content-type': 'application/json' },
        body: JSON.stringify({ ...DRAFT, headline: `${DRAFT.headline} (${i})` }),
      });
      expect(res.status).toBe(201);
      ids.push(((await res.json()) as Alert).id);
    }
    const postedBeforeKill = await waitFor(
      async () => {
        const { total } = (await (await fetch(`${base}/v1/sandbox/outbox?limit=1`)).json()) as {
          total: number;
        };
        return total >= 2 ? total : undefined;
      },
      15_000,
      'the fan-out to start',
    );

    // Act
    first.kill('SIGKILL');
    await new Promise((r) => first.once('exit', r));
    startHeraldProcess(port, dataDir);
    await waitFor(async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 30_000, 'restart');

    // Assess
    expect(postedBeforeKill).toBeLessThan(12);
    for (const id of ids) {
      const report = await waitFor(
        async () => {
          const res = await fetch(`${base}/v1/alerts/${id}/deliveries`, {
            headers: { authorization: auditor },
          });
          const body = (await res.json()) as DeliveryReport;
          return body.deliveries.length === 3 && body.deliveries.every((d) => d.status === 'sent')
            ? body
            : undefined;
        },
        30_000,
        `every delivery of ${id} sent`,
      );
      expect(report.totals).toEqual({ sent: 3 });
    }
    const outbox = (await (await fetch(`${base}/v1/sandbox/outbox?limit=100`)).json()) as {
      items: { alertId: string; channel: string; version: number }[];
      total: number;
    };
    const keys = outbox.items.map((i) => `${i.alertId}/${i.version}/${i.channel}`);
    expect(outbox.total).toBe(12);
    expect(new Set(keys).size).toBe(12);
  }, 90_000);
});
