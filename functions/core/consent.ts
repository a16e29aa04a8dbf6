/**
 * The sentence a resident agrees to when they subscribe on the web, shown beside the sign-up button and recorded
 * with their consent. Versioned: when the wording changes, the version changes, and each subscriber's consent says
 * which version and which language they agreed to. Version 1 promised "the link in any email", which Herald's emails
 * do not carry; version 2 names what does exist (STOP, and the Manage page).
 */
import { type ReplyLanguage, replyLanguageOf } from './keywords';

export const WEB_CONSENT_VERSION = 'web-consent-v2';

const SENTENCES: Record<ReplyLanguage, string> = {
  en: 'I agree to receive public safety alerts for the zones I chose, by the channel I chose, until I end them (reply STOP to any text, or use the Manage page of this site).',
  es: 'Acepto recibir alertas de seguridad pública de las zonas que he elegido, por el medio que he elegido, hasta que me dé de baja (respondiendo STOP a cualquier SMS o en la página Gestionar de este sitio).',
  ca: "Accepto rebre alertes de seguretat pública de les zones que he triat, pel mitjà que he triat, fins que em doni de baixa (responent STOP a qualsevol SMS o a la pàgina Gestionar d'aquest lloc).",
};

/** `web-consent-v2 (es): Acepto …`: the version and language are part of what is recorded. */
export function webConsentText(language: string | undefined): string {
  const lang = replyLanguageOf(language);
  return `${WEB_CONSENT_VERSION} (${lang}): ${SENTENCES[lang]}`;
}
