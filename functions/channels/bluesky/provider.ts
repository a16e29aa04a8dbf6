/** The bluesky channel's real provider: its client behind the one SocialClient adapter. */

import type { FactoryMaker } from '../provider-options';
import { socialProvider } from '../social-provider';
import { BLUESKY_SECRET_KEYS, createBlueskyClient } from './client';

export const REQUIRED_KEYS = BLUESKY_SECRET_KEYS;

export const blueskyFactory: FactoryMaker = (options) => (secrets) =>
  socialProvider(
    'bluesky',
    createBlueskyClient({
      secrets,
      logger: options.logger,
      // Only the embedded mode may allow it: the alert image can then be served by this machine (its /media/).
      allowLoopback: options.allowLoopback,
      ...(options.baseUrls?.bluesky ? { baseUrl: options.baseUrls.bluesky } : {}),
    }),
  );
