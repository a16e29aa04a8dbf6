import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReceiptKey } from '../../functions/core/model';
import type { ReceiptOutcome } from '../../functions/ports';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { newAlertId } from '../helpers/dynamo-fixtures';

let db: DynaliteStore;
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

const T0 = '2030-05-01T10:00:00.000Z';
const T1 = '2030-05-01T10:01:00.000Z';
const T2 = '2030-05-01T10:02:00.000Z';
const T3 = '2030-05-01T10:03:00.000Z';
const T4 = '2030-05-01T10:04:00.000Z';

const key = (overrides: Partial<ReceiptKey> = {}): ReceiptKey => ({
  alertId: newAlertId(),
  version: 1,
  channel: 'sms',
  recipient: '+34600000001',
  ...overrides,
});

const lease = (now: string, leaseUntil: string, leaseId: string = randomUUID()) => ({
  leaseId,
  leaseUntil,
  now,
  actor: 'channel:sms',
});

const outcome = (
  o: Partial<ReceiptOutcome> & Pick<ReceiptOutcome, 'status' | 'attempt'>,
): ReceiptOutcome => ({
  at: T1,
  actor: 'channel:sms',
  ...o,
});

/** A receipt taken to a given status through the store's own operations. */
async function receiptIn(o: Partial<ReceiptOutcome> & Pick<ReceiptOutcome, 'status'>): Promise<ReceiptKey> {
  const k = key();
  await db.store.createReceipts([k], T0);
  const claimed = await db.store.claim(k, lease(T0, T1, 'setup'));
  if (claimed.kind !== 'claimed') throw new Error(`setup claim was ${claimed.kind}`);
  expect(await db.store.record(k, 'setup', outcome({ attempt: 1, ...o }))).toBe(true);
  return k;
}

describe('createReceipts', () => {
  it('writes queued receipts with their first history line, and counts only the new ones', async () => {
    const alertId = newAlertId();
    const keys = Array.from({ length: 25 }, (_, i) =>
      key({ alertId, recipient: `+346000000${String(i).padStart(2, '0')}` }),
    );
    expect(await db.store.createReceipts(keys, T0)).toBe(25);
    expect(await db.store.createReceipts([...keys.slice(0, 5), key({ alertId, version: 2 })], T1)).toBe(1);
    expect(await db.store.createReceipts([], T1)).toBe(0);

    expect(await db.store.get(keys[0]!)).toEqual({
      ...keys[0],
      status: 'queued',
      attempts: 0,
      createdAt: T0,
      updatedAt: T0,
      history: [{ at: T0, actor: 'system:dispatcher', status: 'queued', attempt: 0 }],
    });
  });

  it('never overwrites a receipt that was already sent', async () => {
    const k = await receiptIn({ status: 'sent', providerMessageId: 'msg-1' });
    expect(await db.store.createReceipts([k], T2)).toBe(0);
    expect(await db.store.get(k)).toMatchObject({ status: 'sent', attempts: 1, providerMessageId: 'msg-1' });
  });

  it('counts a key given twice in one call once', async () => {
    const k = key();
    expect(await db.store.createReceipts([k, { ...k }], T0)).toBe(1);
  });
});

describe('listForAlert', () => {
  it('lists every receipt of the alert by version, channel and recipient, and nothing of others', async () => {
    const alertId = newAlertId();
    const keys: ReceiptKey[] = [
      key({ alertId, version: 2, channel: 'sms', recipient: '+34600000002' }),
      key({ alertId, version: 1, channel: 'x', recipient: '@agency' }),
      key({ alertId, version: 1, channel: 'sms', recipient: '+34600000003' }),
      key({ alertId, version: 10, channel: 'email', recipient: 'a@example.org' }),
      key({ alertId, version: 1, channel: 'sms', recipient: '+34600000001' }),
    ];
    await db.store.createReceipts(keys, T0);
    await db.store.createReceipts([key({ recipient: '+34600000009' })], T0);
    const listed = await db.store.listForAlert(alertId);
    expect(listed.map((r) => `${r.version} ${r.channel} ${r.recipient}`)).toEqual([
      '1 sms +34600000001',
      '1 sms +34600000003',
      '1 x @agency',
      '2 sms +34600000002',
      '10 email a@example.org',
    ]);
    expect(listed[0]).not.toHaveProperty('PK');
    expect(await db.store.listForAlert(newAlertId())).toEqual([]);
  });
});

