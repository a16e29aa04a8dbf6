/**
 * What the SNS and SES providers share about calling AWS: honouring the channel handler's deadline, and telling
 * an answer AWS gave (a service error, classified by name and fault) from a call whose outcome is unknown.
 */
import { untilAborted } from '../../shared/abort';
import { maskEmail, maskPhone } from '../../shared/mask';

/**
 * The reason a receipt carries when the resident opted out of SMS, whether the provider found it before sending
 * or the delivery-status callback did, so receipts can be counted by reason. Here rather than in sms.ts so the
 * callback does not bundle the SNS client to read one string.
 */
export const OPTED_OUT = 'opted-out';

/** An error AWS answered with, as the SDK v3 shapes it (`name`, `$fault`, `$metadata.httpStatusCode`). */
export interface AwsServiceError {
  name: string;
  message: string;
  fault: 'client' | 'server';
  status: number | undefined;
  throttling: boolean;
}

interface SdkErrorShape {
  name?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
}

/**
 * The service's answer, or undefined when the error did not come from the service (a timeout, a reset
 * connection, an abort): then nobody knows whether the request was acted on.
 */
export function awsServiceError(error: unknown): AwsServiceError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as SdkErrorShape;
  if (e.$fault !== 'client' && e.$fault !== 'server') return undefined;
  const status = typeof e.$metadata?.httpStatusCode === 'number' ? e.$metadata.httpStatusCode : undefined;
  return {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : '',
    fault: e.$fault,
    status,
    throttling: e.$retryable?.throttling === true,
  };
}

/**
 * Runs one SDK call under the handler's deadline. The SDK is given the signal so it stops its own retries, and
 * the call is raced against it too, because a send that ignores the signal must not hold the worker.
 */
export function sendBefore<T>(signal: AbortSignal, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return untilAborted(call(signal), signal);
}

/**
 * One line, at most 200 characters, with phone numbers and addresses masked: for receipts and log lines built
 * from text a provider wrote, which may echo the request ("Invalid parameter: PhoneNumber …", a bounce's SMTP
 * diagnostic naming the mailbox).
 */
export function maskContactsIn(text: string): string {
  return (
    text
      .replace(/\s+/g, ' ')
      .replace(/[^\s<>"'(),;:]+@[^\s<>"'(),;:]+/g, (address) => maskEmail(address))
      // International numbers, and bare runs of digits as long as one; not SMTP codes ("550 5.1.1") or dates.
      .replace(/\+\d[\d ().-]{5,}\d|\b\d{9,15}\b/g, (phone) => maskPhone(phone))
      .trim()
      .slice(0, 200)
  );
}

/** A receipt's reason for an error AWS answered with. */
export function reasonOf(error: AwsServiceError): string {
  const message = maskContactsIn(error.message);
  return message ? `${error.name}: ${message}` : error.name;
}
