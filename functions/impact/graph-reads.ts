/**
 * One read of a Graph-style API (Facebook, Instagram, Threads) for the metrics readers, with what Meta says about its
 * limits turned into the poller's terms. Not GraphClient (functions/adapters/providers/graph.ts): that one turns
 * every failure into a delivery's ProviderError and keeps the usage headers of a successful answer to itself, and a
 * reader needs both the other way round.
 *
 * Meta's limits are a rolling hour, reported as percentages in `x-app-usage` (call_count, total_cputime,
 * total_time), `x-business-use-case-usage` and `x-page-usage`; at 100 % calls fail with code 4 (app), 17 (user),
 * 32 (page), 613, or 80001 to 80014 (business use case). A read over 90 % holds the network until the regain time
 * the header names (or a quarter of an hour); a throttled read holds it likewise. A refused token (code 190) makes
 * the next read re-read the secret (a token rotated under a warm function), once.
 */
import { GRAPH_API_VERSION, GRAPH_BASE_URL, retryAfterFromHeaders } from '../adapters/providers/graph';
import { type Clock, type SecretSource, systemClock } from '../ports';
import {
  countOf,
  type EngagementCounts,
  type MetricsBatch,
  type MetricsReader,
  RateLimitedError,
} from './model';

const THROTTLE_CODES: ReadonlySet<number> = new Set([4, 17, 32, 341, 613]);
const isThrottle = (code: number | undefined, status: number) =>
  status === 429 || (code !== undefined && (THROTTLE_CODES.has(code) || (code >= 80000 && code <= 80014)));
/** Usage at or over this percentage stops the reads until Meta says access is regained. */
export const GRAPH_USAGE_STOP_PERCENT = 90;
const DEFAULT_HOLD_MS = 15 * 60 * 1000;
const DEFAULT_TIMEOUT_MS = 10_000;

export interface GraphReaderOptions<C> {
  secrets: SecretSource;
  /** The secret's name (facebook, instagram, threads). */
  secretName: string;
  /** The credentials out of the secret's fields; undefined when one is missing. */
  parse(fields: Record<string, string>): C | undefined;
  token(credentials: C): string;
  baseUrl?: string | undefined;
  version?: string | undefined;
  timeoutMs?: number | undefined;
  clock?: Clock | undefined;
}

export interface GraphRead<T> {
  body: T;
  /** Usage near its ceiling: no read before this instant (epoch milliseconds). */
  holdUntil?: number | undefined;
}

/** A Graph error answer, its message already free of the token. */
export class GraphReadError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: number | undefined,
    readonly subcode: number | undefined,
  ) {
    super(message);
    this.name = 'GraphReadError';
  }
}

function highestUsagePercent(headers: Headers): number {
  let max = 0;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) for (const v of value) visit(v);
    else if (value && typeof value === 'object')
      for (const [key, v] of Object.entries(value)) {
        if (['call_count', 'total_cputime', 'total_time'].includes(key) && typeof v === 'number')
          max = Math.max(max, v);
        else visit(v);
      }
  };
  for (const name of ['x-app-usage', 'x-business-use-case-usage', 'x-page-usage']) {
    const raw = headers.get(name);
    if (!raw) continue;
    try {
      visit(JSON.parse(raw));
    } catch {
      // A header that cannot be read says nothing.
    }
  }
  return max;
}

