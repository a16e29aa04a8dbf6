/** How a channel's real provider is built; one module per channel, so a channel function bundles only its own. */
import type { Channel } from '../../schemas/alert';
import type { LoggerLike } from '../shared/logger';
import type { ProviderFactory } from '../shared/providers';

export interface RealProviderOptions {
  logger: LoggerLike;
  env: NodeJS.ProcessEnv;
  /**
   * Where SNS and SES clients get their AWS access: the Lambda's role (`role`), or, on one machine, the `sms`
   * and `email` secrets (`secrets`), which also carry the sender settings.
   */
  awsAccess: 'role' | 'secrets';
  /** Guarded fetches (webhooks, images) to this machine: the embedded mode only, a receiver or image under test. */
  allowLoopback: boolean;
  /** Provider API origins, for tests against local fakes. */
  baseUrls?: ProviderBaseUrls | undefined;
}

/**
 * Where each provider's API is, when not the real one: `graph` serves Facebook and Instagram; the others are named
 * after their channel. Mastodon's replaces the secret's `instanceUrl` as the requests' origin only.
 */
export type ProviderBaseUrls = {
  [K in 'x' | 'graph' | 'mastodon' | 'bluesky' | 'threads' | 'telegram']?: string | undefined;
};

export type FactoryMaker = (options: RealProviderOptions) => ProviderFactory;

export type Factories = Record<Channel, FactoryMaker>;

export function awsClientConfig(secret: Record<string, string>) {
  return {
    region: secret.region,
    credentials: { accessKeyId: secret.accessKeyId ?? '', secretAccessKey: secret.secretAccessKey ?? '' },
  };
}
