/**
 * Tips through createRouter against the real stores on dynalite: texts (signed SNS notifications) and the web form
 * become tips, officers read, answer, assign, close and reopen them, every step audited with its actor; and no
 * answer, log line or audit entry ever holds a tipster's number or address. Each test has a table of its own, so
 * listings and counts are exactly what the test made.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { compileRoutes, createRouter } from '../../functions/api/router';
import { createSnsVerifier } from '../../functions/api/sns-signature';
import type { Receipt } from '../../functions/core/model';
import type { Notice, Notifier } from '../../functions/ports';
import { ProviderError } from '../../functions/ports';
import { type Answer, AUDITOR, draft, OFFICER, SUPERVISOR } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { type ApiRequest, apiEvent } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { RecordingNotifier, residentsDeps } from '../helpers/residents';
import { type SnsSigner, snsSigner, TOPIC_ARN } from '../helpers/sns';

const PHONE = '+34611223344';
const EMAIL = 'testimoni.anonima@example.org';
/** What would give a tipster away: the number with and without its country code, the address and its name. */
const NEEDLES = [PHONE, PHONE.slice(3), '611 22 33 44', EMAIL, EMAIL.split('@')[0]!];

let signer: SnsSigner | undefined;
const open: DynaliteStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

async function harness(options: { notifier?: Notifier; now?: string } = {}) {
  signer ??= await snsSigner();
  const sns = signer;
  const db = await startDynaliteStore();
  open.push(db);
  const residents = await residentsDeps(db);
  const clock = new ManualClock(options.now ?? '2030-03-04T10:00:00.000Z');
  const logger = new RecordingLogger();
  const notifier = options.notifier ?? new RecordingNotifier();
  const deps: ApiDeps = {
    ...residents,
    notifier,
    store: db.store,
    queue: new RecordingQueue(),
    config: testConfig({ agencyName: 'Guàrdia Urbana', inboundSmsTopicArn: TOPIC_ARN }),
    clock,
    newId: newUlid,
    logger,
  };
  const router = createRouter(deps, compileRoutes(), {
    inboundSms: {
      verifier: createSnsVerifier({ fetch: sns.fetchCertificate }),
      confirmSubscription: async () => undefined,
    },
  });
  const answers: string[] = [];
  const call = async (request: ApiRequest & { ip?: string }): Promise<Answer> => {
    const event = apiEvent(request);
    if (request.ip) event.requestContext.http.sourceIp = request.ip;
    const result = await router(event);
    const text = result.body ?? '';
    answers.push(`${result.statusCode} ${JSON.stringify(result.headers)} ${text}`);
    return {
      status: result.statusCode ?? 0,
      headers: result.headers,
      text,
      body: /json/.test(result.headers['content-type'] ?? '') && text ? JSON.parse(text) : {},
    };
  };
  const postEnvelope = (envelope: unknown) =>
    call({
      method: 'POST',
      path: '/v1/inbound/sms',
      claims: null,
      body: JSON.stringify(envelope),
      headers: { 'content-type': 'text/plain; charset=UTF-8' },
    });
  const text = (from: string, body: string) => postEnvelope(sns.inboundSms(from, body));
  const tip = (body: unknown, ip = '198.51.100.7', headers: Record<string, string> = {}) =>
    call({ method: 'POST', path: '/v1/tips', claims: null, body, ip, headers });
  const list = async (query = '', claims = OFFICER) =>
    (await call({ method: 'GET', path: `/v1/tips${query}`, claims })).body as {
      items: Record<string, unknown>[];
      cursor?: string;
    };
  const alert = async (changes: Record<string, unknown> = {}) => {
    const res = await call({ method: 'POST', path: '/v1/alerts', body: draft(changes), claims: OFFICER });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  /** What the SMS sender records once it has texted a subscriber the alert. */
  const texted = async (alertId: string, subscriberId: string, at: string, version = 1) => {
    const receipt: Receipt = {
      alertId,
      version,
      channel: 'sms',
      recipient: subscriberId,
      recipientMasked: '+34•••••••44',
      status: 'sent',
      attempts: 1,
      providerMessageId: `sms-${newUlid()}`,
      createdAt: at,
      updatedAt: at,
      history: [{ at, actor: 'channel:sms', status: 'sent', attempt: 1 }],
    };
    await db.store.putReceipts([receipt]);
  };
  const notices = () => (notifier as RecordingNotifier).sent as Notice[];
  /** Every answer and log line so far, for the anonymity checks. */
  const everything = () => [...answers, ...logger.lines.map((l) => JSON.stringify(l))].join('\n');
  return {
    db,
    deps,
    residents,
    clock,
    logger,
    notifier,
    call,
    text,
    postEnvelope,
    tip,
    list,
    alert,
    texted,
    notices,
    everything,
    sns,
  };
}

const expectNoContact = (shown: string) => {
  for (const needle of NEEDLES) expect(shown).not.toContain(needle);
};

// ---------------------------------------------------------------- texts

describe('texts that are tips', () => {
  it("links a subscriber's text to the latest alert texted to them within 72 h and acknowledges it in their language", async () => {
    // Prepare
    const h = await harness();
    await h.text(PHONE, 'ALTA eixample');
    const subscriber = await h.residents.subscribers.findSubscriber('sms', await h.residents.pii.hash(PHONE));
    const old = await h.alert({ headline: 'Four days ago' });
    await h.texted(old, subscriber!.id, '2030-03-04T10:00:01.000Z');
    h.clock.advance(4 * 86_400_000);
    const earlier = await h.alert({ headline: 'Earlier today' });
    await h.texted(earlier, subscriber!.id, '2030-03-08T09:00:00.000Z');
    const latest = await h.alert({ headline: 'An hour ago' });
    await h.texted(latest, subscriber!.id, '2030-03-08T09:30:00.000Z');
    await h.alert({ headline: 'Not texted to them', channels: ['x'] });

    // Act
    const res = await h.text(PHONE, 'La he visto en la estación');

    // Assess
    expect(res.status).toBe(200);
    expect(res.body.keyword).toBe('tip');
    const [item] = (await h.list()).items;
    expect(item).toMatchObject({
      alertId: latest,
      source: 'sms',
      text: 'La he visto en la estación',
      state: 'open',
      replyBy: 'sms',
      from: expect.stringMatching(/^Tipster [0-9A-HJKMNP-TV-Z]{4}$/),
      reference: expect.stringMatching(/^T-[0-9A-HJKMNP-TV-Z]{4}$/),
    });
    expect(h.notices().at(-1)?.text).toBe(
      `Guàrdia Urbana: gracias, hemos recibido tu aviso (ref. ${item!.reference}). Un agente puede responderte por aquí.`,
    );
    expectNoContact(h.everything());
  });

  it('keeps a text from a number that never subscribed as a tip about no alert', async () => {
    // Prepare
    const h = await harness();
    await h.alert();

    // Act
    const res = await h.text(PHONE, 'TIP white van outside number 12');

    // Assess
    expect(res.body.keyword).toBe('tip');
    const { items } = await h.list();
    expect(items).toHaveLength(1);
    expect(items[0]!.alertId).toBeUndefined();
    expect(items[0]!.text).toBe('white van outside number 12');
    expect(h.notices().at(-1)?.text).toMatch(
      /^Guàrdia Urbana: thank you, we have received your tip \(ref\. T-/,
    );
  });

  it('gives the same alias to every tip from one number, and another to another number', async () => {
    // Prepare
    const h = await harness();

    // Act
    await h.text(PHONE, 'first');
    await h.text(PHONE, 'second');
    await h.text('+34622334455', 'third');

    // Assess
    const { items } = await h.list();
    const [third, second, first] = items.map((i) => i.from);
    expect(second).toBe(first);
    expect(third).not.toBe(first);
  });

  it('answers TIP with no text with how to send one, and stores nothing', async () => {
    // Prepare
    const h = await harness();

    // Act
    const res = await h.text(PHONE, 'TIP');

    // Assess
    expect(res.body).toMatchObject({ status: 'ok', keyword: 'tip' });
    expect((await h.list()).items).toEqual([]);
    expect(h.notices().at(-1)?.text).toMatch(/reply TIP and what you saw or know/);
  });

  it.each(['STOP', 'stop, I saw nothing', 'HELP', 'JOIN eixample', 'START'])(
    'never stores the keyword text %j as a tip',
    async (body) => {
      // Prepare
      const h = await harness();

      // Act
      const res = await h.text(PHONE, body);

      // Assess
      expect(res.body.keyword).not.toBe('tip');
      expect((await h.list()).items).toEqual([]);
    },
  );

  it('stores a text SNS delivers twice as one tip, acknowledged once', async () => {
    // Prepare
    const h = await harness();
    const envelope = h.sns.inboundSms(PHONE, 'the man had a red cap');

    // Act
    await h.postEnvelope(envelope);
    await h.postEnvelope(envelope);

    // Assess
    expect((await h.list()).items).toHaveLength(1);
    expect(h.notices().filter((n) => /received your tip/.test(n.text))).toHaveLength(1);
  });
});

// ---------------------------------------------------------------- the web form

describe('POST /v1/tips', () => {
  it('stores a tip about a public alert and answers 202 with its id and reference', async () => {
    // Prepare
    const h = await harness();
    const alertId = await h.alert();

    // Act
    const res = await h.tip({
      text: 'I saw the boy by the fish market',
      alertId,
      contact: { channel: 'email', address: EMAIL },
    });

    // Assess
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ id: expect.any(String), reference: expect.stringMatching(/^T-/) });
    const { items } = await h.list(`?alertId=${alertId}`);
    expect(items).toEqual([
      expect.objectContaining({
        id: res.body.id,
        source: 'web',
        replyBy: 'email',
        from: expect.stringMatching(/^Tipster /),
        messageCount: 1,
        messages: [expect.objectContaining({ direction: 'in', text: 'I saw the boy by the fish market' })],
      }),
    ]);
    expectNoContact(h.everything());
  });

  it('replays a tip sent again with the same Idempotency-Key instead of storing it twice', async () => {
    // Prepare
    const h = await harness();
    const key = { 'idempotency-key': 'tip-form-1' };

    // Act
    const first = await h.tip({ text: 'Blue car, plate ends 42' }, '198.51.100.9', key);
    const again = await h.tip({ text: 'Blue car, plate ends 42' }, '198.51.100.9', key);

    // Assess
    expect(again.body).toEqual(first.body);
    expect((await h.list()).items).toHaveLength(1);
    expect((await h.list()).items[0]!.from).toBe('Anonymous');
  });

  it.each([
    ['an oversized text', { text: 'x'.repeat(2001) }, 400, '/text'],
    ['an empty text', { text: '' }, 400, '/text'],
    ['a text of spaces and invisible characters', { text: ' \u200B\u00A0\u2060\uFEFF ' }, 400, '/text'],
    ['a control character', { text: 'hi\u0007there' }, 400, '/text'],
    ['no text', { alertId: '01JTESTTESTTESTTESTTESTTES' }, 400, '/text'],
    ['an unknown field', { text: 'hello', phone: '+34611223344' }, 400, '/phone'],
    [
      'a contact that is no phone number',
      { text: 'hello', contact: { channel: 'sms', address: '12345' } },
      400,
      '/contact/address',
    ],
    [
      'a contact channel that is not sms or email',
      { text: 'hello', contact: { channel: 'x', address: '@me' } },
      400,
      '/contact/channel',
    ],
    ['an alert id of the wrong shape', { text: 'hello', alertId: 'nope' }, 400, '/alertId'],
    ['an alert nobody knows', { text: 'hello', alertId: '01JTESTTESTTESTTESTTESTTES' }, 422, '/alertId'],
  ])(
    'refuses %s with problem+json naming the field, and stores nothing',
    async (_case, body, status, path) => {
      // Prepare
      const h = await harness();

      // Act
      const res = await h.tip(body);

      // Assess
      expect(res.status).toBe(status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.errors?.map((e) => e.path)).toContain(path);
      expect((await h.list()).items).toEqual([]);
      expectNoContact(h.everything());
    },
  );

  it('refuses a tip about an exercise: the public never saw it', async () => {
    // Prepare
    const h = await harness();
    const exercise = await h.alert({ status: 'Exercise' });

    // Act
    const res = await h.tip({ text: 'hello', alertId: exercise });

    // Assess
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([{ path: '/alertId', message: expect.any(String) }]);
  });

  it('takes 10 tips an hour from one client: the 11th is 429 with Retry-After, and is not stored', async () => {
    // Prepare
    const h = await harness();
    for (let i = 0; i < 10; i++)
      expect((await h.tip({ text: `flood ${i}` }, '203.0.113.50')).status).toBe(202);

    // Act
    const refused = await h.tip({ text: 'flood 10' }, '203.0.113.50');
    const otherClient = await h.tip({ text: 'a real witness' }, '203.0.113.51');

    // Assess
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(otherClient.status).toBe(202);
    const { items } = await h.list('?limit=100');
    expect(items).toHaveLength(11);
    expect(items.map((i) => i.text)).not.toContain('flood 10');
  });

  it('takes 5 tips an hour naming one contact, from any number of clients', async () => {
    // Prepare
    const h = await harness();
    const contact = { channel: 'sms', address: '+34 611 22 33 44' };
    for (let i = 0; i < 5; i++)
      expect((await h.tip({ text: `tip ${i}`, contact }, `203.0.113.${60 + i}`)).status).toBe(202);

    // Act
    const refused = await h.tip({ text: 'tip 5', contact }, '203.0.113.70');

    // Assess
    expect(refused.status).toBe(429);
    expect((await h.list()).items).toHaveLength(5);
    expectNoContact(h.everything());
  });
});

