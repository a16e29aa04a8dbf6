/**
 * Counting clicks and page views without tracking anyone (issue 16; the link format is functions/core/links.ts).
 *
 * - GET /a/{id}/{code}: a channel's link. One click for (alert, channel, UTC day), then 302 to the officer's own `web`
 *   link when the alert has one (only that stored URL: the path chooses nothing but a known alert and a known code, so
 *   this is no open redirect), else to the alert's page with `?from=<code>`.
 * - GET /alerts/{id}/seen.gif: a 1×1 transparent image the alert page carries. The page itself is cached by the CDN
 *   (keyed on `lang` and `from`, lib/public-site.ts), so the origin never sees most page requests; the image is never
 *   cached, so each page shown loads it once, and that load is one view for (alert, channel or `direct`, UTC day).
 *
 * Each count is one atomic ADD on a counter that holds only a number (impact-store.ts). Neither route sets a cookie,
 * and nothing of the request is stored: not the address, not the user agent, not the referrer, not the time finer than
 * the day. The user agent is read, and dropped, only to leave link-preview robots out: X, Facebook, Telegram and the
 * like fetch every posted link to draw its card, which is no reader's click. What is not counted, then: a reader whose
 * browser loads no images (text browsers, images blocked), and whatever a CDN or browser cache answers without asking.
 * Test and Exercise alerts have no public page and count nothing.
 */
import type { ApiDeps, OperationInput } from '../api/alerts';
import type { ApiResult } from '../api/http';
import { header } from '../api/http';
import { impactStoreOf } from '../core/impact';
import { CHANNEL_BY_LINK_CODE, channelOfLinkCode, DIRECT_SOURCE, utcDay } from '../core/links';
import { publicVersions } from './alert-routes';
import { contextFor, notFoundPage } from './respond';

/** The smallest transparent GIF (1×1, 43 bytes). */
const PIXEL = 'R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

/** Every answer here is fresh each time and personal to no one: never stored by a browser or a cache. */
const NEVER_CACHED = { 'cache-control': 'no-store, max-age=0' };

/**
 * Robots that fetch a link to show a preview of it, or to index it: their fetch is no reader's click. Matched on the
 * words their user agents say (Twitterbot, facebookexternalhit, TelegramBot, WhatsApp, Slackbot, Discordbot…).
 */
const ROBOT =
  /bot\/|telegrambot|slackbot|crawler|spider|preview|facebookexternalhit|facebookcatalog|whatsapp|embedly|slurp/i;

export const isRobot = (userAgent: string | undefined): boolean =>
  userAgent !== undefined && ROBOT.test(userAgent);

export async function alertChannelLink(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const alertId = input.params.id ?? '';
  const released = await publicVersions(deps, alertId);
  if (!released) return notFoundPage(contextFor(deps, input.event));
  const code = input.params.code ?? '';
  const channel = channelOfLinkCode(code);
  if (channel && !isRobot(header(input.event, 'user-agent')))
    await impactStoreOf(deps.store).countClick(alertId, channel, utcDay(deps.clock.now()));
  const page = `${deps.config.publicBaseUrl}/alerts/${encodeURIComponent(alertId)}`;
  // The officer's link as stored with the current version; a code that names no channel still finds the alert.
  const web = released.at(-1)?.content.web;
  const location = web ?? (channel ? `${page}?from=${encodeURIComponent(code)}` : page);
  return { statusCode: 302, headers: { location, ...NEVER_CACHED }, body: '' };
}

export async function alertSeen(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const alertId = input.params.id ?? '';
  if (!(await publicVersions(deps, alertId))) return notFoundPage(contextFor(deps, input.event));
  if (!isRobot(header(input.event, 'user-agent'))) {
    const source = channelOfLinkCode(input.event.queryStringParameters?.from) ?? DIRECT_SOURCE;
    await impactStoreOf(deps.store).countView(alertId, source, utcDay(deps.clock.now()));
  }
  return {
    statusCode: 200,
    headers: { 'content-type': 'image/gif', 'x-content-type-options': 'nosniff', ...NEVER_CACHED },
    body: PIXEL,
    isBase64Encoded: true,
  };
}

/**
 * The alert page's view image, for a page reached through `from` (kept only when it is a channel's code, as the CDN
 * keeps it, so a made-up `from` adds no variant of the page): a relative URL, which the page's CSP allows (img-src
 * 'self').
 */
export function viewImage(alertId: string, from: string | undefined): string {
  const code = from !== undefined && CHANNEL_BY_LINK_CODE.has(from) ? from : undefined;
  const src = `/alerts/${encodeURIComponent(alertId)}/seen.gif${code ? `?from=${code}` : ''}`;
  return `<img class="seen" src="${src}" alt="" width="1" height="1">`;
}
