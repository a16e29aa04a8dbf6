/**
 * Maps for the public site without a tile server: the zones and an alert's areas drawn as one inline SVG, and
 * the same areas as a list, which is what screen readers and people without the picture read. No tiles means
 * no third party learns who looked at which alert, and the page stays within its byte budget. An agency may still
 * configure a tile server (HERALD_MAP_TILES); only then are its tiles drawn under the zones (./tiles.ts).
 *
 * Everything here is pure. Colours come from classes (MAP_CSS) or presentation attributes, never `style=""`:
 * the site's CSP has no 'unsafe-inline', which covers style attributes too.
 */
import type { Area } from '../../schemas/alert';
import { escapeHtml } from '../core/render/article';
import type { Zone } from '../ports';
import type { MapTiles } from '../shared/config';
import { placeTiles } from './tiles';

export interface LatLon {
  lat: number;
  lon: number;
}

export interface MapZone {
  id: string;
  name: string;
  /** A closed or open ring; undefined when the agency has not drawn the zone, which is then not drawn. */
  polygon?: readonly LatLon[] | undefined;
}

export interface MapCircle {
  center: LatLon;
  radiusKm: number;
}

/** One shape of an alert, labelled as the alert names it (areaDesc, else the zone's name). */
export interface MapArea {
  label: string;
  polygon?: readonly LatLon[] | undefined;
  circle?: MapCircle | undefined;
}

export interface MapInput {
  zones: readonly MapZone[];
  areas?: readonly MapArea[] | undefined;
  /** Zone ids drawn as under the alert (hatched, heavier outline). */
  highlight?: readonly string[] | undefined;
  /** The picture's accessible name. */
  title: string;
  /** Makes the SVG's ids unique when two maps share a page: letters, digits, `-` and `_`. */
  idPrefix: string;
  /** The agency's tile server: its tiles go under the zones, its attribution in the corner. Unset: no tiles. */
  tiles?: MapTiles | undefined;
}

export interface AreaListWords {
  /** "within 2 km of 41.3800, 2.1700": km as a number so the page can format it for its language. */
  within: (km: number, place: string) => string;
}

/**
 * The areas under an alert are hatched as well as tinted, so they do not rely on colour alone; the hatch's
 * colours live here and not on the pattern, so the site can restyle them. Hatched shapes get their fill from a
 * presentation attribute naming the pattern, which any CSS `fill` would override: hence no `fill` on
 * `.map-area` or `.map-zone.is-hit`. The attributes in the SVG are fallbacks for when this sheet is absent.
 */
export const MAP_CSS = [
  '.map{display:block;width:100%;height:auto;max-width:40rem}',
  '.map-zone{stroke:#5b6770;stroke-width:1;stroke-linejoin:round}',
  '.map-zone:not(.is-hit){fill:#eef1f4}',
  '.map-zone.is-hit{stroke:#8a2c0d;stroke-width:2.5}',
  '.map-area{stroke:#8a2c0d;stroke-width:2.5;stroke-linejoin:round}',
  '.map-hatch{stroke:#b4380f;stroke-width:2}',
  '.map-hatch-bg{fill:#f08c5a;fill-opacity:.25}',
  '.map-label{font:12px/1 system-ui,sans-serif;fill:#1f2933;text-anchor:middle;pointer-events:none}',
  // A light halo keeps a name legible where it crosses a hatch or an outline.
  '.map-label text{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}',
  // Over tiles, a zone's tint must let the streets show through; hatched zones are see-through already.
  '.map-has-tiles .map-zone:not(.is-hit){fill-opacity:.35}',
  // The attribution is the provider's licence term: legible on any tile, like the labels.
  '.map-attribution{font:10px/1 system-ui,sans-serif;fill:#1f2933;text-anchor:end;pointer-events:none;' +
    'paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}',
].join('\n');

/** The viewBox's longer side, in user units: labels are sized against it. */
const SIZE = 400;
const MARGIN = 8;
/** Kilometres per degree of latitude on a 6371 km sphere, the same sphere the projection assumes. */
const KM_PER_DEGREE = (6371 * Math.PI) / 180;
/** The span a single point or a very small area is shown with, so the box never has zero size. */
const MIN_SPAN_DEGREES = 0.005;
const PREFIX = /^[A-Za-z][\w-]{0,39}$/;
const DECIMAL_PAIR = /^-?\d+(?:\.\d+)?,-?\d+(?:\.\d+)?$/;

/** One decimal is a fraction of a pixel at any size the map is shown at, and keeps the path data short. */
const num = (n: number): string => String(Math.round(n * 10) / 10);

