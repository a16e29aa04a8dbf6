/**
 * The renderers, for any text an officer might write: never over a channel's budget, never a cut inside a
 * grapheme (a surrogate pair, an emoji sequence, a letter and its accents), never an SMS part that splits an
 * escape pair or a surrogate pair, every language of the alert rendered, and no alert text that becomes markup.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderEmail } from '../../functions/channels/email/render';
import { renderFacebook } from '../../functions/channels/facebook/render';
import { renderInstagram } from '../../functions/channels/instagram/render';
import {
  measureSms,
  renderSms,
  renderWea,
  smsPartRoom,
  smsParts,
  smsUnits,
} from '../../functions/channels/sms/render';
import { renderX, weightedLength } from '../../functions/channels/x/render';
import type { StoredVersion } from '../../functions/core/model';
import { wordsFor } from '../../functions/core/render';
import { testConfig } from '../helpers/fakes';
import {
  alertTexts,
  expectOnlyKnownGraphemes,
  HARD_PIECES,
  LONE_SURROGATE,
  languagesOf,
  storedVersionArb,
  textFrom,
} from '../helpers/render-arbitraries';

/** Text mixing what makes cutting hard: GSM escapes, UCS-2 letters, emoji sequences, flags, combining marks, CJK. */
const text = textFrom([
  ...HARD_PIECES,
  '€',
  '^',
  '{',
  '}',
  '[',
  ']',
  '~',
  '|',
  '\\',
  'Ó',
  'é',
  'ñ',
  'https://www.example.com/x',
]);

const contentArb = storedVersionArb({
  text,
  languages: ['en', 'es', 'ca', 'fr', 'de', 'pt', 'it', 'nl', 'eu', 'ja'],
  maxLanguages: 4,
  statuses: ['Actual', 'Exercise', 'Test'],
  channels: ['x', 'sms', 'email'],
});

function expectNoSplitGrapheme(out: string, v: StoredVersion, extra: string) {
  expectOnlyKnownGraphemes(out, [...alertTexts(v.content), extra]);
  expect(out).not.toMatch(LONE_SURROGATE);
}

const decorations = (v: StoredVersion, language: string) => {
  const w = wordsFor(language);
  return `${Object.values(w).join(' ')} ${v.content.web ?? ''} http://localhost:3000/alerts/${v.alertId} Resolved`;
};

describe('renderers, for any alert', () => {
  it('X: at most 280 weighted characters, no grapheme split, the link whole at the end', () => {
    fc.assert(
      fc.property(contentArb, (v) => {
        for (const language of languagesOf(v)) {
          const x = renderX(v, testConfig(), language);
          expect(weightedLength(x.text)).toBeLessThanOrEqual(280);
          expect(x.weightedLength).toBe(weightedLength(x.text));
          expectNoSplitGrapheme(x.text, v, decorations(v, language));
          if (v.content.web) expect(x.text.endsWith(v.content.web)).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('SMS: within the configured parts, each part whole characters within its room; WEA within 90 and 360', () => {
    fc.assert(
      fc.property(contentArb, fc.integer({ min: 1, max: 4 }), (v, max) => {
        const config = testConfig({ smsMaxSegments: max });
        for (const language of languagesOf(v)) {
          const sms = renderSms(v, config, language);
          expect(sms.segments).toBeLessThanOrEqual(max);
          expect(sms.fits).toBe(true);
          expect(sms.text.endsWith(sms.link)).toBe(true);
          expectNoSplitGrapheme(sms.text, v, decorations(v, language));
          const parts = smsParts(sms.text);
          expect(parts.join('')).toBe(sms.text);
          expect(parts).toHaveLength(sms.segments);
          for (const part of parts) {
            expect(part).not.toMatch(LONE_SURROGATE);
            expect(smsUnits(part, sms.encoding)).toBeLessThanOrEqual(smsPartRoom(sms.encoding, parts.length));
          }
          for (const limit of [90, 360] as const) {
            const wea = renderWea(v, config, limit, language);
            expect(Array.from(wea.text).length).toBeLessThanOrEqual(limit);
            expectNoSplitGrapheme(wea.text, v, decorations(v, language));
          }
        }
      }),
      { numRuns: 60 },
    );
  });

  it('SMS parts: any text splits into parts that keep escape pairs and surrogate pairs whole', () => {
    fc.assert(
      fc.property(text(1200), (t) => {
        const m = measureSms(t);
        const parts = smsParts(t);
        expect(parts.join('')).toBe(t);
        for (const part of parts) {
          expect(part).not.toMatch(LONE_SURROGATE);
          expect(smsUnits(part, m.encoding)).toBeLessThanOrEqual(smsPartRoom(m.encoding, parts.length));
        }
        // Never more parts than whole characters need, never fewer than the units need.
        expect(parts.length).toBeGreaterThanOrEqual(
          Math.ceil(m.characters / smsPartRoom(m.encoding, parts.length)),
        );
      }),
    );
  });

  it('Facebook and Instagram: within their caps; every language rendered with its own headline', () => {
    fc.assert(
      fc.property(contentArb, (v) => {
        const image = { url: 'https://cdn.example/card.jpg', alt: 'card' };
        for (const language of languagesOf(v)) {
          const headline =
            v.content.translations.find((t) => t.language === language)?.headline ?? v.content.headline;
          const fb = renderFacebook(v, testConfig(), language);
          const ig = renderInstagram(v, testConfig(), image, language);
          expect(fb.text.length).toBeLessThanOrEqual(63_206);
          expect(ig.caption.length).toBeLessThanOrEqual(2_200);
          expectNoSplitGrapheme(ig.caption, v, `${decorations(v, language)} Area Ciutat Vella`);
          expect(fb.text).toContain(headline);
          expect(renderEmail(v, testConfig(), { language }).html).toContain(`<html lang="${language}">`);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('email HTML: no < of the alert text survives unescaped', () => {
    const markup = fc.constantFrom(
      '<script>',
      '<img src=x onerror=alert(1)>',
      '"onerror=',
      "'>",
      '</p><p>',
      '<!--',
      '&lt;',
    );
    const hostile = fc
      .array(fc.oneof(markup, fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 12 })
      .map((p) => p.join(''))
      .filter((s) => s.trim().length > 0);
    fc.assert(
      fc.property(contentArb, hostile, hostile, hostile, (v, headline, description, contact) => {
        const dirty: StoredVersion = { ...v, content: { ...v.content, headline, description, contact } };
        const clean: StoredVersion = {
          ...v,
          content: {
            ...v.content,
            // Replaced, not removed: a field of only "<" must not become empty, which drops its part of the page.
            headline: headline.replace(/</g, 'x'),
            description: description.replace(/</g, 'x'),
            contact: contact.replace(/</g, 'x'),
          },
        };
        for (const language of languagesOf(v)) {
          const count = (s: string) => s.split('<').length - 1;
          const html = renderEmail(dirty, testConfig(), { language }).html;
          // Every < in the page is the template's own: the same count as with no < in the alert at all.
          expect(count(html)).toBe(count(renderEmail(clean, testConfig(), { language }).html));
        }
      }),
      { numRuns: 60 },
    );
  });
});
