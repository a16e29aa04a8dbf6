/**
 * The alert as the API speaks it: CAP 1.2 in spirit, field names in camelCase.
 * These schemas are the single source of truth for request validation, the response shapes and the
 * OpenAPI document served at /v1/openapi.json (see schemas/openapi.ts).
 */
import * as z from 'zod';
import { timeProblems } from '../functions/core/cap-times';
import { Channel } from './channel';
import { refuseBidiControls, refuseUnsafe, text, title } from './text';
import {
  ALERT_STATES,
  ALERT_STATUSES,
  CATEGORIES,
  CERTAINTIES,
  MSG_TYPES,
  SEVERITIES,
  URGENCIES,
} from './vocabulary';

export { Channel } from './channel';
export { CHANNELS } from './vocabulary';

export const AlertStatus = z.enum(ALERT_STATUSES);
export const Category = z.enum(CATEGORIES);
export const Urgency = z.enum(URGENCIES);
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;
export const Certainty = z.enum(CERTAINTIES);
export const MsgType = z.enum(MSG_TYPES);
export type MsgType = z.infer<typeof MsgType>;

const isLanguageTag = (tag: string): boolean => {
  try {
    return Intl.getCanonicalLocales(tag).length === 1 && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(tag);
  } catch {
    return false;
  }
};
export const LanguageTag = z
  .string()
  .max(35)
  .refine(isLanguageTag, 'must be a BCP 47 language tag such as "en-US" or "ca"');

/** The URL as written is what SMS and posts show: nothing an output cannot carry, nothing that reorders it. */
const httpsUrl = z
  .url({ protocol: /^https?$/, error: 'must be an absolute http(s) URL' })
  .max(2048, 'must be at most 2048 characters')
  .superRefine(refuseUnsafe)
  .superRefine(refuseBidiControls);

/**
 * An image Herald fetches itself (X uploads it) or hands to Meta: https only, so nobody on the path can swap it,
 * and the guarded fetcher (functions/adapters/net) checks where it points before it is fetched.
 */
const imageUrl = z
  .url({ protocol: /^https$/, error: 'must be an absolute https URL: images are fetched over TLS only' })
  .max(2048, 'must be at most 2048 characters')
  .superRefine(refuseUnsafe)
  .superRefine(refuseBidiControls);

const latitude = z.number().min(-90).max(90);
const longitude = z.number().min(-180).max(180);
export const Point = z.tuple([latitude, longitude]).meta({ description: '[latitude, longitude] in WGS 84' });

/** CAP writes polygons as "lat,lon lat,lon …"; the API accepts that or an array of points, and answers with points. */
const capPointList = z
  .string()
  .max(100_000)
  .transform((s, ctx) => {
    const points = s
      .trim()
      .split(/\s+/)
      .map((pair) => pair.split(',').map(Number));
    if (points.some((p) => p.length !== 2 || p.some((n) => !Number.isFinite(n)))) {
      ctx.addIssue({ code: 'custom', message: 'must be "lat,lon" pairs separated by spaces' });
      return z.NEVER;
    }
    return points as [number, number][];
  })
  .pipe(z.array(Point));

export const Polygon = z
  .union([z.array(Point), capPointList])
  .pipe(
    z
      .array(Point)
      .min(4, 'a polygon needs at least 4 points (the first repeated as the last)')
      .max(1000, 'a polygon may have at most 1000 points'),
  )
  .refine((pts) => {
    const first = pts[0];
    const last = pts[pts.length - 1];
    return first !== undefined && last !== undefined && first[0] === last[0] && first[1] === last[1];
  }, 'a polygon must be closed: its last point must equal its first')
  .meta({
    description: 'closed ring of at least 4 points, as [[lat, lon], …] or CAP\'s "lat,lon lat,lon …"',
  });

export const Circle = z.strictObject({
  center: Point,
  radiusKm: z.number().positive('must be greater than 0').max(20_000),
});

export const ZoneId = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be a zone id: lower-case letters, digits and hyphens')
  .max(64);

export const Area = z
  .strictObject({
    zone: ZoneId.optional(),
    areaDesc: text(500).optional(),
    polygon: Polygon.optional(),
    circle: Circle.optional(),
  })
  .refine((a) => a.zone !== undefined || a.areaDesc !== undefined, {
    message: 'an area needs a zone or an areaDesc',
    path: ['areaDesc'],
  });
export type Area = z.infer<typeof Area>;

export const Image = z.union([
  imageUrl.transform((url) => ({ url })),
  z.strictObject({ url: imageUrl, alt: text(1000).optional() }),
]);

/** The text fields that can be said in another language. */
export const Translation = z.strictObject({
  language: LanguageTag,
  event: title(100).optional(),
  headline: title(160),
  description: text(8000),
  instruction: text(4000).optional(),
});
export type Translation = z.infer<typeof Translation>;

const futureDateTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with an offset',
});

