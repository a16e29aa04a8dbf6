/**
 * Quiet hours through the API, against the real subscriber store and PII cipher on dynalite: QUIET by text (answered in
 * the resident's language, audited, nothing changed by a form it does not take), quiet hours on the web sign-up
 * (applied only when the code comes back), and the preview's count of who would wait and until when.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { handleInboundSms } from '../../functions/api/inbound-sms';
import { createRouter } from '../../functions/api/router';
import type { Subscriber } from '../../functions/core/model';
import type { Notice, Notifier } from '../../functions/ports';
import { maskPhone } from '../../functions/shared/mask';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
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

const OFFICER = claimsFor('officer-1', ['officer']);
// 10:00 UTC on a winter Monday: 11:00 in Madrid.
const NOW = '2030-03-04T10:00:00.000Z';

class RecordingNotifier implements Notifier {
  readonly sent: Notice[] = [];
  async send(notice: Notice): Promise<void> {
    this.sent.push(notice);
  }
}

let serial = 0;
const fresh = () => {
  serial += 1;
  return {
    phone: `+3466${String(2_000_000 + serial).slice(-7)}`,
    email: `quiet${serial}@example.org`,
    ip: `198.51.100.${serial % 250}`,
  };
};

function harness() {
  const notifier = new RecordingNotifier();
  const clock = new ManualClock(NOW);
  const deps: ApiDeps = {
    ...residents,
    notifier,
    store: db.store,
    queue: new RecordingQueue(),
    config: testConfig({ agencyName: 'Guàrdia Urbana', timeZone: 'Europe/Madrid' }),
    clock,
    newId: newUlid,
    logger: new RecordingLogger(),
  };
  const router = createRouter(deps);
  const call = async (request: Parameters<typeof apiEvent>[0] & { ip?: string }) => {
    const event = apiEvent(request);
    if (request.ip) event.requestContext.http.sourceIp = request.ip;
    const result = await router(event);
    const text = result.body ?? '';
    // biome-ignore lint/suspicious/noExplicitAny: answers are read field by field, as a client reads them
    const body: Record<string, any> = /json/.test(result.headers['content-type'] ?? '')
      ? JSON.parse(text)
      : {};
    return { status: result.statusCode ?? 0, body };
  };
  const text = (from: string, body: string) => handleInboundSms(deps, { from, body, via: 'sandbox' });
  return { deps, clock, notifier, call, text };
}

const subscriberOf = async (channel: 'sms' | 'email', address: string) =>
  residents.subscribers.findSubscriber(channel, await residents.pii.hash(address));
const codeIn = (notice: Notice | undefined) => /\b(\d{6})\b/.exec(notice?.text ?? '')?.[1] ?? '';

describe('QUIET by text', () => {
  it('sets quiet hours, answers in the resident’s language, audits the change and indexes them', async () => {
    // Prepare
    const { text, notifier, clock } = harness();
    const { phone } = fresh();
    await text(phone, 'ALTA eixample');
    clock.advance(60_000);

    // Act
    const outcome = await text(phone, 'SILENCIO 22-07');

    // Assess
    const resident = await subscriberOf('sms', phone);
    expect(resident?.quietHours).toEqual({ from: '22:00', to: '07:00' });
    expect(outcome).toMatchObject({ keyword: 'quiet', subscriberId: resident!.id });
    expect(notifier.sent.at(-1)?.text).toBe(
      'Guàrdia Urbana: horas de silencio de 22:00 a 07:00. Las alertas no urgentes esperan hasta las 07:00; las emergencias llegan al momento. Responde QUIET OFF para quitarlas.',
    );
    expect((await residents.subscribers.subscriberAudit(resident!.id)).at(-1)).toMatchObject({
      action: 'quiet-hours-set',
      actor: 'resident',
      method: 'sms-keyword',
      detail: 'quiet hours 22:00-07:00',
    });
    const index = await residents.subscribers.quietMembers('eixample', 'sms', 'public');
    expect(index.find((e) => e.window.from === '22:00' && e.window.to === '07:00')?.ids).toContain(
      resident!.id,
    );
  });

  it('turns them off with QUIET OFF, audited, and says so', async () => {
    // Prepare
    const { text, notifier, clock } = harness();
    const { phone } = fresh();
    await text(phone, 'JOIN gracia');
    clock.advance(1000);
    await text(phone, 'QUIET 23:30-06:45');
    clock.advance(1000);

    // Act
    await text(phone, 'quiet off');

    // Assess
    const resident = await subscriberOf('sms', phone);
    expect(resident?.quietHours).toBeUndefined();
    expect(notifier.sent.at(-1)?.text).toBe(
      'Guàrdia Urbana: quiet hours are off. Alerts come as soon as they are sent.',
    );
    const trail = await residents.subscribers.subscriberAudit(resident!.id);
    expect(trail.map((e) => e.action).slice(-2)).toEqual(['quiet-hours-set', 'quiet-hours-cleared']);
    const index = await residents.subscribers.quietMembers('gracia', 'sms', 'public');
    expect(index.flatMap((e) => e.ids)).not.toContain(resident!.id);
  });

  it.each(['QUIET', 'QUIET 25-07', 'quiet 7-7', 'QUIET tonight'])(
    'answers %j with how to write it, and changes nothing',
    async (body) => {
      // Prepare
      const { text, notifier, clock } = harness();
      const { phone } = fresh();
      await text(phone, 'JOIN les-corts');
      const before = await subscriberOf('sms', phone);
      const events = (await residents.subscribers.subscriberAudit(before!.id)).length;
      clock.advance(1000);

      // Act
      const outcome = await text(phone, body);

      // Assess
      expect(outcome.keyword).toBe('quiet');
      expect(notifier.sent.at(-1)?.text).toMatch(/to set quiet hours reply QUIET and two times.*QUIET 22-07/);
      expect(await subscriberOf('sms', phone)).toEqual(before);
      expect(await residents.subscribers.subscriberAudit(before!.id)).toHaveLength(events);
    },
  );

  it('tells a number that is not subscribed to JOIN first, and stores nothing', async () => {
    // Prepare
    const { text, notifier } = harness();
    const { phone } = fresh();

    // Act
    await text(phone, 'QUIET 22-07');

    // Assess
    expect(notifier.sent.at(-1)?.text).toMatch(/not subscribed yet\. Reply JOIN <zone> first/);
    expect(await subscriberOf('sms', phone)).toBeUndefined();
  });
});

describe('quiet hours on the web sign-up', () => {
  it('are set with a new sign-up once the code comes back', async () => {
    // Prepare
    const { call, notifier } = harness();
    const { email, ip } = fresh();

    // Act
    const asked = await call({
      method: 'POST',
      path: '/v1/subscriptions',
      claims: null,
      ip,
      body: {
        channel: 'email',
        address: email,
        zones: ['eixample'],
        quietHours: { from: '22:00', to: '07:00' },
      },
    });
    const confirmed = await call({
      method: 'POST',
      path: '/v1/subscriptions/confirm',
      claims: null,
      ip,
      body: { address: email, code: codeIn(notifier.sent.at(-1)) },
    });

    // Assess
    expect(asked.status).toBe(202);
    expect(confirmed.status).toBe(200);
    expect(confirmed.body.quietHours).toEqual({ from: '22:00', to: '07:00' });
    const resident = await subscriberOf('email', email);
    expect(resident?.quietHours).toEqual({ from: '22:00', to: '07:00' });
    expect((await residents.subscribers.subscriberAudit(resident!.id)).at(-1)).toMatchObject({
      action: 'confirmed',
      method: 'web',
      detail: 'quiet hours 22:00-07:00',
    });
  });

  it('do not change for a subscribed address until its code comes back: a stranger cannot set or clear them', async () => {
    // Prepare: a confirmed resident with quiet hours
    const { call, notifier, text, clock } = harness();
    const { phone, ip } = fresh();
    await text(phone, 'JOIN sants-montjuic');
    clock.advance(1000);
    await text(phone, 'QUIET 22-07');
    clock.advance(1000);

    // Act: someone asks to clear them, and never has the code; then the resident asks for other hours and confirms
    const stranger = await call({
      method: 'POST',
      path: '/v1/subscriptions',
      claims: null,
      ip,
      body: { channel: 'sms', address: phone, zones: ['sants-montjuic'], quietHours: null },
    });
    const afterStranger = await subscriberOf('sms', phone);
    clock.advance(60_000);
    await call({
      method: 'POST',
      path: '/v1/subscriptions',
      claims: null,
      ip,
      body: {
        channel: 'sms',
        address: phone,
        zones: ['sants-montjuic'],
        quietHours: { from: '23:00', to: '08:30' },
      },
    });
    const confirmed = await call({
      method: 'POST',
      path: '/v1/subscriptions/confirm',
      claims: null,
      ip,
      body: { address: phone, code: codeIn(notifier.sent.at(-1)) },
    });

    // Assess
    expect(stranger.status).toBe(202);
    expect(afterStranger?.quietHours).toEqual({ from: '22:00', to: '07:00' });
    expect(confirmed.status).toBe(200);
    const resident = await subscriberOf('sms', phone);
    expect(resident?.quietHours).toEqual({ from: '23:00', to: '08:30' });
    expect((await residents.subscribers.subscriberAudit(resident!.id)).at(-1)).toMatchObject({
      action: 'quiet-hours-set',
      method: 'web',
      detail: 'quiet hours 23:00-08:30',
    });
  });

  it.each([
    [{ from: '22:00', to: '22:00' }, '/quietHours/to'],
    [{ from: '10pm', to: '07:00' }, '/quietHours/from'],
    [{ from: '22:00' }, '/quietHours/to'],
    [{ from: '22:00', to: '07:00', days: 'weekdays' }, '/quietHours/days'],
  ])('refuses quietHours %j with a 400 naming %s, and sends no code', async (quietHours, path) => {
    // Prepare
    const { call, notifier } = harness();
    const { email, ip } = fresh();

    // Act
    const res = await call({
      method: 'POST',
      path: '/v1/subscriptions',
      claims: null,
      ip,
      body: { channel: 'email', address: email, zones: ['eixample'], quietHours },
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
    expect(notifier.sent).toEqual([]);
  });
});

describe('the preview counts who would wait, and until when', () => {
  /** Confirmed residents of `zone`, made in the store as sign-ups leave them. */
  async function people(
    zone: string,
    count: number,
    channel: 'sms' | 'email',
    quietHours?: Subscriber['quietHours'],
  ) {
    for (let i = 0; i < count; i++) {
      const { phone, email } = fresh();
      const address = channel === 'sms' ? phone : email;
      await residents.subscribers.createSubscriber({
        id: newUlid(),
        channel,
        addressHash: await residents.pii.hash(address),
        addressCipher: await residents.pii.encrypt(address),
        addressMasked: channel === 'sms' ? maskPhone(address) : 'q•••@e•••.org',
        zones: [zone],
        language: 'en',
        status: 'confirmed',
        audience: 'public',
        ...(quietHours ? { quietHours } : {}),
        createdAt: NOW,
        updatedAt: NOW,
        confirmedAt: NOW,
      });
    }
  }

  async function preview(zone: string, changes: Record<string, unknown>) {
    const { call } = harness();
    const res = await call({
      method: 'POST',
      path: '/v1/alerts/preview',
      claims: OFFICER,
      body: {
        ...structuredClone(draftFixture),
        translations: [],
        areas: [{ zone, areaDesc: zone }],
        channels: ['sms', 'email'],
        ...changes,
      },
    });
    expect(res.status).toBe(200);
    return res.body;
  }

  let zone: string;
  beforeAll(async () => {
    // 11:00 in Madrid: 10:00–13:00 holds it (until 12:00 UTC), 09:00–11:30 too (until 10:30 UTC), 22:00–07:00 not.
    zone = `quiet-preview-${randomUUID().slice(0, 8)}`;
    await people(zone, 3, 'sms', { from: '10:00', to: '13:00' });
    await people(zone, 1, 'email', { from: '10:00', to: '13:00' });
    await people(zone, 2, 'sms', { from: '09:00', to: '11:30' });
    await people(zone, 4, 'sms', { from: '22:00', to: '07:00' });
    await people(zone, 5, 'sms');
  });

  it('counts the subscribers of the draft’s zones in quiet hours now, by when theirs end', async () => {
    // Act
    const body = await preview(zone, { urgency: 'Expected', severity: 'Moderate' });

    // Assess
    expect(body.quietHours).toEqual({
      at: NOW,
      timeZone: 'Europe/Madrid',
      urgent: false,
      deferred: 6,
      byChannel: { sms: 5, email: 1 },
      until: [
        { at: '2030-03-04T10:30:00.000Z', local: '11:30', count: 2 },
        { at: '2030-03-04T12:00:00.000Z', local: '13:00', count: 4 },
      ],
      summary:
        '6 subscribers are in quiet hours then and would get it when they end: 2 at 11:30, 4 at 13:00 (Europe/Madrid).',
    });
    expect(body.channels.sms.reach.recipients).toBe(14);
  });

  it('counts at the draft’s publishAt when it has one', async () => {
    // Act: 23:30 in Madrid that evening
    const body = await preview(zone, {
      urgency: 'Expected',
      severity: 'Minor',
      publishAt: '2030-03-04T23:30:00+01:00',
    });

    // Assess
    expect(body.quietHours).toMatchObject({
      at: '2030-03-04T22:30:00.000Z',
      deferred: 4,
      until: [{ at: '2030-03-05T06:00:00.000Z', local: '07:00', count: 4 }],
    });
  });

  it('says nobody waits for an urgent draft', async () => {
    // Act
    const body = await preview(zone, { urgency: 'Immediate', severity: 'Extreme' });

    // Assess
    expect(body.quietHours).toMatchObject({ urgent: true, deferred: 0, until: [] });
  });

  it('leaves the count out for a draft that reaches nobody by SMS or email', async () => {
    // Act
    const body = await preview(zone, { channels: ['x'], urgency: 'Expected', severity: 'Minor' });

    // Assess
    expect(body).not.toHaveProperty('quietHours');
  });
});
