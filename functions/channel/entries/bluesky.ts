/** Lambda entry point of the bluesky channel. */
import { channelLambda } from '../handler';
import { blueskyFactory } from '../providers/bluesky';

export const handler = channelLambda('bluesky', (o) =>
  blueskyFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
