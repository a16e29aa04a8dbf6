/** Lambda entry point of the x channel: its credentials read from Secrets Manager. */
import { channelSecrets } from '../../channel/aws-secrets';
import { channelLambda } from '../../channel/handler';
import { xFactory } from './provider';
import { xRenderer } from './render';

export const handler = channelLambda(
  'x',
  xRenderer,
  (o) => xFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { secrets: channelSecrets },
);
