/**
 * GET /alerts: the alerts in force, newest first (the same entries the feeds carry), each as a card in the page's
 * language when the alert has it, over one map of all their areas with the same areas as a list.
 */
import type { StoredVersion } from '../../core/model';
import { areaNames, escapeHtml, localise, localTime, type RenderConfig } from '../../core/render';
import type { ZoneCatalog } from '../../core/zones';
import { href, type SiteContext } from '../layout';
import { alertsMap } from './map-section';
import { withZoneNames } from './zone-names';

export function alertsBody(
  ctx: SiteContext,
  current: readonly StoredVersion[],
  config: RenderConfig & { timeZone: string },
  zones: ZoneCatalog,
): string {
  const t = ctx.text.alerts;
  const cards = current.map((v) => {
    const l = localise(withZoneNames(v, zones, ctx.lang), config, ctx.lang);
    const c = l.content;
    const areas = areaNames(c);
    return [
      `<li class="card sev-${escapeHtml(c.severity)}" lang="${escapeHtml(c.language)}">`,
      `<p class="alert-meta">${escapeHtml(`${c.event} · ${l.words.severity[c.severity]}`)}</p>`,
      `<h2><a href="${escapeHtml(href(ctx, `/alerts/${encodeURIComponent(v.alertId)}`))}">${escapeHtml(`${l.prefix}${c.headline}`)}</a></h2>`,
      `<p class="muted" lang="${ctx.lang}">${escapeHtml(t.issued)} <time datetime="${escapeHtml(v.sent)}">${escapeHtml(localTime(v.sent, config.timeZone, ctx.lang))}</time></p>`,
      areas.length ? `<p>${escapeHtml(`${l.words.area}: ${areas.join(', ')}`)}</p>` : '',
      l.times ? `<p>${escapeHtml(`${l.words.when}: ${l.times}`)}</p>` : '',
      '</li>',
    ].join('');
  });
  return [
    `<h1>${escapeHtml(t.title)}</h1>`,
    `<p>${escapeHtml(t.intro(ctx.agencyName))}</p>`,
    current.length === 0
      ? `<p class="notice">${escapeHtml(t.none)}</p>`
      : alertsMap(ctx, current, zones, t.mapTitle, 'all'),
    current.length ? `<ul class="cards">${cards.join('')}</ul>` : '',
    `<p><a class="button" href="${escapeHtml(href(ctx, '/subscribe'))}">${escapeHtml(t.getAlerts)}</a></p>`,
  ].join('');
}
