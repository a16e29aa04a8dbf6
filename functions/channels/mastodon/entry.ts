/** Lambda entry point of the mastodon channel. */
import { channelLambda } from '../../channel/handler';
import { mastodonFactory } from './provider';

export const handler = channelLambda('mastodon', (o) =>
  mastodonFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
