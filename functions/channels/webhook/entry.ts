/** Lambda entry point of the webhook channel: each outlet's URL and signing secret decrypted with KMS, a shared signing secret read from Secrets Manager. */
import { channelSecrets } from '../../channel/aws-secrets';
import { channelSubscribers } from '../../channel/aws-subscribers';
import { channelLambda } from '../../channel/handler';
import { webhookFactory } from './provider';
import { webhookRenderer } from './render';

export const handler = channelLambda(
  'webhook',
  webhookRenderer,
  (o) => webhookFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { secrets: channelSecrets, subscribers: channelSubscribers },
);