describe('claim', () => {
  it('claims a queued receipt: sending, one attempt, the lease, previous as it was', async () => {
    const k = key();
    await db.store.createReceipts([k], T0);
    const result = await db.store.claim(k, lease(T1, T2, 'lease-1'));
    expect(result.kind).toBe('claimed');
    if (result.kind !== 'claimed') return;
    expect(result.previous).toMatchObject({ status: 'queued', attempts: 0 });
    expect(result.previous).not.toHaveProperty('leaseId');
    expect(result.receipt).toMatchObject({
      status: 'sending',
      attempts: 1,
      leaseId: 'lease-1',
      leaseUntil: T2,
      updatedAt: T1,
    });
    expect(await db.store.get(k)).toEqual(result.receipt);
    // Claim appends no history; record does.
    expect(result.receipt.history).toHaveLength(1);
  });

  it('answers busy while another worker holds a live lease', async () => {
    const k = key();
    await db.store.createReceipts([k], T0);
    await db.store.claim(k, lease(T1, T3, 'first'));
    const second = await db.store.claim(k, lease(T2, T4, 'second'));
    expect(second).toMatchObject({ kind: 'busy', receipt: { status: 'sending', leaseId: 'first' } });
    // At the very end of the lease it is still held: the lease is over only strictly after leaseUntil.
    expect((await db.store.claim(k, lease(T3, T4, 'third'))).kind).toBe('busy');
  });

  it('lets only one of many concurrent claims win', async () => {
    const k = key();
    await db.store.createReceipts([k], T0);
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => db.store.claim(k, lease(T1, T2, `worker-${i}`))),
    );
    expect(results.filter((r) => r.kind === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'busy')).toHaveLength(7);
    expect((await db.store.get(k))?.attempts).toBe(1);
  });

  it('takes over a receipt whose worker died (lease over), showing previous.status sending', async () => {
    const k = key();
    await db.store.createReceipts([k], T0);
    await db.store.claim(k, lease(T0, T1, 'dead-worker'));
    const result = await db.store.claim(k, lease(T2, T3, 'rescuer'));
    expect(result.kind).toBe('claimed');
    if (result.kind !== 'claimed') return;
    expect(result.previous).toMatchObject({ status: 'sending', attempts: 1, leaseId: 'dead-worker' });
    expect(result.receipt).toMatchObject({
      status: 'sending',
      attempts: 2,
      leaseId: 'rescuer',
      leaseUntil: T3,
    });
    // The dead worker, should it wake up, can no longer record.
    expect(await db.store.record(k, 'dead-worker', outcome({ status: 'sent', attempt: 1 }))).toBe(false);
  });

  it('claims a retrying receipt only once its next attempt is due', async () => {
    const k = await receiptIn({ status: 'retrying', nextAttemptAt: T3, reason: 'HTTP 503' });
    expect(await db.store.claim(k, lease(T2, T4))).toMatchObject({
      kind: 'busy',
      receipt: { status: 'retrying', nextAttemptAt: T3 },
    });
    const due = await db.store.claim(k, lease(T3, T4));
    expect(due).toMatchObject({
      kind: 'claimed',
      previous: { status: 'retrying' },
      receipt: { attempts: 2 },
    });
  });

  it('claims a failed receipt that is retryable (a dead-letter redrive)', async () => {
    const k = await receiptIn({ status: 'failed', retryable: true, reason: 'HTTP 500' });
    const result = await db.store.claim(k, lease(T2, T3));
    expect(result).toMatchObject({ kind: 'claimed', previous: { status: 'failed', retryable: true } });
  });

  it('answers done for final receipts', async () => {
    for (const final of [
      { status: 'sent' as const, providerMessageId: 'm' },
      { status: 'delivered' as const, providerMessageId: 'm' },
      { status: 'unknown' as const, outcomeUnknown: true },
      { status: 'failed' as const, reason: 'invalid number' },
      { status: 'failed' as const, reason: 'invalid number', retryable: false },
    ]) {
      const k = await receiptIn(final);
      const result = await db.store.claim(k, lease(T2, T3));
      expect(result, JSON.stringify(final)).toMatchObject({
        kind: 'done',
        receipt: { status: final.status },
      });
      expect((await db.store.get(k))?.attempts).toBe(1);
    }
  });

  it('answers missing for a receipt that was never created, and creates none', async () => {
    const k = key();
    expect(await db.store.claim(k, lease(T1, T2))).toEqual({ kind: 'missing' });
    expect(await db.store.get(k)).toBeUndefined();
  });
});

