/** The telegram channel's real provider: its client behind the one SocialClient adapter. */

import type { FactoryMaker } from '../provider-options';
import { socialProvider } from '../social-provider';
import { createTelegramClient, TELEGRAM_SECRET_KEYS } from './client';

export const REQUIRED_KEYS = TELEGRAM_SECRET_KEYS;

export const telegramFactory: FactoryMaker = (options) => (secrets) =>
  socialProvider(
    'telegram',
    createTelegramClient({
      secrets,
      logger: options.logger,
      // Only the embedded mode may allow it: the alert image can then be served by this machine (its /media/).
      allowLoopback: options.allowLoopback,
      ...(options.baseUrls?.telegram ? { baseUrl: options.baseUrls.telegram } : {}),
    }),
  );
