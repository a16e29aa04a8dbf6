/**
 * Managing a subscription on the web (functions/api/manage-subscription.ts) against the real subscriber store and
 * PII cipher on dynalite. Residents subscribe through the sign-up routes (createRouter, API Gateway events), as they
 * would on the site, and then manage it through the functions the site's pages call.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import {
  changeSubscription,
  checkCsrf,
  csrfTokenFor,
  endSubscription,
  MANAGE_SESSION_MINUTES,
  openManageSession,
  readManageSession,
  sendManageCode,
} from '../../functions/api/manage-subscription';
import { compileRoutes, createRouter } from '../../functions/api/router';
import type { HttpProblem } from '../../functions/core/errors';
import type { Subscriber } from '../../functions/core/model';
import type { Notice } from '../../functions/ports';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { apiEvent } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { RecordingNotifier, residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
});
afterAll(async () => {
  await db?.close();
});

/** Each test its own addresses and clients: the table and the rate counters are shared. */
let serial = 0;
const fresh = () => {
  serial += 1;
  return {
    phone: `+3462${String(1_000_000 + serial).slice(-7)}`,
    email: `manager${serial}@example.org`,
    ip: `198.51.100.${serial % 250}`,
    client: `client-${serial}`,
  };
};

const codeIn = (notice: Notice | undefined) => /\b(\d{6})\b/.exec(notice?.text ?? '')?.[1] ?? '';
const otherThan = (code: string) => (code === '000000' ? '111111' : '000000');

/** What a promise was rejected with; a test failure if it resolved. */
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error as HttpProblem & { triesLeft?: number },
  );

function harness() {
  const clock = new ManualClock('2030-03-04T10:00:00.000Z');
  const logger = new RecordingLogger();
  const notifier = new RecordingNotifier();
  const deps: ApiDeps = {
    ...residents,
    notifier,
    store: db.store,
    queue: new RecordingQueue(),
    config: testConfig({ agencyName: 'Guàrdia Urbana' }),
    clock,
    newId: newUlid,
    logger,
  };
  const router = createRouter(deps, compileRoutes());
  const post = async (path: string, body: Record<string, unknown>, ip: string) => {
    const event = apiEvent({ method: 'POST', path, claims: null, body });
    event.requestContext.http.sourceIp = ip;
    const result = await router(event);
    const answer: Record<string, unknown> = JSON.parse(result.body ?? '{}');
    return { status: result.statusCode, body: answer };
  };
  const signUp = (body: Record<string, unknown>, ip: string) => post('/v1/subscriptions', body, ip);
  const confirm = (body: Record<string, unknown>, ip: string) => post('/v1/subscriptions/confirm', body, ip);
  const lastCode = () => codeIn(notifier.sent.at(-1));

  /** A confirmed subscriber, signed up and confirmed on the web (one of the address's three codes an hour). */
  const subscribe = async (address: string, zones: string[], ip: string, language = 'en') => {
    const channel = address.includes('@') ? 'email' : 'sms';
    expect((await signUp({ channel, address, zones, language }, ip)).status).toBe(202);
    expect((await confirm({ address, code: lastCode() }, ip)).status).toBe(200);
    const hash = await residents.pii.hash(address);
    return (await residents.subscribers.findSubscriber(channel, hash)) as Subscriber;
  };

  /** A session opened with the code sent to a confirmed subscriber. */
  const session = async (address: string, client: string) => {
    await sendManageCode(deps, { address }, client);
    return openManageSession(deps, { address, code: lastCode() }, client);
  };

  /** No address, code or other secret in any log line. */
  const noSecretsLogged = (...secrets: string[]) => {
    const logged = JSON.stringify(logger.lines);
    for (const secret of secrets) expect(logged).not.toContain(secret);
  };

  return { deps, clock, logger, notifier, signUp, confirm, subscribe, session, lastCode, noSecretsLogged };
}

// ---------------------------------------------------------------- the code

