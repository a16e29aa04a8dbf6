/** Lambda entry point of the email channel. */
import { channelLambda } from '../../channel/handler';
import { emailFactory } from './provider';

export const handler = channelLambda('email', (o) =>
  emailFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
