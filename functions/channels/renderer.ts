/**
 * What a channel's folder gives the rest of Herald to render with: its `render.ts` exports one ChannelRenderer, the
 * channel handler sends what `content` returns, and the preview shows what `preview` returns. The channel function's
 * entry hands its own renderer to the handler (functions/channel/handler.ts), so its bundle holds no other channel's
 * renderer; the preview and the embedded runtime read them all from ./renderers.ts.
 */
import type { StoredVersion } from '../core/model';
import { inLanguage, type RenderConfig } from '../core/render/version';
import type { ChannelContent, PublicImage, SocialPostChannel, SocialPostContent } from '../ports';
import type { Channel } from './list';

export interface ContentOptions {
  language?: string | undefined;
  /** The image of a channel that cannot post without one (`needsImage`) when the alert has none: the alert card. */
  image?: PublicImage | undefined;
  /** The version's CAP XML, for a channel that `carriesCap` (attached to email, carried in webhook payloads). */
  cap?: string | undefined;
}

/** What one channel's provider receives, narrowed to that channel. */
export type ContentOf<C extends Channel> = ChannelContent & { channel: C };

/** The preview's entry for one channel in one language: the rendering, its count, its limit and its warnings. */
export type PreviewEntry = Record<string, unknown>;

export interface ChannelRenderer<C extends Channel = Channel> {
  channel: C;
  /**
   * What the channel sends for a version, and a plain rendering of it for the outbox and for people reading
   * receipts. Throws MissingImage when the channel needs an image and has none (the caller decides how that fails).
   */
  content(
    version: StoredVersion,
    config: RenderConfig,
    options: ContentOptions,
  ): { content: ContentOf<C>; text: string };
  /** What the preview shows for the channel in `language`. */
  preview(version: StoredVersion, config: RenderConfig, language: string): PreviewEntry;
}

/** One renderer per channel, by name: a channel function holds its own only, the embedded runtime all of them. */
export type ChannelRenderers = { readonly [C in Channel]?: ChannelRenderer<C> };

export class MissingImage extends Error {
  constructor(channel: string) {
    super(`${channel} needs an image`);
    this.name = 'MissingImage';
  }
}

/** What a short-post network's render function gives (its own fields besides: counts, limit, fit, warnings). */
export interface ShortPostRendering {
  text: string;
  link: string;
  image?: PublicImage | undefined;
  shortened?: unknown;
  /** A network's own language code (Mastodon's ISO 639-1), which must not replace the preview entry's language tag. */
  language?: string | undefined;
}

/**
 * The renderer of a short-post network whose client speaks SocialClient (functions/channels/social.ts): one shared
 * content shape, and the preview shows the rendering without what only the sender uses.
 */
export function socialPostRenderer<C extends SocialPostChannel>(
  channel: C,
  render: (version: StoredVersion, config: RenderConfig, language?: string) => ShortPostRendering,
): ChannelRenderer<C> {
  return {
    channel,
    content(version, config, { language }) {
      const rendered = render(version, config, language);
      const content = {
        channel,
        text: rendered.text,
        link: rendered.link,
        language: inLanguage(version.content, language).language,
        ...(rendered.image ? { image: rendered.image } : {}),
      } as SocialPostContent & { channel: C } as ContentOf<C>;
      return { content, text: rendered.text };
    },
    preview(version, config, language) {
      const { shortened: _s, language: _l, ...entry } = render(version, config, language);
      return entry;
    },
  };
}
