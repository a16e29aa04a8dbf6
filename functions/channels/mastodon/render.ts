/**
 * Mastodon: 500 characters as a stock instance counts them (StatusLengthValidator): grapheme clusters, with every
 * URL that has a scheme counted as 23 whatever its length. Instances may allow more (`GET /api/v2/instance` →
 * `configuration.statuses.max_characters`), but 500 is what every instance takes, so the renderer never assumes more.
 * Headline and link stay whole; the description gives way first (./text's fitPieces, as for X).
 */
import twitterText from 'twitter-text';
import { fitShortPost } from '../../core/render/short-post';
import { type Fitted, graphemes } from '../../core/render/text';
import { alertImage, type RenderConfig, type RenderVersion } from '../../core/render/version';
import type { PublicImage } from '../../ports';
import { socialPostRenderer } from '../renderer';
import { mastodon } from './channel';

/** The channel's budget (./channel.ts): the preview and the console read the same number. */
export const MASTODON_MAX_CHARACTERS = mastodon.budget.limit;
/** `characters_reserved_per_url`: what a link costs, however long it is. */
export const MASTODON_URL_CHARACTERS = 23;

const URL_PLACEHOLDER = 'x'.repeat(MASTODON_URL_CHARACTERS);

/**
 * The length Mastodon checks a status against. Like the instance, each URL is swapped for 23 placeholders and the
 * result counted in grapheme clusters, so a cluster that straddles the end of a URL is counted as Mastodon does.
 * URLs are found by twitter-text, the JavaScript sibling of the extractor Mastodon's validator uses, and only with a
 * scheme (`extract_url_without_protocol: false` on the server). A remote mention (`@user@host`) is counted in
 * full, although Mastodon counts only `@user`: over-counting can only leave room unused, never earn a 422.
 */
export function mastodonLength(text: string): number {
  const urls = twitterText.extractUrlsWithIndices(text, { extractUrlsWithoutProtocol: false });
  let countable = '';
  let at = 0;
  for (const { indices } of urls) {
    countable += text.slice(at, indices[0]) + URL_PLACEHOLDER;
    at = indices[1];
  }
  countable += text.slice(at);
  return graphemes(countable).length;
}

/**
 * A mention as Mastodon's formatter finds one (`@user` or `@user@host` after a non-word character): the instance
 * links it and notifies that account, which an officer quoting a handle in the description may not mean to do.
 */
const MENTION = /(?:^|[^/\p{L}\p{N}_])@([a-z0-9_]+(?:@[\p{L}\p{N}_.-]*[\p{L}\p{N}_])?)/giu;

export interface MastodonRendering {
  text: string;
  /** `mastodonLength(text)`. */
  length: number;
  limit: number;
  fits: boolean;
  shortened: Fitted['shortened'];
  /** The link at the end of `text`: the officer's own or Herald's page for the alert. */
  link: string;
  /**
   * The primary subtag of the language `text` is in (`pt-BR` → `pt`): the status's `language`, which readers' filters
   * and translation go by. The client sends it when it is ISO 639-1 and leaves the instance to guess otherwise.
   */
  language: string;
  image?: PublicImage | undefined;
  warnings: string[];
}

export function renderMastodon(
  version: RenderVersion,
  config: RenderConfig,
  language?: string,
): MastodonRendering {
  const fitted = fitShortPost(version, config, language, (t) => mastodonLength(t) <= MASTODON_MAX_CHARACTERS);
  const { l } = fitted;
  const length = mastodonLength(fitted.text);
  const warnings: string[] = [];
  if (fitted.shortened.length)
    warnings.push(
      `shortened to fit ${MASTODON_MAX_CHARACTERS} characters (${fitted.shortened.join(', ')}); the full text is at the link`,
    );
  const mentions = [...new Set(Array.from(fitted.text.matchAll(MENTION), (m) => `@${m[1]}`))];
  if (mentions.length) warnings.push(`Mastodon will notify ${mentions.join(', ')}: the text mentions them`);
  const image = alertImage(l.content);
  return {
    text: fitted.text,
    length,
    limit: MASTODON_MAX_CHARACTERS,
    fits: fitted.text.trim() !== '' && length <= MASTODON_MAX_CHARACTERS,
    shortened: fitted.shortened,
    link: l.link,
    language: l.content.language.split('-')[0]!.toLowerCase(),
    ...(image ? { image } : {}),
    warnings,
  };
}

export const mastodonRenderer = socialPostRenderer('mastodon', renderMastodon);
