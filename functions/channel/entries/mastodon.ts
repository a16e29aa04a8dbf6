/** Lambda entry point of the mastodon channel. */
import { channelLambda } from '../handler';
import { mastodonFactory } from '../providers/mastodon';

export const handler = channelLambda('mastodon', (o) =>
  mastodonFactory({ ...o, awsAccess: 'role', allowLoopback: false }),
);
