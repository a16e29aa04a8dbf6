/**
 * The rules of the CAP 1.2 specification that its XSD cannot express: each broken rule is one problem naming
 * the element. Pure; run after the schema check, on a parsed message.
 */
import type { CapMessage, CapProblem, Located } from './cap-parse';

/** CAP 1.2 §3.3.2: a date-time with an explicit numeric offset, no "Z", no fraction. */
const CAP_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/;
/** identifier, sender: no spaces, commas, or the restricted characters < and &. */
const TOKEN = /^[^\s,<&]+$/;
const LANGUAGE = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

export const isCapDateTime = (s: string): boolean => CAP_DATE_TIME.test(s) && !Number.isNaN(Date.parse(s));

/** A WGS 84 "lat,lon" pair, or undefined. */
export function capPoint(pair: string): [number, number] | undefined {
  const parts = pair.split(',');
  if (parts.length !== 2 || parts.some((p) => p.trim() === '')) return undefined;
  const [lat, lon] = parts.map(Number) as [number, number];
  if (!Number.isFinite(lat) || !Number.isFinite(lon)) return undefined;
  if (lat < -90 || lat > 90 || lon < -180 || lon > 180) return undefined;
  return [lat, lon];
}

export function capPolygonPoints(text: string): [number, number][] | undefined {
  const points = text.trim().split(/\s+/).map(capPoint);
  return points.every((p) => p !== undefined) ? (points as [number, number][]) : undefined;
}

export function capCircle(text: string): { center: [number, number]; radiusKm: number } | undefined {
  const [pair, radius, ...rest] = text.trim().split(/\s+/);
  const center = pair === undefined ? undefined : capPoint(pair);
  const radiusKm = Number(radius);
  if (!center || rest.length || radius === undefined || !Number.isFinite(radiusKm)) return undefined;
  return { center, radiusKm };
}

export interface CapReference {
  sender: string;
  identifier: string;
  sent: string;
}

/** The "sender,identifier,sent" triples of `references`, or undefined when any is malformed. */
export function capReferences(text: string): CapReference[] | undefined {
  const entries = text.trim().split(/\s+/).filter(Boolean);
  const out: CapReference[] = [];
  for (const entry of entries) {
    const [sender, identifier, sent, ...rest] = entry.split(',');
    if (rest.length || !sender || !identifier || !sent || !isCapDateTime(sent)) return undefined;
    out.push({ sender, identifier, sent });
  }
  return out;
}

export function capRuleProblems(message: CapMessage): CapProblem[] {
  const problems: CapProblem[] = [];
  const add = (path: string, text: string) => problems.push({ path, message: text });
  const date = (field: Located | undefined) => {
    if (field && !isCapDateTime(field.value))
      add(
        field.path,
        'must be a date-time with a numeric offset and no fraction, e.g. 2026-11-21T07:05:00-00:00 ("Z" is not allowed)',
      );
  };
  for (const field of [message.identifier, message.sender])
    if (field && !TOKEN.test(field.value)) add(field.path, 'must not contain spaces, commas, "<" or "&"');
  date(message.sent);

  const msgType = message.msgType?.value;
  const references = message.references;
  if (
    (msgType === 'Update' || msgType === 'Cancel' || msgType === 'Ack' || msgType === 'Error') &&
    (!references || references.value.trim() === '')
  )
    add(
      references?.path ?? '/alert/references',
      `${msgType === 'Update' || msgType === 'Ack' || msgType === 'Error' ? 'an' : 'a'} ${msgType} must name the messages it refers to ("sender,identifier,sent" each)`,
    );
  else if (references && references.value.trim() !== '' && !capReferences(references.value))
    add(
      references.path,
      'each entry must be "sender,identifier,sent", separated by spaces, with sent a CAP date-time',
    );

  const scope = message.scope?.value;
  if (scope === 'Restricted' && !message.restriction?.value.trim())
    add(message.restriction?.path ?? '/alert/restriction', 'a Restricted message must say its restriction');
  if (scope === 'Private' && !message.addresses?.value.trim())
    add(message.addresses?.path ?? '/alert/addresses', 'a Private message must name its addresses');

  for (const info of message.infos) {
    if (!LANGUAGE.test(info.language.value))
      add(info.language.path, 'must be an RFC 3066 language tag such as en-US');
    date(info.effective);
    date(info.onset);
    date(info.expires);
    const expires =
      info.expires && isCapDateTime(info.expires.value) ? Date.parse(info.expires.value) : undefined;
    for (const start of [info.effective, info.onset, message.sent])
      if (expires !== undefined && start && isCapDateTime(start.value) && Date.parse(start.value) > expires)
        add(info.expires!.path, `must not be before ${start.path.split('/').at(-1)} (${start.value})`);
    if (info.web && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(info.web.value.trim()))
      add(info.web.path, 'must be an absolute URI');
    for (const resource of info.resources) {
      if (resource.size && !/^\d+$/.test(resource.size.value.trim()))
        add(resource.size.path, 'must be a whole number of bytes');
      if (
        resource.uri &&
        !/^[a-z][a-z0-9+.-]*:\S+$/i.test(resource.uri.value.trim()) &&
        !resource.uri.value.startsWith('/')
      )
        add(resource.uri.path, 'must be a URI');
    }
    for (const area of info.areas) {
      for (const polygon of area.polygons) {
        const points = capPolygonPoints(polygon.value);
        if (!points)
          add(
            polygon.path,
            'must be "lat,lon" pairs (WGS 84: latitude -90..90, longitude -180..180) separated by spaces',
          );
        else if (points.length < 4)
          add(
            polygon.path,
            `a polygon needs at least 4 points, the first repeated as the last; it has ${points.length}`,
          );
        else {
          const [first, last] = [points[0]!, points[points.length - 1]!];
          if (first[0] !== last[0] || first[1] !== last[1])
            add(polygon.path, 'a polygon must be closed: its last point must equal its first');
        }
      }
      for (const circle of area.circles) {
        const parsed = capCircle(circle.value);
        if (!parsed) add(circle.path, 'must be "lat,lon radius" (WGS 84 centre, radius in kilometres)');
        else if (parsed.radiusKm < 0) add(circle.path, 'the radius must not be negative');
      }
      for (const [i, geocode] of area.geocodes.entries())
        if (!geocode.valueName.trim() || !geocode.value.trim())
          add(`${area.path}/geocode/${i}`, 'needs a valueName and a value');
      if (area.ceiling && !area.altitude) add(area.ceiling.path, 'a ceiling needs an altitude');
    }
  }
  return problems;
}
