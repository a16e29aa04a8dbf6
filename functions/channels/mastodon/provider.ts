/** The mastodon channel's real provider: its client behind the one SocialClient adapter. */

import type { FactoryMaker } from '../provider-options';
import { socialProvider } from '../social-provider';
import { createMastodonClient, MASTODON_SECRET_KEYS } from './client';

export const REQUIRED_KEYS = MASTODON_SECRET_KEYS;

export const mastodonFactory: FactoryMaker = (options) => (secrets) =>
  socialProvider(
    'mastodon',
    createMastodonClient({
      secrets,
      logger: options.logger,
      // Only the embedded mode may allow it: the alert image can then be served by this machine (its /media/).
      allowLoopback: options.allowLoopback,
      ...(options.baseUrls?.mastodon ? { baseUrl: options.baseUrls.mastodon } : {}),
    }),
  );
