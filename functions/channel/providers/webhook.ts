/** The webhook channel's real provider, built from its options. */
import { createWebhookProvider, WEBHOOK_SECRET_KEYS } from '../../adapters/providers/webhook';
import type { FactoryMaker } from './options';

export const REQUIRED_KEYS = WEBHOOK_SECRET_KEYS;

export const webhookFactory: FactoryMaker = (options) => (secrets) =>
  createWebhookProvider({ secrets, allowLoopback: options.allowLoopbackWebhooks, logger: options.logger });
