/**
 * POST /v1/alerts/preview and the public alert page GET /alerts/{id}, through the api router with API Gateway
 * 2.0 events, against DynamoStore on dynalite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { PREVIEW_ALERT_ID } from '../../functions/api/preview';
import { createRouter } from '../../functions/api/router';
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
const draft = (changes: Record<string, unknown> = {}) => ({ ...structuredClone(draftFixture), ...changes });

function harness() {
  const queue = new RecordingQueue();
  const deps: ApiDeps = {
    ...residents,
    store: db.store,
    queue,
    config: testConfig(),
    clock: new ManualClock('2030-03-04T10:00:00.000Z'),
    newId: newUlid,
    logger: new RecordingLogger(),
  };
  const router = createRouter(deps);
  const call = async (request: Parameters<typeof apiEvent>[0]) => {
    const result = await router(apiEvent(request));
    const text = result.body ?? '';
    return {
      status: result.statusCode ?? 0,
      headers: result.headers,
      text,
      body: /json/.test(result.headers['content-type'] ?? '') ? JSON.parse(text) : {},
    };
  };
  const preview = async (body: unknown) => {
    const res = await call({ method: 'POST', path: '/v1/alerts/preview', body, claims: OFFICER });
    expect(res.status).toBe(200);
    // biome-ignore lint/suspicious/noExplicitAny: the answer is read field by field, as a client reads it
    return res.body as Record<string, any>;
  };
  const create = async (body: unknown) => {
    const res = await call({ method: 'POST', path: '/v1/alerts', body, claims: OFFICER });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  return { call, preview, create, queue };
}

describe('POST /v1/alerts/preview', () => {
  it('answers every channel in the shape api.md fixes, the alert language on top and each translation under languages', async () => {
    // Prepare
    const { preview } = harness();

    // Act
    const body = await preview(
      draft({ channels: ['x', 'facebook', 'instagram', 'sms', 'email', 'webhook'], web: undefined }),
    );

    // Assess
    const { x, facebook, instagram, sms, email, webhook } = body.channels;
    expect(body.languages).toEqual(['en', 'ca']);
    expect(body.approvalRequired).toBe(false);
    expect(body.link).toBe(`http://localhost:3000/alerts/${PREVIEW_ALERT_ID}`);
    expect(body.warnings.join(' ')).toMatch(/no web link/);
    expect(x).toMatchObject({ language: 'en', limit: 280, fits: true, warnings: [] });
    expect(x.weightedLength).toBeGreaterThan(100);
    expect(x.languages.ca).toMatchObject({ language: 'ca', fits: true });
    expect(x.languages.ca.text.startsWith(draftFixture.translations[0]!.headline)).toBe(true);
    // Where the messages lead (body.link) is reached through each channel's own counting link.
    expect(facebook).toMatchObject({
      language: 'en',
      link: `http://localhost:3000/a/${PREVIEW_ALERT_ID}/f`,
      fits: true,
    });
    // The alert has no image: the preview carries the very card Instagram would get, per language, as a data: URL.
    expect(instagram).toMatchObject({ fits: true, image: { source: 'card', width: 1080, height: 1350 } });
    expect(instagram.image.url).toMatch(/^data:image\/jpeg;base64,/);
    const jpeg = Buffer.from(instagram.image.url.slice('data:image/jpeg;base64,'.length), 'base64');
    expect([...jpeg.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(instagram.image.alt).toContain(draftFixture.headline);
    expect(instagram.languages.ca.image.url).toMatch(/^data:image\/jpeg;base64,/);
    expect(instagram.languages.ca.image.alt).toContain(draftFixture.translations[0]!.headline);
    expect(instagram.caption.length).toBe(instagram.characters);
    expect(instagram.warnings.join(' ')).toMatch(/alert card/);
    expect(sms).toMatchObject({ encoding: 'GSM-7', maxSegments: 2, fits: true });
    expect(sms.segments).toBeGreaterThanOrEqual(1);
    expect(sms.wea90).toMatchObject({ limit: 90, fits: true });
    expect(sms.wea360).toMatchObject({ limit: 360, fits: true });
    // The SMS carries its own counted link; cell broadcast is not Herald's SMS, so it keeps the alert's own.
    expect(sms.text).toContain(`/a/${PREVIEW_ALERT_ID}/s`);
    expect(sms.wea360.text).not.toContain(`/a/${PREVIEW_ALERT_ID}`);
    expect(sms.wea360.text).toContain(`/alerts/${PREVIEW_ALERT_ID}`);
    expect(sms.languages.ca.encoding).toBe('UCS-2');
    expect(email).toMatchObject({ subject: draftFixture.headline });
    expect(email.html).toContain('<!doctype html>');
    expect(email.languages.ca.subject).toBe(draftFixture.translations[0]!.headline);
    expect(webhook.payload).toMatchObject({
      type: 'alert.created',
      data: { headline: draftFixture.headline },
    });
    expect(webhook).not.toHaveProperty('languages');
  });

  it("shows the alert's image to Instagram, and flags an exercise and an approval", async () => {
    // Prepare
    const { preview } = harness();

    // Act
    const body = await preview(
      draft({
        status: 'Exercise',
        severity: 'Extreme',
        channels: ['instagram'],
        image: { url: 'https://img.example/boy.jpg', alt: 'Boy in a red coat' },
      }),
    );

    // Assess
    expect(body.approvalRequired).toBe(true);
    expect(body.warnings.join(' ')).toMatch(/status Exercise/);
    expect(body.channels.instagram.image).toEqual({
      source: 'alert',
      url: 'https://img.example/boy.jpg',
      alt: 'Boy in a red coat',
    });
    expect(body.channels.instagram.caption.startsWith('EXERCISE: ')).toBe(true);
    expect(body.channels.instagram.languages.ca.caption.startsWith('SIMULACRE: ')).toBe(true);
  });

  it('says when and why the SMS is shortened, and stores and queues nothing', async () => {
    // Prepare
    const { preview, queue } = harness();

    // Act
    const body = await preview(
      draft({ channels: ['sms'], description: 'The boy wore a red coat. '.repeat(40) }),
    );

    // Assess
    expect(body.channels.sms).toMatchObject({ segments: 2, fits: true });
    expect(body.channels.sms.warnings.join(' ')).toMatch(/shortened to fit 2 SMS parts/);
    expect(queue.sent).toEqual([]);
  });

  it('refuses an invalid draft with the field named', async () => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({
      method: 'POST',
      path: '/v1/alerts/preview',
      body: draft({ headline: '' }),
      claims: OFFICER,
    });

    // Assess
    expect(res.status).toBe(400);
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain('/headline');
  });
});

describe('GET /alerts/{id}', () => {
  it('shows an Actual alert as escaped HTML, cacheable for a minute, without a token', async () => {
    // Prepare
    const { call, create } = harness();
    const id = await create(draft({ headline: 'Missing <script>alert(1)</script> child' }));

    // Act
    const res = await call({ method: 'GET', path: `/alerts/${id}`, claims: null });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'public, max-age=60',
      'content-language': 'en',
      // Chosen by Accept-Language (none here: the agency's first), so a shared cache must key on it.
      vary: 'Accept-Language',
    });
    expect(res.headers.etag).toMatch(/^"[\w-]+"$/);
    expect(res.text).toContain('Missing &lt;script&gt;alert(1)&lt;/script&gt; child');
    expect(res.text).not.toContain('<script');
  });

  it('shows the newest version, a translation on ?lang=, and answers 304 to its ETag', async () => {
    // Prepare
    const { call, create } = harness();
    const id = await create(draft());
    const update = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { headline: 'Boy found safe' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });
    expect(update.status).toBe(201);

    // Act
    const page = await call({ method: 'GET', path: `/alerts/${id}`, claims: null });
    const catalan = await call({ method: 'GET', path: `/alerts/${id}?lang=ca`, claims: null });
    const again = await call({
      method: 'GET',
      path: `/alerts/${id}`,
      headers: { 'if-none-match': page.headers.etag ?? '' },
      claims: null,
    });

    // Assess
    expect(page.text).toContain('<h1>UPDATE: Boy found safe</h1>');
    expect(catalan.text).toContain('ACTUALITZACIÓ: ');
    expect(catalan.headers['content-language']).toBe('ca');
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
  });

  it.each([
    ['an exercise', { status: 'Exercise' }],
    ['a test', { status: 'Test' }],
    ['an alert held for approval', { severity: 'Extreme' }],
  ])('is 404 for %s', async (_what, changes) => {
    // Prepare
    const { call, create } = harness();
    const id = await create(draft(changes));

    // Act
    const res = await call({ method: 'GET', path: `/alerts/${id}`, claims: null });

    // Assess
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).not.toContain(draftFixture.headline);
  });

  it('shows the released version while a newer one waits for approval', async () => {
    // Prepare
    const { call, create } = harness();
    const id = await create(draft());
    const held = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { headline: 'Not yet approved', severity: 'Extreme' },
      headers: { 'if-match': '"1"' },
      claims: OFFICER,
    });
    expect(held.status).toBe(201);

    // Act
    const res = await call({ method: 'GET', path: `/alerts/${id}`, claims: null });

    // Assess
    expect(res.status).toBe(200);
    expect(res.text).toContain(`<h1>${draftFixture.headline}</h1>`);
    expect(res.text).not.toContain('Not yet approved');
  });

  it.each([newUlid(), 'not-an-id', '..%2F..'])('is 404 for an alert that does not exist: %s', async (id) => {
    // Prepare
    const { call } = harness();

    // Act
    const res = await call({ method: 'GET', path: `/alerts/${id}`, claims: null });

    // Assess
    expect(res.status).toBe(404);
  });
});