/** Ray casting: whether a point lies inside a ring (closed or not). Points exactly on an edge may go either way. */
export function pointInPolygon(point: LatLon, polygon: readonly LatLon[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const a = polygon[i]!;
    const b = polygon[j]!;
    if (a.lat > point.lat !== b.lat > point.lat) {
      const lonAtLat = ((b.lon - a.lon) * (point.lat - a.lat)) / (b.lat - a.lat) + a.lon;
      if (point.lon < lonAtLat) inside = !inside;
    }
  }
  return inside;
}

/**
 * A zone's polygon from seed/zones.json: "lat,lon" pairs, one per element, though a single CAP-style string
 * ("lat,lon lat,lon …") reads the same. Anything unreadable leaves the zone undrawn rather than drawn wrong.
 */
export function parseZonePolygon(polygon: readonly string[] | undefined): LatLon[] | undefined {
  if (!polygon) return undefined;
  const pairs = polygon.join(' ').trim().split(/\s+/);
  const points: LatLon[] = [];
  for (const pair of pairs) {
    if (!DECIMAL_PAIR.test(pair)) return undefined;
    const [lat, lon] = pair.split(',').map(Number) as [number, number];
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return undefined;
    points.push({ lat, lon });
  }
  return points.length >= 3 ? points : undefined;
}

/** The zone catalog (`deps.zones.zones`) as the map draws it, named in the page's language when it can be. */
export function zoneGeometry(zones: readonly Zone[], language?: string): MapZone[] {
  const tag = language?.toLowerCase().split('-')[0];
  return zones.map((z) => ({
    id: z.id,
    name: (tag && z.names?.[tag]) || z.name,
    polygon: parseZonePolygon(z.polygon),
  }));
}

/**
 * An alert's stored areas as the map's input: areas that name a zone highlight it; polygons and circles are
 * drawn over the zones, labelled with the areaDesc, else the zone's name.
 */
export function alertMapAreas(
  areas: readonly Area[],
  zoneName: (id: string) => string = (id) => id,
): { areas: MapArea[]; highlight: string[] } {
  const highlight: string[] = [];
  const shapes: MapArea[] = [];
  for (const area of areas) {
    if (area.zone && !highlight.includes(area.zone)) highlight.push(area.zone);
    if (!area.polygon && !area.circle) continue;
    const label = area.areaDesc ?? (area.zone ? zoneName(area.zone) : '');
    shapes.push({
      label,
      polygon: area.polygon?.map(([lat, lon]) => ({ lat, lon })),
      circle: area.circle
        ? {
            center: { lat: area.circle.center[0], lon: area.circle.center[1] },
            radiusKm: area.circle.radiusKm,
          }
        : undefined,
    });
  }
  return { areas: shapes, highlight };
}

interface Box {
  south: number;
  north: number;
  west: number;
  east: number;
}

const circleDegrees = (c: MapCircle, cosLat: number) => ({
  lat: c.radiusKm / KM_PER_DEGREE,
  lon: c.radiusKm / KM_PER_DEGREE / Math.max(cosLat, 0.01),
});

function boundingBox(zones: readonly MapZone[], areas: readonly MapArea[]): Box | undefined {
  const box: Box = { south: Infinity, north: -Infinity, west: Infinity, east: -Infinity };
  const add = (lat: number, lon: number) => {
    box.south = Math.min(box.south, lat);
    box.north = Math.max(box.north, lat);
    box.west = Math.min(box.west, lon);
    box.east = Math.max(box.east, lon);
  };
  for (const z of zones) for (const p of z.polygon ?? []) add(p.lat, p.lon);
  for (const a of areas) {
    for (const p of a.polygon ?? []) add(p.lat, p.lon);
    if (a.circle) {
      const d = circleDegrees(a.circle, Math.cos((a.circle.center.lat * Math.PI) / 180));
      add(a.circle.center.lat - d.lat, a.circle.center.lon - d.lon);
      add(a.circle.center.lat + d.lat, a.circle.center.lon + d.lon);
    }
  }
  return Number.isFinite(box.south) ? box : undefined;
}

/**
 * Equirectangular, with longitude shrunk by the cosine of the middle latitude: at a city's scale the error
 * is far below what the picture can show, and it needs no library. North is up; the box's corners land on
 * the margins.
 */
function projection(box: Box) {
  const mid = (box.south + box.north) / 2;
  const cosLat = Math.cos((mid * Math.PI) / 180);
  const latSpan = Math.max(box.north - box.south, MIN_SPAN_DEGREES);
  const lonSpan = Math.max((box.east - box.west) * cosLat, MIN_SPAN_DEGREES);
  const south = mid - latSpan / 2;
  const west = (box.west + box.east) / 2 - lonSpan / cosLat / 2;
  const scale = (SIZE - 2 * MARGIN) / Math.max(latSpan, lonSpan);
  const width = lonSpan * scale + 2 * MARGIN;
  const height = latSpan * scale + 2 * MARGIN;
  return {
    width,
    height,
    /** What the viewBox shows, margins included: what tiles must cover. */
    view: {
      west: west - MARGIN / (cosLat * scale),
      east: west + (width - MARGIN) / (cosLat * scale),
      north: south + latSpan + MARGIN / scale,
      south: south + latSpan - (height - MARGIN) / scale,
    },
    x: (lon: number) => MARGIN + (lon - west) * cosLat * scale,
    y: (lat: number) => MARGIN + (south + latSpan - lat) * scale,
    km: (km: number) => (km / KM_PER_DEGREE) * scale,
  };
}

