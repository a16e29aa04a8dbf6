import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseXml, type XmlElement } from '../../functions/core/xml';
import { seededZones } from '../../functions/core/zones';
import { FIND_ZONE_SCRIPT, zonePolygonsJson } from '../../functions/site/assets/find-zone';
import {
  alertMapAreas,
  type LatLon,
  MAP_CSS,
  type MapArea,
  type MapInput,
  type MapZone,
  pointInPolygon,
  renderAreaList,
  renderMap,
  zoneGeometry,
} from '../../functions/site/map';
import { Area } from '../../schemas/alert';
import seed from '../../seed/zones.json' with { type: 'json' };

const HOSTILE = `<script>alert(1)</script> "onmouseover=alert(2) x='y' & </title>`;
const catalog = seededZones();
const zones = zoneGeometry(catalog.zones);
const words = { within: (km: number, place: string) => `within ${km} km of ${place}` };

const all = (e: XmlElement): XmlElement[] => [e, ...e.children.flatMap(all)];
const byLocal = (e: XmlElement, local: string) => all(e).filter((x) => x.local === local);
const viewBox = (svg: XmlElement) =>
  svg.attributes.viewBox!.split(' ').map(Number) as [number, number, number, number];
/** The points of a path written as "Mx y x y …Z". */
const pathPoints = (d: string): [number, number][] => {
  const n = d.replace(/^M|Z$/g, '').split(' ').map(Number);
  return Array.from({ length: n.length / 2 }, (_, i) => [n[2 * i]!, n[2 * i + 1]!]);
};
const zonesAt = (p: LatLon) => zones.filter((z) => pointInPolygon(p, z.polygon!)).map((z) => z.id);

const pt = (lat: number, lon: number): LatLon => ({ lat, lon });
/** A square of 0.1° on each side, south-west corner at 41.0 N 2.0 E. */
const square = [pt(41.0, 2.0), pt(41.1, 2.0), pt(41.1, 2.1), pt(41.0, 2.1), pt(41.0, 2.0)];
const sq: MapZone = { id: 'sq', name: 'Sq', polygon: square };
const draw = (input: Partial<MapInput>) => renderMap({ zones, title: 't', idPrefix: 'm', ...input });
const idsIn = (e: XmlElement) => all(e).flatMap((x) => (x.attributes.id ? [x.attributes.id] : []));

