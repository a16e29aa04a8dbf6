/**
 * Invariant 9 under the worst case. One alert to 2,000 residents by SMS, 2,000 by email and 2,000 media webhooks,
 * sent by the real SNS, SES and webhook clients to a local stand-in for each (test/fakes/aws-messaging.ts, which
 * cannot say afterwards what it received: no lookup). The embedded process is killed with SIGKILL at several
 * random points of the fan-out and started again on the same data directory. Then:
 * - every recipient got the message;
 * - whoever got it twice was in a send window a killed process had in flight, and its receipt says so;
 * - no receipt is flagged without cause: each flagged one records a lost attempt begun before a kill, and there
 *   are at most a window per sender per kill;
 * - a resent webhook keeps its `webhook-id`, so the outlet can drop it;
 * - each restart resumed the fan-out within seconds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSubscribers, seedSubscribers } from '../../bench/seed-subscribers';
import type { Subscriber } from '../../functions/core/model';
import { newId } from '../../functions/shared/ids';
import { EmbeddedIdentity } from '../../local/auth';
import { type FakeMessaging, realMessagingEnv, startFakeMessaging } from '../fakes/aws-messaging';
import { DRAFT, freePort, startTestHerald, tempDir, waitFor } from '../helpers/embedded';

const PER_CHANNEL = 2_000;
const CHANNELS = ['sms', 'email', 'webhook'] as const;
const KILLS = 3;
const WINDOW = 50;
/** Senders per subscriber channel in the embedded mode, each with one job (one window) at a time. */
const SENDERS = 2;
const ZONE = 'gracia';

