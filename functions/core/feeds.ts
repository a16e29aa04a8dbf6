/**
 * The media feeds, pure: which alerts a public feed shows, and the same list written as an Atom CAP index
 * (RFC 4287; each entry links to its CAP), RSS 2.0 and JSON Feed 1.1. Every value is escaped for its format;
 * text goes out as text (never HTML), so markup in a headline stays inert, and characters no reader can take
 * (in text stored before the API refused them) go out as U+FFFD.
 */
import { safeText } from '../../schemas/text';
import { CAP_NAMESPACE, capTime, escapeXml } from './cap';
import type { StoredVersion } from './model';

export const ATOM_MEDIA_TYPE = 'application/atom+xml';
export const RSS_MEDIA_TYPE = 'application/rss+xml';
export const JSON_FEED_MEDIA_TYPE = 'application/feed+json';

/** How long a cancellation stays in the feeds, so followers see that the alert was called off. */
export const CANCELLED_VISIBLE_MS = 24 * 60 * 60 * 1000;

export interface FeedEntry {
  alertId: string;
  version: StoredVersion;
  /** Where the CAP XML of the current version is. */
  capUrl: string;
  /** The alert's public page (or the officer's own link). */
  pageUrl: string;
}

export interface FeedMeta {
  title: string;
  /** The agency's public site (Herald's base URL). */
  homeUrl: string;
  /** This feed's own URL. */
  selfUrl: string;
  agencyName: string;
  /** When the feed last changed: the newest entry's time, or a fixed time when empty. */
  updated: string;
}

/**
 * Whether the current released version belongs in a public feed: Actual only; not once it has expired; a
 * cancellation for CANCELLED_VISIBLE_MS after it was sent.
 */
export function inPublicFeed(current: StoredVersion, now: Date): boolean {
  if (current.content.status !== 'Actual') return false;
  if (current.msgType === 'Cancel') return now.getTime() - Date.parse(current.sent) < CANCELLED_VISIBLE_MS;
  return !current.content.expires || Date.parse(current.content.expires) > now.getTime();
}

const titleOf = (v: StoredVersion) =>
  v.msgType === 'Cancel' ? `Cancelled: ${v.content.headline}` : v.content.headline;

const summaryOf = (v: StoredVersion) =>
  v.msgType === 'Cancel' && v.note ? `${v.note}\n\n${v.content.description}` : v.content.description;

const isoOf = (time: string) => new Date(time).toISOString();

/**
 * The version's CAP times as a CAP index carries them beside each entry, so an aggregator can sort and drop entries
 * without fetching every CAP: in CAP's own form (UTC, "-00:00", whole seconds), the same strings as the CAP itself.
 * `effective` is always said: CAP defines an absent one as the message's `sent`, and an index reader should not
 * have to know that rule to learn from when an entry applies.
 */
export function feedTimes(v: StoredVersion): { effective: string; onset?: string; expires?: string } {
  const { effective, onset, expires } = v.content;
  return {
    effective: effective ? capTime(effective) : capTime(v.sent),
    ...(onset ? { onset: capTime(onset) } : {}),
    ...(expires ? { expires: capTime(expires) } : {}),
  };
}

/** `<cap:effective>`, `<cap:onset>`, `<cap:expires>` of an entry, in the CAP namespace the feed declares as `cap`. */
function capTimeElements(v: StoredVersion, indent: string): string {
  return Object.entries(feedTimes(v))
    .map(([name, value]) => `${indent}<cap:${name}>${escapeXml(value)}</cap:${name}>\n`)
    .join('');
}

/**
 * Atom as a CAP index feed (the form Google Public Alerts and aggregators follow): each entry links to its CAP and
 * carries its times as `cap:` elements, as the US National Weather Service's CAP index feeds do.
 */
