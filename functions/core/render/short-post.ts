/**
 * The short social post every network gets (X, Mastodon, Bluesky, Threads, Telegram): the headline with its marks,
 * the cancel's note, the description, what to do, and the link, fitted to the network's budget by fitPieces (the
 * headline and the link stay whole; the description gives way first). Each network brings only how it counts and
 * its limit; the words and their order are this one rule.
 */
import { type Fitted, fitPieces } from './text';
import { type Localised, localise, type RenderConfig, type RenderVersion } from './version';

export interface ShortPost {
  /** The version in the language rendered, for what a network adds (its image, its language tag). */
  l: Localised;
  text: string;
  shortened: Fitted['shortened'];
}

const compose = (head: string, body: string[], tail: string | undefined) =>
  [head, ...body, ...(tail ? [tail] : [])].join('\n\n');

export function fitShortPost(
  version: RenderVersion,
  config: RenderConfig,
  language: string | undefined,
  fits: (text: string) => boolean,
  /** How the link is written at the end (Bluesky shows it shortened and links it by a facet). */
  showLink: (link: string) => string = (link) => link,
): ShortPost {
  const l = localise(version, config, language);
  const fitted = fitPieces(
    {
      head: `${l.prefix}${l.content.headline}`,
      note: l.note,
      description: l.content.description,
      instruction: l.content.instruction,
      tail: showLink(l.link),
    },
    compose,
    fits,
  );
  return { l, text: fitted.text, shortened: fitted.shortened };
}
