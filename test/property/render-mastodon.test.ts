/**
 * The Mastodon renderer, for any text an officer might write: never over the 500 characters a stock instance takes
 * (a URL counting 23 whatever its length, the rest in grapheme clusters), never a cut inside a grapheme, the link
 * whole at the end, the headline whole unless nothing else fits, and every language of the alert rendered.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MASTODON_MAX_CHARACTERS,
  MASTODON_URL_CHARACTERS,
  mastodonLength,
  renderMastodon,
} from '../../functions/channels/mastodon/render';
import type { StoredVersion } from '../../functions/core/model';
import { wordsFor } from '../../functions/core/render';
import type { AlertContent } from '../../schemas/alert';
import { testConfig } from '../helpers/fakes';
import {
  alertTexts,
  expectOnlyKnownGraphemes,
  graphemes,
  HARD_PIECES,
  LONE_SURROGATE,
  languagesOf,
  storedVersionArb,
  textFrom,
} from '../helpers/render-arbitraries';

/** What makes counting and cutting hard: emoji sequences, flags, combining marks, CJK, and URLs. */
const text = textFrom([
  ...HARD_PIECES,
  'ñ',
  'https://www.example.com/x',
  ` https://www.example.com/${'long'.repeat(40)} `,
]);

const versionArb = storedVersionArb({
  text,
  languages: ['en', 'es', 'ca', 'fr', 'de', 'pt-BR', 'eu', 'ja'],
  maxLanguages: 3,
  statuses: ['Actual', 'Exercise', 'Test'],
});

describe('renderMastodon, for any alert', () => {
  it('stays within 500 as Mastodon counts, cuts no grapheme, and keeps the link whole at the end', () => {
    fc.assert(
      fc.property(versionArb, (v) => {
        for (const language of languagesOf(v)) {
          const r = renderMastodon(v, testConfig(), language);
          const content = v.content.translations.find((t) => t.language === language) ?? v.content;
          expect(mastodonLength(r.text)).toBeLessThanOrEqual(MASTODON_MAX_CHARACTERS);
          expect(r).toMatchObject({ length: mastodonLength(r.text), limit: 500, fits: true });
          expect(r.language).toBe(language.split('-')[0]);
          expect(r.text).not.toMatch(LONE_SURROGATE);
          expect(r.text.endsWith(r.link)).toBe(true);
          if (v.content.web) expect(r.link).toBe(v.content.web);
          if (!r.shortened.includes('headline')) expect(r.text).toContain(content.headline);
          expectOnlyKnownGraphemes(r.text, [
            ...alertTexts(v.content),
            `${Object.values(wordsFor(language)).join(' ')} ${r.link} Resolved`,
          ]);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('shortens only what does not fit, and says so', () => {
    fc.assert(
      fc.property(versionArb, (v) => {
        const r = renderMastodon(v, testConfig());
        expect(r.warnings.some((w) => w.startsWith('shortened'))).toBe(r.shortened.length > 0);
        if (r.shortened.length === 0) expect(r.text).toContain(v.content.description);
      }),
      { numRuns: 60 },
    );
  });
});

describe('mastodonLength', () => {
  /** Text with no URL in it: letters, emoji, marks and spaces, never a scheme. */
  const plain = fc
    .array(
      fc.oneof(
        fc.constantFrom('á', '👩‍🚒', '🇪🇸', 'e\u0301', '地震', ' ', '\n', 'word'),
        fc.string({ unit: 'grapheme', maxLength: 4 }),
      ),
    )
    .map((parts) => parts.join(''))
    .filter((s) => !s.includes('://') && !LONE_SURROGATE.test(s));

  it('counts text without a URL in grapheme clusters', () => {
    fc.assert(
      fc.property(plain, (s) => {
        expect(mastodonLength(s)).toBe(graphemes(s).length);
      }),
    );
  });

  it('counts a URL with a scheme as 23, however long', () => {
    fc.assert(
      fc.property(
        plain,
        fc.integer({ min: 0, max: 600 }),
        fc.constantFrom('http', 'https'),
        (s, n, scheme) => {
          const url = `${scheme}://www.example.com/${'a'.repeat(n)}`;
          expect(mastodonLength(`${s} ${url}`)).toBe(graphemes(s).length + 1 + MASTODON_URL_CHARACTERS);
        },
      ),
    );
  });

  it('counts what Mastodon does not take as a URL in full: no scheme, or glued to a word', () => {
    expect(mastodonLength('www.example.com/a')).toBe(17);
    expect(mastodonLength('seehttps://www.example.com/a')).toBe(28);
    expect(mastodonLength('http://localhost:3000/alerts/1')).toBe(30);
  });
});

describe('renderMastodon, examples', () => {
  const version = (content: Partial<AlertContent>): StoredVersion => ({
    alertId: '01J2Z3Y4X5W6V7T8S9R0QPNMKH',
    version: 1,
    msgType: 'Alert',
    content: {
      status: 'Actual',
      category: 'Met',
      event: 'Flood',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Likely',
      language: 'en',
      translations: [],
      areas: [{ zone: 'river-valley', areaDesc: 'River valley' }],
      channels: ['x'],
      headline: 'Flood warning for the river valley',
      description: 'The river is expected to burst its banks tonight.',
      web: 'https://alerts.example.org/alerts/flood-1',
      ...content,
    },
    identifier: 'x',
    sent: '2030-01-01T00:00:00+00:00',
    sender: 'alerts@herald.example',
    references: [],
    author: 'officer-1',
    createdAt: '2030-01-01T00:00:00.000Z',
    approval: { required: false },
    dispatchStatus: 'pending',
  });

  it('keeps a long description whole when the link, counted as 23, leaves the room for it', () => {
    const description = 'd'.repeat(400);
    const web = `https://alerts.example.org/${'p'.repeat(300)}`;
    const r = renderMastodon(version({ description, web }), testConfig());

    expect(r.text).toBe(`Flood warning for the river valley\n\n${description}\n\n${web}`);
    expect(r.length).toBe(34 + 2 + 400 + 2 + 23);
    expect(r.shortened).toEqual([]);
  });

  it('warns that a mention in the text notifies that account', () => {
    const r = renderMastodon(
      version({ description: 'Follow @roads@traffic.example and @agency for updates.' }),
      testConfig(),
    );

    expect(r.warnings).toEqual([
      'Mastodon will notify @roads@traffic.example, @agency: the text mentions them',
    ]);
  });
});
