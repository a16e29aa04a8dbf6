/**
 * Every channel's real provider, for the embedded mode, which chooses per channel between the real provider and
 * the sandbox (functions/shared/providers.ts). Channel functions on AWS import only their own factory
 * (functions/channels/<name>/entry.ts), so each bundles only the provider it uses.
 */
import { CHANNELS, type Channel } from '../../schemas/alert';
import { REQUIRED_KEYS as BLUESKY_KEYS, blueskyFactory } from '../channels/bluesky/provider';
import { REQUIRED_KEYS as EMAIL_KEYS, emailFactory } from '../channels/email/provider';
import { REQUIRED_KEYS as FACEBOOK_KEYS, facebookFactory } from '../channels/facebook/provider';
import { REQUIRED_KEYS as INSTAGRAM_KEYS, instagramFactory } from '../channels/instagram/provider';
import { REQUIRED_KEYS as MASTODON_KEYS, mastodonFactory } from '../channels/mastodon/provider';
import type { FactoryMaker, RealProviderOptions } from '../channels/provider-options';
import { REQUIRED_KEYS as SMS_KEYS, smsFactory } from '../channels/sms/provider';
import { REQUIRED_KEYS as TELEGRAM_KEYS, telegramFactory } from '../channels/telegram/provider';
import { REQUIRED_KEYS as THREADS_KEYS, threadsFactory } from '../channels/threads/provider';
import { REQUIRED_KEYS as WEBHOOK_KEYS, webhookFactory } from '../channels/webhook/provider';
import { REQUIRED_KEYS as X_KEYS, xFactory } from '../channels/x/provider';
import type { ProviderFactory } from './providers';

/**
 * Each channel's real provider factory and the keys its secret must hold (on one machine SMS and email need AWS keys
 * too), from its folder's provider.ts: one line per channel, and a channel of the list missing here does not compile.
 */
const PROVIDERS: { readonly [C in Channel]: { factory: FactoryMaker; requiredKeys: readonly string[] } } = {
  x: { factory: xFactory, requiredKeys: X_KEYS },
  facebook: { factory: facebookFactory, requiredKeys: FACEBOOK_KEYS },
  instagram: { factory: instagramFactory, requiredKeys: INSTAGRAM_KEYS },
  mastodon: { factory: mastodonFactory, requiredKeys: MASTODON_KEYS },
  bluesky: { factory: blueskyFactory, requiredKeys: BLUESKY_KEYS },
  threads: { factory: threadsFactory, requiredKeys: THREADS_KEYS },
  telegram: { factory: telegramFactory, requiredKeys: TELEGRAM_KEYS },
  sms: { factory: smsFactory, requiredKeys: SMS_KEYS },
  email: { factory: emailFactory, requiredKeys: EMAIL_KEYS },
  webhook: { factory: webhookFactory, requiredKeys: WEBHOOK_KEYS },
};

const byChannel = <T>(pick: (p: (typeof PROVIDERS)[Channel]) => T): Record<Channel, T> =>
  Object.fromEntries(CHANNELS.map((c) => [c, pick(PROVIDERS[c])])) as Record<Channel, T>;

/** Keys a channel's secret must hold for its real provider (on one machine SMS and email need AWS keys too). */
export const REQUIRED_SECRET_KEYS: Record<Channel, readonly string[]> = byChannel((p) => p.requiredKeys);

export function realProviderFactories(options: RealProviderOptions): Record<Channel, ProviderFactory> {
  return byChannel((p) => p.factory(options));
}

export type { RealProviderOptions };
