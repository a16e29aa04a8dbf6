/**
 * Issue 10, item 2, on the way in: text no output can carry, blank text, bidi controls in titles, duplicate keys
 * and bodies that are not UTF-8 are refused by the JSON API with a problem naming the field. The real router runs
 * against the real DynamoDB adapter (dynalite); the embedded gateway is checked to hand the handler the real bytes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResultV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { duplicateKeys } from '../../functions/api/http';
import { createRouter } from '../../functions/api/router';
import { EmbeddedIdentity } from '../../local/auth';
import { type Gateway, type GatewayOptions, startGateway } from '../../local/gateway';
import { ROUTES } from '../../schemas/routes';
import { isBlank, safeText, unsafeCharacter } from '../../schemas/text';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { type ApiRequest, apiEvent, claimsFor } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
let call: (request: Omit<ApiRequest, 'claims'>) => Promise<Answer>;
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
    const result = await router(apiEvent({ ...request, claims: OFFICER }));
    return {
      status: result.statusCode ?? 0,
      type: String(result.headers?.['content-type']),
      body: result.body ? (JSON.parse(result.body) as Answer['body']) : {},
    };
  };
});
afterAll(async () => {
  await db?.close();
});

const OFFICER = claimsFor('officer-1', ['officer', 'supervisor']);

interface Answer {
  status: number;
  type: string;
  body: Record<string, unknown> & { errors?: { path: string; message: string }[] };
}

const draft = (changes: Record<string, unknown> = {}) => ({ ...structuredClone(draftFixture), ...changes });
const create = (body: unknown) => call({ method: 'POST', path: '/v1/alerts', body });

/** A 400 problem whose errors name `path` with a message matching `message`. */
function expectRefused(answer: Answer, path: string, message: RegExp) {
  expect(answer.status).toBe(400);
  expect(answer.type).toMatch(/^application\/problem\+json/);
  const error = answer.body.errors?.find((e) => e.path === path);
  expect(error, JSON.stringify(answer.body)).toBeDefined();
  expect(error?.message).toMatch(message);
}

