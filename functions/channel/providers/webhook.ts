/** The webhook channel's real provider, built from its options. */
import { createWebhookProvider, WEBHOOK_SECRET_KEYS } from '../../adapters/providers/webhook';
import { subscriberSigningSecret } from '../bulk';
import type { FactoryMaker } from './options';

export const REQUIRED_KEYS = WEBHOOK_SECRET_KEYS;

export const webhookFactory: FactoryMaker = (options) => (secrets) =>
  createWebhookProvider({
    secrets,
    allowLoopback: options.allowLoopback,
    logger: options.logger,
    // Each outlet signs with its own secret (the bulk sender decrypts it for the message); the shared one otherwise.
    signingSecret: async (message) =>
      subscriberSigningSecret(message) ?? (await secrets.get('webhook'))?.signingSecret,
  });
