/** The x channel's real provider, built from its options. */
import { createXProvider, X_SECRET_KEYS } from '../../adapters/providers/x';
import type { FactoryMaker } from './options';

export const REQUIRED_KEYS = X_SECRET_KEYS;

export const xFactory: FactoryMaker = (options) => (secrets) =>
  createXProvider({
    secrets,
    logger: options.logger,
    ...(options.baseUrls?.x ? { baseUrl: options.baseUrls.x } : {}),
  });