// ---------------------------------------------------------------- officers

describe('officers on the inbox', () => {
  it('reads a tip by id or reference with its thread, each read audited with its reader', async () => {
    // Prepare
    const h = await harness();
    const { body } = await h.tip({
      text: 'Seen at the bus stop',
      contact: { channel: 'email', address: EMAIL },
    });

    // Act
    const byId = await h.call({ method: 'GET', path: `/v1/tips/${body.id}`, claims: OFFICER });
    const byReference = await h.call({ method: 'GET', path: `/v1/tips/${body.reference}`, claims: AUDITOR });
    const audit = await h.call({ method: 'GET', path: `/v1/tips/${body.id}/audit`, claims: AUDITOR });
    const unknown = await h.call({ method: 'GET', path: '/v1/tips/T-0000', claims: OFFICER });

    // Assess
    expect(byId.status).toBe(200);
    expect(byReference.body).toEqual(byId.body);
    expect(byId.body).toMatchObject({ reference: body.reference, state: 'open', messageCount: 1 });
    expect(audit.body.entries).toEqual([
      expect.objectContaining({ actor: 'resident', action: 'tip.received' }),
      expect.objectContaining({ actor: 'officer-1', action: 'tip.read' }),
      expect.objectContaining({ actor: 'auditor-1', action: 'tip.read' }),
    ]);
    expect(unknown.status).toBe(404);
    expectNoContact(h.everything());
  });

  it('answers a texted tip by SMS from the agency, with its reference, and records it in the thread', async () => {
    // Prepare
    const h = await harness();
    await h.text(PHONE, 'I saw her at the station');
    const [tip] = (await h.list()).items;

    // Act
    const res = await h.call({
      method: 'POST',
      path: `/v1/tips/${tip!.id}/replies`,
      body: { text: 'Thank you. Which station?' },
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(201);
    expect(h.notices().at(-1)).toEqual({
      channel: 'sms',
      address: PHONE,
      kind: 'keyword-reply',
      text: `Guàrdia Urbana (${tip!.reference}): Thank you. Which station?`,
    });
    expect(res.body.messages).toEqual([
      expect.objectContaining({ direction: 'in', text: 'I saw her at the station' }),
      expect.objectContaining({
        direction: 'out',
        text: 'Thank you. Which station?',
        author: 'officer-1',
        status: 'sent',
      }),
    ]);
    const audit = await h.call({ method: 'GET', path: `/v1/tips/${tip!.id}/audit`, claims: SUPERVISOR });
    expect(audit.body.entries).toContainEqual(
      expect.objectContaining({ actor: 'officer-1', action: 'tip.replied', detail: 'by sms: sent' }),
    );
    expectNoContact(h.everything());
  });

  it('answers a web tip by email when the tipster left an address, framed in their language', async () => {
    // Prepare
    const h = await harness();
    const { body } = await h.tip({
      text: 'Hola',
      contact: { channel: 'email', address: EMAIL },
      language: 'ca',
    });

    // Act
    const res = await h.call({
      method: 'POST',
      path: `/v1/tips/${body.id}/replies`,
      body: { text: 'Gràcies!' },
      claims: SUPERVISOR,
    });

    // Assess
    expect(res.status).toBe(201);
    expect(h.notices().at(-1)).toMatchObject({
      channel: 'email',
      address: EMAIL,
      subject: `Guàrdia Urbana: sobre el teu avís ${body.reference}`,
      text: `Guàrdia Urbana (${body.reference}): Gràcies!`,
    });
  });

  it('refuses to answer with 409 a web tip that left no contact, and a closed tip', async () => {
    // Prepare
    const h = await harness();
    const anonymous = (await h.tip({ text: 'no contact' })).body;
    const withContact = (
      await h.tip({ text: 'contact', contact: { channel: 'sms', address: PHONE } }, '198.51.100.8')
    ).body;
    await h.call({ method: 'POST', path: `/v1/tips/${withContact.id}/close`, claims: OFFICER });

    // Act
    const noWay = await h.call({
      method: 'POST',
      path: `/v1/tips/${anonymous.id}/replies`,
      body: { text: 'hi' },
      claims: OFFICER,
    });
    const closed = await h.call({
      method: 'POST',
      path: `/v1/tips/${withContact.id}/replies`,
      body: { text: 'hi' },
      claims: OFFICER,
    });

    // Assess
    expect(noWay.status).toBe(409);
    expect(noWay.body.detail).toMatch(/left no way to answer/);
    expect(closed.status).toBe(409);
    expect(h.notices()).toEqual([]);
  });

  it('records a failed answer as failed, with a reason that quotes nothing the provider said', async () => {
    // Prepare
    const failing: Notifier = {
      send: async (notice) => {
        throw new ProviderError('permanent', `Invalid parameter: PhoneNumber ${notice.address} is opted out`);
      },
    };
    const h = await harness({ notifier: failing });
    const { body } = await h.tip({ text: 'hello', contact: { channel: 'sms', address: PHONE } });

    // Act
    const res = await h.call({
      method: 'POST',
      path: `/v1/tips/${body.id}/replies`,
      body: { text: 'Thanks' },
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(201);
    expect((res.body.messages as Record<string, unknown>[]).at(-1)).toMatchObject({
      status: 'failed',
      reason: 'the provider refused the message',
    });
    expectNoContact(h.everything());
  });

  it('assigns, closes and reopens, each audited; repeating a close is 409', async () => {
    // Prepare
    const h = await harness();
    const { body } = await h.tip({ text: 'hello' });
    const path = `/v1/tips/${body.id}`;

    // Act
    const assigned = await h.call({
      method: 'POST',
      path: `${path}/assign`,
      body: { to: 'officer-2' },
      claims: SUPERVISOR,
    });
    const closed = await h.call({
      method: 'POST',
      path: `${path}/close`,
      body: { note: 'passed to CID' },
      claims: OFFICER,
    });
    const again = await h.call({ method: 'POST', path: `${path}/close`, claims: OFFICER });
    const reopened = await h.call({ method: 'POST', path: `${path}/reopen`, claims: OFFICER });
    const unassigned = await h.call({
      method: 'POST',
      path: `${path}/assign`,
      body: { to: null },
      claims: OFFICER,
    });
    const audit = await h.call({ method: 'GET', path: `${path}/audit`, claims: AUDITOR });

    // Assess
    expect(assigned.body).toMatchObject({ assignee: 'officer-2', state: 'open' });
    expect(closed.body).toMatchObject({ state: 'closed', closedAt: '2030-03-04T10:00:00.000Z' });
    expect(again.status).toBe(409);
    expect(reopened.body.state).toBe('open');
    expect(reopened.body.closedAt).toBeUndefined();
    expect(unassigned.body.assignee).toBeUndefined();
    expect(
      (audit.body.entries as Record<string, unknown>[]).map((e) => [e.actor, e.action, e.detail]),
    ).toEqual([
      ['resident', 'tip.received', 'from web'],
      ['supervisor-1', 'tip.assigned', 'to officer-2'],
      ['officer-1', 'tip.closed', 'passed to CID'],
      ['officer-1', 'tip.reopened', undefined],
      ['officer-1', 'tip.assigned', 'unassigned'],
    ]);
  });

  it('lets every role read, officers and supervisors act, and only supervisors and auditors read the audit', async () => {
    // Prepare
    const h = await harness();
    const { body } = await h.tip({ text: 'hello' });

    // Act
    const anonymous = await h.call({ method: 'GET', path: '/v1/tips', claims: null });
    const auditorReplies = await h.call({
      method: 'POST',
      path: `/v1/tips/${body.id}/close`,
      claims: AUDITOR,
    });
    const officerAudit = await h.call({ method: 'GET', path: `/v1/tips/${body.id}/audit`, claims: OFFICER });
    const auditorList = await h.call({ method: 'GET', path: '/v1/tips', claims: AUDITOR });

    // Assess
    expect(anonymous.status).toBe(401);
    expect(auditorReplies.status).toBe(403);
    expect(officerAudit.status).toBe(403);
    expect(auditorList.status).toBe(200);
  });

  it('lists newest first a page at a time, by state, source and assignee, and counts the open ones', async () => {
    // Prepare
    const h = await harness();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await h.tip({ text: `web ${i}` })).body.id as string);
      h.clock.advance(1000);
    }
    await h.text(PHONE, 'by text');
    await h.call({ method: 'POST', path: `/v1/tips/${ids[1]}/close`, claims: OFFICER });
    await h.call({
      method: 'POST',
      path: `/v1/tips/${ids[2]}/assign`,
      body: { to: 'officer-9' },
      claims: OFFICER,
    });

    // Act
    const first = await h.list('?limit=2');
    const second = await h.list(`?limit=2&cursor=${first.cursor}`);
    const third = await h.list(`?limit=2&cursor=${second.cursor}`);
    const closed = await h.list('?state=closed');
    const open = await h.list('?state=open&source=web&limit=2');
    const assigned = await h.list('?assignee=officer-9');
    const count = await h.call({ method: 'GET', path: '/v1/tips/count?state=open', claims: AUDITOR });
    const badCursor = await h.call({ method: 'GET', path: '/v1/tips?cursor=abc', claims: OFFICER });
    const badQuery = await h.call({
      method: 'GET',
      path: '/v1/tips?state=maybe&colour=red',
      claims: OFFICER,
    });

    // Assess
    expect([...first.items, ...second.items, ...third.items].map((i) => i.text)).toEqual([
      'by text',
      'web 4',
      'web 3',
      'web 2',
      'web 1',
      'web 0',
    ]);
    expect(third.cursor).toBeUndefined();
    expect(closed.items.map((i) => i.id)).toEqual([ids[1]]);
    expect(open.items.map((i) => i.text)).toEqual(['web 4', 'web 3']);
    expect(open.cursor).toBeDefined();
    expect(assigned.items.map((i) => i.id)).toEqual([ids[2]]);
    expect(count.body).toEqual({ state: 'open', count: 5 });
    expect(badCursor.status).toBe(400);
    expect(badQuery.body.errors?.map((e) => e.path).sort()).toEqual(['/query/colour', '/query/state']);
  });
});