describe('sendManageCode', () => {
  it('sends a code only to a confirmed subscriber, and answers an unknown, a pending and a stopped address alike', async () => {
    // Prepare
    const h = harness();
    const [confirmed, stopped, pending, unknown] = [fresh(), fresh(), fresh(), fresh()];
    await h.subscribe(confirmed.phone, ['gracia'], confirmed.ip, 'ca');
    await endSubscription(h.deps, await h.subscribe(stopped.phone, ['gracia'], stopped.ip), 'web:test');
    await h.signUp({ channel: 'sms', address: pending.phone, zones: ['gracia'] }, pending.ip);
    const before = h.notifier.sent.length;

    // Act
    const answers = [];
    for (const who of [confirmed, stopped, pending, unknown])
      answers.push(await sendManageCode(h.deps, { address: who.phone }, who.client));

    // Assess
    const expiresAt = '2030-03-04T10:15:00.000Z';
    expect(answers).toEqual(
      [confirmed, stopped, pending, unknown].map((who) => ({
        channel: 'sms',
        address: `+34•••••••${who.phone.slice(-2)}`,
        expiresAt,
      })),
    );
    const sent = h.notifier.sent.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ channel: 'sms', address: confirmed.phone, kind: 'code' });
    expect(sent[0]?.text).toMatch(/^Guàrdia Urbana: el teu codi per gestionar les teves alertes és \d{6}\./);
    const hash = await residents.pii.hash(confirmed.phone);
    const challenge = await residents.subscribers.getChallenge('sms', hash);
    expect(challenge).toMatchObject({ purpose: 'manage', triesLeft: 5, expiresAt });
    h.noSecretsLogged(confirmed.phone.slice(3), codeIn(sent[0]));
  });

  it('shares the sign-up’s three codes an hour per address: the 4th, whichever page asks, is 429', async () => {
    // Prepare: two sign-up codes (one confirmed) and one manage code, each from another client.
    const h = harness();
    const { phone, ip } = fresh();
    await h.subscribe(phone, ['gracia'], ip);
    await h.signUp({ channel: 'sms', address: phone, zones: ['eixample'] }, `${ip}1`);
    await sendManageCode(h.deps, { address: phone }, fresh().client);
    const sent = h.notifier.sent.length;

    // Act
    const limited = await rejection(sendManageCode(h.deps, { address: phone }, fresh().client));
    h.clock.advance(60 * 60_000);
    const nextHour = await sendManageCode(h.deps, { address: phone }, fresh().client);

    // Assess
    expect(limited).toMatchObject({ status: 429, type: 'rate-limited', headers: { 'retry-after': '3600' } });
    expect(nextHour.channel).toBe('sms');
    expect(h.notifier.sent).toHaveLength(sent + 1);
  });
});

// ---------------------------------------------------------------- opening a session

