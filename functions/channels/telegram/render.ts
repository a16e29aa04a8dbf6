/**
 * Telegram: one message in the agency's channel. With an image it is a photo whose caption holds the alert
 * (1,024 characters); without one, a text message (4,096). The headline and the link stay whole; the description
 * gives way first, by the same rule as every other channel (../../core/render/text.ts).
 *
 * The budget is counted in UTF-16 code units. Telegram documents its limits in "characters" and measures entity
 * offsets in UTF-16; reports disagree on whether the length cap counts code units or code points, and a text
 * within the limit in code units is within it in code points too, so this count is safe either way.
 *
 * The text goes out as plain text (no parse_mode): nothing an officer writes can turn into markup or break an
 * entity parse. Telegram still finds links, @mentions and #hashtags in it, which is what a reader expects.
 */

import { fitShortPost } from '../../core/render/short-post';
import type { Fitted } from '../../core/render/text';
import { alertImage, localise, type RenderConfig, type RenderVersion } from '../../core/render/version';
import type { PublicImage } from '../../ports';
import { socialPostRenderer } from '../renderer';
import { telegram } from './channel';

/** sendMessage's `text`: 1-4096 characters; the channel's budget (./channel.ts). */
export const TELEGRAM_TEXT_MAX = telegram.budget.limit;
/** sendPhoto's `caption`: 0-1024 characters. */
export const TELEGRAM_CAPTION_MAX = 1_024;

/** What Telegram's limits are checked against: UTF-16 code units, never fewer than the characters it counts. */
export const telegramLength = (text: string): number => text.length;

export interface TelegramRendering {
  /** The message text, or the photo's caption when `image` is sent. */
  text: string;
  /** `text` in UTF-16 code units. */
  length: number;
  /** The budget it was fitted to: the caption's when a photo goes with it, the message's otherwise. */
  limit: number;
  fits: boolean;
  shortened: Fitted['shortened'];
  /** The alert's link, at the end of `text`: the client asks Telegram to preview this one and no other. */
  link: string;
  /** The alert's own image, when it is sent as a photo. Telegram photos carry no alt text: the caption says it. */
  image?: PublicImage | undefined;
  warnings: string[];
}

export interface TelegramRenderOptions {
  /**
   * Whether the message is a photo with a caption. By default, whether the alert has an image; the wiring may
   * pass `true` when it attaches another image (the alert card), or `false` to send text only.
   */
  withImage?: boolean | undefined;
}

export function renderTelegram(
  version: RenderVersion,
  config: RenderConfig,
  language?: string,
  options: TelegramRenderOptions = {},
): TelegramRendering {
  const own = alertImage(localise(version, config, language).content);
  const withImage = options.withImage ?? own !== undefined;
  const limit = withImage ? TELEGRAM_CAPTION_MAX : TELEGRAM_TEXT_MAX;
  const fitted = fitShortPost(version, config, language, (t) => telegramLength(t) <= limit);
  const length = telegramLength(fitted.text);
  const warnings: string[] = [];
  if (fitted.shortened.length)
    warnings.push(
      `shortened to fit Telegram's ${limit}-character ${withImage ? 'photo caption' : 'message'} (${fitted.shortened.join(', ')}); the full text is at the link`,
    );
  const image = withImage ? own : undefined;
  const { l } = fitted;
  return {
    text: fitted.text,
    length,
    limit,
    // sendMessage refuses an empty text; a caption may be empty but an alert never is.
    fits: length > 0 && length <= limit,
    shortened: fitted.shortened,
    link: l.link,
    ...(image ? { image } : {}),
    warnings,
  };
}

export const telegramRenderer = socialPostRenderer('telegram', renderTelegram);
