/**
 * Every channel's real provider, for the embedded mode, which chooses per channel between the real provider and
 * the sandbox (functions/shared/providers.ts). Channel functions on AWS import only their own factory
 * (functions/channels/<name>/entry.ts), so each bundles only the provider it uses.
 */
import type { Channel } from '../../schemas/alert';
import { REQUIRED_KEYS as BLUESKY_KEYS, blueskyFactory } from '../channels/bluesky/provider';
import { REQUIRED_KEYS as EMAIL_KEYS, emailFactory } from '../channels/email/provider';
import { REQUIRED_KEYS as FACEBOOK_KEYS, facebookFactory } from '../channels/facebook/provider';
import { REQUIRED_KEYS as INSTAGRAM_KEYS, instagramFactory } from '../channels/instagram/provider';
import { REQUIRED_KEYS as MASTODON_KEYS, mastodonFactory } from '../channels/mastodon/provider';
import type { RealProviderOptions } from '../channels/provider-options';
import { REQUIRED_KEYS as SMS_KEYS, smsFactory } from '../channels/sms/provider';
import { REQUIRED_KEYS as TELEGRAM_KEYS, telegramFactory } from '../channels/telegram/provider';
import { REQUIRED_KEYS as THREADS_KEYS, threadsFactory } from '../channels/threads/provider';
import { REQUIRED_KEYS as WEBHOOK_KEYS, webhookFactory } from '../channels/webhook/provider';
import { REQUIRED_KEYS as X_KEYS, xFactory } from '../channels/x/provider';
import type { ProviderFactory } from './providers';

/** HERALD_FETCH_ALLOW_LOOPBACK (or the older HERALD_WEBHOOK_ALLOW_LOOPBACK), read by the embedded runtime. */

/** Keys a channel's secret must hold for its real provider (on one machine SMS and email need AWS keys too). */
export const REQUIRED_SECRET_KEYS: Record<Channel, readonly string[]> = {
  x: X_KEYS,
  facebook: FACEBOOK_KEYS,
  instagram: INSTAGRAM_KEYS,
  mastodon: MASTODON_KEYS,
  bluesky: BLUESKY_KEYS,
  threads: THREADS_KEYS,
  telegram: TELEGRAM_KEYS,
  webhook: WEBHOOK_KEYS,
  sms: SMS_KEYS,
  email: EMAIL_KEYS,
};

export function realProviderFactories(options: RealProviderOptions): Record<Channel, ProviderFactory> {
  return {
    x: xFactory(options),
    facebook: facebookFactory(options),
    instagram: instagramFactory(options),
    mastodon: mastodonFactory(options),
    bluesky: blueskyFactory(options),
    threads: threadsFactory(options),
    telegram: telegramFactory(options),
    webhook: webhookFactory(options),
    sms: smsFactory(options),
    email: emailFactory(options),
  };
}

export type { RealProviderOptions };
