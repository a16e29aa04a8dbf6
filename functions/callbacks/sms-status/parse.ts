/**
 * SNS SMS delivery-status logs as a CloudWatch Logs subscription hands them over: `awslogs.data` is the
 * base64 of a gzipped JSON batch, each `logEvents[].message` one SNS log line (a JSON object).
 */
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import * as z from 'zod';

const LogBatch = z.object({
  /** CONTROL_MESSAGE is CloudWatch checking the destination when the subscription is created. */
  messageType: z.enum(['DATA_MESSAGE', 'CONTROL_MESSAGE']),
  logGroup: z.string(),
  logEvents: z.array(z.object({ id: z.string(), timestamp: z.number(), message: z.string() })),
});
export type LogBatch = z.infer<typeof LogBatch>;

export const SmsDeliveryLog = z.looseObject({
  notification: z.looseObject({ messageId: z.string().min(1), timestamp: z.string().optional() }),
  delivery: z.looseObject({
    destination: z.string().optional(),
    providerResponse: z.string().optional(),
  }),
  status: z.string(),
});
export type SmsDeliveryLog = z.infer<typeof SmsDeliveryLog>;

/** Decodes the subscription payload; throws when it is not one (nothing to retry there, but nothing to lose). */
export function decodeLogBatch(event: CloudWatchLogsEvent): LogBatch {
  const data = event?.awslogs?.data;
  if (typeof data !== 'string') throw new Error('not a CloudWatch Logs subscription event');
  return LogBatch.parse(JSON.parse(gunzipSync(Buffer.from(data, 'base64')).toString('utf8')));
}

/** One SNS log line, or undefined when it is not one (another writer in the group, a format change). */
export function parseDeliveryLog(message: string): SmsDeliveryLog | undefined {
  try {
    const parsed = SmsDeliveryLog.safeParse(JSON.parse(message));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
