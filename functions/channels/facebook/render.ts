/**
 * Facebook and Instagram: room for the whole alert. Facebook takes the text with the link (Graph caps a
 * post at 63,206 characters, which no alert the schema accepts reaches, but the cap is kept anyway);
 * Instagram takes a caption of at most 2,200 characters, where links are not clickable, and needs an image.
 */

import { type Fitted, fitPieces } from '../../core/render/text';
import {
  alertImage,
  areaNames,
  type Localised,
  localise,
  type RenderConfig,
  type RenderVersion,
} from '../../core/render/version';
import type { PublicImage } from '../../ports';
import { instagram } from '../instagram/channel';

export const FACEBOOK_MAX = 63_206;
/** The channel's budget (functions/channels/instagram/channel.ts): the preview and the console read the same number. */
export const INSTAGRAM_CAPTION_MAX = instagram.budget.limit;

/** UTF-16 units: never fewer than the characters Meta counts, so a text within it is within Meta's cap. */
const units = (s: string) => s.length;

function longPieces(l: Localised, linkLine: string) {
  const areas = areaNames(l.content);
  const extra = [
    areas.length ? `${l.words.area}: ${areas.join(', ')}` : undefined,
    l.content.contact ? `${l.words.contact}: ${l.content.contact}` : undefined,
  ].filter((p): p is string => p !== undefined);
  return {
    head: `${l.prefix}${l.content.headline}`,
    note: l.note,
    description: l.content.description,
    instruction: [l.content.instruction, ...extra].filter(Boolean).join('\n\n') || undefined,
    tail: linkLine,
  };
}

const compose = (head: string, body: string[], tail: string | undefined) =>
  [head, ...body, ...(tail ? [tail] : [])].join('\n\n');

export interface FacebookRendering {
  text: string;
  link: string;
  characters: number;
  fits: boolean;
  shortened: Fitted['shortened'];
  image?: PublicImage | undefined;
  warnings: string[];
}

export function renderFacebook(
  version: RenderVersion,
  config: RenderConfig,
  language?: string,
): FacebookRendering {
  const l = localise(version, config, language);
  const fitted = fitPieces(longPieces(l, l.link), compose, (t) => units(t) <= FACEBOOK_MAX);
  const image = alertImage(l.content);
  return {
    text: fitted.text,
    link: l.link,
    characters: units(fitted.text),
    fits: units(fitted.text) <= FACEBOOK_MAX,
    shortened: fitted.shortened,
    ...(image ? { image } : {}),
    warnings: fitted.shortened.length ? ['shortened to fit Facebook; the full text is at the link'] : [],
  };
}

export interface InstagramRendering {
  caption: string;
  characters: number;
  fits: boolean;
  shortened: Fitted['shortened'];
  image: PublicImage;
  warnings: string[];
}

/** `image`: the alert's own, or the alert card rendered for it (Instagram posts nothing without one). */
export function renderInstagram(
  version: RenderVersion,
  config: RenderConfig,
  image: PublicImage,
  language?: string,
): InstagramRendering {
  const l = localise(version, config, language);
  const fitted = fitPieces(
    longPieces(l, `${l.words.fullAlert}: ${l.link}`),
    compose,
    (t) => units(t) <= INSTAGRAM_CAPTION_MAX,
  );
  return {
    caption: fitted.text,
    characters: units(fitted.text),
    fits: units(fitted.text) <= INSTAGRAM_CAPTION_MAX,
    shortened: fitted.shortened,
    image,
    warnings: fitted.shortened.length
      ? [`shortened to fit ${INSTAGRAM_CAPTION_MAX} characters; the full text is at the link`]
      : [],
  };
}
