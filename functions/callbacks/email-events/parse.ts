/**
 * SES events as a configuration set's SNS event destination publishes them: each SNS record's `Message` is the
 * JSON of one event (`eventType`, `mail`, and a section named after the type). Identity-level feedback
 * notifications say `notificationType` instead; both are read, so either wiring lands here.
 */
import type { SNSEvent } from 'aws-lambda';
import * as z from 'zod';

const Recipient = z.looseObject({
  emailAddress: z.string().optional(),
  action: z.string().optional(),
  status: z.string().optional(),
  diagnosticCode: z.string().optional(),
});

export const SesEvent = z.looseObject({
  eventType: z.string().optional(),
  notificationType: z.string().optional(),
  mail: z.looseObject({
    messageId: z.string().min(1),
    timestamp: z.string().optional(),
    destination: z.array(z.string()).optional(),
  }),
  delivery: z
    .looseObject({ timestamp: z.string().optional(), smtpResponse: z.string().optional() })
    .optional(),
  bounce: z
    .looseObject({
      bounceType: z.string(),
      bounceSubType: z.string().optional(),
      bouncedRecipients: z.array(Recipient).optional(),
      timestamp: z.string().optional(),
    })
    .optional(),
  complaint: z
    .looseObject({
      complaintFeedbackType: z.string().optional(),
      timestamp: z.string().optional(),
    })
    .optional(),
  reject: z.looseObject({ reason: z.string().optional() }).optional(),
});
export type SesEvent = z.infer<typeof SesEvent>;

export type ParsedRecord = { ok: true; event: SesEvent } | { ok: false; snsMessageId: string; why: string };

/** Each SNS record's SES event, or why it is not one. */
export function parseSesRecords(event: SNSEvent): ParsedRecord[] {
  if (!Array.isArray(event?.Records)) throw new Error('not an SNS event');
  return event.Records.map((record) => {
    const snsMessageId = record.Sns?.MessageId ?? 'unknown';
    let json: unknown;
    try {
      json = JSON.parse(record.Sns.Message);
    } catch {
      return { ok: false, snsMessageId, why: 'the message is not JSON' };
    }
    const parsed = SesEvent.safeParse(json);
    return parsed.success
      ? { ok: true, event: parsed.data }
      : {
          ok: false,
          snsMessageId,
          why: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        };
  });
}
