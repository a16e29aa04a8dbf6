/**
 * A parsed CAP 1.2 message → what Herald does with it: an `Alert` becomes a draft, an `Update` an update patch
 * over the alert its `references` name, a `Cancel` a cancel. Pure: the api looks the referenced alert up.
 *
 * Mapping: the first <info> of each language gives that language's text (the first language is the alert's
 * own, the others translations); areas come from every <info> in the alert's own language; each extra polygon
 * or circle of an area becomes an area of its own; a geocode named `herald:zone` is a zone; an image resource
 * is the alert's image. What Herald cannot carry (other geocodes, parameters, repeated infos' text) is named in
 * `warnings`, so the officer sees it in the preview.
 */
import { createHash } from 'node:crypto';
import type { AlertContent } from '../../schemas/alert';
import { AlertDraft, type Area, CHANNELS, type Channel, type UpdatePatch } from '../../schemas/alert';
import type { CapInfo, CapMessage, CapProblem, Located } from './cap-parse';
import { CapRefused } from './cap-parse';
import { type CapReference, capCircle, capPolygonPoints, capReferences } from './cap-rules';

export const ZONE_GEOCODE = 'herald:zone';

export interface CapImportOptions {
  now: Date;
  /** CAP names no channels: the caller says which (default: all). */
  channels?: readonly Channel[] | undefined;
  /** A zone's display name (in the <info>'s language), so an area written as "zone + its name" reads back as the zone alone. */
  zoneName?: ((zoneId: string, language: string) => string | undefined) | undefined;
  zoneGeocodeName?: string | undefined;
}

export interface ImportedCap {
  msgType: 'Alert' | 'Update' | 'Cancel';
  identifier: string;
  sender: string;
  sent: string;
  references: CapReference[];
  /** The message's content as a full draft. */
  draft: AlertDraft;
  /** CAP `note`: a cancel's reason. */
  note?: string | undefined;
  expired: boolean;
  warnings: string[];
}

const HEADLINE_MAX = 160;

/** An element that says nothing (<contact/>, only spaces) is treated as absent. */
const present = (field: Located | undefined): Located | undefined =>
  field?.value.trim() ? field : undefined;

const refuse = (problems: CapProblem[]): never => {
  throw new CapRefused(problems, 'invalid');
};

/** The JSON Pointer of a draft field → the CAP element it came from, for naming elements in draft errors. */
type Origins = Map<string, string>;

function areasOf(
  info: CapInfo,
  options: CapImportOptions,
  origins: Origins,
  warnings: string[],
  start: number,
): Area[] {
  const zoneGeocode = options.zoneGeocodeName ?? ZONE_GEOCODE;
  const out: Area[] = [];
  for (const area of info.areas) {
    const zone = area.geocodes.find((g) => g.valueName === zoneGeocode)?.value.trim();
    for (const g of area.geocodes)
      if (g.valueName !== zoneGeocode)
        warnings.push(
          `${area.path}: the geocode ${g.valueName}=${g.value} is not carried (Herald keeps zones, polygons and circles)`,
        );
    const desc = present(area.areaDesc)?.value;
    const descIsZoneName =
      zone !== undefined && (desc === zone || desc === options.zoneName?.(zone, info.language.value));
    const base: Area = {
      ...(zone !== undefined ? { zone } : {}),
      ...(desc !== undefined && !descIsZoneName ? { areaDesc: desc } : {}),
    };
    const shapes: {
      polygon?: [number, number][];
      circle?: { center: [number, number]; radiusKm: number };
      path: string;
    }[] = [
      ...area.polygons.map((p) => ({ polygon: capPolygonPoints(p.value) ?? [], path: p.path })),
      ...area.circles.flatMap((c) => {
        const circle = capCircle(c.value);
        if (circle?.radiusKm === 0) {
          // A radius of 0 marks a point (an epicentre); Herald's circles cover an area, so the point is not carried.
          warnings.push(`${c.path}: a circle of radius 0 (a point) is not carried`);
          return [];
        }
        return [{ ...(circle ? { circle } : {}), path: c.path }];
      }),
    ];
    if (shapes.length === 0) {
      origins.set(`/areas/${start + out.length}`, area.path);
      out.push(base);
    }
    for (const shape of shapes) {
      const i = start + out.length;
      origins.set(`/areas/${i}`, area.path);
      origins.set(`/areas/${i}/${shape.polygon ? 'polygon' : 'circle'}`, shape.path);
      // A zone is said once: extra shapes of the same area keep its description, not the zone again.
      const own = shape === shapes[0] ? base : { areaDesc: desc ?? zone ?? '' };
      out.push({
        ...own,
        ...(shape.polygon ? { polygon: shape.polygon } : {}),
        ...(shape.circle ? { circle: shape.circle } : {}),
      });
    }
  }
  return out;
}

