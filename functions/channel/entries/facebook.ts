/** Lambda entry point of the facebook channel. */
import { channelLambda } from '../handler';
import { facebookFactory } from '../providers/facebook';

export const handler = channelLambda('facebook', (o) =>
  facebookFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
