/**
 * Links that say which channel a reader came from, without saying who the reader is.
 *
 * Every channel's message links to `<publicBaseUrl>/a/<alertId>/<code>`, the code being the channel's `linkCode`
 * (functions/channels/<name>/channel.ts): `/a/…/s` in an SMS, `/a/…/x` on X. That route (functions/site/counters.ts)
 * adds one to the alert's clicks for that channel and day and answers 302: to the officer's own `web` link when the
 * alert has one, else to Herald's page for the alert with `?from=<code>`, so that the page's views can be told apart
 * by channel too. The link is short on purpose (SMS pays for every character) and the same in every language: the
 * page picks its language from the reader's browser, as it would for the plain page's address.
 *
 * The feeds and the CAP XML keep the alert's canonical link (the officer's `web`, or the page): they are records other
 * systems copy and republish, where a counting redirect would outlive its purpose and count an article's readers as
 * Herald's. Their readers' visits count as `direct` page views.
 */
import { CHANNEL_LIST, type Channel } from '../channels/list';

/** Page views that came from no channel's link (typed, bookmarked, a feed, a shared page address). */
export const DIRECT_SOURCE = 'direct';
export type ViewSource = Channel | typeof DIRECT_SOURCE;

/** The channels that carry a counting link, by their code. */
export const CHANNEL_BY_LINK_CODE: ReadonlyMap<string, Channel> = new Map(
  CHANNEL_LIST.flatMap((c) => ('linkCode' in c && c.linkCode ? [[c.linkCode, c.name] as const] : [])),
);

/** Each channel's code, by channel (absent for a channel without one). */
export const LINK_CODE_OF: Readonly<Partial<Record<Channel, string>>> = Object.fromEntries(
  [...CHANNEL_BY_LINK_CODE].map(([code, channel]) => [channel, code]),
);

/** Every code, for the CDN's viewer-request function, which keeps `from` to these (lib/public-site.ts). */
export const LINK_CODES: readonly string[] = [...CHANNEL_BY_LINK_CODE.keys()];

/** The channel a code names; undefined for anything else (a code is compared exactly: no case folding). */
export const channelOfLinkCode = (code: string | undefined): Channel | undefined =>
  code === undefined ? undefined : CHANNEL_BY_LINK_CODE.get(code);

/** The counting link a channel carries, or undefined when the channel has no code. */
export function channelLink(publicBaseUrl: string, alertId: string, channel: Channel): string | undefined {
  const code = LINK_CODE_OF[channel];
  return code ? `${publicBaseUrl}/a/${encodeURIComponent(alertId)}/${code}` : undefined;
}

/** A UTC day, `YYYY-MM-DD`: what clicks and views are counted per (never a finer time, which could single a reader out). */
export const utcDay = (at: Date): string => at.toISOString().slice(0, 10);
