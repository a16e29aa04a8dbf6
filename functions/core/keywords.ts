/**
 * Inbound SMS keywords and the replies to them, in English, Spanish and Catalan. Pure: the API decides what to
 * store and the notifier sends the text this module writes.
 *
 * Carriers (CTIA in the US, and the aggregators elsewhere that copy it) require STOP, STOPALL, UNSUBSCRIBE,
 * CANCEL, END and QUIT to end every message, whatever follows them, and a confirmation that says no more messages
 * will come; HELP must answer who is sending and how to stop. JOIN by text is the resident's opt-in.
 *
 * Any other text is a tip (api.md, "Tips and replies"): `parseInbound` reads the keywords exactly as
 * `parseKeyword` does and only then takes what is left as a tip, so no keyword can ever be read as one.
 */
import { isBlank } from '../../schemas/text';
import { parseQuietArguments, type QuietArguments, type QuietWindow } from './quiet-hours';

export const REPLY_LANGUAGES = ['en', 'es', 'ca'] as const;
export type ReplyLanguage = (typeof REPLY_LANGUAGES)[number];

export type KeywordCommand =
  | {
      kind: 'join';
      /** The zone id as typed (lower-cased); undefined when JOIN came alone. */
      zone?: string | undefined;
      /** A language the text named or implied (ALTA is Spanish); undefined when it said none. */
      language?: ReplyLanguage | undefined;
      /** The keyword as understood, for the consent record: `JOIN eixample es`. */
      keyword: string;
    }
  | { kind: 'stop'; language?: ReplyLanguage | undefined; keyword: string }
  | { kind: 'start'; language?: ReplyLanguage | undefined; keyword: string }
  | { kind: 'help'; language?: ReplyLanguage | undefined; keyword: string }
  | {
      kind: 'quiet';
      /** Two times (the window), OFF, or a form QUIET does not take (the reply explains it; nothing changes). */
      quiet: QuietArguments;
      language?: ReplyLanguage | undefined;
      keyword: string;
    };

const JOIN_WORDS: Record<string, ReplyLanguage | undefined> = {
  JOIN: undefined,
  SUBSCRIBE: 'en',
  ALTA: 'es',
  SUSCRIBIR: 'es',
  SUBSCRIURE: 'ca',
};
const STOP_WORDS: Record<string, ReplyLanguage | undefined> = {
  STOP: undefined,
  STOPALL: undefined,
  UNSUBSCRIBE: undefined,
  CANCEL: undefined,
  END: undefined,
  QUIT: undefined,
  BAJA: 'es',
  BAIXA: 'ca',
};
const START_WORDS: Record<string, ReplyLanguage | undefined> = {
  START: undefined,
  UNSTOP: undefined,
  RESUME: 'en',
  REANUDAR: 'es',
  REPRENDRE: 'ca',
};
const HELP_WORDS: Record<string, ReplyLanguage | undefined> = {
  HELP: undefined,
  INFO: undefined,
  AYUDA: 'es',
  AJUDA: 'ca',
};

/** Residents' quiet hours (functions/core/quiet-hours.ts): `QUIET 22-07`, `QUIET OFF`. */
const QUIET_WORDS: Record<string, ReplyLanguage | undefined> = {
  QUIET: undefined,
  SILENCIO: 'es',
  SILENCI: 'ca',
};

const LANGUAGE_WORDS: Record<string, ReplyLanguage> = {
  en: 'en',
  eng: 'en',
  english: 'en',
  es: 'es',
  esp: 'es',
  spa: 'es',
  espanol: 'es',
  castellano: 'es',
  spanish: 'es',
  ca: 'ca',
  cat: 'ca',
  catala: 'ca',
  catalan: 'ca',
};

/** Accents off, lower case: `Català` and `catala` are the same word on a phone keyboard. */
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

/** A language word (`es`, `Castellano`, `català`) as a reply language, or undefined. */
export function languageWord(word: string | undefined): ReplyLanguage | undefined {
  return word === undefined ? undefined : LANGUAGE_WORDS[fold(word)];
}

