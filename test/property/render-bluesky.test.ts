/**
 * Bluesky's renderer and facets for any text an officer might write: never over 300 graphemes or 3,000 UTF-8 bytes,
 * never a cut inside a grapheme, and a link facet whose UTF-8 byte range is exactly the link as the text shows it,
 * whatever accents, emoji or scripts come before it. Also the client's record keys and post ids, which must hold
 * for any idempotency key and any AT URI.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePostId, encodePostId, recordKeyFor } from '../../functions/channels/bluesky/client';
import {
  BLUESKY_MAX_BYTES,
  BLUESKY_MAX_GRAPHEMES,
  displayLink,
  linkFacets,
  renderBluesky,
} from '../../functions/channels/bluesky/render';
import { wordsFor } from '../../functions/core/render';
import { testConfig } from '../helpers/fakes';
import {
  alertTexts,
  expectOnlyKnownGraphemes,
  graphemes,
  HARD_PIECES,
  LONE_SURROGATE,
  storedVersionArb,
  textFrom,
} from '../helpers/render-arbitraries';

/** The test's own byte count, so a renderer that counted by code points or UTF-16 could not pass by sharing it. */
const utf8 = (s: string) => Buffer.from(s, 'utf8');

const text = textFrom([...HARD_PIECES, 'Ó', 'ñ', 'ç', 'ש']);

const links = fc.constantFrom(
  'https://www.example.com/a/1',
  'https://alerts.example.org/alerts/01J2Z3Y4X5W6V7T8S9R0QPNMKH',
  `https://www.example.com/${'q'.repeat(300)}`,
  'https://example.com/',
);

/** One language only: the post is the alert's own text. */
const versionArb = storedVersionArb({
  text,
  languages: ['es'],
  maxLanguages: 1,
  statuses: ['Actual', 'Exercise'],
  web: links,
});

/** The bytes a facet marks, decoded: what a Bluesky reader sees as the link. */
const marked = (t: string, facet: { index: { byteStart: number; byteEnd: number } }) =>
  utf8(t).subarray(facet.index.byteStart, facet.index.byteEnd).toString('utf8');

describe('Bluesky rendering, for any alert', () => {
  it('within 300 graphemes and 3,000 bytes, no grapheme split, the link shown and faceted whole', () => {
    fc.assert(
      fc.property(versionArb, (v) => {
        const r = renderBluesky(v, testConfig());
        const parts = graphemes(r.text);
        expect(parts.length).toBeLessThanOrEqual(BLUESKY_MAX_GRAPHEMES);
        expect(utf8(r.text).length).toBeLessThanOrEqual(BLUESKY_MAX_BYTES);
        expect(r).toMatchObject({ fits: true, length: parts.length, bytes: utf8(r.text).length, limit: 300 });
        expect(r.text).not.toMatch(LONE_SURROGATE);
        const words = Object.values(wordsFor(v.content.language)).join(' ');
        expectOnlyKnownGraphemes(r.text, [
          ...alertTexts(v.content),
          words,
          'Resolved',
          `${displayLink(r.link)}${r.link}`,
        ]);
        // The link is the alert's own and is the last thing in the post, marked by the one facet.
        expect(r.link).toBe(v.content.web ?? 'http://localhost:3000/alerts/01J2Z3Y4X5W6V7T8S9R0QPNMKH');
        expect(r.text.endsWith(displayLink(r.link))).toBe(true);
        expect(r.facets).toHaveLength(1);
        expect(marked(r.text, r.facets[0]!)).toBe(displayLink(r.link));
        expect(r.facets[0]!.features[0].uri).toBe(r.link);
      }),
      { numRuns: 80 },
    );
  });

  it('any text before the link: the facet covers exactly its UTF-8 bytes, not its UTF-16 indices', () => {
    fc.assert(
      fc.property(text(200), links, fc.boolean(), (before, link, shortened) => {
        const shown = shortened ? displayLink(link) : link;
        const t = `${before} ${shown}`;
        const [facet, ...rest] = linkFacets(t, [link]);
        expect(rest).toEqual([]);
        expect(facet!.index.byteStart).toBe(utf8(`${before} `).length);
        expect(marked(t, facet!)).toBe(shown);
        expect(facet!.features).toEqual([{ $type: 'app.bsky.richtext.facet#link', uri: link }]);
      }),
    );
  });

  it('worked example: accents and an emoji before the link move it by bytes, not characters', () => {
    const link = 'https://example.org/a';
    const t = `Évacuez 🚨 ${link}`;

    const [facet] = linkFacets(t, [link]);

    // "Évacuez 🚨 " is 10 UTF-16 units but 14 bytes: É is two bytes, the emoji four.
    expect(t.indexOf(link)).toBe(11);
    expect(facet!.index).toEqual({ byteStart: 14, byteEnd: 35 });
  });

  it('no facet for a link the text does not show, nor for one that is only the start of a longer URL', () => {
    expect(linkFacets('Nothing to see', ['https://example.org/a'])).toEqual([]);
    expect(linkFacets('see https://example.org/ab', ['https://example.org/a'])).toEqual([]);
    expect(linkFacets('see https://example.org/a.', ['https://example.org/a'])).toHaveLength(1);
  });
});

describe('Bluesky record keys and post ids', () => {
  it('a record key is a valid TID, the same for the same idempotency key', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (key) => {
        const rkey = recordKeyFor(key);
        expect(rkey).toMatch(/^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/);
        expect(recordKeyFor(key)).toBe(rkey);
      }),
    );
  });

  it('the versions of an alert get different record keys', () => {
    const keys = new Set<string>();
    for (let version = 1; version <= 1000; version++)
      keys.add(recordKeyFor(`01J2Z3Y4X5:${version}:bluesky:agency`));
    expect(keys.size).toBe(1000);
  });

  it('a post id carries its post and its thread root, and reads back as it was written', () => {
    const did = fc.stringMatching(/^did:(plc:[a-z2-7]{24}|web:[a-z0-9.-]{1,40})$/);
    const ref = fc.record({
      uri: fc
        .tuple(did, fc.stringMatching(/^[2-7a-j][2-7a-z]{12}$/))
        .map(([d, k]) => `at://${d}/app.bsky.feed.post/${k}`),
      cid: fc.stringMatching(/^bafyrei[a-z2-7]{52}$/),
    });
    fc.assert(
      fc.property(ref, fc.option(ref, { nil: undefined }), (post, root) => {
        const id = encodePostId(post, root);
        expect(decodePostId(id)).toEqual({ parent: post, root: root ?? post });
        expect(id.length).toBeLessThan(500);
      }),
    );
    expect(decodePostId('1799999999999999999')).toBeUndefined();
    expect(decodePostId('at://did:plc:x/app.bsky.feed.post/3k|')).toBeUndefined();
  });
});
