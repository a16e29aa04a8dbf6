/**
 * CAP and feeds through the api router with API Gateway 2.0 events, against DynamoStore on dynalite: a CAD system
 * posts an Alert, an Update and a Cancel as CAP; the public reads the CAP and the feeds, with ETags.
 */
import { parseAtomFeed } from 'feedsmith';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import type { ApiDeps } from '../../functions/api/alerts';
import { createRouter } from '../../functions/api/router';
import { capAlertId } from '../../functions/core/cap-import';
import { readCapXsd } from '../helpers/cap-fixtures';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

const XSD = readCapXsd();
const OFFICER = claimsFor('officer-1', ['officer']);

let db: DynaliteStore;
let call: (
  request: Parameters<typeof apiEvent>[0],
) => Promise<{ status: number; headers: Record<string, string>; text: string }>;
beforeAll(async () => {
  db = await startDynaliteStore();
  const deps: ApiDeps = {
    ...(await residentsDeps(db)),
    store: db.store,
    queue: new RecordingQueue(),
    config: testConfig(),
    clock: new ManualClock('2030-03-04T10:00:00.000Z'),
    newId: newUlid,
    logger: new RecordingLogger(),
  };
  const router = createRouter(deps);
  call = async (request) => {
    const result = await router(apiEvent(request));
    return { status: result.statusCode ?? 0, headers: result.headers, text: result.body ?? '' };
  };
});
afterAll(async () => {
  await db?.close();
});

const cad = (
  msgType: string,
  identifier: string,
  sent: string,
  extra: { references?: string; headline?: string; expires?: string; note?: string } = {},
) => `<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>${identifier}</identifier>
  <sender>cad@fire.example.org</sender>
  <sent>${sent}</sent>
  <status>Actual</status>
  <msgType>${msgType}</msgType>
  <scope>Public</scope>
  ${extra.note ? `<note>${extra.note}</note>` : ''}
  ${extra.references ? `<references>${extra.references}</references>` : ''}
  <info>
    <language>en</language>
    <category>Fire</category>
    <event>Wildfire</event>
    <urgency>Immediate</urgency>
    <severity>Severe</severity>
    <certainty>Observed</certainty>
    <expires>${extra.expires ?? '2030-03-05T10:00:00-00:00'}</expires>
    <headline>${extra.headline ?? 'Wildfire near Collserola &amp; Vallvidrera'}</headline>
    <description>Keep windows closed.</description>
    <area><areaDesc>Collserola</areaDesc><circle>41.42,2.10 3</circle></area>
  </info>
</alert>`;

const postCap = (path: string, xml: string, query = '?channels=x,email') =>
  call({
    method: 'POST',
    path: `${path}${query}`,
    body: xml,
    headers: { 'content-type': 'application/cap+xml' },
    claims: OFFICER,
  });

async function xsdErrors(xml: string) {
  return (
    await validateXML({
      xml: [{ fileName: 'a.cap', contents: xml }],
      schema: [{ fileName: 'cap.xsd', contents: XSD }],
    })
  ).errors;
}

