/**
 * The OpenAPI document covers every route in schemas/routes.ts: what each takes (a request body schema for every
 * POST and PUT) and what it answers (a 2xx with a schema for every route but a 204), and the schemas written only
 * for the document describe what the code really answers: the preview (JSON and CAP), the JSON Feed, the audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import type { ApiDeps } from '../../functions/api/alerts';
import { compileRoutes, createRouter } from '../../functions/api/router';
import { newAlert } from '../../functions/core/alerts';
import { toCapXml } from '../../functions/core/cap';
import { AlertDraft } from '../../schemas/alert';
import { openApiDocument } from '../../schemas/openapi';
import { AlertPreview, AuditLog, JsonFeed } from '../../schemas/responses';
import { ROUTES } from '../../schemas/routes';
import { SandboxToken, SandboxTokenRequest } from '../../schemas/sandbox';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { type ApiRequest, apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

interface MediaType {
  schema?: Record<string, unknown>;
}
interface Operation {
  operationId: string;
  requestBody?: { content?: Record<string, MediaType> };
  responses: Record<string, { content?: Record<string, MediaType> }>;
  'x-herald-embedded-only'?: boolean;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Record<string, unknown>> };
}

const doc = openApiDocument() as unknown as Document;
const operationOf = (operationId: string) =>
  Object.values(doc.paths)
    .flatMap((p) => Object.values(p))
    .find((op) => op.operationId === operationId)!;
const schemaOf = (media: MediaType | undefined) => media?.schema;

/** What a route lacks: a 2xx answer, a schema for each 2xx body, a request body schema for POST and PUT. */
function gapsOf(route: (typeof ROUTES)[number]): string[] {
  const op = doc.paths[route.path]?.[route.method.toLowerCase()];
  if (!op) return ['not in the document'];
  const gaps: string[] = [];
  const success = Object.entries(op.responses).filter(([status]) => /^2\d\d$/.test(status));
  // A site form may answer with post/redirect/get (303 to the page it opened) instead of a page of its own, and a
  // channel's link with a redirect (302) to the alert.
  const redirects = 'site' in route && route.site && ('303' in op.responses || '302' in op.responses);
  if (success.length === 0 && !redirects) gaps.push('no 2xx response');
  for (const [status, response] of success) {
    if (status === '204') continue;
    const media = Object.entries(response.content ?? {});
    if (media.length === 0) gaps.push(`${status} has no content`);
    for (const [type, m] of media) if (!schemaOf(m)) gaps.push(`${status} ${type} has no schema`);
  }
  if (route.method === 'POST' || route.method === 'PUT') {
    const media = Object.entries(op.requestBody?.content ?? {});
    if (media.length === 0) gaps.push('no request body');
    for (const [type, m] of media) if (!schemaOf(m)) gaps.push(`request ${type} has no schema`);
  }
  return gaps.map((g) => `${route.operationId} (${route.method} ${route.path}): ${g}`);
}

let db: DynaliteStore;
let deps: ApiDeps;
beforeAll(async () => {
  db = await startDynaliteStore();
  deps = {
    ...(await residentsDeps(db)),
    store: db.store,
    queue: new RecordingQueue(),
    config: testConfig(),
    clock: new ManualClock('2030-05-01T10:00:00.000Z'),
    newId: newUlid,
    logger: new RecordingLogger(),
  };
});
afterAll(async () => {
  await db?.close();
});

async function call(request: ApiRequest) {
  const result = await createRouter(deps)(apiEvent(request));
  return { status: result.statusCode ?? 0, headers: result.headers, body: result.body ?? '' };
}

const OFFICER = claimsFor('officer-1', ['officer']);
const AUDITOR = claimsFor('auditor-1', ['auditor']);

