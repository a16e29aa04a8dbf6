/**
 * Threads: a post of at most 500 characters, counted as Threads documents it. Meta's posts guide
 * (developers.facebook.com/docs/threads/posts, "Limitations") says "Text posts are limited to 500 characters"
 * and "Emojis are counted as the number of UTF-8 bytes"; the publishing reference repeats it for the `text`
 * parameter. It does not say what a "character" is for other text, so the count here never falls short of any
 * reading of it: a grapheme holding an emoji costs its UTF-8 bytes, any other costs its UTF-16 code units, which
 * are never fewer than its code points (nor than its graphemes). A text within this count is within Threads'.
 *
 * Headline and link stay whole; the description gives way first (./text's fitPieces, shared with X). The link is
 * the text's only URL, so Threads previews it when the post has no image, and it counts at its full length: Threads
 * does not shorten links. Threads refuses a post with more than five links (from December 2025); an officer's
 * text could carry some, so that is reported rather than cut.
 */
import { fitShortPost } from '../../core/render/short-post';
import { type Fitted, graphemes } from '../../core/render/text';
import { alertImage, type RenderConfig, type RenderVersion } from '../../core/render/version';
import type { PublicImage } from '../../ports';
import { socialPostRenderer } from '../renderer';
import { threads } from './channel';

/** The channel's budget (./channel.ts): the preview and the console read the same number. */
export const THREADS_MAX_CHARS = threads.budget.limit;
/** Posts with more links fail at container creation (THREADS_API__LINK_LIMIT_EXCEEDED). */
export const THREADS_MAX_LINKS = 5;

/** Pictographs, flags (regional indicators), keycaps, skin tones, ZWJ and variation selectors. */
const EMOJI = /\p{Extended_Pictographic}|\p{Emoji_Component}/u;
const utf8 = new TextEncoder();

/** The characters Threads counts against its 500, never fewer (see the note at the top). */
export function threadsLength(text: string): number {
  let length = 0;
  for (const g of graphemes(text)) length += EMOJI.test(g) ? utf8.encode(g).length : g.length;
  return length;
}

/** Unique URLs as Threads counts them for its link limit: a scheme or a bare `www.` host. */
export function threadsLinks(text: string): string[] {
  return [...new Set(text.match(/\b(?:https?:\/\/|www\.)[^\s<>"]+/giu) ?? [])];
}

export interface ThreadsRendering {
  text: string;
  /** threadsLength(text). */
  length: number;
  limit: number;
  /** Within the budget and the link limit: Threads would take it. */
  fits: boolean;
  shortened: Fitted['shortened'];
  /** The alert's link, at the end of `text`. */
  link: string;
  image?: PublicImage | undefined;
  warnings: string[];
}

export function renderThreads(
  version: RenderVersion,
  config: RenderConfig,
  language?: string,
): ThreadsRendering {
  const fitted = fitShortPost(version, config, language, (t) => threadsLength(t) <= THREADS_MAX_CHARS);
  const { l } = fitted;
  const length = threadsLength(fitted.text);
  const links = threadsLinks(fitted.text).length;
  const warnings: string[] = [];
  if (fitted.shortened.length)
    warnings.push(
      `shortened to fit ${THREADS_MAX_CHARS} characters as Threads counts them (${fitted.shortened.join(', ')}); the full text is at the link`,
    );
  if (links > THREADS_MAX_LINKS)
    warnings.push(
      `the text holds ${links} links and Threads refuses more than ${THREADS_MAX_LINKS}: remove links from the alert text`,
    );
  const image = alertImage(l.content);
  return {
    text: fitted.text,
    length,
    limit: THREADS_MAX_CHARS,
    fits: length <= THREADS_MAX_CHARS && links <= THREADS_MAX_LINKS,
    shortened: fitted.shortened,
    link: l.link,
    ...(image ? { image } : {}),
    warnings,
  };
}

export const threadsRenderer = socialPostRenderer('threads', renderThreads);
