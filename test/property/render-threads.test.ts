/**
 * The Threads renderer, for any text an officer might write: never over 500 as Threads counts (emoji by their UTF-8
 * bytes), never a cut inside a grapheme, the link whole at the end, every language rendered with its own headline.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  renderThreads,
  THREADS_MAX_CHARS,
  threadsLength,
  threadsLinks,
} from '../../functions/channels/threads/render';
import { wordsFor } from '../../functions/core/render';
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

/** The test's own count, so a renderer that shared a mistake with its helpers could not pass. */
const PICTOGRAPH =
  /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3|\uFE0F|\u200D|[\u{1F3FB}-\u{1F3FF}]/u;
/** The strictest reading of Meta's rule: emoji by UTF-8 bytes, anything else by UTF-16 units. */
const strictCount = (s: string) =>
  graphemes(s).reduce((n, g) => n + (PICTOGRAPH.test(g) ? new TextEncoder().encode(g).length : g.length), 0);

const text = textFrom([...HARD_PIECES, 'ñ', '1️⃣', '©', '𝐁', 'https://www.example.com/x']);

const versionArb = storedVersionArb({
  text,
  languages: ['en', 'es', 'ca', 'fr', 'ja'],
  maxLanguages: 3,
  statuses: ['Actual', 'Exercise'],
});

describe('Threads renderer, for any alert', () => {
  it('within 500 by the strictest count, no grapheme split, the link whole at the end, each language its own', () => {
    fc.assert(
      fc.property(versionArb, (v) => {
        for (const language of languagesOf(v)) {
          const r = renderThreads(v, testConfig(), language);
          expect(strictCount(r.text)).toBeLessThanOrEqual(THREADS_MAX_CHARS);
          expect(r.length).toBe(threadsLength(r.text));
          expect(r.length).toBeGreaterThanOrEqual(strictCount(r.text));
          expect([r.limit, r.fits]).toEqual([THREADS_MAX_CHARS, threadsLinks(r.text).length <= 5]);
          expect(r.text.endsWith(r.link)).toBe(true);
          expect(r.text).not.toMatch(LONE_SURROGATE);
          // Every grapheme of the text is one of the alert's or the renderer's own: a cut inside one makes a new one.
          const t = v.content;
          const own = `${Object.values(wordsFor(language)).join(' ')} ${r.link} Resolved: …`;
          expectOnlyKnownGraphemes(r.text, [...alertTexts(t), own], []);
          const headline = t.translations.find((x) => x.language === language)?.headline ?? t.headline;
          if (r.shortened.length === 0) expect(r.text).toContain(headline);
          else expect(r.warnings[0]).toMatch(/^shortened to fit 500 characters/);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('counts emoji by UTF-8 bytes and other text by UTF-16 units, never below code points', () => {
    expect(threadsLength('🚨')).toBe(4);
    expect(threadsLength('👨‍👩‍👧‍👦')).toBe(25);
    expect(threadsLength('🇪🇸')).toBe(8);
    expect(threadsLength('1️⃣')).toBe(7);
    expect(threadsLength('☀')).toBe(3);
    expect(threadsLength('Carrer Major, é')).toBe(15);
    expect(threadsLength('地震')).toBe(2);
    fc.assert(
      fc.property(text(600), (s) => {
        expect(threadsLength(s)).toBeGreaterThanOrEqual(Array.from(s).length);
        expect(threadsLength(s)).toBeGreaterThanOrEqual(strictCount(s));
      }),
    );
  });

  it('a text holding more than five links does not fit, and says why', () => {
    const links = Array.from({ length: 6 }, (_, i) => `https://www.example.com/${i}`).join(' ');
    const [v] = fc.sample(versionArb, { numRuns: 1, seed: 7 });
    const content = { ...v!.content, headline: 'Road closed', description: links, translations: [] };
    delete content.instruction;
    delete content.web;
    const r = renderThreads({ ...v!, msgType: 'Alert', content }, testConfig());

    expect(r.fits).toBe(false);
    expect(r.warnings.at(-1)).toMatch(/7 links and Threads refuses more than 5/);
  });
});