function textOf(info: CapInfo, origins: Origins, prefix: string, warnings: string[]) {
  const event = info.event?.value ?? '';
  if (info.event) origins.set(`${prefix}/event`, info.event.path);
  let headline = present(info.headline)?.value ?? event;
  if (headline.length > HEADLINE_MAX) {
    // CAP asks for headlines under 160 characters; a longer one is shortened, the description keeps the detail.
    warnings.push(`${info.headline?.path}: shortened to ${HEADLINE_MAX} characters`);
    headline = `${headline.slice(0, HEADLINE_MAX - 1).trimEnd()}…`;
  }
  origins.set(`${prefix}/headline`, info.headline?.path ?? info.event?.path ?? info.path);
  if (!info.headline) warnings.push(`${info.path}: no headline; the event ("${event}") stands in for it`);
  const description = present(info.description)?.value ?? headline;
  origins.set(`${prefix}/description`, info.description?.path ?? info.path);
  if (!info.description) warnings.push(`${info.path}: no description; the headline stands in for it`);
  const instruction = present(info.instruction);
  if (instruction) origins.set(`${prefix}/instruction`, instruction.path);
  origins.set(`${prefix}/language`, info.language.path);
  return { event, headline, description, ...(instruction ? { instruction: instruction.value } : {}) };
}

export function importCap(message: CapMessage, options: CapImportOptions): ImportedCap {
  const warnings: string[] = [];
  const problems: CapProblem[] = [];
  const msgType = message.msgType?.value;
  if (msgType !== 'Alert' && msgType !== 'Update' && msgType !== 'Cancel')
    problems.push({
      path: message.msgType?.path ?? '/alert/msgType',
      message: `Herald takes Alert, Update and Cancel messages, not ${msgType}`,
    });
  const status = message.status?.value;
  if (status !== 'Actual' && status !== 'Exercise' && status !== 'Test')
    problems.push({
      path: message.status?.path ?? '/alert/status',
      message: `Herald publishes Actual, Exercise and Test messages, not ${status}`,
    });
  if (message.scope?.value !== 'Public')
    problems.push({
      path: message.scope?.path ?? '/alert/scope',
      message: 'Herald publishes to the public: only scope Public is accepted',
    });
  const [first] = message.infos;
  if (!first)
    problems.push({
      path: '/alert/info',
      message: 'Herald needs at least one <info>: the text and areas to publish',
    });
  if (problems.length || !first) return refuse(problems);

  const origins: Origins = new Map();
  const byLanguage = new Map<string, CapInfo>();
  for (const info of message.infos) {
    const tag = info.language.value.toLowerCase();
    if (byLanguage.has(tag))
      warnings.push(
        `${info.path}: a second <info> in ${info.language.value}; its areas are kept, its text is not`,
      );
    else byLanguage.set(tag, info);
  }
  if (first.categories.length > 1)
    warnings.push(`${first.path}: only the first category (${first.categories[0]?.value}) is kept`);
  for (const key of [
    'category',
    'urgency',
    'severity',
    'certainty',
    'effective',
    'onset',
    'expires',
    'web',
    'contact',
  ] as const) {
    const field = key === 'category' ? first.categories[0] : first[key];
    if (field) origins.set(`/${key}`, field.path);
  }
  const ownLanguage = first.language.value.toLowerCase();
  const areas: Area[] = [];
  for (const info of message.infos)
    if (info.language.value.toLowerCase() === ownLanguage)
      areas.push(...areasOf(info, options, origins, warnings, areas.length));
  const translations = [...byLanguage.values()].slice(1).map((info, i) => {
    origins.set(`/translations/${i}`, info.path);
    const { event, ...rest } = textOf(info, origins, `/translations/${i}`, warnings);
    return {
      language: info.language.value,
      ...(event !== (first.event?.value ?? '') ? { event } : {}),
      ...rest,
    };
  });
  const image = first.resources.find(
    (r) => r.mimeType?.value.startsWith('image/') && r.uri && /^https:\/\//i.test(r.uri.value.trim()),
  );
  if (image?.uri) origins.set('/image', image.uri.path);
  for (const r of first.resources)
    if (r !== image) warnings.push(`${r.path}: only one image resource (an https URI) is carried`);
  if (first.parameters.length)
    warnings.push(`${first.path}: ${first.parameters.length} parameter(s) are not carried`);

  const candidate = {
    status,
    category: first.categories[0]?.value,
    ...textOf(first, origins, '', warnings),
    urgency: first.urgency?.value,
    severity: first.severity?.value,
    certainty: first.certainty?.value,
    language: first.language.value,
    ...(translations.length ? { translations } : {}),
    ...(areas.length ? { areas } : {}),
    channels: [...(options.channels ?? CHANNELS)],
    ...(present(first.effective) ? { effective: first.effective!.value.trim() } : {}),
    ...(present(first.onset) ? { onset: first.onset!.value.trim() } : {}),
    ...(first.expires ? { expires: first.expires.value } : {}),
    ...(present(first.web) ? { web: first.web!.value.trim() } : {}),
    ...(present(first.contact) ? { contact: first.contact!.value } : {}),
    ...(image?.uri
      ? {
          image: {
            url: image.uri.value.trim(),
            ...(image.resourceDesc ? { alt: image.resourceDesc.value } : {}),
          },
        }
      : {}),
  };
  const parsed = AlertDraft.safeParse(candidate);
  if (!parsed.success)
    refuse(
      parsed.error.issues.map((issue) => {
        const pointer = issue.path.map((p) => `/${String(p)}`).join('');
        let at = pointer;
        while (at && !origins.has(at)) at = at.slice(0, at.lastIndexOf('/'));
        return {
          path: origins.get(at) ?? first.path,
          message: `${issue.message} (Herald's ${pointer || 'alert'})`,
        };
      }),
    );
  const draft = parsed.data as AlertDraft;
  const expires = draft.expires ? Date.parse(draft.expires) : undefined;
  return {
    msgType: msgType as ImportedCap['msgType'],
    identifier: message.identifier?.value ?? '',
    sender: message.sender?.value ?? '',
    sent: message.sent?.value ?? '',
    references: message.references ? (capReferences(message.references.value) ?? []) : [],
    draft,
    ...(message.note ? { note: message.note.value } : {}),
    expired: expires !== undefined && expires <= options.now.getTime(),
    warnings,
  };
}

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * The Herald alert id of an alert imported from CAP: derived from its sender and identifier, so the later
 * Update or Cancel whose references name that message finds the alert without an index, and the same Alert
 * posted twice lands on the same id (409) instead of publishing twice.
 */
