/**
 * Invariant 5 as a property: whatever malformed or hostile body reaches the API, the answer is a 4xx
 * problem+json, and nothing is stored and nothing is sent. The real router runs against the real DynamoDB
 * adapter (dynalite); the whole table is scanned afterwards, so a stray write of any kind would show.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { ulid } from 'ulid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiDeps, createAlert } from '../../functions/api/alerts';
import { createRouter } from '../../functions/api/router';
import type { OutgoingMessage, QueueName } from '../../functions/ports';
import { loadConfig } from '../../functions/shared/config';
import type { LoggerLike } from '../../functions/shared/logger';
import { startDynaliteStore } from '../helpers/dynalite';
import { DRAFT } from '../helpers/embedded';
import { residentsDeps } from '../helpers/residents';

type Started = Awaited<ReturnType<typeof startDynaliteStore>>;
let db: Started;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
const sent: { queue: QueueName; messages: OutgoingMessage[] }[] = [];
const silent: LoggerLike = { debug() {}, info() {}, warn() {}, error() {} };
let deps: ApiDeps;
let router: ReturnType<typeof createRouter>;

beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
  deps = {
    ...residents,
    store: db.store,
    queue: {
      send: async (queue, messages) => {
        sent.push({ queue, messages });
      },
      changeVisibility: async () => undefined,
    },
    config: loadConfig({}),
    clock: { now: () => new Date() },
    newId: ulid,
    logger: silent,
  };
  router = createRouter(deps);
});
afterAll(async () => {
  await db?.close();
});

function event(
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string> = {},
  isBase64Encoded = false,
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers: { 'content-type': 'application/json', ...headers },
    requestContext: {
      accountId: '000000000000',
      apiId: 'test',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'fast-check' },
      requestId: ulid(),
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: {
        jwt: { claims: { sub: 'officer-1', 'cognito:groups': '[officer supervisor]' }, scopes: null },
      },
    } as APIGatewayProxyEventV2['requestContext'],
    ...(body === undefined ? {} : { body }),
    isBase64Encoded,
  };
}

async function scanAll(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.client.send(
      new ScanCommand({ TableName: db.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
    );
    items.push(...((page.Items ?? []) as Record<string, unknown>[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

function expectProblem(
  result: { statusCode?: number; headers?: Record<string, unknown>; body?: string },
  field?: string,
) {
  expect(result.statusCode).toBeGreaterThanOrEqual(400);
  expect(result.statusCode).toBeLessThan(500);
  expect(String(result.headers?.['content-type'])).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(result.body ?? '{}') as {
    status: number;
    title: string;
    detail: string;
    errors?: { path: string }[];
  };
  expect(problem.status).toBe(result.statusCode);
  expect(problem.title).toBeTruthy();
  expect(problem.detail).toBeTruthy();
  if (field !== undefined)
    expect(problem.errors?.map((e) => e.path)).toContainEqual(expect.stringContaining(field));
}

// ---------------------------------------------------------------- arbitraries

const hostileString = fc.oneof(
  fc.constantFrom(
    '',
    '   ',
    '\u0000',
    'line\u0007bell',
    '<script>alert(1)</script>',
    '{{7*7}}',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a template injection attempt, as text
    '${process.exit()}',
    '\u202Eevil',
    'javascript:alert(1)',
    '../../etc/passwd',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ minLength: 9000, maxLength: 9100 }),
);
/** Text no XML, feed or SMS can carry, or that is blank once invisible characters are dropped, around real words. */
const textNoOutputCarries = fc
  .tuple(
    fc.string({ maxLength: 20 }),
    fc.constantFrom('\uFFFF', '\uFFFE', '\uD800', '\uDFFF', '\u0000', '\u001B', '\u007F', '\u0085', '\u009F'),
    fc.string({ maxLength: 20 }),
  )
  .map(([a, bad, b]) => `${a}${bad}${b}`)
  .filter((s) => s.length <= 160);
