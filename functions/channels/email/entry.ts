/** Lambda entry point of the email channel: its function's role sends (SES), its subscribers' addresses decrypted with KMS. */
import { channelSubscribers } from '../../channel/aws-subscribers';
import { channelLambda } from '../../channel/handler';
import { emailFactory } from './provider';
import { emailRenderer } from './render';

export const handler = channelLambda(
  'email',
  emailRenderer,
  (o) => emailFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { subscribers: channelSubscribers },
);
