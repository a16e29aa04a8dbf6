/**
 * GET /v1/alerts/{id}/impact (api.md, "Impact and accountability"): what the answer holds, as zod schemas the OpenAPI
 * document is generated from (and the tests parse the answer with). What each figure counts is said once, in
 * functions/core/impact.ts, and repeated here only as far as a reader of the document needs it.
 */
import * as z from 'zod';
import { Channel } from './alert';

const count = z.number().int().nonnegative();
const isoDateTime = z.string().meta({ format: 'date-time' });

export const EngagementView = z
  .object({
    impressions: count.optional(),
    reposts: count.optional(),
    replies: count.optional(),
    likes: count.optional(),
  })
  .meta({
    id: 'Engagement',
    description:
      "what the network reports of the alert's posts, summed over them; a field the network does not report is absent",
  });

export const ChannelImpactView = z
  .object({
    recipients: count.meta({
      description: 'distinct recipients Herald addressed on the channel, over every version, each once',
    }),
    sent: count.meta({
      description: 'messages the provider accepted, one per version and recipient (later delivered or not)',
    }),
    delivered: count.meta({ description: 'receipts the provider confirmed delivered' }),
    failed: count.meta({ description: 'receipts that failed' }),
    deferred: count.meta({ description: "messages that waited for the end of the resident's quiet hours" }),
    firstSentAt: isoDateTime.optional(),
    lastSentAt: isoDateTime.optional(),
    clicks: count.meta({ description: "clicks on the channel's own link, /a/{id}/{code}, every day summed" }),
    pageViews: count.meta({ description: "views of the alert's page that came through the channel's link" }),
    engagement: EngagementView.optional(),
  })
  .meta({ id: 'ChannelImpact' });

export const ImpactView = z
  .object({
    alertId: z.string(),
    channels: z.partialRecord(Channel, ChannelImpactView).meta({
      description: 'per channel the alert names (in any of its versions)',
    }),
    pageViews: count.meta({
      description:
        "views of the alert's page in all (its view image loaded: no cookie, no address; a browser that blocks images is not counted)",
    }),
    directPageViews: count.meta({ description: 'page views that came through no channel link' }),
    tips: count.meta({ description: 'tips linked to the alert, from every source' }),
    optOutsWithin24h: count.meta({
      description:
        'SMS and email subscribers who had been sent the alert and opted out within 24 hours of its first send',
    }),
    timeline: z.array(z.object({ at: isoDateTime, channel: Channel, sent: count })).meta({
      description:
        "each channel's cumulative sent, oldest first: one point per second in which messages went out, at the last of them",
    }),
    estimate: z
      .object({
        channel: z.literal('sms'),
        from: isoDateTime.meta({
          description: "the SMS channel's first send, where the estimate counts from",
        }),
        recipients: count,
        segments: count.meta({ description: "segments per message, the longest of the alert's languages" }),
        messagesPerSecond: z.number().positive(),
        secondsToLastRecipient: z.number().nonnegative(),
      })
      .optional()
      .meta({
        description:
          "the preview's estimate of when the last SMS recipient is reached (recipients x segments / messages per second), for the timeline to be read against; present once SMS went out",
      }),
  })
  .meta({ id: 'Impact' });
export type ImpactView = z.infer<typeof ImpactView>;

type Json = Record<string, unknown>;

/** The OpenAPI details of the impact route (schemas/openapi.ts). */
export function impactOperations(h: {
  ref: (id: string) => Json;
  problem: (description: string) => Json;
}): Record<string, Json> {
  return {
    getImpact: {
      responses: {
        '200': {
          description: 'What the alert achieved; never cached (Cache-Control: no-store)',
          content: { 'application/json': { schema: h.ref('Impact') } },
        },
        '404': h.problem('There is no such alert'),
      },
    },
  };
}