export function atomFeed(meta: FeedMeta, entries: readonly FeedEntry[]): string {
  const e = escapeXml;
  const items = entries.map(({ alertId, version: v, capUrl, pageUrl }) =>
    [
      '  <entry>\n',
      `    <id>${e(`urn:herald:alert:${alertId}:${v.version}`)}</id>\n`,
      `    <title type="text">${e(titleOf(v))}</title>\n`,
      `    <updated>${isoOf(v.sent)}</updated>\n`,
      `    <published>${isoOf(v.sent)}</published>\n`,
      `    <link rel="alternate" type="application/cap+xml" href="${e(capUrl)}"/>\n`,
      `    <link rel="related" type="text/html" href="${e(pageUrl)}"/>\n`,
      `    <category term="${e(v.content.category)}" label="${e(v.content.event)}"/>\n`,
      `    <summary type="text">${e(summaryOf(v))}</summary>\n`,
      capTimeElements(v, '    '),
      '  </entry>\n',
    ].join(''),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<feed xmlns="http://www.w3.org/2005/Atom" xmlns:cap="${CAP_NAMESPACE}" xml:lang="${e(entries[0]?.version.content.language ?? 'en')}">\n`,
    `  <id>${e(meta.selfUrl)}</id>\n`,
    `  <title type="text">${e(meta.title)}</title>\n`,
    `  <updated>${new Date(meta.updated).toISOString()}</updated>\n`,
    `  <author><name>${e(meta.agencyName)}</name><uri>${e(meta.homeUrl)}</uri></author>\n`,
    `  <link rel="self" type="${ATOM_MEDIA_TYPE}" href="${e(meta.selfUrl)}"/>\n`,
    `  <link rel="alternate" type="text/html" href="${e(meta.homeUrl)}"/>\n`,
    '  <generator>Herald</generator>\n',
    ...items,
    '</feed>\n',
  ].join('');
}

/** RFC 822 dates, as RSS 2.0 asks. */
const rfc822 = (iso: string) => new Date(iso).toUTCString();

/**
 * RSS 2.0: the CAP as each item's enclosure, and the same `cap:` time elements as the Atom index (RSS takes elements
 * of other namespaces in an item), so the description stays the officer's own text.
 */
export function rssFeed(meta: FeedMeta, entries: readonly FeedEntry[]): string {
  const e = escapeXml;
  const items = entries.map(({ alertId, version: v, capUrl, pageUrl }) =>
    [
      '    <item>\n',
      `      <title>${e(titleOf(v))}</title>\n`,
      `      <link>${e(pageUrl)}</link>\n`,
      `      <description>${e(summaryOf(v))}</description>\n`,
      `      <category>${e(v.content.category)}</category>\n`,
      `      <guid isPermaLink="false">${e(`urn:herald:alert:${alertId}:${v.version}`)}</guid>\n`,
      `      <pubDate>${rfc822(v.sent)}</pubDate>\n`,
      `      <enclosure url="${e(capUrl)}" length="0" type="application/cap+xml"/>\n`,
      capTimeElements(v, '      '),
      '    </item>\n',
    ].join(''),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:cap="${CAP_NAMESPACE}">\n`,
    '  <channel>\n',
    `    <title>${e(meta.title)}</title>\n`,
    `    <link>${e(meta.homeUrl)}</link>\n`,
    `    <description>${e(`Public alerts from ${meta.agencyName}`)}</description>\n`,
    `    <atom:link rel="self" type="${RSS_MEDIA_TYPE}" href="${e(meta.selfUrl)}"/>\n`,
    `    <lastBuildDate>${rfc822(meta.updated)}</lastBuildDate>\n`,
    '    <generator>Herald</generator>\n',
    '    <ttl>1</ttl>\n',
    ...items,
    '  </channel>\n',
    '</rss>\n',
  ].join('');
}

/**
 * JSON Feed 1.1, with the CAP fields a reader sorts and filters by (times included) in the `_cap` extension
 * object, as JSON Feed asks extensions to be named. JSON.stringify does the escaping, and the text goes in
 * content_text, never content_html. Every
 * string is made safe: JSON would carry a control or a lone surrogate as an escape, but the readers that turn a
 * feed into XML or HTML could not.
 */
export function jsonFeed(meta: FeedMeta, entries: readonly FeedEntry[]): string {
  return JSON.stringify(jsonFeedOf(meta, entries), (_key, value: unknown) =>
    typeof value === 'string' ? safeText(value) : value,
  );
}

function jsonFeedOf(meta: FeedMeta, entries: readonly FeedEntry[]) {
  return {
    version: 'https://jsonfeed.org/version/1.1',
    title: meta.title,
    home_page_url: meta.homeUrl,
    feed_url: meta.selfUrl,
    authors: [{ name: meta.agencyName, url: meta.homeUrl }],
    items: entries.map(({ alertId, version: v, capUrl, pageUrl }) => ({
      id: `urn:herald:alert:${alertId}:${v.version}`,
      url: pageUrl,
      title: titleOf(v),
      content_text: summaryOf(v),
      date_published: isoOf(v.sent),
      date_modified: isoOf(v.sent),
      language: v.content.language,
      tags: [v.content.category, v.msgType],
      attachments: [{ url: capUrl, mime_type: 'application/cap+xml', title: 'CAP 1.2' }],
      ...(v.content.image ? { image: v.content.image.url } : {}),
      _cap: {
        msgType: v.msgType,
        severity: v.content.severity,
        urgency: v.content.urgency,
        ...feedTimes(v),
      },
    })),
  };
}
