/**
 * Threads engagement: `GET /{media-id}/insights?metric=views,likes,replies,reposts,quotes`, one request per post
 * (media insights take one media), with the token the client posts with (./client.ts; it needs the
 * `threads_manage_insights` permission). Reposts are reposts plus quotes. Each version of an alert is a post of its
 * own (a reply to the one before), so each is read. A media that is gone answers code 100 subcode 33 and is not asked again.
 */

import { createGraphReader, mediaInsightsReader } from '../../impact/graph-reads';
import { type MetricsReader, sumOf } from '../../impact/model';
import type { Clock, SecretSource } from '../../ports';
import { THREADS_API_VERSION, THREADS_BASE_URL, THREADS_SECRET_NAME } from './replies';

export interface ThreadsMetricsOptions {
  secrets: SecretSource;
  baseUrl?: string | undefined;
  clock?: Clock | undefined;
}

export const THREADS_METRICS = 'views,likes,replies,reposts,quotes';

export function createThreadsMetricsReader(options: ThreadsMetricsOptions): MetricsReader {
  const graph = createGraphReader({
    secrets: options.secrets,
    secretName: THREADS_SECRET_NAME,
    parse: ({ accessToken }) => (accessToken ? { accessToken } : undefined),
    token: (c) => c.accessToken,
    baseUrl: options.baseUrl ?? THREADS_BASE_URL,
    version: THREADS_API_VERSION,
    clock: options.clock,
  });
  return mediaInsightsReader({
    channel: 'threads',
    graph,
    metrics: THREADS_METRICS,
    counts: (values) => ({
      impressions: values.get('views'),
      reposts: sumOf(values.get('reposts'), values.get('quotes')),
      replies: values.get('replies'),
      likes: values.get('likes'),
    }),
  });
}