describe('The JSON API refuses characters no output can carry, naming the field and the character', () => {
  it.each([
    ['U+FFFF in the headline', { headline: 'Road closed\uFFFF' }, '/headline', /U\+FFFF/],
    ['U+FFFE in the description', { description: 'x\uFFFEy' }, '/description', /U\+FFFE/],
    [
      'a lone high surrogate in the event',
      { event: 'Fire \uD800' },
      '/event',
      /U\+D800 \(half of a surrogate/,
    ],
    ['a lone low surrogate in the contact', { contact: '\uDC00 112' }, '/contact', /U\+DC00/],
    ['a C0 control in the instruction', { instruction: 'Stay\u0001 in' }, '/instruction', /U\+0001/],
    ['a C1 control in the description', { description: 'next\u0085line' }, '/description', /U\+0085/],
    ['DEL in an area', { areas: [{ areaDesc: 'Port\u007f' }] }, '/areas/0/areaDesc', /U\+007F/],
    ['a control in the link', { web: 'https://a.example/\u0001x' }, '/web', /U\+0001/],
    [
      'U+FFFF in the image text',
      { image: { url: 'https://a.example/i.jpg', alt: '\uFFFF' } },
      '/image/alt',
      /U\+FFFF/,
    ],
    [
      'U+FFFF in a translation',
      { translations: [{ language: 'ca', headline: 'Carrer tallat', description: 'a\uFFFF' }] },
      '/translations/0/description',
      /U\+FFFF/,
    ],
  ])('%s', async (_name, changes, path, message) => {
    // Act
    const res = await create(draft(changes));

    // Assess
    expectRefused(res, path, message);
    expect(res.body.errors?.find((e) => e.path === path)?.message).toMatch(/no XML, feed or SMS can carry/);
  });

  it('reads a JSON escape for a lone surrogate the same way as the character itself', async () => {
    // Prepare: "\ud800" as six characters of JSON, never a real character in the body
    const body = JSON.stringify(draft({ headline: 'HEADLINE' })).replace('HEADLINE', 'Road \\ud800 closed');

    // Act + Assess
    expectRefused(await create(body), '/headline', /U\+D800/);
  });

  it('refuses the same characters in updates, cancels and approvals', async () => {
    // Prepare
    const created = await create(draft());
    const id = created.body.id as string;

    // Act
    const update = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/updates`,
      body: { headline: 'Reopened\uFFFF' },
      headers: { 'if-match': '"1"' },
    });
    const cancel = await call({
      method: 'POST',
      path: `/v1/alerts/${id}/cancel`,
      body: { reason: 'x\u0002' },
    });

    // Assess
    expect(created.status).toBe(201);
    expectRefused(update, '/headline', /U\+FFFF/);
    expectRefused(cancel, '/reason', /U\+0002/);
  });
});

describe('The JSON API takes only https images, which the guarded fetcher then checks', () => {
  it.each([
    ['an http URL', { url: 'http://images.example.org/missing.jpg' }, '/image/url'],
    ['an http URL given alone', 'http://images.example.org/missing.jpg', '/image'],
    ['a file URL', { url: 'file:///etc/passwd' }, '/image/url'],
  ])('refuses %s, naming the field, and stores nothing', async (_, image, path) => {
    // Act
    const answer = await create(draft({ image }));

    // Assess
    expect(answer.status).toBe(400);
    expect(answer.body.errors?.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('takes an https image', async () => {
    const answer = await create(
      draft({ image: { url: 'https://images.example.org/missing.jpg', alt: 'Ana' } }),
    );
    expect(answer.status).toBe(201);
  });
});

describe('The same rules for the media lists', () => {
  it.each([
    ['a subscriber named with U+FFFF', '/v1/subscribers', { name: 'Ràdio\uFFFF' }, '/name', /U\+FFFF/],
    ['a blank consent record', '/v1/subscribers', { consent: '\u200B\u2060' }, '/consent', /^is blank/],
    ['a webhook URL with a control', '/v1/webhooks', { url: 'https://a.example/\u0007' }, '/url', /U\+0007/],
  ])('refuses %s', async (_name, path, changes, field, message) => {
    // Prepare
    const base =
      path === '/v1/webhooks'
        ? { url: 'https://hooks.example/herald', name: 'Newsroom' }
        : {
            channel: 'email',
            address: 'desk@news.example',
            zones: ['*'],
            name: 'Desk',
            consent: 'Signed form',
          };

    // Act + Assess
    expectRefused(await call({ method: 'POST', path, body: { ...base, ...changes } }), field, message);
  });
});

describe('The JSON API refuses blank text and text that displays other than it is stored', () => {
  it.each([
    ['zero-width and format characters', '\u200B\u200C\u200D\u2060\uFEFF'],
    ['spaces, a soft hyphen and bidi marks', ' \u00A0\u00AD\u200E\u200F\u061C\u3000'],
    ['a variation selector and a Hangul filler', '\uFE0F\u3164'],
  ])('a headline of %s is blank', async (_name, headline) => {
    expectRefused(await create(draft({ headline })), '/headline', /^is blank/);
  });

  it.each([
    ['U+202E (right-to-left override)', '\u202E', '/headline'],
    ['U+202D (left-to-right override)', '\u202D', '/event'],
    ['U+2067 (right-to-left isolate)', '\u2067', '/translations/0/headline'],
  ])('refuses %s in a title', async (_name, control, path) => {
    // Prepare: "Road closed" that a reader would see reversed after the control
    const text = `Road ${control}desolc`;
    const changes =
      path === '/translations/0/headline'
        ? { translations: [{ language: 'ca', headline: text, description: 'Carrer tallat.' }] }
        : { [path.slice(1)]: text };

    // Act + Assess
    expectRefused(
      await create(draft(changes)),
      path,
      new RegExp(`${control.codePointAt(0)?.toString(16)}`, 'i'),
    );
  });

  it('keeps right-to-left text and its marks, and allows bidi controls in the description', async () => {
    // Act
    const res = await create(
      draft({
        headline: 'إغلاق الطريق\u200F A-7',
        description: 'Quoted from the notice: \u2067שלום\u2069 (closed).',
      }),
    );

    // Assess
    expect(res.status).toBe(201);
  });
});

describe('The JSON API refuses a body that names a key twice', () => {
  const withKey = (key: string, value: string) =>
    `{${JSON.stringify(key)}:${JSON.stringify(value)},${JSON.stringify(draft()).slice(1)}`;

  it('at the top level, naming the key', async () => {
    // Act
    const res = await create(withKey('headline', 'A different headline'));

    // Assess
    expectRefused(res, '/headline', /appears more than once/);
  });

  it('when the two spellings differ only by an escape', async () => {
    // Act: "h\u0065adline" is "headline"
    const res = await create(`{"h\\u0065adline":"A different headline",${JSON.stringify(draft()).slice(1)}`);

    // Assess
    expectRefused(res, '/headline', /appears more than once/);
  });

  it('inside nested objects, naming the path', async () => {
    // Prepare
    const body = JSON.stringify(draft()).replace(
      '"headline":"Nen desaparegut',
      '"headline":"Un altre","headline":"Nen desaparegut',
    );

    // Act
    const res = await create(body);

    // Assess
    expectRefused(res, '/translations/0/headline', /appears more than once/);
  });

  it('finds duplicates in one linear pass, and none where keys repeat across objects', () => {
    expect(duplicateKeys('{"a":1,"b":{"a":[{"a":1},{"a":2}],"c":"\\"a\\""},"a":2}')).toEqual(['/a']);
    expect(duplicateKeys('{"x":{"a/b":1,"a\\/b":2},"y":[{"~":1,"~":1}]}')).toEqual(['/x/a~1b', '/y/0/~0']);
    expect(duplicateKeys('[{"a":"{\\"a\\":1,\\"a\\":2}"},{"a":1}]')).toEqual([]);
    expect(duplicateKeys('{"":1,"":2}')).toEqual(['/']);
  });
});

describe('The JSON API refuses bodies that are not UTF-8, rather than repairing them', () => {
  it('answers 400 "is not valid UTF-8" for a surrogate encoded in UTF-8 (ED A0 80)', async () => {
    // Prepare
    const bytes = Buffer.concat([
      Buffer.from(JSON.stringify(draft({ headline: 'HEADLINE' })).split('HEADLINE')[0] ?? ''),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from(JSON.stringify(draft({ headline: 'HEADLINE' })).split('HEADLINE')[1] ?? ''),
    ]);

    // Act
    const res = await call({
      method: 'POST',
      path: '/v1/alerts',
      body: bytes.toString('base64'),
      isBase64Encoded: true,
      headers: { 'content-type': 'application/json' },
    });

    // Assess
    expectRefused(res, '', /is not valid UTF-8/);
  });

  it('answers the same for a text body that holds a lone surrogate: no UTF-8 bytes could have made it', async () => {
    // Act
    const res = await create(JSON.stringify(draft({ headline: 'HEADLINE' })).replace('HEADLINE', '\uD800'));

    // Assess
    expectRefused(res, '', /is not valid UTF-8/);
  });
});

describe('The embedded gateway hands the handler the bytes that were sent', () => {
  let dataDir: string;
  let gateway: Gateway;
  const invoke = vi.fn<GatewayOptions['invoke']>(
    async (): Promise<APIGatewayProxyResultV2> => ({ statusCode: 204 }),
  );
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'herald-text-'));
    const identity = await EmbeddedIdentity.open(dataDir);
    gateway = await startGateway({ port: 0, routes: ROUTES, identity, invoke });
  });
  afterAll(async () => {
    await gateway?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('passes a JSON body that is not UTF-8 base64-encoded, byte for byte, and a UTF-8 one as text', async () => {
    // Prepare
    const bad = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0xff, 0x22, 0x7d]);
    const good = '{"a":"Avís \uFEFF😀"}';

    // Act: a public route, so the authorizer lets both through to the handler
    await fetch(`${gateway.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: bad,
    });
    await fetch(`${gateway.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: good,
    });

    // Assess
    const [first, second] = invoke.mock.calls.map(([event]) => event);
    expect(first?.isBase64Encoded).toBe(true);
    expect(Buffer.from(first?.body ?? '', 'base64').equals(bad)).toBe(true);
    expect(second).toMatchObject({ body: good, isBase64Encoded: false });
  });
});

describe('The shared rules', () => {
  it('names the first character at fault, and passes tab, line feed, carriage return and emoji', () => {
    expect(unsafeCharacter('Stay in.\tCall 112.\r\nOK 😀 \u00A0 \uFFFD')).toBeUndefined();
    expect(unsafeCharacter('a\u0000b')).toMatch(/^contains U\+0000 \(a control character\)/);
    expect(unsafeCharacter('😀\uDE00')).toMatch(/^contains U\+DE00/);
  });

  it('counts only what a reader can see', () => {
    expect(isBlank('\u200B\u034F\u180E\u2800\uDB40\uDC20')).toBe(true);
    expect(isBlank('\u200Ba')).toBe(false);
    expect(isBlank('·')).toBe(false);
  });

  it('replaces what no output can carry with U+FFFD, and leaves clean text as it is', () => {
    const clean = 'Carrer tallat\n\tfins a les 14:00 😀';
    expect(safeText(clean)).toBe(clean);
    expect(safeText('a\uFFFFb\uD800c\u0001d\u0085e\u007F\uDBFF\uDFFF')).toBe(
      'a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFD\uDBFF\uDFFF',
    );
  });
});
