/**
 * The words a rendering adds around the officer's text, per language: the marks that tell a reader this
 * is an update, a cancel, an exercise or a test, and the few labels of the long formats (email, page).
 * A language without a row reads English: an unmarked update would be worse than an English mark.
 */
import type { AlertContent, MsgType } from '../../../schemas/alert';

export interface Words {
  update: string;
  cancel: string;
  exercise: string;
  test: string;
  whatToDo: string;
  area: string;
  contact: string;
  /** The label of an alert's times in the long formats, and the words around a time that has no other end. */
  when: string;
  from: string;
  until: string;
  fullAlert: string;
  /** CAP's severity as the long formats say it to residents (the feeds and CAP keep CAP's own word). */
  severity: Record<AlertContent['severity'], string>;
}

const WORDS: Record<string, Words> = {
  en: {
    update: 'UPDATE:',
    cancel: 'CANCELLED:',
    exercise: 'EXERCISE:',
    test: 'TEST:',
    whatToDo: 'What to do',
    area: 'Area',
    contact: 'Contact',
    when: 'When',
    from: 'From',
    until: 'Until',
    fullAlert: 'Full alert',
    severity: {
      Extreme: 'Extreme',
      Severe: 'Severe',
      Moderate: 'Moderate',
      Minor: 'Minor',
      Unknown: 'Unknown severity',
    },
  },
  es: {
    update: 'ACTUALIZACIÓN:',
    cancel: 'CANCELADA:',
    exercise: 'SIMULACRO:',
    test: 'PRUEBA:',
    whatToDo: 'Qué hacer',
    area: 'Zona',
    contact: 'Contacto',
    when: 'Cuándo',
    from: 'Desde',
    until: 'Hasta',
    fullAlert: 'Alerta completa',
    severity: {
      Extreme: 'Extrema',
      Severe: 'Grave',
      Moderate: 'Moderada',
      Minor: 'Leve',
      Unknown: 'Gravedad desconocida',
    },
  },
  ca: {
    update: 'ACTUALITZACIÓ:',
    cancel: 'ANUL·LADA:',
    exercise: 'SIMULACRE:',
    test: 'PROVA:',
    whatToDo: 'Què cal fer',
    area: 'Zona',
    contact: 'Contacte',
    when: 'Quan',
    from: 'Des de',
    until: 'Fins a',
    fullAlert: 'Alerta completa',
    severity: {
      Extreme: 'Extrema',
      Severe: 'Greu',
      Moderate: 'Moderada',
      Minor: 'Lleu',
      Unknown: 'Gravetat desconeguda',
    },
  },
  fr: {
    update: 'MISE À JOUR :',
    cancel: 'ANNULÉE :',
    exercise: 'EXERCICE :',
    test: 'TEST :',
    whatToDo: 'Que faire',
    area: 'Zone',
    contact: 'Contact',
    when: 'Quand',
    from: 'À partir de',
    until: 'Jusqu’à',
    fullAlert: 'Alerte complète',
    severity: {
      Extreme: 'Extrême',
      Severe: 'Grave',
      Moderate: 'Modérée',
      Minor: 'Mineure',
      Unknown: 'Gravité inconnue',
    },
  },
  de: {
    update: 'AKTUALISIERUNG:',
    cancel: 'AUFGEHOBEN:',
    exercise: 'ÜBUNG:',
    test: 'TEST:',
    whatToDo: 'Was zu tun ist',
    area: 'Gebiet',
    contact: 'Kontakt',
    when: 'Wann',
    from: 'Ab',
    until: 'Bis',
    fullAlert: 'Vollständige Warnung',
    severity: {
      Extreme: 'Extrem',
      Severe: 'Schwer',
      Moderate: 'Mäßig',
      Minor: 'Gering',
      Unknown: 'Schwere unbekannt',
    },
  },
  pt: {
    update: 'ATUALIZAÇÃO:',
    cancel: 'CANCELADO:',
    exercise: 'SIMULACRO:',
    test: 'TESTE:',
    whatToDo: 'O que fazer',
    area: 'Zona',
    contact: 'Contacto',
    when: 'Quando',
    from: 'A partir de',
    until: 'Até',
    fullAlert: 'Alerta completo',
    severity: {
      Extreme: 'Extrema',
      Severe: 'Grave',
      Moderate: 'Moderada',
      Minor: 'Menor',
      Unknown: 'Gravidade desconhecida',
    },
  },
  it: {
    update: 'AGGIORNAMENTO:',
    cancel: 'ANNULLATO:',
    exercise: 'ESERCITAZIONE:',
    test: 'TEST:',
    whatToDo: 'Cosa fare',
    area: 'Zona',
    contact: 'Contatto',
    when: 'Quando',
    from: 'Da',
    until: 'Fino a',
    fullAlert: 'Allerta completa',
    severity: {
      Extreme: 'Estrema',
      Severe: 'Grave',
      Moderate: 'Moderata',
      Minor: 'Lieve',
      Unknown: 'Gravità sconosciuta',
    },
  },
  nl: {
    update: 'UPDATE:',
    cancel: 'INGETROKKEN:',
    exercise: 'OEFENING:',
    test: 'TEST:',
    whatToDo: 'Wat te doen',
    area: 'Gebied',
    contact: 'Contact',
    when: 'Wanneer',
    from: 'Vanaf',
    until: 'Tot',
    fullAlert: 'Volledige melding',
    severity: {
      Extreme: 'Extreem',
      Severe: 'Ernstig',
      Moderate: 'Matig',
      Minor: 'Gering',
      Unknown: 'Ernst onbekend',
    },
  },
};

const ENGLISH = WORDS.en as Words;

/** By the primary language subtag: `es-MX` reads Spanish, `zh-Hant` English. */
export function wordsFor(language: string): Words {
  const primary = language.split('-')[0]?.toLowerCase() ?? '';
  return WORDS[primary] ?? ENGLISH;
}

/** What goes before the headline: "EXERCISE: UPDATE: ", or nothing for an Actual alert. */
export function headPrefix(msgType: MsgType, status: AlertContent['status'], words: Words): string {
  const marks: string[] = [];
  if (status === 'Exercise') marks.push(words.exercise);
  if (status === 'Test') marks.push(words.test);
  if (msgType === 'Update') marks.push(words.update);
  if (msgType === 'Cancel') marks.push(words.cancel);
  return marks.length ? `${marks.join(' ')} ` : '';
}