type Projection = ReturnType<typeof projection>;

/**
 * A ring as path data. Points less than a unit (about a pixel) from the last one kept are dropped: an alert's
 * polygon may have 1000 points, most of them closer together than a pixel, and the page has a byte budget.
 */
function pathData(points: readonly LatLon[], p: Projection): string {
  const coords: string[] = [];
  let last: [number, number] | undefined;
  for (const point of points) {
    const x = p.x(point.lon);
    const y = p.y(point.lat);
    if (last && Math.abs(x - last[0]) + Math.abs(y - last[1]) < 1) continue;
    coords.push(`${num(x)} ${num(y)}`);
    last = [x, y];
  }
  if (coords.length > 1 && coords[0] === coords[coords.length - 1]) coords.pop();
  return `M${coords.join(' ')}Z`;
}

/** The area-weighted centroid of a ring, in projected units; the vertices' mean when the ring has no area. */
function centroid(points: readonly LatLon[], p: Projection): [number, number] {
  const xy = points.map((q) => [p.x(q.lon), p.y(q.lat)] as const);
  let area = 0;
  let cx = 0;
  let cy = 0;
  for (let i = 0, j = xy.length - 1; i < xy.length; j = i++) {
    const [x0, y0] = xy[j]!;
    const [x1, y1] = xy[i]!;
    const cross = x0 * y1 - x1 * y0;
    area += cross;
    cx += (x0 + x1) * cross;
    cy += (y0 + y1) * cross;
  }
  if (Math.abs(area) < 1e-9) {
    return [xy.reduce((s, q) => s + q[0], 0) / xy.length, xy.reduce((s, q) => s + q[1], 0) / xy.length];
  }
  return [cx / (3 * area), cy / (3 * area)];
}

/** Long names break at their hyphen ("Sarrià-" / "Sant Gervasi") so labels crowd their neighbours less. */
function label(name: string, x: number, y: number): string {
  const parts = name.length > 12 ? name.split(/(?<=-)/) : [name];
  if (parts.length !== 2) return `<text x="${num(x)}" y="${num(y + 4)}">${escapeHtml(name)}</text>`;
  return (
    `<text x="${num(x)}" y="${num(y - 2.5)}">${escapeHtml(parts[0]!)}` +
    `<tspan x="${num(x)}" dy="13">${escapeHtml(parts[1]!)}</tspan></text>`
  );
}

/**
 * The tiles under the map, decorative (the list after the map carries what it means), and the attribution their
 * licence asks for in the bottom corner. Edges are rounded once each so neighbouring tiles meet exactly. The tiles
 * reach past the viewBox, which the page may letterbox (the stylesheet caps the map's height), so they are clipped
 * to it: otherwise their ragged outer edges would show beside the map.
 */
function tileLayer(
  tiles: MapTiles,
  p: Projection,
  idPrefix: string,
): { images: string; attribution: string } {
  const edge = (n: number) => Math.round(n * 10) / 10;
  const images = placeTiles(p.view, p, tiles.url).map((t) => {
    const [x0, y0, x1, y1] = [edge(t.x0), edge(t.y0), edge(t.x1), edge(t.y1)];
    return (
      `<image href="${escapeHtml(t.href)}" x="${num(x0)}" y="${num(y0)}" width="${num(x1 - x0)}"` +
      ` height="${num(y1 - y0)}" preserveAspectRatio="none"/>`
    );
  });
  // 10 units at about 0.55 of that a character: squeezed to the map's width when it would not fit, never cut off.
  const room = p.width - 8;
  const fit =
    tiles.attribution.length * 5.5 > room ? ` textLength="${num(room)}" lengthAdjust="spacingAndGlyphs"` : '';
  return {
    images:
      `<clipPath id="${idPrefix}-view"><rect width="${num(p.width)}" height="${num(p.height)}"/></clipPath>` +
      `<g class="map-tiles" aria-hidden="true" clip-path="url(#${idPrefix}-view)">${images.join('')}</g>`,
    attribution:
      `<text class="map-attribution" x="${num(p.width - 4)}" y="${num(p.height - 4)}" font-size="10"` +
      ` text-anchor="end"${fit}>${escapeHtml(tiles.attribution)}</text>`,
  };
}