describe('the OpenAPI document covers every route', () => {
  it('gives every route a 2xx answer with a schema (a 204 aside) and every POST and PUT a request body schema', () => {
    // Act
    const gaps = ROUTES.flatMap(gapsOf);

    // Assess
    expect(gaps).toEqual([]);
  });

  it('finds a gap when a route answers without a schema, so the check above can fail', () => {
    // Prepare
    const op = operationOf('feedJson');
    const saved = op.responses['200']!.content;

    // Act
    op.responses['200']!.content = { 'application/feed+json': {} };
    const gaps = gapsOf(ROUTES.find((r) => r.operationId === 'feedJson')!);
    op.responses['200']!.content = saved;

    // Assess
    expect(gaps).toEqual(['feedJson (GET /v1/feed.json): 200 application/feed+json has no schema']);
  });

  it('names every schema it refers to among its components', () => {
    // Act
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1]!,
    );

    // Assess
    expect(refs.filter((id) => !(id in doc.components.schemas))).toEqual([]);
    expect(refs).toEqual(expect.arrayContaining(['AlertPreview', 'JsonFeed', 'SandboxToken', 'AuditLog']));
  });

  it('serves CAP and the feeds in their own media types, with ETag and Cache-Control, and 304', () => {
    // Act
    const media = (id: string) => Object.keys(operationOf(id).responses['200']?.content ?? {});

    // Assess
    expect(media('getAlertCap')).toEqual(['application/cap+xml']);
    expect(media('getVersionCap')).toEqual(['application/cap+xml']);
    expect(media('feedAtom')).toEqual(['application/atom+xml']);
    expect(media('feedRss')).toEqual(['application/rss+xml']);
    expect(media('feedJson')).toEqual(['application/feed+json']);
    for (const id of ['getAlertCap', 'getVersionCap', 'feedAtom', 'feedRss', 'feedJson']) {
      const op = operationOf(id) as Operation & {
        parameters: { name: string }[];
        responses: Record<string, { headers?: Record<string, unknown> }>;
      };
      expect(Object.keys(op.responses), id).toEqual(expect.arrayContaining(['200', '304']));
      expect(Object.keys(op.responses['200']?.headers ?? {}), id).toEqual(['ETag', 'Cache-Control']);
      expect(
        op.parameters.map((p) => p.name),
        id,
      ).toContain('If-None-Match');
    }
    expect(Object.keys(operationOf('getAlertCap').responses)).toContain('404');
  });

  it('takes a CAP 1.2 body beside JSON on POST /v1/alerts and /v1/alerts/preview', () => {
    for (const id of ['createAlert', 'previewAlert'])
      expect(Object.keys(operationOf(id).requestBody?.content ?? {}), id).toEqual([
        'application/json',
        'application/cap+xml',
      ]);
  });

  it("lists the console's embedded sign-in as embedded-only: the api Lambda does not route it", () => {
    // Act
    const route = ROUTES.find((r) => r.operationId === 'sandboxToken');
    const served = compileRoutes().map((r) => r.spec.operationId);

    // Assess
    expect(route).toMatchObject({ method: 'POST', path: '/v1/sandbox/token', embeddedOnly: true });
    expect(operationOf('sandboxToken')['x-herald-embedded-only']).toBe(true);
    expect(served).not.toContain('sandboxToken');
    expect(SandboxTokenRequest.safeParse({ role: 'supervisor', name: 'Agent Núm 5' }).success).toBe(true);
    expect(SandboxTokenRequest.safeParse({ role: 'mayor' }).success).toBe(false);
    expect(SandboxToken.safeParse({ token: 'a.b.c' }).success).toBe(true);
  });
});

describe('the schemas written for the document describe what the api answers', () => {
  const capOf = (draft: unknown) =>
    toCapXml(
      newAlert(AlertDraft.parse(draft), {
        alertId: newUlid(),
        actor: { id: 'officer-1', roles: ['officer'] },
        now: new Date('2030-05-01T09:59:00.000Z'),
        sender: 'newsroom@other-agency.example',
        approvalSeverities: new Set(),
      }),
      { agencyName: 'Other agency' },
    );

  it('answers previews, of JSON and of CAP, as AlertPreview says', async () => {
    // Prepare
    const draft = {
      ...structuredClone(draftFixture),
      channels: ['x', 'facebook', 'sms', 'email', 'webhook'],
    };

    // Act
    const fromJson = await call({ method: 'POST', path: '/v1/alerts/preview', body: draft, claims: OFFICER });
    const fromCap = await call({
      method: 'POST',
      path: '/v1/alerts/preview?channels=sms,email',
      body: capOf(draft),
      headers: { 'content-type': 'application/cap+xml' },
      claims: OFFICER,
    });

    // Assess
    expect(fromJson.status).toBe(200);
    expect(fromCap.status).toBe(200);
    const strict = z.strictObject(AlertPreview.shape);
    expect(strict.parse(JSON.parse(fromJson.body)).cap).toBeUndefined();
    expect(strict.parse(JSON.parse(fromCap.body)).cap?.msgType).toBe('Alert');
  });

  it('answers the JSON Feed and the audit log as JsonFeed and AuditLog say', async () => {
    // Prepare
    const created = await call({
      method: 'POST',
      path: '/v1/alerts',
      body: { ...structuredClone(draftFixture), channels: ['x'] },
      claims: OFFICER,
    });
    expect(created.status).toBe(201);
    const { id } = JSON.parse(created.body) as { id: string };

    // Act
    const feed = await call({ method: 'GET', path: '/v1/feed.json', claims: null });
    const audit = await call({ method: 'GET', path: `/v1/alerts/${id}/audit`, claims: AUDITOR });

    // Assess
    expect(feed.headers['content-type']).toMatch(/^application\/feed\+json/);
    const parsedFeed = JsonFeed.parse(JSON.parse(feed.body));
    expect(parsedFeed.items.map((i) => i.id)).toContain(`urn:herald:alert:${id}:1`);
    expect(AuditLog.parse(JSON.parse(audit.body)).entries[0]).toMatchObject({ action: 'alert.created' });
  });
});
