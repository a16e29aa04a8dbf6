/** The facebook channel's real provider, built from its options. */

import type { FactoryMaker } from '../provider-options';
import { createFacebookProvider } from './client';

export const REQUIRED_KEYS = ['pageId', 'pageAccessToken'] as const;

export const facebookFactory: FactoryMaker = (options) => (secrets) =>
  createFacebookProvider({
    secrets,
    logger: options.logger,
    ...(options.baseUrls?.graph ? { baseUrl: options.baseUrls.graph } : {}),
  });
