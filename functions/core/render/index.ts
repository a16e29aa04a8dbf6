/**
 * Rendering: pure functions from one version of an alert, in one of its languages, to what each channel
 * carries, within that channel's budget. The preview shows these; the channel handlers send them.
 */
import type { Channel } from '../../../schemas/alert';
import { renderBluesky } from '../../channels/bluesky/render';
import { alertPlainText, renderEmail } from '../../channels/email/render';
import { renderFacebook, renderInstagram } from '../../channels/facebook/render';
import { renderMastodon } from '../../channels/mastodon/render';
import { renderSms } from '../../channels/sms/render';
import { renderTelegram } from '../../channels/telegram/render';
import { renderThreads } from '../../channels/threads/render';
import { renderWebhook } from '../../channels/webhook/render';
import { renderX } from '../../channels/x/render';
import type { ChannelContent, PublicImage, SocialPostChannel } from '../../ports';
import type { StoredVersion } from '../model';
import { alertImage, inLanguage, localise, type RenderConfig } from './version';

export * from '../../channels/email/render';
export * from '../../channels/facebook/render';
export * from '../../channels/sms/render';
export * from '../../channels/webhook/render';
export * from '../../channels/x/render';
export * from './marks';
export * from './plain';
export * from './text';
export * from './times';
export * from './version';

export interface ContentOptions {
  language?: string | undefined;
  /** Instagram's image when the alert has none: the alert card. */
  image?: PublicImage | undefined;
  /** The version's CAP XML: attached to email, carried in webhook payloads. */
  cap?: string | undefined;
}

/**
 * What one channel sends for a version, and a plain rendering of it for the outbox and for people reading
 * receipts. Throws when Instagram has no image to post (the caller decides how that fails).
 */
export function renderContent(
  channel: Channel,
  version: StoredVersion,
  config: RenderConfig,
  options: ContentOptions = {},
): { content: ChannelContent; text: string } {
  const { language } = options;
  switch (channel) {
    case 'x': {
      const r = renderX(version, config, language);
      return { content: { channel, text: r.text, ...(r.image ? { image: r.image } : {}) }, text: r.text };
    }
    case 'facebook': {
      const r = renderFacebook(version, config, language);
      return {
        content: { channel, text: r.text, link: r.link, ...(r.image ? { image: r.image } : {}) },
        text: r.text,
      };
    }
    case 'instagram': {
      const image = alertImage(inLanguage(version.content, language)) ?? options.image;
      if (!image) throw new MissingImage();
      const r = renderInstagram(version, config, image, language);
      return { content: { channel, caption: r.caption, image: r.image }, text: r.caption };
    }
    case 'mastodon':
    case 'bluesky':
    case 'threads':
    case 'telegram': {
      const r = SOCIAL_POST_RENDERERS[channel](version, config, language);
      const content = {
        channel,
        text: r.text,
        link: r.link,
        language: inLanguage(version.content, language).language,
        ...(r.image ? { image: r.image } : {}),
      };
      return { content, text: r.text };
    }
    case 'sms': {
      const r = renderSms(version, config, language);
      return { content: { channel, text: r.text }, text: r.text };
    }
    case 'email': {
      const { warnings: _w, ...email } = renderEmail(version, config, { language, cap: options.cap });
      return { content: { channel, ...email }, text: `${email.subject}\n\n${email.text}` };
    }
    case 'webhook':
      return {
        content: { channel, payload: renderWebhook(version, config, options.cap) },
        text: alertPlainText(localise(version, config, language), config.agencyName),
      };
  }
}

/** The networks that share one content shape, each with its own renderer and budget. */
const SOCIAL_POST_RENDERERS: Record<
  SocialPostChannel,
  (
    version: StoredVersion,
    config: RenderConfig,
    language: string | undefined,
  ) => { text: string; link: string; image?: PublicImage | undefined }
> = {
  mastodon: renderMastodon,
  bluesky: renderBluesky,
  threads: renderThreads,
  telegram: renderTelegram,
};

export class MissingImage extends Error {
  constructor() {
    super('instagram needs an image');
    this.name = 'MissingImage';
  }
}
