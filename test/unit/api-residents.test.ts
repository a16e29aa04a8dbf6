/**
 * The resident and media routes through createRouter, fed API Gateway HTTP API 2.0 events (public routes with no
 * authorizer, officer routes with JWT-authorizer claims), against the real subscriber store and PII cipher on
 * dynalite. Inbound texts arrive as Amazon SNS notifications signed with a key made for the test run.
 */
import { DeleteCommand, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { compileRoutes, createRouter } from '../../functions/api/router';
import { createSnsVerifier } from '../../functions/api/sns-signature';
import { webConsentText } from '../../functions/core/consent';
import type { Notice, Notifier, SubscriberStore } from '../../functions/ports';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { type ApiRequest, apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';
import { CERT_URL, type SnsSigner, snsSigner, TOPIC_ARN } from '../helpers/sns';

let db: DynaliteStore;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
let signer: SnsSigner;
beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
  signer = await snsSigner();
});
afterAll(async () => {
  await db?.close();
});

const OFFICER = claimsFor('officer-1', ['officer']);
const AUDITOR = claimsFor('auditor-1', ['auditor']);

/** Each test its own numbers, addresses and client IP: the table and the rate counters are shared. */
let serial = 0;
const fresh = () => {
  serial += 1;
  return {
    phone: `+3461${String(1_000_000 + serial).slice(-7)}`,
    email: `resident${serial}@example.org`,
    ip: `203.0.113.${serial % 250}`,
  };
};

/** Records notices, and what the subscriber looked like in the table at the moment each one was sent. */
class ObservingNotifier implements Notifier {
  readonly sent: (Notice & { statusAtSend?: string | undefined })[] = [];
  constructor(private readonly watch?: { store: SubscriberStore; hash: () => Promise<string> }) {}
  async send(notice: Notice): Promise<void> {
    const statusAtSend = this.watch
      ? (await this.watch.store.findSubscriber('sms', await this.watch.hash()))?.status
      : undefined;
    this.sent.push({ ...notice, statusAtSend });
  }
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  body: Record<string, unknown> & { errors?: { path: string; message: string }[] };
}

function harness(options: { notifier?: Notifier; topicArn?: string | null } = {}) {
  const clock = new ManualClock('2030-03-04T10:00:00.000Z');
  const logger = new RecordingLogger();
  const notifier = options.notifier ?? new ObservingNotifier();
  const confirmations: string[] = [];
  const deps: ApiDeps = {
    ...residents,
    notifier,
    store: db.store,
    queue: new RecordingQueue(),
    config: testConfig({
      agencyName: 'Guàrdia Urbana',
      inboundSmsTopicArn: options.topicArn === null ? undefined : (options.topicArn ?? TOPIC_ARN),
    }),
    clock,
    newId: newUlid,
    logger,
  };
  const router = createRouter(deps, compileRoutes(), {
    inboundSms: {
      verifier: createSnsVerifier({ fetch: signer.fetchCertificate }),
      confirmSubscription: async (url) => {
        confirmations.push(url);
      },
    },
  });
  const call = async (request: ApiRequest & { ip?: string }): Promise<Answer> => {
    const event = apiEvent(request);
    if (request.ip) event.requestContext.http.sourceIp = request.ip;
    const result = await router(event);
    const text = result.body ?? '';
    let body: Answer['body'] = {};
    try {
      body = text ? (JSON.parse(text) as Answer['body']) : {};
    } catch {
      body = {};
    }
    return { status: result.statusCode ?? 0, headers: result.headers, text, body };
  };
  const text = (from: string, body: string) =>
    call({
      method: 'POST',
      path: '/v1/inbound/sms',
      claims: null,
      body: JSON.stringify(signer.inboundSms(from, body)),
      headers: { 'content-type': 'text/plain; charset=UTF-8', 'x-amz-sns-message-type': 'Notification' },
    });
  const signUp = (body: Record<string, unknown>, ip: string) =>
    call({ method: 'POST', path: '/v1/subscriptions', claims: null, body, ip });
  const confirm = (body: Record<string, unknown>, ip: string) =>
    call({ method: 'POST', path: '/v1/subscriptions/confirm', claims: null, body, ip });
  const notices = () => (notifier as ObservingNotifier).sent;
  return { deps, clock, logger, notifier, confirmations, call, text, signUp, confirm, notices };
}

const subscriberOf = async (channel: 'sms' | 'email', address: string) =>
  residents.subscribers.findSubscriber(channel, await residents.pii.hash(address));

async function scanTable(): Promise<string> {
  return JSON.stringify(await scanItems());
}

