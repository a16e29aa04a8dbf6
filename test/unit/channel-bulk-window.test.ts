/**
 * The bulk sender's crash window: the recipients of each send window are written on the job item before the first
 * of them is sent, and their receipts are stored before the next window is written. A sender that dies mid-job
 * (here: blocked for good in its pacer, as a killed process never comes back) leaves only its last window's
 * outcomes unknown; the re-claim sends to those again and flags exactly them, and everyone else once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverBulkJob } from '../../functions/channel/bulk';
import { RetryLater } from '../../functions/channel/deliver';
import type { Pacer } from '../../functions/channel/rate';
import type { Receipt } from '../../functions/core/model';
import type { SendWindow } from '../../functions/ports';
import { ProviderError } from '../../functions/ports';
import { BulkRig, newZone, T0 } from '../helpers/bulk';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { sqsRecord } from '../helpers/events';
import { residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
let rig: BulkRig;
beforeAll(async () => {
  db = await startDynaliteStore();
  rig = new BulkRig(db, await residentsDeps(db));
});
afterAll(async () => {
  await db?.close();
});

const WINDOW = 5;
const AFTER_LEASE = '2030-11-02T10:00:00.000Z';

/** A pacer that lets `allowed` sends through, then never again: the sender stops there, as a killed one would. */
function dyingPacer(allowed: number): Pacer {
  let taken = 0;
  return { take: () => (++taken <= allowed ? Promise.resolve() : new Promise<void>(() => undefined)) };
}

/** Lets the abandoned sender run until it is stuck (its pending writes done). */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

async function crashedJob(residents: number, sentBeforeCrash: number, soleSenderId?: string) {
  const zone = newZone();
  const people = await rig.residentsOf(zone, residents);
  const { v1, jobs } = await rig.plannedAlert(zone);
  const first = rig.harness({ sendWindow: WINDOW, ...(soleSenderId ? { soleSenderId } : {}) });
  void deliverBulkJob(
    { ...first.deps, pacer: () => dyingPacer(sentBeforeCrash) },
    jobs[0]!,
    sqsRecord(jobs[0]),
  );
  await settle();
  const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
  return { people, v1, jobs, first, deadWindow: job?.window as SendWindow };
}

describe('the send window', () => {
  it('is written with the claim, then before each next window is sent to, and removed when the job ends', async () => {
    // Prepare: the provider reads the job item each time it is called
    const zone = newZone();
    await rig.residentsOf(zone, 12);
    const { v1, jobs } = await rig.plannedAlert(zone);
    const { deps, provider } = rig.harness({ sendWindow: WINDOW });
    const windowsSeen: string[][] = [];
    const send = provider.send.bind(provider);
    provider.send = async (message) => {
      const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
      windowsSeen.push(job?.window?.recipients ?? []);
      return send(message);
    };

    // Act
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0]));

    // Assess: each message went to someone in the window stored at that moment, in windows of 5, 5 and 2
    const sentTo = provider.sent.map((m) => m.idempotencyKey.split(':').at(-1)!);
    for (const [i, recipient] of sentTo.entries()) expect(windowsSeen[i]).toContain(recipient);
    expect(new Set(windowsSeen.map((w) => w.join())).size).toBe(3);
    expect([...new Set(windowsSeen.map((w) => w.length))]).toEqual([5, 2]);
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job).toMatchObject({ status: 'done' });
    expect(job?.window).toBeUndefined();
    const receipts = [...(await rig.receiptsOf(v1.alertId)).values()];
    expect(receipts.filter((r) => r.possibleDuplicate || r.outcomeUnknown)).toEqual([]);
  });
});

