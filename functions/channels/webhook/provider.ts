/** The webhook channel's real provider, built from its options. */

import { subscriberSigningSecret } from '../../channel/bulk';
import type { FactoryMaker } from '../provider-options';
import { createWebhookProvider } from './client';

/**
 * None: every webhook registered through POST /v1/webhooks has its own signing secret, so the channel is real
 * without a channel-level secret. A shared `signingSecret` (WEBHOOK_SECRET_KEYS), if configured, signs for webhooks
 * that have none of their own.
 */
export const REQUIRED_KEYS: readonly string[] = [];

export const webhookFactory: FactoryMaker = (options) => (secrets) =>
  createWebhookProvider({
    secrets,
    allowLoopback: options.allowLoopback,
    logger: options.logger,
    // Each outlet signs with its own secret (the bulk sender decrypts it for the message); the shared one otherwise.
    signingSecret: async (message) =>
      subscriberSigningSecret(message) ?? (await secrets.get('webhook'))?.signingSecret,
  });
