/**
 * The real provider of each channel, built the same way on AWS and in the embedded mode. On AWS every channel
 * uses its real provider (a channel without credentials fails its deliveries, saying so, rather than pretending
 * in a sandbox); the embedded mode falls back to the sandbox per channel (functions/shared/providers.ts).
 */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Channel } from '../../schemas/alert';
import { createEmailProvider } from '../adapters/providers/email';
import { createFacebookProvider } from '../adapters/providers/facebook';
import { createInstagramProvider } from '../adapters/providers/instagram';
import { createSmsProvider } from '../adapters/providers/sms';
import { createWebhookProvider, WEBHOOK_SECRET_KEYS } from '../adapters/providers/webhook';
import { createXProvider, X_SECRET_KEYS } from '../adapters/providers/x';
import type { StoredVersion } from '../core/model';
import type { ImageStore, PublicImage, SecretSource } from '../ports';
import { ENV } from './config';
import type { LoggerLike } from './logger';
import type { ProviderFactory } from './providers';

/** Keys a channel's secret must hold for its real provider (the embedded mode also needs AWS keys for SMS/email). */
export const REQUIRED_SECRET_KEYS: Record<Channel, readonly string[]> = {
  x: X_SECRET_KEYS,
  facebook: ['pageId', 'pageAccessToken'],
  instagram: ['igUserId', 'accessToken'],
  webhook: WEBHOOK_SECRET_KEYS,
  sms: ['region', 'accessKeyId', 'secretAccessKey'],
  email: ['region', 'accessKeyId', 'secretAccessKey', 'from', 'configurationSet'],
};

export interface RealProviderOptions {
  logger: LoggerLike;
  env: NodeJS.ProcessEnv;
  /**
   * Where SNS and SES clients get their AWS access: the Lambda's role (`role`), or — on one machine — the `sms`
   * and `email` secrets (`secrets`), which also carry the sender settings.
   */
  awsAccess: 'role' | 'secrets';
  /** Webhooks to 127.0.0.1 are for the embedded mode only, when an agency tests a receiver on the same machine. */
  allowLoopbackWebhooks: boolean;
  /** Provider API origins, for tests against local fakes. */
  baseUrls?: { x?: string | undefined; graph?: string | undefined } | undefined;
}

function awsClientConfig(secret: Record<string, string>) {
  return {
    region: secret.region,
    credentials: { accessKeyId: secret.accessKeyId ?? '', secretAccessKey: secret.secretAccessKey ?? '' },
  };
}

export function realProviderFactories(options: RealProviderOptions): Record<Channel, ProviderFactory> {
  const { logger, env } = options;
  const graph = options.baseUrls?.graph;
  return {
    x: (secrets) =>
      createXProvider({ secrets, logger, ...(options.baseUrls?.x ? { baseUrl: options.baseUrls.x } : {}) }),
    facebook: (secrets) => createFacebookProvider({ secrets, logger, ...(graph ? { baseUrl: graph } : {}) }),
    instagram: (secrets) =>
      createInstagramProvider({ secrets, logger, ...(graph ? { baseUrl: graph } : {}) }),
    webhook: (secrets) =>
      createWebhookProvider({ secrets, allowLoopback: options.allowLoopbackWebhooks, logger }),
    sms: async (secrets) => {
      const secret = options.awsAccess === 'secrets' ? ((await secrets.get('sms')) ?? {}) : {};
      return createSmsProvider({
        client: new SNSClient(options.awsAccess === 'secrets' ? awsClientConfig(secret) : {}),
        senderId: secret.senderId ?? env[ENV.smsSenderId],
        originationNumber: secret.originationNumber ?? env[ENV.smsOriginationNumber],
        logger,
      });
    },
    email: async (secrets) => {
      const secret = options.awsAccess === 'secrets' ? ((await secrets.get('email')) ?? {}) : {};
      const from = secret.from ?? env[ENV.emailFrom];
      const configurationSet = secret.configurationSet ?? env[ENV.sesConfigurationSet];
      if (!from || !configurationSet)
        throw new Error(
          `email needs ${ENV.emailFrom} and ${ENV.sesConfigurationSet} (or "from" and "configurationSet")`,
        );
      return createEmailProvider({
        client: new SESv2Client(options.awsAccess === 'secrets' ? awsClientConfig(secret) : {}),
        from,
        configurationSet,
        logger,
      });
    },
  };
}

/**
 * Instagram needs an image: an alert without one gets an alert card, drawn on first use (satori and the wasm
 * renderer cost nothing until then) and stored content-addressed where the provider can fetch it.
 */
export function cardImageMaker(images: ImageStore, agencyName: string) {
  return async (version: StoredVersion): Promise<PublicImage> => {
    const [{ renderAlertCard }, { putImage }] = await Promise.all([
      import('../adapters/card/alert-card'),
      import('../adapters/images/key'),
    ]);
    const c = version.content;
    const card = await renderAlertCard({
      headline: c.headline,
      event: c.event,
      agencyName,
      severity: c.severity,
      msgType: version.msgType,
      language: c.language,
      areaDesc:
        c.areas
          .map((a) => a.areaDesc ?? a.zone)
          .filter(Boolean)
          .join(', ') || undefined,
      sent: version.sent,
    });
    const { url } = await putImage(images, card.bytes, 'image/jpeg');
    return { url, alt: card.alt, width: card.width, height: card.height };
  };
}
