/** Lambda entry point of the bluesky channel. */
import { channelLambda } from '../../channel/handler';
import { blueskyFactory } from './provider';

export const handler = channelLambda('bluesky', (o) =>
  blueskyFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