const children: ChildProcess[] = [];
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function startHerald(port: number, dataDir: string, fake: FakeMessaging): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts'], {
    env: {
      ...process.env,
      ...realMessagingEnv(fake),
      PORT: String(port),
      HERALD_DATA_DIR: dataDir,
      HERALD_SEND_WINDOW: String(WINDOW),
      // Pacing is the unit tests' business: here the route is fast, and the provider's latency sets the pace.
      HERALD_SMS_MPS: '100000',
      HERALD_SMS_SENDER_CONCURRENCY: String(SENDERS),
      HERALD_FUNCTION_TIMEOUT_SECONDS: '20',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

/** Seeds 2,000 confirmed subscribers per channel in one zone, with the store's own items, before Herald starts. */
async function seed(dataDir: string, fake: FakeMessaging) {
  const herald = await startTestHerald({ dataDir });
  const made: Record<(typeof CHANNELS)[number], Subscriber[]> = {
    sms: await makeSubscribers(herald.pii, {
      channel: 'sms',
      count: PER_CHANNEL,
      zones: [ZONE],
      addressOf: (i) => `+3465${String(i).padStart(7, '0')}`,
    }),
    email: await makeSubscribers(herald.pii, {
      channel: 'email',
      count: PER_CHANNEL,
      zones: [ZONE],
      addressOf: (i) => `resident${i}@mail.example`,
    }),
    webhook: await makeSubscribers(herald.pii, {
      channel: 'webhook',
      count: PER_CHANNEL,
      zones: [ZONE],
      addressOf: (i) => `${fake.url}/outlet/${i}`,
      nameOf: (i) => `Outlet ${i}`,
      secretOf: () => `whsec_${randomBytes(32).toString('base64')}`,
    }),
  };
  for (const channel of CHANNELS) await seedSubscribers(herald.table, made[channel]);
  await herald.stop();
  return made;
}

interface Row {
  channel: string;
  subscriberId?: string;
  status: string;
  possibleDuplicate?: boolean;
  attemptLog?: { at: string; status: string }[];
}

describe('Embedded process killed again and again during a neighbourhood fan-out', () => {
  it('reaches every resident and outlet, with duplicates only in the flagged crash windows', async () => {
    // Prepare
    const fake = await startFakeMessaging({ latencyMs: 4 });
    cleanups.push(() => fake.close());
    const dataDir = await tempDir('herald-crash-fanout-');
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const subscribers = await seed(dataDir, fake);
    const addressOf = new Map<string, string>();
    for (const [i, s] of subscribers.sms.entries()) addressOf.set(s.id, `+3465${String(i).padStart(7, '0')}`);
    for (const [i, s] of subscribers.email.entries()) addressOf.set(s.id, `resident${i}@mail.example`);
    for (const [i, s] of subscribers.webhook.entries()) addressOf.set(s.id, `/outlet/${i}`);
    const total = PER_CHANNEL * CHANNELS.length;
    // Random kill points, spread over the fan-out; printed so a failure can be replayed.
    const points = Array.from({ length: KILLS }, (_, k) =>
      Math.round(((k + 0.2 + Math.random() * 0.6) / (KILLS + 1)) * total),
    );
    console.info(`crash-fanout: killing after ${points.join(', ')} of ${total} messages`);
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const healthy = () =>
      waitFor(
        async () => ((await fetch(`${base}/healthz`).catch(() => undefined))?.ok ? true : undefined),
        30_000,
        'start',
      );

    let child = startHerald(port, dataDir, fake);
    await healthy();
    const identity = await EmbeddedIdentity.open(dataDir);
    const officer = `Bearer ${await identity.issue({ roles: ['officer'] })}`;
    const auditor = `Bearer ${await identity.issue({ roles: ['auditor'] })}`;

    // Act: the alert, then a kill at each point and a restart
    const created = await fetch(`${base}/v1/alerts`, {
      method: 'POST',
      headers: { authorization: officer, 'content-type': 'application/json', 'idempotency-key': newId() },
      body: JSON.stringify({ ...DRAFT, areas: [{ zone: ZONE }], channels: [...CHANNELS] }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const kills: number[] = [];
    const resumedAfterMs: number[] = [];
    for (const point of points) {
      await waitFor(
        async () => (fake.accepted.length >= point ? true : undefined),
        120_000,
        `${point} messages`,
      );
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      kills.push(Date.now());
      const before = fake.accepted.length;
      const restartedAt = Date.now();
      child = startHerald(port, dataDir, fake);
      const resumed = await waitFor(
        async () => (fake.accepted.length > before ? Date.now() : undefined),
        60_000,
        'the fan-out to resume',
      );
      resumedAfterMs.push(resumed - restartedAt);
    }
    await healthy();
    await waitFor(
      async () => {
        const res = await fetch(`${base}/v1/alerts/${id}/deliveries?limit=1`, {
          headers: { authorization: auditor },
        });
        const { totals } = (await res.json()) as { totals: Record<string, number> };
        return totals.sent === total ? true : undefined;
      },
      180_000,
      `all ${total} sent`,
    );
    const rows: Row[] = [];
    let cursor: string | undefined;
    do {
      const res = await fetch(
        `${base}/v1/alerts/${id}/deliveries?limit=5000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { headers: { authorization: auditor } },
      );
      const page = (await res.json()) as { deliveries: Row[]; cursor?: string };
      rows.push(...page.deliveries);
      cursor = page.cursor;
    } while (cursor);

    // Assess: everyone, at least once
    console.info(`crash-fanout: resumed ${resumedAfterMs.join(', ')} ms after each restart`);
    expect(rows.length).toBe(total);
    for (const channel of CHANNELS) {
      const counts = fake.countsOf(channel);
      const reached = subscribers[channel].filter((s) => (counts.get(addressOf.get(s.id)!) ?? 0) >= 1);
      expect(reached.length, channel).toBe(PER_CHANNEL);
    }
    // Twice only within the flagged windows, and every duplicate flagged
    const flagged = rows.filter((r) => r.possibleDuplicate);
    const flaggedAddresses = new Set(flagged.map((r) => addressOf.get(r.subscriberId!)));
    const twice = CHANNELS.flatMap((c) => [...fake.countsOf(c)].filter(([, n]) => n > 1).map(([a]) => a));
    console.info(`crash-fanout: ${twice.length} got it twice, ${flagged.length} receipts flagged`);
    for (const address of twice) expect(flaggedAddresses.has(address), address).toBe(true);
    // Never flagged without cause: a lost attempt begun before a kill, at most a window per sender per kill
    expect(flagged.length).toBeLessThanOrEqual(KILLS * CHANNELS.length * SENDERS * WINDOW);
    for (const row of flagged) {
      const lost = row.attemptLog?.find((a) => a.status === 'unknown');
      expect(lost, JSON.stringify(row)).toBeDefined();
      expect(kills.some((k) => Date.parse(lost!.at) <= k)).toBe(true);
    }
    expect(
      rows.filter((r) => !r.possibleDuplicate && r.attemptLog?.some((a) => a.status === 'unknown')),
    ).toEqual([]);
    // A resent webhook carries the id of the first, so the outlet can drop it
    const ids = new Map<string, Set<string>>();
    for (const a of fake.accepted.filter((a) => a.channel === 'webhook'))
      ids.set(a.recipient, (ids.get(a.recipient) ?? new Set()).add(a.messageId ?? ''));
    expect([...ids.values()].every((set) => set.size === 1)).toBe(true);
    // Each restart took up the fan-out within seconds (the visibility timeout is 120 s)
    for (const ms of resumedAfterMs) expect(ms).toBeLessThan(15_000);
  }, 400_000);
});