const drawable = (points: readonly LatLon[] | undefined): points is readonly LatLon[] =>
  points !== undefined && points.length >= 3;

/**
 * The zones and an alert's areas as an inline `<svg>`; '' when there is nothing to draw (no zone has a polygon
 * and the alert has no shape), so the page shows the list alone.
 */
export function renderMap(input: MapInput): string {
  if (!PREFIX.test(input.idPrefix)) throw new Error(`map id prefix ${input.idPrefix} is not a plain id`);
  const zones = input.zones.filter((z) => drawable(z.polygon));
  const areas = (input.areas ?? []).filter((a) => drawable(a.polygon) || (a.circle && a.circle.radiusKm > 0));
  const box = boundingBox(zones, areas);
  if (!box) return '';
  const p = projection(box);
  const hit = new Set(input.highlight ?? []);
  const titleId = `${input.idPrefix}-title`;
  const hatch = `url(#${input.idPrefix}-hatch)`;
  const tiles = input.tiles ? tileLayer(input.tiles, p, input.idPrefix) : undefined;

  // Highlighted zones last, so no neighbour's thin outline is drawn over their heavy one.
  const drawOrder = [...zones.filter((z) => !hit.has(z.id)), ...zones.filter((z) => hit.has(z.id))];
  const zonePaths = drawOrder.map((z) => {
    const on = hit.has(z.id);
    return (
      `<path class="map-zone${on ? ' is-hit' : ''}" data-zone="${escapeHtml(z.id)}"${on ? ` fill="${hatch}"` : ''}` +
      ` d="${pathData(z.polygon!, p)}"><title>${escapeHtml(z.name)}</title></path>`
    );
  });
  const areaShapes = areas.flatMap((a) => {
    const title = `<title>${escapeHtml(a.label)}</title>`;
    const shapes: string[] = [];
    if (drawable(a.polygon))
      shapes.push(`<path class="map-area" d="${pathData(a.polygon, p)}">${title}</path>`);
    if (a.circle && a.circle.radiusKm > 0) {
      const { center, radiusKm } = a.circle;
      shapes.push(
        `<circle class="map-area" cx="${num(p.x(center.lon))}" cy="${num(p.y(center.lat))}"` +
          ` r="${num(Math.max(p.km(radiusKm), 0.5))}">${title}</circle>`,
      );
    }
    return shapes;
  });
  const labels = zones.map((z) => {
    const [x, y] = centroid(z.polygon!, p);
    return label(z.name, x, y);
  });

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="map${tiles ? ' map-has-tiles' : ''}"`,
    ` viewBox="0 0 ${num(p.width)} ${num(p.height)}"`,
    ` role="img" aria-labelledby="${titleId}">`,
    `<title id="${titleId}">${escapeHtml(input.title)}</title>`,
    // userSpaceOnUse keeps the hatch the same on every shape; the rotation makes it diagonal.
    `<defs><pattern id="${input.idPrefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse"`,
    ` patternTransform="rotate(45)"><rect class="map-hatch-bg" width="6" height="6" fill="none"/>`,
    `<path class="map-hatch" d="M3 0V6" stroke="#b4380f"/></pattern></defs>`,
    tiles?.images ?? '',
    `<g fill="#eef1f4" stroke="#5b6770">${zonePaths.join('')}</g>`,
    areaShapes.length ? `<g fill="${hatch}" stroke="#8a2c0d">${areaShapes.join('')}</g>` : '',
    labels.length
      ? `<g class="map-label" aria-hidden="true" font-size="12" text-anchor="middle">${labels.join('')}</g>`
      : '',
    tiles?.attribution ?? '',
    '</svg>',
  ].join('');
}

const coordinate = (n: number): string => n.toFixed(4);

/**
 * What the map shows, as a list: the zones by name, then each drawn area by its label, circles spelled out.
 * With `highlight` the zones listed are those (an alert's zones, drawn or not); without it, every zone.
 */
export function renderAreaList(
  input: Pick<MapInput, 'zones' | 'areas' | 'highlight'>,
  words: AreaListWords,
): string {
  const names = new Map(input.zones.map((z) => [z.id, z.name]));
  const zoneItems = input.highlight
    ? input.highlight.map((id) => names.get(id) ?? id)
    : input.zones.map((z) => z.name);
  const areaItems = (input.areas ?? []).map((a) => {
    if (!a.circle) return a.label;
    const { center, radiusKm } = a.circle;
    const within = words.within(radiusKm, `${coordinate(center.lat)}, ${coordinate(center.lon)}`);
    return a.label ? `${a.label} (${within})` : within;
  });
  const items = [...new Set([...zoneItems, ...areaItems].filter((s) => s !== ''))];
  if (items.length === 0) return '';
  return `<ul class="map-list">${items.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ul>`;
}
