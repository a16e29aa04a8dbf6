/** Lambda entry point of the webhook channel. */
import { channelLambda } from '../handler';
import { webhookFactory } from '../providers/webhook';

export const handler = channelLambda('webhook', (o) =>
  webhookFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