describe('a sender that died mid-job', () => {
  it('leaves its last window on the job item, every earlier outcome stored', async () => {
    // Act: 7 sends made, the 8th never starts
    const { v1, jobs, deadWindow } = await crashedJob(12, 7);

    // Assess
    expect(deadWindow.recipients).toEqual(jobs[0]!.recipients.slice(WINDOW, 2 * WINDOW));
    const receipts = await rig.receiptsOf(v1.alertId);
    expect([...receipts.keys()].sort()).toEqual(jobs[0]!.recipients.slice(0, WINDOW).sort());
  });

  it('is taken over: the lost window is sent again and flagged, everyone else gets one message and no flag', async () => {
    // Prepare: an SMS provider cannot say whether a message went out (no lookup)
    const { v1, jobs, first, deadWindow } = await crashedJob(12, 7);
    const second = rig.harness({ sendWindow: WINDOW });
    second.provider.lookup = undefined as never;
    second.clock.set(AFTER_LEASE);

    // Act
    await deliverBulkJob(second.deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 2 }));

    // Assess: everyone got it; the duplicates are all in the window, and each of them is flagged
    const keyOf = (m: { idempotencyKey: string }) => m.idempotencyKey.split(':').at(-1)!;
    const messages = [...first.provider.sent, ...second.provider.sent].map(keyOf);
    const counts = new Map<string, number>();
    for (const r of messages) counts.set(r, (counts.get(r) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([...jobs[0]!.recipients].sort());
    const twice = [...counts].filter(([, n]) => n > 1).map(([r]) => r);
    expect(twice.length).toBe(2);
    const receipts = await rig.receiptsOf(v1.alertId);
    const flagged = [...receipts.values()].filter((r) => r.possibleDuplicate).map((r) => r.recipient);
    expect(flagged.sort()).toEqual([...deadWindow.recipients].sort());
    for (const r of twice) expect(flagged).toContain(r);
    expect(flagged.length).toBeLessThanOrEqual(WINDOW);

    // A flagged receipt counts the lost attempt, with its time and why its outcome is unknown.
    const resent = receipts.get(twice[0]!) as Receipt;
    expect(resent).toMatchObject({
      status: 'sent',
      attempts: 2,
      outcomeUnknown: true,
      possibleDuplicate: true,
    });
    expect(resent.reason).toMatch(/may have received it twice/);
    expect(resent.history.map((e) => [e.status, e.attempt, e.at])).toEqual([
      ['unknown', 1, deadWindow.at],
      ['sent', 2, AFTER_LEASE],
    ]);
    // Those after the window were never sent before: one attempt, nothing flagged.
    for (const r of jobs[0]!.recipients.slice(2 * WINDOW))
      expect(receipts.get(r)).toMatchObject({ status: 'sent', attempts: 1 });
    for (const r of jobs[0]!.recipients.slice(2 * WINDOW))
      expect(receipts.get(r)?.possibleDuplicate).toBeUndefined();
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job).toMatchObject({ status: 'done' });
    expect(job?.window).toBeUndefined();
  });

  it('is taken over with nothing twice where the provider can say what went out', async () => {
    // Prepare: the sandbox (or any provider with a lookup) knows what the dead sender posted
    const { v1, jobs, first } = await crashedJob(12, 7);
    const second = rig.harness({ sendWindow: WINDOW });
    for (const m of first.provider.sent) second.provider.earlier.set(m.idempotencyKey, 'posted-before-crash');
    second.clock.set(AFTER_LEASE);

    // Act
    await deliverBulkJob(second.deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 2 }));

    // Assess
    expect(first.provider.sent.length + second.provider.sent.length).toBe(12);
    const receipts = [...(await rig.receiptsOf(v1.alertId)).values()];
    expect(receipts.filter((r) => r.possibleDuplicate)).toEqual([]);
    expect(receipts.filter((r) => r.providerMessageId === 'posted-before-crash').length).toBe(2);
  });
});

describe("the embedded mode's sole sender, restarted", () => {
  it("takes over at once a job whose lease a process that is gone still holds, and waits out its own or AWS's", async () => {
    // Prepare: the embedded process (boot 1) died mid-job; its lease runs for a while yet
    const { v1, jobs } = await crashedJob(12, 7, 'boot-1');
    const sameBoot = rig.harness({ sendWindow: WINDOW, soleSenderId: 'boot-1' });
    const onAws = rig.harness({ sendWindow: WINDOW });
    const restarted = rig.harness({ sendWindow: WINDOW, soleSenderId: 'boot-2' });

    // Act
    const waited = [
      await deliverBulkJob(sameBoot.deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 2 })).catch((e) => e),
      await deliverBulkJob(onAws.deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 2 })).catch((e) => e),
    ];
    await deliverBulkJob(restarted.deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 3 }));

    // Assess
    for (const outcome of waited) expect(outcome).toBeInstanceOf(RetryLater);
    expect(sameBoot.provider.sent.length + onAws.provider.sent.length).toBe(0);
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job).toMatchObject({ status: 'done' });
    expect(restarted.provider.sent.length).toBe(12 - 5);
  });
});

describe('a receipt', () => {
  it('records every try with its time and the reason it failed', async () => {
    // Prepare: the first resident's number fails twice with a retryable error, then goes through
    const zone = newZone();
    const [unlucky] = await rig.residentsOf(zone, 2);
    const { v1, jobs } = await rig.plannedAlert(zone);
    const { deps, provider } = rig.harness();
    provider.failures.set(await rig.residents.pii.decrypt(unlucky!.addressCipher), {
      times: 2,
      error: new ProviderError('retryable', '503 from the provider'),
    });

    // Act
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0]));

    // Assess
    const receipt = (await rig.receiptsOf(v1.alertId)).get(unlucky!.id)!;
    expect(receipt).toMatchObject({ status: 'sent', attempts: 3 });
    expect(receipt.history.map((e) => [e.status, e.attempt, e.reason])).toEqual([
      ['retrying', 1, '503 from the provider'],
      ['retrying', 2, '503 from the provider'],
      ['sent', 3, undefined],
    ]);
    for (const event of receipt.history) expect(event.at).toBe(T0);
  });
});