async function scanItems(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.client.send(new ScanCommand({ TableName: db.tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

const codeIn = (notice: Notice | undefined) => /\b(\d{6})\b/.exec(notice?.text ?? '')?.[1] ?? '';

// ---------------------------------------------------------------- zones

describe('GET /v1/zones', () => {
  it('lists the seeded zones publicly, cacheable, and answers 304 to a matching If-None-Match', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const first = await call({ method: 'GET', path: '/v1/zones', claims: null });
    const again = await call({
      method: 'GET',
      path: '/v1/zones',
      claims: null,
      headers: { 'if-none-match': first.headers.etag! },
    });

    // Assess
    expect(first.status).toBe(200);
    const zones = first.body.zones as { id: string; name: string }[];
    expect(zones).toHaveLength(10);
    expect(zones[0]).toMatchObject({ id: 'ciutat-vella', name: 'Ciutat Vella' });
    expect(first.headers['cache-control']).toBe('public, max-age=300');
    expect(first.headers['access-control-allow-origin']).toBe('*');
    expect(first.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });
});

// ---------------------------------------------------------------- keywords

describe('POST /v1/inbound/sms keywords', () => {
  it('JOIN <zone> subscribes the number at once, with the keyword and the reply as consent', async () => {
    // Prepare
    const { phone } = fresh();
    const { text, notices, logger } = harness();

    // Act
    const res = await text(phone, 'JOIN eixample');

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', keyword: 'join' });
    const stored = await subscriberOf('sms', phone);
    expect(stored).toMatchObject({
      status: 'confirmed',
      zones: ['eixample'],
      language: 'en',
      channel: 'sms',
    });
    expect(stored?.consent).toMatchObject({ method: 'sms-keyword', actor: 'resident' });
    expect(stored?.consent?.text).toMatch(
      /^JOIN eixample → Guàrdia Urbana: you will get alerts for Eixample/,
    );
    expect(stored?.consent?.evidence).toMatch(/^sns:/);
    expect(notices()).toEqual([
      expect.objectContaining({
        channel: 'sms',
        address: phone,
        kind: 'keyword-reply',
        text: expect.stringContaining('Eixample'),
      }),
    ]);
    const auditLine = logger.lines.find((l) => l.message === 'subscription.joined');
    expect(auditLine?.extra[0]).toMatchObject({ audit: { actor: 'resident', subscriberId: stored?.id } });
    expect(JSON.stringify(logger.lines)).not.toContain(phone.slice(3));
  });

  it('JOIN with an unknown zone answers with valid zone ids and stores nothing', async () => {
    // Prepare
    const { phone } = fresh();
    const { text, notices } = harness();

    // Act
    const res = await text(phone, 'JOIN atlantis');

    // Assess
    expect(res.status).toBe(200);
    expect(await subscriberOf('sms', phone)).toBeUndefined();
    expect(notices()[0]?.text).toMatch(
      /no zone "atlantis".*ciutat-vella, eixample, sants-montjuic, les-corts…/,
    );
  });

  it('JOIN with a language replies in it, and later answers keep to it', async () => {
    // Prepare
    const { phone } = fresh();
    const { text, notices } = harness();

    // Act
    await text(phone, 'join sant-andreu es');
    await text(phone, 'HELP');

    // Assess
    expect((await subscriberOf('sms', phone))?.language).toBe('es');
    expect(notices()[0]?.text).toContain('recibirás alertas de San Andrés');
    expect(notices()[1]?.text).toMatch(/^Alertas de Guàrdia Urbana/);
  });

  it('JOIN finds a zone by its name in another language, and a second JOIN adds a zone', async () => {
    // Prepare
    const { phone } = fresh();
    const { text } = harness();

    // Act
    await text(phone, 'JOIN gracia');
    await text(phone, 'ALTA Ensanche');

    // Assess
    expect((await subscriberOf('sms', phone))?.zones).toEqual(['gracia', 'eixample']);
  });

  it.each(['STOP', 'stopall', ' Unsubscribe. ', 'CANCEL', 'end', 'Quit!'])(
    '%j stops the subscriber before the confirmation is sent',
    async (keyword) => {
      // Prepare
      const { phone } = fresh();
      const notifier = new ObservingNotifier({
        store: residents.subscribers,
        hash: () => residents.pii.hash(phone),
      });
      const { text, clock } = harness({ notifier });
      await text(phone, 'JOIN nou-barris');
      clock.advance(60_000);

      // Act
      const res = await text(phone, keyword);

      // Assess
      expect(res.body).toEqual({ status: 'ok', keyword: 'stop' });
      const stored = await subscriberOf('sms', phone);
      expect(stored).toMatchObject({ status: 'stopped', stoppedAt: '2030-03-04T10:01:00.000Z' });
      expect(notifier.sent[1]).toMatchObject({ statusAtSend: 'stopped' });
      expect(notifier.sent[1]?.text).toMatch(/unsubscribed and will receive no more messages/);
    },
  );

  it('STOP from a number that never subscribed is still confirmed, and stores nothing', async () => {
    // Prepare
    const { phone } = fresh();
    const { text, notices } = harness();

    // Act
    await text(phone, 'STOP');

    // Assess
    expect(await subscriberOf('sms', phone)).toBeUndefined();
    expect(notices()[0]?.text).toMatch(/unsubscribed/);
  });

  it('START resumes the zones the resident had before STOP', async () => {
    // Prepare
    const { phone } = fresh();
    const { text, notices } = harness();
    await text(phone, 'JOIN les-corts ca');
    await text(phone, 'JOIN gracia');
    await text(phone, 'STOP');

    // Act
    await text(phone, 'start');

    // Assess
    const stored = await subscriberOf('sms', phone);
    expect(stored).toMatchObject({ status: 'confirmed', zones: ['les-corts', 'gracia'] });
    expect(stored?.stoppedAt).toBeUndefined();
    expect(notices().at(-1)?.text).toMatch(/tornaràs a rebre alertes de Les Corts, Gràcia/);
  });

  it('HELP gets the help text and changes nothing; any other text is a tip, acknowledged with its reference', async () => {
    // Prepare
    const { phone } = fresh();
    const { text, notices } = harness();

    // Act
    const help = await text(phone, 'help');
    const chatter = await text(phone, 'is the road open?');

    // Assess
    expect(help.body.keyword).toBe('help');
    expect(chatter.body.keyword).toBe('tip');
    expect(await subscriberOf('sms', phone)).toBeUndefined();
    expect(notices().map((n) => n.text)).toEqual([
      expect.stringMatching(/Reply JOIN <zone> to subscribe, STOP to end/),
      expect.stringMatching(/we have received your tip \(ref\. T-[0-9A-HJKMNP-TV-Z]{4}\)/),
    ]);
  });
});

describe('POST /v1/inbound/sms trusts only signed SNS messages from the configured topic', () => {
  const post = (h: ReturnType<typeof harness>, envelope: unknown) =>
    h.call({
      method: 'POST',
      path: '/v1/inbound/sms',
      claims: null,
      body: JSON.stringify(envelope),
      headers: { 'content-type': 'text/plain; charset=UTF-8' },
    });

  it('accepts SignatureVersion 1 (SHA1withRSA) as well as 2', async () => {
    // Prepare
    const { phone } = fresh();
    const h = harness();

    // Act
    const res = await post(h, signer.inboundSms(phone, 'JOIN gracia', { version: '1' }));

    // Assess
    expect(res.status).toBe(200);
    expect((await subscriberOf('sms', phone))?.zones).toEqual(['gracia']);
  });

  it('refuses a message whose text was changed after signing: 403 problem+json, nothing stored', async () => {
    // Prepare
    const { phone } = fresh();
    const h = harness();
    const envelope = signer.inboundSms(phone, 'HELP');
    const tampered = { ...envelope, Message: envelope.Message.replace('HELP', 'JOIN gracia') };

    // Act
    const res = await post(h, tampered);

    // Assess
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(await subscriberOf('sms', phone)).toBeUndefined();
    expect(h.notices()).toEqual([]);
  });

  it('refuses another topic, and refuses everything when no topic is configured', async () => {
    // Prepare
    const { phone } = fresh();
    const configured = harness();
    const unconfigured = harness({ topicArn: null });
    const otherTopic = signer.inboundSms(phone, 'JOIN gracia', {
      topicArn: 'arn:aws:sns:eu-west-1:999999999999:someone-else',
    });

    // Act
    const wrongTopic = await post(configured, otherTopic);
    const noTopic = await post(unconfigured, signer.inboundSms(phone, 'JOIN gracia'));

    // Assess
    expect([wrongTopic.status, noTopic.status]).toEqual([403, 403]);
    expect(await subscriberOf('sms', phone)).toBeUndefined();
  });

  it('never fetches a certificate from outside SNS', async () => {
    // Prepare
    const { phone } = fresh();
    const h = harness();
    const before = signer.fetches.length;
    const envelope = signer.sign(
      {
        Type: 'Notification',
        MessageId: 'm-1',
        TopicArn: TOPIC_ARN,
        Message: JSON.stringify({ originationNumber: phone, messageBody: 'JOIN gracia' }),
        Timestamp: new Date().toISOString(),
      },
      { certUrl: 'https://attacker.example/sns.pem' },
    );

    // Act
    const res = await post(h, envelope);

    // Assess
    expect(res.status).toBe(403);
    expect(signer.fetches.length).toBe(before);
  });

  it('confirms the topic subscription by its SubscribeURL', async () => {
    // Prepare
    const h = harness();
    const subscribeUrl = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${TOPIC_ARN}&Token=abc`;
    const envelope = signer.sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'c-1',
      TopicArn: TOPIC_ARN,
      Message: 'You have chosen to subscribe to the topic.',
      SubscribeURL: subscribeUrl,
      Token: 'abc',
      Timestamp: new Date().toISOString(),
    });

    // Act
    const res = await post(h, envelope);

    // Assess
    expect(res.status).toBe(200);
    expect(h.confirmations).toEqual([subscribeUrl]);
    expect(signer.fetches).toContain(CERT_URL);
  });

  it('refuses a body that is not an SNS message at all', async () => {
    // Prepare
    const h = harness();

    // Act
    const res = await post(h, { from: '+34611000000', body: 'JOIN gracia' });

    // Assess
    expect(res.status).toBe(403);
  });
});

// ---------------------------------------------------------------- double opt-in

describe('POST /v1/subscriptions and /confirm (double opt-in)', () => {
  it('sends a 6-digit code in the chosen language and answers 202 with the address masked', async () => {
    // Prepare
    const { phone, ip } = fresh();
    const { signUp, notices } = harness();

    // Act
    const res = await signUp({ channel: 'sms', address: phone, zones: ['gracia'], language: 'ca' }, ip);

    // Assess
    expect(res.status).toBe(202);
    expect(res.body).toEqual({
      status: 'confirmation-sent',
      channel: 'sms',
      address: `+34•••••••${phone.slice(-2)}`,
      expiresAt: '2030-03-04T10:15:00.000Z',
    });
    expect(notices()[0]).toMatchObject({ channel: 'sms', address: phone, kind: 'code' });
    expect(notices()[0]?.text).toMatch(/el teu codi de confirmació és \d{6}/);
    expect((await subscriberOf('sms', phone))?.status).toBe('pending');
    const table = await scanTable();
    expect(table).not.toContain(codeIn(notices()[0]));
    expect(table).not.toContain(phone.slice(3));
  });

  it('confirms with the right code and records the web consent', async () => {
    // Prepare
    const { email, ip } = fresh();
    const { signUp, confirm, notices } = harness();
    await signUp({ channel: 'email', address: email, zones: ['eixample', 'gracia'], language: 'es' }, ip);

    // Act
    const res = await confirm({ address: email.toUpperCase(), code: codeIn(notices()[0]) }, ip);

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      channel: 'email',
      address: 'r•••@e•••.org',
      zones: ['eixample', 'gracia'],
      language: 'es',
      status: 'confirmed',
    });
    expect(notices()[0]?.subject).toMatch(/tu código de confirmación/);
    const stored = await subscriberOf('email', email);
    expect(stored?.consent).toMatchObject({ method: 'web', text: webConsentText('es'), actor: 'resident' });
    expect(stored?.consent?.text).toMatch(/^web-consent-v2 \(es\): Acepto recibir/);
    expect(stored?.consent?.evidence).toMatch(/^web:[\w-]+$/);
    expect(stored?.consent?.evidence).not.toContain(ip);
  });

  it('answers a wrong code with 422 naming /code and the tries left', async () => {
    // Prepare
    const { phone, ip } = fresh();
    const { signUp, confirm, notices } = harness();
    await signUp({ channel: 'sms', address: phone, zones: ['gracia'] }, ip);
    const wrong = codeIn(notices()[0]) === '000000' ? '111111' : '000000';

    // Act
    const res = await confirm({ address: phone, code: wrong }, ip);

    // Assess
    expect(res.status).toBe(422);
    expect(res.headers['content-type']).toMatch(/problem\+json/);
    expect(res.body.triesLeft).toBe(4);
    expect(res.body.errors).toEqual([{ path: '/code', message: expect.stringContaining('tries left: 4') }]);
    expect((await subscriberOf('sms', phone))?.status).toBe('pending');
  });

  it('refuses even the right code once the five tries are used up: 410, ask for a new code', async () => {
    // Prepare
    const { phone, ip } = fresh();
    const { signUp, confirm, notices } = harness();
    await signUp({ channel: 'sms', address: phone, zones: ['gracia'] }, ip);
    const right = codeIn(notices()[0]);
    const wrong = right === '000000' ? '111111' : '000000';
    const tries: number[] = [];
    for (let i = 0; i < 5; i++)
      tries.push((await confirm({ address: phone, code: wrong }, ip)).body.triesLeft as number);

    // Act
    const res = await confirm({ address: phone, code: right }, ip);

    // Assess
    expect(tries).toEqual([4, 3, 2, 1, 0]);
    expect(res.status).toBe(410);
    expect(res.body.errors).toEqual([{ path: '/code', message: expect.stringMatching(/new code/) }]);
    expect((await subscriberOf('sms', phone))?.status).toBe('pending');
  });

  it('refuses an expired code with 410', async () => {
    // Prepare
    const { phone, ip } = fresh();
    const { signUp, confirm, notices, clock } = harness();
    await signUp({ channel: 'sms', address: phone, zones: ['gracia'] }, ip);
    clock.advance(15 * 60_000 + 1);

    // Act
    const res = await confirm({ address: phone, code: codeIn(notices()[0]) }, ip);

    // Assess
    expect(res.status).toBe(410);
    expect(res.body.detail).toMatch(/Ask for a new code/);
  });

  it('sends at most 3 codes an hour to one address: the 4th is 429 with Retry-After', async () => {
    // Prepare
    const { phone } = fresh();
    const { signUp, clock, notices } = harness();
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await signUp({ channel: 'sms', address: phone, zones: ['gracia'] }, `198.18.0.${i}`)).status,
      );

    // Act
    const limited = await signUp({ channel: 'sms', address: phone, zones: ['gracia'] }, '198.18.0.9');
    clock.advance(60 * 60_000);
    const nextHour = await signUp({ channel: 'sms', address: phone, zones: ['gracia'] }, '198.18.0.9');

    // Assess
    expect(statuses).toEqual([202, 202, 202]);
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('3600');
    expect(limited.headers['content-type']).toMatch(/problem\+json/);
    expect(nextHour.status).toBe(202);
    expect(notices()).toHaveLength(4);
  });

  it('takes at most 20 sign-ups an hour from one client', async () => {
    // Prepare
    const { signUp } = harness();
    const ip = '192.0.2.77';
    const statuses: number[] = [];

    // Act
    for (let i = 0; i < 21; i++) {
      const { email } = fresh();
      statuses.push((await signUp({ channel: 'email', address: email, zones: ['gracia'] }, ip)).status);
    }

    // Assess
    expect(statuses.slice(0, 20).every((s) => s === 202)).toBe(true);
    expect(statuses[20]).toBe(429);
  });

  it('answers an already-subscribed address exactly as a new one, without changing it', async () => {
    // Prepare
    const { phone, ip } = fresh();
    const other = fresh();
    const { text, signUp } = harness();
    await text(phone, 'JOIN eixample');

    // Act
    const known = await signUp({ channel: 'sms', address: phone, zones: ['gracia'] }, ip);
    const unknown = await signUp({ channel: 'sms', address: other.phone, zones: ['gracia'] }, other.ip);

    // Assess
    expect(known.status).toBe(unknown.status);
    expect(Object.keys(known.body).sort()).toEqual(Object.keys(unknown.body).sort());
    expect(await subscriberOf('sms', phone)).toMatchObject({ status: 'confirmed', zones: ['eixample'] });
  });

  it('adds the zones a subscribed resident asks for on the web only once the code comes back', async () => {
    // Prepare
    const { phone, ip } = fresh();
    const { text, signUp, confirm, notices } = harness();
    await text(phone, 'JOIN eixample');
    await signUp({ channel: 'sms', address: phone, zones: ['gracia'], language: 'es' }, ip);
    const beforeConfirm = await subscriberOf('sms', phone);

    // Act
    const res = await confirm({ address: phone, code: codeIn(notices()[1]) }, ip);

    // Assess
    expect(beforeConfirm?.zones).toEqual(['eixample']);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ zones: ['eixample', 'gracia'], language: 'es', status: 'confirmed' });
  });

  it('names every bad field with 400 problem+json and stores and sends nothing', async () => {
    // Prepare
    const { ip } = fresh();
    const { signUp, notices } = harness();
    const before = await scanTable();

    // Act
    const res = await signUp(
      { channel: 'sms', address: '612 34 56 78', zones: ['gracia', 'atlantis'], colour: 'blue' },
      ip,
    );
    const second = await signUp(
      { channel: 'sms', address: '612 34 56 78', zones: ['gracia', 'atlantis'] },
      ip,
    );

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors?.map((e) => e.path)).toEqual(['/colour']);
    expect(second.status).toBe(400);
    expect(second.body.errors?.map((e) => e.path)).toEqual(['/address', '/zones/1']);
    expect(second.text).not.toContain('612');
    expect(notices()).toEqual([]);
    expect(await scanTable()).toBe(before);
  });
});

// ---------------------------------------------------------------- media

describe('officers manage media subscribers and webhooks', () => {
  it('adds a media email subscriber, lists it masked, and deletes it with its personal data', async () => {
    // Prepare
    const { email } = fresh();
    const { call } = harness();

    // Act
    const created = await call({
      method: 'POST',
      path: '/v1/subscribers',
      claims: OFFICER,
      body: {
        channel: 'email',
        address: email,
        zones: ['*'],
        name: 'La Vanguardia',
        consent: 'Signed form 2030-01-12',
      },
    });
    const listed = await call({
      method: 'GET',
      path: '/v1/subscribers?channel=email&limit=100',
      claims: AUDITOR,
    });
    const id = created.body.id as string;
    const removed = await call({ method: 'DELETE', path: `/v1/subscribers/${id}`, claims: OFFICER });
    const again = await call({ method: 'DELETE', path: `/v1/subscribers/${id}`, claims: OFFICER });

    // Assess
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`/v1/subscribers/${id}`);
    expect(created.body).toMatchObject({
      status: 'confirmed',
      zones: ['*'],
      address: 'r•••@e•••.org',
      consent: { method: 'officer', actor: 'officer-1' },
    });
    expect((listed.body.items as { id: string }[]).map((s) => s.id)).toContain(id);
    expect(listed.text).not.toContain(email);
    expect(removed.status).toBe(204);
    expect(again.status).toBe(404);
    expect(await residents.subscribers.getSubscriber(id)).toBeUndefined();
    // Only the subscription audit, which holds no PII, still names the id (see the subscription audit tests).
    const leftovers = (await scanItems()).filter((item) => JSON.stringify(item).includes(id));
    expect(leftovers.length).toBeGreaterThan(0);
    // …and its tamper-evident chain (AUDITLOG#subscriber#<id>: the same events, hashed).
    expect(leftovers.every((item) => /^(SUBAUDIT#|AUDITLOG#subscriber#)/.test(String(item.PK)))).toBe(true);
  });

  it('requires the consent text, and lets auditors read but not add', async () => {
    // Prepare
    const { email } = fresh();
    const { call } = harness();
    const body = { channel: 'email', address: email, zones: ['gracia'] };

    // Act
    const noConsent = await call({ method: 'POST', path: '/v1/subscribers', claims: OFFICER, body });
    const auditor = await call({
      method: 'POST',
      path: '/v1/subscribers',
      claims: AUDITOR,
      body: { ...body, consent: 'ok' },
    });

    // Assess
    expect(noConsent.status).toBe(400);
    expect(noConsent.body.errors).toEqual([{ path: '/consent', message: 'is required' }]);
    expect(auditor.status).toBe(403);
    expect(await subscriberOf('email', email)).toBeUndefined();
  });

  it('refuses a second subscriber with the same address: 409 naming the first', async () => {
    // Prepare
    const { phone } = fresh();
    const { call } = harness();
    const body = { channel: 'sms', address: phone, zones: ['gracia'], consent: 'Phone call 2030-02-01' };
    const first = await call({ method: 'POST', path: '/v1/subscribers', claims: OFFICER, body });

    // Act
    const second = await call({ method: 'POST', path: '/v1/subscribers', claims: OFFICER, body });

    // Assess
    expect(second.status).toBe(409);
    expect(second.body.detail).toContain(first.body.id as string);
  });

  it('creates a webhook whose signing secret is shown once and stored only encrypted', async () => {
    // Prepare
    const { call } = harness();
    const url = `https://hooks.example.org/herald/${fresh().ip}?token=s3cr3t`;

    // Act
    const created = await call({
      method: 'POST',
      path: '/v1/webhooks',
      claims: OFFICER,
      body: { url, name: 'Ràdio Barcelona' },
    });
    const listed = await call({ method: 'GET', path: '/v1/webhooks?limit=100', claims: AUDITOR });

    // Assess
    expect(created.status).toBe(201);
    const secret = created.body.secret as string;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created.body).toMatchObject({
      channel: 'webhook',
      address: 'https://hooks.example.org/…',
      zones: ['*'],
    });
    const mine = (listed.body.items as { id: string; secret?: string }[]).find(
      (w) => w.id === created.body.id,
    );
    expect(mine).toBeDefined();
    expect(mine?.secret).toBeUndefined();
    const table = await scanTable();
    expect(table).not.toContain(secret.slice(6));
    expect(table).not.toContain('s3cr3t');
    const stored = await residents.subscribers.getSubscriber(created.body.id as string);
    expect(await residents.pii.decrypt(stored!.secretCipher!)).toBe(secret);
  });

  it.each([
    ['http://hooks.example.org/h', /https/],
    ['https://169.254.169.254/latest/meta-data/', /link-local/],
    ['https://127.0.0.1:8443/h', /loopback/],
  ])('refuses the webhook URL %j with 400 naming /url', async (url, reason) => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({
      method: 'POST',
      path: '/v1/webhooks',
      claims: OFFICER,
      body: { url, name: 'X' },
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ path: '/url', message: expect.stringMatching(reason) }]);
  });
});

// ---------------------------------------------------------------- import

describe('POST /v1/subscriptions/import', () => {
  const importCsv = (h: ReturnType<typeof harness>, csv: string, type = 'text/csv') =>
    h.call({
      method: 'POST',
      path: '/v1/subscriptions/import',
      claims: OFFICER,
      body: csv,
      headers: { 'content-type': type },
    });

  it('keeps the good rows and names each bad row and field, never echoing an address', async () => {
    // Prepare
    const h = harness();
    const a = fresh();
    const b = fresh();
    const stopped = fresh();
    const existing = fresh();
    await h.text(stopped.phone, 'JOIN gracia');
    await h.text(stopped.phone, 'STOP');
    await h.text(existing.phone, 'JOIN gracia');
    const csv = [
      'channel,address,zones,language,consent',
      `sms,${a.phone},eixample;gracia,es,Nixle opt-in 2029-05-01`,
      `email,${b.email},sant-marti sant-andreu,,Newsletter form`,
      'sms,612345678,eixample,en,Nixle opt-in',
      `sms,${fresh().phone},atlantis,en,Nixle opt-in`,
      `email,${fresh().email},eixample,en,`,
      `fax,${fresh().phone},eixample,en,yes`,
      `sms,${stopped.phone},eixample,en,Nixle opt-in`,
      `sms,${existing.phone},les-corts,en,Nixle opt-in`,
      'sms,only-two-fields',
    ].join('\r\n');

    // Act
    const res = await importCsv(h, csv);

    // Assess
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rows: 9, imported: 2, updated: 1, skipped: 6 });
    expect(res.body.errors).toEqual([
      { row: 4, field: 'address', message: expect.stringMatching(/international form/) },
      { row: 5, field: 'zones', message: '"atlantis" is not one of the agency\'s zones' },
      { row: 6, field: 'consent', message: expect.stringMatching(/required/) },
      { row: 7, field: 'channel', message: 'must be sms or email' },
      { row: 8, field: 'address', message: expect.stringMatching(/STOP.*not re-subscribed/) },
      { row: 10, field: 'row', message: 'has 2 fields, the header 5' },
    ]);
    expect(res.text).not.toContain(a.phone.slice(3));
    expect(res.text).not.toContain(stopped.phone.slice(3));
    expect(await subscriberOf('sms', a.phone)).toMatchObject({
      status: 'confirmed',
      zones: ['eixample', 'gracia'],
      language: 'es',
      consent: {
        method: 'import',
        text: 'Nixle opt-in 2029-05-01',
        actor: 'officer-1',
        evidence: 'import:row 2',
      },
    });
    expect((await subscriberOf('email', b.email))?.zones).toEqual(['sant-marti', 'sant-andreu']);
    expect((await subscriberOf('sms', stopped.phone))?.status).toBe('stopped');
    expect((await subscriberOf('sms', existing.phone))?.zones).toEqual(['gracia', 'les-corts']);
  });

  it('refuses a body that is not CSV (415) and a header that is not the one documented (422)', async () => {
    // Prepare
    const h = harness();

    // Act
    const json = await importCsv(h, '{"a":1}', 'application/json');
    const header = await importCsv(h, 'phone,zones\n+34611000000,gracia\n');

    // Assess
    expect(json.status).toBe(415);
    expect(header.status).toBe(422);
    expect(header.body.errors?.map((e) => e.path)).toEqual([
      '/header/channel',
      '/header/address',
      '/header/language',
      '/header/consent',
      '/header/phone',
    ]);
  });

  it('refuses more than 5000 rows with 413 and stores none of them', async () => {
    // Prepare
    const h = harness();
    const rows = Array.from({ length: 5001 }, (_, i) => `sms,+3462${String(i).padStart(7, '0')},gracia,en,x`);
    const csv = ['channel,address,zones,language,consent', ...rows].join('\n');

    // Act
    const res = await importCsv(h, csv);

    // Assess
    expect(res.status).toBe(413);
    expect(await subscriberOf('sms', '+34620000000')).toBeUndefined();
  });
});

