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
import type { AlertContent, MsgType } from '../../schemas/alert';
import { testConfig } from '../helpers/fakes';

/** The test's own segmenter, so a renderer that cut by code points could not pass by sharing its mistake. */
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const graphemes = (s: string) => Array.from(segmenter.segment(s), (g) => g.segment);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What makes cutting hard (surrogate pairs, ZWJ sequences, flags, combining marks, CJK) and what looks like markup. */
const tricky = fc.constantFrom(
  '😀',
  '🚨',
  '👩‍🚒',
  '👨‍👩‍👧‍👦',
  '🇪🇸',
  '👍🏽',
  'e\u0301',
  '地震',
  '𠀋',
  'á',
  '\n',
  ' ',
  'word',
  '<b>',
  '*bold*',
  '[x](https://evil.example)',
  '&amp;',
  '@someone',
  '#flood',
  'https://www.example.com/x',
);
const text = (maxLength: number) =>
  fc
    .array(fc.oneof(tricky, fc.string({ unit: 'grapheme', maxLength: 8 })), {
      minLength: 1,
      maxLength: Math.ceil(maxLength / 3),
    })
    .map((parts) => parts.join('').replace(/\r/g, '').slice(0, maxLength))
    .filter((s) => s.trim().length > 0 && !LONE_SURROGATE.test(s));

const LANGUAGES = ['en', 'es', 'ca', 'fr', 'de', 'ja'];
const IMAGE = { url: 'https://cdn.example/card.jpg', alt: 'Flood map' };

const versionArb = fc
  .record({
    headline: text(160),
    description: text(3000),
    instruction: fc.option(text(600), { nil: undefined }),
    web: fc.option(
      fc.constantFrom('https://www.example.com/a/1', `https://www.example.com/${'q'.repeat(300)}`),
      {
        nil: undefined,
      },
    ),
    image: fc.option(fc.constant(IMAGE), { nil: undefined }),
    languages: fc.shuffledSubarray(LANGUAGES, { minLength: 1, maxLength: 3 }),
    msgType: fc.constantFrom<MsgType>('Alert', 'Update', 'Cancel'),
    status: fc.constantFrom<AlertContent['status']>('Actual', 'Exercise', 'Test'),
    translated: fc.array(fc.record({ headline: text(160), description: text(1500) }), {
      minLength: 2,
      maxLength: 2,
    }),
  })
  .map(({ languages, translated, msgType, status, ...rest }): RenderVersion => {
    const [language, ...others] = languages as [string, ...string[]];
    const content: AlertContent = {
      status,
      category: 'Rescue',
      event: 'Flood',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Observed',
      language,
      ...rest,
      translations: others.map((l, i) => ({ language: l, ...translated[i]! })),
      areas: [{ zone: 'ciutat-vella', areaDesc: 'Ciutat Vella' }],
      channels: ['x'],
    };
    return {
      alertId: '01J2Z3Y4X5W6V7T8S9R0QPNMKH',
      version: msgType === 'Alert' ? 1 : 2,
      msgType,
      content,
      ...(msgType === 'Cancel' ? { note: 'Resolved' } : {}),
    };
  });

const languagesOf = (v: RenderVersion) => [
  v.content.language,
  ...v.content.translations.map((t) => t.language),
];

/** Every grapheme of `out` is one of the inputs' or the renderer's own: a cut inside one would make a new one. */
function expectNoSplitGrapheme(out: string, v: RenderVersion, language: string) {
  const t = v.content;
  const words = Object.values(wordsFor(language)).join(' ');
  const inputs = [
    t.headline,
    t.description,
    t.instruction ?? '',
    ...t.translations.flatMap((x) => [x.headline, x.description]),
  ];
  const known = new Set(
    graphemes(
      [...inputs, words, t.web ?? '', `http://localhost:3000/alerts/${v.alertId}`, 'Resolved'].join('\n'),
    ),
  );
  for (const g of ['…', '\n', ' ']) known.add(g);
  expect(graphemes(out).filter((g) => !known.has(g))).toEqual([]);
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
