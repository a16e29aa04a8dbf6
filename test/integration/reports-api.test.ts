/**
 * GET /v1/reports through the real router on dynalite, over a month of Herald's life on the agency's clock
 * (Europe/Madrid): residents JOIN and STOP by SMS (signed SNS notifications) on different days, alerts to two zones and
 * to none are created through the API, planned by the real dispatcher and sent by the real subscriber sender against a
 * fake SMS provider (one number always refused), social posts settled as their worker would. The report's figures are
 * checked against numbers worked out by hand and against what the receipts in the table say; the CSV against the
 * JSON; the roles; and a bad query is a 400 naming its field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { compileRoutes, createRouter } from '../../functions/api/router';
import { createSnsVerifier } from '../../functions/api/sns-signature';
import { deliverBulkJob } from '../../functions/channel/bulk';
import { RENDERERS } from '../../functions/channels/renderers';
import type { Receipt } from '../../functions/core/model';
import { dispatchVersion } from '../../functions/dispatch/plan';
import { ProviderError } from '../../functions/ports';
import type { ChannelJob } from '../../schemas/messages';
import type { ReportView } from '../../schemas/reports';
import { ReportView as ReportSchema } from '../../schemas/reports';
import { AUDITOR, draft, OFFICER, parseCsv, SUPERVISOR, settle } from '../helpers/api';
import { BulkRig } from '../helpers/bulk';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { type ApiRequest, apiEvent, sqsRecord } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';
import { type SnsSigner, snsSigner, TOPIC_ARN } from '../helpers/sns';

const TIME_ZONE = 'Europe/Madrid';

let db: DynaliteStore;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
let signer: SnsSigner;
const clock = new ManualClock('2030-10-28T09:00:00.000Z');
const config = testConfig({ timeZone: TIME_ZONE, inboundSmsTopicArn: TOPIC_ARN });
let call: (request: ApiRequest) => Promise<{ status: number; headers: Record<string, string>; text: string }>;
let sender: ReturnType<BulkRig['harness']>;

beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
  signer = await snsSigner();
  const deps: ApiDeps = {
    ...residents,
    store: db.store,
    queue: new RecordingQueue(),
    config,
    clock,
    newId: newUlid,
    logger: new RecordingLogger(),
  };
  const router = createRouter(deps, compileRoutes(), {
    inboundSms: {
      verifier: createSnsVerifier({ fetch: signer.fetchCertificate }),
      confirmSubscription: async () => {},
    },
  });
  call = async (request) => {
    const result = await router(apiEvent(request));
    return { status: result.statusCode ?? 0, headers: result.headers, text: result.body ?? '' };
  };
  sender = new BulkRig(db, residents).harness({ timeZone: TIME_ZONE });
  sender.deps.clock = clock;
  // The sender holds every channel's renderer in this process, as the embedded runtime does.
  sender.deps.renderers = RENDERERS;
  await liveAMonth();
});
afterAll(async () => {
  await db?.close();
});

// ---------------------------------------------------------------- the month

const phones = {
  p1: '+34611000001',
  p2: '+34611000002',
  p3: '+34611000003',
  p4: '+34611000004',
  p5: '+34611000005',
  p6: '+34611000006',
};

async function text(at: string, from: string, body: string): Promise<void> {
  clock.set(at);
  const res = await call({
    method: 'POST',
    path: '/v1/inbound/sms',
    claims: null,
    body: JSON.stringify(signer.inboundSms(from, body)),
    headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
  });
  expect(res.status, res.text).toBe(200);
}

/** Plans a version with the real dispatcher, at the clock's time, and answers the SMS jobs it queued. */
async function plan(alertId: string, version: number): Promise<ChannelJob[]> {
  const queue = new RecordingQueue();
  await dispatchVersion(
    {
      store: db.store,
      subscribers: residents.subscribers,
      queue,
      config,
      clock,
      logger: new RecordingLogger(),
    },
    { alertId, version },
  );
  return queue.bodies<ChannelJob>('channel-sms');
}

/** Sends the SMS jobs at `smsAt` with the real sender, and settles the social posts at `socialAt`. */
async function send(
  alertId: string,
  version: number,
  jobs: ChannelJob[],
  times: { smsAt?: string; socialAt?: string },
) {
  if (times.socialAt) {
    const social = (await db.store.listForAlert(alertId)).filter(
      (r) => r.version === version && r.channel === 'x',
    );
    for (const r of social)
      await settle(db, r, times.socialAt, { status: 'sent', providerMessageId: `x-${newUlid()}` });
  }
  if (times.smsAt) {
    clock.set(times.smsAt);
    for (const job of jobs) await deliverBulkJob(sender.deps, job, sqsRecord(job));
  }
}