// ---------------------------------------------------------------- subscription audit (invariant 6)

const SUPERVISOR = claimsFor('supervisor-1', ['supervisor']);

describe('the subscription audit', () => {
  const trailOf = async (h: ReturnType<typeof harness>, id: string) => {
    const res = await h.call({ method: 'GET', path: `/v1/subscribers/${id}/audit`, claims: AUDITOR });
    expect(res.status).toBe(200);
    return (res.body.items as { action: string; actor: string; method: string; channel: string }[]).map(
      (e) => `${e.action} ${e.actor} ${e.method} ${e.channel}`,
    );
  };

  it('records each keyword with the resident as actor: JOIN, a second JOIN, STOP, START', async () => {
    // Prepare
    const h = harness();
    const { phone } = fresh();

    // Act
    await h.text(phone, 'JOIN gracia');
    await h.text(phone, 'JOIN eixample');
    await h.text(phone, 'STOP');
    await h.text(phone, 'START');

    // Assess
    const id = (await subscriberOf('sms', phone))?.id as string;
    expect(await trailOf(h, id)).toEqual([
      'confirmed resident sms-keyword sms',
      'changed resident sms-keyword sms',
      'stopped resident sms-keyword sms',
      'started resident sms-keyword sms',
    ]);
  });

  it('records a web sign-up as requested, then confirmed, by the resident', async () => {
    // Prepare
    const h = harness();
    const { email, ip } = fresh();
    await h.signUp({ channel: 'email', address: email, zones: ['gracia'], language: 'en' }, ip);

    // Act
    await h.confirm({ address: email, code: codeIn(h.notices()[0]) }, ip);

    // Assess
    const id = (await subscriberOf('email', email))?.id as string;
    expect(await trailOf(h, id)).toEqual(['requested resident web email', 'confirmed resident web email']);
  });

  it('records imports, officers adding and deleting, and webhooks with the officer as actor', async () => {
    // Prepare
    const h = harness();
    const imported = fresh();
    const media = fresh();
    const url = `https://hooks.example.org/audit/${media.ip}`;

    // Act
    await h.call({
      method: 'POST',
      path: '/v1/subscriptions/import',
      claims: OFFICER,
      body: `channel,address,zones,language,consent\nsms,${imported.phone},gracia,en,Paper form\n`,
      headers: { 'content-type': 'text/csv' },
    });
    const added = await h.call({
      method: 'POST',
      path: '/v1/subscribers',
      claims: OFFICER,
      body: { channel: 'email', address: media.email, zones: ['*'], name: 'Diari', consent: 'Signed form' },
    });
    const hook = await h.call({
      method: 'POST',
      path: '/v1/webhooks',
      claims: OFFICER,
      body: { url, name: 'Ràdio' },
    });
    await h.call({ method: 'DELETE', path: `/v1/subscribers/${added.body.id}`, claims: SUPERVISOR });
    await h.call({ method: 'DELETE', path: `/v1/webhooks/${hook.body.id}`, claims: OFFICER });

    // Assess
    const importedId = (await subscriberOf('sms', imported.phone))?.id as string;
    expect(await trailOf(h, importedId)).toEqual(['imported officer-1 import sms']);
    expect(await trailOf(h, added.body.id as string)).toEqual([
      'added officer-1 officer email',
      'deleted supervisor-1 officer email',
    ]);
    expect(await trailOf(h, hook.body.id as string)).toEqual([
      'webhook-created officer-1 officer webhook',
      'webhook-deleted officer-1 officer webhook',
    ]);
  });

  it("keeps a deleted subscriber's trail with no address, hash or masked address in it", async () => {
    // Prepare
    const h = harness();
    const { phone } = fresh();
    await h.text(phone, 'JOIN gracia');
    const subscriber = await subscriberOf('sms', phone);
    const id = subscriber?.id as string;

    // Act
    const removed = await h.call({ method: 'DELETE', path: `/v1/subscribers/${id}`, claims: OFFICER });

    // Assess
    expect(removed.status).toBe(204);
    expect(await trailOf(h, id)).toEqual([
      'confirmed resident sms-keyword sms',
      'deleted officer-1 officer sms',
    ]);
    const trail = (await scanItems()).filter((item) => item.PK === `SUBAUDIT#${id}`);
    expect(trail).toHaveLength(2);
    const stored = JSON.stringify(trail);
    for (const pii of [
      phone,
      phone.slice(1),
      subscriber?.addressHash,
      subscriber?.addressMasked,
      subscriber?.addressCipher,
    ])
      expect(stored).not.toContain(pii as string);
    // Besides the event, the zones whose public rosters it left and joined (zone ids, for the reports).
    expect(Object.keys(trail[0] ?? {}).sort()).toEqual(
      [
        'GSI1PK',
        'GSI1SK',
        'PK',
        'SK',
        'action',
        'actor',
        'at',
        'channel',
        'method',
        'subscriberId',
        'zonesAfter',
        'zonesBefore',
      ].sort(),
    );
  });

  it('lists every subscription event newest first, a page at a time, for supervisors and auditors only', async () => {
    // Prepare
    const h = harness();
    const { phone } = fresh();
    // Later than any other test's events: the table is shared.
    h.clock.advance(365 * 24 * 3600 * 1000);
    await h.text(phone, 'JOIN gracia');
    h.clock.advance(1000);
    await h.text(phone, 'STOP');
    const id = (await subscriberOf('sms', phone))?.id as string;

    // Act
    const first = await h.call({
      method: 'GET',
      path: '/v1/subscriptions/audit?limit=1',
      claims: SUPERVISOR,
    });
    const second = await h.call({
      method: 'GET',
      path: `/v1/subscriptions/audit?limit=1&cursor=${first.body.cursor}`,
      claims: AUDITOR,
    });
    const forged = await h.call({
      method: 'GET',
      path: '/v1/subscriptions/audit?cursor=abc',
      claims: AUDITOR,
    });
    const officer = await h.call({ method: 'GET', path: '/v1/subscriptions/audit', claims: OFFICER });
    const officerTrail = await h.call({
      method: 'GET',
      path: `/v1/subscribers/${id}/audit`,
      claims: OFFICER,
    });

    // Assess
    expect(first.status).toBe(200);
    const [newest] = first.body.items as { subscriberId: string; action: string; at: string }[];
    const [next] = second.body.items as { subscriberId: string; action: string; at: string }[];
    expect(newest).toMatchObject({ subscriberId: id, action: 'stopped' });
    expect(next).toMatchObject({ subscriberId: id, action: 'confirmed' });
    expect(next!.at < newest!.at).toBe(true);
    expect(forged.status).toBe(400);
    expect(officer.status).toBe(403);
    expect(officerTrail.status).toBe(403);
  });
});

