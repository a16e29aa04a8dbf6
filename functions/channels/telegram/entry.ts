/** Lambda entry point of the telegram channel. */
import { channelLambda } from '../../channel/handler';
import { telegramFactory } from './provider';

export const handler = channelLambda('telegram', (o) =>
  telegramFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
