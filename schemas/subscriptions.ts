/**
 * Residents and media outlets as the API speaks of them: zones, sign-up with double opt-in, officers' media
 * subscribers and webhooks, the CSV import's report. Addresses are accepted in full and only ever answered
 * masked; these schemas are what the routes validate and what the OpenAPI document publishes.
 */
import * as z from 'zod';
import { LanguageTag } from './alert';
import { BLANK, isBlank, safeString } from './text';

const isoDateTime = z.string().meta({ format: 'date-time' });

/** A zone id as seed/zones.json writes them. */
export const ZoneId = z
  .string()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a zone id such as "eixample" (see GET /v1/zones)');

export const ZoneList = z
  .object({
    zones: z.array(
      z.object({
        id: z.string(),
        name: z.string(),
        names: z.record(z.string(), z.string()).optional().meta({ description: 'by language' }),
        polygon: z
          .array(z.string())
          .optional()
          .meta({ description: 'WGS 84 "lat,lon" pairs, first point repeated last (CAP order)' }),
      }),
    ),
    timeZone: z.string().meta({
      description:
        "the agency's IANA time zone (HERALD_TIME_ZONE): alert times and quiet hours are on its clock",
    }),
  })
  .meta({ id: 'ZoneList' });

const address = safeString()
  .min(1, 'is required')
  .max(320, 'must be at most 320 characters')
  .meta({ description: 'a phone number in international form (+34…) or an email address' });

/** `HH:MM` on a 24-hour clock. */
const clockTime = (example: string) =>
  z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, `must be a time on a 24-hour clock such as ${example}`)
    .meta({ description: `HH:MM on the agency's clock (HERALD_TIME_ZONE), e.g. ${example}` });

/**
 * A resident's quiet hours: alerts that are not urgent wait until `to` (functions/core/quiet-hours.ts). `from` later
 * than `to` crosses midnight (22:00–07:00); equal is refused.
 */
export const QuietHours = z
  .strictObject({ from: clockTime('22:00'), to: clockTime('07:00') })
  .refine((w) => w.from !== w.to, {
    path: ['to'],
    message: 'must differ from "from": the window would be empty, or the whole day',
  })
  .meta({
    id: 'QuietHours',
    description:
      "quiet hours on the agency's clock: alerts that are not urgent (urgency other than Immediate, or severity Moderate, Minor or Unknown) wait until `to`",
  });

export const SubscriptionRequest = z
  .strictObject({
    channel: z.enum(['sms', 'email']),
    address,
    zones: z.array(ZoneId).min(1, 'must name at least one zone').max(20, 'must name at most 20 zones'),
    language: LanguageTag.default('en'),
    quietHours: QuietHours.nullable().optional().meta({
      description:
        'quiet hours to set with the confirmation (null removes them); absent leaves them as they are. Applied only once the code comes back',
    }),
  })
  .meta({ id: 'SubscriptionRequest' });
export type SubscriptionRequest = z.infer<typeof SubscriptionRequest>;

export const SubscriptionAccepted = z
  .object({
    status: z.literal('confirmation-sent'),
    channel: z.enum(['sms', 'email']),
    address: z.string().meta({ description: 'masked' }),
    expiresAt: isoDateTime,
  })
  .meta({ id: 'SubscriptionAccepted' });

export const ConfirmRequest = z
  .strictObject({
    address,
    code: z.string().regex(/^\d{6}$/, 'must be the 6 digits that were sent'),
  })
  .meta({ id: 'ConfirmRequest' });
export type ConfirmRequest = z.infer<typeof ConfirmRequest>;

export const SubscriberView = z
  .object({
    id: z.string(),
    channel: z.enum(['sms', 'email', 'webhook']),
    address: z.string().meta({ description: 'masked: never the full number, address or URL' }),
    zones: z.array(z.string()).meta({ description: 'zone ids; "*" for every zone' }),
    language: z.string(),
    status: z.enum(['pending', 'confirmed', 'stopped']),
    audience: z.enum(['public', 'test']),
    name: z.string().optional(),
    consent: z
      .object({
        at: isoDateTime,
        method: z.enum(['sms-keyword', 'web', 'import', 'officer']),
        actor: z.string(),
      })
      .optional(),
    createdAt: isoDateTime,
    updatedAt: isoDateTime,
    confirmedAt: isoDateTime.optional(),
    stoppedAt: isoDateTime.optional(),
    quietHours: QuietHours.optional(),
  })
  .meta({ id: 'Subscriber' });
export type SubscriberView = z.infer<typeof SubscriberView>;

export const SubscriberList = z
  .object({
    items: z.array(SubscriberView),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'pass as ?cursor= for the next page; absent on the last' }),
  })
  .meta({ id: 'SubscriberList' });

