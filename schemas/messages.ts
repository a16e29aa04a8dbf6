/**
 * Queue messages. Each is validated on receipt, record by record, so one malformed message is one
 * batch item failure (and eventually one dead letter), never a failed batch.
 */
import * as z from 'zod';
import { Channel } from './channel';

/** dispatch queue: "version n of alert id was accepted; plan its fan-out". */
export const DispatchMessage = z.strictObject({
  alertId: z.string().min(1),
  version: z.number().int().positive(),
});
export type DispatchMessage = z.infer<typeof DispatchMessage>;

/**
 * Most recipients one job may carry. Subscriber ids are 26-character ULIDs, so a full job is about 30 KB of JSON:
 * far under SQS's 256 KB, and small enough that one job's retries hold back few others.
 */
export const MAX_RECIPIENTS_PER_JOB = 1000;

/**
 * A channel queue job: deliver one version on one channel to these recipients (one for social channels: the
 * agency's account). Subscriber channels (sms, email, webhook) name subscriber ids and the job's index: the job
 * item (functions/adapters/dynamo/bulk-store.ts) is claimed as a whole.
 */
export const ChannelJob = z.strictObject({
  alertId: z.string().min(1),
  version: z.number().int().positive(),
  channel: Channel,
  recipients: z.array(z.string().min(1)).min(1).max(MAX_RECIPIENTS_PER_JOB),
  job: z.number().int().nonnegative().optional(),
  /**
   * A release of residents who waited for their quiet hours: the deferral of job `job` whose quiet hours end at this
   * instant (functions/channel/deferrals.ts). Its recipients are the deferral's own, read when it is claimed.
   */
  deferredUntil: z.iso.datetime().optional(),
});
export type ChannelJob = z.infer<typeof ChannelJob>;