const invisible = fc.constantFrom(
  ' ',
  '\u200B',
  '\u200C',
  '\u200D',
  '\u2060',
  '\uFEFF',
  '\u00AD',
  '\u200E',
  '\uFE0F',
);
const blankText = fc.array(invisible, { minLength: 1, maxLength: 10 }).map((cs) => cs.join(''));
/** A bidi embedding, override or isolate: a title would display other than stored. */
const bidiTitle = fc
  .tuple(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.constantFrom('\u202A', '\u202B', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'),
  )
  .map(([a, control]) => `${a}${control}x`);

// Arrays are never empty here: an empty list is a valid value for some fields (areas, translations).
const wrongType = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
  fc.object({ maxDepth: 2 }),
);

/** Fields of a draft and a value each that is certainly invalid for it. */
const invalidFor: Record<string, fc.Arbitrary<unknown>> = {
  status: fc.oneof(wrongType, fc.constantFrom('actual', 'System', 'Draft', '')),
  category: fc.oneof(wrongType, fc.constantFrom('Police', '')),
  event: fc.oneof(wrongType, fc.constantFrom('', ' ', 'x'.repeat(101), 'a\u0000b', 'Fire\u202E', '\uFFFE')),
  urgency: fc.oneof(wrongType, fc.constantFrom('Now', '')),
  severity: fc.oneof(wrongType, fc.constantFrom('Catastrophic', 'extreme')),
  certainty: fc.oneof(wrongType, fc.constantFrom('Sure', '')),
  headline: fc.oneof(
    wrongType,
    fc.constantFrom('', '\t', 'h'.repeat(161), 'bell\u0007'),
    textNoOutputCarries,
    bidiTitle,
    blankText,
  ),
  description: fc.oneof(wrongType, fc.constantFrom('', 'd'.repeat(8001)), textNoOutputCarries, blankText),
  language: fc.oneof(wrongType, fc.constantFrom('', 'english', 'en_US!', '12', 'x'.repeat(40))),
  channels: fc.oneof(
    wrongType,
    fc.constant([]),
    fc.constant(['x', 'x']),
    fc.constant(['fax']),
    // A network people use that Herald does not post to.
    fc.constant(['x', 'whatsapp']),
  ),
  expires: fc.oneof(wrongType, fc.constantFrom('tomorrow', '2026-13-01T00:00:00Z', '2026-11-21 10:00')),
  web: fc.oneof(
    wrongType,
    fc.constantFrom('javascript:alert(1)', 'ftp://example.org/a', 'not a url', 'data:text/html,<b>x</b>'),
  ),
  areas: fc.oneof(
    wrongType,
    fc.constant([{}]),
    fc.constant([{ zone: 'Not A Zone!' }]),
    fc.constant([
      {
        areaDesc: 'x',
        polygon: [
          [1, 2],
          [3, 4],
          [1, 2],
        ],
      },
    ]),
    fc.constant([{ areaDesc: 'x', polygon: '1,2 3,4 5,6 7,8' }]),
    fc.constant([{ areaDesc: 'x', circle: { center: [95, 0], radiusKm: 1 } }]),
    fc.constant([{ areaDesc: 'x', circle: { center: [0, 0], radiusKm: -1 } }]),
  ),
  translations: fc.oneof(
    wrongType,
    fc.constant([{ language: 'en', headline: 'h', description: 'd' }]),
    fc.constant([{ language: 'es', headline: '' }]),
  ),
  image: fc.oneof(
    fc.integer(),
    fc.constantFrom('file:///etc/passwd', 'x'),
    fc.constant({ url: 'javascript:1' }),
    fc.constant({ url: 'https://example.org/a.jpg', extra: 1 }),
  ),
};

const DRAFT_FIELDS = new Set([...Object.keys(invalidFor), 'instruction', 'contact']);

