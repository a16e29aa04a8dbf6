/** Lambda entry point of the telegram channel. */
import { channelLambda } from '../handler';
import { telegramFactory } from '../providers/telegram';

export const handler = channelLambda('telegram', (o) =>
  telegramFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
