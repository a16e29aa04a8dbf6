/**
 * Bluesky: a post's text is at most 300 graphemes and 3,000 bytes (app.bsky.feed.post: `maxGraphemes: 300`,
 * `maxLength: 3000`, and a Lexicon string's maxLength counts UTF-8 bytes), so both bind: 300 family emoji are
 * 7,500 bytes. Headline and link stay whole; the description gives way first (./../../core/render/text.ts).
 *
 * Bluesky finds no links by itself: a URL in the text is plain text unless a facet marks it, by UTF-8 byte offsets
 * into the text (app.bsky.richtext.facet#byteSlice), not the UTF-16 indices JavaScript strings use: one accented
 * letter or emoji before the link and a facet counted in string indices lands on the wrong characters. The text
 * shows the link shortened as the Bluesky app writes it (host and the start of the path), which the facet's
 * `uri` carries whole, so even a long link costs a post few of its 300 graphemes.
 */

import { fitShortPost } from '../../core/render/short-post';
import { type Fitted, graphemes } from '../../core/render/text';
import { alertImage, type RenderConfig, type RenderVersion } from '../../core/render/version';
import type { PublicImage } from '../../ports';
import { socialPostRenderer } from '../renderer';
import { bluesky } from './channel';

/** The channel's budget (./channel.ts): the preview and the console read the same number. */
export const BLUESKY_MAX_GRAPHEMES = bluesky.budget.limit;
export const BLUESKY_MAX_BYTES = 3000;

export interface LinkFacet {
  index: { byteStart: number; byteEnd: number };
  features: [{ $type: 'app.bsky.richtext.facet#link'; uri: string }];
}

export interface BlueskyRendering {
  text: string;
  /** Graphemes, as Bluesky counts the 300. */
  length: number;
  limit: typeof BLUESKY_MAX_GRAPHEMES;
  /** UTF-8 bytes, within 3,000. */
  bytes: number;
  fits: boolean;
  shortened: Fitted['shortened'];
  /** The whole link the facet points at (the text shows it shortened). */
  link: string;
  facets: LinkFacet[];
  image?: PublicImage | undefined;
  warnings: string[];
}

const encoder = new TextEncoder();
export const utf8Length = (text: string): number => encoder.encode(text).length;

export const withinBudget = (text: string): boolean =>
  utf8Length(text) <= BLUESKY_MAX_BYTES && graphemes(text).length <= BLUESKY_MAX_GRAPHEMES;

/**
 * How the Bluesky app shows a link in a post (its `toShortUrl`): without the scheme, the path cut to 13 characters
 * and `...` past 15. Links other than http(s), or unparseable, show as they are.
 */
export function displayLink(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return uri;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return uri;
  const path = (url.pathname === '/' ? '' : url.pathname) + url.search + url.hash;
  return path.length > 15 ? `${url.host}${path.slice(0, 13)}...` : `${url.host}${path}`;
}

/** Characters that would make a match part of a longer URL or word, so it must not be taken as the link. */
const URL_CHAR_BEFORE = /[\p{L}\p{N}/._~%#?&=+\-@:]/u;
const URL_CHAR_AFTER = /[\p{L}\p{N}/_~%#?&=+\-@]/u;

function occurrences(text: string, needle: string): [number, number][] {
  const found: [number, number][] = [];
  if (!needle) return found;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const end = at + needle.length;
    const before = at > 0 ? text.slice(at - 1, at) : '';
    const after = text.slice(end, end + 1);
    if (before && URL_CHAR_BEFORE.test(before)) continue;
    // A link written whole may be followed by punctuation, but not by more of a URL.
    if (after && URL_CHAR_AFTER.test(after)) continue;
    found.push([at, end]);
  }
  return found;
}

/**
 * Link facets for every place `text` shows one of `links`, whole or as the Bluesky app shortens it, with
 * `byteStart`/`byteEnd` counted in the text's UTF-8 bytes (start inclusive, end exclusive), in text order and
 * never overlapping. A link the text does not show gets no facet.
 */
export function linkFacets(text: string, links: readonly string[]): LinkFacet[] {
  const spans: { start: number; end: number; uri: string }[] = [];
  const free = (start: number, end: number) => spans.every((s) => end <= s.start || start >= s.end);
  // Whole links first: the shortened form of a link can sit inside its own whole form.
  for (const forms of [links, links.map(displayLink)])
    forms.forEach((form, i) => {
      for (const [start, end] of occurrences(text, form))
        if (free(start, end)) spans.push({ start, end, uri: links[i]! });
    });
  spans.sort((a, b) => a.start - b.start);
  return spans.map(({ start, end, uri }) => {
    const byteStart = utf8Length(text.slice(0, start));
    return {
      index: { byteStart, byteEnd: byteStart + utf8Length(text.slice(start, end)) },
      features: [{ $type: 'app.bsky.richtext.facet#link', uri }],
    };
  });
}

export function renderBluesky(
  version: RenderVersion,
  config: RenderConfig,
  language?: string,
): BlueskyRendering {
  const fitted = fitShortPost(version, config, language, withinBudget, displayLink);
  const { l } = fitted;
  const length = graphemes(fitted.text).length;
  const bytes = utf8Length(fitted.text);
  const facets = linkFacets(fitted.text, [l.link]);
  const warnings: string[] = [];
  if (fitted.shortened.length)
    warnings.push(
      `shortened to fit Bluesky's ${BLUESKY_MAX_GRAPHEMES} graphemes and ${BLUESKY_MAX_BYTES} bytes (${fitted.shortened.join(', ')}); the full text is at the link`,
    );
  if (facets.length === 0) warnings.push('the link did not fit: the post carries no link to the full alert');
  const image = alertImage(l.content);
  return {
    text: fitted.text,
    length,
    limit: BLUESKY_MAX_GRAPHEMES,
    bytes,
    fits: length <= BLUESKY_MAX_GRAPHEMES && bytes <= BLUESKY_MAX_BYTES,
    shortened: fitted.shortened,
    link: l.link,
    facets,
    ...(image ? { image } : {}),
    warnings,
  };
}

export const blueskyRenderer = socialPostRenderer('bluesky', renderBluesky);
