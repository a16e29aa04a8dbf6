/** Lambda entry point of the threads channel. */
import { channelLambda } from '../handler';
import { threadsFactory } from '../providers/threads';

export const handler = channelLambda('threads', (o) =>
  threadsFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
