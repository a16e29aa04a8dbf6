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
