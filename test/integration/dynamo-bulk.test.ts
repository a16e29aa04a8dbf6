/**
 * The subscriber fan-out's items on dynalite: plan records, job items and their claims, the audience kept in the
 * jobs' `sent` sets, receipts written and read in batches and listed a page at a time; and the benchmark's bulk
 * seeding, read back by the subscriber store as its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSmsSubscribers, seedSubscribers } from '../../bench/seed-subscribers';
import type { Receipt } from '../../functions/core/model';
import type { SendJob } from '../../functions/ports';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { newUlid } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

const T0 = '2030-12-01T08:00:00.000Z';
const LATER = '2030-12-01T08:05:00.000Z';

const job = (alertId: string, index: number, recipients: string[]): SendJob => ({
  alertId,
  version: 1,
  channel: 'sms',
  index,
  recipients,
  status: 'queued',
  attempts: 0,
  createdAt: T0,
  updatedAt: T0,
});

const receipt = (alertId: string, recipient: string, status: Receipt['status'], pmid?: string): Receipt => ({
  alertId,
  version: 1,
  channel: 'sms',
  recipient,
  recipientMasked: '+34•••••••12',
  status,
  attempts: 1,
  ...(pmid ? { providerMessageId: pmid } : {}),
  createdAt: T0,
  updatedAt: T0,
  history: [{ at: T0, actor: 'channel:sms', status, attempt: 1 }],
});

describe('DynamoBulkStore', () => {
  it('lets one dispatcher write a plan at a time, takes over an abandoned one, and never retakes a written one', async () => {
    // Prepare
    const alertId = newUlid();
    const lease = { now: T0, until: '2030-12-01T08:02:00.000Z' };

    // Act
    const first = await db.store.acquirePlan(alertId, 1, 'writing', lease);
    const second = await db.store.acquirePlan(alertId, 1, 'writing', lease);
    const takeover = await db.store.acquirePlan(alertId, 1, 'writing', {
      now: LATER,
      until: '2030-12-01T08:07:00.000Z',
    });
    await db.store.finishPlan({
      alertId,
      version: 1,
      state: 'written',
      recipients: { sms: 3 },
      jobs: { sms: 1 },
    });
    const afterWritten = await db.store.acquirePlan(alertId, 1, 'writing', {
      now: '2031-01-01T00:00:00.000Z',
      until: '2031-01-01T00:02:00.000Z',
    });

    // Assess
    expect(first.kind).toBe('acquired');
    expect(second).toMatchObject({ kind: 'held', record: { state: 'writing' } });
    expect(takeover.kind).toBe('acquired');
    expect(afterWritten).toMatchObject({ kind: 'written', record: { recipients: { sms: 3 } } });
    expect(await db.store.listPlans(alertId)).toHaveLength(1);
  });

  it('claims a job once, keeps whom it reached as a set across attempts, and refuses a second claim while leased', async () => {
    // Prepare
    const alertId = newUlid();
    await db.store.putJobs([job(alertId, 0, ['a', 'b', 'c']), job(alertId, 1, ['d'])]);
    const key = { alertId, version: 1, channel: 'sms' as const, index: 0 };

    // Act
    const claimed = await db.store.claimJob(key, {
      leaseId: 'l1',
      leaseUntil: '2030-12-01T08:01:00.000Z',
      now: T0,
    });
    const busy = await db.store.claimJob(key, {
      leaseId: 'l2',
      leaseUntil: '2030-12-01T08:01:00.000Z',
      now: T0,
    });
    await db.store.finishJob(key, 'l1', {
      status: 'retrying',
      at: T0,
      sent: ['a', 'b'],
      nextAttemptAt: '2030-12-01T08:00:10.000Z',
    });
    const notYet = await db.store.claimJob(key, {
      leaseId: 'l3',
      leaseUntil: LATER,
      now: '2030-12-01T08:00:05.000Z',
    });
    const again = await db.store.claimJob(key, {
      leaseId: 'l4',
      leaseUntil: LATER,
      now: '2030-12-01T08:00:11.000Z',
    });
    const staleLease = await db.store.finishJob(key, 'l1', { status: 'done', at: T0, sent: ['c'] });
    await db.store.finishJob(key, 'l4', { status: 'done', at: T0, sent: ['b', 'c'] });
    const done = await db.store.claimJob(key, { leaseId: 'l5', leaseUntil: LATER, now: LATER });

    // Assess
    expect(claimed).toMatchObject({ kind: 'claimed', previous: { status: 'queued', attempts: 0 } });
    expect(busy.kind).toBe('busy');
    expect(notYet.kind).toBe('busy');
    expect(again).toMatchObject({ kind: 'claimed', previous: { status: 'retrying', attempts: 1 } });
    expect(staleLease).toBe(false);
    expect(done.kind).toBe('done');
    expect([...(await db.store.audienceOf(alertId, 1, 'sms'))].sort()).toEqual(['a', 'b', 'c']);
    expect((await db.store.listJobs(alertId, 1)).map((j) => j.index)).toEqual([0, 1]);
  });

  it('writes and reads receipts in batches, indexed for delivery callbacks, and lists them a page at a time', async () => {
    // Prepare
    const alertId = newUlid();
    const ids = Array.from({ length: 130 }, (_, i) => `sub-${String(i).padStart(3, '0')}`);
    await db.store.putReceipts(
      ids.map((id, i) =>
        receipt(alertId, id, i % 10 === 0 ? 'failed' : 'sent', i % 10 === 0 ? undefined : `pm-${id}`),
      ),
    );

    // Act
    const read = await db.store.getReceipts(
      ids.slice(0, 120).map((recipient) => ({ alertId, version: 1, channel: 'sms' as const, recipient })),
    );
    const first = await db.store.listReceiptsPage(alertId, { limit: 50 });
    const second = await db.store.listReceiptsPage(alertId, { limit: 100, cursor: first.cursor });
    const failedOnly = await db.store.listReceiptsPage(alertId, { status: 'failed', limit: 5 });
    const counts = await db.store.countReceipts(alertId, {});
    const found = await db.store.findByProviderMessageId('sms', 'pm-sub-007');
    const confirmed = await db.store.confirm(found!, {
      status: 'delivered',
      at: LATER,
      actor: 'callback:sms',
    });

    // Assess
    expect(read.size).toBe(120);
    expect(first.items.map((r) => r.recipient)).toEqual(ids.slice(0, 50));
    expect(second.items.map((r) => r.recipient)).toEqual(ids.slice(50));
    expect(second.cursor).toBeUndefined();
    expect(failedOnly.items).toHaveLength(5);
    expect(failedOnly.items.every((r) => r.status === 'failed')).toBe(true);
    expect(counts).toEqual(
      expect.arrayContaining([
        { version: 1, channel: 'sms', status: 'sent', count: 117 },
        { version: 1, channel: 'sms', status: 'failed', count: 13 },
      ]),
    );
    expect(found).toEqual({ alertId, version: 1, channel: 'sms', recipient: 'sub-007' });
    expect(confirmed).toBe(true);
  });

  it('refuses a cursor made for another alert', async () => {
    // Prepare
    const alertId = newUlid();
    await db.store.putReceipts([receipt(alertId, 'x1', 'sent'), receipt(alertId, 'x2', 'sent')]);
    const page = await db.store.listReceiptsPage(alertId, { limit: 1 });

    // Act
    const other = db.store.listReceiptsPage(newUlid(), { limit: 1, cursor: page.cursor });

    // Assess
    await expect(other).rejects.toMatchObject({ name: 'InvalidCursorError' });
  });
});

describe('bulk seeding for the benchmark', () => {
  it('leaves subscribers the store finds, reads and lists on their zone roster as if they had signed up', async () => {
    // Prepare
    const { subscribers, pii } = await residentsDeps(db);
    const made = await makeSmsSubscribers(pii, { count: 60, zones: ['seeded-zone'], firstNumber: 9_000_000 });

    // Act
    await seedSubscribers(db, made);

    // Assess
    expect(new Set(await subscribers.rosterMembers('seeded-zone', 'sms', 'public'))).toEqual(
      new Set(made.map((s) => s.id)),
    );
    expect(await subscribers.getSubscriber(made[0]!.id)).toEqual(made[0]);
    expect((await subscribers.findSubscriber('sms', made[1]!.addressHash))?.id).toBe(made[1]!.id);
    expect((await subscribers.getSubscribers(made.map((s) => s.id))).size).toBe(60);
  });
});
