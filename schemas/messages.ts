/**
 * Queue messages. Each is validated on receipt, record by record, so one malformed message is one
 * batch item failure (and eventually one dead letter), never a failed batch.
 */
import * as z from 'zod';
import { Channel } from './alert';

/** dispatch queue: "version n of alert id was accepted; plan its fan-out". */
export const DispatchMessage = z.strictObject({
  alertId: z.string().min(1),
  version: z.number().int().positive(),
});
export type DispatchMessage = z.infer<typeof DispatchMessage>;

/** A channel queue job: deliver one version on one channel to these recipients (one for social channels). */
export const ChannelJob = z.strictObject({
  alertId: z.string().min(1),
  version: z.number().int().positive(),
  channel: Channel,
  recipients: z.array(z.string().min(1)).min(1).max(100),
});
export type ChannelJob = z.infer<typeof ChannelJob>;
