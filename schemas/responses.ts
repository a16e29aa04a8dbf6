/**
 * Answers that had no schema of their own until the OpenAPI document needed one: the JSON Feed, the preview, the
 * health check and the inbound SMS outcome. Published in GET /v1/openapi.json; the feed's and the preview's
 * schemas are checked against what the code answers (test/unit/openapi-coverage.test.ts).
 */
import * as z from 'zod';
import { FieldError } from './problem';

const isoDateTime = z.string().meta({ format: 'date-time' });

/** JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/) as functions/core/feeds.ts writes it. */
export const JsonFeed = z
  .object({
    version: z.literal('https://jsonfeed.org/version/1.1'),
    title: z.string(),
    home_page_url: z.string(),
    feed_url: z.string(),
    authors: z.array(z.object({ name: z.string(), url: z.string().optional() })),
    items: z.array(
      z.object({
        id: z.string().meta({ description: 'urn:herald:alert:<alert id>:<version>' }),
        url: z.string().meta({ description: "the alert's public page" }),
        title: z.string(),
        content_text: z.string(),
        date_published: isoDateTime,
        date_modified: isoDateTime,
        language: z.string(),
        tags: z.array(z.string()).meta({ description: 'the CAP category and msgType' }),
        attachments: z.array(
          z.object({
            url: z.string().meta({ description: "the version's CAP 1.2 XML" }),
            mime_type: z.literal('application/cap+xml'),
            title: z.string(),
          }),
        ),
        image: z.string().optional(),
        _cap: z
          .object({
            msgType: z.enum(['Alert', 'Update', 'Cancel']),
            severity: z.string(),
            urgency: z.string(),
            effective: isoDateTime.meta({
              description: "CAP effective, or the version's sent time when it gives none (CAP's default)",
            }),
            onset: isoDateTime.optional().meta({ description: 'CAP onset: when the event begins' }),
            expires: isoDateTime.optional().meta({
              description: 'CAP expires: after it the alert leaves the feeds',
            }),
          })
          .meta({ description: 'JSON Feed extension: the CAP fields a reader sorts and filters by' }),
      }),
    ),
  })
  .meta({ id: 'JsonFeed' });

const channelPreview = z
  .looseObject({
    language: z.string(),
    warnings: z.array(z.string()).optional(),
    languages: z
      .record(z.string(), z.looseObject({ language: z.string() }))
      .optional()
      .meta({
        description: 'the same fields for each translation (not for webhooks: one payload carries all)',
      }),
  })
  .meta({
    description:
      "The channel's rendering in the alert's own language: x and facebook text and weighted length, instagram caption and image (or the alert card as a data: URL), mastodon, bluesky, threads and telegram text, link, length, limit and fits (bluesky with its bytes and link facets), sms text, segments, wea90/wea360 and reach, email subject, text and html, webhook payload",
  });

const previewTime = z.object({
  at: isoDateTime.meta({ description: 'as CAP and the feeds carry it: UTC ("-00:00"), whole seconds' }),
  local: z.string().meta({
    description: "as residents read it: on the agency's clock, in the alert's language",
  }),
});

/** The preview's `times` (functions/core/times-preview.ts). */
const PreviewTimes = z
  .object({
    timeZone: z.string().meta({ description: "the agency's IANA time zone (HERALD_TIME_ZONE)" }),
    sent: previewTime.meta({ description: 'when the version goes out: its publishAt, or now' }),
    effective: previewTime.optional(),
    onset: previewTime.optional(),
    expires: previewTime.optional(),
    text: z.string().optional().meta({
      description:
        'the line the email and the alert page carry, e.g. "Sun, Dec 6, 08:00 – 14:00"; absent without times',
    }),
  })
  .meta({
    description:
      "CAP's times as residents will read them; an expiry before, or within 15 minutes after, the version goes out is also a warning",
  });

