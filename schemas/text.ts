/**
 * The characters Herald's text may hold. One set of rules, used twice: the API refuses text that breaks them,
 * naming the field and the character, and every writer (XML, HTML, CSV, feeds) repairs text that was stored
 * before the rules existed, so no stored text can break an output.
 */
import * as z from 'zod';

/**
 * Characters XML 1.0 cannot carry: C0 controls other than tab, LF and CR, lone surrogates, U+FFFE and U+FFFF.
 * Written as what XML allows (its Char production); with the `u` flag a surrogate pair is one character, so only
 * a surrogate without its pair falls outside.
 */
export const NOT_XML_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * What no alert text may hold: the above, plus DEL and the C1 controls. XML 1.0 allows those two but HTML calls
 * them parse errors, GSM-7 has no code for them, and no keyboard types them: they are only ever debris.
 */
const UNSAFE = /[^\t\n\r\u0020-\u007E\u00A0-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'gu');

/** Bidirectional embeddings, overrides and isolates: they make text display in an order other than the stored one. */
const BIDI_CONTROL = /[\u202A-\u202E\u2066-\u2069]/;

/**
 * Something a reader can see: not white space, not a control, not a default-ignorable character (zero-width
 * space and joiners, word joiner, BOM, soft hyphen, bidi marks and controls, variation selectors, Hangul fillers,
 * tag characters), not the blank Braille pattern U+2800.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** "U+00A0", as Unicode names code points. */
export const codePointName = (codePoint: number): string =>
  `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `s` may not be stored, naming the first character at fault; undefined when every character is fine. */
export function unsafeCharacter(s: string): string | undefined {
  const m = UNSAFE.exec(s);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0);
  const what =
    code >= 0xd800 && code <= 0xdfff
      ? ' (half of a surrogate pair, without its other half)'
      : code < 0x20 || (code >= 0x7f && code <= 0x9f)
        ? ' (a control character)'
        : '';
  return `contains ${codePointName(code)}${what}, which no XML, feed or SMS can carry`;
}

/** True when nothing in `s` would show: empty, or only spaces and invisible characters. */
export const isBlank = (s: string): boolean => !VISIBLE.test(s);
export const BLANK = 'is blank: it holds only spaces or invisible characters';

/** A string that has a surrogate without its pair, which no UTF-8 (and so no request body) can encode. */
export const hasLoneSurrogate = (s: string): boolean => /[\uD800-\uDFFF]/u.test(s);

/** The first bidi embedding, override or isolate control in `s`, by name; undefined when there is none. */
export function bidiControl(s: string): string | undefined {
  const m = BIDI_CONTROL.exec(s);
  return m ? codePointName(m[0].charCodeAt(0)) : undefined;
}

/**
 * `s` with every character no output can carry replaced by U+FFFD, the replacement character: text stored before
 * the API refused them still writes well-formed XML, valid HTML and clean CSV. Replaced rather than dropped, so a
 * reader sees that something was there and two words never run together. Returns `s` itself when it is clean.
 */
export const safeText = (s: string): string => (UNSAFE.test(s) ? s.replace(UNSAFE_ALL, '\uFFFD') : s);

/** Refines any string schema: refuses a character no output can carry, naming it. */
export function refuseUnsafe(s: string, ctx: z.RefinementCtx): void {
  const problem = unsafeCharacter(s);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}

/** Refines any string schema: refuses bidi embeddings, overrides and isolates, naming the first. */
export function refuseBidiControls(s: string, ctx: z.RefinementCtx): void {
  const control = bidiControl(s);
  if (control)
    ctx.addIssue({
      code: 'custom',
      message: `contains ${control} (a bidirectional control), which makes it display differently from what is stored`,
    });
}

/** A string that holds no character an output cannot carry: for names, consent records and the like. */
export const safeString = () => z.string().superRefine(refuseUnsafe);

/** Printable free text, kept as written (officers' line breaks matter): at most `max` characters, never blank. */
export const text = (max: number) =>
  safeString()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((s) => !isBlank(s), BLANK);

/**
 * A one-line title (a headline, an event): free text that must read as it is stored, so no bidi controls. A
 * right-to-left headline needs none (the Unicode algorithm orders it); U+200E and U+200F marks stay allowed.
 */
export const title = (max: number) => text(max).superRefine(refuseBidiControls);