describe('record', () => {
  it('records only under the lease that claimed', async () => {
    const k = key();
    await db.store.createReceipts([k], T0);
    await db.store.claim(k, lease(T0, T2, 'mine'));
    expect(await db.store.record(k, 'not-mine', outcome({ status: 'sent', attempt: 1 }))).toBe(false);
    expect(await db.store.get(k)).toMatchObject({ status: 'sending', leaseId: 'mine' });
    expect(
      await db.store.record(k, 'mine', outcome({ status: 'sent', attempt: 1, providerMessageId: 'p1' })),
    ).toBe(true);
    // The lease is spent once recorded: a duplicate record from the same worker is refused.
    expect(await db.store.record(k, 'mine', outcome({ status: 'failed', attempt: 1 }))).toBe(false);
  });

  it('refuses to record on a receipt that is not being sent, or not there', async () => {
    const k = key();
    await db.store.createReceipts([k], T0);
    expect(await db.store.record(k, 'any', outcome({ status: 'sent', attempt: 1 }))).toBe(false);
    expect(await db.store.record(key(), 'any', outcome({ status: 'sent', attempt: 1 }))).toBe(false);
    expect(await db.store.get(k)).toMatchObject({ status: 'queued' });
  });

  it('grows the history with each attempt, clearing what belonged to the previous attempt', async () => {
    const k = key();
    await db.store.createReceipts([k], T0);

    await db.store.claim(k, lease(T0, T1, 'a1'));
    await db.store.record(
      k,
      'a1',
      outcome({
        status: 'retrying',
        attempt: 1,
        at: T1,
        reason: 'HTTP 429',
        nextAttemptAt: T2,
        actor: 'channel:x',
      }),
    );
    expect(await db.store.get(k)).toMatchObject({
      status: 'retrying',
      reason: 'HTTP 429',
      nextAttemptAt: T2,
    });

    const second = await db.store.claim(k, lease(T2, T3, 'a2'));
    expect(second.kind).toBe('claimed');
    await db.store.record(
      k,
      'a2',
      outcome({
        status: 'unknown',
        attempt: 2,
        at: T3,
        outcomeUnknown: true,
        reason: 'timeout',
        providerMessageId: 'p2',
      }),
    );

    const r = await db.store.get(k);
    expect(r).toMatchObject({
      status: 'unknown',
      outcomeUnknown: true,
      providerMessageId: 'p2',
      attempts: 2,
    });
    expect(r).not.toHaveProperty('nextAttemptAt');
    expect(r).not.toHaveProperty('leaseId');
    expect(r).not.toHaveProperty('leaseUntil');

    // A redriven failure that then goes out: the failure's fields go, the provider id it had stays.
    const k2 = await receiptIn({
      status: 'failed',
      retryable: true,
      reason: 'HTTP 500',
      providerMessageId: 'p1',
    });
    const third = await db.store.claim(k2, lease(T2, T3, 'a3'));
    expect(third.kind).toBe('claimed');
    await db.store.record(k2, 'a3', outcome({ status: 'sent', attempt: 2, at: T4 }));
    const sent = await db.store.get(k2);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2, providerMessageId: 'p1', updatedAt: T4 });
    for (const gone of ['reason', 'retryable', 'outcomeUnknown', 'nextAttemptAt', 'leaseId', 'leaseUntil'])
      expect(sent, gone).not.toHaveProperty(gone);

    expect(r?.history).toEqual([
      { at: T0, actor: 'system:dispatcher', status: 'queued', attempt: 0 },
      { at: T1, actor: 'channel:x', status: 'retrying', attempt: 1, reason: 'HTTP 429' },
      {
        at: T3,
        actor: 'channel:sms',
        status: 'unknown',
        attempt: 2,
        reason: 'timeout',
        providerMessageId: 'p2',
      },
    ]);
    expect(sent?.history.map((h) => [h.status, h.attempt])).toEqual([
      ['queued', 0],
      ['failed', 1],
      ['sent', 2],
    ]);
  });

  it('replaces providerMessageId when a later attempt brings a new one', async () => {
    const k = await receiptIn({ status: 'failed', retryable: true, providerMessageId: 'old' });
    await db.store.claim(k, lease(T2, T3, 'again'));
    await db.store.record(k, 'again', outcome({ status: 'sent', attempt: 2, providerMessageId: 'new' }));
    expect((await db.store.get(k))?.providerMessageId).toBe('new');
  });
});
