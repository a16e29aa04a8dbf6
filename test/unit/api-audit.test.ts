/**
 * The audit trail of an alert through createRouter against DynamoStore on dynalite: who wrote, held, approved and
 * planned each version, every step of the agency account's posts, subscriber deliveries counted per status, and
 * which of them a sandbox made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDITOR, apiHarness, draft, OFFICER, SERGEANT, SUPERVISOR, settle } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
});
afterAll(async () => {
  await db?.close();
});

const harness = (now?: string) => apiHarness(db, residents, now);

describe('GET /v1/alerts/{id}/audit', () => {
  it('shows who did what and when: writing, holding, approving, planning and every delivery step', async () => {
    // Prepare
    const h = harness('2030-07-01T09:00:00.000Z');
    const id = await h.create(draft({ severity: 'Extreme', channels: ['x'] }), SERGEANT);
    h.clock.advance(60_000);
    await h.call({
      method: 'POST',
      path: `/v1/alerts/${id}/approve`,
      body: { note: 'ok to send' },
      claims: SUPERVISOR,
    });
    h.clock.advance(1000);
    await h.dispatch(id, 1);
    await settle(
      db,
      { alertId: id, version: 1, channel: 'x', recipient: '@agency' },
      '2030-07-01T09:01:05.000Z',
      {
        status: 'sent',
        providerMessageId: 'x-1',
      },
    );

    // Act
    const res = await h.call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.alertId).toBe(id);
    const entries = res.body.entries as Record<string, unknown>[];
    expect(entries.map((e) => [e.at, e.actor, e.action])).toEqual([
      ['2030-07-01T09:00:00.000Z', 'sergeant-1', 'alert.created'],
      ['2030-07-01T09:00:00.000Z', 'system:policy', 'version.held-for-approval'],
      ['2030-07-01T09:01:00.000Z', 'supervisor-1', 'version.approved'],
      ['2030-07-01T09:01:01.000Z', 'system:dispatcher', 'fanout.planned'],
      ['2030-07-01T09:01:01.000Z', 'system:dispatcher', 'delivery.queued'],
      ['2030-07-01T09:01:05.000Z', 'channel:x', 'delivery.sent'],
    ]);
    expect(entries[2]).toMatchObject({ detail: 'ok to send', version: 1 });
    expect(entries[3]).toMatchObject({ detail: '1 receipts' });
    expect(entries[5]).toMatchObject({ channel: 'x', recipient: '@agency' });
  });

  it('counts subscriber-channel receipts per status instead of repeating hundreds of them, and points at each', async () => {
    // Prepare: an SMS alert whose 300 receipts the bulk sender wrote, 297 sent and 3 opted out
    const h = harness('2030-07-03T09:00:00.000Z');
    const id = await h.create(draft({ channels: ['x', 'sms'] }));
    await h.dispatch(id, 1);
    const at = '2030-07-03T09:00:05.000Z';
    await db.store.putReceipts(
      Array.from({ length: 300 }, (_, i) => {
        const failed = i < 3;
        return {
          alertId: id,
          version: 1,
          channel: 'sms' as const,
          recipient: `sub-${String(i).padStart(4, '0')}`,
          recipientMasked: '+34•••••••00',
          status: failed ? ('failed' as const) : ('sent' as const),
          attempts: 1,
          ...(failed ? { reason: 'opted-out' } : { providerMessageId: `sms-${i}` }),
          createdAt: at,
          updatedAt: at,
          history: [
            {
              at,
              actor: 'channel:sms',
              status: failed ? ('failed' as const) : ('sent' as const),
              attempt: 1,
            },
          ],
        };
      }),
    );

    // Act
    const res = await h.call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(200);
    const entries = res.body.entries as Record<string, unknown>[];
    const sms = entries.filter((e) => e.channel === 'sms');
    expect(sms.map((e) => [e.action, e.detail])).toEqual(
      expect.arrayContaining([
        [
          'deliveries.sent',
          `297 recipients; each receipt: /v1/alerts/${id}/deliveries?version=1&channel=sms`,
        ],
        [
          'deliveries.failed',
          `3 recipients; each receipt: /v1/alerts/${id}/deliveries?version=1&channel=sms`,
        ],
      ]),
    );
    expect(sms).toHaveLength(2);
    expect(entries.filter((e) => e.channel === 'x').map((e) => e.action)).toEqual(['delivery.queued']);
  });

  it('says which deliveries a sandbox made, for the agency account and for subscribers', async () => {
    // Prepare: X and SMS without credentials: both in the sandbox
    const h = harness('2030-07-04T09:00:00.000Z');
    const id = await h.create(draft({ channels: ['x', 'sms'] }));
    await h.dispatch(id, 1);
    await settle(
      db,
      { alertId: id, version: 1, channel: 'x', recipient: '@agency' },
      '2030-07-04T09:00:02.000Z',
      { status: 'sent', providerMessageId: 'sbx-x-1', sandbox: true },
    );
    const at = '2030-07-04T09:00:03.000Z';
    await db.store.putReceipts(
      ['sub-a', 'sub-b'].map((recipient) => ({
        alertId: id,
        version: 1,
        channel: 'sms' as const,
        recipient,
        recipientMasked: '+34•••••••00',
        status: 'sent' as const,
        attempts: 1,
        sandbox: true,
        createdAt: at,
        updatedAt: at,
        history: [{ at, actor: 'channel:sms', status: 'sent' as const, attempt: 1 }],
      })),
    );

    // Act
    const res = await h.call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: AUDITOR });

    // Assess
    const entries = res.body.entries as Record<string, unknown>[];
    expect(entries.filter((e) => e.channel === 'x').map((e) => [e.action, e.detail])).toEqual([
      ['delivery.queued', undefined],
      ['delivery.sent', 'sandbox: nothing reached the public'],
    ]);
    expect(entries.filter((e) => e.channel === 'sms').map((e) => [e.action, e.detail])).toEqual([
      [
        'deliveries.sent',
        `2 recipients (sandbox: nothing reached the public); each receipt: /v1/alerts/${id}/deliveries?version=1&channel=sms`,
      ],
    ]);
  });

  it('records a cancel with its reason', async () => {
    // Prepare
    const h = harness('2030-07-02T09:00:00.000Z');
    const id = await h.create();
    h.clock.advance(60_000);
    await h.call({
      method: 'POST',
      path: `/v1/alerts/${id}/cancel`,
      body: { reason: 'Found safe' },
      claims: OFFICER,
    });

    // Act
    const res = await h.call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: SUPERVISOR });

    // Assess
    expect(res.body.entries).toContainEqual({
      at: '2030-07-02T09:01:00.000Z',
      actor: 'officer-1',
      action: 'alert.cancelled',
      version: 2,
      detail: 'Found safe',
    });
  });

  it('is not for officers (403)', async () => {
    // Prepare
    const { call, create } = harness();
    const id = await create();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: OFFICER });

    // Assess
    expect(res.status).toBe(403);
  });
});
