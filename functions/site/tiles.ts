/**
 * Raster tiles under a map, when the agency has configured a tile server (HERALD_MAP_TILES): which Web Mercator
 * tiles cover what the map shows, and where each lands in the map's own projection. Without the setting nothing
 * here runs and the maps load nothing from anyone.
 *
 * The map is not Web Mercator (map.ts projects equirectangularly), so each tile is placed by projecting its four
 * corners and stretched between them. Inside one tile the two projections differ by far less than a pixel at the
 * zooms a city's map asks for; at world scale they would not, but Herald's maps show an agency's area.
 */
import type { MapTiles } from '../shared/config';

export interface Bounds {
  south: number;
  north: number;
  west: number;
  east: number;
}

export interface Tile {
  z: number;
  x: number;
  y: number;
}

/** Where the tile grid covering some bounds starts and ends, inclusive. */
export interface TileGrid {
  z: number;
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

export const MIN_ZOOM = 1;
export const MAX_ZOOM = 18;
/** The most tiles one map may ask for: each is a request from the resident's browser and bytes on their plan. */
export const MAX_TILES = 12;
/** Tiles across the map the zoom aims for: enough to be sharp on a phone, few enough to load quickly. */
const TILES_ACROSS = 4;
/** Web Mercator stops here; the poles are at infinity. */
const MAX_LATITUDE = 85.05112878;

const clampLat = (lat: number) => Math.max(-MAX_LATITUDE, Math.min(MAX_LATITUDE, lat));

/** The standard slippy-map formulas (OpenStreetMap's), as fractional tile coordinates. */
export const lonToTileX = (lon: number, z: number): number => ((lon + 180) / 360) * 2 ** z;

export function latToTileY(lat: number, z: number): number {
  const phi = (clampLat(lat) * Math.PI) / 180;
  return ((1 - Math.log(Math.tan(phi) + 1 / Math.cos(phi)) / Math.PI) / 2) * 2 ** z;
}

/** The longitude of a tile's west edge (of the tile column `x`). */
export const tileXToLon = (x: number, z: number): number => (x / 2 ** z) * 360 - 180;

/** The latitude of a tile's north edge (of the tile row `y`). */
export const tileYToLat = (y: number, z: number): number =>
  (Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / 2 ** z))) * 180) / Math.PI;

/** The tile holding a point at zoom `z`. */
export function tileAt(lat: number, lon: number, z: number): Tile {
  const last = 2 ** z - 1;
  return {
    z,
    x: Math.min(last, Math.max(0, Math.floor(lonToTileX(lon, z)))),
    y: Math.min(last, Math.max(0, Math.floor(latToTileY(lat, z)))),
  };
}

function gridAt(bounds: Bounds, z: number): TileGrid {
  const nw = tileAt(bounds.north, bounds.west, z);
  const se = tileAt(bounds.south, bounds.east, z);
  return { z, minX: nw.x, maxX: se.x, minY: nw.y, maxY: se.y };
}

export const tileCount = (g: TileGrid): number => (g.maxX - g.minX + 1) * (g.maxY - g.minY + 1);

/**
 * The tiles covering `bounds`: at the zoom where the bounds are 2–4 tiles wide (the largest zoom at which they are
 * at most 4), between MIN_ZOOM and MAX_ZOOM, then lower while that needs more than MAX_TILES (a tall map, or
 * bounds that straddle tile edges).
 */
export function tileGrid(bounds: Bounds): TileGrid {
  const degrees = Math.max(bounds.east - bounds.west, 1e-9);
  const fit = Math.floor(Math.log2((TILES_ACROSS * 360) / degrees));
  let z = Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, fit));
  let grid = gridAt(bounds, z);
  while (tileCount(grid) > MAX_TILES && z > MIN_ZOOM) grid = gridAt(bounds, --z);
  return grid;
}

/** The template with the tile's numbers in it; the template was checked at start-up (config.ts). */
export const tileUrl = (template: string, t: Tile): string =>
  template.replaceAll('{z}', String(t.z)).replaceAll('{x}', String(t.x)).replaceAll('{y}', String(t.y));

/** The one origin tiles come from: what the pages' CSP adds to img-src. */
export const tileOrigin = (tiles: MapTiles): string =>
  new URL(tileUrl(tiles.url, { z: 0, x: 0, y: 0 })).origin;

/** A tile's place in map units, from its north-west and south-east corners. */
export interface PlacedTile extends Tile {
  href: string;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/**
 * Every tile covering `bounds` (what the map shows, margins included), placed with the map's projection. Neighbours
 * share their edges exactly, because each edge is projected once from the same longitude or latitude.
 */
export function placeTiles(
  bounds: Bounds,
  project: { x: (lon: number) => number; y: (lat: number) => number },
  template: string,
): PlacedTile[] {
  const g = tileGrid(bounds);
  const placed: PlacedTile[] = [];
  for (let y = g.minY; y <= g.maxY; y++) {
    for (let x = g.minX; x <= g.maxX; x++) {
      placed.push({
        z: g.z,
        x,
        y,
        href: tileUrl(template, { z: g.z, x, y }),
        x0: project.x(tileXToLon(x, g.z)),
        x1: project.x(tileXToLon(x + 1, g.z)),
        y0: project.y(tileYToLat(y, g.z)),
        y1: project.y(tileYToLat(y + 1, g.z)),
      });
    }
  }
  return placed;
}