/** The preview's `quietHours` (functions/api/preview-quiet.ts). */
const PreviewQuietHours = z
  .object({
    at: isoDateTime.meta({ description: "the moment counted: the draft's publishAt, or now" }),
    timeZone: z.string().meta({ description: "the agency's IANA time zone (HERALD_TIME_ZONE)" }),
    urgent: z.boolean().meta({ description: 'Immediate, and Extreme or Severe: nobody waits' }),
    deferred: z.number().int().nonnegative().meta({
      description:
        "subscribers of the draft's zones, by SMS and email, who would wait for the end of their quiet hours",
    }),
    byChannel: z.partialRecord(z.enum(['sms', 'email']), z.number().int().nonnegative()),
    until: z
      .array(
        z.object({
          at: isoDateTime,
          local: z.string().meta({ description: "HH:MM on the agency's clock" }),
          count: z.number().int().positive(),
        }),
      )
      .meta({
        description: 'when they would get it: each end of quiet hours, soonest first, and how many then',
      }),
    summary: z.string(),
  })
  .meta({
    description:
      'who would wait for the end of their quiet hours (only when the draft names sms or email); an estimate read from an index kept beside the rosters',
  });

/** POST /v1/alerts/preview (functions/api/preview.ts): what each named channel would carry. */
export const AlertPreview = z
  .object({
    channels: z
      .record(z.string(), channelPreview)
      .meta({ description: 'one entry per channel the draft names' }),
    approvalRequired: z.boolean(),
    languages: z.array(z.string()).meta({ description: "every language, the alert's own first" }),
    link: z.string().meta({ description: 'where the messages point' }),
    times: PreviewTimes,
    quietHours: PreviewQuietHours.optional(),
    warnings: z.array(z.string()),
    unfilled: z.array(FieldError).meta({
      description:
        "fields that still hold a template's placeholder such as [name]: creating the alert as it is would be refused (422)",
    }),
    cap: z
      .object({
        msgType: z.enum(['Alert', 'Update', 'Cancel']),
        identifier: z.string(),
        sender: z.string(),
        sent: z.string(),
        references: z.array(z.string()),
        alertId: z.string().optional(),
        expired: z.boolean(),
        warnings: z.array(z.string()),
      })
      .optional()
      .meta({ description: 'for a CAP body: what the import made of it' }),
  })
  .meta({ id: 'AlertPreview' });

export const Health = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });

/** What a resident's text did (functions/api/inbound-sms.ts InboundOutcome): no personal data in it. */
export const InboundSmsOutcome = z
  .object({
    keyword: z.enum(['join', 'stop', 'start', 'help', 'tip', 'quiet', 'ignored']),
    reply: z.string().optional().meta({ description: 'what was texted back, when anything was' }),
    subscriberId: z.string().optional(),
  })
  .meta({ id: 'InboundSmsOutcome' });

/** POST /v1/inbound/sms's answer to SNS (which reads only the status code). */
export const InboundSmsAck = z
  .object({
    status: z.enum(['ok', 'ignored', 'subscription-confirmed']),
    keyword: z.enum(['join', 'stop', 'start', 'help', 'tip', 'quiet', 'ignored']).optional(),
  })
  .meta({ id: 'InboundSmsAck' });

/** GET /v1/alerts/{id}/audit (functions/api/alerts.ts getAudit). */
export const AuditLog = z
  .object({
    alertId: z.string(),
    entries: z.array(
      z.object({
        at: isoDateTime,
        actor: z.string().meta({ description: 'a person (token sub) or system:<part>' }),
        action: z.string().meta({
          description:
            'alert.created|updated|cancelled, version.held-for-approval|approved, fanout.planned, delivery.<status> (a social post’s receipt), deliveries.<status> (a subscriber channel’s count, detail naming the paged receipts)',
        }),
        version: z.number().int().positive(),
        channel: z.string().optional(),
        recipient: z.string().optional().meta({ description: 'masked' }),
        detail: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'AuditLog' });