describe('CAP in and out, and the feeds', () => {
  const alertId = capAlertId('cad@fire.example.org', 'CAD-1');
  const alertRef = 'cad@fire.example.org,CAD-1,2030-03-04T09:55:00-00:00';

  it('creates an alert from a CAP Alert, under an id its later messages can find', async () => {
    const res = await postCap('/v1/alerts', cad('Alert', 'CAD-1', '2030-03-04T09:55:00-00:00'));
    expect(res.status).toBe(201);
    expect(res.headers.location).toBe(`/v1/alerts/${alertId}`);
    expect(JSON.parse(res.text)).toMatchObject({
      id: alertId,
      version: 1,
      headline: 'Wildfire near Collserola & Vallvidrera',
      channels: ['x', 'email'],
    });
  });

  it('refuses the same CAP Alert posted again instead of publishing it twice', async () => {
    const res = await postCap('/v1/alerts', cad('Alert', 'CAD-1', '2030-03-04T09:55:00-00:00'));
    expect(res.status).toBe(409);
  });

  it('serves the public CAP at /v1/alerts/{id}.cap, schema-valid, cacheable, 304 on If-None-Match', async () => {
    const res = await call({ method: 'GET', path: `/v1/alerts/${alertId}.cap`, claims: null });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/cap+xml; charset=utf-8');
    expect(res.headers['cache-control']).toMatch(/public, max-age=\d+/);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(await xsdErrors(res.text)).toEqual([]);
    expect(res.text).toContain('<headline>Wildfire near Collserola &amp; Vallvidrera</headline>');
    const again = await call({
      method: 'GET',
      path: `/v1/alerts/${alertId}.cap`,
      headers: { 'if-none-match': res.headers.etag! },
      claims: null,
    });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });

  it('makes a CAP Update whose references name the Alert the next version of that alert', async () => {
    const res = await postCap(
      '/v1/alerts',
      cad('Update', 'CAD-2', '2030-03-04T10:00:00-00:00', {
        references: alertRef,
        headline: 'Wildfire contained',
      }),
      '',
    );
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text)).toMatchObject({
      id: alertId,
      version: 2,
      msgType: 'Update',
      headline: 'Wildfire contained',
      channels: ['x', 'email'],
    });
    const v2 = await call({ method: 'GET', path: `/v1/alerts/${alertId}/versions/2.cap`, claims: null });
    expect(v2.status).toBe(200);
    expect(v2.headers['cache-control']).toContain('immutable');
    expect(await xsdErrors(v2.text)).toEqual([]);
    expect(v2.text).toMatch(
      new RegExp(`<references>${testConfig().sender},herald-${alertId}-v1,[^<]+</references>`),
    );
  });

  it('lists the alert in the feeds, with ETags that answer 304', async () => {
    const atom = await call({ method: 'GET', path: '/v1/feed.atom', claims: null });
    expect(atom.status).toBe(200);
    expect(atom.headers['content-type']).toBe('application/atom+xml; charset=utf-8');
    const feed = parseAtomFeed(atom.text);
    expect(feed.entries?.map((e) => e.title?.value)).toEqual(['Wildfire contained']);
    expect(feed.entries?.[0]?.links?.find((l) => l.type === 'application/cap+xml')?.href).toBe(
      `${testConfig().publicBaseUrl}/v1/alerts/${alertId}.cap`,
    );
    const notModified = await call({
      method: 'GET',
      path: '/v1/feed.atom',
      headers: { 'if-none-match': atom.headers.etag! },
      claims: null,
    });
    expect(notModified.status).toBe(304);
    for (const path of ['/v1/feed.rss', '/v1/feed.json']) {
      const res = await call({ method: 'GET', path, claims: null });
      expect(res.status).toBe(200);
      // Pages on other sites (aggregators, news desks) may read the feeds from a browser.
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.text).toContain('Wildfire contained');
    }
  });

  it('cancels the alert with a CAP Cancel, its note as the reason', async () => {
    const res = await postCap(
      '/v1/alerts',
      cad('Cancel', 'CAD-3', '2030-03-04T10:00:00-00:00', { references: alertRef, note: 'Fire out' }),
      '',
    );
    expect(res.status).toBe(201);
    expect(JSON.parse(res.text)).toMatchObject({
      version: 3,
      msgType: 'Cancel',
      note: 'Fire out',
      state: 'cancelled',
    });
  });

  it('refuses an Update whose references name nothing Herald knows', async () => {
    const res = await postCap(
      '/v1/alerts',
      cad('Update', 'CAD-9', '2030-03-04T10:00:00-00:00', {
        references: 'cad@fire.example.org,NOPE,2030-03-04T09:00:00-00:00',
      }),
    );
    expect(res.status).toBe(422);
    expect(JSON.parse(res.text).errors).toEqual([{ path: '/alert/references', message: expect.any(String) }]);
  });

  it('refuses an expired message with 422, and previews it with a warning', async () => {
    const expired = cad('Alert', 'CAD-OLD', '2030-03-01T09:00:00-00:00', {
      expires: '2030-03-02T09:00:00-00:00',
    });
    const refused = await postCap('/v1/alerts', expired);
    expect(refused.status).toBe(422);
    expect(JSON.parse(refused.text).errors).toEqual([
      { path: '/alert/info/0/expires', message: 'is in the past (2030-03-02T09:00:00-00:00)' },
    ]);
    const preview = await postCap('/v1/alerts/preview', expired);
    expect(preview.status).toBe(200);
    expect(JSON.parse(preview.text).cap).toMatchObject({
      msgType: 'Alert',
      expired: true,
      warnings: [expect.stringMatching(/expired/)],
    });
  });

  it('answers problem+json naming the element for CAP the schema refuses', async () => {
    const res = await postCap(
      '/v1/alerts',
      cad('Alert', 'CAD-5', '2030-03-04T09:55:00-00:00').replace(
        '<urgency>Immediate</urgency>',
        '<urgency>Soon</urgency>',
      ),
    );
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(JSON.parse(res.text).errors).toEqual([
      {
        path: '/alert/info/0/urgency',
        message: expect.stringMatching(/'Soon' is not an element of the set/),
      },
    ]);
  });
});
