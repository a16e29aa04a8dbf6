/**
 * Scheduled versions through a crash: the embedded process is killed with SIGKILL just before the versions' time,
 * and again at that very moment (while the timer is releasing them), then started again after it. Every version
 * goes out exactly once, and none before its time. The sweeper is slowed to once in ten minutes, so what sends them
 * after the restart is the publish timer reading the schedule back from the store, not the sweeper's backstop.
 */
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedIdentity } from '../../local/auth';
import type { Alert } from '../../schemas/alert';
import { startEmbeddedProcess } from '../helpers/child-process';
import { DRAFT, freePort, tempDir, waitFor } from '../helpers/embedded';

const children: ChildProcess[] = [];
let dataDir: string | undefined;

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const SLOW_SWEEPER = { HERALD_SWEEP_INTERVAL_MS: '600000' };
const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

interface OutboxItem {
  alertId: string;
  channel: string;
  version: number;
  at: string;
}

describe('Embedded process killed around a scheduled time', () => {
  it('sends each scheduled version exactly once after a kill -9 before its time and one at its time', async () => {
    // Prepare
    dataDir = await tempDir('herald-crash-scheduled-');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const start = async () => {
      const child = startEmbeddedProcess(port, dataDir!, SLOW_SWEEPER);
      children.push(child);
      await waitFor(async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 30_000, 'start');
      return child;
    };
    const kill = async (child: ChildProcess) => {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    };
    let child = await start();
    const identity = await EmbeddedIdentity.open(dataDir);
    const officer = `Bearer ${await identity.issue({ roles: ['officer'] })}`;
    const schedule = async (at: number, label: string) => {
      const res = await fetch(`${base}/v1/alerts`, {
        method: 'POST',
        headers: { authorization: officer, 'content-type': 'application/json' },
        body: JSON.stringify({
          ...DRAFT,
          channels: ['x', 'facebook'],
          headline: `${DRAFT.headline} (${label})`,
          publishAt: new Date(at).toISOString(),
        }),
      });
      expect(res.status).toBe(201);
      return { id: ((await res.json()) as Alert).id, at };
    };
    const outbox = async () =>
      (
        (await (await fetch(`${base}/v1/sandbox/outbox?limit=100`)).json()) as {
          items: OutboxItem[];
        }
      ).items;

    // Act 1: killed 1.5 s before the time, started again 1 s after it
    const before = Date.now() + 4_000;
    const first = await Promise.all([0, 40, 80].map((offset, i) => schedule(before + offset, `before ${i}`)));
    await sleepUntil(before - 1_500);
    const postedBeforeTime = await outbox();
    await kill(child);
    await sleepUntil(before + 1_000);
    child = await start();

    // Act 2: killed at the very moment several versions come due (the timer is queueing and releasing them)
    const moment = Date.now() + 3_000;
    const second = await Promise.all(
      [-60, -30, 0, 30, 60].map((offset, i) => schedule(moment + offset, `moment ${i}`)),
    );
    await sleepUntil(moment);
    await kill(child);
    child = await start();

    // Assess
    expect(postedBeforeTime).toEqual([]);
    const all = [...first, ...second];
    const items = await waitFor(
      async () => {
        const posted = await outbox();
        return all.every((a) => posted.filter((p) => p.alertId === a.id).length >= 2) ? posted : undefined;
      },
      30_000,
      'every scheduled version posted',
    );
    // A moment more, for anything that would go out twice to show itself.
    await new Promise((r) => setTimeout(r, 1_500));
    const final = await outbox();
    for (const alert of all) {
      const posts = final.filter((p) => p.alertId === alert.id);
      expect(posts.map((p) => p.channel).sort()).toEqual(['facebook', 'x']);
      for (const post of posts) expect(Date.parse(post.at)).toBeGreaterThanOrEqual(alert.at);
    }
    expect(final).toHaveLength(items.length);
  }, 120_000);
});
