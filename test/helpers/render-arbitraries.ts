/**
 * What the renderers' property tests share: arbitrary alert versions built from text that is hard to count and
 * to cut, and the check that a rendering cut no grapheme. Each network's test picks its own hard pieces,
 * languages and sizes; its budgets and network-specific properties stay in its own file.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import type { StoredVersion } from '../../functions/core/model';
import type { RenderVersion } from '../../functions/core/render/version';
import type { AlertContent, Channel, MsgType } from '../../schemas/alert';

/** The test's own segmenter, so a renderer that cut by code points could not pass by sharing its mistake. */
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
export const graphemes = (s: string) => Array.from(segmenter.segment(s), (g) => g.segment);

export const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What makes counting and cutting hard everywhere: surrogate pairs, ZWJ sequences, flags, combining marks, CJK. */
export const HARD_PIECES = [
  'á',
  '😀',
  '🚨',
  '👩‍🚒',
  '👨‍👩‍👧‍👦',
  '🇪🇸',
  '👍🏽',
  'e\u0301',
  '地震',
  '\n',
  ' ',
  'word',
] as const;

export interface TextOptions {
  /** Also mix in strings of arbitrary UTF-16 units (lone surrogates are filtered out afterwards). */
  codeUnits?: boolean;
  /** How many characters of the limit each piece stands for: fewer means more pieces, so longer texts. */
  charactersPerPiece?: number;
}

/** Text of at most `maxLength` UTF-16 units, made of `pieces` and random graphemes, never blank or half a pair. */
export const textFrom =
  (pieces: readonly string[], { codeUnits = true, charactersPerPiece = 4 }: TextOptions = {}) =>
  (maxLength: number) =>
    fc
      .array(
        fc.oneof(
          fc.constantFrom(...pieces),
          fc.string({ unit: 'grapheme', maxLength: 8 }),
          ...(codeUnits ? [fc.string({ maxLength: 8 })] : []),
        ),
        { minLength: 1, maxLength: Math.ceil(maxLength / charactersPerPiece) },
      )
      .map((parts) => parts.join('').replace(/\r/g, '').slice(0, maxLength))
      .filter((s) => s.trim().length > 0 && !LONE_SURROGATE.test(s));

/** A short link, and one far longer than any budget. */
export const WEB_LINKS = fc.constantFrom(
  'https://www.example.com/a/1',
  `https://www.example.com/${'q'.repeat(300)}`,
);

export const ALERT_ID = '01J2Z3Y4X5W6V7T8S9R0QPNMKH';

export interface VersionOptions {
  text: (maxLength: number) => fc.Arbitrary<string>;
  /** The languages to pick from; the first picked is the alert's own, the rest its translations. */
  languages: readonly string[];
  maxLanguages: number;
  statuses: readonly AlertContent['status'][];
  web?: fc.Arbitrary<string>;
  image?: fc.Arbitrary<AlertContent['image']>;
  /** Longest description, instruction and translated description, in UTF-16 units. */
  lengths?: { description: number; instruction: number; translatedDescription: number };
  event?: string;
  channels?: Channel[];
}

/** Any version of an alert a renderer might be handed: any text, languages, link and kind of message. */
export function renderVersionArb({
  text,
  languages,
  maxLanguages,
  statuses,
  web = WEB_LINKS,
  image,
  lengths = { description: 2000, instruction: 400, translatedDescription: 1000 },
  event = 'Missing person',
  channels = ['x'],
}: VersionOptions): fc.Arbitrary<RenderVersion> {
  return fc
    .record({
      headline: text(160),
      description: text(lengths.description),
      instruction: fc.option(text(lengths.instruction), { nil: undefined }),
      web: fc.option(web, { nil: undefined }),
      ...(image ? { image } : {}),
      languages: fc.shuffledSubarray([...languages], { minLength: 1, maxLength: maxLanguages }),
      msgType: fc.constantFrom<MsgType>('Alert', 'Update', 'Cancel'),
      status: fc.constantFrom(...statuses),
      translated: fc.array(
        fc.record({ headline: text(160), description: text(lengths.translatedDescription) }),
        { minLength: maxLanguages - 1, maxLength: maxLanguages - 1 },
      ),
    })
    .map(({ languages: picked, translated, msgType, status, ...rest }): RenderVersion => {
      const [language, ...others] = picked as [string, ...string[]];
      const content: AlertContent = {
        status,
        category: 'Rescue',
        event,
        urgency: 'Immediate',
        severity: 'Severe',
        certainty: 'Observed',
        language,
        ...rest,
        translations: others.map((l, i) => ({ language: l, ...translated[i]! })),
        areas: [{ zone: 'ciutat-vella', areaDesc: 'Ciutat Vella' }],
        channels,
      };
      return {
        alertId: ALERT_ID,
        version: msgType === 'Alert' ? 1 : 2,
        msgType,
        content,
        ...(msgType === 'Cancel' ? { note: 'Resolved' } : {}),
      };
    });
}

/** The same, as the store holds it, for renderers that take a whole stored version. */
export const storedVersionArb = (options: VersionOptions): fc.Arbitrary<StoredVersion> =>
  renderVersionArb(options).map(
    (v): StoredVersion => ({
      ...v,
      identifier: 'x',
      sent: '2030-01-01T00:00:00+00:00',
      sender: 'alerts@herald.example',
      references: [],
      author: 'officer-1',
      createdAt: '2030-01-01T00:00:00.000Z',
      approval: { required: false },
      dispatchStatus: 'pending',
    }),
  );

/** Every language of the version, its own first. */
export const languagesOf = (v: RenderVersion) => [
  v.content.language,
  ...v.content.translations.map((t) => t.language),
];

/** Every text the officer wrote, in every language. */
export const alertTexts = ({ headline, description, instruction, translations }: AlertContent) => [
  headline,
  description,
  instruction ?? '',
  ...translations.flatMap((x) => [x.headline, x.description]),
];

/**
 * Every grapheme of `out` is one of `known`'s or one of the renderer's `own`: a cut inside one would make a new one.
 */
export function expectOnlyKnownGraphemes(
  out: string,
  known: readonly string[],
  own: readonly string[] = ['…', '.', '\n', ' ', ':'],
) {
  const set = new Set(graphemes(known.join('\n')));
  for (const g of own) set.add(g);
  expect(graphemes(out).filter((g) => !set.has(g))).toEqual([]);
}
