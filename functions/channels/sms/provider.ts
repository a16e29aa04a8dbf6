/** The sms channel's real provider, built from its options. */
import { SNSClient } from '@aws-sdk/client-sns';
import { ENV } from '../../shared/config';
import { awsClientConfig, type FactoryMaker } from '../provider-options';
import { createSmsProvider } from './client';

/** On AWS the function's role sends; on one machine, the `sms` secret carries AWS keys and sender settings. */
export const REQUIRED_KEYS = ['region', 'accessKeyId', 'secretAccessKey'] as const;

export const smsFactory: FactoryMaker = (options) => async (secrets) => {
  const secret = options.awsAccess === 'secrets' ? ((await secrets.get('sms')) ?? {}) : {};
  return createSmsProvider({
    client: new SNSClient(options.awsAccess === 'secrets' ? awsClientConfig(secret) : {}),
    senderId: secret.senderId ?? options.env[ENV.smsSenderId],
    originationNumber: secret.originationNumber ?? options.env[ENV.smsOriginationNumber],
    logger: options.logger,
  });
};
