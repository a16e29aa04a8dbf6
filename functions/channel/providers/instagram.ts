/** The instagram channel's real provider, built from its options. */
import { createInstagramProvider } from '../../adapters/providers/instagram';
import type { FactoryMaker } from './options';

export const REQUIRED_KEYS = ['igUserId', 'accessToken'] as const;

export const instagramFactory: FactoryMaker = (options) => (secrets) =>
  createInstagramProvider({
    secrets,
    logger: options.logger,
    ...(options.baseUrls?.graph ? { baseUrl: options.baseUrls.graph } : {}),
  });
