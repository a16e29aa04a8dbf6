/**
 * An alert to a zone of 10,000 confirmed SMS subscribers, end to end in the embedded mode: over HTTP, through the
 * dispatcher's jobs of 100 and the SMS senders, into the sandbox outbox. Each resident gets it exactly once, and the
 * deliveries answer shows every one of them `sent`, masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSmsSubscribers, seedSubscribers } from '../../bench/seed-subscribers';
import type { Subscriber } from '../../functions/core/model';
import { newId } from '../../functions/shared/ids';
import { DRAFT, startTestHerald, type TestHerald, waitFor } from '../helpers/embedded';

const RESIDENTS = 10_000;
const ZONE = 'eixample';

let herald: TestHerald;
let residents: Subscriber[];
beforeAll(async () => {
  // A route fast enough that the test measures Herald, not the pacing (which the unit tests check).
  herald = await startTestHerald({ env: { HERALD_SMS_MPS: '100000', HERALD_SMS_SENDER_CONCURRENCY: '4' } });
  // In bulk (the store's own items, written in batches): 10,000 sign-ups one by one would take most of a minute.
  residents = await makeSmsSubscribers(herald.pii, { count: RESIDENTS, zones: [ZONE] });
  await seedSubscribers(herald.table, residents);
}, 40_000);
afterAll(async () => {
  await herald?.cleanup();
});

describe('fan-out to a whole zone', () => {
  it('sends an alert to 10,000 residents of a zone exactly once each, in their language, and reports them all sent', async () => {
    // Act
    const created = await herald.call('POST', '/v1/alerts', {
      role: 'officer',
      headers: { 'idempotency-key': newId() },
      body: {
        ...DRAFT,
        areas: [{ zone: ZONE, areaDesc: 'Eixample' }],
        channels: ['sms'],
        translations: [
          {
            language: 'es',
            headline: 'La maratón cierra la calle Mayor el domingo',
            description: 'La calle Mayor está cerrada de 08:00 a 14:00.',
          },
        ],
      },
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    await waitFor(
      async () => {
        const counts = await herald.store.countReceipts(id, {});
        const sent = counts.filter((c) => c.status === 'sent').reduce((n, c) => n + c.count, 0);
        return sent === RESIDENTS ? sent : undefined;
      },
      50_000,
      `${RESIDENTS} receipts sent`,
    );

    // Assess
    const outbox = await herald.store.list({ channel: 'sms', alertId: id, limit: RESIDENTS + 10 });
    expect(outbox.total).toBe(RESIDENTS);
    const keys = new Set(outbox.items.map((item) => item.idempotencyKey));
    expect(keys.size).toBe(RESIDENTS);
    const spanish = outbox.items.filter((item) => item.text.includes('La maratón')).length;
    expect(spanish).toBe(residents.filter((r) => r.language === 'es').length);
    // No full number is kept anywhere in the outbox.
    expect(outbox.items.some((item) => /\+3461\d{7}/.test(item.text + item.recipient))).toBe(false);

    const report = await herald.call('GET', `/v1/alerts/${id}/deliveries?limit=5000`, { role: 'auditor' });
    expect(report.status).toBe(200);
    const body = (await report.json()) as {
      totals: Record<string, number>;
      deliveries: { recipient: string; status: string }[];
      cursor?: string;
    };
    expect(body.totals).toEqual({ sent: RESIDENTS });
    expect(body.deliveries).toHaveLength(5000);
    expect(body.cursor).toBeTypeOf('string');
    expect(body.deliveries.every((d) => /^\+34•+\d\d$/.test(d.recipient))).toBe(true);
    const alert = (await (await herald.call('GET', `/v1/alerts/${id}`, { role: 'auditor' })).json()) as {
      state: string;
    };
    expect(alert.state).toBe('sent');
  }, 60_000);

  it("previews how many residents the SMS reaches and how long the last of them waits at the account's rate", async () => {
    // Act
    const response = await herald.call('POST', '/v1/alerts/preview', {
      role: 'officer',
      body: { ...DRAFT, areas: [{ zone: ZONE }, { zone: 'gracia' }], channels: ['sms'] },
    });

    // Assess
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      channels: { sms: { segments: number; reach: Record<string, unknown> } };
    };
    const { segments, reach } = body.channels.sms;
    expect(reach).toMatchObject({
      recipients: RESIDENTS,
      audience: 'public',
      messagesPerSecond: 100_000,
      segments,
    });
    expect(reach.secondsToLastRecipient).toBeCloseTo((RESIDENTS * segments) / 100_000, 1);
    expect(reach.summary).toMatch(/^10,000 subscribers would get this SMS\. At 100000 messages per second/);
  });
});
