/** Lambda entry point of the telegram channel: its credentials read from Secrets Manager. */
import { channelSecrets } from '../../channel/aws-secrets';
import { channelLambda } from '../../channel/handler';
import { telegramFactory } from './provider';
import { telegramRenderer } from './render';

export const handler = channelLambda(
  'telegram',
  telegramRenderer,
  (o) => telegramFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { secrets: channelSecrets },
);
