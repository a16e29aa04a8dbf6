/**
 * The receipt store's side of delivery callbacks, on dynalite: finding a receipt by the provider's message id
 * (GSI1, written by `record`), and `confirm`'s conditional moves from sent to delivered or failed.
 */
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
const T1 = '2030-05-01T10:00:01.000Z';
const T2 = '2030-05-01T10:00:02.000Z';
const T3 = '2030-05-01T10:00:03.000Z';
const T4 = '2030-05-01T10:00:04.000Z';

const key = (overrides: Partial<ReceiptKey> = {}): ReceiptKey => ({
  alertId: newAlertId(),
  version: 1,
  channel: 'sms',
  recipient: '+34612345678',
  ...overrides,
});

/** A receipt whose first attempt ended with this outcome, through the store's own operations. */
async function recorded(
  k: ReceiptKey,
  outcome: Pick<ReceiptOutcome, 'status'> & Partial<ReceiptOutcome>,
): Promise<ReceiptKey> {
  await db.store.createReceipts([k], T0);
  const claim = await db.store.claim(k, {
    leaseId: 'l',
    leaseUntil: T4,
    now: T0,
    actor: `channel:${k.channel}`,
  });
  expect(claim.kind).toBe('claimed');
  expect(
    await db.store.record(k, 'l', { at: T1, actor: `channel:${k.channel}`, attempt: 1, ...outcome }),
  ).toBe(true);
  return k;
}

const delivered = (at: string, reason?: string) =>
  ({ status: 'delivered', at, actor: 'callback:sms', ...(reason ? { reason } : {}) }) as const;
const failed = (at: string, reason: string) =>
  ({ status: 'failed', at, actor: 'callback:sms', reason }) as const;

describe('findByProviderMessageId', () => {
  it('finds the receipt a sent message belongs to', async () => {
    const k = await recorded(key(), { status: 'sent', providerMessageId: 'sns-1' });
    expect(await db.store.findByProviderMessageId('sms', 'sns-1')).toEqual(k);
  });

  it('keeps channels apart: the same id on another channel is another receipt', async () => {
    const sms = await recorded(key(), { status: 'sent', providerMessageId: 'shared-id' });
    const email = await recorded(key({ channel: 'email', recipient: 'desk@media.example' }), {
      status: 'sent',
      providerMessageId: 'shared-id',
    });

    expect(await db.store.findByProviderMessageId('sms', 'shared-id')).toEqual(sms);
    expect(await db.store.findByProviderMessageId('email', 'shared-id')).toEqual(email);
  });

  it('finds nothing for an id no receipt has, or for an attempt that got none', async () => {
    await recorded(key(), { status: 'retrying', reason: '503', nextAttemptAt: T2 });
    expect(await db.store.findByProviderMessageId('sms', 'never-sent')).toBeUndefined();
    expect(await db.store.findByProviderMessageId('x', 'sns-1')).toBeUndefined();
  });
});

describe('confirm', () => {
  it('moves sent to delivered once, with the callback in the history and the attempt it confirms', async () => {
    const k = await recorded(key(), { status: 'sent', providerMessageId: 'm' });

    expect(await db.store.confirm(k, delivered(T2))).toBe(true);
    expect(await db.store.confirm(k, delivered(T3))).toBe(false);

    const receipt = await db.store.get(k);
    expect(receipt).toMatchObject({ status: 'delivered', updatedAt: T2, providerMessageId: 'm' });
    expect(receipt!.history.at(-1)).toEqual({
      at: T2,
      actor: 'callback:sms',
      status: 'delivered',
      attempt: 1,
    });
    expect(receipt!.history).toHaveLength(3);
  });

  it('moves sent to failed with its reason, and a repeat changes nothing', async () => {
    const k = await recorded(key(), { status: 'sent', providerMessageId: 'm' });

    expect(await db.store.confirm(k, failed(T2, 'Unknown error attempting to reach phone'))).toBe(true);
    const once = await db.store.get(k);
    expect(await db.store.confirm(k, failed(T3, 'Unknown error attempting to reach phone'))).toBe(false);
    expect(await db.store.confirm(k, delivered(T3))).toBe(false);

    expect(once).toMatchObject({ status: 'failed', reason: 'Unknown error attempting to reach phone' });
    expect(await db.store.get(k)).toEqual(once);
  });

  it('lets a late bounce fail a delivered receipt', async () => {
    const k = await recorded(key(), { status: 'sent', providerMessageId: 'm' });
    await db.store.confirm(k, delivered(T2));

    expect(await db.store.confirm(k, failed(T3, 'bounce Permanent/General'))).toBe(true);
    expect(await db.store.get(k)).toMatchObject({ status: 'failed', reason: 'bounce Permanent/General' });
  });

  it('keeps a complained-about receipt delivered, notes the complaint once, and still takes a different note', async () => {
    const k = await recorded(key(), { status: 'sent', providerMessageId: 'm' });
    await db.store.confirm(k, delivered(T2));

    expect(await db.store.confirm(k, delivered(T3, 'complaint'))).toBe(true);
    expect(await db.store.confirm(k, delivered(T3, 'complaint'))).toBe(false);
    expect(await db.store.confirm(k, delivered(T4, 'complaint: abuse'))).toBe(true);

    const receipt = await db.store.get(k);
    expect(receipt).toMatchObject({ status: 'delivered', reason: 'complaint: abuse' });
    expect(
      receipt!.history.filter((h) => h.actor === 'callback:sms').map((h) => [h.status, h.reason]),
    ).toEqual([
      ['delivered', undefined],
      ['delivered', 'complaint'],
      ['delivered', 'complaint: abuse'],
    ]);
  });

  it('a complaint on a sent receipt makes it delivered: the mail arrived', async () => {
    const k = await recorded(key(), { status: 'sent', providerMessageId: 'm' });
    expect(await db.store.confirm(k, delivered(T2, 'complaint'))).toBe(true);
    expect(await db.store.get(k)).toMatchObject({ status: 'delivered', reason: 'complaint' });
  });

  it.each([
    ['retrying', { status: 'retrying', reason: '503', nextAttemptAt: T4 }],
    ['unknown', { status: 'unknown', reason: 'lost' }],
    ['failed', { status: 'failed', reason: 'invalid phone number' }],
  ] as const)('does not touch a %s receipt', async (_, outcome) => {
    const k = await recorded(key(), outcome);
    const before = await db.store.get(k);

    expect(await db.store.confirm(k, delivered(T2))).toBe(false);
    expect(await db.store.get(k)).toEqual(before);
  });

  it('does not touch a queued receipt, nor create one that does not exist', async () => {
    const queued = key();
    await db.store.createReceipts([queued], T0);

    expect(await db.store.confirm(queued, failed(T2, 'x'))).toBe(false);
    expect(await db.store.get(queued)).toMatchObject({ status: 'queued' });
    const missing = key();
    expect(await db.store.confirm(missing, delivered(T2))).toBe(false);
    expect(await db.store.get(missing)).toBeUndefined();
  });
});
