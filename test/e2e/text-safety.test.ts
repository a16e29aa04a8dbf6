/**
 * Issue 10, item 2, over real HTTP through the embedded runtime: bytes that are not UTF-8 are refused rather than
 * repaired on the way through the gateway, duplicate keys and characters no output can carry are refused naming
 * the field, and an alert stored before those checks still makes feeds and CAP that parse.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseXml } from '../../functions/core/xml';
import { version } from '../helpers/dynamo-fixtures';
import { DRAFT, startTestHerald, type TestHerald } from '../helpers/embedded';
import { newUlid } from '../helpers/fakes';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald?.cleanup();
});

interface Problem {
  status: number;
  errors?: { path: string; message: string }[];
}

const postAlert = async (body: Uint8Array | string) =>
  fetch(`${herald.url}/v1/alerts`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${await herald.token('officer')}`,
      'content-type': 'application/json',
    },
    body,
  });

async function expectRefused(res: Response, path: string, message: RegExp) {
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const problem = (await res.json()) as Problem;
  expect(problem.errors?.find((e) => e.path === path)?.message, JSON.stringify(problem)).toMatch(message);
}

describe('embedded: text that would break an output, over HTTP', () => {
  it('refuses a body whose bytes are not UTF-8 (a surrogate encoded as ED A0 80), instead of repairing it', async () => {
    // Prepare
    const [before, after] = JSON.stringify({ ...DRAFT, headline: 'HEADLINE' }).split('HEADLINE') as [
      string,
      string,
    ];
    const bytes = Buffer.concat([Buffer.from(before), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(after)]);

    // Act + Assess
    await expectRefused(await postAlert(bytes), '', /is not valid UTF-8/);
  });

  it('refuses a Latin-1 body the same way', async () => {
    const body = Buffer.from(JSON.stringify({ ...DRAFT, headline: 'Carrer tallat a la plaça' }), 'latin1');
    await expectRefused(await postAlert(body), '', /is not valid UTF-8/);
  });

  it('refuses a key named twice, and U+FFFF in a headline, naming the field', async () => {
    // Act
    const twice = await postAlert(`{"headline":"Other",${JSON.stringify(DRAFT).slice(1)}`);
    const nonCharacter = await postAlert(JSON.stringify({ ...DRAFT, headline: 'Road closed \uFFFF' }));

    // Assess
    await expectRefused(twice, '/headline', /appears more than once/);
    await expectRefused(nonCharacter, '/headline', /U\+FFFF/);
  });

  it('still writes Atom, RSS and CAP that parse for an alert stored with U+FFFF before the check', async () => {
    // Prepare: written into the store directly, as an old alert would be
    const alertId = newUlid();
    const old = version(alertId, 1);
    await herald.store.putVersion({
      ...old,
      content: { ...old.content, headline: 'Old headline \uFFFF\u0001', description: 'Old \uFFFE text.' },
    });

    // Act
    const bodies = await Promise.all(
      ['/v1/feed.atom', '/v1/feed.rss', `/v1/alerts/${alertId}/cap`].map(async (path) => {
        const res = await herald.call('GET', path);
        expect(res.status, path).toBe(200);
        return res.text();
      }),
    );

    // Assess
    for (const xml of bodies) {
      expect(() => parseXml(xml)).not.toThrow();
      expect(xml).toContain('Old headline \uFFFD\uFFFD');
    }
  });
});
