/** Lambda entry point of the threads channel. */
import { channelLambda } from '../../channel/handler';
import { threadsFactory } from './provider';

export const handler = channelLambda('threads', (o) =>
  threadsFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
