/**
 * A version as OASIS CAP 1.2 XML: what the email channel attaches, what webhooks can carry, and what media
 * feeds link to. Pure: element order follows the CAP 1.2 schema (a sequence, so order matters), one <info> per
 * language, and every value escaped.
 */
import type { AlertContent, Area } from '../../schemas/alert';
import { safeText } from '../../schemas/text';
import { capDateTime } from './alerts';
import type { StoredVersion } from './model';
import type { ZoneCatalog } from './zones';

export const CAP_NAMESPACE = 'urn:oasis:names:tc:emergency:cap:1.2';
export const CAP_MEDIA_TYPE = 'application/cap+xml';

/**
 * XML 1.0 text and attribute escaping. Characters XML cannot carry (in text stored before the API refused them)
 * become U+FFFD, so the document stays well-formed; a carriage return is written as a reference, since a parser
 * would otherwise read it back as a line feed.
 */
export function escapeXml(text: string): string {
  return safeText(text).replace(
    /[&<>"'\r]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' })[c]!,
  );
}

const element = (name: string, value: string | number | undefined, indent: string): string =>
  value === undefined || value === '' ? '' : `${indent}<${name}>${escapeXml(String(value))}</${name}>\n`;

/**
 * CAP's dateTime: an explicit offset, no fraction of a second. Every time of a message (effective, onset, expires)
 * is written in UTC, "-00:00", like its `sent`: one offset throughout, so a receiver compares them as written, and
 * the same instant always reads the same whatever offset the officer typed it in (an update that only restates a
 * time in another offset changes nothing). The agency's local clock is for people: the texts, email and page say
 * the times on it.
 */
export const capTime = (iso: string): string => capDateTime(new Date(iso));

const point = ([lat, lon]: readonly [number, number]) => `${lat},${lon}`;

export interface CapOptions {
  /** CAP senderName: the agency as people know it. */
  agencyName: string;
  /**
   * A zone's display name, for areas given only as a zone id; `language` is the <info>'s own, so each language's
   * areaDesc can read as its residents know the place. Undefined for a zone it does not know (the id is written).
   */
  zoneName?: (zoneId: string, language: string) => string | undefined;
  /** The geocode valueName under which zone ids are published. */
  zoneGeocodeName?: string;
}

function areaXml(area: Area, language: string, options: CapOptions): string {
  const indent = '      ';
  const desc = area.areaDesc ?? (area.zone ? (options.zoneName?.(area.zone, language) ?? area.zone) : '');
  let xml = `${indent.slice(2)}<area>\n${element('areaDesc', desc, indent)}`;
  if (area.polygon) xml += element('polygon', area.polygon.map(point).join(' '), indent);
  if (area.circle) xml += element('circle', `${point(area.circle.center)} ${area.circle.radiusKm}`, indent);
  if (area.zone)
    xml += `${indent}<geocode>\n${element('valueName', options.zoneGeocodeName ?? 'herald:zone', `${indent}  `)}${element('value', area.zone, `${indent}  `)}${indent}</geocode>\n`;
  return `${xml}${indent.slice(2)}</area>\n`;
}

function resourceXml(content: AlertContent): string {
  if (!content.image) return '';
  const indent = '      ';
  const path = new URL(content.image.url).pathname.toLowerCase();
  const mimeType = path.endsWith('.png') ? 'image/png' : path.endsWith('.gif') ? 'image/gif' : 'image/jpeg';
  return `    <resource>\n${element('resourceDesc', content.image.alt ?? 'Image', indent)}${element('mimeType', mimeType, indent)}${element('uri', content.image.url, indent)}    </resource>\n`;
}

function infoXml(
  content: AlertContent,
  text: {
    language: string;
    event: string;
    headline: string;
    description: string;
    instruction?: string | undefined;
  },
  options: CapOptions,
): string {
  const i = '    ';
  return [
    '  <info>\n',
    element('language', text.language, i),
    element('category', content.category, i),
    element('event', text.event, i),
    element('urgency', content.urgency, i),
    element('severity', content.severity, i),
    element('certainty', content.certainty, i),
    content.effective ? element('effective', capTime(content.effective), i) : '',
    content.onset ? element('onset', capTime(content.onset), i) : '',
    content.expires ? element('expires', capTime(content.expires), i) : '',
    element('senderName', options.agencyName, i),
    element('headline', text.headline, i),
    element('description', text.description, i),
    element('instruction', text.instruction, i),
    element('web', content.web, i),
    element('contact', content.contact, i),
    resourceXml(content),
    ...content.areas.map((a) => areaXml(a, text.language, options)),
    '  </info>\n',
  ].join('');
}

/** CapOptions.zoneName from the zone catalogue: the zone's name in the <info>'s language, else its own name. */
export const zoneNamesFrom =
  (zones: Pick<ZoneCatalog, 'has' | 'nameIn'>) =>
  (zoneId: string, language: string): string | undefined =>
    zones.has(zoneId) ? zones.nameIn(zoneId, language) : undefined;

export function toCapXml(version: StoredVersion, options: CapOptions): string {
  const { content } = version;
  const infos = [
    infoXml(content, content, options),
    ...content.translations.map((t) =>
      infoXml(
        content,
        {
          language: t.language,
          event: t.event ?? content.event,
          headline: t.headline,
          description: t.description,
          instruction: t.instruction,
        },
        options,
      ),
    ),
  ];
  return [
    '<?xml version="1.0" encoding="UTF-8"?>\n',
    `<alert xmlns="${CAP_NAMESPACE}">\n`,
    element('identifier', version.identifier, '  '),
    element('sender', version.sender, '  '),
    element('sent', version.sent, '  '),
    element('status', content.status, '  '),
    element('msgType', version.msgType, '  '),
    element('scope', 'Public', '  '),
    element('note', version.note, '  '),
    version.references.length > 0 ? element('references', version.references.join(' '), '  ') : '',
    ...infos,
    '</alert>\n',
  ].join('');
}
