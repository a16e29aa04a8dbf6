/**
 * Facebook engagement: one Graph request for up to 50 of the Page's posts, `GET /?ids=<ids>&fields=shares,
 * comments.limit(0).summary(total_count),reactions.limit(0).summary(total_count),insights.metric(post_media_view)`
 * with the Page token the provider posts with (./client.ts): shares, the comment count, every reaction (like, love,
 * care…) as likes, and the post's views.
 *
 * Views: Meta retired the `post_impressions` family on 15 November 2025 in favour of `post_media_view` ("views").
 * Insights need the token to carry `read_insights` as well as `pages_read_engagement`; a token without it is refused
 * the whole request (code 10 or 200), after which this reader asks without insights, so the other three numbers
 * still come, and impressions stay absent rather than 0.
 *
 * Only Page posts are read: an update of an alert on Facebook is a comment under its post (./client.ts), whose id is
 * `<post>_<comment>` rather than `<page id>_<post>`, and whose reactions are the post's conversation, not its reach.
 */

import {
  createGraphReader,
  GraphReadError,
  type InsightValue,
  insightCounts,
} from '../../impact/graph-reads';
import { countOf, type EngagementCounts, type MetricsBatch, type MetricsReader } from '../../impact/model';
import type { Clock, SecretSource } from '../../ports';

export interface FacebookMetricsOptions {
  secrets: SecretSource;
  /** Graph's origin; the tests point it at a local fake. */
  baseUrl?: string | undefined;
  clock?: Clock | undefined;
}

/** Graph reads at most 50 ids a request. */
export const FACEBOOK_METRICS_BATCH = 50;
const BASE_FIELDS = 'shares,comments.limit(0).summary(total_count),reactions.limit(0).summary(total_count)';
const VIEWS_FIELD = 'insights.metric(post_media_view)';
/** "Permissions error" and "requires permission": the token cannot read insights. */
const PERMISSION_CODES = new Set([10, 200]);

interface PostFields {
  shares?: { count?: unknown };
  comments?: { summary?: { total_count?: unknown } };
  reactions?: { summary?: { total_count?: unknown } };
  insights?: { data?: InsightValue[] };
}

export function facebookCounts(post: PostFields, withViews: boolean): EngagementCounts {
  return {
    ...(withViews ? { impressions: insightCounts(post.insights?.data).get('post_media_view') } : {}),
    // Graph leaves `shares` out of a post nobody shared.
    reposts: countOf(post.shares?.count) ?? 0,
    replies: countOf(post.comments?.summary?.total_count),
    likes: countOf(post.reactions?.summary?.total_count),
  };
}

export function createFacebookMetricsReader(options: FacebookMetricsOptions): MetricsReader {
  const graph = createGraphReader({
    secrets: options.secrets,
    secretName: 'facebook',
    parse: ({ pageId, pageAccessToken }) =>
      pageId && pageAccessToken ? { pageId, pageAccessToken } : undefined,
    token: (c) => c.pageAccessToken,
    baseUrl: options.baseUrl,
    clock: options.clock,
  });
  let withViews = true;

  return {
    channel: 'facebook',
    batchSize: FACEBOOK_METRICS_BATCH,
    unavailable: graph.unavailable,

    async accepts(postId) {
      const { pageId } = await graph.credentials();
      return postId.startsWith(`${pageId}_`);
    },

    async read(postIds, signal) {
      const ids = [...new Set(postIds)];
      const batch: MetricsBatch = { counts: new Map(), gone: [] };
      if (ids.length === 0) return batch;
      if (ids.length > FACEBOOK_METRICS_BATCH) throw new RangeError('Graph reads at most 50 ids a request');
      const views = withViews;
      const fields = views ? `${BASE_FIELDS},${VIEWS_FIELD}` : BASE_FIELDS;
      let answer: Awaited<ReturnType<typeof graph.get<Record<string, PostFields>>>>;
      try {
        answer = await graph.get<Record<string, PostFields>>('', { ids: ids.join(','), fields }, signal);
      } catch (error) {
        // A deleted post fails the whole request, naming itself (803 "aliases … do not exist", or 100/33 "Object
        // with ID … does not exist"): those are gone; the others keep their last counts until their next turn.
        if (
          error instanceof GraphReadError &&
          (error.code === 803 || (error.code === 100 && error.subcode === 33))
        ) {
          const named = ids.filter((id) => error.message.includes(id));
          if (named.length > 0) return { ...batch, gone: named };
        }
        // The next read goes without insights; this one's failure is reported as it is.
        if (error instanceof GraphReadError && error.code !== undefined && PERMISSION_CODES.has(error.code))
          withViews = false;
        throw error;
      }
      for (const id of ids) {
        const post = answer.body[id];
        if (post && typeof post === 'object') batch.counts.set(id, facebookCounts(post, views));
      }
      return { ...batch, ...(answer.holdUntil ? { holdUntil: answer.holdUntil } : {}) };
    },
  };
}
