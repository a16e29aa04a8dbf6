/** The x channel's real provider, built from its options. */

import type { FactoryMaker } from '../provider-options';
import { createXProvider, X_SECRET_KEYS } from './client';

export const REQUIRED_KEYS = X_SECRET_KEYS;

export const xFactory: FactoryMaker = (options) => (secrets) =>
  createXProvider({
    secrets,
    logger: options.logger,
    // Only the embedded mode may allow it: the alert image can then be served by this machine (its /media/).
    allowLoopback: options.allowLoopback,
    ...(options.baseUrls?.x ? { baseUrl: options.baseUrls.x } : {}),
  });