export function capAlertId(sender: string, identifier: string): string {
  const digest = createHash('sha256').update(`${sender}\n${identifier}`).digest();
  let out = '';
  for (let i = 0; i < 26; i++) out += CROCKFORD[digest[i]! & 31];
  return out;
}

/** Herald's own CAP identifiers: herald-<alert id>-v<n>. */
const OWN_IDENTIFIER = /^herald-([0-9A-HJKMNP-TV-Z]{26})-v(\d+)$/;

/**
 * The alerts a message's references could name, most likely first: Herald's own messages by their identifier,
 * anyone else's by the id their Alert was imported under. Each with the highest version it names, if known.
 */
export function referencedAlerts(
  references: readonly CapReference[],
  ownSender: string,
): { alertId: string; version?: number }[] {
  const found = new Map<string, number | undefined>();
  for (const r of [...references].reverse()) {
    const own = r.sender === ownSender ? OWN_IDENTIFIER.exec(r.identifier) : null;
    if (own) {
      const version = Number(own[2]);
      const known = found.get(own[1]!);
      found.set(own[1]!, Math.max(known ?? 0, version));
    } else {
      const id = capAlertId(r.sender, r.identifier);
      if (!found.has(id)) found.set(id, undefined);
    }
  }
  return [...found].map(([alertId, version]) => ({ alertId, ...(version !== undefined ? { version } : {}) }));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** CAP writes every time in UTC (./cap): a time is the same when it names the same instant, whatever its offset. */
const sameInstant = (a: string | undefined, b: string | undefined) =>
  a === b || (a !== undefined && b !== undefined && Date.parse(a) === Date.parse(b));

/**
 * The update patch that turns `current` into the imported content: what differs, `null` for what the message
 * no longer says. Status and category cannot change by update (an exercise does not become real), and
 * channels stay the alert's own.
 */
export function updatePatchFrom(current: AlertContent, imported: AlertDraft): UpdatePatch | CapProblem[] {
  const problems: CapProblem[] = [];
  if (imported.status !== current.status)
    problems.push({
      path: '/alert/status',
      message: `is ${imported.status}; the alert is ${current.status}, and an update cannot change it`,
    });
  if (imported.category !== current.category)
    problems.push({
      path: '/alert/info/0/category',
      message: `is ${imported.category}; the alert is ${current.category}, and an update cannot change it`,
    });
  if (problems.length) return problems;
  const patch: Record<string, unknown> = {};
  for (const key of ['event', 'urgency', 'severity', 'certainty', 'headline', 'description'] as const)
    if (imported[key] !== current[key]) patch[key] = imported[key];
  for (const key of ['effective', 'onset', 'expires'] as const)
    if (!sameInstant(imported[key], current[key])) patch[key] = imported[key] ?? null;
  for (const key of ['instruction', 'web', 'contact', 'image'] as const) {
    const next =
      key === 'image' && typeof imported.image === 'string' ? { url: imported.image } : imported[key];
    if (!same(next, current[key])) patch[key] = next ?? null;
  }
  if (!same(imported.translations ?? [], current.translations))
    patch.translations = imported.translations ?? null;
  if (!same(imported.areas ?? [], current.areas)) patch.areas = imported.areas ?? null;
  // A CAP update may re-issue the same content (a new sent time, the same words): still a new version.
  if (Object.keys(patch).length === 0) patch.headline = imported.headline;
  return patch as UpdatePatch;
}
