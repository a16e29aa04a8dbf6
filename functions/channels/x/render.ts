/**
 * X: 280 weighted characters as X counts them (twitter-text's parseTweet: a URL is 23 whatever its
 * length, an emoji 2, CJK 2). Headline and link stay whole; the description gives way first.
 */
import twitterText from 'twitter-text';
import { fitShortPost } from '../../core/render/short-post';
import type { Fitted } from '../../core/render/text';
import { alertImage, type RenderConfig, type RenderVersion } from '../../core/render/version';
import type { PublicImage } from '../../ports';
import type { ChannelRenderer } from '../renderer';
import { x as xChannel } from './channel';

/** The channel's budget (functions/channels/x/channel.ts): the preview and the console read the same number. */
export const X_MAX_WEIGHTED = xChannel.budget.limit;

export const weightedLength = (text: string): number => twitterText.parseTweet(text).weightedLength;

export interface XRendering {
  text: string;
  weightedLength: number;
  fits: boolean;
  shortened: Fitted['shortened'];
  image?: PublicImage | undefined;
  warnings: string[];
}

export function renderX(version: RenderVersion, config: RenderConfig, language?: string): XRendering {
  const fitted = fitShortPost(version, config, language, (t) => weightedLength(t) <= X_MAX_WEIGHTED);
  const l = fitted.l;
  const parsed = twitterText.parseTweet(fitted.text);
  const warnings: string[] = [];
  if (fitted.shortened.length)
    warnings.push(
      `shortened to fit ${X_MAX_WEIGHTED} weighted characters (${fitted.shortened.join(', ')}); the full text is at the link`,
    );
  // parseTweet also refuses characters X will not post (U+FFFE, U+FEFF…), whatever the length.
  if (!parsed.valid && parsed.weightedLength <= X_MAX_WEIGHTED)
    warnings.push('the text holds characters X refuses to post');
  const image = alertImage(l.content);
  return {
    text: fitted.text,
    weightedLength: parsed.weightedLength,
    fits: parsed.valid,
    shortened: fitted.shortened,
    ...(image ? { image } : {}),
    warnings,
  };
}

export const xRenderer: ChannelRenderer<'x'> = {
  channel: 'x',
  content(version, config, { language }) {
    const r = renderX(version, config, language);
    return { content: { channel: 'x', text: r.text, ...(r.image ? { image: r.image } : {}) }, text: r.text };
  },
  preview(version, config, language) {
    const { shortened: _s, ...r } = renderX(version, config, language);
    return { ...r, limit: X_MAX_WEIGHTED };
  },
};