/** A moment with an explicit offset: CAP's times (effective, onset, expires) and a version's publishAt. */
const dateTimeWithOffset = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with an offset, e.g. 2026-12-06T08:00:00+01:00',
});

/**
 * When a version goes out, if not at once: from now to PUBLISH_AT_MAX_DAYS ahead. Only the format is checked here;
 * the window depends on the clock, so the API checks it (functions/core/schedule.ts) and names this field.
 */
export const PublishAt = dateTimeWithOffset.meta({
  description:
    'when this version goes out (ISO 8601 with an offset, from now to 90 days ahead); until then it is `scheduled`: sent nowhere, in no feed',
});
export { PUBLISH_AT_MAX_DAYS } from './vocabulary';

const draftFields = {
  status: AlertStatus,
  category: Category,
  event: title(100),
  urgency: Urgency,
  severity: Severity,
  certainty: Certainty,
  headline: title(160),
  description: text(8000),
  instruction: text(4000).optional(),
  language: LanguageTag,
  translations: z.array(Translation).max(10, 'at most 10 translations').optional(),
  areas: z.array(Area).max(50, 'at most 50 areas').optional(),
  channels: z.array(Channel).min(1, 'name at least one channel'),
  /** CAP `effective`: from when the information applies (defaults, in CAP, to when it is sent). */
  effective: dateTimeWithOffset.optional(),
  /** CAP `onset`: when the event itself begins (a road closes at 08:00). */
  onset: dateTimeWithOffset.optional(),
  expires: futureDateTime.optional(),
  web: httpsUrl.optional(),
  contact: text(500).optional(),
  image: Image.optional(),
};

const noDuplicateChannels = (channels: readonly string[]) => new Set(channels).size === channels.length;

function checkTranslations(
  d: { language: string; translations?: Translation[] | undefined },
  ctx: z.RefinementCtx,
): void {
  const seen = new Set([d.language.toLowerCase()]);
  d.translations?.forEach((t, i) => {
    const tag = t.language.toLowerCase();
    if (seen.has(tag))
      ctx.addIssue({
        code: 'custom',
        path: ['translations', i, 'language'],
        message: 'each language may appear once, and not repeat the alert language',
      });
    seen.add(tag);
  });
}

/**
 * CAP's times in order (functions/core/cap-times.ts), each problem on the field it names. On an update only the
 * times the patch itself gives are compared here; the API checks the content merged from it as well.
 */