const mutatedDraft = fc.oneof(
  // a field replaced by a value it can never take
  fc.constantFrom(...Object.keys(invalidFor)).chain((field) =>
    invalidFor[field]!.map((value) => ({
      body: { ...DRAFT, [field]: value } as Record<string, unknown>,
      field,
    })),
  ),
  // a required field missing
  fc
    .constantFrom(
      'status',
      'category',
      'event',
      'urgency',
      'severity',
      'certainty',
      'headline',
      'description',
      'language',
      'channels',
    )
    .map((field) => {
      const { [field as keyof typeof DRAFT]: _gone, ...rest } = DRAFT;
      return { body: rest as Record<string, unknown>, field };
    }),
  // an unknown field, including prototype-pollution keys
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          '__proto__',
          'constructor',
          'prototype',
          'id',
          'version',
          'state',
          'sender',
          'isAdmin',
        ),
        hostileString.filter((key) => !DRAFT_FIELDS.has(key)),
      ),
      fc.jsonValue(),
    )
    .map(([key, value]) => ({
      body: JSON.parse(
        `{${JSON.stringify(key)}:${JSON.stringify(value ?? null)},${JSON.stringify(DRAFT).slice(1)}`,
      ) as Record<string, unknown>,
      field: key,
    })),
);

/** True when the text parses as a JSON object (a BOM ignored, as RFC 8259 allows a parser to do). */
const isJsonObject = (text: string): boolean => {
  try {
    const v = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
};

/** Bodies that are not a JSON object at all: broken syntax, scalars, arrays, deep nesting. */
const garbageBody = fc
  .oneof(
    fc.string({ maxLength: 200 }),
    fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
    fc.constantFrom(
      '{',
      '{"a":',
      '\uFEFF[]',
      '[]',
      'null',
      '"alert"',
      '{"status":"Actual"'.repeat(3),
      '\uD800',
    ),
    fc.integer({ min: 0, max: 60 }).map((depth) => `${'['.repeat(depth * 100)}${']'.repeat(depth * 100)}`),
  )
  .filter((body) => !isJsonObject(body));

/** A draft with one key written twice, at the top level or inside a translation or an area: JSON.parse would keep either. */
const duplicatedKey = fc
  .tuple(
    fc.constantFrom(
      { at: '', key: 'headline' },
      { at: '', key: 'channels' },
      { at: '', key: '__proto__' },
      { at: '/translations/0', key: 'headline' },
      { at: '/areas/0', key: 'zone' },
    ),
    fc.jsonValue({ maxDepth: 1 }),
    fc.boolean(),
  )
  .map(([{ at, key }, value, escaped]) => {
    // The first spelling uses an escape half the time: "\u0068eadline" is "headline".
    const spelled = escaped
      ? `"\\u${key.charCodeAt(0).toString(16).padStart(4, '0')}${key.slice(1)}"`
      : JSON.stringify(key);
    const twice = (o: object) =>
      `{${spelled}:${JSON.stringify(value ?? null)},${JSON.stringify(key)}:1,${JSON.stringify(o).slice(1)}`;
    const one = (o: object, here: boolean) => (here ? twice(o) : JSON.stringify(o));
    const translation = { language: 'ca', headline: 'Carrer tallat', description: 'Fins a les 14:00.' };
    const area = { zone: 'ciutat-vella' };
    const { areas: _areas, translations: _translations, ...base } = DRAFT as Record<string, unknown>;
    const rest = JSON.stringify(base).slice(1);
    const json =
      at === ''
        ? twice({ ...base, translations: [translation], areas: [area] })
        : `{"translations":[${one(translation, at === '/translations/0')}],"areas":[${one(area, at === '/areas/0')}],${rest}`;
    return { json, path: `${at}/${key}` };
  });

/** A valid draft with bytes that are not UTF-8 where the headline's text would be. */
const notUtf8 = fc
  .uint8Array({ minLength: 1, maxLength: 8 })
  .filter((bytes) => {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      return false;
    } catch {
      return true;
    }
  })
  .map((bad) => {
    const [before, after] = JSON.stringify({ ...DRAFT, headline: 'HEADLINE' }).split('HEADLINE');
    return Buffer.concat([Buffer.from(before ?? ''), Buffer.from(bad), Buffer.from(after ?? '')]).toString(
      'base64',
    );
  });

// ---------------------------------------------------------------- properties