// ---------------------------------------------------------------- pending sign-ups expire

describe('a pending web sign-up expires after 24 hours', () => {
  const get = async (key: { PK: string; SK: string }) =>
    (await db.client.send(new GetCommand({ TableName: db.tableName, Key: key, ConsistentRead: true }))).Item;
  const keysOf = async (email: string) => {
    const hash = await residents.pii.hash(email);
    const subscriber = await residents.subscribers.findSubscriber('email', hash);
    return {
      subscriber,
      profile: { PK: `SUB#${subscriber?.id}`, SK: 'PROFILE' },
      lock: { PK: `ADDR#email#${hash}`, SK: 'SUB' },
    };
  };

  it('gives the profile and the address lock a TTL, and removes both when the code comes back', async () => {
    // Prepare
    const h = harness();
    const { email, ip } = fresh();
    await h.signUp({ channel: 'email', address: email, zones: ['gracia'], language: 'en' }, ip);
    const { subscriber, profile, lock } = await keysOf(email);
    const pendingProfile = await get(profile);
    const pendingLock = await get(lock);

    // Act
    await h.confirm({ address: email, code: codeIn(h.notices()[0]) }, ip);

    // Assess
    const expected = Date.parse(subscriber?.updatedAt as string) / 1000 + 24 * 3600;
    expect(pendingProfile?.expiresAt).toBe(expected);
    expect(pendingLock?.expiresAt).toBe(expected);
    expect(subscriber).not.toHaveProperty('expiresAt');
    expect((await get(profile))?.status).toBe('confirmed');
    expect(await get(profile)).not.toHaveProperty('expiresAt');
    expect(await get(lock)).not.toHaveProperty('expiresAt');
  });

  it('lets the address sign up again once TTL has removed the profile, whatever it left of the lock', async () => {
    // Prepare: TTL deletes items one at a time, in no set order, about a day after the sign-up.
    const h = harness();
    const a = fresh();
    const b = fresh();
    await h.signUp({ channel: 'email', address: a.email, zones: ['gracia'], language: 'en' }, a.ip);
    await h.signUp({ channel: 'email', address: b.email, zones: ['gracia'], language: 'en' }, b.ip);
    const first = await keysOf(a.email);
    const second = await keysOf(b.email);
    // a: profile gone, its lock (a day old) still there; b: both gone.
    await db.client.send(new DeleteCommand({ TableName: db.tableName, Key: first.profile }));
    await db.client.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: first.lock,
        UpdateExpression: 'SET lockedAt = :dayAgo',
        ExpressionAttributeValues: { ':dayAgo': Date.now() - 24 * 3600 * 1000 },
      }),
    );
    await db.client.send(new DeleteCommand({ TableName: db.tableName, Key: second.profile }));
    await db.client.send(new DeleteCommand({ TableName: db.tableName, Key: second.lock }));
    h.clock.advance(25 * 3600 * 1000);

    // Act
    const again = await h.signUp(
      { channel: 'email', address: a.email, zones: ['eixample'], language: 'en' },
      a.ip,
    );
    const againB = await h.signUp(
      { channel: 'email', address: b.email, zones: ['eixample'], language: 'en' },
      b.ip,
    );
    const confirmed = await h.confirm({ address: a.email, code: codeIn(h.notices()[2]) }, a.ip);

    // Assess
    expect(again.status).toBe(202);
    expect(againB.status).toBe(202);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ status: 'confirmed', zones: ['eixample'] });
    expect(confirmed.body.id).not.toBe(first.subscriber?.id);
    expect((await keysOf(b.email)).subscriber).toMatchObject({ status: 'pending', zones: ['eixample'] });
  });
});
