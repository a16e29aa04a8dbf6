/**
 * "Find my zone": the site's one script, served as a file (the CSP has no 'unsafe-inline'). The page works
 * without it; the script only wakes up a button that would be dead without it, asks the browser for one
 * position when pressed, and ticks the zone boxes whose polygons contain it. The position never leaves the
 * page: nothing is sent, stored or logged, and there is no watch running afterwards.
 *
 * The page supplies everything the script says (data-* templates on the button, in the page's language) and
 * the polygons (a JSON data block, which a CSP allows because it is never executed). The ray casting is
 * pointInPolygon's twin in ../map.ts; the tests hold them to the same answers on the seeded zones.
 *
 * ES5 syntax on purpose: it is tiny either way, and old phones are the ones most likely to need it.
 */
import type { Zone } from '../../ports';
import { parseZonePolygon } from '../map';

export const FIND_ZONE_SCRIPT = `(function () {
  'use strict';
  var d = document, button = d.querySelector('[data-find-zone]'), status = d.querySelector('[data-find-zone-status]');
  var data = d.getElementById('zone-polygons'), geo = navigator.geolocation, zones;
  if (!button || !status || !data || !geo) return;
  try { zones = JSON.parse(data.textContent); } catch (e) { return; }
  function inside(lat, lon, ring) {
    var c = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var a = ring[i], b = ring[j];
      if ((a[0] > lat) !== (b[0] > lat) && lon < (b[1] - a[1]) * (lat - a[0]) / (b[0] - a[0]) + a[1]) c = !c;
    }
    return c;
  }
  function say(key, names) {
    status.textContent = (button.getAttribute('data-' + key) || '').replace('{zones}', names || '');
  }
  function boxFor(id) {
    var boxes = d.querySelectorAll('input[name="zones"]');
    for (var i = 0; i < boxes.length; i++) if (boxes[i].value === id) return boxes[i];
  }
  function found(pos) {
    var lat = pos.coords.latitude, lon = pos.coords.longitude, names = [];
    button.disabled = false;
    for (var i = 0; i < zones.length; i++) {
      var z = zones[i], box = boxFor(z.id);
      if (!box || !inside(lat, lon, z.polygon)) continue;
      box.checked = true;
      names.push(z.name || z.id);
    }
    say(names.length ? 'found' : 'none', names.join(', '));
  }
  function failed(err) {
    button.disabled = false;
    say(err && err.code === 1 ? 'denied' : 'unavailable');
  }
  var note = d.querySelector('[data-find-zone-note]');
  if (note) note.hidden = false;
  button.hidden = false;
  button.addEventListener('click', function () {
    button.disabled = true;
    status.textContent = button.getAttribute('data-locating') || '';
    geo.getCurrentPosition(found, failed, { enableHighAccuracy: false, timeout: 20000, maximumAge: 0 });
  });
})();
`;

/**
 * The `<script type="application/json" id="zone-polygons">` block's content: `[{id, name?, polygon: [[lat, lon], …]}]`
 * for the zones that have a polygon. Names (the page's language) are what the status message lists. Every `<`
 * is written `\u003c`, which JSON reads back as `<`, so no value can close the script element or open a comment.
 */
export function zonePolygonsJson(zones: readonly Zone[], names?: Readonly<Record<string, string>>): string {
  const blocks = zones.flatMap((z) => {
    const polygon = parseZonePolygon(z.polygon);
    if (!polygon) return [];
    const name = names?.[z.id];
    return [{ id: z.id, ...(name ? { name } : {}), polygon: polygon.map((p) => [p.lat, p.lon]) }];
  });
  return JSON.stringify(blocks).replace(/</g, '\\u003c');
}