describe('openManageSession', () => {
  it('opens a session with the code, once and in time, and logs it without the address or the code', async () => {
    // Prepare
    const h = harness();
    const { phone, ip, client } = fresh();
    const subscriber = await h.subscribe(phone, ['gracia'], ip);
    await sendManageCode(h.deps, { address: phone }, client);
    const code = h.lastCode();

    // Act
    const opened = await openManageSession(h.deps, { address: phone, code }, client);
    const again = await rejection(openManageSession(h.deps, { address: phone, code }, client));
    await sendManageCode(h.deps, { address: phone }, client);
    h.clock.advance(15 * 60_000 + 1);
    const late = await rejection(openManageSession(h.deps, { address: phone, code: h.lastCode() }, client));

    // Assess
    expect(opened.subscriber.id).toBe(subscriber.id);
    expect(opened.expiresAt).toBe('2030-03-04T10:30:00.000Z');
    expect(opened.token).toMatch(/^[\w-]+\.[\w-]+$/);
    expect(again).toMatchObject({ status: 410, type: 'code-expired' });
    expect(late).toMatchObject({ status: 410, detail: expect.stringMatching(/new code\.$/) });
    const line = h.logger.lines.find((l) => l.message === 'subscription.manage-opened');
    expect(line?.extra[0]).toMatchObject({
      audit: { action: 'subscription.manage-opened', actor: 'resident', subscriberId: subscriber.id },
    });
    h.noSecretsLogged(phone.slice(3), code, opened.token);
  });

  it('will not take a sign-up code, and a manage code will not confirm a sign-up', async () => {
    // Prepare: a subscriber asks on the sign-up page for one more zone.
    const h = harness();
    const { phone, ip, client } = fresh();
    await h.subscribe(phone, ['gracia'], ip);
    await h.signUp({ channel: 'sms', address: phone, zones: ['eixample'] }, ip);
    const signUpCode = h.lastCode();

    // Act
    const opened = await rejection(openManageSession(h.deps, { address: phone, code: signUpCode }, client));
    await sendManageCode(h.deps, { address: phone }, client);
    const confirmed = await h.confirm({ address: phone, code: h.lastCode() }, ip);

    // Assess
    expect(opened).toMatchObject({ status: 422, type: 'wrong-code', triesLeft: 4 });
    expect(confirmed.status).toBe(422);
    expect(confirmed.body).toMatchObject({ type: 'urn:herald:problem:wrong-code', triesLeft: 4 });
    const stored = await residents.subscribers.findSubscriber('sms', await residents.pii.hash(phone));
    expect(stored?.zones).toEqual(['gracia']);
  });

  it('counts wrong codes down to none, then refuses even the right one with 410', async () => {
    // Prepare
    const h = harness();
    const { phone, ip, client } = fresh();
    await h.subscribe(phone, ['gracia'], ip);
    await sendManageCode(h.deps, { address: phone }, client);
    const right = h.lastCode();
    const tries: (number | undefined)[] = [];
    const wrong = { address: phone, code: otherThan(right) };
    for (let i = 0; i < 5; i++) {
      const problem = await rejection(openManageSession(h.deps, wrong, client));
      expect(problem).toMatchObject({ status: 422, type: 'wrong-code' });
      expect(problem.errors).toEqual([{ path: '/code', message: expect.stringContaining('tries left') }]);
      tries.push(problem.triesLeft);
    }

    // Act
    const last = await rejection(openManageSession(h.deps, { address: phone, code: right }, client));

    // Assess
    expect(tries).toEqual([4, 3, 2, 1, 0]);
    expect(last).toMatchObject({ status: 410, type: 'code-expired' });
    expect(last.errors?.map((e) => e.path)).toEqual(['/code']);
  });

  it('answers a guess at an unknown address as at a subscriber’s: wrong code, tries counting down', async () => {
    // Prepare
    const h = harness();
    const subscriber = fresh();
    const stranger = fresh();
    await h.subscribe(subscriber.phone, ['gracia'], subscriber.ip);
    await sendManageCode(h.deps, { address: subscriber.phone }, subscriber.client);
    await sendManageCode(h.deps, { address: stranger.phone }, stranger.client);
    const guess = (who: typeof subscriber) =>
      rejection(openManageSession(h.deps, { address: who.phone, code: otherThan(h.lastCode()) }, who.client));

    // Act
    const atSubscriber = await guess(subscriber);
    const atStranger = await guess(stranger);

    // Assess
    const seen = (p: typeof atSubscriber) => [p.status, p.type, p.detail, p.errors, p.triesLeft];
    expect(seen(atStranger)).toEqual(seen(atSubscriber));
    expect(atStranger).toMatchObject({ status: 422, triesLeft: 4 });
  });
});

// ---------------------------------------------------------------- the session token

describe('readManageSession', () => {
  it('reads its own token back until it expires, and nothing malformed, forged or tampered', async () => {
    // Prepare
    const h = harness();
    const { phone, ip, client } = fresh();
    const subscriber = await h.subscribe(phone, ['gracia'], ip);
    const { token, expiresAt } = await h.session(phone, client);
    const [payload = '', mac = ''] = token.split('.');
    const swap = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const expiry = Math.floor(Date.parse('2030-03-05T00:00:00Z') / 1000);
    const forgedPayload = Buffer.from(`${subscriber.id}.${expiry}.nonce`).toString('base64url');

    // Act
    const malformed = [undefined, '', 'not-a-token', `${payload}.`, `${token}.${mac}`, `${payload}=.${mac}`];
    const forged = [`${forgedPayload}.${mac}`, `${forgedPayload}.${'A'.repeat(mac.length)}`];
    const ends = (s: string) => [swap(s, 0), swap(s, s.length - 1), s.slice(0, -1), `${s}A`];
    const tampered = [...ends(payload).map((p) => `${p}.${mac}`), ...ends(mac).map((m) => `${payload}.${m}`)];
    const tokens = [...malformed, ...forged, ...tampered, `${token}${'A'.repeat(600)}`];
    const read = await Promise.all(tokens.map((t) => readManageSession(h.deps, t)));
    const own = await readManageSession(h.deps, token);
    h.clock.advance(MANAGE_SESSION_MINUTES * 60_000 - 1000);
    const lastSecond = await readManageSession(h.deps, token);
    h.clock.advance(1000);
    const expired = await readManageSession(h.deps, token);

    // Assess
    expect(read).toEqual(tokens.map(() => undefined));
    expect(own).toEqual({ subscriber: expect.objectContaining({ id: subscriber.id }), expiresAt });
    expect(lastSecond?.subscriber.id).toBe(subscriber.id);
    expect(expired).toBeUndefined();
  });
});

