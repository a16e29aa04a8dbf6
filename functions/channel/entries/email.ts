/** Lambda entry point of the email channel. */
import { channelLambda } from '../handler';
import { emailFactory } from '../providers/email';

export const handler = channelLambda('email', (o) =>
  emailFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
