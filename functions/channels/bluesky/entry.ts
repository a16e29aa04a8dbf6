/** Lambda entry point of the bluesky channel: its credentials read from Secrets Manager. */
import { channelSecrets } from '../../channel/aws-secrets';
import { channelLambda } from '../../channel/handler';
import { blueskyFactory } from './provider';
import { blueskyRenderer } from './render';

export const handler = channelLambda(
  'bluesky',
  blueskyRenderer,
  (o) => blueskyFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { secrets: channelSecrets },
);