describe('CSRF tokens', () => {
  it('match their own session only, compared whole', async () => {
    // Prepare
    const h = harness();
    const a = fresh();
    const b = fresh();
    await h.subscribe(a.phone, ['gracia'], a.ip);
    await h.subscribe(b.phone, ['gracia'], b.ip);
    const { token } = await h.session(a.phone, a.client);
    const { token: other } = await h.session(b.phone, b.client);

    // Act
    const csrf = await csrfTokenFor(h.deps, token);
    const tampered = `${csrf.slice(0, -1)}${csrf.endsWith('A') ? 'B' : 'A'}`;
    const refused = [
      [other, csrf],
      [token, await csrfTokenFor(h.deps, other)],
      [token, csrf.slice(0, -1)],
      [token, tampered],
      [token, undefined],
      [token, ''],
      [undefined, csrf],
    ];

    // Assess
    expect(csrf).not.toBe(token);
    expect(await checkCsrf(h.deps, token, csrf)).toBe(true);
    for (const [session, given] of refused) expect(await checkCsrf(h.deps, session, given)).toBe(false);
  });
});

// ---------------------------------------------------------------- changing and ending

describe('changeSubscription', () => {
  it('replaces the zones, sets and then clears quiet hours, audited, with the rosters following', async () => {
    // Prepare
    const h = harness();
    const { phone, ip, client } = fresh();
    const subscriber = await h.subscribe(phone, ['eixample'], ip);
    const evidence = `web:${client}`;
    const quietHours = { from: '22:00', to: '07:00' };
    const change = { zones: ['gracia', 'sants-montjuic'], language: 'es', quietHours };
    const roster = (zone: string) => residents.subscribers.rosterMembers(zone, 'sms', 'public');
    expect(await roster('eixample')).toContain(subscriber.id);

    // Act
    const changed = await changeSubscription(h.deps, subscriber, change, evidence);
    const cleared = await changeSubscription(h.deps, changed, { ...change, quietHours: null }, evidence);
    const unchanged = await changeSubscription(h.deps, cleared, { ...change, quietHours: null }, evidence);

    // Assess
    expect(changed).toMatchObject({ ...change, status: 'confirmed' });
    expect(cleared.quietHours).toBeUndefined();
    expect(unchanged).toEqual(cleared);
    const stored = await residents.subscribers.getSubscriber(subscriber.id);
    expect(stored).toEqual(cleared);
    expect(await roster('eixample')).not.toContain(subscriber.id);
    expect(await roster('gracia')).toContain(subscriber.id);
    expect(await roster('sants-montjuic')).toContain(subscriber.id);
    const trail = await residents.subscribers.subscriberAudit(subscriber.id);
    const web = { actor: 'resident', method: 'web' };
    expect(trail.slice(-2)).toEqual([
      expect.objectContaining({ action: 'changed', ...web, detail: 'quiet hours 22:00-07:00' }),
      expect.objectContaining({ action: 'quiet-hours-cleared', ...web }),
    ]);
    const logged = h.logger.lines.map((l) => l.message).filter((m) => /updated|quiet-hours/.test(m));
    expect(logged).toEqual(['subscription.updated', 'subscription.quiet-hours']);
    h.noSecretsLogged(phone.slice(3));
  });

  it('names every bad field with 400 and changes nothing', async () => {
    // Prepare
    const h = harness();
    const { phone, ip, client } = fresh();
    const subscriber = await h.subscribe(phone, ['eixample'], ip);
    const good = { zones: ['gracia'], language: 'ca', quietHours: null };
    const paths = async (change: unknown) => {
      const problem = await rejection(changeSubscription(h.deps, subscriber, change as typeof good, 'web:x'));
      return problem.status === 400 ? problem.errors?.map((e) => e.path) : problem;
    };

    const cases: [unknown, string[]][] = [
      [{ ...good, zones: ['atlantis'] }, ['/zones/0']],
      [{ ...good, zones: ['gracia', 'atlantis'] }, ['/zones/1']],
      [{ ...good, zones: [] }, ['/zones']],
      [{ ...good, language: 'fr' }, ['/language']],
      [{ ...good, quietHours: { from: '22:00', to: '22:00' } }, ['/quietHours/to']],
      [{ ...good, status: 'confirmed' }, ['/status']],
    ];

    // Act
    const named = [];
    for (const [change] of cases) named.push(await paths(change));
    const address = await rejection(sendManageCode(h.deps, { address: '612 34' }, client));
    const code = await rejection(openManageSession(h.deps, { address: phone, code: '12345' }, client));

    // Assess
    expect(named).toEqual(cases.map(([, paths]) => paths));
    expect(address.errors?.map((e) => e.path)).toEqual(['/address']);
    expect(code.errors?.map((e) => e.path)).toEqual(['/code']);
    expect(await residents.subscribers.getSubscriber(subscriber.id)).toEqual(subscriber);
  });

  it('leaves a subscription that was ended meanwhile ended: 409', async () => {
    // Prepare
    const h = harness();
    const { phone, ip } = fresh();
    const subscriber = await h.subscribe(phone, ['eixample'], ip);
    await endSubscription(h.deps, subscriber, 'web:test');

    // Act
    const change = { zones: ['gracia'], language: 'en', quietHours: null };
    const problem = await rejection(changeSubscription(h.deps, subscriber, change, 'web:test'));

    // Assess
    expect(problem).toMatchObject({ status: 409, type: 'conflict' });
    expect(await residents.subscribers.getSubscriber(subscriber.id)).toMatchObject({
      status: 'stopped',
      zones: ['eixample'],
    });
    expect(await residents.subscribers.rosterMembers('gracia', 'sms', 'public')).not.toContain(subscriber.id);
  });
});

