/** The instagram channel's real provider, built from its options. */

import type { FactoryMaker } from '../provider-options';
import { createInstagramProvider } from './client';

export const REQUIRED_KEYS = ['igUserId', 'accessToken'] as const;

export const instagramFactory: FactoryMaker = (options) => (secrets) =>
  createInstagramProvider({
    secrets,
    logger: options.logger,
    ...(options.baseUrls?.graph ? { baseUrl: options.baseUrls.graph } : {}),
  });
