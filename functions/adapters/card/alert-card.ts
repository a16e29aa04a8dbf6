/**
 * The alert card: the image Instagram requires when an alert has none of its own. A 1080×1350 JPEG (Instagram's
 * portrait size) laid out by satori, which turns text into SVG paths with the fonts given to it, drawn by resvg
 * compiled to WebAssembly and encoded by jpeg-js — no native modules, so the same code runs on Lambda arm64 and
 * on any machine.
 *
 * Alert text reaches satori as element children (strings), never as markup: there is no HTML parser in the path,
 * so `<script>` in a headline is drawn as those characters.
 *
 * Assets (the resvg wasm and the Noto Sans woff files) are read at run time, first from a `card-assets` folder
 * beside this module — where the Lambda bundle keeps them, see `cardAssetFiles` — then from node_modules. They
 * are files rather than bytes embedded in the bundle so that functions which never draw a card do not pay to
 * load them, and the 2.5 MB wasm is not base64-decoded on every cold start.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MsgType, Severity } from '../../../schemas/alert';
import { wordsFor } from '../../core/render/marks';

export const CARD_WIDTH = 1080;
export const CARD_HEIGHT = 1350;
/** jpeg-js quality: sharp text edges without the size of 90+ (a card is about 100 KB). */
const JPEG_QUALITY = 85;

export interface AlertCardInput {
  headline: string;
  event: string;
  agencyName: string;
  severity: Severity;
  msgType: MsgType;
  language: string;
  areaDesc?: string | undefined;
  /** ISO 8601; shown in UTC, as the card cannot know the reader's zone. */
  sent?: string | undefined;
}

export interface AlertCard {
  bytes: Uint8Array;
  width: typeof CARD_WIDTH;
  height: typeof CARD_HEIGHT;
  alt: string;
}

/**
 * Band colours with the text drawn on them. Each pair has a contrast ratio of at least 4.5:1 (WCAG AA for
 * normal text), which test/unit/card.test.ts computes; orange and amber are too light for white text, so they
 * carry near-black.
 */
export const SEVERITY_STYLE: Record<Severity, { background: string; text: string; label: string }> = {
  Extreme: { background: '#8B0000', text: '#FFFFFF', label: 'EXTREME' },
  Severe: { background: '#EF6C00', text: '#111111', label: 'SEVERE' },
  Moderate: { background: '#FFB300', text: '#111111', label: 'MODERATE' },
  Minor: { background: '#1565C0', text: '#FFFFFF', label: 'MINOR' },
  Unknown: { background: '#5F6368', text: '#FFFFFF', label: 'ALERT' },
};

// ---------------------------------------------------------------- assets

/** The folder, beside the bundled handler, that holds the card's assets on Lambda. */
export const CARD_ASSET_DIR = 'card-assets';
/** The card's libraries, built on their own into the assets folder (lib/bundling.ts). */
export const CARD_LIBS_FILE = 'card-libs.mjs';
/** The module those libraries are built from. */
export const CARD_LIBS_SOURCE = 'functions/adapters/card/libs.ts';

/**
 * Beside a bundle, the libraries' own build; from source, the module itself. The specifier is computed, so
 * esbuild leaves it alone and a bundle does not carry (or parse at start-up) what only a card needs.
 */
function loadLibraries(): Promise<typeof import('./libs')> {
  const beside = new URL(`./${CARD_ASSET_DIR}/${CARD_LIBS_FILE}`, import.meta.url);
  const specifier = existsSync(fileURLToPath(beside))
    ? beside.href
    : new URL('./libs.ts', import.meta.url).href;
  return import(specifier);
}

const WASM_SPECIFIER = '@resvg/resvg-wasm/index_bg.wasm';
/**
 * The scripts of the languages agencies most often publish in. Each subset costs parse time on the first card;
 * CJK, Arabic and Devanagari (which satori does not shape) would need more than a card is worth, and draw as boxes.
 */
const FONT_SUBSETS = ['latin', 'latin-ext', 'greek', 'cyrillic', 'vietnamese'];
const FONT_WEIGHTS = [400, 700] as const;
const fontSpecifier = (subset: string, weight: number) =>
  `@fontsource/noto-sans/files/noto-sans-${subset}-${weight}-normal.woff`;

const ASSET_SPECIFIERS = [
  WASM_SPECIFIER,
  ...FONT_SUBSETS.flatMap((subset) => FONT_WEIGHTS.map((weight) => fontSpecifier(subset, weight))),
];

