/** Lambda entry point of the facebook channel. */
import { channelLambda } from '../../channel/handler';
import { facebookFactory } from './provider';

export const handler = channelLambda('facebook', (o) =>
  facebookFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
