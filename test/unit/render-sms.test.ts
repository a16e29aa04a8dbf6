import { describe, expect, it } from 'vitest';
import { gsmSeptets, measureSms, renderSms, renderWea } from '../../functions/channels/sms/render';
import { newAlert } from '../../functions/core/alerts';
import type { StoredVersion } from '../../functions/core/model';
import { AlertDraft } from '../../schemas/alert';
import draftFixture from '../fixtures/alert-draft.json';
import { testConfig } from '../helpers/fakes';

const ALERT_ID = '01J2Z3Y4X5W6V7T8S9R0QPNMKH';
const version = (changes: Record<string, unknown> = {}, config = testConfig()): StoredVersion =>
  newAlert(AlertDraft.parse({ ...structuredClone(draftFixture), ...changes }), {
    alertId: ALERT_ID,
    actor: { id: 'officer-1', roles: ['officer'] },
    now: new Date('2030-01-01T00:00:00Z'),
    sender: config.sender,
    approvalSeverities: config.approvalSeverities,
  });

describe('measureSms', () => {
  it.each([
    ['a', 160, 'GSM-7', 1],
    ['a', 161, 'GSM-7', 2],
    ['a', 306, 'GSM-7', 2],
    ['a', 307, 'GSM-7', 3],
    ['é', 161, 'GSM-7', 2],
    ['á', 70, 'UCS-2', 1],
    ['á', 71, 'UCS-2', 2],
    ['á', 134, 'UCS-2', 2],
    ['á', 135, 'UCS-2', 3],
  ])('%s × %i is %s in %i parts', (char, characters, encoding, segments) => {
    // Act
    const m = measureSms(char.repeat(characters));

    // Assess
    expect(m).toMatchObject({ encoding, characters, segments });
  });

  it('counts the extension table twice: ^{}\\[~]|€', () => {
    // Act
    const m = measureSms('^{}\\[~]|€');

    // Assess
    expect(m).toEqual({ encoding: 'GSM-7', characters: 18, segments: 1, ucs2Characters: [] });
  });

  it('switches the whole message to UCS-2 for one emoji, counting it as a surrogate pair', () => {
    // Prepare: 160 GSM characters fit one part; one emoji more makes 162 UTF-16 units in 3 parts of 67.
    const gsm = 'a'.repeat(160);

    // Act
    const before = measureSms(gsm);
    const after = measureSms(`${gsm}🚨`);

    // Assess
    expect(before).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(after).toEqual({ encoding: 'UCS-2', characters: 162, segments: 3, ucs2Characters: ['🚨'] });
  });

  it('moves an escape pair whole to the next part rather than split it', () => {
    // Prepare: 152 septets leave one in the first part of 153; "€" needs two.
    const text = `${'a'.repeat(152)}€${'a'.repeat(153)}`;

    // Act
    const m = measureSms(text);

    // Assess: 307 septets would be 3 parts anyway; 306 with the pair moved would be 2 — check that case.
    expect(m.characters).toBe(307);
    expect(measureSms(`${'a'.repeat(152)}€${'a'.repeat(152)}`)).toMatchObject({
      characters: 306,
      segments: 3,
    });
    expect(measureSms(`${'a'.repeat(151)}€${'a'.repeat(153)}`)).toMatchObject({
      characters: 306,
      segments: 2,
    });
  });

  it('moves a surrogate pair whole to the next UCS-2 part', () => {
    // Act and Assess: 66 units then an emoji (2) cannot share a part of 67.
    expect(measureSms(`${'á'.repeat(66)}😀${'á'.repeat(66)}`)).toMatchObject({
      characters: 134,
      segments: 3,
    });
    expect(measureSms(`${'á'.repeat(65)}😀${'á'.repeat(67)}`)).toMatchObject({
      characters: 134,
      segments: 2,
    });
  });

  it('knows the basic set from its neighbours', () => {
    // Assess
    expect([...'@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà'].every((c) => gsmSeptets(c) === 1)).toBe(true);
    expect(['á', 'í', 'ó', 'ú', 'Ó', 'ç', '…', '`', '\u001b'].map(gsmSeptets)).toEqual(
      Array(9).fill(undefined),
    );
  });
});