/** One stored change of a subscription (invariant 6): never the address, its hash or its mask. */
export const SubscriptionEventView = z
  .object({
    at: isoDateTime,
    action: z.enum([
      'requested',
      'confirmed',
      'changed',
      'stopped',
      'started',
      'imported',
      'added',
      'deleted',
      'webhook-created',
      'webhook-deleted',
      'quiet-hours-set',
      'quiet-hours-cleared',
    ]),
    actor: z.string().meta({ description: "`resident`, or the officer's id" }),
    method: z.enum(['sms-keyword', 'web', 'import', 'officer']),
    subscriberId: z.string(),
    channel: z.enum(['sms', 'email', 'webhook']),
    detail: z.string().optional().meta({ description: 'what else changed, e.g. `quiet hours 22:00-07:00`' }),
  })
  .meta({ id: 'SubscriptionEvent' });
export type SubscriptionEventView = z.infer<typeof SubscriptionEventView>;

export const SubscriptionAuditList = z
  .object({
    items: z.array(SubscriptionEventView),
    cursor: z
      .string()
      .optional()
      .meta({ description: 'pass as ?cursor= for the next page; absent on the last' }),
  })
  .meta({ id: 'SubscriptionAuditList' });

const name = safeString()
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters')
  .refine((s) => !isBlank(s), BLANK);
const consentText = safeString()
  .trim()
  .min(1, 'is required: what the outlet agreed to, and how')
  .max(1000, 'must be at most 1000 characters')
  .refine((s) => !isBlank(s), BLANK);
const mediaZones = z
  .array(z.union([z.literal('*'), ZoneId]))
  .min(1, 'must name at least one zone, or "*" for every zone')
  .max(50, 'must name at most 50 zones');

export const NewSubscriber = z
  .strictObject({
    channel: z.enum(['sms', 'email']),
    address,
    zones: mediaZones,
    language: LanguageTag.default('en'),
    name: name.optional(),
    consent: consentText,
    audience: z
      .enum(['public', 'test'])
      .default('public')
      .meta({ description: '"test": receives only Test and Exercise alerts' }),
  })
  .meta({ id: 'NewSubscriber' });
export type NewSubscriber = z.infer<typeof NewSubscriber>;

export const NewWebhook = z
  .strictObject({
    url: safeString().min(1, 'is required').max(2048, 'must be at most 2048 characters'),
    zones: mediaZones.default(['*']),
    language: LanguageTag.default('en'),
    name,
    consent: consentText.optional(),
    audience: z.enum(['public', 'test']).default('public'),
  })
  .meta({ id: 'NewWebhook' });
export type NewWebhook = z.infer<typeof NewWebhook>;

export const WebhookCreated = SubscriberView.extend({
  secret: z.string().meta({
    description:
      'the Standard Webhooks signing secret (whsec_…): shown in this answer only, stored encrypted, never shown again',
  }),
}).meta({ id: 'WebhookCreated' });

export const ImportReport = z
  .object({
    rows: z.number().int().nonnegative().meta({ description: 'data rows read (the header not counted)' }),
    imported: z.number().int().nonnegative(),
    updated: z.number().int().nonnegative(),
    skipped: z.number().int().nonnegative(),
    errors: z.array(
      z.object({
        row: z.number().int().positive().meta({ description: 'as in the file: the header is row 1' }),
        field: z.string(),
        message: z.string(),
      }),
    ),
  })
  .meta({ id: 'ImportReport' });
export type ImportReport = z.infer<typeof ImportReport>;

/** The embedded mode's stand-in for a resident's phone. */
export const SandboxInboundSms = z
  .strictObject({
    from: z.string().min(1, 'is required').max(32),
    body: z.string().max(1600),
  })
  .meta({ id: 'SandboxInboundSms' });

/** The SNS HTTP(S) notification's envelope, as SNS POSTs it (text/plain JSON). */
export const SnsEnvelope = z.object({
  Type: z.enum(['Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation']),
  MessageId: z.string().max(256),
  TopicArn: z.string().max(1024),
  Subject: z.string().max(1024).optional(),
  Message: z.string().max(262_144),
  Timestamp: z.string().max(64),
  SignatureVersion: z.enum(['1', '2']),
  Signature: z.string().max(4096),
  SigningCertURL: z.string().max(2048),
  SubscribeURL: z.string().max(4096).optional(),
  Token: z.string().max(4096).optional(),
  UnsubscribeURL: z.string().max(4096).optional(),
});
export type SnsEnvelope = z.infer<typeof SnsEnvelope>;

/** AWS End User Messaging SMS two-way: what it publishes to the topic for each text a resident sends. */
export const InboundSmsMessage = z.object({
  originationNumber: z.string().min(1).max(32),
  destinationNumber: z.string().max(32).optional(),
  messageKeyword: z.string().max(64).optional(),
  messageBody: z.string().max(1600),
  inboundMessageId: z.string().max(256).optional(),
  previousPublishedMessageId: z.string().max(256).optional(),
});
export type InboundSmsMessage = z.infer<typeof InboundSmsMessage>;
