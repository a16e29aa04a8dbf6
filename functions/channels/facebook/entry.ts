/** Lambda entry point of the facebook channel: its credentials read from Secrets Manager. */
import { channelSecrets } from '../../channel/aws-secrets';
import { channelLambda } from '../../channel/handler';
import { facebookFactory } from './provider';
import { facebookRenderer } from './render';

export const handler = channelLambda(
  'facebook',
  facebookRenderer,
  (o) => facebookFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { secrets: channelSecrets },
);
