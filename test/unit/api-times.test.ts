/**
 * CAP's times through the api router (API Gateway 2.0 events, DynamoStore on dynalite): a create or an update whose
 * times are out of order is a 400 naming the field; the preview shows the times on the agency's clock
 * (HERALD_TIME_ZONE) with its warnings; GET /v1/zones names that clock for the console; CAP in carries the times,
 * and refuses what Herald refuses, naming the element.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { createRouter } from '../../functions/api/router';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

const NOW = '2030-03-04T10:00:00.000Z';
const OFFICER = claimsFor('officer-1', ['officer']);

let db: DynaliteStore;
let call: (
  request: Parameters<typeof apiEvent>[0],
) => Promise<{ status: number; headers: Record<string, string>; body: Record<string, unknown> }>;
beforeAll(async () => {
  db = await startDynaliteStore();
  const deps: ApiDeps = {
    ...(await residentsDeps(db)),
    store: db.store,
    queue: new RecordingQueue(),
    config: testConfig({ timeZone: 'Europe/Madrid' }),
    clock: new ManualClock(NOW),
    newId: newUlid,
    logger: new RecordingLogger(),
  };
  const router = createRouter(deps);
  call = async (request) => {
    const result = await router(apiEvent(request));
    const text = result.body ?? '';
    return {
      status: result.statusCode ?? 0,
      headers: result.headers,
      body: /json/.test(result.headers['content-type'] ?? '') && text ? JSON.parse(text) : {},
    };
  };
});
afterAll(async () => {
  await db?.close();
});

const draft = (times: Record<string, unknown>) => ({
  ...structuredClone(draftFixture),
  channels: ['x'],
  ...times,
});
const ON_TIME = {
  effective: '2030-03-04T11:00:00+01:00',
  onset: '2030-03-05T08:00:00+01:00',
  expires: '2030-03-05T14:00:00+01:00',
};

describe('POST /v1/alerts with CAP times', () => {
  it('keeps the times as the officer wrote them', async () => {
    const res = await call({ method: 'POST', path: '/v1/alerts', body: draft(ON_TIME), claims: OFFICER });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject(ON_TIME);
  });

  it('refuses times out of order with 400, each problem naming its field', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/alerts',
      body: draft({ ...ON_TIME, onset: '2030-03-04T09:00:00+01:00', expires: '2030-03-04T10:30:00+01:00' }),
      claims: OFFICER,
    });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body.errors).toEqual([
      { path: '/expires', message: expect.stringMatching(/must be after effective/) },
    ]);
  });

  it('refuses an update whose own times are out of order with 400 naming /expires', async () => {
    const created = await call({ method: 'POST', path: '/v1/alerts', body: draft({}), claims: OFFICER });
    expect(created.status).toBe(201);
    const res = await call({
      method: 'POST',
      path: `/v1/alerts/${created.body.id as string}/updates`,
      body: { onset: '2030-03-05T08:00:00+01:00', expires: '2030-03-05T07:00:00Z' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: '/expires', message: expect.stringMatching(/must be after onset/) },
    ]);
  });
});

describe('POST /v1/alerts/preview: the times as residents will read them', () => {
  const preview = async (body: unknown) => {
    const res = await call({ method: 'POST', path: '/v1/alerts/preview', body, claims: OFFICER });
    expect(res.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: the answer is read field by field, as a client reads it
    return res.body as Record<string, any>;
  };

  it("answers times on the agency's clock, in the alert's language, and the line the email carries", async () => {
    const body = await preview(draft(ON_TIME));
    expect(body.times).toMatchObject({
      timeZone: 'Europe/Madrid',
      sent: { at: '2030-03-04T10:00:00-00:00', local: 'Mon, Mar 4, 11:00' },
      onset: { at: '2030-03-05T07:00:00-00:00', local: 'Tue, Mar 5, 08:00' },
      expires: { at: '2030-03-05T13:00:00-00:00', local: 'Tue, Mar 5, 14:00' },
    });
    expect(body.times.text.replace(/\s/g, ' ')).toBe('Tue, Mar 5, 08:00 – 14:00');
    expect(body.warnings.join(' ')).not.toMatch(/expires/);
  });

  it('warns, beside the others, when the alert expires minutes after it goes out', async () => {
    const body = await preview(draft({ expires: '2030-03-04T11:10:00+01:00' }));
    expect(body.warnings).toContainEqual(expect.stringMatching(/^expires 10 min after it goes out/));
  });

  it('counts from publishAt when the version is scheduled', async () => {
    const body = await preview(
      draft({ publishAt: '2030-03-04T18:00:00+01:00', expires: '2030-03-04T17:00:00+01:00' }),
    );
    expect(body.times.sent).toEqual({ at: '2030-03-04T17:00:00-00:00', local: 'Mon, Mar 4, 18:00' });
    expect(body.warnings).toContainEqual(
      expect.stringMatching(/before it goes out: it would arrive expired/),
    );
  });

  it('answers 400 naming /expires rather than a preview when onset is after expires', async () => {
    const res = await call({
      method: 'POST',
      path: '/v1/alerts/preview',
      body: draft({ onset: '2030-03-05T15:00:00+01:00', expires: '2030-03-05T14:00:00+01:00' }),
      claims: OFFICER,
    });
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([
      { path: '/expires', message: expect.stringMatching(/must be after onset/) },
    ]);
  });
});

describe("GET /v1/zones names the agency's clock", () => {
  it('answers the configured time zone beside the zones', async () => {
    const res = await call({ method: 'GET', path: '/v1/zones', claims: null });
    expect(res.status).toBe(200);
    expect(res.body.timeZone).toBe('Europe/Madrid');
  });
});

describe('CAP in: the times of a CAD message', () => {
  const cad = (identifier: string, times: string) => `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>${identifier}</identifier>
  <sender>cad@fire.example.org</sender>
  <sent>2030-03-04T09:55:00-00:00</sent>
  <status>Actual</status>
  <msgType>Alert</msgType>
  <scope>Public</scope>
  <info>
    <category>Fire</category>
    <event>Wildfire</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    ${times}
    <headline>Wildfire near Collserola</headline>
    <description>Keep windows closed.</description>
  </info>
</alert>`;
  const postCap = (xml: string) =>
    call({
      method: 'POST',
      path: '/v1/alerts?channels=x',
      body: xml,
      headers: { 'content-type': 'application/cap+xml' },
      claims: OFFICER,
    });

  it('creates the alert with its effective, onset and expires', async () => {
    const res = await postCap(
      cad(
        'CAD-T1',
        '<effective>2030-03-04T10:00:00-00:00</effective><onset>2030-03-04T11:00:00+01:00</onset><expires>2030-03-04T18:00:00-00:00</expires>',
      ),
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      effective: '2030-03-04T10:00:00-00:00',
      onset: '2030-03-04T11:00:00+01:00',
      expires: '2030-03-04T18:00:00-00:00',
    });
  });

  it('imports an onset before effective (an event already under way) and refuses an expires before effective', async () => {
    const ongoing = await postCap(
      cad(
        'CAD-T2',
        '<effective>2030-03-04T10:00:00-00:00</effective><onset>2030-03-04T09:00:00-00:00</onset>',
      ),
    );
    expect(ongoing.status).toBe(201);
    const res = await postCap(
      cad(
        'CAD-T3',
        '<effective>2030-03-04T10:00:00-00:00</effective><expires>2030-03-04T09:00:00-00:00</expires>',
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual({
      path: '/alert/info/0/expires',
      message: expect.stringMatching(/effective/),
    });
  });
});