function checkTimeOrder(
  times: {
    effective?: string | null | undefined;
    onset?: string | null | undefined;
    expires?: string | null | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const given = (t: string | null | undefined) => t ?? undefined;
  for (const problem of timeProblems({
    effective: given(times.effective),
    onset: given(times.onset),
    expires: given(times.expires),
  }))
    ctx.addIssue({ code: 'custom', path: [problem.path.slice(1)], message: problem.message });
}

/** Body of POST /v1/alerts and POST /v1/alerts/preview. */
export const AlertDraft = z
  .strictObject({ ...draftFields, publishAt: PublishAt.optional() })
  .superRefine((d, ctx) => {
    if (!noDuplicateChannels(d.channels))
      ctx.addIssue({ code: 'custom', path: ['channels'], message: 'each channel may appear once' });
    checkTranslations(d, ctx);
    checkTimeOrder(d, ctx);
  })
  .meta({ id: 'AlertDraft' });
export type AlertDraft = z.infer<typeof AlertDraft>;

/**
 * The content every stored version holds: the draft, normalised (image as an object, areas and translations as
 * arrays). `publishAt` is not content: it belongs to one version (StoredVersion.publishAt) and never carries over.
 */
export type AlertContent = Omit<AlertDraft, 'image' | 'translations' | 'areas' | 'publishAt'> & {
  image?: { url: string; alt?: string | undefined } | undefined;
  translations: Translation[];
  areas: Area[];
};

/**
 * Body of POST /v1/alerts/{id}/updates: JSON merge-patch (RFC 7396) over the fields an update may change.
 * `null` removes an optional field. Status and category are not here: an exercise does not become real by update.
 */
export const UpdatePatch = z
  .strictObject({
    event: title(100).optional(),
    urgency: Urgency.optional(),
    severity: Severity.optional(),
    certainty: Certainty.optional(),
    headline: title(160).optional(),
    description: text(8000).optional(),
    instruction: text(4000).nullable().optional(),
    translations: z.array(Translation).max(10).nullable().optional(),
    areas: z.array(Area).max(50).nullable().optional(),
    channels: z.array(Channel).min(1, 'name at least one channel').optional(),
    effective: dateTimeWithOffset.nullable().optional(),
    onset: dateTimeWithOffset.nullable().optional(),
    expires: futureDateTime.nullable().optional(),
    web: httpsUrl.nullable().optional(),
    contact: text(500).nullable().optional(),
    image: Image.nullable().optional(),
    /** Not merged: when this update goes out (absent: at once). */
    publishAt: PublishAt.optional(),
    /**
     * A waiting version (scheduled, or held for approval) this update takes the place of: it never goes out, and
     * this one goes out instead, at its own publishAt or at once. Without it, see functions/core/schedule.ts.
     */
    replaces: z.number().int().positive().optional().meta({
      description:
        'the number of a waiting (scheduled or held) version this update replaces: that one never goes out',
    }),
  })
  .refine((p) => Object.keys(p).length > 0, 'an update must change at least one field')
  .refine((p) => p.channels === undefined || noDuplicateChannels(p.channels), {
    message: 'each channel may appear once',
    path: ['channels'],
  })
  .superRefine(checkTimeOrder)
  .meta({ id: 'UpdatePatch' });
export type UpdatePatch = z.infer<typeof UpdatePatch>;

export const CancelBody = z
  .strictObject({
    reason: text(500).optional(),
    description: text(8000).optional(),
  })
  .meta({ id: 'CancelBody' });
export type CancelBody = z.infer<typeof CancelBody>;

export const ApproveBody = z
  .strictObject({
    note: text(1000).optional(),
    version: z.number().int().positive().optional().meta({
      description: 'the held version to release; without it, every version of the alert held for approval',
    }),
  })
  .meta({ id: 'ApproveBody' });
export type ApproveBody = z.infer<typeof ApproveBody>;

export const AlertState = z.enum(ALERT_STATES);
export type AlertState = z.infer<typeof AlertState>;
/**
 * `scheduled`: waits for its publishAt; `withdrawn`: a waiting version an officer removed (or the alert's cancel
 * took away) before it went out; `superseded`: replaced by a newer version before it went out.
 */
export const VersionState = z.enum([
  'scheduled',
  'pending-approval',
  'superseded',
  'withdrawn',
  'dispatching',
  'sent',
]);
export type VersionState = z.infer<typeof VersionState>;

const isoDateTime = z.string().meta({ format: 'date-time' });

export const Approval = z.object({
  required: z.boolean(),
  approvedBy: z.string().optional(),
  approvedAt: isoDateTime.optional(),
  note: z.string().optional(),
});

/** One immutable version as GET /v1/alerts/{id}/versions/{n} returns it. */
export const AlertVersion = z
  .object({
    ...draftFields,
    image: z.object({ url: z.string(), alt: z.string().optional() }).optional(),
    translations: z.array(Translation),
    areas: z.array(
      z.object({
        zone: z.string().optional(),
        areaDesc: z.string().optional(),
        polygon: z.array(Point).optional(),
        circle: Circle.optional(),
      }),
    ),
    expires: isoDateTime.optional(),
    id: z.string(),
    version: z.number().int().positive(),
    identifier: z.string().meta({ description: 'CAP identifier of this version' }),
    msgType: MsgType,
    sent: isoDateTime,
    sender: z.string(),
    references: z
      .array(z.string())
      .meta({ description: 'CAP references: "sender,identifier,sent" of each earlier version' }),
    note: z.string().optional().meta({ description: 'CAP note: the reason given for a cancel' }),
    publishAt: isoDateTime
      .optional()
      .meta({ description: 'when this version goes (or went) out, if it was scheduled' }),
    replaces: z
      .array(z.number().int().positive())
      .optional()
      .meta({ description: 'waiting versions this one took the place of: they never go out' }),
    author: z.string(),
    approval: Approval,
    state: VersionState,
  })
  .meta({ id: 'AlertVersion' });
export type AlertVersion = z.infer<typeof AlertVersion>;

export const VersionSummary = z
  .object({
    version: z.number().int().positive(),
    msgType: MsgType,
    sent: isoDateTime,
    author: z.string(),
    headline: z.string(),
    state: VersionState,
    publishAt: isoDateTime.optional(),
  })
  .meta({ id: 'VersionSummary' });

/** An alert: its current version's fields at top level, the alert's state, and every version in short. */
export const Alert = AlertVersion.omit({ state: true })
  .extend({
    state: AlertState,
    nextPublishAt: isoDateTime
      .optional()
      .meta({ description: 'when the next scheduled version of this alert goes out' }),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
    versions: z.array(VersionSummary),
  })
  .meta({ id: 'Alert' });
export type Alert = z.infer<typeof Alert>;

/** A version still to go out, as GET /v1/alerts?state=scheduled lists it. */
export const ScheduledStep = z
  .object({
    version: z.number().int().positive(),
    msgType: MsgType,
    publishAt: isoDateTime,
    headline: z.string(),
    author: z.string(),
    state: z.enum(['scheduled', 'pending-approval']),
  })
  .meta({ id: 'ScheduledStep' });

export const AlertList = z
  .object({
    items: z.array(
      Alert.omit({ versions: true }).extend({
        scheduled: z
          .array(ScheduledStep)
          .optional()
          .meta({ description: 'with ?state=scheduled: the versions still to go out, soonest first' }),
      }),
    ),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'pass as ?cursor= for the next page; absent on the last' }),
  })
  .meta({ id: 'AlertList' });
