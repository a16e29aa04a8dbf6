/**
 * Optional map tiles (HERALD_MAP_TILES): the slippy-map arithmetic, which tiles a map asks for and where it puts
 * them, what the pages and their CSP say with and without the setting, and what the setting refuses at start-up and
 * at synth. Without it no page may name any third party.
 */
import { gzipSync } from 'node:zlib';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterEach, describe, expect, it } from 'vitest';
import { createRouter } from '../../functions/api/router';
import { parseXml, type XmlElement } from '../../functions/core/xml';
import { seededZones } from '../../functions/core/zones';
import { ENV, loadConfig, type MapTiles, parseMapTiles } from '../../functions/shared/config';
import { contentSecurityPolicy } from '../../functions/site/layout';
import { type LatLon, MAP_CSS, type MapZone, renderMap, zoneGeometry } from '../../functions/site/map';
import {
  type Bounds,
  latToTileY,
  lonToTileX,
  MAX_TILES,
  tileAt,
  tileCount,
  tileGrid,
  tileOrigin,
  tileUrl,
  tileXToLon,
  tileYToLat,
} from '../../functions/site/tiles';
import { entryPath, HeraldFunction } from '../../lib/herald-function';
import { type Answer, apiHarness } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { apiEvent } from '../helpers/events';
import { testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

const TILES: MapTiles = {
  url: 'https://tiles.example/{z}/{x}/{y}.png',
  attribution: '© OpenStreetMap contributors',
};
const HOSTILE = `<script>alert(1)</script> "onmouseover=alert(2) & </text>`;
const zones = zoneGeometry(seededZones().zones);

const all = (e: XmlElement): XmlElement[] => [e, ...e.children.flatMap(all)];
const byLocal = (e: XmlElement, local: string) => all(e).filter((x) => x.local === local);
const viewBox = (svg: XmlElement) =>
  svg.attributes.viewBox!.split(' ').map(Number) as [number, number, number, number];
const pathPoints = (d: string): [number, number][] => {
  const n = d.replace(/^M|Z$/g, '').split(' ').map(Number);
  return Array.from({ length: n.length / 2 }, (_, i) => [n[2 * i]!, n[2 * i + 1]!]);
};
const box = (e: XmlElement) => {
  const [x, y, w, h] = ['x', 'y', 'width', 'height'].map((k) => Number(e.attributes[k]));
  return { x: x!, y: y!, right: x! + w!, bottom: y! + h! };
};
/** The [z, x, y] a tile URL of TILES' shape names. */
const tileOfHref = (href: string) =>
  href
    .match(/\/(\d+)\/(\d+)\/(\d+)\.png$/)!
    .slice(1)
    .map(Number);

describe('tile arithmetic', () => {
  it('finds the known tile for a known place, and the tile edges around it', () => {
    // Act
    const t = tileAt(41.3874, 2.1686, 12);

    // Assess: Barcelona's Plaça de Catalunya is tile 12/2072/1529 (OpenStreetMap's formulas)
    expect(t).toEqual({ z: 12, x: 2072, y: 1529 });
    expect(tileXToLon(2072, 12)).toBeLessThanOrEqual(2.1686);
    expect(tileXToLon(2073, 12)).toBeGreaterThan(2.1686);
    expect(tileYToLat(1529, 12)).toBeGreaterThanOrEqual(41.3874);
    expect(tileYToLat(1530, 12)).toBeLessThan(41.3874);
  });

  it('agrees with the well-known edges: the world tile, the prime meridian and the equator', () => {
    expect(tileXToLon(0, 0)).toBe(-180);
    expect(tileXToLon(1, 0)).toBe(180);
    expect(tileYToLat(0, 0)).toBeCloseTo(85.0511, 4);
    expect(tileYToLat(1, 1)).toBeCloseTo(0, 10);
    expect(tileXToLon(1, 1)).toBe(0);
    // The forward and inverse formulas undo each other.
    expect(lonToTileX(tileXToLon(2072.25, 12), 12)).toBeCloseTo(2072.25, 9);
    expect(latToTileY(tileYToLat(1529.75, 12), 12)).toBeCloseTo(1529.75, 9);
  });

  const city: Bounds = { south: 41.32, north: 41.47, west: 2.05, east: 2.23 };
  it.each<[string, Bounds]>([
    ['the city', city],
    ['a few streets', { south: 41.4, north: 41.405, west: 2.16, east: 2.166 }],
    ['a region', { south: 40.5, north: 42.9, west: 0.15, east: 3.35 }],
    ['a tall coastline', { south: 36.0, north: 43.8, west: -9.5, east: -8.6 }],
    ['a wide valley', { south: 42.6, north: 42.7, west: 0.5, east: 2.5 }],
    ['straddling tile edges', { south: -0.001, north: 0.001, west: -0.001, east: 0.001 }],
  ])('covers %s with at most MAX_TILES tiles, 2 to 4 wide when the cap allows', (_name, bounds) => {
    // Act
    const g = tileGrid(bounds);

    // Assess
    expect(g.z).toBeGreaterThanOrEqual(1);
    expect(g.z).toBeLessThanOrEqual(18);
    expect(tileCount(g)).toBeLessThanOrEqual(MAX_TILES);
    expect(tileXToLon(g.minX, g.z)).toBeLessThanOrEqual(bounds.west);
    expect(tileXToLon(g.maxX + 1, g.z)).toBeGreaterThanOrEqual(bounds.east);
    expect(tileYToLat(g.minY, g.z)).toBeGreaterThanOrEqual(bounds.north);
    expect(tileYToLat(g.maxY + 1, g.z)).toBeLessThanOrEqual(bounds.south);
    const across = ((bounds.east - bounds.west) / 360) * 2 ** g.z;
    expect(across).toBeLessThanOrEqual(4);
    // Only the cap takes the zoom below 2 tiles across, and then one zoom finer would have needed too many.
    if (across <= 2 && g.z > 1) {
      const [nw, se] = [
        tileAt(bounds.north, bounds.west, g.z + 1),
        tileAt(bounds.south, bounds.east, g.z + 1),
      ];
      expect((se.x - nw.x + 1) * (se.y - nw.y + 1)).toBeGreaterThan(MAX_TILES);
    }
  });

  it('picks 2 to 4 tiles across for the city', () => {
    const g = tileGrid(city);
    const across = ((city.east - city.west) / 360) * 2 ** g.z;
    expect(across).toBeGreaterThan(2);
    expect(across).toBeLessThanOrEqual(4);
  });

  it('fills every placeholder of the template, and names its one origin', () => {
    const template = 'https://tiles.example:8443/v1/{z}/{x}/{y}.png?key=k&z={z}';
    expect(tileUrl(template, { z: 12, x: 2072, y: 1529 })).toBe(
      'https://tiles.example:8443/v1/12/2072/1529.png?key=k&z=12',
    );
    expect(tileOrigin({ url: template, attribution: 'x' })).toBe('https://tiles.example:8443');
  });
});

describe('renderMap with tiles', () => {
  it('draws no tile, no attribution and no tile class when none is configured', () => {
    const svg = renderMap({ zones, title: 't', idPrefix: 'm' });
    expect(svg).not.toContain('<image');
    expect(svg).not.toContain('map-has-tiles');
    expect(svg).not.toContain('map-attribution');
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org\/2000\/svg")/);
  });

  it('draws the tiles under the zones, decorative, covering the whole picture, and the attribution over them', () => {
    // Act
    const svg = renderMap({ zones, title: 't', idPrefix: 'm', tiles: TILES });

    // Assess
    const root = parseXml(svg);
    expect(root.attributes.class).toBe('map map-has-tiles');
    expect(svg).not.toMatch(/\sstyle=|<style/i);
    const layer = root.children.find((c) => c.attributes.class === 'map-tiles')!;
    expect(layer.attributes['aria-hidden']).toBe('true');
    const order = root.children.map((c) => c.attributes.class ?? c.local);
    const zonesAt = root.children.findIndex((c) => byLocal(c, 'path').some((p) => p.attributes['data-zone']));
    expect(order.indexOf('map-tiles')).toBeLessThan(zonesAt);
    const images = byLocal(layer, 'image');
    expect(images.length).toBeGreaterThan(0);
    expect(images.length).toBeLessThanOrEqual(MAX_TILES);
    for (const image of images) {
      expect(image.attributes.href).toMatch(/^https:\/\/tiles\.example\/\d+\/\d+\/\d+\.png$/);
      expect(image.attributes.preserveAspectRatio).toBe('none');
    }
    // One zoom, a full grid of distinct tiles, and the grid covers the viewBox edge to edge.
    const tiles = images.map((i) => tileOfHref(i.attributes.href!));
    expect(new Set(tiles.map(([z]) => z)).size).toBe(1);
    const xs = new Set(tiles.map(([, x]) => x));
    const ys = new Set(tiles.map(([, , y]) => y));
    expect(tiles).toHaveLength(xs.size * ys.size);
    const [, , width, height] = viewBox(root);
    const boxes = images.map(box);
    expect(Math.min(...boxes.map((b) => b.x))).toBeLessThanOrEqual(0);
    expect(Math.min(...boxes.map((b) => b.y))).toBeLessThanOrEqual(0);
    expect(Math.max(...boxes.map((b) => b.right))).toBeGreaterThanOrEqual(width);
    expect(Math.max(...boxes.map((b) => b.bottom))).toBeGreaterThanOrEqual(height);
    // Neighbours meet exactly, with no seam and no overlap: each tile but the last of its row or column is followed
    // by one starting where it ends.
    const same = (u: number, v: number) => Math.abs(u - v) < 1e-9;
    const [lastX, lastY] = [Math.max(...boxes.map((b) => b.x)), Math.max(...boxes.map((b) => b.y))];
    for (const a of boxes) {
      if (a.x !== lastX) expect(boxes.some((b) => same(b.x, a.right) && b.y === a.y)).toBe(true);
      if (a.y !== lastY) expect(boxes.some((b) => same(b.y, a.bottom) && b.x === a.x)).toBe(true);
    }
    // Clipped to the viewBox, which the page may letterbox: no ragged tile edges beside the map.
    expect(layer.attributes['clip-path']).toBe('url(#m-view)');
    const clip = byLocal(root, 'clipPath').find((c) => c.attributes.id === 'm-view')!;
    expect(byLocal(clip, 'rect')[0]!.attributes).toMatchObject({
      width: String(width),
      height: String(height),
    });
    const attribution = byLocal(root, 'text').find((t) => t.attributes.class === 'map-attribution')!;
    expect(attribution.text).toBe('© OpenStreetMap contributors');
    expect(root.children.at(-1)).toBe(attribution);
    expect(Number(attribution.attributes.x)).toBeGreaterThan(width / 2);
    expect(Number(attribution.attributes.y)).toBeGreaterThan(height / 2);
  });

  it("places each tile where the map's own projection puts its corners", () => {
    // Prepare: a zone whose corners are exactly tile 12/2072/1529's, so its path is that tile's outline
    const [west, east] = [tileXToLon(2072, 12), tileXToLon(2073, 12)];
    const [north, south] = [tileYToLat(1529, 12), tileYToLat(1530, 12)];
    const pt = (lat: number, lon: number): LatLon => ({ lat, lon });
    const tile: MapZone = {
      id: 'tile',
      name: 'Tile',
      polygon: [pt(north, west), pt(north, east), pt(south, east), pt(south, west)],
    };

    // Act
    const root = parseXml(renderMap({ zones: [tile], title: 't', idPrefix: 'm', tiles: TILES }));

    // Assess
    const [nw, ne, se, sw] = pathPoints(
      byLocal(root, 'path').find((p) => p.attributes['data-zone'])!.attributes.d!,
    );
    const images = byLocal(root, 'image');
    const z = tileOfHref(images[0]!.attributes.href!)[0]!;
    expect(z).toBeGreaterThanOrEqual(12);
    const k = 2 ** (z - 12);
    const at = (x: number, y: number) =>
      box(images.find((i) => `${tileOfHref(i.attributes.href!)}` === `${z},${x},${y}`)!);
    // The tile at the zone's north-west corner starts there; the one at its south-east corner ends there.
    const first = at(2072 * k, 1529 * k);
    const last = at(2073 * k - 1, 1530 * k - 1);
    expect([first.x, first.y]).toEqual(nw);
    expect([last.right, last.bottom]).toEqual([expect.closeTo(se![0], 5), expect.closeTo(se![1], 5)]);
    expect(ne![1]).toBe(first.y);
    expect(sw![0]).toBe(first.x);
  });

  it('escapes the tile URL and the attribution, and squeezes a long attribution into a narrow map', () => {
    // Prepare: a map much taller than wide
    const pt = (lat: number, lon: number): LatLon => ({ lat, lon });
    const strip: MapZone = {
      id: 's',
      name: 'S',
      polygon: [pt(41, 2), pt(41.3, 2), pt(41.3, 2.01), pt(41, 2.01)],
    };
    const tiles: MapTiles = {
      url: 'https://tiles.example/{z}/{x}/{y}.png?key=a&b="c"',
      attribution: HOSTILE,
    };

    // Act
    const svg = renderMap({ zones: [strip], title: 't', idPrefix: 'm', tiles });

    // Assess
    expect(svg).not.toContain('<script');
    expect(svg).not.toMatch(/"onmouseover/);
    const root = parseXml(svg);
    for (const image of byLocal(root, 'image')) expect(image.attributes.href).toMatch(/\.png\?key=a&b="c"$/);
    const text = byLocal(root, 'text').find((t) => t.attributes.class === 'map-attribution')!;
    expect(text.text).toBe(HOSTILE);
    const [, , width] = viewBox(root);
    expect(Number(text.attributes.textLength)).toBeLessThanOrEqual(width);
    expect(text.attributes.lengthAdjust).toBe('spacingAndGlyphs');
  });

  it('styles the zones see-through over tiles, and the attribution with a halo, from the stylesheet', () => {
    expect(MAP_CSS).toContain('.map-has-tiles .map-zone:not(.is-hit){fill-opacity:.35}');
    expect(MAP_CSS).toMatch(/\.map-attribution\{[^}]*stroke:#fff/);
  });

  it('adds little to the page: the seeded zones with tiles stay under 6 KB gzipped', () => {
    const svg = renderMap({ zones, title: 't', idPrefix: 'm', tiles: TILES });
    expect(gzipSync(svg).length).toBeLessThan(6 * 1024);
  });
});

const open: DynaliteStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

/** The site through the router twice over the same data: as deployed by default, and with TILES configured. */
async function sites() {
  const db = await startDynaliteStore();
  open.push(db);
  const h = apiHarness(db, await residentsDeps(db));
  const id = await h.create();
  await h.dispatch(id, 1);
  const withConfig = (config: ReturnType<typeof testConfig>) => {
    const router = createRouter({ ...h.deps, config });
    return async (path: string): Promise<Answer> => {
      const res = await router(apiEvent({ method: 'GET', path, claims: null }));
      return { status: res.statusCode ?? 0, headers: res.headers, text: res.body ?? '', body: {} };
    };
  };
  return {
    paths: ['/alerts', `/alerts/${id}`, '/subscribe'],
    plain: withConfig(testConfig()),
    tiled: withConfig(testConfig({ mapTiles: TILES })),
  };
}

const directive = (csp: string, name: string) => csp.split('; ').find((d) => d.startsWith(`${name} `));

describe('the pages with and without tiles', () => {
  it('load nothing from a tile server and name none in their CSP by default', async () => {
    const s = await sites();
    for (const path of s.paths) {
      const res = await s.plain(path);
      expect(res.status, path).toBe(200);
      expect(res.text, path).toContain('<svg');
      expect(res.text, path).not.toContain('<image');
      expect(res.text, path).not.toContain('map-has-tiles');
      expect(directive(res.headers['content-security-policy']!, 'img-src'), path).toBe(
        "img-src 'self' http://localhost:3000",
      );
    }
  });

  it("draw the tiles under every map and let images come from the tile server's origin, and nothing else changes", async () => {
    const s = await sites();
    for (const path of s.paths) {
      const [plain, tiled] = [await s.plain(path), await s.tiled(path)];
      expect(tiled.status, path).toBe(200);
      expect(tiled.text, path).toMatch(/<image href="https:\/\/tiles\.example\/\d+\/\d+\/\d+\.png"/);
      expect(tiled.text, path).toContain('class="map map-has-tiles"');
      expect(tiled.text, path).toContain('>© OpenStreetMap contributors</text>');
      const csp = tiled.headers['content-security-policy']!;
      expect(directive(csp, 'img-src'), path).toBe(
        "img-src 'self' http://localhost:3000 https://tiles.example",
      );
      const others = (c: string) => c.split('; ').filter((d) => !d.startsWith('img-src '));
      expect(others(csp), path).toEqual(others(plain.headers['content-security-policy']!));
    }
  });

  it('say on the privacy page which server sees the map requests, and that none does by default', async () => {
    const s = await sites();
    const [plain, tiled] = [await s.plain('/privacy'), await s.tiled('/privacy?lang=es')];
    expect(plain.text).toContain('<li>It loads nothing from other companies.</li>');
    expect(plain.text).not.toContain('tiles.example');
    expect(tiled.text).not.toContain('No carga nada de otras empresas.');
    expect(tiled.text).toContain('<li>Los mapas muestran calles de tiles.example: ');
  });
});

describe('contentSecurityPolicy', () => {
  it("adds exactly the tile template's origin to img-src, once", () => {
    const img = (tiles?: MapTiles) =>
      directive(contentSecurityPolicy('https://alerts.example', tiles), 'img-src');
    expect(img()).toBe("img-src 'self' https://alerts.example");
    expect(img({ url: 'https://a.tiles.example:8443/x/{z}/{x}/{y}@2x.png?k=1', attribution: 'A' })).toBe(
      "img-src 'self' https://alerts.example https://a.tiles.example:8443",
    );
    expect(img({ url: 'https://alerts.example/tiles/{z}/{x}/{y}.png', attribution: 'A' })).toBe(
      "img-src 'self' https://alerts.example",
    );
  });
});

describe('HERALD_MAP_TILES', () => {
  const load = (url?: string, attribution?: string) =>
    loadConfig({
      ...(url === undefined ? {} : { [ENV.mapTiles]: url }),
      ...(attribution === undefined ? {} : { [ENV.mapTilesAttribution]: attribution }),
    });

  it('is off by default', () => {
    expect(loadConfig({}).mapTiles).toBeUndefined();
    expect(load('', '').mapTiles).toBeUndefined();
  });

  it('takes an https template with its attribution, and http for this machine only', () => {
    expect(
      load(' https://tile.openstreetmap.org/{z}/{x}/{y}.png ', ' © OpenStreetMap contributors ').mapTiles,
    ).toEqual({
      url: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
      attribution: '© OpenStreetMap contributors',
    });
    expect(load('http://127.0.0.1:8080/{z}/{x}/{y}.png', 'Test').mapTiles?.url).toBe(
      'http://127.0.0.1:8080/{z}/{x}/{y}.png',
    );
    expect(load('http://localhost:8080/{z}/{x}/{y}.png', 'Test').mapTiles).toBeDefined();
    expect(load('http://[::1]:8080/{z}/{x}/{y}.png', 'Test').mapTiles).toBeDefined();
  });

  it.each([
    ['http://tiles.example/{z}/{x}/{y}.png', /HERALD_MAP_TILES must be .*https/],
    ['ftp://tiles.example/{z}/{x}/{y}.png', /HERALD_MAP_TILES must be .*https/],
    ['https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png', /HERALD_MAP_TILES .*\{s\}/],
    ['https://tiles.example/{x}/{y}.png', /HERALD_MAP_TILES .*no \{z\}/],
    ['https://tiles.example/{z}/{y}.png', /HERALD_MAP_TILES .*no \{x\}/],
    ['https://tiles.example/{z}/{x}.png', /HERALD_MAP_TILES .*no \{y\}/],
    ['https://tiles.example/tile.png', /no \{z\}, \{x\}, \{y\}/],
    ['https://tiles.example/{z}/{x}/{y}{r}.png', /only \{z\}, \{x\} and \{y\}/],
    ['https://t{z}.example/{z}/{x}/{y}.png', /not the host/],
    ['https://user:pw@tiles.example/{z}/{x}/{y}.png', /user name or password/],
    ['tiles.example/{z}/{x}/{y}.png', /not a URL/],
  ])('refuses %s', (url, message) => {
    expect(() => load(url, '© Someone')).toThrow(message);
  });

  it('refuses tiles without an attribution, an attribution without tiles, and one too long to show', () => {
    expect(() => load(TILES.url)).toThrow(/HERALD_MAP_TILES_ATTRIBUTION must say whose tiles/);
    expect(() => load(TILES.url, '   ')).toThrow(/HERALD_MAP_TILES_ATTRIBUTION must say whose tiles/);
    expect(() => load(undefined, '© Someone')).toThrow(
      /HERALD_MAP_TILES_ATTRIBUTION is set but HERALD_MAP_TILES/,
    );
    expect(() => load(TILES.url, 'x'.repeat(121))).toThrow(/at most 120 characters/);
  });

  it('names the setting it was given in its messages', () => {
    expect(() => parseMapTiles('https://x/', 'A', { url: 'context mapTiles', attribution: 'a' })).toThrow(
      /^context mapTiles must be/,
    );
  });
});

describe('the mapTiles context on AWS', () => {
  const environmentWith = (context: Record<string, unknown>) => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
    const stack = new Stack(app, 'Tiles');
    new HeraldFunction(stack, 'Fn', {
      entry: entryPath('functions/api/handler.ts'),
      serviceName: 'herald-tiles',
      timeout: Duration.seconds(7),
    });
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0]!;
    return fn.Properties.Environment.Variables as Record<string, string>;
  };

  it('passes the tiles and their attribution on only when they are set', () => {
    const none = environmentWith({});
    expect(none[ENV.mapTiles]).toBeUndefined();
    expect(none[ENV.mapTilesAttribution]).toBeUndefined();
    const set = environmentWith({ mapTiles: TILES.url, mapTilesAttribution: TILES.attribution });
    expect(set[ENV.mapTiles]).toBe(TILES.url);
    expect(set[ENV.mapTilesAttribution]).toBe(TILES.attribution);
  });

  it('fails the synth on a template the functions would refuse', () => {
    expect(() =>
      environmentWith({ mapTiles: 'http://tiles.example/{z}/{x}/{y}.png', mapTilesAttribution: 'A' }),
    ).toThrow(/^context mapTiles must be/);
    expect(() => environmentWith({ mapTiles: TILES.url })).toThrow(/context mapTilesAttribution must say/);
  });
});
