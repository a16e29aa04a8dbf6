/**
 * The media feeds as a reader sees them: parsed with a real feed reader (feedsmith), the Atom CAP index validated
 * against the RFC 4287 RELAX NG schema and RSS against the RSS 2.0 XSD (test/fixtures/cap/schema), hostile text inert.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAtomFeed, parseJsonFeed, parseRssFeed } from 'feedsmith';
import { describe, expect, it } from 'vitest';
import { validateXML } from 'xmllint-wasm';
import { cancelAlert, newAlert, updateAlert, type VersionContext } from '../../functions/core/alerts';
import { CAP_NAMESPACE } from '../../functions/core/cap';
import {
  atomFeed,
  type FeedEntry,
  type FeedMeta,
  inPublicFeed,
  jsonFeed,
  rssFeed,
} from '../../functions/core/feeds';
import type { StoredVersion } from '../../functions/core/model';
import { parseXml, type XmlElement } from '../../functions/core/xml';
import { AlertDraft } from '../../schemas/alert';
import { CAP_SCHEMA_DIR } from '../helpers/cap-fixtures';
import { rncToRng } from '../helpers/rnc';

const SCHEMA = CAP_SCHEMA_DIR;

async function schemaErrors(
  xml: string,
  schemaFile: string,
  extension: 'schema' | 'relaxng',
): Promise<string[]> {
  const result = await validateXML({
    xml: [{ fileName: 'feed.xml', contents: xml }],
    // The Atom grammar is written in RELAX NG's compact syntax; libxml2 reads the XML syntax.
    schema: [
      {
        fileName: schemaFile,
        contents:
          extension === 'relaxng'
            ? rncToRng(readFileSync(join(SCHEMA, schemaFile), 'utf8'))
            : readFileSync(join(SCHEMA, schemaFile), 'utf8'),
      },
    ],
    extension,
  });
  return result.errors.map((e) => e.message);
}

const ctx = (alertId: string, now: string): VersionContext => ({
  alertId,
  actor: { id: 'officer-1', roles: ['officer'] },
  now: new Date(now),
  sender: 'alerts@police.example.org',
  approvalSeverities: new Set(),
});

const HOSTILE = `<script>alert("x")</script> & <b>bold</b> ]]> &amp;`;
const draft = AlertDraft.parse({
  status: 'Actual',
  category: 'Safety',
  event: 'Road closure',
  urgency: 'Expected',
  severity: 'Moderate',
  certainty: 'Likely',
  headline: HOSTILE,
  description: 'Marathon on Sunday: Via Laietana closed 08:00–14:00.\nUse the metro.',
  language: 'en',
  channels: ['x'],
  expires: '2030-03-05T10:00:00+00:00',
});

const released = (v: StoredVersion): StoredVersion => ({ ...v, dispatchStatus: 'planned' });
const first = released(newAlert(draft, ctx('01M7YF2673YEYXB5H183X6NVSE', '2030-03-04T08:00:00Z')));
const update = released(
  updateAlert([first], { headline: 'Road reopened early' }, ctx(first.alertId, '2030-03-04T09:00:00Z')),
);
const other = released(
  newAlert(
    { ...draft, headline: 'Gas leak, stay indoors' },
    ctx('01M7YF2673YEYXB5H183X6NVSF', '2030-03-04T09:30:00Z'),
  ),
);
const cancel = released(
  cancelAlert([other], { reason: 'Leak repaired' }, ctx(other.alertId, '2030-03-04T09:45:00Z')),
);

const entry = (v: StoredVersion): FeedEntry => ({
  alertId: v.alertId,
  version: v,
  capUrl: `https://alerts.example.org/v1/alerts/${v.alertId}.cap`,
  pageUrl: `https://alerts.example.org/alerts/${v.alertId}?a=1&b=2`,
});
const meta = (file: string): FeedMeta => ({
  title: 'Police & Rescue <Ciutat>: public alerts',
  homeUrl: 'https://alerts.example.org',
  selfUrl: `https://alerts.example.org/v1/${file}`,
  agencyName: 'Police & Rescue <Ciutat>',
  updated: cancel.sent,
});
const entries = [entry(cancel), entry(first)];

describe('inPublicFeed', () => {
  const now = new Date('2030-03-04T10:00:00Z');
  it('shows Actual alerts until they expire, and cancellations for a day', () => {
    expect(inPublicFeed(update, now)).toBe(true);
    expect(inPublicFeed(update, new Date('2030-03-05T10:00:01Z'))).toBe(false);
    expect(inPublicFeed(cancel, now)).toBe(true);
    expect(inPublicFeed(cancel, new Date('2030-03-05T09:45:01Z'))).toBe(false);
  });
  it('never shows an exercise or a test', () => {
    expect(inPublicFeed({ ...update, content: { ...update.content, status: 'Exercise' } }, now)).toBe(false);
    expect(inPublicFeed({ ...update, content: { ...update.content, status: 'Test' } }, now)).toBe(false);
  });
});

describe('atomFeed', () => {
  const xml = atomFeed(meta('feed.atom'), entries);
  it('is valid against the Atom RELAX NG schema', async () => {
    expect(await schemaErrors(xml, 'atom_rfc4287.rng', 'relaxng')).toEqual([]);
  });
  it('would be refused by the same schema without its id (the check can fail)', async () => {
    const broken = xml.replace(/ {2}<id>[^<]*<\/id>\n/, '');
    expect(await schemaErrors(broken, 'atom_rfc4287.rng', 'relaxng')).not.toEqual([]);
  });
  it('is a CAP index: a feed reader finds each entry, its link to the CAP, and a cancellation said as such', () => {
    const feed = parseAtomFeed(xml);
    expect(feed.entries?.map((e) => e.title)).toEqual([
      { type: 'text', value: 'Cancelled: Gas leak, stay indoors' },
      { type: 'text', value: HOSTILE },
    ]);
    const links = feed.entries?.[1]?.links ?? [];
    expect(links.find((l) => l.type === 'application/cap+xml')?.href).toBe(
      `https://alerts.example.org/v1/alerts/${first.alertId}.cap`,
    );
    expect(feed.entries?.[1]?.links?.find((l) => l.rel === 'related')?.href).toBe(
      `https://alerts.example.org/alerts/${first.alertId}?a=1&b=2`,
    );
    expect(feed.title).toEqual({ type: 'text', value: 'Police & Rescue <Ciutat>: public alerts' });
  });
  it('keeps markup in a headline inert', () => {
    expect(xml).not.toContain('<script>');
    expect(xml).not.toContain('<b>');
    expect(xml).toContain('&lt;script&gt;');
  });
});

describe('rssFeed', () => {
  const xml = rssFeed(meta('feed.rss'), entries);
  it('is valid against the RSS 2.0 schema', async () => {
    expect(await schemaErrors(xml, 'rss-2_0.xsd', 'schema')).toEqual([]);
  });
  it('reads back in a feed reader with the CAP as each item’s enclosure', () => {
    const feed = parseRssFeed(xml);
    expect(feed.items?.map((i) => i.title)).toEqual([`Cancelled: Gas leak, stay indoors`, HOSTILE]);
    expect(feed.items?.[0]?.description).toBe(
      'Leak repaired\n\nMarathon on Sunday: Via Laietana closed 08:00–14:00.\nUse the metro.',
    );
    expect(feed.items?.[1]?.enclosures?.[0]?.type).toBe('application/cap+xml');
    expect(xml).not.toContain('<script>');
  });
});

describe('jsonFeed', () => {
  it('reads back in a feed reader as JSON Feed 1.1, the text as text', () => {
    const feed = parseJsonFeed(JSON.parse(jsonFeed(meta('feed.json'), entries)));
    expect(feed.title).toBe('Police & Rescue <Ciutat>: public alerts');
    expect(feed.items?.map((i) => i.title)).toEqual([`Cancelled: Gas leak, stay indoors`, HOSTILE]);
    expect(feed.items?.[1]?.content_html).toBeUndefined();
    expect(feed.items?.[1]?.attachments?.[0]).toMatchObject({ mime_type: 'application/cap+xml' });
  });
});

describe('CAP times in the feeds', () => {
  const timedDraft = AlertDraft.parse({
    ...draft,
    effective: '2030-03-04T09:00:00+01:00',
    onset: '2030-03-05T08:00:00+01:00',
    expires: '2030-03-05T14:00:00.500+01:00',
  });
  const timed = released(newAlert(timedDraft, ctx('01M7YF2673YEYXB5H183X6NVSG', '2030-03-04T08:00:00Z')));
  const untimed = released(
    newAlert(
      AlertDraft.parse({ ...draft, expires: undefined }),
      ctx('01M7YF2673YEYXB5H183X6NVSH', '2030-03-04T08:30:00Z'),
    ),
  );
  const CAP_TIMES = {
    effective: '2030-03-04T08:00:00-00:00',
    onset: '2030-03-05T07:00:00-00:00',
    expires: '2030-03-05T13:00:00-00:00',
  };
  /** Each entry's CAP-namespace children, read by a namespace-aware parser: the prefix must name CAP 1.2. */
  const capElementsOf = (xml: string, entryName: string) => {
    const entries: XmlElement[] = [];
    const walk = (e: XmlElement) => {
      if (e.local === entryName) entries.push(e);
      e.children.forEach(walk);
    };
    walk(parseXml(xml));
    return entries.map((e) =>
      Object.fromEntries(e.children.filter((c) => c.ns === CAP_NAMESPACE).map((c) => [c.local, c.text])),
    );
  };

  it('carries effective, onset and expires in each Atom entry as cap: elements, valid Atom', async () => {
    const xml = atomFeed(meta('feed.atom'), [entry(timed), entry(untimed)]);
    expect(await schemaErrors(xml, 'atom_rfc4287.rng', 'relaxng')).toEqual([]);
    expect(capElementsOf(xml, 'entry')).toEqual([
      CAP_TIMES,
      // CAP's own default: a message without effective applies from when it is sent.
      { effective: untimed.sent },
    ]);
    expect(parseAtomFeed(xml).entries).toHaveLength(2);
  });

  it('carries the same cap: elements in each RSS item, valid RSS 2.0, the description left as written', async () => {
    const xml = rssFeed(meta('feed.rss'), [entry(timed), entry(untimed)]);
    expect(await schemaErrors(xml, 'rss-2_0.xsd', 'schema')).toEqual([]);
    expect(capElementsOf(xml, 'item')).toEqual([CAP_TIMES, { effective: untimed.sent }]);
    expect(parseRssFeed(xml).items?.[0]?.description).toBe(timedDraft.description);
  });

  it('carries them in the JSON Feed _cap extension, in the same form', () => {
    const feed = JSON.parse(jsonFeed(meta('feed.json'), [entry(timed), entry(untimed)]));
    expect(feed.items[0]._cap).toMatchObject(CAP_TIMES);
    expect(feed.items[1]._cap).toEqual({
      msgType: 'Alert',
      severity: 'Moderate',
      urgency: 'Expected',
      effective: untimed.sent,
    });
  });

  it('follows the newest version: an update that removes expires keeps it in, one that moves it decides', () => {
    const later = (patch: Parameters<typeof updateAlert>[1]) =>
      released(updateAlert([timed], patch, ctx(timed.alertId, '2030-03-04T09:00:00Z')));
    const afterFirstExpiry = new Date('2030-03-05T13:00:01Z');
    expect(inPublicFeed(timed, afterFirstExpiry)).toBe(false);
    expect(inPublicFeed(later({ expires: null }), afterFirstExpiry)).toBe(true);
    expect(inPublicFeed(later({ expires: '2030-03-05T16:00:00+01:00' }), afterFirstExpiry)).toBe(true);
    const sooner = later({ expires: '2030-03-05T09:00:00+01:00' });
    expect(inPublicFeed(sooner, new Date('2030-03-05T07:59:59Z'))).toBe(true);
    expect(inPublicFeed(sooner, new Date('2030-03-05T08:00:00Z'))).toBe(false);
  });
});
