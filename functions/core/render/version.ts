/**
 * What every renderer starts from: one version of an alert, said in one of its languages, and the link
 * to the full alert.
 */
import type { AlertContent, Channel } from '../../../schemas/alert';
import type { PublicImage } from '../../ports';
import type { HeraldConfig } from '../../shared/config';
import { channelLink } from '../links';
import type { StoredVersion } from '../model';
import { headPrefix, type Words, wordsFor } from './marks';
import { timesText } from './times';

/** The parts of a version a text renderer reads. */
export type RenderVersion = Pick<StoredVersion, 'alertId' | 'version' | 'msgType' | 'content'> & {
  note?: string | undefined;
};

export type RenderConfig = Pick<HeraldConfig, 'publicBaseUrl' | 'sender' | 'agencyName' | 'smsMaxSegments'> &
  Partial<Pick<HeraldConfig, 'timeZone'>> & {
    /**
     * The channel this rendering is for: its messages then link through the channel's counting link (../links.ts).
     * Absent (the residents' site, the feeds), the link is the alert's own.
     */
    channel?: Channel | undefined;
  };

/** Every language the alert is written in, its own first. */
export const languagesOf = (content: AlertContent): string[] => [
  content.language,
  ...content.translations.map((t) => t.language),
];

/**
 * The alert in one language: a translation's text fields over the original. A translation without an
 * instruction keeps the original's: what to do, in another language, beats nothing. An unknown language
 * (or none) gives the alert's own.
 */
export function inLanguage(content: AlertContent, language?: string): AlertContent {
  if (!language || language.toLowerCase() === content.language.toLowerCase()) return content;
  const wanted = language.toLowerCase();
  const primary = wanted.split('-')[0];
  const translation =
    content.translations.find((t) => t.language.toLowerCase() === wanted) ??
    content.translations.find((t) => t.language.toLowerCase().split('-')[0] === primary);
  if (!translation) return content;
  return { ...content, ...translation };
}

/**
 * The link to the full alert: on a channel with a link code, its counting link (which leads to the same place);
 * otherwise the officer's own, or Herald's public page for it.
 */
export const alertLink = (
  config: Pick<RenderConfig, 'publicBaseUrl' | 'channel'>,
  alertId: string,
  content: AlertContent,
) =>
  (config.channel && channelLink(config.publicBaseUrl, alertId, config.channel)) ??
  content.web ??
  publicPageUrl(config, alertId);

/** The shortest link a message can carry to the alert: the channel's counting link, else Herald's page for it. */
export const shortestAlertLink = (config: Pick<RenderConfig, 'publicBaseUrl' | 'channel'>, alertId: string) =>
  (config.channel && channelLink(config.publicBaseUrl, alertId, config.channel)) ??
  publicPageUrl(config, alertId);

export const publicPageUrl = (config: Pick<RenderConfig, 'publicBaseUrl'>, alertId: string) =>
  `${config.publicBaseUrl}/alerts/${encodeURIComponent(alertId)}`;

/** The alert's own image as a PublicImage; its alt text falls back to the headline, never empty. */
export function alertImage(content: AlertContent): PublicImage | undefined {
  if (!content.image) return undefined;
  return { url: content.image.url, alt: content.image.alt ?? content.headline };
}

/** One version in one language, with what every renderer derives from it. */
export interface Localised {
  content: AlertContent;
  words: Words;
  /** "UPDATE: " and the like, or empty. */
  prefix: string;
  link: string;
  note?: string | undefined;
  /** When the alert applies, on the agency's clock (./times), if it gives an onset, effective or expiry time. */
  times?: string | undefined;
}

export function localise(version: RenderVersion, config: RenderConfig, language?: string): Localised {
  const content = inLanguage(version.content, language);
  const words = wordsFor(content.language);
  const times = timesText(content, config.timeZone ?? 'UTC', content.language, words);
  return {
    content,
    words,
    prefix: headPrefix(version.msgType, content.status, words),
    link: alertLink(config, version.alertId, content),
    ...(version.msgType === 'Cancel' && version.note ? { note: version.note } : {}),
    ...(times ? { times } : {}),
  };
}

/** Area names for the long formats: a zone's name fills areaDesc, so a bare zone id shows as itself. */
export const areaNames = (content: AlertContent): string[] =>
  content.areas.map((a) => a.areaDesc ?? a.zone).filter((a): a is string => Boolean(a));
