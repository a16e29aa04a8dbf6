/** Delivery receipts: one per (alert, version, channel, recipient). */
import * as z from 'zod';
import { Channel } from './channel';
import { DELIVERY_STATUSES } from './vocabulary';

export { DELIVERY_STATUSES } from './vocabulary';

export const DeliveryStatus = z.enum(DELIVERY_STATUSES).meta({
  id: 'DeliveryStatus',
  description:
    'queued, sending, sent (the provider accepted it), delivered (the provider confirmed it), failed (with a reason), retrying (with nextAttemptAt), unknown (the outcome was lost), deferred (waiting for the end of the resident’s quiet hours, nextAttemptAt), superseded (never sent: a newer version or the cancel replaced it; final)',
});
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

/** Statuses after which the fan-out of a receipt is over (a `sent` may still become `delivered` or `failed` by callback). */
export const FINAL_STATUSES: ReadonlySet<DeliveryStatus> = new Set([
  'sent',
  'delivered',
  'failed',
  'unknown',
  'superseded',
]);

/** One event of a receipt's history: each try (its attempt number), its time, and why it failed. */
export const DeliveryAttempt = z
  .object({
    at: z.string().meta({ format: 'date-time' }),
    status: DeliveryStatus,
    attempt: z.number().int().nonnegative().meta({
      description: 'the try this event ends or confirms; 0 before the first (queued, or refused unsent)',
    }),
    reason: z.string().optional(),
  })
  .meta({ id: 'DeliveryAttempt' });
export type DeliveryAttempt = z.infer<typeof DeliveryAttempt>;

export const Delivery = z
  .object({
    version: z.number().int().positive(),
    channel: Channel,
    recipient: z
      .string()
      .meta({ description: 'the account for social channels; a masked number or address otherwise' }),
    subscriberId: z.string().optional().meta({
      description: 'sms, email and webhook: the subscriber (GET /v1/subscribers); the address stays masked',
    }),
    name: z.string().optional().meta({ description: "a media outlet's name, when the subscriber has one" }),
    webhookId: z.string().optional().meta({ description: 'webhook: the webhook, /v1/webhooks/{id}' }),
    status: DeliveryStatus,
    attempts: z.number().int().nonnegative().meta({ description: 'tries made, a lost one included' }),
    providerMessageId: z.string().optional(),
    reason: z.string().optional(),
    nextAttemptAt: z.string().optional().meta({
      format: 'date-time',
      description:
        "`retrying`: when the next try is due; `deferred`: when the resident's quiet hours end and it goes out",
    }),
    outcomeUnknown: z.boolean().optional().meta({
      description: 'true: the last try ended without knowing whether the message went out',
    }),
    possibleDuplicate: z.boolean().optional().meta({
      description: 'true: sent again after a try whose outcome was lost; the recipient may have it twice',
    }),
    sandbox: z.boolean().optional().meta({
      description: 'true: recorded by a sandbox provider; nothing reached the public',
    }),
    attemptLog: z.array(DeliveryAttempt).meta({ description: "the receipt's history, oldest first" }),
    updatedAt: z.string().meta({ format: 'date-time' }),
  })
  .meta({ id: 'Delivery' });
export type Delivery = z.infer<typeof Delivery>;

export const DeliveryReport = z
  .object({
    totals: z.partialRecord(DeliveryStatus, z.number().int().nonnegative()),
    deliveries: z.array(Delivery),
    cursor: z.string().optional().meta({
      description:
        'more receipts follow: pass it as ?cursor= (pages of ?limit=, 1000 by default, 5000 at most)',
    }),
  })
  .meta({ id: 'DeliveryReport' });
export type DeliveryReport = z.infer<typeof DeliveryReport>;
