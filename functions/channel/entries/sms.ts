/** Lambda entry point of the sms channel. */
import { channelLambda } from '../handler';
import { smsFactory } from '../providers/sms';

export const handler = channelLambda('sms', (o) =>
  smsFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
