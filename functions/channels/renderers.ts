/**
 * Every channel's renderer, by name, from each folder's render.ts: for the preview, which shows them all, and the
 * embedded runtime, whose channel handlers run in one process. A channel function on AWS holds only its own (its
 * entry.ts hands it to the handler). A channel in the list without a renderer here does not compile.
 */
import { blueskyRenderer } from './bluesky/render';
import { emailRenderer } from './email/render';
import { facebookRenderer } from './facebook/render';
import { instagramRenderer } from './instagram/render';
import type { Channel } from './list';
import { mastodonRenderer } from './mastodon/render';
import type { ChannelRenderer } from './renderer';
import { smsRenderer } from './sms/render';
import { telegramRenderer } from './telegram/render';
import { threadsRenderer } from './threads/render';
import { webhookRenderer } from './webhook/render';
import { xRenderer } from './x/render';

export const RENDERERS: { readonly [C in Channel]: ChannelRenderer<C> } = {
  x: xRenderer,
  facebook: facebookRenderer,
  instagram: instagramRenderer,
  mastodon: mastodonRenderer,
  bluesky: blueskyRenderer,
  threads: threadsRenderer,
  telegram: telegramRenderer,
  sms: smsRenderer,
  email: emailRenderer,
  webhook: webhookRenderer,
};

/** The renderer of `channel`, typed for any channel (the record above keeps each one's own type). */
export const rendererOf = (channel: Channel): ChannelRenderer => RENDERERS[channel] as ChannelRenderer;
