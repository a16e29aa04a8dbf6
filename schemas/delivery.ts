/** Delivery receipts: one per (alert, version, channel, recipient). */
import * as z from 'zod';
import { Channel } from './alert';
import { DELIVERY_STATUSES } from './vocabulary';

export { DELIVERY_STATUSES } from './vocabulary';

export const DeliveryStatus = z.enum(DELIVERY_STATUSES).meta({ id: 'DeliveryStatus' });
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

/** Statuses after which the fan-out of a receipt is over (a `sent` may still become `delivered` or `failed` by callback). */
export const FINAL_STATUSES: ReadonlySet<DeliveryStatus> = new Set([
  'sent',
  'delivered',
  'failed',
  'unknown',
]);

export const Delivery = z
  .object({
    version: z.number().int().positive(),
    channel: Channel,
    recipient: z
      .string()
      .meta({ description: 'the account for social channels; a masked number or address otherwise' }),
    status: DeliveryStatus,
    attempts: z.number().int().nonnegative(),
    providerMessageId: z.string().optional(),
    reason: z.string().optional(),
    nextAttemptAt: z.string().optional().meta({ format: 'date-time' }),
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
