/**
 * SMS through Amazon SNS `Publish` to a phone number: one Transactional message per resident.
 *
 * Opt-outs: SNS keeps its own opt-out list (a resident who replies STOP to an SNS number lands on it), and
 * `Publish` to a number on that list is *accepted* — it returns a MessageId, and only the delivery-status log
 * later says "Phone is currently opted out" (`OptedOutException` is not among Publish's errors). So, by default,
 * the provider asks `CheckIfPhoneNumberIsOptedOut` first: the receipt then reads `failed: opted-out` at once,
 * even where delivery-status logging is not set up, and no message is billed. It costs one more call per
 * resident; the check's own quota (50 per second) is above SNS's default SMS rate (20 per second). An agency
 * whose raised SMS quota outruns the check can turn it off (`checkOptOut: false`): the delivery-status
 * callback still turns such receipts to `failed: opted-out`.
 */
import {
  CheckIfPhoneNumberIsOptedOutCommand,
  type MessageAttributeValue,
  PublishCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { parsePhoneNumberWithError } from 'libphonenumber-js';
import { awsServiceError, OPTED_OUT, reasonOf, sendBefore } from '../../adapters/providers/aws-call';
import {
  type ChannelProvider,
  type OutboundMessage,
  type ProviderAccepted,
  ProviderError,
} from '../../ports';
import type { LoggerLike } from '../../shared/logger';
import { maskPhone } from '../../shared/mask';

export { OPTED_OUT };

export interface SmsProviderOptions {
  client: SNSClient;
  /** Alphanumeric sender id, where the destination country supports one. */
  senderId?: string | undefined;
  /** The agency's number (long code, toll-free, 10DLC, short code) messages come from. */
  originationNumber?: string | undefined;
  /** Most the agency will pay for one message, in USD; SNS refuses to send above it. */
  maxPrice?: number | undefined;
  /** Ask SNS whether the number opted out before publishing (see the file's comment). Default true. */
  checkOptOut?: boolean | undefined;
  logger?: LoggerLike | undefined;
}

/** E.164 for a valid number, undefined otherwise. Only international form: there is no default country. */
export function toE164(raw: string): string | undefined {
  try {
    const parsed = parsePhoneNumberWithError(raw.trim());
    return parsed.isValid() ? parsed.number : undefined;
  } catch {
    return undefined;
  }
}

const PERMANENT_SNS = new Set([
  'InvalidParameterException',
  'InvalidParameter',
  'InvalidParameterValueException',
  'InvalidParameterValue',
  'ValidationException',
  'AuthorizationErrorException',
  'AuthorizationError',
  'EndpointDisabledException',
  'NotFoundException',
  'KMSAccessDeniedException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSNotFoundException',
  'KMSOptInRequired',
]);

const RETRYABLE_SNS = new Set([
  'ThrottledException',
  'Throttled',
  'Throttling',
  'ThrottlingException',
  'KMSThrottlingException',
  'ServiceUnavailable',
  'InternalErrorException',
  'InternalError',
]);

/**
 * Classifies an SNS failure. `sent` says whether Publish had been called: after that, an error AWS did not
 * answer with (a timeout, an abort, a reset connection) leaves the outcome unknown; before it, nothing went out.
 */
export function classifySnsError(error: unknown, sent: boolean): ProviderError {
  if (error instanceof ProviderError) return error;
  const aws = awsServiceError(error);
  if (!aws) {
    const what = error instanceof Error ? error.name : 'error';
    return sent
      ? new ProviderError('unknown-outcome', `SNS did not answer (${what}); the message may have been sent`)
      : new ProviderError('retryable', `SNS could not be asked (${what}); nothing was sent`);
  }
  if (aws.name === 'OptedOutException') return new ProviderError('permanent', OPTED_OUT);
  if (RETRYABLE_SNS.has(aws.name) || aws.throttling || aws.fault === 'server' || (aws.status ?? 0) >= 500)
    return new ProviderError('retryable', reasonOf(aws));
  if (PERMANENT_SNS.has(aws.name) || aws.fault === 'client')
    return new ProviderError('permanent', reasonOf(aws));
  return new ProviderError('retryable', reasonOf(aws));
}

export function createSmsProvider(options: SmsProviderOptions): ChannelProvider {
  const { client, senderId, originationNumber, maxPrice, logger } = options;
  const checkOptOut = options.checkOptOut ?? true;

  const attributes: Record<string, MessageAttributeValue> = {
    // Transactional: routed for reliability over price, and sent at any hour — an alert is not marketing.
    'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
  };
  if (senderId) attributes['AWS.SNS.SMS.SenderID'] = { DataType: 'String', StringValue: senderId };
  if (originationNumber)
    attributes['AWS.MM.SMS.OriginationNumber'] = { DataType: 'String', StringValue: originationNumber };
  if (maxPrice !== undefined)
    attributes['AWS.SNS.SMS.MaxPrice'] = { DataType: 'Number', StringValue: maxPrice.toFixed(5) };

  async function send(message: OutboundMessage, signal: AbortSignal): Promise<ProviderAccepted> {
    if (message.test)
      throw new ProviderError('permanent', 'a Test or Exercise alert must not reach the public SMS network');
    if (message.content.channel !== 'sms')
      throw new ProviderError('permanent', `the SMS provider got ${message.content.channel} content`);
    const phone = toE164(message.recipient);
    const masked = maskPhone(message.recipient);
    if (!phone) {
      logger?.warn('SMS recipient is not a valid phone number', { recipient: masked });
      throw new ProviderError('permanent', 'invalid phone number');
    }
    const text = message.content.text;
    if (text.trim() === '') throw new ProviderError('permanent', 'the SMS text is empty');

    if (checkOptOut) {
      let optedOut: boolean | undefined;
      try {
        const answer = await sendBefore(signal, (abortSignal) =>
          client.send(new CheckIfPhoneNumberIsOptedOutCommand({ phoneNumber: phone }), { abortSignal }),
        );
        optedOut = answer.isOptedOut;
      } catch (error) {
        throw classifySnsError(error, false);
      }
      if (optedOut) {
        logger?.info('SMS recipient has opted out with SNS', { recipient: masked });
        throw new ProviderError('permanent', OPTED_OUT);
      }
    }

    if (signal.aborted)
      throw new ProviderError('retryable', 'the deadline passed before the message was sent');
    try {
      const { MessageId } = await sendBefore(signal, (abortSignal) =>
        client.send(
          new PublishCommand({ PhoneNumber: phone, Message: text, MessageAttributes: attributes }),
          { abortSignal },
        ),
      );
      if (!MessageId)
        throw new ProviderError('unknown-outcome', 'SNS accepted the message without returning its id');
      return { providerMessageId: MessageId };
    } catch (error) {
      throw classifySnsError(error, true);
    }
  }

  return { channel: 'sms', mode: 'real', send };
}
