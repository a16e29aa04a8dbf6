/**
 * Residents' quiet hours end to end, through the embedded runtime over HTTP: residents text JOIN and QUIET 22-07 to the
 * sandbox number, officers post alerts, updates and cancels, the sweeper releases what waited, and the outbox shows
 * what each resident received. The agency is in Madrid (HERALD_TIME_ZONE), and the night is the one its clocks go
 * forward: 23:30 on 30 March 2030, when quiet hours that end at 07:00 end at 05:00 UTC (summer time), not 06:00.
 *
 * Nobody waits for 07:00: the embedded Herald is given a clock that runs with real time from that evening, and the
 * test moves it past 07:00 once everything that must wait is waiting.
 */
import { randomUUID } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../functions/ports';
import type { DeliveryReport } from '../../schemas/delivery';
import { startTestHerald, type TestHerald, waitFor } from '../helpers/embedded';

/** Real time, shifted: the handlers live on the test's night, and time still passes for leases and timers. */
class ShiftedClock implements Clock {
  private offsetMs: number;
  constructor(startIso: string) {
    this.offsetMs = Date.parse(startIso) - Date.now();
  }
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  jumpTo(iso: string): void {
    this.offsetMs = Date.parse(iso) - Date.now();
  }
}

const EVENING = '2030-03-30T22:30:00.000Z'; // 23:30 CET
const END_OF_QUIET = '2030-03-31T05:00:00.000Z'; // 07:00 CEST, after the clocks went forward
const QUIET = '+34600000011';
const AWAKE = '+34600000022';
const masked = (phone: string) => `+34•••••••${phone.slice(-2)}`;

let herald: TestHerald;
let clock: ShiftedClock;
beforeAll(async () => {
  clock = new ShiftedClock(EVENING);
  herald = await startTestHerald({ clock, env: { HERALD_TIME_ZONE: 'Europe/Madrid' } });
  for (const [from, body] of [
    [QUIET, 'JOIN eixample'],
    [QUIET, 'QUIET 22-07'],
    [AWAKE, 'JOIN eixample'],
  ])
    expect((await herald.call('POST', '/v1/sandbox/inbound/sms', { body: { from, body } })).status).toBe(200);
});
afterAll(async () => {
  await herald?.cleanup();
});