export function createGraphReader<C>(options: GraphReaderOptions<C>) {
  const root = `${(options.baseUrl ?? GRAPH_BASE_URL).replace(/\/+$/, '')}/${options.version ?? GRAPH_API_VERSION}`;
  const clock = options.clock ?? systemClock;
  let refresh = false;

  async function credentials(): Promise<C> {
    let fields: Record<string, string> | undefined;
    try {
      fields = await options.secrets.get(options.secretName, refresh ? { refresh: true } : undefined);
    } catch {
      // The secret store's own error may quote what it read.
      throw new Error(`could not read the ${options.secretName} credentials`);
    }
    refresh = false;
    const parsed = fields ? options.parse(fields) : undefined;
    if (!parsed) throw new Error(`the ${options.secretName} credentials are missing or incomplete`);
    return parsed;
  }

  return {
    /** Why nothing can be read: undefined when the secret holds what a read needs. */
    async unavailable(): Promise<string | undefined> {
      const fields = await options.secrets.get(options.secretName).catch(() => undefined);
      if (!fields || Object.keys(fields).length === 0) return `no credentials for ${options.secretName}`;
      return options.parse(fields) ? undefined : `incomplete credentials for ${options.secretName}`;
    },

    credentials,

    /** One GET of `path` (empty for the root, as `?ids=` asks) with `params`; the token goes in a header. */
    async get<T>(path: string, params: Record<string, string>, signal?: AbortSignal): Promise<GraphRead<T>> {
      const c = await credentials();
      const token = options.token(c);
      const url = `${root}/${path.split('/').map(encodeURIComponent).join('/')}?${new URLSearchParams(params)}`;
      const safe = (text: string) => (token ? text.split(token).join('[redacted]') : text);
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
          signal: signal ?? AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
          redirect: 'error',
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: unknown } }).cause?.code;
        throw new Error(
          safe(`${options.secretName} not reached: ${String(cause ?? (error as Error).message)}`),
        );
      }
      const body = (await response.json().catch(() => undefined)) as
        | { error?: { message?: string; code?: number; error_subcode?: number } }
        | undefined;
      const now = clock.now().getTime();
      const error = body?.error;
      if (!response.ok || error) {
        const code = error?.code;
        if (isThrottle(code, response.status))
          throw new RateLimitedError(now + (retryAfterFromHeaders(response.headers) ?? DEFAULT_HOLD_MS));
        if (code === 190) refresh = true;
        const ref = [code !== undefined ? `code ${code}` : `HTTP ${response.status}`]
          .concat(error?.error_subcode !== undefined ? [`subcode ${error.error_subcode}`] : [])
          .join(', ');
        throw new GraphReadError(
          safe(`${options.secretName} ${error?.message ?? 'error'} (${ref})`),
          response.status,
          code,
          error?.error_subcode,
        );
      }
      if (!body || typeof body !== 'object')
        throw new Error(
          `${options.secretName} answered HTTP ${response.status} with a body that is not JSON`,
        );
      const usage = highestUsagePercent(response.headers);
      return {
        body: body as T,
        ...(usage >= GRAPH_USAGE_STOP_PERCENT
          ? { holdUntil: now + (retryAfterFromHeaders(response.headers) ?? DEFAULT_HOLD_MS) }
          : {}),
      };
    },
  };
}

export type GraphReader = ReturnType<typeof createGraphReader>;

/** An insights metric as Graph gives it: `values[0].value`, or `total_value.value` in newer shapes. */
export interface InsightValue {
  name?: unknown;
  values?: { value?: unknown }[];
  total_value?: { value?: unknown };
}

/** The named metrics of an insights answer, by name. */
export function insightCounts(data: InsightValue[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const metric of data ?? []) {
    if (typeof metric.name !== 'string') continue;
    const value = countOf(metric.total_value?.value ?? metric.values?.[0]?.value);
    if (value !== undefined) out.set(metric.name, value);
  }
  return out;
}

/**
 * A reader of one media's insights per request (`GET /{media-id}/insights?metric=…`: Instagram and Threads take one
 * media at a time), turning the metrics asked for into the four counts. A media that is gone answers code 100
 * subcode 33 and is not asked for again.
 */
export function mediaInsightsReader(options: {
  channel: MetricsReader['channel'];
  graph: GraphReader;
  metrics: string;
  counts: (values: Map<string, number>) => EngagementCounts;
}): MetricsReader {
  const { channel, graph } = options;
  return {
    channel,
    batchSize: 1,
    unavailable: graph.unavailable,

    async read(postIds, signal) {
      const batch: MetricsBatch = { counts: new Map(), gone: [] };
      const [mediaId] = postIds;
      if (!mediaId) return batch;
      if (postIds.length > 1) throw new RangeError(`${channel} reads one media per request`);
      if (!/^\d{1,25}$/.test(mediaId)) return { ...batch, gone: [mediaId] };
      try {
        const answer = await graph.get<{ data?: InsightValue[] }>(
          `${mediaId}/insights`,
          { metric: options.metrics },
          signal,
        );
        batch.counts.set(mediaId, options.counts(insightCounts(answer.body.data)));
        return { ...batch, ...(answer.holdUntil ? { holdUntil: answer.holdUntil } : {}) };
      } catch (error) {
        if (error instanceof GraphReadError && error.code === 100 && error.subcode === 33)
          return { ...batch, gone: [mediaId] };
        throw error;
      }
    },
  };
}
