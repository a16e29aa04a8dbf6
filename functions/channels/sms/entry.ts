/** Lambda entry point of the sms channel. */
import { channelLambda } from '../../channel/handler';
import { smsFactory } from './provider';

export const handler = channelLambda('sms', (o) =>
  smsFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
