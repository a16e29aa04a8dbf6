/**
 * Instagram engagement: `GET /{media-id}/insights?metric=views,likes,comments,shares`, one request per post (media
 * insights take one media), with the account token the provider posts with (./client.ts). `views` replaced
 * `impressions` for media in 2025 (Graph v22 and later refuse `impressions` for media created after 2 July 2024).
 * Instagram has no reposts as such; `shares` (sent on in a message or to a story) stands for them.
 *
 * Every version of an alert is a post of its own on Instagram, so each is read. A media that is gone answers code 100
 * subcode 33 and is not asked for again.
 */

import { createGraphReader, GraphReadError } from '../../impact/graph-reads';
import type { MetricsBatch, MetricsReader } from '../../impact/model';
import type { Clock, SecretSource } from '../../ports';
import { insightCounts } from '../facebook/metrics';

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

  return {
    channel: 'instagram',
    batchSize: 1,
    unavailable: graph.unavailable,

    async read(postIds, signal) {
      const batch: MetricsBatch = { counts: new Map(), gone: [] };
      const [mediaId] = postIds;
      if (!mediaId) return batch;
      if (postIds.length > 1) throw new RangeError('Instagram reads one media per request');
      if (!/^\d{1,25}$/.test(mediaId)) return { ...batch, gone: [mediaId] };
      try {
        const answer = await graph.get<{ data?: Parameters<typeof insightCounts>[0] }>(
          `${mediaId}/insights`,
          { metric: INSTAGRAM_METRICS },
          signal,
        );
        const values = insightCounts(answer.body.data);
        batch.counts.set(mediaId, {
          impressions: values.get('views'),
          reposts: values.get('shares'),
          replies: values.get('comments'),
          likes: values.get('likes'),
        });
        return { ...batch, ...(answer.holdUntil ? { holdUntil: answer.holdUntil } : {}) };
      } catch (error) {
        if (error instanceof GraphReadError && error.code === 100 && error.subcode === 33)
          return { ...batch, gone: [mediaId] };
        throw error;
      }
    },
  };
}