async function createAlert(at: string, body: Record<string, unknown>): Promise<string> {
  clock.set(at);
  const res = await call({ method: 'POST', path: '/v1/alerts', body: draft(body), claims: OFFICER });
  expect(res.status, res.text).toBe(201);
  return (JSON.parse(res.text) as { id: string }).id;
}

const ids: Record<string, string> = {};

/**
 * November 2030 in Barcelona (CET, UTC+1 all month). By hand, what the report must say:
 *  gràcia: P1, P2 and P5 join, P4 adds it, P2 and P5 STOP (P6 joined in October: no gain in November);
 *  sants-montjuïc: P3 and P4 join; an officer deletes P3 on the 28th.
 *  A1 (gràcia; SMS and X) on the 6th: P6, P1, P2, P4 by SMS (P1's number is refused) and the X post: 5 recipients,
 *    4 delivered, 1 failed; the last one reached 40 s after the release.
 *  A1 v2 (an update) on the 13th: to whom v1 reached, P6, P2 (STOPped on the 12th: refused) and P4, and X: 4, 3, 1; 90 s.
 *  A5 (no zone; X only) on the 15th: 1, 1, 0; 10 s.
 *  A2 (gràcia and sants-montjuïc; SMS) on the 20th: P6, P1, P4, P3 and P5 once each: 5, 4, 1; 30 s.
 *  An Exercise alert on the 21st and an alert at 00:30 on 1 December (23:30 UTC on the 30th) are not counted.
 */
async function liveAMonth(): Promise<void> {
  await text('2030-10-28T09:00:00.000Z', phones.p6, 'JOIN gracia');
  await text('2030-11-02T09:00:00.000Z', phones.p1, 'JOIN gracia');
  await text('2030-11-03T09:00:00.000Z', phones.p2, 'JOIN gracia');
  await text('2030-11-03T10:00:00.000Z', phones.p3, 'JOIN sants-montjuic');
  await text('2030-11-04T10:00:00.000Z', phones.p4, 'JOIN sants-montjuic');
  await text('2030-11-05T10:00:00.000Z', phones.p4, 'JOIN gracia');
  sender.provider.failures.set(phones.p1, {
    times: 1000,
    error: new ProviderError('permanent', 'the carrier refused the number'),
  });

  ids.a1 = await createAlert('2030-11-06T10:00:00.000Z', {
    areas: [{ zone: 'gracia', areaDesc: 'Gràcia' }],
    channels: ['sms', 'x'],
  });
  await send(ids.a1, 1, await plan(ids.a1, 1), {
    socialAt: '2030-11-06T10:00:05.000Z',
    smsAt: '2030-11-06T10:00:40.000Z',
  });

  await text('2030-11-12T18:00:00.000Z', phones.p2, 'STOP');

  clock.set('2030-11-13T08:00:00.000Z');
  const update = await call({
    method: 'POST',
    path: `/v1/alerts/${ids.a1}/updates`,
    body: { headline: 'The boy was seen near the station' },
    headers: { 'if-match': '"1"' },
    claims: OFFICER,
  });
  expect(update.status, update.text).toBe(201);
  await send(ids.a1, 2, await plan(ids.a1, 2), {
    socialAt: '2030-11-13T08:01:00.000Z',
    smsAt: '2030-11-13T08:01:30.000Z',
  });

  ids.a5 = await createAlert('2030-11-15T10:00:00.000Z', {
    areas: [{ areaDesc: 'The whole city' }],
    channels: ['x'],
  });
  await send(ids.a5, 1, await plan(ids.a5, 1), { socialAt: '2030-11-15T10:00:10.000Z' });

  await text('2030-11-20T08:00:00.000Z', phones.p5, 'JOIN gracia');
  ids.a2 = await createAlert('2030-11-20T12:00:00.000Z', {
    areas: [
      { zone: 'gracia', areaDesc: 'Gràcia' },
      { zone: 'sants-montjuic', areaDesc: 'Sants-Montjuïc' },
    ],
    channels: ['sms'],
  });
  await send(ids.a2, 1, await plan(ids.a2, 1), { smsAt: '2030-11-20T12:00:30.000Z' });

  ids.exercise = await createAlert('2030-11-21T09:00:00.000Z', {
    status: 'Exercise',
    areas: [{ zone: 'sants-montjuic', areaDesc: 'Sants-Montjuïc' }],
    channels: ['x'],
  });
  await send(ids.exercise, 1, await plan(ids.exercise, 1), { socialAt: '2030-11-21T09:00:03.000Z' });

  await text('2030-11-25T20:00:00.000Z', phones.p5, 'STOP');

  clock.set('2030-11-28T10:00:00.000Z');
  const p3 = await residents.subscribers.findSubscriber('sms', await residents.pii.hash(phones.p3));
  const removed = await call({ method: 'DELETE', path: `/v1/subscribers/${p3!.id}`, claims: OFFICER });
  expect(removed.status, removed.text).toBe(204);

  ids.december = await createAlert('2030-11-30T23:30:00.000Z', {
    areas: [{ zone: 'gracia', areaDesc: 'Gràcia' }],
    channels: ['x'],
  });
  await send(ids.december, 1, await plan(ids.december, 1), { socialAt: '2030-11-30T23:30:02.000Z' });
  clock.set('2030-12-02T09:00:00.000Z');
}