const draft = (changes: Record<string, unknown> = {}) => ({
  status: 'Actual',
  category: 'Safety',
  event: 'Road closure',
  urgency: 'Expected',
  severity: 'Minor',
  certainty: 'Observed',
  headline: 'Main Street closed on Sunday for the marathon',
  description: 'Main Street is closed between 08:00 and 14:00.',
  language: 'en',
  areas: [{ zone: 'eixample', areaDesc: 'Eixample' }],
  channels: ['sms'],
  ...changes,
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await herald.call('POST', path, {
    role: 'officer',
    body,
    headers: { 'idempotency-key': randomUUID(), ...headers },
  });
  expect(res.status, await res.clone().text()).toBeLessThan(300);
  return (await res.json()) as { id: string; version: number };
}

async function deliveries(alertId: string): Promise<DeliveryReport> {
  const res = await herald.call('GET', `/v1/alerts/${alertId}/deliveries`, { role: 'auditor' });
  expect(res.status).toBe(200);
  return (await res.json()) as DeliveryReport;
}

/** Waits until the alert's receipts say `want` (recipient → version → status). */
function receiptsSay(alertId: string, want: Record<string, Record<number, string>>) {
  return waitFor(
    async () => {
      const report = await deliveries(alertId);
      const ok = Object.entries(want).every(([recipient, versions]) =>
        Object.entries(versions).every(([version, status]) =>
          report.deliveries.some(
            (d) => d.recipient === masked(recipient) && d.version === Number(version) && d.status === status,
          ),
        ),
      );
      return ok ? report : undefined;
    },
    30_000,
    `receipts of ${alertId} to say ${JSON.stringify(want)}`,
  );
}

/** What one resident received for one alert: the versions, oldest first. */
async function received(alertId: string, phone: string): Promise<number[]> {
  const res = await herald.call('GET', `/v1/sandbox/outbox?channel=sms&alertId=${alertId}`);
  const { items } = (await res.json()) as { items: { recipient: string; version: number }[] };
  return items
    .filter((i) => i.recipient === masked(phone))
    .map((i) => i.version)
    .reverse();
}

const receiptOf = (report: DeliveryReport, phone: string, version: number) =>
  report.deliveries.find((d) => d.recipient === masked(phone) && d.version === version);

let minor: string;
let updated: string;
let cancelled: string;

describe('embedded: residents’ quiet hours across the night the clocks go forward', () => {
  it('stores the quiet resident’s window from QUIET 22-07', async () => {
    const resident = await herald.subscribers.findSubscriber('sms', await herald.pii.hash(QUIET));
    expect(resident?.quietHours).toEqual({ from: '22:00', to: '07:00' });
  });

  it('the preview counts who would wait, and until 07:00 summer time', async () => {
    // Act
    const res = await herald.call('POST', '/v1/alerts/preview', { role: 'officer', body: draft() });

    // Assess
    expect(res.status).toBe(200);
    const body = (await res.json()) as { quietHours: unknown };
    expect(body.quietHours).toMatchObject({
      urgent: false,
      deferred: 1,
      until: [{ at: END_OF_QUIET, local: '07:00', count: 1 }],
    });
  });

  it('a Minor alert waits for the quiet resident (deferred until 05:00 UTC) and reaches the other at once', async () => {
    // Act
    minor = (await post('/v1/alerts', draft())).id;

    // Assess
    const report = await receiptsSay(minor, { [QUIET]: { 1: 'deferred' }, [AWAKE]: { 1: 'sent' } });
    expect(receiptOf(report, QUIET, 1)).toMatchObject({ nextAttemptAt: END_OF_QUIET });
    expect(report.totals).toMatchObject({ deferred: 1, sent: 1 });
    expect(await received(minor, QUIET)).toEqual([]);
    expect(await received(minor, AWAKE)).toEqual([1]);
    // The export says the same, with the time it waits for.
    const csv = await (
      await herald.call('GET', `/v1/alerts/${minor}/deliveries?format=csv`, { role: 'auditor' })
    ).text();
    const rows = parseCsv(csv, { columns: true }) as Record<string, string>[];
    // A cell starting with + is written with a leading ' (no spreadsheet runs it as a formula).
    const quietRow = rows.find((r) => r.recipient === `'${masked(QUIET)}`);
    expect(quietRow).toMatchObject({ version: '1', status: 'deferred', nextAttemptAt: END_OF_QUIET });
    // Not everyone has it yet: the alert reads as still going out.
    const alert = await herald.call('GET', `/v1/alerts/${minor}`, { role: 'officer' });
    expect(((await alert.json()) as { state: string }).state).toBe('dispatching');
  });

  it('an Extreme Immediate alert wakes them at once', async () => {
    // Act
    const urgent = (
      await post(
        '/v1/alerts',
        draft({ urgency: 'Immediate', severity: 'Severe', headline: 'Gas leak: stay indoors' }),
      )
    ).id;

    // Assess
    await receiptsSay(urgent, { [QUIET]: { 1: 'sent' }, [AWAKE]: { 1: 'sent' } });
    expect(await received(urgent, QUIET)).toEqual([1]);
  });

  it('an update before 07:00 takes the place of what waited', async () => {
    // Act
    updated = (await post('/v1/alerts', draft({ headline: 'Ring Road closed on Sunday' }))).id;
    await receiptsSay(updated, { [QUIET]: { 1: 'deferred' }, [AWAKE]: { 1: 'sent' } });
    await post(
      `/v1/alerts/${updated}/updates`,
      { headline: 'Ring Road closed on Sunday until 16:00' },
      { 'if-match': '"1"' },
    );

    // Assess: v2 waits for them too, and v1 is superseded (the sweeper releases it early, as replaced)
    const report = await receiptsSay(updated, {
      [QUIET]: { 1: 'superseded', 2: 'deferred' },
      [AWAKE]: { 1: 'sent', 2: 'sent' },
    });
    expect(receiptOf(report, QUIET, 1)?.reason).toMatch(/version 2 replaced it/);
    expect(await received(updated, QUIET)).toEqual([]);
  });

  it('a cancel before 07:00: the quiet resident gets nothing at all, the other gets the cancel', async () => {
    // Act
    cancelled = (await post('/v1/alerts', draft({ headline: 'Parade on Sunday' }))).id;
    await receiptsSay(cancelled, { [QUIET]: { 1: 'deferred' }, [AWAKE]: { 1: 'sent' } });
    await post(`/v1/alerts/${cancelled}/cancel`, { reason: 'the parade is off' });

    // Assess
    const report = await receiptsSay(cancelled, {
      [QUIET]: { 1: 'superseded', 2: 'superseded' },
      [AWAKE]: { 1: 'sent', 2: 'sent' },
    });
    expect(receiptOf(report, QUIET, 2)?.reason).toMatch(/nothing of this alert reached the resident/);
    expect(await received(cancelled, AWAKE)).toEqual([1, 2]);
  });

  it('at 07:00 summer time what still waits goes out, once: the Minor alert and the newest update; nothing cancelled', async () => {
    // Act
    clock.jumpTo(END_OF_QUIET);

    // Assess
    await receiptsSay(minor, { [QUIET]: { 1: 'sent' } });
    await receiptsSay(updated, { [QUIET]: { 1: 'superseded', 2: 'sent' } });
    await herald.sweepNow();
    expect(await received(minor, QUIET)).toEqual([1]);
    expect(await received(updated, QUIET)).toEqual([2]);
    expect(await received(cancelled, QUIET)).toEqual([]);
    const alert = (await (await herald.call('GET', `/v1/alerts/${minor}`, { role: 'officer' })).json()) as {
      state: string;
    };
    expect(alert.state).toBe('sent');
  });
});
