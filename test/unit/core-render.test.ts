import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normaliseDraft } from '../../functions/core/alerts';
import { CHARACTER_BUDGET, type RenderInput, renderText, truncate } from '../../functions/core/render';
import { type AlertContent, AlertDraft } from '../../schemas/alert';
import draftFixture from '../fixtures/alert-draft.json';

const content = (changes: Partial<AlertContent> = {}): AlertContent => ({
  ...normaliseDraft(AlertDraft.parse(structuredClone(draftFixture))),
  ...changes,
});

const LINK = 'https://alerts.herald.example/a/missing-child';
const codePoints = (s: string) => Array.from(s).length;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('renderText', () => {
  it('writes headline, description, instruction and link, each apart', () => {
    // Act
    const text = renderText({ msgType: 'Alert', content: content() }, 'facebook');

    // Assess
    expect(text).toBe(
      ['Missing child near the harbour', draftFixture.description, draftFixture.instruction, LINK].join(
        '\n\n',
      ),
    );
  });

  it.each<[RenderInput['msgType'], string]>([
    ['Alert', 'Missing child near the harbour'],
    ['Update', 'UPDATE: Missing child near the harbour'],
    ['Cancel', 'CANCELLED: Missing child near the harbour'],
  ])('marks a %s in its first line', (msgType, firstLine) => {
    // Act
    const text = renderText({ msgType, content: content() }, 'x');

    // Assess
    expect(text.split('\n')[0]).toBe(firstLine);
  });

  it("puts a cancel's reason before the description", () => {
    // Act
    const text = renderText(
      { msgType: 'Cancel', content: content({ description: 'He is home.' }), note: 'Found safe' },
      'facebook',
    );

    // Assess
    expect(text).toBe(
      `CANCELLED: Missing child near the harbour\n\nFound safe\n\nHe is home.\n\n${draftFixture.instruction}\n\n${LINK}`,
    );
  });

  it('leaves out the instruction and the link when there are none', () => {
    // Prepare
    const { instruction: _i, web: _w, ...rest } = content();

    // Act
    const text = renderText({ msgType: 'Alert', content: rest as AlertContent }, 'facebook');

    // Assess
    expect(text).toBe(`Missing child near the harbour\n\n${draftFixture.description}`);
  });

  it('shortens a long alert to 280 characters on X, keeping the headline and the link', () => {
    // Prepare
    const long = content({ description: 'The boy is wearing a red coat. '.repeat(40) });

    // Act
    const text = renderText({ msgType: 'Update', content: long }, 'x');

    // Assess
    expect(CHARACTER_BUDGET.x).toBe(280);
    expect(codePoints(text)).toBeLessThanOrEqual(280);
    expect(text.startsWith('UPDATE: Missing child near the harbour\n\n')).toBe(true);
    expect(text.endsWith(`…\n\n${LINK}`)).toBe(true);
  });

  it('cuts between characters, never inside a surrogate pair', () => {
    // Prepare: every character of the body is an emoji outside the BMP (two UTF-16 units each).
    const emoji = content({ description: '🚨'.repeat(400), instruction: undefined });

    // Act
    const text = renderText({ msgType: 'Alert', content: emoji }, 'x');

    // Assess
    expect(codePoints(text)).toBe(280);
    expect(text).not.toMatch(LONE_SURROGATE);
    expect(text).toContain('🚨…');
  });

  it('keeps a long link whole on X when headline and link leave no room for the body, shortening the headline', () => {
    // Prepare: the schema allows a 160-character headline and links up to 2048 characters.
    const web = `https://alerts.herald.example/a/missing-child?${'utm_source=cad&'.repeat(10)}ref=1`;
    const long = content({ headline: 'H'.repeat(160), web });

    // Act
    const text = renderText({ msgType: 'Alert', content: long }, 'x');

    // Assess
    expect(codePoints(text)).toBeLessThanOrEqual(280);
    expect(text.endsWith(`\n\n${web}`)).toBe(true);
    expect(text.startsWith('HHHH')).toBe(true);
  });

  it('leaves a channel without a budget whole', () => {
    // Prepare
    const long = content({ description: 'x'.repeat(5000) });

    // Act
    const text = renderText({ msgType: 'Alert', content: long }, 'email');

    // Assess
    expect(text).toContain('x'.repeat(5000));
  });

  it('keeps Instagram within its 2200 characters', () => {
    // Prepare
    const long = content({ description: 'y'.repeat(8000) });

    // Act
    const text = renderText({ msgType: 'Alert', content: long }, 'instagram');

    // Assess
    expect(codePoints(text)).toBeLessThanOrEqual(2200);
    expect(text.endsWith(LINK)).toBe(true);
  });

  it('for any text fits X, splits no character, and keeps headline and link', () => {
    fc.assert(
      fc.property(
        // The schema bounds a headline at 160 UTF-16 units.
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 160 }).filter((h) => h.length <= 160),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 2000 }),
        fc.option(fc.string({ unit: 'grapheme', maxLength: 400 }), { nil: undefined }),
        (headline, description, instruction) => {
          const c = content({ headline, description, instruction });
          const text = renderText({ msgType: 'Alert', content: c }, 'x');
          expect(codePoints(text)).toBeLessThanOrEqual(280);
          expect(text.startsWith(headline)).toBe(true);
          expect(text.endsWith(`\n\n${LINK}`)).toBe(true);
          if (!LONE_SURROGATE.test(`${headline}${description}${instruction ?? ''}`))
            expect(text).not.toMatch(LONE_SURROGATE);
        },
      ),
    );
  });
});

describe('truncate', () => {
  it.each([
    ['short', 10, 'short'],
    ['exactly ten', 11, 'exactly ten'],
    ['a longer sentence', 8, 'a longe…'],
    ['trailing spaces here', 10, 'trailing…'],
    ['😀😀😀😀', 3, '😀😀…'],
    ['anything', 0, ''],
  ])('truncate(%j, %i) is %j', (text, max, expected) => {
    // Act
    const out = truncate(text, max);

    // Assess
    expect(out).toBe(expected);
  });
});
