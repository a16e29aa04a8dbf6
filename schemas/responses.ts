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
            expires: isoDateTime.optional(),
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
      "The channel's rendering in the alert's own language: x and facebook text and weighted length, instagram caption and image (or the alert card as a data: URL), sms text, segments, wea90/wea360 and reach, email subject, text and html, webhook payload",
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
    keyword: z.enum(['join', 'stop', 'start', 'help', 'tip', 'ignored']),
    reply: z.string().optional().meta({ description: 'what was texted back, when anything was' }),
    subscriberId: z.string().optional(),
  })
  .meta({ id: 'InboundSmsOutcome' });

/** POST /v1/inbound/sms's answer to SNS (which reads only the status code). */
export const InboundSmsAck = z
  .object({
    status: z.enum(['ok', 'ignored', 'subscription-confirmed']),
    keyword: z.enum(['join', 'stop', 'start', 'help', 'tip', 'ignored']).optional(),
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