async function report(query: string, claims = AUDITOR) {
  const res = await call({ method: 'GET', path: `/v1/reports?${query}`, claims });
  return { ...res, body: res.headers['content-type']?.includes('json') ? JSON.parse(res.text) : undefined };
}

/** What the receipts in the table say about one version, counted here without the report's code. */
async function fromReceipts(alertId: string, version: number) {
  const receipts = (await db.store.listForAlert(alertId)).filter((r: Receipt) => r.version === version);
  const reached = receipts.filter((r) => r.status === 'sent' || r.status === 'delivered');
  const sentTimes = reached.map((r) => Date.parse(r.history.filter((e) => e.status === 'sent').at(-1)!.at));
  const v = await db.store.getVersion(alertId, version);
  return {
    recipients: receipts.filter((r) => r.status !== 'superseded').length,
    delivered: reached.length,
    failed: receipts.filter((r) => r.status === 'failed').length,
    seconds: (Math.max(...sentTimes) - Date.parse(v!.releasedAt!)) / 1000,
  };
}

// ---------------------------------------------------------------- the report

describe('GET /v1/reports over a month', () => {
  it('answers the figures worked out by hand, per zone, per period and in total', async () => {
    // Act
    const res = await report('from=2030-11-01&to=2030-11-30');

    // Assess
    expect(res.status, res.text).toBe(200);
    const body = ReportSchema.parse(res.body) as ReportView;
    expect(body).toMatchObject({
      from: '2030-10-31T23:00:00.000Z',
      to: '2030-11-30T23:00:00.000Z',
      period: 'month',
      timeZone: TIME_ZONE,
    });
    const row = (zone: string) => body.rows.find((r) => r.zone === zone);
    expect(body.rows.map((r) => r.period)).toEqual(Array(body.rows.length).fill('2030-11'));
    expect(body.rows[0]!.zone).toBe('*');
    expect(row('*')).toMatchObject({
      periodStart: '2030-10-31T23:00:00.000Z',
      periodEnd: '2030-11-30T23:00:00.000Z',
      alertsSent: 1,
      updatesSent: 0,
      recipients: 1,
      delivered: 1,
      failed: 0,
      deliveryRate: 1,
      medianSecondsToLastRecipient: 10,
      subscribersGained: 0,
      subscribersLost: 0,
    });
    expect(row('gracia')).toMatchObject({
      zoneName: 'Gràcia',
      alertsSent: 2,
      updatesSent: 1,
      recipients: 14,
      delivered: 11,
      failed: 3,
      deliveryRate: 0.7857,
      medianSecondsToLastRecipient: 40,
      subscribersGained: 4,
      subscribersLost: 2,
    });
    expect(row('sants-montjuic')).toMatchObject({
      alertsSent: 1,
      updatesSent: 0,
      recipients: 5,
      delivered: 4,
      failed: 1,
      deliveryRate: 0.8,
      medianSecondsToLastRecipient: 30,
      subscribersGained: 2,
      subscribersLost: 1,
    });
    // Every other zone of the agency is there, with nothing in it.
    expect(row('eixample')).toMatchObject({
      alertsSent: 0,
      recipients: 0,
      deliveryRate: null,
      subscribersGained: 0,
    });
    expect(body.totals).toEqual({
      alertsSent: 3,
      updatesSent: 1,
      recipients: 15,
      delivered: 12,
      failed: 3,
      deliveryRate: 0.8,
      medianSecondsToLastRecipient: 35,
      subscribersGained: 5,
      subscribersLost: 3,
    });
    expect(body.periods).toEqual([
      {
        period: '2030-11',
        periodStart: row('*')!.periodStart,
        periodEnd: row('*')!.periodEnd,
        ...body.totals,
      },
    ]);
  });

  it('says exactly what the receipts in the table say, version by version', async () => {
    // Prepare
    const a1v1 = await fromReceipts(ids.a1!, 1);
    const a1v2 = await fromReceipts(ids.a1!, 2);
    const a2 = await fromReceipts(ids.a2!, 1);
    const a5 = await fromReceipts(ids.a5!, 1);

    // Act
    const { body } = await report('from=2030-11-01&to=2030-11-30');

    // Assess
    expect([a1v1, a1v2, a5, a2]).toEqual([
      { recipients: 5, delivered: 4, failed: 1, seconds: 40 },
      { recipients: 4, delivered: 3, failed: 1, seconds: 90 },
      { recipients: 1, delivered: 1, failed: 0, seconds: 10 },
      { recipients: 5, delivered: 4, failed: 1, seconds: 30 },
    ]);
    const sum = (key: 'recipients' | 'delivered' | 'failed', list: { [k in typeof key]: number }[]) =>
      list.reduce((n, x) => n + x[key], 0);
    const gracia = body.rows.find((r: { zone: string }) => r.zone === 'gracia');
    for (const key of ['recipients', 'delivered', 'failed'] as const) {
      expect(gracia[key]).toBe(sum(key, [a1v1, a1v2, a2]));
      expect(body.totals[key]).toBe(sum(key, [a1v1, a1v2, a2, a5]));
    }
  });

  it('splits the same month into ISO weeks on the local clock', async () => {
    // Act
    const { status, body } = await report('from=2030-11-01&to=2030-11-30&period=week');

    // Assess
    expect(status).toBe(200);
    const weeks = (body as ReportView).periods;
    expect(weeks.map((w) => w.period)).toEqual(['2030-W44', '2030-W45', '2030-W46', '2030-W47', '2030-W48']);
    expect(weeks[1]).toMatchObject({
      period: '2030-W45',
      periodStart: '2030-11-03T23:00:00.000Z',
      alertsSent: 1,
      recipients: 5,
      subscribersGained: 1,
    });
    expect(weeks.map((w) => w.alertsSent)).toEqual([0, 1, 1, 1, 0]);
    expect(weeks.map((w) => w.updatesSent)).toEqual([0, 0, 1, 0, 0]);
    expect(weeks.map((w) => [w.subscribersGained, w.subscribersLost])).toEqual([
      // P1, P2 and P3 (P6 joined in October); P4; P2 stops; P5 joins; P5 stops and P3 is deleted. P4 adding Gràcia
      // is no new subscriber.
      [3, 0],
      [1, 0],
      [0, 1],
      [1, 0],
      [0, 2],
    ]);
    expect(weeks.reduce((n, w) => n + w.recipients, 0)).toBe(15);
  });

  it('exports the same rows as CSV, an attachment, every cell as the JSON has it', async () => {
    // Act
    const json = await report('from=2030-11-01&to=2030-11-30');
    const csv = await report('from=2030-11-01&to=2030-11-30&format=csv');

    // Assess
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(csv.headers['content-disposition']).toBe(
      'attachment; filename="herald-report-2030-11-to-2030-11.csv"',
    );
    const [header, ...lines] = parseCsv(csv.text);
    expect(header!.slice(0, 5)).toEqual(['period', 'periodStart', 'periodEnd', 'zone', 'zoneName']);
    expect(lines).toHaveLength(json.body.rows.length);
    const asCells = (row: Record<string, unknown>) =>
      header!.map((column) => (row[column] === null ? '' : String(row[column])));
    expect(lines).toEqual(json.body.rows.map(asCells));
  });
});

