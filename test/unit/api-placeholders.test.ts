/**
 * A template's placeholders (`[name]`, `[place]`, …) left in a draft are caught before anything is sent: the
 * preview names each field that still holds one, and create, update and cancel refuse it (422) naming the fields,
 * with nothing stored and nothing queued.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRouter } from '../../functions/api/router';
import { TEMPLATE_PLACEHOLDERS, TEMPLATES, unfilledPlaceholders } from '../../schemas/templates';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { type ApiRequest, apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
let router: ReturnType<typeof createRouter>;
const queue = new RecordingQueue();
beforeAll(async () => {
  db = await startDynaliteStore();
  router = createRouter({
    ...(await residentsDeps(db)),
    store: db.store,
    queue,
    config: testConfig(),
    clock: new ManualClock('2030-03-04T10:00:00.000Z'),
    newId: newUlid,
    logger: new RecordingLogger(),
  });
});
afterAll(async () => {
  await db?.close();
});

const OFFICER = claimsFor('officer-1', ['officer']);
const draft = (changes: Record<string, unknown> = {}) => ({ ...structuredClone(draftFixture), ...changes });

async function call(request: Omit<ApiRequest, 'claims'>) {
  const result = await router(apiEvent({ ...request, claims: OFFICER }));
  return {
    status: result.statusCode ?? 0,
    headers: result.headers,
    body: JSON.parse(result.body ?? '{}') as Record<string, unknown> & {
      errors?: { path: string; message: string }[];
      unfilled?: { path: string; message: string }[];
      warnings?: string[];
    },
  };
}

describe('template placeholders', () => {
  it("knows every placeholder the console's templates leave to fill, whatever its case", () => {
    expect(TEMPLATE_PLACEHOLDERS.has('name')).toBe(true);
    expect(TEMPLATE_PLACEHOLDERS.has('number')).toBe(true);
    expect(TEMPLATE_PLACEHOLDERS.has('alternative route')).toBe(true);
    for (const template of TEMPLATES)
      expect(unfilledPlaceholders(template.draft).length, template.id).toBeGreaterThan(0);
  });

  it.each([
    ['an officer’s own bracketed word', '[UPDATE] Main Street reopens', []],
    ['a quotation mark-up', 'He said he was "fine" [sic]', []],
    ['a filled template', 'Missing: Ana, 8, last seen in Gràcia', []],
    ['a placeholder in another case', 'Missing: [Name]', ['[Name]']],
    ['two of them', 'If you see [name], quote [number]', ['[name]', '[number]']],
  ])('reads %s', (_, text, found) => {
    const unfilled = unfilledPlaceholders({ headline: text });
    expect(unfilled.map((u) => u.path)).toEqual(found.length ? ['/headline'] : []);
    for (const placeholder of found) expect(unfilled[0]?.message).toContain(placeholder);
  });

  it('names each field by JSON Pointer, translations and areas included', () => {
    expect(
      unfilledPlaceholders({
        headline: 'Missing: [name]',
        translations: [{ language: 'es', headline: 'Desaparecida', description: 'Vista en [place]' }],
        areas: [{ areaDesc: '[area]' }],
      }).map((u) => u.path),
    ).toEqual(['/headline', '/translations/0/description', '/areas/0/areaDesc']);
  });
});

describe('POST /v1/alerts/preview', () => {
  it('previews the draft, naming each field that still holds a placeholder and saying a send would be refused', async () => {
    // Act
    const answer = await call({
      method: 'POST',
      path: '/v1/alerts/preview',
      body: draft({ headline: 'Missing: [name], last seen in [place]', instruction: 'Quote [number].' }),
    });

    // Assess
    expect(answer.status).toBe(200);
    expect(answer.body.unfilled?.map((u) => u.path)).toEqual(['/headline', '/instruction']);
    expect(answer.body.warnings?.join('\n')).toMatch(/template's placeholder .*refused \(422\)/);
  });

  it('says nothing of placeholders when every one is filled', async () => {
    const answer = await call({ method: 'POST', path: '/v1/alerts/preview', body: draft() });
    expect(answer.status).toBe(200);
    expect(answer.body.unfilled).toEqual([]);
  });
});

describe('creating, updating and cancelling with a placeholder left in', () => {
  it('refuses a create with 422 naming the fields, and stores and queues nothing', async () => {
    // Prepare
    const sentBefore = queue.sent.length;

    // Act
    const answer = await call({
      method: 'POST',
      path: '/v1/alerts',
      body: draft({ description: '[Name], aged [age], was last seen near the station.' }),
      headers: { 'idempotency-key': 'placeholder-create' },
    });

    // Assess
    expect(answer.status).toBe(422);
    expect(answer.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(answer.body.errors).toEqual([
      { path: '/description', message: expect.stringContaining('[Name], [age]') },
    ]);
    expect(queue.sent.length).toBe(sentBefore);
    const listed = await call({ method: 'GET', path: '/v1/alerts' });
    expect(JSON.stringify(listed.body)).not.toContain('was last seen near the station');
  });

  it('refuses an update or a cancel that brings one in, leaving the alert at its version', async () => {
    // Prepare
    const created = await call({ method: 'POST', path: '/v1/alerts', body: draft() });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    // Act
    const update = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { headline: 'Found near [place]' },
      headers: { 'if-match': '"1"' },
    });
    const cancel = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/cancel`,
      body: { description: 'Ended: [name] was found.' },
    });

    // Assess
    expect(update.status).toBe(422);
    expect(update.body.errors?.map((e) => e.path)).toEqual(['/headline']);
    expect(cancel.status).toBe(422);
    expect(cancel.body.errors?.map((e) => e.path)).toEqual(['/description']);
    const read = await call({ method: 'GET', path: `/v1/alerts/${id}` });
    expect(read.headers.etag).toBe('"1"');
  });
});
