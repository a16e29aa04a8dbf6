/** Lambda entry point of the mastodon channel: its credentials read from Secrets Manager. */
import { channelSecrets } from '../../channel/aws-secrets';
import { channelLambda } from '../../channel/handler';
import { mastodonFactory } from './provider';
import { mastodonRenderer } from './render';

export const handler = channelLambda(
  'mastodon',
  mastodonRenderer,
  (o) => mastodonFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
  { secrets: channelSecrets },
);
