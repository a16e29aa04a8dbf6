/**
 * Facebook: room for the whole alert. It takes the text with the link (Graph caps a post at 63,206 characters,
 * which no alert the schema accepts reaches, but the cap is kept anyway).
 */

import { composeLong, longPieces, utf16Units as units } from '../../core/render/long-post';
import { type Fitted, fitPieces } from '../../core/render/text';
import { alertImage, localise, type RenderConfig, type RenderVersion } from '../../core/render/version';
import type { PublicImage } from '../../ports';
import type { ChannelRenderer } from '../renderer';

export const FACEBOOK_MAX = 63_206;

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
  const fitted = fitPieces(longPieces(l, l.link), composeLong, (t) => units(t) <= FACEBOOK_MAX);
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

export const facebookRenderer: ChannelRenderer<'facebook'> = {
  channel: 'facebook',
  content(version, config, { language }) {
    const r = renderFacebook(version, config, language);
    return {
      content: { channel: 'facebook', text: r.text, link: r.link, ...(r.image ? { image: r.image } : {}) },
      text: r.text,
    };
  },
  preview(version, config, language) {
    const { shortened: _s, ...r } = renderFacebook(version, config, language);
    return r;
  },
};