describe('renderMap', () => {
  it('draws every seeded zone as a well-formed, style-free SVG with an accessible name', () => {
    // Act
    const svg = renderMap({ zones, title: 'Our zones', idPrefix: 'zones' });

    // Assess
    const root = parseXml(svg);
    expect(root.local).toBe('svg');
    expect(root.ns).toBe('http://www.w3.org/2000/svg');
    expect(root.attributes.role).toBe('img');
    expect(root.attributes.width).toBeUndefined();
    expect(root.attributes['aria-labelledby']).toBe('zones-title');
    expect(byLocal(root, 'title').find((t) => t.attributes.id === 'zones-title')?.text).toBe('Our zones');
    expect(svg).not.toMatch(/\sstyle=|<style/i);
    const paths = byLocal(root, 'path').filter((p) => p.attributes['data-zone']);
    expect(paths.map((p) => p.attributes['data-zone'])).toEqual(seed.zones.map((z) => z.id));
    expect(paths.map((p) => byLocal(p, 'title')[0]?.text)).toEqual(seed.zones.map((z) => z.name));
    expect(paths.every((p) => p.attributes.class === 'map-zone')).toBe(true);
    const labels = byLocal(root, 'g').find((g) => g.attributes.class === 'map-label');
    expect(labels?.attributes['aria-hidden']).toBe('true');
    expect(byLocal(labels!, 'text')).toHaveLength(10);
    expect(svg).not.toMatch(/\d\.\d\d/);
  });

  it('keeps hostile zone names and area labels inert', () => {
    // Prepare
    const hostileZone: MapZone = { id: 'x"><script>', name: HOSTILE, polygon: square };
    const area: MapArea = { label: HOSTILE, circle: { center: pt(41.05, 2.05), radiusKm: 1 } };

    // Act
    const svg = draw({ zones: [hostileZone], areas: [area], title: HOSTILE });

    // Assess
    expect(svg).not.toContain('<script');
    expect(svg).not.toMatch(/"onmouseover/);
    const root = parseXml(svg);
    expect(byLocal(root, 'title').map((t) => t.text)).toEqual([HOSTILE, HOSTILE, HOSTILE]);
    const zonePath = byLocal(root, 'path').find((p) => p.attributes['data-zone']);
    expect(zonePath?.attributes['data-zone']).toBe('x"><script>');
    expect(byLocal(root, 'text')[0]?.text).toBe(HOSTILE);
  });

  it('marks the highlighted zones, and only those, hatched', () => {
    // Act
    const svg = draw({ highlight: ['gracia', 'sant-marti'], idPrefix: 'a1' });

    // Assess
    const root = parseXml(svg);
    const hit = byLocal(root, 'path').filter((p) => p.attributes.class === 'map-zone is-hit');
    expect(hit.map((p) => p.attributes['data-zone'])).toEqual(['gracia', 'sant-marti']);
    expect(hit.every((p) => p.attributes.fill === 'url(#a1-hatch)')).toBe(true);
    expect(byLocal(root, 'pattern')[0]?.attributes.id).toBe('a1-hatch');
  });

  it('fits the bounding box to the viewBox: corners on the margins, longitude shrunk by cos(latitude)', () => {
    // Act
    const root = parseXml(draw({ zones: [sq] }));

    // Assess
    const [x0, y0, width, height] = viewBox(root);
    expect([x0, y0, height]).toEqual([0, 0, 400]);
    const cos = Math.cos((41.05 * Math.PI) / 180);
    expect(width).toBeCloseTo(384 * cos + 16, 0);
    const d = byLocal(root, 'path').find((p) => p.attributes['data-zone'] === 'sq')!.attributes.d!;
    const [sw, nw, ne, se] = pathPoints(d);
    expect(nw).toEqual([8, 8]);
    expect(sw).toEqual([8, 392]);
    expect(ne![0]).toBeCloseTo(width - 8, 0);
    expect(se).toEqual([ne![0], 392]);
    const label = byLocal(root, 'text')[0]!;
    expect(Number(label.attributes.x)).toBeCloseTo(width / 2, 0);
  });

  it('draws circles in projected units over the zones, and area polygons too, inside the box', () => {
    // Prepare
    const areas: MapArea[] = [
      { label: 'Cordon', circle: { center: pt(41.05, 2.05), radiusKm: 2 } },
      { label: 'Strip', polygon: square.slice(0, 3) },
    ];
    const alone: MapArea = { label: 'Alone', circle: { center: pt(41.4, 2.17), radiusKm: 1 } };

    // Act
    const svg = draw({ zones: [sq], areas, idPrefix: 'c' });
    const boxed = parseXml(draw({ zones: [], areas: [alone] }));

    // Assess
    const root = parseXml(svg);
    const [, , width] = viewBox(root);
    const circle = byLocal(root, 'circle')[0]!;
    expect(circle.attributes.class).toBe('map-area');
    expect(Number(circle.attributes.cx)).toBeCloseTo(width / 2, 0);
    expect(Number(circle.attributes.cy)).toBe(200);
    // 384 units span 0.1° of latitude, and a degree is 111.195 km on the projection's sphere.
    expect(Number(circle.attributes.r)).toBeCloseTo((2 / 111.195) * 3840, 0);
    expect(byLocal(circle, 'title')[0]?.text).toBe('Cordon');
    const groups = root.children.filter((c) => c.local === 'g');
    expect(groups.map((g) => g.attributes.class ?? g.attributes.fill)).toEqual([
      '#eef1f4',
      'url(#c-hatch)',
      'map-label',
    ]);
    expect(byLocal(groups[1]!, 'path')[0]?.attributes.class).toBe('map-area');
    // A circle alone sets the box itself.
    expect(viewBox(boxed).map(Math.round)).toEqual([0, 0, 400, 400]);
    expect(Number(byLocal(boxed, 'circle')[0]!.attributes.r)).toBeCloseTo(192, 0);
  });

  it('gives two maps on one page distinct ids, each referring only to its own, from a plain prefix', () => {
    // Act
    const map = (idPrefix: string) =>
      draw({ highlight: ['eixample'], areas: [{ label: 'a', polygon: square }], idPrefix });
    const page = `<div>${map('left')}${map('right')}</div>`;

    // Assess
    const root = parseXml(page);
    expect(new Set(idsIn(root)).size).toBe(idsIn(root).length);
    for (const svg of root.children) {
      const own = new Set(idsIn(svg));
      expect(own.has(svg.attributes['aria-labelledby']!)).toBe(true);
      const refs = all(svg).flatMap((e) => {
        const ref = /^url\(#(.+)\)$/.exec(e.attributes.fill ?? '');
        return ref ? [ref[1]!] : [];
      });
      expect(refs.length).toBeGreaterThan(0);
      expect(refs.every((r) => own.has(r))).toBe(true);
    }
    expect(() => draw({ idPrefix: 'x" onload="y' })).toThrow(/prefix/);
  });

  it('skips zones without a polygon, and draws nothing when nothing has a shape', () => {
    // Act
    const bare = { id: 'bare', name: 'Bare' };
    const some = draw({ zones: [...zones.slice(0, 2), bare] });
    const none = draw({ zones: [bare] });

    // Assess
    expect(some).not.toContain('data-zone="bare"');
    expect(some.match(/data-zone=/g)).toHaveLength(2);
    expect(none).toBe('');
  });

  it('keeps all ten zones under 6 KB gzipped, with an alert of 1000 points thinned to what it can show', () => {
    // Prepare: a 1 km ring as an officer's drawing tool might send it.
    const angle = (i: number) => (i / 999) * 2 * Math.PI;
    const ring = Array.from({ length: 1000 }, (_, i) =>
      pt(41.387 + 0.009 * Math.sin(angle(i)), 2.17 + 0.012 * Math.cos(angle(i))),
    );
    const areas = [{ label: 'Drawn', polygon: ring }];

    // Act
    const plain = draw({ zones: zoneGeometry(catalog.zones, 'es'), title: 'Zonas del distrito' });
    const alert = draw({ areas, highlight: ['ciutat-vella', 'eixample'], title: 'Area of the alert' });

    // Assess
    expect(gzipSync(plain).length).toBeLessThan(6 * 1024);
    expect(gzipSync(alert).length).toBeLessThan(6 * 1024);
    const d = byLocal(parseXml(alert), 'path').find((p) => p.attributes.class === 'map-area')!.attributes.d!;
    expect(pathPoints(d).length).toBeLessThan(200);
  });

  it('styles with classes the CSS names, and never fills what the hatch fills', () => {
    for (const cls of ['.map-zone', '.map-zone.is-hit', '.map-area', '.map-hatch', '.map-label']) {
      expect(MAP_CSS).toContain(`${cls}{`);
    }
    expect(MAP_CSS).not.toMatch(/\.map-area\{[^}]*fill:|\.is-hit\{[^}]*fill:/);
  });
});

describe('renderAreaList', () => {
  it("names an alert's zones, its labelled areas and its circles in the page's words", () => {
    // Prepare
    const areas: MapArea[] = [
      { label: 'Old port', polygon: square },
      { label: 'Cordon', circle: { center: pt(41.387, 2.17), radiusKm: 0.5 } },
      { label: '', circle: { center: pt(41.4, 2.2), radiusKm: 2 } },
    ];

    // Act
    const html = renderAreaList({ zones, areas, highlight: ['gracia', 'unknown-zone'] }, words);

    // Assess
    const items = byLocal(parseXml(html), 'li').map((li) => li.text);
    expect(items).toEqual([
      'Gràcia',
      'unknown-zone',
      'Old port',
      'Cordon (within 0.5 km of 41.3870, 2.1700)',
      'within 2 km of 41.4000, 2.2000',
    ]);
  });

  it('lists every zone when nothing is highlighted, and escapes what it lists', () => {
    // Act
    const everyZone = renderAreaList({ zones }, words);
    const hostile = renderAreaList(
      { zones: [{ id: 'h', name: HOSTILE }], areas: [{ label: HOSTILE }] },
      words,
    );

    // Assess
    expect(byLocal(parseXml(everyZone), 'li').map((li) => li.text)).toEqual(seed.zones.map((z) => z.name));
    expect(hostile).not.toContain('<script');
    expect(byLocal(parseXml(hostile), 'li').map((li) => li.text)).toEqual([HOSTILE]);
    expect(renderAreaList({ zones, highlight: [] }, words)).toBe('');
  });
});

describe('zone geometry', () => {
  it('turns the catalog into map zones, named in the language asked for', () => {
    // Act
    const es = zoneGeometry(catalog.zones, 'es-ES');

    // Assess
    expect(es.find((z) => z.id === 'gracia')?.name).toBe('Gracia');
    expect(es.every((z) => (z.polygon?.length ?? 0) >= 9)).toBe(true);
    for (const bad of ['nonsense', '41.1,', '41.1,2.1,3', '91,2.1', '41.1,2.1e2']) {
      const ring = ['41.1,2.1', '41.2,2.1', bad, '41.1,2.1'];
      expect(zoneGeometry([{ id: 'x', name: 'X', polygon: ring }])[0]?.polygon, bad).toBeUndefined();
    }
  });

  it("reads an alert's stored areas: zones highlighted, shapes drawn with their labels", () => {
    // Prepare
    const areas = [
      Area.parse({ zone: 'gracia' }),
      Area.parse({ areaDesc: 'Port', polygon: '41.37,2.18 41.38,2.19 41.37,2.19 41.37,2.18' }),
      Area.parse({ zone: 'eixample', circle: { center: [41.39, 2.16], radiusKm: 1 } }),
    ];

    // Act
    const { areas: shapes, highlight } = alertMapAreas(areas, (id) => catalog.nameIn(id, 'en'));

    // Assess
    expect(highlight).toEqual(['gracia', 'eixample']);
    const port = [pt(41.37, 2.18), pt(41.38, 2.19), pt(41.37, 2.19), pt(41.37, 2.18)];
    expect(shapes).toEqual([
      { label: 'Port', polygon: port, circle: undefined },
      { label: 'Eixample', polygon: undefined, circle: { center: pt(41.39, 2.16), radiusKm: 1 } },
    ]);
  });

  it('places known places in the right seeded zone, and the sea and the neighbours in none', () => {
    expect(zonesAt(pt(41.4036, 2.156))).toEqual(['gracia']);
    expect(zonesAt(pt(41.4036, 2.1744))).toEqual(['eixample']); // the Sagrada Família
    expect(zonesAt(pt(41.3806, 2.1896))).toEqual(['ciutat-vella']); // la Barceloneta
    expect(zonesAt(pt(41.3809, 2.1228))).toEqual(['les-corts']); // the Camp Nou
    expect(zonesAt(pt(41.4006, 2.2013))).toEqual(['sant-marti']); // el Poblenou
    expect(zonesAt(pt(41.4611, 2.1755))).toEqual(['nou-barris']); // Ciutat Meridiana
    expect(zonesAt(pt(41.37, 2.22))).toEqual([]); // the sea
    expect(zonesAt(pt(41.36, 2.1))).toEqual([]); // L'Hospitalet de Llobregat
  });

  it('seeds closed polygons of 8–20 points within the city', () => {
    for (const zone of seed.zones) {
      const points = zone.polygon;
      expect(points.length, zone.id).toBeGreaterThanOrEqual(9);
      expect(points.length, zone.id).toBeLessThanOrEqual(21);
      expect(points[0], zone.id).toBe(points[points.length - 1]);
      for (const p of points) {
        expect(p).toMatch(/^41\.\d{4,5},2\.\d{4,5}$/);
        const [lat, lon] = p.split(',').map(Number) as [number, number];
        expect(lat >= 41.31 && lat <= 41.48 && lon >= 2.04 && lon <= 2.24, p).toBe(true);
      }
    }
  });

  it('seeds zones that do not overlap and that together cover the city', () => {
    // Prepare: a grid of about 100 m over the city's box.
    let inOne = 0;
    const overlaps: string[] = [];

    // Act
    for (let lat = 41.3205; lat < 41.47; lat += 0.0009) {
      for (let lon = 2.0505; lon < 2.23; lon += 0.0012) {
        const found = zonesAt({ lat, lon });
        if (found.length > 1) overlaps.push(`${lat},${lon}: ${found.join(' ')}`);
        if (found.length === 1) inOne++;
      }
    }

    // Assess
    expect(overlaps).toEqual([]);
    // Barcelona is about 101 km²; each grid cell is about 0.1 × 0.1 km.
    const km2 = inOne * 0.0009 * 111.195 * 0.0012 * 111.195 * Math.cos((41.4 * Math.PI) / 180);
    expect(km2).toBeGreaterThan(80);
    expect(km2).toBeLessThan(130);
  });
});

describe('find-zone script', () => {
  /** The page's words, as the button carries them. */
  const SAID: Record<string, string> = {
    'data-found': 'Found: {zones}',
    'data-none': 'None',
    'data-denied': 'Denied',
    'data-unavailable': 'Unavailable',
  };
  const ticked = (boxes: { value: string; checked: boolean }[]) =>
    boxes.filter((b) => b.checked).map((b) => b.value);
  /** Runs the script against a page with the seeded zones and a browser that answers with `answer`. */
  const page = (answer: (ok: (p: unknown) => void, fail: (e: unknown) => void) => void) => {
    const handlers: (() => void)[] = [];
    const button = {
      hidden: true,
      disabled: false,
      getAttribute: (name: string) => SAID[name] ?? null,
      addEventListener: (type: string, f: () => void) => type === 'click' && handlers.push(f),
    };
    const note = { hidden: true };
    const status = { textContent: '' };
    const boxes = catalog.zones.map((z) => ({ value: z.id, checked: false }));
    const json = { textContent: zonePolygonsJson(catalog.zones, { gracia: 'Gràcia' }) };
    const calls = { watch: 0, current: 0 };
    const elements: Record<string, unknown> = {
      '[data-find-zone]': button,
      '[data-find-zone-status]': status,
      '[data-find-zone-note]': note,
    };
    const document = {
      querySelector: (s: string) => elements[s] ?? null,
      querySelectorAll: (s: string) => (s === 'input[name="zones"]' ? boxes : []),
      getElementById: (id: string) => (id === 'zone-polygons' ? json : null),
    };
    const geolocation = {
      getCurrentPosition: (ok: (p: unknown) => void, fail: (e: unknown) => void) => {
        calls.current++;
        answer(ok, fail);
      },
      watchPosition: () => calls.watch++,
    };
    const click = () => {
      for (const h of handlers) h();
    };
    runInNewContext(FIND_ZONE_SCRIPT, { document, navigator: { geolocation } });
    return { button, note, status, boxes, calls, click };
  };
  const at = (lat: number, lon: number) => (ok: (p: unknown) => void) =>
    ok({ coords: { latitude: lat, longitude: lon, accuracy: 20 } });

  it('is small, plain script that parses', () => {
    expect(() => new Function(FIND_ZONE_SCRIPT)).not.toThrow();
    expect(FIND_ZONE_SCRIPT.length).toBeLessThan(2048);
    expect(FIND_ZONE_SCRIPT).not.toMatch(/\beval\b|new Function|innerHTML|fetch|XMLHttp|sendBeacon|Storage/);
    expect(FIND_ZONE_SCRIPT).not.toMatch(/\bimport\b|\bexport\b|=>/);
  });

  it('shows the button, and ticks Gràcia for a position in Gràcia', () => {
    // Prepare
    const fake = page(at(41.4036, 2.156));
    expect(fake.button.hidden).toBe(false);
    expect(fake.note.hidden).toBe(false);

    // Act
    fake.click();

    // Assess
    expect(ticked(fake.boxes)).toEqual(['gracia']);
    expect(fake.status.textContent).toBe('Found: Gràcia');
    expect(fake.button.disabled).toBe(false);
    expect(fake.calls).toEqual({ current: 1, watch: 0 });
  });

  it('says so when the position is in no zone, and unticks nothing', () => {
    // Prepare
    const fake = page(at(41.37, 2.22));
    fake.boxes[0]!.checked = true;

    // Act
    fake.click();

    // Assess
    expect(ticked(fake.boxes)).toEqual(['ciutat-vella']);
    expect(fake.status.textContent).toBe('None');
  });

  it.each(Object.entries({ 1: 'Denied', 2: 'Unavailable', 3: 'Unavailable' }))(
    'reports geolocation error %s as %s',
    (code, message) => {
      // Prepare
      const fake = page((_ok, fail) => fail({ code: Number(code), message: 'no' }));

      // Act
      fake.click();

      // Assess
      expect(fake.status.textContent).toBe(message);
      expect(fake.boxes.some((b) => b.checked)).toBe(false);
      expect(fake.button.disabled).toBe(false);
    },
  );

  it('agrees with pointInPolygon across the city (it is its twin)', () => {
    let here = { lat: 0, lon: 0 };
    const fake = page((ok) => at(here.lat, here.lon)(ok));
    for (let lat = 41.32; lat < 41.47; lat += 0.0031) {
      for (let lon = 2.05; lon < 2.23; lon += 0.0037) {
        // Act
        here = { lat, lon };
        for (const box of fake.boxes) box.checked = false;
        fake.click();

        // Assess
        expect(ticked(fake.boxes)).toEqual(zonesAt({ lat, lon }));
      }
    }
  });
});

describe('zonePolygonsJson', () => {
  it('carries each drawn zone as [lat, lon] pairs, and cannot close its script element', () => {
    // Prepare
    const hostile = [{ id: 'h', name: 'H', polygon: ['41.1,2.1', '41.2,2.1', '41.2,2.2', '41.1,2.1'] }];

    // Act
    const json = zonePolygonsJson([...catalog.zones, ...hostile, { id: 'bare', name: 'Bare' }], {
      h: '</script><script>alert(1)</script><!--',
    });

    // Assess
    expect(json).not.toMatch(/<\/script|<!--|</i);
    const parsed = JSON.parse(json) as { id: string; name?: string; polygon: [number, number][] }[];
    expect(parsed.map((z) => z.id)).toEqual([...seed.zones.map((z) => z.id), 'h']);
    const polygon = hostile[0]!.polygon.map((p) => p.split(',').map(Number));
    expect(parsed.at(-1)).toEqual({ id: 'h', name: '</script><script>alert(1)</script><!--', polygon });
  });
});
