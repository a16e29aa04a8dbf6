/**
 * Instagram engagement: `GET /{media-id}/insights?metric=views,likes,comments,shares`, one request per post (media
 * insights take one media), with the account token the provider posts with (./client.ts). `views` replaced
 * `impressions` for media in 2025 (Graph v22 and later refuse `impressions` for media created after 2 July 2024).
 * Instagram has no reposts as such; `shares` (sent on in a message or to a story) stands for them.
 *
 * Every version of an alert is a post of its own on Instagram, so each is read. A media that is gone answers code 100
 * subcode 33 and is not asked for again.
 */

import { createGraphReader, mediaInsightsReader } from '../../impact/graph-reads';
import type { MetricsReader } from '../../impact/model';
import type { Clock, SecretSource } from '../../ports';

export interface InstagramMetricsOptions {
  secrets: SecretSource;
  baseUrl?: string | undefined;
  clock?: Clock | undefined;
}

export const INSTAGRAM_METRICS = 'views,likes,comments,shares';

export function createInstagramMetricsReader(options: InstagramMetricsOptions): MetricsReader {
  const graph = createGraphReader({
    secrets: options.secrets,
    secretName: 'instagram',
    parse: ({ igUserId, accessToken }) => (igUserId && accessToken ? { igUserId, accessToken } : undefined),
    token: (c) => c.accessToken,
    baseUrl: options.baseUrl,
    clock: options.clock,
  });
  return mediaInsightsReader({
    channel: 'instagram',
    graph,
    metrics: INSTAGRAM_METRICS,
    counts: (values) => ({
      impressions: values.get('views'),
      reposts: values.get('shares'),
      replies: values.get('comments'),
      likes: values.get('likes'),
    }),
  });
}
