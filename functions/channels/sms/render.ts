/**
 * SMS: what a message costs is decided per character. Text entirely in the GSM 03.38 alphabet goes as
 * GSM-7 (160 septets in one part, 153 per part when concatenated; the extension table's characters take
 * an escape and count 2); one character outside it sends the whole message as UCS-2 (70 UTF-16 units,
 * 67 per part). Parts are counted as phones split them: an escape pair or a surrogate pair is never split
 * across two parts, so it moves whole to the next one.
 *
 * WEA-style texts (90 and 360 characters, the US Wireless Emergency Alerts sizes) are offered alongside for
 * agencies that also hand alerts to a cell-broadcast gateway; they are counted in code points.
 */
import { type Fitted, fitPieces, longestFitting } from '../../core/render/text';
import {
  localise,
  type RenderConfig,
  type RenderVersion,
  shortestAlertLink,
} from '../../core/render/version';
import type { ChannelRenderer } from '../renderer';

export type SmsEncoding = 'GSM-7' | 'UCS-2';

/** GSM 03.38 basic character set, less the escape (0x1B) itself. */
const GSM_BASIC = new Set(
  Array.from(
    '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
  ),
);
/** The extension table: each is sent as escape + code, two septets. */
const GSM_EXTENSION = new Set(Array.from('\f^{}\\[~]|€'));

/** Septets a character takes in GSM-7, or undefined when GSM-7 cannot carry it. */
export function gsmSeptets(char: string): 1 | 2 | undefined {
  if (GSM_BASIC.has(char)) return 1;
  if (GSM_EXTENSION.has(char)) return 2;
  return undefined;
}

export interface SmsMeasure {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 units (UCS-2): what the budget is counted in. */
  characters: number;
  segments: number;
  /** The characters that forced UCS-2, each once, so an officer can replace them. */
  ucs2Characters: string[];
}

const SINGLE = { 'GSM-7': 160, 'UCS-2': 70 } as const;
const PART = { 'GSM-7': 153, 'UCS-2': 67 } as const;

/** The code points of `text` and what each costs in its encoding: the unit neither encoding may split. */
function unitsOf(text: string): {
  encoding: SmsEncoding;
  chars: string[];
  units: number[];
  outside: string[];
} {
  const chars = Array.from(text);
  const outside = chars.filter((c) => gsmSeptets(c) === undefined);
  const encoding: SmsEncoding = outside.length === 0 ? 'GSM-7' : 'UCS-2';
  const units = chars.map((c) => (encoding === 'GSM-7' ? (gsmSeptets(c) as number) : c.length));
  return { encoding, chars, units, outside };
}

/**
 * The parts a phone network carries `text` in: one when it fits a single message, else parts of 153 septets
 * or 67 UTF-16 units, an escape pair or a surrogate pair moving whole to the next part when it would not fit.
 */
export function smsParts(text: string): string[] {
  const { encoding, chars, units } = unitsOf(text);
  const total = units.reduce((a, b) => a + b, 0);
  if (total === 0) return [];
  if (total <= SINGLE[encoding]) return [text];
  const room = PART[encoding];
  const parts: string[] = [];
  let part = '';
  let used = 0;
  chars.forEach((c, i) => {
    const u = units[i] as number;
    if (used + u > room) {
      parts.push(part);
      part = '';
      used = 0;
    }
    part += c;
    used += u;
  });
  parts.push(part);
  return parts;
}

/** Encoding, length and the number of parts the message is sent in. */
export function measureSms(text: string): SmsMeasure {
  const { encoding, units, outside } = unitsOf(text);
  return {
    encoding,
    characters: units.reduce((a, b) => a + b, 0),
    segments: smsParts(text).length,
    ucs2Characters: [...new Set(outside)],
  };
}

/** What one part of `encoding` may hold, for checking a split. */
export const smsPartRoom = (encoding: SmsEncoding, parts: number): number =>
  parts <= 1 ? SINGLE[encoding] : PART[encoding];

/** Septets or UTF-16 units of `text` in `encoding`; infinite when GSM-7 cannot carry it. */
export const smsUnits = (text: string, encoding: SmsEncoding): number =>
  Array.from(text).reduce(
    (n, c) => n + (encoding === 'GSM-7' ? (gsmSeptets(c) ?? Number.POSITIVE_INFINITY) : c.length),
    0,
  );

