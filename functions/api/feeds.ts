/**
 * GET /v1/feed.atom, /v1/feed.rss, /v1/feed.json: the public Actual alerts that have not expired (and
 * cancellations for a day), newest first, for media and aggregators. Public and cacheable: a strong ETag of the
 * body answers If-None-Match with 304, and a short max-age lets a CDN absorb the polling.
 */

import {
  ATOM_MEDIA_TYPE,
  atomFeed,
  type FeedEntry,
  type FeedMeta,
  inPublicFeed,
  JSON_FEED_MEDIA_TYPE,
  jsonFeed,
  RSS_MEDIA_TYPE,
  rssFeed,
} from '../core/feeds';
import { isReleased, type StoredVersion } from '../core/model';
import { alertLink } from '../core/render';
import { publishedVersions } from '../core/schedule';
import type { ApiDeps, OperationInput } from './alerts';
import { bodyEtag, capUrl } from './cap';
import { type ApiResult, publicRead } from './http';

/** How many alerts a feed looks at (newest first); alerts older than these are long out of any feed. */
const SCAN_LIMIT = 100;
const FEED_CACHE_CONTROL = 'public, max-age=30, stale-while-revalidate=30';

/** The alerts in force, newest first: the feeds' entries, and the residents' site's current alerts. */
export async function feedEntries(deps: ApiDeps): Promise<FeedEntry[]> {
  const now = deps.clock.now();
  const page = await deps.store.listAlerts({ limit: SCAN_LIMIT });
  const entries: FeedEntry[] = [];
  for (const { head, latest } of page.items) {
    // What the public is reading: a version held or scheduled has not gone out, and a timeline's steps go out by time.
    // An alert whose only version is its first, released, is its own answer; anything else needs its versions.
    const current: StoredVersion | undefined =
      latest.version === 1 && isReleased(latest)
        ? latest
        : publishedVersions((await deps.store.getAlert(head.alertId))?.versions ?? []).at(-1);
    if (!current || !inPublicFeed(current, now)) continue;
    entries.push({
      alertId: current.alertId,
      version: current,
      capUrl: capUrl(deps.config.publicBaseUrl, current.alertId),
      pageUrl: alertLink(deps.config, current.alertId, current.content),
    });
  }
  return entries.sort((a, b) => Date.parse(b.version.sent) - Date.parse(a.version.sent));
}

function meta(deps: ApiDeps, entries: FeedEntry[], file: string): FeedMeta {
  return {
    title: `${deps.config.agencyName}: public alerts`,
    homeUrl: deps.config.publicBaseUrl,
    selfUrl: `${deps.config.publicBaseUrl}/v1/${file}`,
    agencyName: deps.config.agencyName,
    // An empty feed has not changed since the epoch as far as a reader can tell; that keeps its body (and ETag) stable.
    updated: entries[0] ? entries[0].version.sent : '1970-01-01T00:00:00Z',
  };
}

function feedResult(input: OperationInput, body: string, mediaType: string): ApiResult {
  return publicRead(input.event, {
    body,
    etag: bodyEtag(body),
    contentType: `${mediaType}; charset=utf-8`,
    cacheControl: FEED_CACHE_CONTROL,
  });
}

export async function atomFeedOp(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const entries = await feedEntries(deps);
  return feedResult(input, atomFeed(meta(deps, entries, 'feed.atom'), entries), ATOM_MEDIA_TYPE);
}

export async function rssFeedOp(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const entries = await feedEntries(deps);
  return feedResult(input, rssFeed(meta(deps, entries, 'feed.rss'), entries), RSS_MEDIA_TYPE);
}

export async function jsonFeedOp(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const entries = await feedEntries(deps);
  return feedResult(input, jsonFeed(meta(deps, entries, 'feed.json'), entries), JSON_FEED_MEDIA_TYPE);
}