/** A BCP 47 tag's reply language: the primary subtag when it is one of ours, English otherwise. */
export function replyLanguageOf(tag: string | undefined): ReplyLanguage {
  const primary = fold(tag ?? '').split('-')[0] ?? '';
  return (REPLY_LANGUAGES as readonly string[]).includes(primary) ? (primary as ReplyLanguage) : 'en';
}

/** A text's words as the keywords are read: split on white space and the punctuation around them. */
const wordsOf = (body: string) =>
  body
    .normalize('NFC')
    .split(/[\s,;:.!?¡¿"'()]+/u)
    .filter((w) => w.length > 0);

/** The first word of a text and what comes after it, kept as typed (`22:00-07:30` has its colons). */
const FIRST_WORD = /^[\s,;:.!?¡¿"'()]*[^\s,;:.!?¡¿"'()]+/u;

/**
 * QUIET and what follows it. A text that only starts with the word (`Quiet street tonight, a man was…`) is no
 * keyword but a tip, which must never be lost: words after QUIET with no digit in them and no OFF are read that way
 * once there are three or more of them. Fewer (`QUIET please`) get the reply that explains the form.
 */
function readQuiet(first: string, body: string): KeywordCommand | undefined {
  const rest = body
    .normalize('NFC')
    .replace(FIRST_WORD, '')
    .replace(/^[\s,;:.!?¡¿"'()]+/u, '')
    .trim();
  const quiet = parseQuietArguments(rest);
  if (quiet.kind === 'invalid' && !/\d/u.test(rest) && wordsOf(rest).length >= 3) return undefined;
  const keyword =
    quiet.kind === 'set'
      ? `QUIET ${quiet.window.from}-${quiet.window.to}`
      : quiet.kind === 'off'
        ? 'QUIET OFF'
        : 'QUIET';
  return { kind: 'quiet', quiet, language: QUIET_WORDS[first], keyword };
}

/** The keyword a text starts with, or undefined when its first word is none of them. */
function readKeyword(words: readonly string[], body: string): KeywordCommand | undefined {
  const first = fold(words[0] ?? '').toUpperCase();
  if (first in QUIET_WORDS) return readQuiet(first, body);
  if (first in STOP_WORDS) return { kind: 'stop', language: STOP_WORDS[first], keyword: first };
  if (first in START_WORDS) return { kind: 'start', language: START_WORDS[first], keyword: first };
  if (first in JOIN_WORDS) {
    const rest = words.slice(1);
    // `JOIN es` names no zone but a language; `JOIN eixample es` both. A zone id is never a language word.
    let language = JOIN_WORDS[first];
    const last = rest.at(-1);
    const named = languageWord(last);
    if (named && rest.length >= 1) {
      language = named;
      rest.pop();
    }
    const zone = rest.length > 0 ? fold(rest.join('-')).slice(0, 64) : undefined;
    const keyword = ['JOIN', zone, named].filter(Boolean).join(' ');
    return { kind: 'join', zone, language, keyword };
  }
  if (first in HELP_WORDS) return { kind: 'help', language: HELP_WORDS[first], keyword: first };
  return undefined;
}

/**
 * Reads a text: the first word is the keyword (case, surrounding spaces and punctuation ignored: "stop.",
 * " Stop!", "STOP please" all stop); anything that is not a keyword asks for help.
 */
export function parseKeyword(body: string): KeywordCommand {
  return readKeyword(wordsOf(body), body) ?? { kind: 'help', keyword: 'HELP' };
}

/** A text that is no keyword: a tip. `text` is what the resident wrote, `TIP` and its punctuation left off. */
export interface TipCommand {
  kind: 'tip';
  text: string;
  /** `TIP` when the text began with it; undefined for any other text that is not a keyword. */
  keyword?: 'TIP' | undefined;
}
export type InboundCommand = KeywordCommand | TipCommand;

/** `TIP`, `Tip:`, `tip -` at the start of a text: what follows is the tip. */
const TIP_PREFIX = /^[\s,;:.!?¡¿"'()]*tip(?=$|[\s,;:.!?¡¿"'()-])[\s,;:.!?¡¿"'()-]*/iu;

/**
 * Reads a resident's text: a keyword exactly as parseKeyword reads it (STOP is never a tip, whatever follows it);
 * `TIP <text>` is always a tip; any other text with something visible in it is a tip too. A blank text (only
 * spaces or invisible characters) asks for help, as before: there is nothing in it to pass on.
 */
export function parseInbound(body: string): InboundCommand {
  const words = wordsOf(body);
  if (fold(words[0] ?? '').toUpperCase() === 'TIP')
    return { kind: 'tip', text: body.normalize('NFC').replace(TIP_PREFIX, '').trim(), keyword: 'TIP' };
  const keyword = readKeyword(words, body);
  if (keyword) return keyword;
  if (isBlank(body)) return { kind: 'help', keyword: 'HELP' };
  return { kind: 'tip', text: body.normalize('NFC').trim() };
}

// ---------------------------------------------------------------- replies

export interface ReplyContext {
  agency: string;
  language: ReplyLanguage;
}

/** Zone ids a resident may not know: a few, so the reply stays one or two SMS segments. */
const ZONE_HINTS = 4;

const T = {
  join: {
    en: (a: string, zone: string) =>
      `${a}: you will get alerts for ${zone}. Msg & data rates may apply. Reply HELP for help, STOP to end.`,
    es: (a: string, zone: string) =>
      `${a}: recibirás alertas de ${zone}. Pueden aplicarse tarifas. Responde AYUDA para ayuda, STOP para darte de baja.`,
    ca: (a: string, zone: string) =>
      `${a}: rebràs alertes de ${zone}. Poden aplicar-se tarifes. Respon AJUDA per a ajuda, STOP per donar-te de baixa.`,
  },
  unknownZone: {
    en: (a: string, zone: string, hints: string) =>
      `${a}: there is no zone "${zone}". Reply JOIN and one of: ${hints}`,
    es: (a: string, zone: string, hints: string) =>
      `${a}: no hay ninguna zona "${zone}". Responde ALTA y una de: ${hints}`,
    ca: (a: string, zone: string, hints: string) =>
      `${a}: no hi ha cap zona "${zone}". Respon JOIN i una de: ${hints}`,
  },
  noZone: {
    en: (a: string, hints: string) => `${a}: reply JOIN and your zone, one of: ${hints}`,
    es: (a: string, hints: string) => `${a}: responde ALTA y tu zona, una de: ${hints}`,
    ca: (a: string, hints: string) => `${a}: respon JOIN i la teva zona, una de: ${hints}`,
  },
  stop: {
    en: (a: string) =>
      `${a}: you are unsubscribed and will receive no more messages. Reply START to resubscribe.`,
    es: (a: string) => `${a}: te has dado de baja y no recibirás más mensajes. Responde START para volver.`,
    ca: (a: string) => `${a}: t'has donat de baixa i no rebràs més missatges. Respon START per tornar-hi.`,
  },
  start: {
    en: (a: string, zones: string) =>
      `${a}: welcome back, you will get alerts for ${zones} again. Reply STOP to end.`,
    es: (a: string, zones: string) =>
      `${a}: bienvenido de nuevo, volverás a recibir alertas de ${zones}. Responde STOP para darte de baja.`,
    ca: (a: string, zones: string) =>
      `${a}: benvingut de nou, tornaràs a rebre alertes de ${zones}. Respon STOP per donar-te de baixa.`,
  },
  help: {
    en: (a: string) =>
      `${a} alerts. Reply JOIN <zone> to subscribe, STOP to end, START to resume. Msg & data rates may apply.`,
    es: (a: string) =>
      `Alertas de ${a}. Responde ALTA <zona> para suscribirte, STOP para darte de baja, START para volver. Pueden aplicarse tarifas.`,
    ca: (a: string) =>
      `Alertes de ${a}. Respon JOIN <zona> per subscriure't, STOP per donar-te de baixa, START per tornar-hi. Poden aplicar-se tarifes.`,
  },
  code: {
    en: (a: string, code: string, minutes: number) =>
      `${a}: your confirmation code is ${code}. It expires in ${minutes} minutes. If you did not ask for it, ignore this message.`,
    es: (a: string, code: string, minutes: number) =>
      `${a}: tu código de confirmación es ${code}. Caduca en ${minutes} minutos. Si no lo has pedido, ignora este mensaje.`,
    ca: (a: string, code: string, minutes: number) =>
      `${a}: el teu codi de confirmació és ${code}. Caduca en ${minutes} minuts. Si no l'has demanat, ignora aquest missatge.`,
  },
  codeSubject: {
    en: (a: string) => `${a}: your confirmation code`,
    es: (a: string) => `${a}: tu código de confirmación`,
    ca: (a: string) => `${a}: el teu codi de confirmació`,
  },
  // A code to manage a subscription says so, so someone who did not ask for it knows what it would have opened;
  // no longer than it must be: the Spanish text is UCS-2 (ó), 67 characters a segment.
  manageCode: {
    en: (a: string, code: string, minutes: number) =>
      `${a}: your code to manage your alerts is ${code}. It expires in ${minutes} minutes. If you did not ask for it, ignore this message.`,
    es: (a: string, code: string, minutes: number) =>
      `${a}: tu código para gestionar tus alertas es ${code}. Caduca en ${minutes} minutos. Si no lo has pedido, ignora este mensaje.`,
    ca: (a: string, code: string, minutes: number) =>
      `${a}: el teu codi per gestionar les teves alertes és ${code}. Caduca en ${minutes} minuts. Si no l'has demanat, ignora aquest missatge.`,
  },
  manageCodeSubject: {
    en: (a: string) => `${a}: your code to manage your subscription`,
    es: (a: string) => `${a}: tu código para gestionar tu suscripción`,
    ca: (a: string) => `${a}: el teu codi per gestionar la teva subscripció`,
  },
  tipReceived: {
    en: (a: string, ref: string) =>
      `${a}: thank you, we have received your tip (ref. ${ref}). An officer may answer you here.`,
    es: (a: string, ref: string) =>
      `${a}: gracias, hemos recibido tu aviso (ref. ${ref}). Un agente puede responderte por aquí.`,
    ca: (a: string, ref: string) =>
      `${a}: gràcies, hem rebut el teu avís (ref. ${ref}). Un agent et pot respondre per aquí.`,
  },
  tipEmpty: {
    en: (a: string) => `${a}: to send us a tip, reply TIP and what you saw or know.`,
    es: (a: string) => `${a}: para enviarnos un aviso, responde TIP y lo que has visto o sabes.`,
    ca: (a: string) => `${a}: per enviar-nos un avís, respon TIP i el que has vist o saps.`,
  },
  quietSet: {
    en: (a: string, from: string, to: string) =>
      `${a}: quiet hours set, ${from} to ${to}. Alerts that are not urgent wait until ${to}; emergencies still come at once. Reply QUIET OFF to end them.`,
    es: (a: string, from: string, to: string) =>
      `${a}: horas de silencio de ${from} a ${to}. Las alertas no urgentes esperan hasta las ${to}; las emergencias llegan al momento. Responde QUIET OFF para quitarlas.`,
    ca: (a: string, from: string, to: string) =>
      `${a}: hores de silenci de ${from} a ${to}. Les alertes no urgents esperen fins a les ${to}; les emergències arriben de seguida. Respon QUIET OFF per treure-les.`,
  },
  quietOff: {
    en: (a: string) => `${a}: quiet hours are off. Alerts come as soon as they are sent.`,
    es: (a: string) => `${a}: horas de silencio desactivadas. Las alertas llegan en cuanto se envían.`,
    ca: (a: string) => `${a}: hores de silenci desactivades. Les alertes arriben tan bon punt s'envien.`,
  },
  quietForm: {
    en: (a: string) =>
      `${a}: to set quiet hours reply QUIET and two times on a 24-hour clock, such as QUIET 22-07 or QUIET 22:30-07:00. QUIET OFF ends them.`,
    es: (a: string) =>
      `${a}: para fijar horas de silencio responde QUIET y dos horas (24 h), por ejemplo QUIET 22-07 o QUIET 22:30-07:00. QUIET OFF las quita.`,
    ca: (a: string) =>
      `${a}: per fixar hores de silenci respon QUIET i dues hores (24 h), per exemple QUIET 22-07 o QUIET 22:30-07:00. QUIET OFF les treu.`,
  },
  quietNotSubscribed: {
    en: (a: string) => `${a}: you are not subscribed yet. Reply JOIN <zone> first, then QUIET 22-07.`,
    es: (a: string) => `${a}: aún no estás suscrito. Responde ALTA <zona> y después QUIET 22-07.`,
    ca: (a: string) => `${a}: encara no estàs subscrit. Respon JOIN <zona> i després QUIET 22-07.`,
  },
  tipAnswerSubject: {
    en: (a: string, ref: string) => `${a}: about your tip ${ref}`,
    es: (a: string, ref: string) => `${a}: sobre tu aviso ${ref}`,
    ca: (a: string, ref: string) => `${a}: sobre el teu avís ${ref}`,
  },
} as const;

/** What the resident typed, safe to echo in a reply: no more than a zone id's length, letters and dashes. */
const echo = (s: string) => s.replace(/[^\p{L}\p{N}-]/gu, '').slice(0, 24);

const hints = (zoneIds: readonly string[]) =>
  `${zoneIds.slice(0, ZONE_HINTS).join(', ')}${zoneIds.length > ZONE_HINTS ? '…' : ''}`;

export const joinReply = (c: ReplyContext, zoneName: string) => T.join[c.language](c.agency, zoneName);
export const unknownZoneReply = (c: ReplyContext, typed: string, zoneIds: readonly string[]) =>
  T.unknownZone[c.language](c.agency, echo(typed), hints(zoneIds));
export const noZoneReply = (c: ReplyContext, zoneIds: readonly string[]) =>
  T.noZone[c.language](c.agency, hints(zoneIds));
export const stopReply = (c: ReplyContext) => T.stop[c.language](c.agency);
export const startReply = (c: ReplyContext, zoneNames: readonly string[]) =>
  T.start[c.language](c.agency, zoneNames.join(', '));
export const helpReply = (c: ReplyContext) => T.help[c.language](c.agency);
export const codeText = (c: ReplyContext, code: string, minutes: number) =>
  T.code[c.language](c.agency, code, minutes);
export const codeSubject = (c: ReplyContext) => T.codeSubject[c.language](c.agency);
/** The code that opens a session to change or end a subscription on the web (functions/api/manage-subscription.ts). */
export const manageCodeText = (c: ReplyContext, code: string, minutes: number) =>
  T.manageCode[c.language](c.agency, code, minutes);
export const manageCodeSubject = (c: ReplyContext) => T.manageCodeSubject[c.language](c.agency);
/** Quiet hours stored: from when to when, and that emergencies still come. */
export const quietSetReply = (c: ReplyContext, window: QuietWindow) =>
  T.quietSet[c.language](c.agency, window.from, window.to);
export const quietOffReply = (c: ReplyContext) => T.quietOff[c.language](c.agency);
/** QUIET in a form it does not take: how to write it. Nothing was changed. */
export const quietFormReply = (c: ReplyContext) => T.quietForm[c.language](c.agency);
/** QUIET from a number that is not subscribed: there is nothing to set the hours on. */
export const quietNotSubscribedReply = (c: ReplyContext) => T.quietNotSubscribed[c.language](c.agency);
/** The acknowledgement of a tip: its reference, so the resident can quote it. */
export const tipReceivedReply = (c: ReplyContext, reference: string) =>
  T.tipReceived[c.language](c.agency, reference);
/** `TIP` with nothing after it: how to send one. */
export const tipEmptyReply = (c: ReplyContext) => T.tipEmpty[c.language](c.agency);
/**
 * An officer's answer as the resident receives it: from the agency, with the tip's reference so they know what it
 * answers. The officer's words are not translated: the reference and the agency's name need no language.
 */
export const tipAnswerText = (c: Pick<ReplyContext, 'agency'>, reference: string, text: string) =>
  `${c.agency} (${reference}): ${text}`;
export const tipAnswerSubject = (c: ReplyContext, reference: string) =>
  T.tipAnswerSubject[c.language](c.agency, reference);