export interface SmsRendering {
  text: string;
  encoding: SmsEncoding;
  characters: number;
  segments: number;
  maxSegments: number;
  fits: boolean;
  shortened: Fitted['shortened'];
  ucs2Characters: string[];
  link: string;
  warnings: string[];
}

const composeSms = (head: string, body: string[], tail: string | undefined) =>
  [head, ...body, ...(tail ? [tail] : [])].join('\n');

/**
 * The SMS for one language: mark and headline, the description (shortened first), the instruction, and the
 * link to the full alert, in at most `config.smsMaxSegments` parts.
 */
export function renderSms(version: RenderVersion, config: RenderConfig, language?: string): SmsRendering {
  const l = localise(version, config, language);
  const max = config.smsMaxSegments;
  const fits = (t: string) => measureSms(t).segments <= max;
  const head = `${l.prefix}${l.content.headline}`;
  const warnings: string[] = [];
  // A long link of the officer's own cannot be shortened: the alert's page on Herald carries the same text.
  let link = l.link;
  if (!fits(composeSms(head, [], link)) && link !== shortestAlertLink(config, version.alertId)) {
    link = shortestAlertLink(config, version.alertId);
    warnings.push("the alert's link is too long for SMS; the SMS links to the alert's page instead");
  }
  const pieces = {
    head,
    note: l.note,
    description: l.content.description,
    instruction: l.content.instruction,
    tail: link,
  };
  const full = composeSms(head, [l.note, l.content.description, l.content.instruction].filter(isText), link);
  // Three dots keep a GSM-7 message GSM-7; "…" alone would send it all as UCS-2.
  const ellipsis = measureSms(full).encoding === 'GSM-7' ? '...' : '…';
  const fitted = fitPieces(pieces, composeSms, fits, ellipsis);
  const measure = measureSms(fitted.text);
  if (fitted.shortened.length)
    warnings.push(
      `shortened to fit ${max} SMS parts (${fitted.shortened.join(', ')}); the full text is at the link`,
    );
  if (measure.encoding === 'UCS-2')
    warnings.push(
      `sent as UCS-2 (70 characters a part instead of 160) because of: ${measure.ucs2Characters.join(' ')}`,
    );
  return {
    text: fitted.text,
    ...measure,
    maxSegments: max,
    fits: measure.segments <= max,
    shortened: fitted.shortened,
    link,
    warnings,
  };
}

const isText = (s: string | undefined): s is string => s !== undefined && s !== '';

export interface WeaRendering {
  text: string;
  /** Code points. */
  characters: number;
  limit: 90 | 360;
  fits: boolean;
}

const codePoints = (s: string) => Array.from(s).length;

/**
 * WEA-style text: 90 characters say the headline and what to do, no link; 360 add the description and the
 * link. Cut between graphemes like everything else.
 */
export function renderWea(
  version: RenderVersion,
  config: RenderConfig,
  limit: 90 | 360,
  language?: string,
): WeaRendering {
  const l = localise(version, config, language);
  const fits = (t: string) => codePoints(t) <= limit;
  const head = `${l.prefix}${l.content.headline}`;
  let text: string;
  if (limit === 90) {
    const withInstruction = l.content.instruction ? `${head}. ${l.content.instruction}` : head;
    text = fits(withInstruction) ? withInstruction : (longestFitting(head, fits) ?? '');
  } else {
    text = fitPieces(
      {
        head,
        note: l.note,
        description: l.content.description,
        instruction: l.content.instruction,
        tail: l.link,
      },
      (h, body, tail) => [h, ...body, ...(tail ? [tail] : [])].join(' '),
      fits,
    ).text;
  }
  return { text, characters: codePoints(text), limit, fits: fits(text) };
}

export const smsRenderer: ChannelRenderer<'sms'> = {
  channel: 'sms',
  content(version, config, { language }) {
    const r = renderSms(version, config, language);
    return { content: { channel: 'sms', text: r.text }, text: r.text };
  },
  preview(version, config, language) {
    const { shortened: _s, link: _l, ...r } = renderSms(version, config, language);
    // Cell broadcast is not Herald's SMS: its text carries the alert's own link, so its readers are not counted as SMS.
    const broadcast = { ...config, channel: undefined };
    return {
      ...r,
      wea90: renderWea(version, broadcast, 90, language),
      wea360: renderWea(version, broadcast, 360, language),
    };
  },
};
