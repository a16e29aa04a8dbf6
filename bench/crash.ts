/**
 * Section 6: a kill in the middle of a neighbourhood fan-out. Each run seeds 10,000 SMS residents in a fresh data
 * directory, starts the embedded mode as its own process with the real SNS client pointed at a local stand-in
 * (test/fakes/aws-messaging.ts, which cannot tell Herald what it received), sends one alert, kills the process
 * with SIGKILL once half the messages are out, and starts it again. It measures who got the message twice, how
 * many receipts say they may have, and how long the restart took to resume and to finish.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { newId } from '../functions/shared/ids';
import { EmbeddedIdentity } from '../local/auth';
import { startHerald } from '../local/runtime';
import { type FakeMessaging, realMessagingEnv, startFakeMessaging } from '../test/fakes/aws-messaging';
import { freePort, waitFor } from '../test/helpers/embedded';
import { makeSmsSubscribers, seedSubscribers } from './seed-subscribers';

export interface CrashRun {
  recipients: number;
  killedAfter: number;
  /** Recipients who got the message more than once. */
  duplicates: number;
  /** Receipts that say the recipient may have received it twice. */
  flagged: number;
  /** Duplicates whose receipt does not say so (must be 0). */
  unflaggedDuplicates: number;
  /** Recipients who never got it (must be 0). */
  missed: number;
  /** From starting the new process to its first message. */
  resumeSeconds: number;
  /** From starting the new process to the last receipt. */
  finishSeconds: number;
}

const ZONE = 'eixample';

function heraldProcess(port: number, dataDir: string, fake: FakeMessaging, window: number): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    env: {
      ...process.env,
      ...realMessagingEnv(fake),
      PORT: String(port),
      HERALD_DATA_DIR: dataDir,
      HERALD_SEND_WINDOW: String(window),
      HERALD_SMS_MPS: '100000',
      HERALD_SMS_SENDER_CONCURRENCY: '2',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export async function measureCrashRun(options: { recipients: number; window: number }): Promise<CrashRun> {
  const fake = await startFakeMessaging({ latencyMs: 2 });
  const { mkdtemp } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-bench-crash-'));
  let child: ChildProcess | undefined;
  try {
    // Seeded with the store's own items, by an embedded instance that stops before the measured one starts.
    const seeder = await startHerald({ port: 0, dataDir, env: { POWERTOOLS_LOG_LEVEL: 'ERROR' } });
    const residents = await makeSmsSubscribers(seeder.pii, {
      count: options.recipients,
      zones: [ZONE],
      firstNumber: 0,
    });
    await seedSubscribers(seeder.table, residents);
    await seeder.stop();

    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const healthy = () =>
      waitFor(async () => ((await fetch(`${base}/healthz`)).ok ? true : undefined), 60_000, 'start');
    child = heraldProcess(port, dataDir, fake, options.window);
    await healthy();
    const identity = await EmbeddedIdentity.open(dataDir);
    const officer = `Bearer ${await identity.issue({ roles: ['officer'] })}`;
    const auditor = `Bearer ${await identity.issue({ roles: ['auditor'] })}`;
    const created = await fetch(`${base}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: officer, 'content-type': 'application/json', 'idempotency-key': newId() },
      body: JSON.stringify({
        status: 'Actual',
        category: 'Safety',
        event: 'Water supply cut',
        urgency: 'Immediate',
        severity: 'Moderate',
        certainty: 'Observed',
        headline: 'Water supply cut in Eixample until 18:00',
        description: 'Works on the main pipe: no water until 18:00.',
        language: 'en',
        areas: [{ zone: ZONE }],
        channels: ['sms'],
      }),
    });
    if (created.status !== 201) throw new Error(`the alert was refused: ${created.status}`);
    const { id } = (await created.json()) as { id: string };

    const half = Math.round(options.recipients / 2);
    await waitFor(
      async () => (fake.accepted.length >= half ? true : undefined),
      300_000,
      'half the messages',
    );
    child.kill('SIGKILL');
    await new Promise((r) => child?.once('exit', r));
    const killedAfter = fake.accepted.length;
    const restartedAt = Date.now();
    child = heraldProcess(port, dataDir, fake, options.window);
    const resumed = await waitFor(
      async () => (fake.accepted.length > killedAfter ? Date.now() : undefined),
      300_000,
      'the fan-out to resume',
    );
    await healthy();
    const finished = await waitFor(
      async () => {
        const res = await fetch(`${base}/v1/alerts/${id}/deliveries?limit=1`, {
          headers: { authorization: auditor },
        });
        const { totals } = (await res.json()) as { totals: Record<string, number> };
        return totals.sent === options.recipients ? Date.now() : undefined;
      },
      600_000,
      'every receipt sent',
    );

    const flaggedPhones = new Set<string>();
    const phoneOf = new Map(residents.map((r, i) => [r.id, `+3461${String(i).padStart(7, '0')}`]));
    let cursor: string | undefined;
    do {
      const res = await fetch(
        `${base}/v1/alerts/${id}/deliveries?limit=5000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { headers: { authorization: auditor } },
      );
      const page = (await res.json()) as {
        deliveries: { subscriberId?: string; possibleDuplicate?: boolean }[];
        cursor?: string;
      };
      for (const d of page.deliveries)
        if (d.possibleDuplicate && d.subscriberId) flaggedPhones.add(phoneOf.get(d.subscriberId) ?? '');
      cursor = page.cursor;
    } while (cursor);
    const counts = fake.countsOf('sms');
    const twice = [...counts].filter(([, n]) => n > 1).map(([phone]) => phone);
    return {
      recipients: options.recipients,
      killedAfter,
      duplicates: twice.length,
      flagged: flaggedPhones.size,
      unflaggedDuplicates: twice.filter((p) => !flaggedPhones.has(p)).length,
      missed: [...phoneOf.values()].filter((p) => !counts.has(p)).length,
      resumeSeconds: (resumed - restartedAt) / 1000,
      finishSeconds: (finished - restartedAt) / 1000,
    };
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child?.once('exit', r));
    }
    await fake.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}
