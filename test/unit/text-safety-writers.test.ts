/**
 * Issue 10, item 2, on the way out: text stored before the API refused what no output can carry (written here
 * straight into the store, as an old item would be) still makes well-formed XML (CAP, Atom, RSS), a clean HTML
 * page, valid JSON Feed and CSV. The XML is read back with Herald's own strict reader, which refuses any character
 * XML 1.0 does not allow, and with a real feed reader.
 */
import { parseAtomFeed, parseJsonFeed, parseRssFeed } from 'feedsmith';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiDeps } from '../../functions/api/alerts';
import { csvCell } from '../../functions/api/alerts';
import { createRouter } from '../../functions/api/router';
import { renderEmail } from '../../functions/channels/email/render';
import { toCapXml } from '../../functions/core/cap';
import { atomFeed, type FeedMeta, jsonFeed, rssFeed } from '../../functions/core/feeds';
import type { StoredVersion } from '../../functions/core/model';
import { alertDocument, escapeHtml, localise } from '../../functions/core/render';
import { parseXml, type XmlElement } from '../../functions/core/xml';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { version } from '../helpers/dynamo-fixtures';
import { apiEvent } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

/** Characters the API now refuses, as an alert stored before the check could hold them. */
const DEBRIS = '\uFFFF\uFFFE\u0001\u0085\u007F';
/** Nothing any writer may let through: XML 1.0's forbidden characters, DEL, C1, lone surrogates. */
const FORBIDDEN = /[^\t\n\r\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const oldVersion = (alertId: string, debris = DEBRIS): StoredVersion => {
  const v = version(alertId, 1);
  return {
    ...v,
    content: {
      ...v.content,
      event: `Missing person${debris}`,
      headline: `Missing child${debris} near the harbour`,
      description: `Last seen${debris} at 14:10.`,
      contact: `112${debris}`,
      areas: [{ zone: 'ciutat-vella', areaDesc: `Ciutat Vella${debris}` }],
      translations: [{ language: 'ca', headline: `Nen desaparegut${debris}`, description: `Vist${debris}.` }],
      image: { url: 'https://img.herald.example/a.jpg', alt: `Photo${debris}` },
    },
  };
};

const texts = (e: XmlElement): string[] => [
  e.text,
  ...Object.values(e.attributes),
  ...e.children.flatMap(texts),
];

describe('Writers, for text stored before the check (through the API, from the store)', () => {
  let db: DynaliteStore;
  let router: ReturnType<typeof createRouter>;
  let alertId: string;
  beforeAll(async () => {
    db = await startDynaliteStore();
    const deps: ApiDeps = {
      ...(await residentsDeps(db)),
      store: db.store,
      queue: new RecordingQueue(),
      config: testConfig(),
      clock: new ManualClock('2030-05-01T12:30:00.000Z'),
      newId: newUlid,
      logger: new RecordingLogger(),
    };
    router = createRouter(deps);
    alertId = newUlid();
    expect(await db.store.putVersion(oldVersion(alertId))).toBe('created');
  });
  afterAll(async () => {
    await db?.close();
  });

  const get = async (path: string) => {
    const result = await router(apiEvent({ method: 'GET', path, claims: null }));
    expect(result.statusCode, result.body).toBe(200);
    return result.body ?? '';
  };

  it('keeps the stored headline as it was: the store holds U+FFFF', async () => {
    expect((await db.store.getVersion(alertId, 1))?.content.headline).toContain('\uFFFF');
  });

  it('writes Atom that parses, with the headline repaired to U+FFFD', async () => {
    // Act
    const xml = await get('/v1/feed.atom');

    // Assess
    expect(xml).not.toMatch(FORBIDDEN);
    const root = parseXml(xml);
    expect(texts(root).join('\n')).toContain('Missing child\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD near the harbour');
    const feed = parseAtomFeed(xml);
    expect(feed.entries?.[0]?.title).toEqual({
      type: 'text',
      value: 'Missing child\uFFFD\uFFFD\uFFFD\uFFFD\uFFFD near the harbour',
    });
  });

  it('writes RSS that parses', async () => {
    // Act
    const xml = await get('/v1/feed.rss');

    // Assess
    expect(xml).not.toMatch(FORBIDDEN);
    parseXml(xml);
    expect(parseRssFeed(xml).items?.[0]?.title).toContain('Missing child');
  });

  it('writes CAP that parses, every <info> included', async () => {
    // Act
    const xml = await get(`/v1/alerts/${alertId}/cap`);

    // Assess
    expect(xml).not.toMatch(FORBIDDEN);
    const root = parseXml(xml);
    expect(root.children.filter((c) => c.local === 'info')).toHaveLength(2);
  });

  it('writes a JSON Feed without the characters', async () => {
    // Act
    const body = await get('/v1/feed.json');

    // Assess
    const feed = parseJsonFeed(JSON.parse(body));
    expect(feed.items?.[0]?.title).toContain('Missing child\uFFFD');
    expect(JSON.stringify(feed)).not.toMatch(FORBIDDEN);
  });

  it('writes the public page without the characters', async () => {
    // Act
    const html = await get(`/alerts/${alertId}`);
    const ca = await get(`/alerts/${alertId}?lang=ca`);

    // Assess
    expect(html).not.toMatch(FORBIDDEN);
    expect(ca).not.toMatch(FORBIDDEN);
    expect(html).toContain('Missing child\uFFFD');
  });
});

describe('Writers, for characters a store may not even keep (lone surrogates)', () => {
  const v = oldVersion(newUlid(), '\uD800\uDC00x\uDBFF\uFFFF\u0000');
  const meta: FeedMeta = {
    title: 'Guàrdia Urbana\uDC00: public alerts',
    homeUrl: 'https://herald.example',
    selfUrl: 'https://herald.example/v1/feed.atom',
    agencyName: 'Guàrdia Urbana\u0002',
    updated: v.sent,
  };
  const entries = [
    { alertId: v.alertId, version: v, capUrl: 'https://h.example/c', pageUrl: 'https://h.example/p' },
  ];

  it('CAP, Atom and RSS stay well-formed, and a whole surrogate pair stays', () => {
    for (const xml of [
      toCapXml(v, { agencyName: 'Guàrdia Urbana\u0003' }),
      atomFeed(meta, entries),
      rssFeed(meta, entries),
    ]) {
      expect(xml).not.toMatch(FORBIDDEN);
      expect(() => parseXml(xml)).not.toThrow();
      expect(xml).toContain('\uD800\uDC00x\uFFFD\uFFFD\uFFFD');
    }
  });

  it('JSON Feed, the page and the email carry no lone surrogate or control', () => {
    const config = testConfig();
    const l = localise(v, config);
    const email = renderEmail(v, config);
    for (const out of [jsonFeed(meta, entries), alertDocument(l, 'Agency\u0004'), email.html])
      expect(out).not.toMatch(FORBIDDEN);
    expect(escapeHtml('<b>\u0000\uD800</b>')).toBe('&lt;b&gt;\uFFFD\uFFFD&lt;/b&gt;');
  });

  it('CSV cells carry no control or lone surrogate, quote correctly and keep the formula guard', () => {
    expect(csvCell('421 try later\u0000\uD800')).toBe('421 try later\uFFFD\uFFFD');
    expect(csvCell('=HYPERLINK("x")\u0007')).toBe(`"'=HYPERLINK(""x"")\uFFFD"`);
    expect(csvCell('\u0001=1+1')).toBe('\uFFFD=1+1');
    expect(csvCell('line\r\nnext')).toBe('"line\r\nnext"');
    expect(csvCell('\t-1')).toBe("'\t-1");
  });
});
