/**
 * Lambda entry point for SMS delivery status. SNS writes a log line per SMS to CloudWatch Logs
 * (`sns/<region>/<account>/DirectPublishToPhoneNumber` and `…/Failure`); a subscription filter on each group
 * invokes this function, which moves the receipt from `sent` to `delivered` or `failed`. The invocation is
 * asynchronous: a throw makes Lambda retry it, then hand it to the on-failure destination.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { CloudWatchLogsEvent, Context } from 'aws-lambda';
import { maskContactsIn, OPTED_OUT } from '../../adapters/providers/aws-call';
import { awsServices } from '../../shared/aws';
import { logger } from '../../shared/logger';
import { maskPhone } from '../../shared/mask';
import { type CallbackDeps, type Confirmation, confirmAll, confirmDelivery } from '../confirm';
import { decodeLogBatch, parseDeliveryLog, type SmsDeliveryLog } from './parse';

/** What a log line means for the receipt; undefined for a status that settles nothing. */
export function smsConfirmation(log: SmsDeliveryLog, loggedAt: number): Confirmation | undefined {
  const base = {
    channel: 'sms' as const,
    providerMessageId: log.notification.messageId,
    at: new Date(loggedAt),
    recipient: log.delivery.destination ? maskPhone(log.delivery.destination) : undefined,
  };
  if (log.status === 'SUCCESS') return { ...base, status: 'delivered' };
  if (log.status !== 'FAILURE') return undefined;
  const response = log.delivery.providerResponse ?? 'the carrier reported a failure';
  // The same words whether SNS or Herald found the opt-out, so receipts can be counted by reason.
  const reason = /opted out/i.test(response) ? OPTED_OUT : maskContactsIn(response);
  return { ...base, status: 'failed', reason };
}

export async function handleSmsStatus(deps: CallbackDeps, event: CloudWatchLogsEvent): Promise<void> {
  const batch = decodeLogBatch(event);
  if (batch.messageType === 'CONTROL_MESSAGE') return;
  await confirmAll(batch.logEvents, async (logEvent) => {
    const log = parseDeliveryLog(logEvent.message);
    if (!log) {
      deps.logger.warn('log line is not an SNS SMS delivery status; skipped', {
        logGroup: batch.logGroup,
        logEventId: logEvent.id,
      });
      return;
    }
    const confirmation = smsConfirmation(log, logEvent.timestamp);
    if (!confirmation) {
      deps.logger.info('SMS status settles nothing; skipped', { status: log.status });
      return;
    }
    await confirmDelivery(deps, confirmation);
  });
}

export const createSmsStatusHandler = (deps: CallbackDeps) =>
  middy<CloudWatchLogsEvent, void, Error, Context>((event: CloudWatchLogsEvent) =>
    handleSmsStatus(deps, event),
  ).use(injectLambdaContext(logger, { resetKeys: true }));

let wired: ReturnType<typeof createSmsStatusHandler> | undefined;

export const handler = (event: CloudWatchLogsEvent, context: Context) => {
  wired ??= createSmsStatusHandler(awsServices());
  return wired(event, context);
};
