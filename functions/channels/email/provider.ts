/** The email channel's real provider, built from its options. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { ENV } from '../../shared/config';
import { awsClientConfig, type FactoryMaker } from '../provider-options';
import { createEmailProvider } from './client';

export const REQUIRED_KEYS = [
  'region',
  'accessKeyId',
  'secretAccessKey',
  'from',
  'configurationSet',
] as const;

export const emailFactory: FactoryMaker = (options) => async (secrets) => {
  const secret = options.awsAccess === 'secrets' ? ((await secrets.get('email')) ?? {}) : {};
  const from = secret.from ?? options.env[ENV.emailFrom];
  const configurationSet = secret.configurationSet ?? options.env[ENV.sesConfigurationSet];
  if (!from || !configurationSet)
    throw new Error(
      `email needs ${ENV.emailFrom} and ${ENV.sesConfigurationSet} (or "from" and "configurationSet")`,
    );
  return createEmailProvider({
    client: new SESv2Client(options.awsAccess === 'secrets' ? awsClientConfig(secret) : {}),
    from,
    configurationSet,
    logger: options.logger,
  });
};