describe('renderSms', () => {
  it('sends a short alert whole, headline first and the link last, in GSM-7', () => {
    // Act
    const sms = renderSms(version(), testConfig());

    // Assess
    expect(sms.text).toBe(
      [draftFixture.headline, draftFixture.description, draftFixture.instruction, draftFixture.web].join(
        '\n',
      ),
    );
    expect(sms).toMatchObject({ encoding: 'GSM-7', segments: 2, maxSegments: 2, fits: true, shortened: [] });
    expect(sms.characters).toBe(sms.text.length);
  });

  it('shortens the description to two parts with three dots, so GSM-7 stays GSM-7', () => {
    // Act
    const sms = renderSms(version({ description: 'The boy wore a red coat. '.repeat(30) }), testConfig());

    // Assess
    expect(sms).toMatchObject({ encoding: 'GSM-7', segments: 2, fits: true, shortened: ['description'] });
    expect(sms.text).toMatch(/\.\.\.\nIf you see him, call 112 and stay with him\.\nhttps:\/\//);
    expect(sms.characters).toBeGreaterThan(290);
    expect(sms.warnings.join(' ')).toMatch(/shortened to fit 2 SMS parts/);
  });

  it('takes its part limit from the configuration', () => {
    // Act
    const one = renderSms(version(), testConfig({ smsMaxSegments: 1 }));
    const four = renderSms(version({ description: 'x'.repeat(2000) }), testConfig({ smsMaxSegments: 4 }));

    // Assess
    expect(one).toMatchObject({ segments: 1, fits: true });
    expect(four).toMatchObject({ segments: 4, fits: true });
  });

  it('names the characters that force UCS-2 and marks a Spanish update in Spanish', () => {
    // Prepare
    const v = {
      ...version({
        translations: [
          { language: 'es', headline: 'Niño desaparecido', description: 'Lleva un abrigo rojo.' },
        ],
      }),
      version: 2,
      msgType: 'Update' as const,
    };

    // Act
    const sms = renderSms(v, testConfig({ smsMaxSegments: 3 }), 'es');

    // Assess
    expect(sms.text.startsWith('ACTUALIZACIÓN: Niño desaparecido\n')).toBe(true);
    expect(sms.encoding).toBe('UCS-2');
    expect(sms.ucs2Characters).toEqual(['Ó']);
    expect(sms.warnings.join(' ')).toMatch(/UCS-2 .* because of: Ó/);
  });

  it("links to the alert's page when the officer's link is too long for the parts", () => {
    // Prepare
    const web = `https://alerts.herald.example/a?${'q=1&'.repeat(100)}`;

    // Act
    const sms = renderSms(version({ web }), testConfig({ smsMaxSegments: 1 }));

    // Assess
    expect(sms.link).toBe(`http://localhost:3000/alerts/${ALERT_ID}`);
    expect(sms.text.endsWith(sms.link)).toBe(true);
    expect(sms.fits).toBe(true);
  });
});

describe('renderWea', () => {
  it('says headline and instruction in 90 characters, and the rest with the link in 360', () => {
    // Act
    const short = renderWea(version(), testConfig(), 90);
    const long = renderWea(version({ description: 'Red coat. '.repeat(50) }), testConfig(), 360);

    // Assess
    expect(short.text).toBe(`${draftFixture.headline}. ${draftFixture.instruction}`);
    expect(short).toMatchObject({ characters: 75, limit: 90, fits: true });
    expect(long.characters).toBeLessThanOrEqual(360);
    expect(long.text.endsWith(draftFixture.web)).toBe(true);
  });

  it('cuts the headline alone when headline and instruction exceed 90', () => {
    // Act
    const wea = renderWea(version({ headline: 'Flooding '.repeat(15).trim() }), testConfig(), 90);

    // Assess
    expect(wea.characters).toBeLessThanOrEqual(90);
    expect(wea.text.endsWith('…')).toBe(true);
  });
});
