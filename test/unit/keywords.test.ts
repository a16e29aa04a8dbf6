import { describe, expect, it } from 'vitest';
import {
  helpReply,
  joinReply,
  parseKeyword,
  replyLanguageOf,
  stopReply,
  unknownZoneReply,
} from '../../functions/core/keywords';

describe('parseKeyword', () => {
  it.each([
    'STOP',
    'stop',
    ' Stop. ',
    'STOP!',
    'STOPALL',
    'unsubscribe',
    'Cancel',
    'END',
    'quit',
    'stop please',
    '"STOP"',
  ])('reads %j as STOP', (body) => {
    // Act
    const command = parseKeyword(body);

    // Assess
    expect(command.kind).toBe('stop');
  });

  it('reads JOIN with a zone, folding case and accents into the zone id', () => {
    // Act
    const command = parseKeyword('join Sants-Montjuïc');

    // Assess
    expect(command).toEqual({
      kind: 'join',
      zone: 'sants-montjuic',
      language: undefined,
      keyword: 'JOIN sants-montjuic',
    });
  });

  it('reads a trailing language word as the language, not as part of the zone', () => {
    // Act
    const command = parseKeyword('JOIN eixample Català');

    // Assess
    expect(command).toMatchObject({ kind: 'join', zone: 'eixample', language: 'ca' });
  });

  it('joins a zone typed with spaces into one id', () => {
    // Act
    const command = parseKeyword('JOIN nou barris es');

    // Assess
    expect(command).toMatchObject({ kind: 'join', zone: 'nou-barris', language: 'es' });
  });

  it('takes the Spanish ALTA as JOIN in Spanish', () => {
    // Act
    const command = parseKeyword('alta gracia');

    // Assess
    expect(command).toMatchObject({ kind: 'join', zone: 'gracia', language: 'es' });
  });

  it('reads JOIN alone as a JOIN without a zone', () => {
    // Act
    const command = parseKeyword('JOIN');

    // Assess
    expect(command).toMatchObject({ kind: 'join', zone: undefined });
  });

  it('reads START and HELP, and anything else as HELP', () => {
    // Act
    const kinds = ['START', 'help', 'AJUDA', 'hello there', '', '🙂'].map((b) => parseKeyword(b).kind);

    // Assess
    expect(kinds).toEqual(['start', 'help', 'help', 'help', 'help', 'help']);
  });

  it('does not take a word that merely starts like a keyword', () => {
    // Act
    const command = parseKeyword('STOPPED by to say hi');

    // Assess
    expect(command.kind).toBe('help');
  });
});

describe('replies', () => {
  const agency = 'Guàrdia Urbana';

  it('confirms a STOP in the language asked, saying no more messages will come', () => {
    // Act
    const texts = (['en', 'es', 'ca'] as const).map((language) => stopReply({ agency, language }));

    // Assess
    expect(texts[0]).toMatch(/unsubscribed.*no more messages/);
    expect(texts[1]).toMatch(/baja.*no recibirás más mensajes/);
    expect(texts[2]).toMatch(/baixa.*no rebràs més missatges/);
    for (const text of texts) expect(text).toContain(agency);
  });

  it('names the zone and how to stop in the JOIN reply', () => {
    // Act
    const text = joinReply({ agency, language: 'es' }, 'Ensanche');

    // Assess
    expect(text).toContain('Ensanche');
    expect(text).toContain('STOP');
  });

  it('lists a few valid zone ids when the zone is unknown, and echoes the typed zone only as letters', () => {
    // Act
    const text = unknownZoneReply({ agency, language: 'en' }, 'atlantis<script>', [
      'z1',
      'z2',
      'z3',
      'z4',
      'z5',
    ]);

    // Assess
    expect(text).toContain('"atlantisscript"');
    expect(text).toContain('z1, z2, z3, z4…');
    expect(text).not.toContain('z5');
  });

  it('answers HELP with who sends and how to stop', () => {
    // Act
    const text = helpReply({ agency, language: 'en' });

    // Assess
    expect(text).toContain(agency);
    expect(text).toMatch(/STOP/);
    expect(text).toMatch(/JOIN/);
  });

  it('maps language tags onto the reply languages, English otherwise', () => {
    // Act
    const languages = ['es-ES', 'CA', 'en-GB', 'fr', undefined].map(replyLanguageOf);

    // Assess
    expect(languages).toEqual(['es', 'ca', 'en', 'en', 'en']);
  });
});