describe('GET /v1/reports: who may ask, and what', () => {
  it('answers supervisors and auditors, refuses officers (403) and anyone without a token (401)', async () => {
    // Act
    const supervisor = await report('from=2030-11-01&to=2030-11-30', SUPERVISOR);
    const officer = await report('from=2030-11-01&to=2030-11-30', OFFICER);
    const anonymous = await call({
      method: 'GET',
      path: '/v1/reports?from=2030-11-01&to=2030-11-30',
      claims: null,
    });

    // Assess
    expect(supervisor.status).toBe(200);
    expect(officer.status).toBe(403);
    expect(officer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(anonymous.status).toBe(401);
  });

  it.each([
    ['from=2030-13-01&to=2030-11-30', '/query/from'],
    ['from=2030-11-01', '/query/to'],
    ['from=2030-11-30&to=2030-11-01', '/query/to'],
    ['from=2029-01-01&to=2030-11-30', '/query/to'],
    ['from=2030-11-01T00:00:00&to=2030-11-30', '/query/from'],
    ['from=2030-11-01&to=2030-11-30&period=day', '/query/period'],
    ['from=2030-11-01&to=2030-11-30&format=xlsx', '/query/format'],
    ['from=2030-11-01&to=2030-11-30&zone=gracia', '/query/zone'],
  ])('answers %s with a 400 problem naming %s', async (query, path) => {
    // Act
    const res = await report(query);

    // Assess
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([{ path, message: expect.any(String) }]);
  });
});
