/**
 * The map of one or more alerts on a page: the agency's zones, the zones the alerts name highlighted, their
 * polygons and circles drawn over them, and the same areas as a list right after it.
 */
import type { StoredVersion } from '../../core/model';
import { escapeHtml, inLanguage } from '../../core/render';
import type { ZoneCatalog } from '../../core/zones';
import type { SiteContext } from '../layout';
import { alertMapAreas, type MapArea, renderAreaList, renderMap, zoneGeometry } from '../map';

export function alertsMap(
  ctx: SiteContext,
  versions: readonly StoredVersion[],
  zones: ZoneCatalog,
  title: string,
  idPrefix: string,
): string {
  const areas: MapArea[] = [];
  const highlight = new Set<string>();
  for (const v of versions) {
    const content = inLanguage(v.content, ctx.lang);
    const drawn = alertMapAreas(content.areas, (id) => zones.nameIn(id, ctx.lang));
    areas.push(...drawn.areas);
    for (const id of drawn.highlight) highlight.add(id);
  }
  const input = {
    zones: zoneGeometry(zones.zones, ctx.lang),
    areas,
    highlight: [...highlight],
    title,
    idPrefix,
    tiles: ctx.mapTiles,
  };
  const list = renderAreaList(input, { within: (km, place) => ctx.text.map.within(km, place) });
  return `<figure class="map">${renderMap(input)}<figcaption>${escapeHtml(ctx.text.alerts.listTitle)}:${list}</figcaption></figure>`;
}

/** The zones alone, for sign-up and manage: where each zone a resident may choose lies. */
export function zonesMap(ctx: SiteContext, zones: ZoneCatalog): string {
  const map = renderMap({
    zones: zoneGeometry(zones.zones, ctx.lang),
    title: ctx.text.subscribe.mapTitle,
    idPrefix: 'zones',
    tiles: ctx.mapTiles,
  });
  return `<div class="map">${map}</div>`;
}
