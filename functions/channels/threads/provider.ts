/** The threads channel's real provider: its client behind the one SocialClient adapter. Threads fetches the image itself, from its public URL. */

import type { FactoryMaker } from '../provider-options';
import { socialProvider } from '../social-provider';
import { createThreadsClient, THREADS_SECRET_KEYS } from './client';

export const REQUIRED_KEYS = THREADS_SECRET_KEYS;

export const threadsFactory: FactoryMaker = (options) => (secrets) =>
  socialProvider(
    'threads',
    createThreadsClient({
      secrets,
      logger: options.logger,
      ...(options.baseUrls?.threads ? { baseUrl: options.baseUrls.threads } : {}),
    }),
  );
