/**
 * Instagram: a caption of at most 2,200 characters, where links are not clickable, and an image, without which
 * nothing is posted: the alert's own, or the alert card drawn for it (functions/channel/card-image.ts).
 */

import { composeLong, longPieces, utf16Units as units } from '../../core/render/long-post';
import { type Fitted, fitPieces } from '../../core/render/text';
import {
  alertImage,
  inLanguage,
  localise,
  type RenderConfig,
  type RenderVersion,
} from '../../core/render/version';
import type { PublicImage } from '../../ports';
import { type ChannelRenderer, MissingImage } from '../renderer';
import { instagram } from './channel';

/** The channel's budget (./channel.ts): the preview and the console read the same number. */
export const INSTAGRAM_CAPTION_MAX = instagram.budget.limit;

/** The alert card's size (functions/adapters/card): Instagram's portrait format. */
export const ALERT_CARD_SIZE = { width: 1080, height: 1350 } as const;

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
    composeLong,
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

export const instagramRenderer: ChannelRenderer<'instagram'> = {
  channel: 'instagram',
  content(version, config, options) {
    const image = alertImage(inLanguage(version.content, options.language)) ?? options.image;
    if (!image) throw new MissingImage('instagram');
    const r = renderInstagram(version, config, image, options.language);
    return { content: { channel: 'instagram', caption: r.caption, image: r.image }, text: r.caption };
  },
  preview(version, config, language) {
    const own = alertImage(inLanguage(version.content, language));
    // The card is drawn when the post is sent; its size is fixed, its URL is not known yet.
    const {
      shortened: _s,
      image: _i,
      ...r
    } = renderInstagram(version, config, own ?? { url: '', alt: '' }, language);
    const card = ALERT_CARD_SIZE;
    return {
      ...r,
      limit: INSTAGRAM_CAPTION_MAX,
      // Without an image of its own the post carries the alert card, which the preview draws (previewCards).
      image: own
        ? { source: 'alert', url: own.url, alt: own.alt }
        : { source: 'card', width: card.width, height: card.height },
      warnings: own
        ? r.warnings
        : [
            ...r.warnings,
            `the alert has no image: Instagram gets this alert card (${card.width}×${card.height} JPEG)`,
          ],
    };
  },
};
