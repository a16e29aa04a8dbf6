/** Lambda entry point of the threads channel: its credentials read from Secrets Manager. */
import { channelSecrets } from '../../channel/aws-secrets';
import { channelLambda } from '../../channel/handler';
import { threadsFactory } from './provider';
import { threadsRenderer } from './render';

export const handler = channelLambda(
  'threads',
  threadsRenderer,
  (o) => threadsFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { secrets: channelSecrets },
);
