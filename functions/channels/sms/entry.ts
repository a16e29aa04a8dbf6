/** Lambda entry point of the sms channel: its function's role sends (SNS), its subscribers' numbers decrypted with KMS. */
import { channelSubscribers } from '../../channel/aws-subscribers';
import { channelLambda } from '../../channel/handler';
import { smsFactory } from './provider';
import { smsRenderer } from './render';

export const handler = channelLambda(
  'sms',
  smsRenderer,
  (o) => smsFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { subscribers: channelSubscribers },
);