/**
 * Every asset the renderer reads, as an absolute source path and the name it must have in `card-assets/` beside
 * the bundle. For the CDK function that draws cards:
 * `commandHooks.afterBundling(_, out) => [`mkdir -p ${out}/card-assets`, ...cardAssetFiles().map((f) => `cp ${f.source} ${out}/card-assets/${f.name}`)]`.
 */
export function cardAssetFiles(): { source: string; name: string }[] {
  const require = createRequire(import.meta.url);
  return ASSET_SPECIFIERS.map((specifier) => ({
    source: require.resolve(specifier),
    name: basename(specifier),
  }));
}

async function readAsset(specifier: string): Promise<Buffer> {
  const beside = fileURLToPath(new URL(`./${CARD_ASSET_DIR}/${basename(specifier)}`, import.meta.url));
  try {
    return await readFile(beside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return readFile(createRequire(import.meta.url).resolve(specifier));
}

// ---------------------------------------------------------------- renderer (once per process)

type FontOptions = {
  name: string;
  data: Buffer;
  weight: (typeof FONT_WEIGHTS)[number];
  style: 'normal';
};

interface Renderer {
  satori: typeof import('./libs').satori;
  Resvg: typeof import('./libs').Resvg;
  encode: typeof import('./libs').encode;
  fonts: FontOptions[];
  fontFamily: string;
}

let renderer: Promise<Renderer> | undefined;

/**
 * Loads the libraries on first use, so a cold start that never draws a card does not pay for them (satori alone
 * takes over 100 ms to import), and initialises the wasm once: resvg refuses a second `initWasm`.
 */
function getRenderer(): Promise<Renderer> {
  renderer ??= (async () => {
    const [libs, wasm, fonts] = await Promise.all([
      loadLibraries(),
      readAsset(WASM_SPECIFIER),
      Promise.all(
        FONT_SUBSETS.flatMap((subset) =>
          FONT_WEIGHTS.map(
            async (weight): Promise<FontOptions> => ({
              // One family per subset: satori keeps one font per name and weight, and falls back across families.
              name: `Noto Sans ${subset}`,
              data: await readAsset(fontSpecifier(subset, weight)),
              weight,
              style: 'normal',
            }),
          ),
        ),
      ),
    ]);
    await libs.initWasm(wasm);
    return {
      satori: libs.satori,
      Resvg: libs.Resvg,
      encode: libs.encode,
      fonts,
      fontFamily: FONT_SUBSETS.map((subset) => `"Noto Sans ${subset}"`).join(', '),
    };
  })().catch((error: unknown) => {
    // A failed start (a missing asset) must not stick: the next card tries again.
    renderer = undefined;
    throw error;
  });
  return renderer;
}

// ---------------------------------------------------------------- render

export async function renderAlertCard(input: AlertCardInput): Promise<AlertCard> {
  const r = await getRenderer();
  const svg = await r.satori(cardElement(input, r.fontFamily) as Parameters<Renderer['satori']>[0], {
    width: CARD_WIDTH,
    height: CARD_HEIGHT,
    fonts: r.fonts,
    // Text in scripts no font here covers is drawn as boxes; emoji are removed before layout (see cardText).
    loadAdditionalAsset: async () => [],
  });
  const resvg = new r.Resvg(svg, { fitTo: { mode: 'original' }, font: { loadSystemFonts: false } });
  try {
    const image = resvg.render();
    try {
      const jpeg = r.encode({ data: image.pixels, width: image.width, height: image.height }, JPEG_QUALITY);
      return {
        bytes: new Uint8Array(jpeg.data),
        width: CARD_WIDTH,
        height: CARD_HEIGHT,
        alt: alertCardAlt(input),
      };
    } finally {
      // wasm memory is not garbage-collected: a warm Lambda drawing many cards would grow without these.
      image.free();
    }
  } finally {
    resvg.free();
  }
}

// ---------------------------------------------------------------- layout

/** The element tree satori lays out: plain objects, the shape React elements have, with strings as children. */
interface CardNode {
  type: 'div';
  props: { style: Record<string, string | number>; children?: string | CardNode[] };
}

const div = (style: CardNode['props']['style'], children?: string | CardNode[]): CardNode => ({
  type: 'div',
  props: children === undefined ? { style } : { style, children },
});

const PADDING_X = 72;
const TEXT_WIDTH = CARD_WIDTH - 2 * PADDING_X;
const BAND_HEIGHT = 300;
const BANNER_HEIGHT = 120;
const FOOTER_HEIGHT = 210;
const BODY_PADDING_Y = 64;
const HEADLINE_LINE_HEIGHT = 1.18;
const HEADLINE_MAX_LINES = 5;
/** From large to the smallest that still reads at arm's length on a phone (a 1080-px card shown ~380 pt wide). */
const HEADLINE_SIZES = [112, 100, 90, 80, 72, 64, 58];
/** Nothing past this is ever visible in five lines; cutting first bounds the layout work. */
const HEADLINE_MAX_GRAPHEMES = 320;
const AREA_FONT_SIZE = 38;
const AREA_BLOCK = AREA_FONT_SIZE * 1.3 * 2 + 36;

export function cardElement(input: AlertCardInput, fontFamily: string): CardNode {
  const style = SEVERITY_STYLE[input.severity];
  const words = wordsFor(input.language);
  const mark =
    input.msgType === 'Update'
      ? bareMark(words.update)
      : input.msgType === 'Cancel'
        ? bareMark(words.cancel)
        : '';
  const headline = truncateGraphemes(cardText(input.headline), HEADLINE_MAX_GRAPHEMES);
  const event = cardText(input.event);
  const area = input.areaDesc ? cardText(input.areaDesc) : '';
  const sent = input.sent ? formatSent(input.sent, input.language) : '';

  const bodyHeight =
    CARD_HEIGHT - BAND_HEIGHT - (mark ? BANNER_HEIGHT : 0) - FOOTER_HEIGHT - 2 * BODY_PADDING_Y;
  const headlineSize = headlineFontSize(headline, bodyHeight - (area ? AREA_BLOCK : 0));

  const children: CardNode[] = [
    div(
      {
        display: 'flex',
        flexDirection: 'column',
        justifyContent: 'center',
        height: BAND_HEIGHT,
        padding: `0 ${PADDING_X}px`,
        backgroundColor: style.background,
        color: style.text,
      },
      [
        div({ fontSize: 44, fontWeight: 700, letterSpacing: 6 }, style.label),
        div(
          { display: 'block', fontSize: 68, fontWeight: 700, lineHeight: 1.15, marginTop: 12, lineClamp: 2 },
          event,
        ),
      ],
    ),
  ];
  if (mark) {
    children.push(
      div(
        {
          display: 'flex',
          alignItems: 'center',
          height: BANNER_HEIGHT,
          padding: `0 ${PADDING_X}px`,
          backgroundColor: '#111111',
          color: '#FFFFFF',
          fontSize: 60,
          fontWeight: 700,
          letterSpacing: 6,
        },
        mark,
      ),
    );
  }
  const body: CardNode[] = [
    div(
      {
        display: 'block',
        fontSize: headlineSize,
        fontWeight: 700,
        lineHeight: HEADLINE_LINE_HEIGHT,
        lineClamp: HEADLINE_MAX_LINES,
        color: '#111111',
      },
      headline,
    ),
  ];
  if (area) {
    body.push(
      div(
        {
          display: 'block',
          fontSize: AREA_FONT_SIZE,
          lineHeight: 1.3,
          lineClamp: 2,
          marginTop: 36,
          color: '#333333',
        },
        area,
      ),
    );
  }
  children.push(
    div(
      {
        display: 'flex',
        flexDirection: 'column',
        flexGrow: 1,
        padding: `${BODY_PADDING_Y}px ${PADDING_X}px`,
        overflow: 'hidden',
      },
      body,
    ),
  );
  const footer: CardNode[] = [
    div(
      { display: 'block', fontSize: 42, fontWeight: 700, lineHeight: 1.2, lineClamp: 2, color: '#111111' },
      cardText(input.agencyName),
    ),
  ];
  if (sent) footer.push(div({ fontSize: 34, marginTop: 10, color: '#444444' }, sent));
  children.push(
    div(
      {
        display: 'flex',
        flexDirection: 'column',
        justifyContent: 'center',
        height: FOOTER_HEIGHT,
        padding: `0 ${PADDING_X}px`,
        borderTop: `12px solid ${style.background}`,
        backgroundColor: '#F4F4F4',
      },
      footer,
    ),
  );

  return div(
    {
      display: 'flex',
      flexDirection: 'column',
      width: CARD_WIDTH,
      height: CARD_HEIGHT,
      backgroundColor: '#FFFFFF',
      fontFamily,
    },
    children,
  );
}

/**
 * The largest size at which the headline, wrapped by estimated glyph widths, fits the lines the body has room
 * for; the smallest size otherwise, where `lineClamp` ends it with an ellipsis. An estimate is enough: satori
 * does the real wrapping, and the clamp catches what the estimate misses.
 */
export function headlineFontSize(headline: string, availableHeight: number): number {
  for (const size of HEADLINE_SIZES) {
    const maxLines = Math.min(
      HEADLINE_MAX_LINES,
      Math.floor(availableHeight / (size * HEADLINE_LINE_HEIGHT)),
    );
    if (maxLines >= 1 && estimateLines(headline, size) <= maxLines) return size;
  }
  return HEADLINE_SIZES.at(-1) as number;
}

function estimateLines(text: string, size: number): number {
  const space = 0.26 * size;
  let lines = 1;
  let width = 0;
  for (const word of text.split(' ').filter(Boolean)) {
    const w = wordWidth(word, size);
    const needed = width > 0 ? width + space + w : w;
    if (needed <= TEXT_WIDTH) {
      width = needed;
      continue;
    }
    if (width > 0) lines++;
    // A word longer than a line breaks across several.
    lines += Math.floor(w / TEXT_WIDTH);
    width = w % TEXT_WIDTH;
  }
  return lines;
}

/** Noto Sans Bold advances, roughly: capitals ~0.7 em, lower case and digits ~0.58 em, wide scripts 1 em. */
function wordWidth(word: string, size: number): number {
  let em = 0;
  for (const ch of word) {
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x1100) em += 1;
    else if (ch !== ch.toLowerCase()) em += 0.7;
    else em += 0.58;
  }
  return em * size;
}

// ---------------------------------------------------------------- text

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Alert text made fit to draw: control characters and bidi overrides (which could make drawn text read other than
 * it is) become spaces or go; emoji go, as no font here has them and a box would read as a fault; runs of space
 * collapse. Emoji stay in the alt text and the caption.
 */
export function cardText(text: string): string {
  return Array.from(segmenter.segment(text), ({ segment }) =>
    /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u.test(segment) ? ' ' : segment,
  )
    .join('')
    .replace(/[\u202A-\u202E\u2066-\u2069]|\uFE0F|\u200D/gu, '')
    .replace(/[\p{Cc}\s]+/gu, ' ')
    .trim();
}

function truncateGraphemes(text: string, max: number): string {
  const graphemes = Array.from(segmenter.segment(text), (s) => s.segment);
  return graphemes.length <= max
    ? text
    : `${graphemes
        .slice(0, max - 1)
        .join('')
        .trimEnd()}…`;
}

/** The render marks end with a colon to lead into the headline; on the card the banner stands alone. */
function bareMark(mark: string): string {
  return mark.replace(/\s*:\s*$/, '');
}

function formatSent(sent: string, language: string): string {
  const date = new Date(sent);
  if (Number.isNaN(date.getTime())) return '';
  const options: Intl.DateTimeFormatOptions = {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
    // Latin digits: the fonts here cover no other digits.
    numberingSystem: 'latn',
  };
  let formatted: string;
  try {
    formatted = new Intl.DateTimeFormat(language, options).format(date);
  } catch {
    formatted = new Intl.DateTimeFormat('en', options).format(date);
  }
  return `${cardText(formatted)} UTC`;
}

// ---------------------------------------------------------------- alt text

/** Instagram's alt text is short prose; a long headline is cut so the sentence still ends. */
const ALT_MAX_GRAPHEMES = 1000;

/**
 * One sentence a screen reader reads in place of the card: what kind of card, the severity, the event, the
 * agency, then the headline. English, like the severity label on the card itself.
 */
export function alertCardAlt(input: AlertCardInput): string {
  const plain = (text: string) =>
    text
      .replace(/[\u202A-\u202E\u2066-\u2069]/gu, '')
      .replace(/[\p{Cc}\s]+/gu, ' ')
      .trim();
  const kind =
    input.msgType === 'Update'
      ? 'Update card'
      : input.msgType === 'Cancel'
        ? 'Cancellation card'
        : 'Alert card';
  const event = plain(input.event);
  const what = input.severity === 'Unknown' ? `${event} (severity unknown)` : `${input.severity} ${event}`;
  const article = /^[aeiou]/i.test(what) ? 'an' : 'a';
  const headline = plain(input.headline).replace(/[.!?…]+$/u, '');
  const area = input.areaDesc ? ` Area: ${plain(input.areaDesc)}.` : '';
  const sentence = `${kind} for ${article} ${what} from ${plain(input.agencyName)}: ${headline}.${area}`;
  return truncateGraphemes(sentence, ALT_MAX_GRAPHEMES);
}
