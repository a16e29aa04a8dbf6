/**
 * Lambda entry point for SES events. The configuration set the email provider sends with has an SNS event
 * destination (Delivery, Bounce, Complaint, Reject, DeliveryDelay), and the topic invokes this function.
 *
 * SNS rather than EventBridge: SES's SNS destination is available wherever SES is, its message is the event
 * JSON SES documents (`eventType`), the same topic can feed a queue or an archive later without touching SES,
 * and an SNS-invoked Lambda is asynchronous, so a throw (a receipt not yet in the index) is retried by Lambda
 * and then kept by its on-failure destination. EventBridge would carry the same event under `detail`; nothing
 * it adds (rules on content, 24-hour retries) is needed for one consumer.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SNSEvent } from 'aws-lambda';
import { maskContactsIn } from '../../adapters/providers/aws-call';
import { awsServices } from '../../shared/aws';
import { logger } from '../../shared/logger';
import { maskEmail } from '../../shared/mask';
import { type CallbackDeps, type Confirmation, confirmAll, confirmDelivery } from '../confirm';
import { parseSesRecords, type SesEvent } from './parse';

/** What is left on a receipt after a complaint: still delivered, and the history says someone complained. */
export const COMPLAINT = 'complaint';

const dateOf = (iso: string | undefined) => (iso === undefined ? undefined : new Date(iso));

function bounceReason(bounce: NonNullable<SesEvent['bounce']>): string {
  const kind = [bounce.bounceType, bounce.bounceSubType].filter(Boolean).join('/');
  const recipient = bounce.bouncedRecipients?.[0];
  const detail = recipient?.diagnosticCode ?? recipient?.status;
  return maskContactsIn(`bounce ${kind}${detail ? `: ${detail}` : ''}`);
}

/** What an SES event means for the receipt; undefined for one that settles nothing. */
export function emailConfirmation(event: SesEvent): Confirmation | undefined {
  const type = event.eventType ?? event.notificationType;
  const destination = event.mail.destination?.[0];
  const base = {
    channel: 'email' as const,
    providerMessageId: event.mail.messageId,
    recipient: destination ? maskEmail(destination) : undefined,
  };
  switch (type) {
    case 'Delivery':
      return { ...base, status: 'delivered', at: dateOf(event.delivery?.timestamp) };
    case 'Bounce':
      // A transient bounce (mailbox full, greylisting) is still being retried by SES: it settles nothing yet.
      if (event.bounce?.bounceType !== 'Permanent') return undefined;
      return {
        ...base,
        status: 'failed',
        reason: bounceReason(event.bounce),
        at: dateOf(event.bounce.timestamp),
      };
    case 'Reject':
      return {
        ...base,
        status: 'failed',
        reason: maskContactsIn(`rejected by SES: ${event.reject?.reason ?? 'no reason given'}`),
        at: dateOf(event.mail.timestamp),
      };
    case 'Complaint':
      // A complaint means the mail arrived: the receipt stays delivered, and the complaint joins its history.
      return { ...base, status: 'delivered', reason: COMPLAINT, at: dateOf(event.complaint?.timestamp) };
    default:
      return undefined;
  }
}

export async function handleEmailEvents(deps: CallbackDeps, event: SNSEvent): Promise<void> {
  await confirmAll(parseSesRecords(event), async (record) => {
    if (!record.ok) {
      deps.logger.warn('SNS message is not an SES event; skipped', {
        snsMessageId: record.snsMessageId,
        why: record.why,
      });
      return;
    }
    const confirmation = emailConfirmation(record.event);
    if (!confirmation) {
      deps.logger.debug('SES event settles nothing; skipped', {
        eventType: record.event.eventType ?? record.event.notificationType,
      });
      return;
    }
    await confirmDelivery(deps, confirmation);
  });
}

export const createEmailEventsHandler = (deps: CallbackDeps) =>
  middy<SNSEvent, void, Error, Context>((event: SNSEvent) => handleEmailEvents(deps, event)).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );

let wired: ReturnType<typeof createEmailEventsHandler> | undefined;

export const handler = (event: SNSEvent, context: Context) => {
  wired ??= createEmailEventsHandler(awsServices());
  return wired(event, context);
};
