/** QUIET by text: what is read as the keyword (and what is still a tip), and the replies in each language. */
import { describe, expect, it } from 'vitest';
import {
  parseInbound,
  parseKeyword,
  quietFormReply,
  quietNotSubscribedReply,
  quietOffReply,
  quietSetReply,
} from '../../functions/core/keywords';

const agency = 'Guàrdia Urbana';

describe('QUIET', () => {
  it.each([
    ['QUIET 22-07', '22:00', '07:00', undefined],
    ['quiet 22:00-07:30', '22:00', '07:30', undefined],
    ['Quiet: 10pm to 7am', '22:00', '07:00', undefined],
    ['SILENCIO de 23 a 7', '23:00', '07:00', 'es'],
    ['silenci 22h-7h', '22:00', '07:00', 'ca'],
  ])('reads %j as quiet hours %s to %s', (body, from, to, language) => {
    // Act
    const command = parseInbound(body);

    // Assess
    expect(command).toEqual({
      kind: 'quiet',
      quiet: { kind: 'set', window: { from, to } },
      language,
      keyword: `QUIET ${from}-${to}`,
    });
    expect(parseKeyword(body)).toEqual(command);
  });

  it.each(['QUIET OFF', 'quiet off', 'Quiet off.', 'SILENCIO off'])('reads %j as quiet hours off', (body) => {
    expect(parseInbound(body)).toMatchObject({ kind: 'quiet', quiet: { kind: 'off' }, keyword: 'QUIET OFF' });
  });

  it.each(['QUIET', 'quiet 22', 'QUIET 25-07', 'QUIET 7-7', 'quiet please', 'QUIET from 10 until late'])(
    'reads %j as QUIET in a form it does not take: the reply explains it',
    (body) => {
      expect(parseInbound(body)).toMatchObject({
        kind: 'quiet',
        quiet: { kind: 'invalid' },
        keyword: 'QUIET',
      });
    },
  );

  it.each(['Quiet street tonight, a man was shouting', 'quiet night so far here at the station'])(
    'reads %j, words with no time after QUIET, as the tip it is',
    (body) => {
      // Act
      const command = parseInbound(body);

      // Assess
      expect(command).toEqual({ kind: 'tip', text: body });
    },
  );
});

describe('QUIET replies', () => {
  const window = { from: '22:00', to: '07:00' };

  it('says the hours set and that emergencies still come, in English, Spanish and Catalan', () => {
    // Act
    const texts = (['en', 'es', 'ca'] as const).map((language) =>
      quietSetReply({ agency, language }, window),
    );

    // Assess
    expect(texts[0]).toBe(
      'Guàrdia Urbana: quiet hours set, 22:00 to 07:00. Alerts that are not urgent wait until 07:00; emergencies still come at once. Reply QUIET OFF to end them.',
    );
    expect(texts[1]).toMatch(/horas de silencio de 22:00 a 07:00.*las emergencias llegan al momento/);
    expect(texts[2]).toMatch(/hores de silenci de 22:00 a 07:00.*les emergències arriben de seguida/);
    for (const text of texts) expect(text).toContain('QUIET OFF');
  });

  it('has a reply in each language for off, for the form, and for a number that is not subscribed', () => {
    for (const reply of [quietOffReply, quietFormReply, quietNotSubscribedReply]) {
      // Act
      const texts = (['en', 'es', 'ca'] as const).map((language) => reply({ agency, language }));

      // Assess
      expect(new Set(texts).size).toBe(3);
      for (const text of texts) expect(text.startsWith(`${agency}:`)).toBe(true);
    }
    expect(quietFormReply({ agency, language: 'en' })).toMatch(/QUIET 22-07 or QUIET 22:30-07:00/);
  });
});
