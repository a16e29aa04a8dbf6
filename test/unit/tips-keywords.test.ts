/**
 * Texts that are tips (api.md, "Tips and replies"): every keyword still reads exactly as it did, whatever follows it
 * (a STOP is never a tip); `TIP <text>` and any other text with something visible in it are tips; the
 * acknowledgement carries the tip's reference in the resident's language.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  parseInbound,
  parseKeyword,
  tipAnswerSubject,
  tipAnswerText,
  tipEmptyReply,
  tipReceivedReply,
} from '../../functions/core/keywords';
import { aliasOf, newReference, REFERENCE } from '../../functions/core/tips';

/** Every keyword Herald reads, as the carriers and the residents type them. */
const KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'BAJA',
  'BAIXA',
  'START',
  'UNSTOP',
  'RESUME',
  'REANUDAR',
  'REPRENDRE',
  'JOIN',
  'SUBSCRIBE',
  'ALTA',
  'SUSCRIBIR',
  'SUBSCRIURE',
  'HELP',
  'INFO',
  'AYUDA',
  'AJUDA',
];
/** How each may arrive: alone, in any case, with punctuation, and followed by words that read like a tip. */
const SHAPES = [
  (k: string) => k,
  (k: string) => k.toLowerCase(),
  (k: string) => ` ${k[0]}${k.slice(1).toLowerCase()}. `,
  (k: string) => `${k}!`,
  (k: string) => `"${k}"`,
  (k: string) => `${k} I saw her at the station`,
  (k: string) => `${k.toLowerCase()}, tip: white van on Main Street`,
];

describe('parseInbound reads every keyword exactly as parseKeyword does', () => {
  const cases = KEYWORDS.flatMap((k) => SHAPES.map((shape) => shape(k)));

  it.each(cases)('reads %j as the keyword it always was, never a tip', (body) => {
    // Act
    const command = parseInbound(body);

    // Assess
    expect(command.kind).not.toBe('tip');
    expect(command).toEqual(parseKeyword(body));
  });

  it.each(['STOP', 'stop please', 'Stop sending me these', 'STOP TIP the van is white', 'quit.'])(
    'reads %j as STOP',
    (body) => {
      expect(parseInbound(body).kind).toBe('stop');
    },
  );
});

describe('parseInbound: tips', () => {
  it.each([
    ['TIP I saw her at the station', 'I saw her at the station'],
    ['tip: white van, plate 1234-ABC', 'white van, plate 1234-ABC'],
    ['Tip - he went north', 'he went north'],
    ['  TIP\nshe was wearing red  ', 'she was wearing red'],
  ])('reads %j as a tip with the text after TIP', (body, text) => {
    // Act
    const command = parseInbound(body);

    // Assess
    expect(command).toEqual({ kind: 'tip', text, keyword: 'TIP' });
  });

  it.each(['TIP', ' tip ', 'TIP!', 'Tip:'])('reads %j as a tip with no text', (body) => {
    expect(parseInbound(body)).toEqual({ kind: 'tip', text: '', keyword: 'TIP' });
  });

  it.each([
    'I saw her at the station',
    'is the road open?',
    'STOPPED by to say hi',
    'Tipping point: the van went north',
    'Helpful officers at the station',
    'la vi en la estación de Sants',
    '🙂',
  ])('reads %j, which is no keyword, as a tip kept as written', (body) => {
    // Act
    const command = parseInbound(body);

    // Assess
    expect(command).toEqual({ kind: 'tip', text: body.trim() });
  });

  it.each(['', '   ', '\u200B\u2060\uFEFF', '\u00A0\u3000', '\u2800'])(
    'reads a blank text %j as HELP: there is nothing to pass on',
    (body) => {
      expect(parseInbound(body)).toEqual({ kind: 'help', keyword: 'HELP' });
    },
  );
});

describe('tip replies', () => {
  const agency = 'Guàrdia Urbana';

  it('acknowledges a tip with its reference in English, Spanish and Catalan', () => {
    // Act
    const texts = (['en', 'es', 'ca'] as const).map((language) =>
      tipReceivedReply({ agency, language }, 'T-7KQ2'),
    );

    // Assess
    expect(texts[0]).toMatch(/received your tip \(ref\. T-7KQ2\)/);
    expect(texts[1]).toMatch(/recibido tu aviso \(ref\. T-7KQ2\)/);
    expect(texts[2]).toMatch(/rebut el teu avís \(ref\. T-7KQ2\)/);
    for (const text of texts) expect(text.startsWith(agency)).toBe(true);
  });

  it('tells how to send a tip when TIP came alone, in each language', () => {
    // Act
    const texts = (['en', 'es', 'ca'] as const).map((language) => tipEmptyReply({ agency, language }));

    // Assess
    expect(texts.every((t) => t.includes('TIP'))).toBe(true);
    expect(new Set(texts).size).toBe(3);
  });

  it("frames an officer's answer as the agency's, with the reference", () => {
    // Act
    const text = tipAnswerText({ agency }, 'T-7KQ2', 'Which station?');
    const subject = tipAnswerSubject({ agency, language: 'es' }, 'T-7KQ2');

    // Assess
    expect(text).toBe('Guàrdia Urbana (T-7KQ2): Which station?');
    expect(subject).toBe('Guàrdia Urbana: sobre tu aviso T-7KQ2');
  });
});

describe('references and aliases', () => {
  it('makes references of T- and 4 Crockford base32 characters', () => {
    // Act
    const references = Array.from({ length: 200 }, () => newReference());

    // Assess
    for (const r of references) expect(r).toMatch(REFERENCE);
    expect(new Set(references).size).toBeGreaterThan(190);
  });

  it('derives a stable alias per contact from its keyed hash, and another for another contact', async () => {
    // Prepare
    const keyed = { hash: async (v: string) => createHmac('sha256', 'key').update(v).digest('base64url') };

    // Act
    const first = await aliasOf(keyed, '+34611223344');
    const again = await aliasOf(keyed, '+34611223344');
    const other = await aliasOf(keyed, '+34611223355');

    // Assess
    expect(first).toMatch(/^Tipster [0-9A-HJKMNP-TV-Z]{4}$/);
    expect(again).toBe(first);
    expect(other).not.toBe(first);
  });
});
