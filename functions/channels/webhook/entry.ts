/** Lambda entry point of the webhook channel. */
import { channelLambda } from '../../channel/handler';
import { webhookFactory } from './provider';

export const handler = channelLambda('webhook', (o) =>
  webhookFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