describe('Hostile bodies, property-based', () => {
  it('answers every invalid draft with a 4xx problem naming the field, and stores and sends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        mutatedDraft,
        fc.option(fc.uuid(), { nil: undefined }),
        async ({ body, field }, key) => {
          const result = await router(
            event('POST', '/v1/alerts', JSON.stringify(body), key ? { 'idempotency-key': key } : {}),
          );
          expectProblem(result, `/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`);
        },
      ),
      { numRuns: 300 },
    );
    expect(await scanAll()).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('answers garbage, oversized and wrongly typed bodies with a 4xx problem, and stores and sends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          garbageBody.map((b) => ({ body: b, type: 'application/json' })),
          fc
            .constantFrom('text/plain', 'application/xml', 'multipart/form-data', '')
            .map((type) => ({ body: JSON.stringify(DRAFT), type })),
          fc.integer({ min: 256 * 1024 + 1, max: 300 * 1024 }).map((n) => ({
            body: JSON.stringify({ ...DRAFT, description: 'd'.repeat(n) }),
            type: 'application/json',
          })),
        ),
        fc.constantFrom('/v1/alerts', '/v1/alerts/preview'),
        async ({ body, type }, path) => {
          expectProblem(await router(event('POST', path, body, { 'content-type': type })));
        },
      ),
      { numRuns: 300 },
    );
    expect(await scanAll()).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('refuses a key written twice, naming it, and bytes that are not UTF-8; stores and sends nothing', async () => {
    await fc.assert(
      fc.asyncProperty(duplicatedKey, async ({ json, path }) => {
        const result = await router(event('POST', '/v1/alerts', json));
        expectProblem(result, path);
        expect(JSON.parse(result.body ?? '{}').errors).toContainEqual({
          path,
          message: 'appears more than once',
        });
      }),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(notUtf8, fc.constantFrom('/v1/alerts', '/v1/alerts/preview'), async (body, path) => {
        const result = await router(event('POST', path, body, {}, true));
        expectProblem(result, '');
        expect(JSON.parse(result.body ?? '{}').errors).toEqual([{ path: '', message: 'is not valid UTF-8' }]);
      }),
      { numRuns: 100 },
    );
    expect(await scanAll()).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('leaves an existing alert untouched by invalid updates, cancels and approvals', async () => {
    // Prepare: one real alert, and what the table holds once it is stored
    const created = await createAlert(deps, {
      event: event('POST', '/v1/alerts', JSON.stringify(DRAFT)),
      actor: { id: 'officer-1', roles: ['officer'] },
      params: {},
    });
    const id = (JSON.parse(created.body ?? '{}') as { id: string }).id;
    const before = await scanAll();
    sent.length = 0;
    const invalidPatch = fc.oneof(
      fc.constant({}),
      fc
        .constantFrom('status', 'category', 'id', 'version', 'msgType', '__proto__')
        .map((k) => JSON.parse(`{${JSON.stringify(k)}:"Actual"}`) as Record<string, unknown>),
      fc
        .constantFrom('headline', 'description', 'severity', 'expires', 'web', 'channels', 'areas')
        .chain((field) => invalidFor[field]!.filter((v) => v !== null).map((v) => ({ [field]: v }))),
      fc.constant({ channels: ['x', 'sms'] }),
    );
    // Act + Assess
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          invalidPatch.map((b) => ({
            path: `/v1/alerts/${id}/updates`,
            body: JSON.stringify(b),
            ifMatch: '"1"' as string | undefined,
          })),
          fc.constantFrom(`/v1/alerts/${id}/cancel`, `/v1/alerts/${id}/approve`).chain((path) =>
            fc
              .oneof(
                fc.constant('{"reason":""}'),
                fc.constant('{"note":5}'),
                fc.constant('{"unknown":true}'),
                // an empty body is a valid cancel or approval (both bodies are optional)
                garbageBody.filter((b) => b !== ''),
              )
              .map((body) => ({ path, body, ifMatch: undefined })),
          ),
          fc.constantFrom('"7"', 'W/"1"', 'nonsense').map((ifMatch) => ({
            path: `/v1/alerts/${id}/updates`,
            body: '{"headline":"Fine headline"}',
            ifMatch,
          })),
        ),
        async ({ path, body, ifMatch }) => {
          expectProblem(await router(event('POST', path, body, ifMatch ? { 'if-match': ifMatch } : {})));
        },
      ),
      { numRuns: 200 },
    );
    expect(await scanAll()).toEqual(before);
    expect(sent).toEqual([]);
  });
});