describe('endSubscription', () => {
  it('stops the subscriber as STOP does, off every roster, audited once however often asked, its session over', async () => {
    // Prepare
    const h = harness();
    const { email, ip, client } = fresh();
    const subscriber = await h.subscribe(email, ['eixample', 'gracia'], ip);
    const { token } = await h.session(email, client);
    expect(h.notifier.sent.at(-1)?.subject).toBe('Guàrdia Urbana: your code to manage your subscription');
    const roster = (zone: string) => residents.subscribers.rosterMembers(zone, 'email', 'public');
    expect(await roster('gracia')).toContain(subscriber.id);

    // Act
    const ended = await endSubscription(h.deps, subscriber, `web:${client}`);
    const again = await endSubscription(h.deps, subscriber, `web:${client}`);

    // Assess
    expect(ended).toMatchObject({ status: 'stopped', stoppedAt: '2030-03-04T10:00:00.000Z' });
    expect(again).toEqual(ended);
    expect(await readManageSession(h.deps, token)).toBeUndefined();
    expect(await residents.subscribers.getSubscriber(subscriber.id)).toEqual(ended);
    for (const zone of ['eixample', 'gracia']) expect(await roster(zone)).not.toContain(subscriber.id);
    const trail = await residents.subscribers.subscriberAudit(subscriber.id);
    const stops = trail.filter((e) => e.action === 'stopped');
    expect(stops).toEqual([expect.objectContaining({ actor: 'resident', method: 'web' })]);
    const lines = h.logger.lines.filter((l) => l.message === 'subscription.stopped');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.extra[0]).toMatchObject({
      audit: { subscriberId: subscriber.id, status: 'stopped', method: 'web', evidence: `web:${client}` },
    });
    h.noSecretsLogged(email, email.split('@')[0] as string);
  });
});

describe('a session outlives nothing it was opened for', () => {
  it('opens nothing once the subscription it was opened on has ended and been confirmed again', async () => {
    const h = harness();
    const { email, ip, client } = fresh();
    const subscriber = await h.subscribe(email, ['gracia'], ip);
    const { token } = await h.session(email, client);
    await endSubscription(h.deps, subscriber, `web:${client}`);
    h.clock.advance(60_000);

    // Signed up again within the old session's 30 minutes (a new code: the address's third this hour).
    const again = await h.subscribe(email, ['gracia'], ip);

    expect(again.status).toBe('confirmed');
    expect(await readManageSession(h.deps, token)).toBeUndefined();
  });
});
