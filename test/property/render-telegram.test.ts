/**
 * The Telegram renderer, for any text an officer might write: a photo caption within 1024 and a message within 4096
 * UTF-16 units, never a grapheme cut in two, the alert's link whole at the end, every language rendered, and the
 * officer's text sent as it is (plain text: nothing escaped, nothing read as markup).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  renderTelegram,
  TELEGRAM_CAPTION_MAX,
  TELEGRAM_TEXT_MAX,
  telegramLength,
} from '../../functions/channels/telegram/render';
import { wordsFor } from '../../functions/core/render';
import type { RenderVersion } from '../../functions/core/render/version';
import { testConfig } from '../helpers/fakes';
import {
  alertTexts,
  expectOnlyKnownGraphemes,
  HARD_PIECES,
  LONE_SURROGATE,
  languagesOf,
  renderVersionArb,
  textFrom,
} from '../helpers/render-arbitraries';

/** What makes cutting hard (surrogate pairs, ZWJ sequences, flags, combining marks, CJK) and what looks like markup. */
const text = textFrom(
  [
    ...HARD_PIECES,
    '𠀋',
    '<b>',
    '*bold*',
    '[x](https://evil.example)',
    '&amp;',
    '@someone',
    '#flood',
    'https://www.example.com/x',
  ],
  { codeUnits: false, charactersPerPiece: 3 },
);

const IMAGE = { url: 'https://cdn.example/card.jpg', alt: 'Flood map' };

const versionArb = renderVersionArb({
  text,
  languages: ['en', 'es', 'ca', 'fr', 'de', 'ja'],
  maxLanguages: 3,
  statuses: ['Actual', 'Exercise', 'Test'],
  image: fc.option(fc.constant(IMAGE), { nil: undefined }),
  lengths: { description: 3000, instruction: 600, translatedDescription: 1500 },
  event: 'Flood',
});

/** Every grapheme of `out` is one of the inputs' or the renderer's own: a cut inside one would make a new one. */
function expectNoSplitGrapheme(out: string, v: RenderVersion, language: string) {
  const t = v.content;
  const words = Object.values(wordsFor(language)).join(' ');
  const own = [words, t.web ?? '', `http://localhost:3000/alerts/${v.alertId}`, 'Resolved'];
  expectOnlyKnownGraphemes(out, [...alertTexts(t), ...own], ['…', '\n', ' ']);
  expect(out).not.toMatch(LONE_SURROGATE);
}

describe('Telegram renderer, for any alert', () => {
  it('fits the caption (1024) with a photo and the message (4096) without, whole graphemes, link whole at the end', () => {
    fc.assert(
      fc.property(versionArb, fc.option(fc.boolean(), { nil: undefined }), (v, withImage) => {
        for (const language of languagesOf(v)) {
          const r = renderTelegram(v, testConfig(), language, withImage === undefined ? {} : { withImage });
          const photo = withImage ?? v.content.image !== undefined;
          expect(r.limit).toBe(photo ? TELEGRAM_CAPTION_MAX : TELEGRAM_TEXT_MAX);
          expect(r.image).toEqual(photo && v.content.image ? IMAGE : undefined);
          expect(r.length).toBe(r.text.length);
          expect(r.text.length).toBeLessThanOrEqual(r.limit);
          expect(r.fits).toBe(true);
          expect(r.text.endsWith(r.link)).toBe(true);
          if (v.content.web) expect(r.link).toBe(v.content.web);
          expect(r.warnings.length > 0).toBe(r.shortened.length > 0);
          expectNoSplitGrapheme(r.text, v, language);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('sends the officer’s words as they are: nothing escaped, nothing turned into markup', () => {
    fc.assert(
      fc.property(versionArb, (v) => {
        const r = renderTelegram(v, testConfig(), undefined, { withImage: false });
        // Whatever was kept of the headline is the headline's own text, character for character.
        if (r.shortened.length === 0) {
          expect(r.text).toContain(v.content.headline);
          expect(r.text).toContain(v.content.description);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('Telegram renderer, at its limits', () => {
  const version = (description: string, image?: typeof IMAGE): RenderVersion => ({
    alertId: '01J2Z3Y4X5W6V7T8S9R0QPNMKH',
    version: 1,
    msgType: 'Alert',
    content: {
      status: 'Actual',
      category: 'Rescue',
      event: 'Flood',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Observed',
      language: 'en',
      headline: 'Flood warning',
      description,
      web: 'https://www.example.com/a/1',
      ...(image ? { image } : {}),
      translations: [],
      areas: [{ zone: 'ciutat-vella' }],
      channels: ['x'],
    },
  });
  const overhead = telegramLength('Flood warning\n\n\n\nhttps://www.example.com/a/1');

  it('keeps a caption of exactly 1024 units whole and shortens one a unit over', () => {
    const exact = renderTelegram(version('a'.repeat(TELEGRAM_CAPTION_MAX - overhead), IMAGE), testConfig());
    const over = renderTelegram(
      version('a'.repeat(TELEGRAM_CAPTION_MAX - overhead + 1), IMAGE),
      testConfig(),
    );

    expect([exact.length, exact.shortened]).toEqual([1024, []]);
    expect(over.shortened).toEqual(['description']);
    expect(over.length).toBeLessThanOrEqual(1024);
    expect(over.warnings[0]).toMatch(/1024-character photo caption/);
  });

  it('counts an emoji as two units: 600 of them do not fit a caption, and none is cut in half', () => {
    const r = renderTelegram(version('🚨'.repeat(600), IMAGE), testConfig());

    expect(r.shortened).toEqual(['description']);
    expect(r.length).toBeLessThanOrEqual(1024);
    expect(r.text).not.toMatch(LONE_SURROGATE);
    expect(r.text.endsWith('https://www.example.com/a/1')).toBe(true);
  });

  it('gives the whole message room when sent without the photo, even if the alert has one', () => {
    const description = 'b'.repeat(3000);
    const r = renderTelegram(version(description, IMAGE), testConfig(), undefined, { withImage: false });

    expect([r.limit, r.image, r.shortened]).toEqual([4096, undefined, []]);
    expect(r.text).toContain(description);
  });
});
