/**
 * What the receipts of an alert say to an auditor, through createRouter against DynamoStore on dynalite: the
 * deliveries listing in JSON and CSV (who each receipt is for without an address in clear, every try with its time
 * and reason, possible duplicates, sandbox receipts). The audit trail is in api-audit.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Receipt } from '../../functions/core/model';
import { AUDITOR, apiHarness, draft, parseCsv, settle } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { newUlid } from '../helpers/fakes';
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

const COLUMNS_BEFORE = [
  'version',
  'channel',
  'recipient',
  'status',
  'attempts',
  'providerMessageId',
  'reason',
  'nextAttemptAt',
  'updatedAt',
];
const COLUMNS_ADDED = [
  'subscriberId',
  'name',
  'webhookId',
  'outcomeUnknown',
  'possibleDuplicate',
  'sandbox',
  'attemptTimes',
  'failures',
];

describe('GET /v1/alerts/{id}/deliveries', () => {
  const SMS = '+34612345678';
  const EMAIL = 'news.desk@example.org';
  const FORMULA = '=HYPERLINK("http://evil.example","click"), then more';

  async function alertWithDeliveries() {
    const h = harness('2030-06-01T08:00:00.000Z');
    const id = await h.create(draft({ channels: ['x', 'facebook', 'sms', 'email'] }));
    await h.dispatch(id, 1);
    await db.store.createReceipts(
      [
        { alertId: id, version: 1, channel: 'sms', recipient: SMS },
        { alertId: id, version: 1, channel: 'email', recipient: EMAIL },
      ],
      '2030-06-01T08:00:01.000Z',
    );
    await settle(
      db,
      { alertId: id, version: 1, channel: 'x', recipient: '@agency' },
      '2030-06-01T08:00:02.000Z',
      {
        status: 'sent',
        providerMessageId: '1790000000000000001',
      },
    );
    await settle(
      db,
      { alertId: id, version: 1, channel: 'sms', recipient: SMS },
      '2030-06-01T08:00:03.000Z',
      {
        status: 'failed',
        reason: FORMULA,
      },
    );
    await settle(
      db,
      { alertId: id, version: 1, channel: 'email', recipient: EMAIL },
      '2030-06-01T08:00:04.000Z',
      {
        status: 'retrying',
        reason: '421 try later\nsecond line',
        nextAttemptAt: '2030-06-01T08:05:00.000Z',
      },
    );
    return { ...h, id };
  }

  it('answers totals per status and every receipt, phone numbers and addresses masked', async () => {
    // Prepare
    const { call, id } = await alertWithDeliveries();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${id}/deliveries`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.totals).toEqual({ sent: 1, failed: 1, retrying: 1, queued: 1 });
    const deliveries = res.body.deliveries as Record<string, unknown>[];
    expect(deliveries).toHaveLength(4);
    expect(deliveries).toContainEqual({
      version: 1,
      channel: 'x',
      recipient: '@agency',
      status: 'sent',
      attempts: 1,
      providerMessageId: '1790000000000000001',
      attemptLog: [
        { at: '2030-06-01T08:00:00.000Z', status: 'queued', attempt: 0 },
        { at: '2030-06-01T08:00:02.000Z', status: 'sent', attempt: 1 },
      ],
      updatedAt: '2030-06-01T08:00:02.000Z',
    });
    expect(deliveries).toContainEqual(
      expect.objectContaining({
        channel: 'sms',
        recipient: '+34•••••••78',
        status: 'failed',
        reason: FORMULA,
      }),
    );
    expect(deliveries).toContainEqual(
      expect.objectContaining({
        channel: 'email',
        recipient: 'n•••@e•••.org',
        status: 'retrying',
        nextAttemptAt: '2030-06-01T08:05:00.000Z',
      }),
    );
    expect(deliveries).toContainEqual(
      expect.objectContaining({ channel: 'facebook', status: 'queued', attempts: 0 }),
    );
    expect(res.text).not.toContain(SMS);
    expect(res.text).not.toContain(EMAIL);
  });

  it('filters by status and channel, and totals what it shows', async () => {
    // Prepare
    const { call, id } = await alertWithDeliveries();

    // Act
    const sent = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?status=sent`,
      claims: AUDITOR,
    });
    const sms = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?channel=sms&version=1`,
      claims: AUDITOR,
    });

    // Assess
    expect(sent.body.totals).toEqual({ sent: 1 });
    expect(sms.body.totals).toEqual({ failed: 1 });
  });

  it('exports CSV: a header row, RFC 4180 quoting, and no cell a spreadsheet would run as a formula', async () => {
    // Prepare
    const { call, id } = await alertWithDeliveries();

    // Act
    const res = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?format=csv`,
      claims: AUDITOR,
    });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="deliveries-${id}.csv"`);
    expect(res.text.endsWith('\r\n')).toBe(true);
    const rows = parseCsv(res.text);
    // The columns the export always had keep their places; the new ones follow.
    expect(rows[0]).toEqual([...COLUMNS_BEFORE, ...COLUMNS_ADDED]);
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row).toHaveLength(COLUMNS_BEFORE.length + COLUMNS_ADDED.length);
    const byChannel = Object.fromEntries(rows.slice(1).map((r) => [r[1], r]));
    expect(byChannel.sms?.[6]).toBe(`'${FORMULA}`);
    expect(byChannel.email?.[6]).toBe('421 try later\nsecond line');
    expect(byChannel.x?.[5]).toBe('1790000000000000001');
    for (const cell of rows.flat()) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(res.text).not.toContain(SMS);
  });

  it('refuses an unknown format with 400', async () => {
    // Prepare
    const { call, create } = harness();
    const id = await create();

    // Act
    const res = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?format=xlsx`,
      claims: AUDITOR,
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toEqual(['/query/format']);
  });

  it('answers 404 for an unknown alert', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${newUlid()}/deliveries`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(404);
  });
});

describe('GET /v1/alerts/{id}/deliveries: who each receipt is for, and every try', () => {
  const PHONE = '+34699001122';
  const HOOK = 'https://hooks.example.org/…';
  const at = (s: number) => `2030-06-02T08:00:${String(s).padStart(2, '0')}.000Z`;
  const ids = {
    nord: newUlid(),
    formula: newUlid(),
    est: newUlid(),
    sud: newUlid(),
    resident: newUlid(),
    unknown: newUlid(),
  };

  /** Receipts as the bulk sender writes them: keyed by subscriber id, the masked address and outlet name beside. */
  async function alertWithSubscriberReceipts() {
    const h = harness('2030-06-02T08:00:00.000Z');
    const id = await h.create(draft({ channels: ['webhook', 'sms', 'email'] }));
    await h.dispatch(id, 1);
    const receipt = (r: Partial<Receipt> & Pick<Receipt, 'channel' | 'recipient' | 'status'>): Receipt => ({
      alertId: id,
      version: 1,
      attempts: r.history?.filter((e) => e.attempt > 0).length ?? 1,
      createdAt: at(1),
      updatedAt: at(9),
      history: [],
      ...r,
    });
    const hook500 = 'https://hooks.example.org/…: HTTP 500';
    await db.store.putReceipts([
      receipt({
        channel: 'webhook',
        recipient: ids.nord,
        recipientMasked: HOOK,
        recipientName: 'Diari Nord',
        status: 'sent',
        providerMessageId: 'msg_nord',
        history: [{ at: at(1), actor: 'channel:webhook', status: 'sent', attempt: 1 }],
      }),
      receipt({
        channel: 'webhook',
        recipient: ids.formula,
        recipientMasked: HOOK,
        recipientName: '=Formula, Weekly',
        status: 'failed',
        reason: 'https://hooks.example.org/…: endpoint gone (410)',
        history: [
          {
            at: at(1),
            actor: 'channel:webhook',
            status: 'failed',
            attempt: 1,
            reason: 'https://hooks.example.org/…: endpoint gone (410)',
          },
        ],
      }),
      receipt({
        channel: 'webhook',
        recipient: ids.est,
        recipientMasked: HOOK,
        recipientName: 'TV Est',
        status: 'failed',
        reason: `gave up after 2 receives: ${hook500}`,
        retryable: true,
        history: [
          { at: at(1), actor: 'channel:webhook', status: 'retrying', attempt: 1, reason: hook500 },
          { at: at(2), actor: 'channel:webhook', status: 'retrying', attempt: 2, reason: hook500 },
          {
            at: at(7),
            actor: 'channel:webhook',
            status: 'failed',
            attempt: 3,
            reason: `gave up after 2 receives: ${hook500}`,
          },
        ],
      }),
      receipt({
        channel: 'webhook',
        recipient: ids.sud,
        recipientMasked: HOOK,
        recipientName: 'Ràdio Sud',
        status: 'sent',
        possibleDuplicate: true,
        providerMessageId: 'msg_sud',
        history: [
          {
            at: at(1),
            actor: 'channel:webhook',
            status: 'unknown',
            attempt: 1,
            reason: 'the sender stopped before it recorded the outcome of this attempt',
          },
          { at: at(8), actor: 'channel:webhook', status: 'sent', attempt: 2 },
        ],
      }),
      receipt({
        channel: 'sms',
        recipient: ids.resident,
        recipientMasked: '+34•••••••22',
        status: 'sent',
        sandbox: true,
        providerMessageId: 'sbx-sms-1',
        history: [{ at: at(3), actor: 'channel:sms', status: 'sent', attempt: 1 }],
      }),
      receipt({
        channel: 'email',
        recipient: ids.unknown,
        recipientMasked: 'n•••@e•••.org',
        recipientName: 'Newsroom',
        status: 'unknown',
        outcomeUnknown: true,
        reason: 'timed out',
        history: [{ at: at(4), actor: 'channel:email', status: 'unknown', attempt: 1, reason: 'timed out' }],
      }),
      // Written before receipts were keyed by subscriber id: its key is the number itself, never to be shown.
      receipt({
        channel: 'sms',
        recipient: PHONE,
        status: 'sent',
        history: [{ at: at(5), actor: 'channel:sms', status: 'sent', attempt: 1 }],
      }),
    ]);
    return { ...h, id };
  }

  it('names each subscriber by id, each outlet by name and webhook, with every try and its reason', async () => {
    // Prepare
    const { call, id } = await alertWithSubscriberReceipts();

    // Act
    const res = await call({ method: 'GET', path: `/v1/alerts/${id}/deliveries`, claims: AUDITOR });

    // Assess
    expect(res.status).toBe(200);
    const deliveries = res.body.deliveries as Record<string, unknown>[];
    const byName = (name: string) => deliveries.find((d) => d.name === name);
    expect(byName('Diari Nord')).toMatchObject({
      channel: 'webhook',
      recipient: HOOK,
      subscriberId: ids.nord,
      webhookId: ids.nord,
      status: 'sent',
      attempts: 1,
    });
    expect(byName('TV Est')).toMatchObject({
      status: 'failed',
      attempts: 3,
      webhookId: ids.est,
      attemptLog: [
        { at: at(1), status: 'retrying', attempt: 1, reason: 'https://hooks.example.org/…: HTTP 500' },
        { at: at(2), status: 'retrying', attempt: 2, reason: 'https://hooks.example.org/…: HTTP 500' },
        {
          at: at(7),
          status: 'failed',
          attempt: 3,
          reason: 'gave up after 2 receives: https://hooks.example.org/…: HTTP 500',
        },
      ],
    });
    expect(byName('Ràdio Sud')).toMatchObject({ status: 'sent', attempts: 2, possibleDuplicate: true });
    expect(byName('Newsroom')).toMatchObject({
      channel: 'email',
      outcomeUnknown: true,
      subscriberId: ids.unknown,
    });
    expect(byName('Newsroom')).not.toHaveProperty('webhookId');
    const resident = deliveries.find((d) => d.subscriberId === ids.resident);
    expect(resident).toMatchObject({ channel: 'sms', recipient: '+34•••••••22', sandbox: true });
    expect(resident).not.toHaveProperty('name');
    expect(byName('Diari Nord')).not.toHaveProperty('sandbox');
    expect(byName('Diari Nord')).not.toHaveProperty('possibleDuplicate');
    // The older receipt keyed by the number: masked, and no id that would be the number in clear
    const older = deliveries.find((d) => d.recipient === '+34•••••••22' && d !== resident);
    expect(older).toMatchObject({ channel: 'sms', status: 'sent' });
    expect(older).not.toHaveProperty('subscriberId');
    expect(res.text).not.toContain(PHONE);
  });

  it('exports the same in CSV: names escaped, tries flattened, flags as true', async () => {
    // Prepare
    const { call, id } = await alertWithSubscriberReceipts();

    // Act
    const res = await call({
      method: 'GET',
      path: `/v1/alerts/${id}/deliveries?format=csv`,
      claims: AUDITOR,
    });

    // Assess
    const [head, ...rows] = parseCsv(res.text);
    const named = rows.map((r) => Object.fromEntries(head!.map((c, i) => [c, r[i]])));
    const byName = (name: string) => named.find((r) => r.name === name);
    // A name a spreadsheet would run as a formula is quoted; its comma does not split the cell
    expect(byName("'=Formula, Weekly")).toMatchObject({
      webhookId: ids.formula,
      status: 'failed',
      failures: `attempt 1 at ${at(1)}: https://hooks.example.org/…: endpoint gone (410)`,
    });
    expect(byName('TV Est')).toMatchObject({
      subscriberId: ids.est,
      attempts: '3',
      attemptTimes: `${at(1)} ${at(2)} ${at(7)}`,
      failures: [
        `attempt 1 at ${at(1)}: https://hooks.example.org/…: HTTP 500`,
        `attempt 2 at ${at(2)}: https://hooks.example.org/…: HTTP 500`,
        `attempt 3 at ${at(7)}: gave up after 2 receives: https://hooks.example.org/…: HTTP 500`,
      ].join(' | '),
      sandbox: '',
      possibleDuplicate: '',
    });
    expect(byName('Ràdio Sud')).toMatchObject({
      possibleDuplicate: 'true',
      attemptTimes: `${at(1)} ${at(8)}`,
      failures: `attempt 1 at ${at(1)}: the sender stopped before it recorded the outcome of this attempt`,
    });
    expect(byName('Newsroom')).toMatchObject({ outcomeUnknown: 'true', webhookId: '' });
    expect(named.find((r) => r.subscriberId === ids.resident)).toMatchObject({ sandbox: 'true', name: '' });
    expect(res.text).not.toContain(PHONE);
  });

  it('says sandbox while a sandbox made the last attempt, and keeps which attempt it was once a real one follows', async () => {
    // Prepare: the sandbox's attempt is retried by a real provider (a restart with credentials)
    const h = harness('2030-06-03T08:00:00.000Z');
    const id = await h.create(draft({ channels: ['x'] }));
    await h.dispatch(id, 1);
    const key = { alertId: id, version: 1, channel: 'x' as const, recipient: '@agency' };
    await settle(db, key, '2030-06-03T08:00:01.000Z', {
      status: 'retrying',
      reason: 'HTTP 503',
      nextAttemptAt: '2030-06-03T08:00:02.000Z',
      sandbox: true,
    });
    const during = await db.store.get(key);

    // Act
    await settle(db, key, '2030-06-03T08:00:05.000Z', { status: 'sent', providerMessageId: 'x-1' });

    // Assess
    expect(during).toMatchObject({ status: 'retrying', sandbox: true });
    const after = await db.store.get(key);
    expect(after).toMatchObject({ status: 'sent' });
    expect(after).not.toHaveProperty('sandbox');
    expect(after?.history.map((e) => [e.status, e.sandbox === true])).toEqual([
      ['queued', false],
      ['retrying', true],
      ['sent', false],
    ]);
  });
});
