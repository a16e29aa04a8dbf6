/** The SNS SMS provider against a mocked SNSClient: what it publishes, and how each SNS answer is classified. */
import {
  AuthorizationErrorException,
  CheckIfPhoneNumberIsOptedOutCommand,
  InternalErrorException,
  InvalidParameterException,
  OptedOutException,
  PublishCommand,
  SNSClient,
  SNSServiceException,
  ThrottledException,
} from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { classifySnsError, createSmsProvider, OPTED_OUT, toE164 } from '../../functions/channels/sms/client';
import { type OutboundMessage, ProviderError } from '../../functions/ports';
import { RecordingLogger } from '../helpers/fakes';

const sns = mockClient(SNSClient);
afterEach(() => {
  sns.reset();
});

const client = () => new SNSClient({ region: 'eu-west-1' });
const PHONE = '+34612345678';
const TEXT = 'AVÍS: nen desaparegut a Ciutat Vella. Més informació: https://alerts.example/a/1';

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    channel: 'sms',
    alertId: 'alert-1',
    version: 1,
    recipient: PHONE,
    text: TEXT,
    content: { channel: 'sms', text: TEXT },
    idempotencyKey: `alert-1:1:sms:${PHONE}`,
    test: false,
    ...overrides,
  };
}

const live = () => new AbortController().signal;

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

describe('toE164', () => {
  it.each([
    ['+34 612 34 56 78', '+34612345678'],
    ['+1 (202) 555-0143', '+12025550143'],
    ['+447911123456', '+447911123456'],
  ])('normalises %s to %s', (raw, e164) => {
    expect(toE164(raw)).toBe(e164);
  });

  it.each(['612345678', '+34 12', 'not a number', '', '+999123456789'])('rejects %j', (raw) => {
    expect(toE164(raw)).toBeUndefined();
  });
});

describe('createSmsProvider', () => {
  it('publishes a Transactional SMS to the E.164 number with the configured sender id, origination number and price cap', async () => {
    // Prepare
    sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: false });
    sns.on(PublishCommand).resolves({ MessageId: 'c1a9d5e2-0b8e-5d67-9a3f-2f6b4c1e9a01' });
    const provider = createSmsProvider({
      client: client(),
      senderId: 'AGENCY',
      originationNumber: '+34900123456',
      maxPrice: 0.5,
    });

    // Act
    const accepted = await provider.send(message({ recipient: '+34 612 34 56 78' }), live());

    // Assess
    expect(accepted).toEqual({ providerMessageId: 'c1a9d5e2-0b8e-5d67-9a3f-2f6b4c1e9a01' });
    expect(provider).toMatchObject({ channel: 'sms', mode: 'real' });
    expect(sns).toHaveReceivedCommandWith(CheckIfPhoneNumberIsOptedOutCommand, { phoneNumber: PHONE });
    expect(sns).toHaveReceivedCommandWith(PublishCommand, {
      PhoneNumber: PHONE,
      Message: TEXT,
      MessageAttributes: {
        'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' },
        'AWS.SNS.SMS.SenderID': { DataType: 'String', StringValue: 'AGENCY' },
        'AWS.MM.SMS.OriginationNumber': { DataType: 'String', StringValue: '+34900123456' },
        'AWS.SNS.SMS.MaxPrice': { DataType: 'Number', StringValue: '0.50000' },
      },
    });
  });

  it('sends only the SMS type when nothing else is configured, and can skip the opt-out check', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'm-2' });
    const provider = createSmsProvider({ client: client(), checkOptOut: false });

    await provider.send(message(), live());

    expect(sns).toHaveReceivedCommandTimes(CheckIfPhoneNumberIsOptedOutCommand, 0);
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(Object.keys(input.MessageAttributes ?? {})).toEqual(['AWS.SNS.SMS.SMSType']);
  });

  it('refuses an invalid number as permanent, without calling SNS and without the number in reason or logs', async () => {
    const logger = new RecordingLogger();
    const provider = createSmsProvider({ client: client(), logger });

    const error = await failure(provider.send(message({ recipient: '+34 612 34' }), live()));

    expect(error).toMatchObject({ kind: 'permanent', reason: 'invalid phone number' });
    expect(sns.calls()).toHaveLength(0);
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain('61234');
    expect(logged).toContain('+34');
  });

  it('fails an opted-out number permanently as opted-out, and does not publish', async () => {
    sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: true });
    const logger = new RecordingLogger();
    const provider = createSmsProvider({ client: client(), logger });

    const error = await failure(provider.send(message(), live()));

    expect(error).toMatchObject({ kind: 'permanent', reason: OPTED_OUT });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
    expect(JSON.stringify(logger.lines)).not.toContain(PHONE);
  });

  it('never sends a Test or Exercise alert to the public', async () => {
    const provider = createSmsProvider({ client: client() });
    const error = await failure(provider.send(message({ test: true }), live()));
    expect(error.kind).toBe('permanent');
    expect(sns.calls()).toHaveLength(0);
  });

  it.each([
    [
      'OptedOutException',
      new OptedOutException({ message: 'opted out', ...meta(400) }),
      'permanent',
      OPTED_OUT,
    ],
    [
      'ThrottledException',
      new ThrottledException({ message: 'Rate exceeded', ...meta(429) }),
      'retryable',
      'ThrottledException: Rate exceeded',
    ],
    [
      'Throttling (query protocol code)',
      new SNSServiceException({
        name: 'Throttling',
        $fault: 'client',
        message: 'Rate exceeded',
        ...meta(400),
      }),
      'retryable',
      'Throttling: Rate exceeded',
    ],
    [
      'ServiceUnavailable',
      new SNSServiceException({
        name: 'ServiceUnavailable',
        $fault: 'server',
        message: 'Unavailable',
        ...meta(503),
      }),
      'retryable',
      'ServiceUnavailable: Unavailable',
    ],
    [
      'InternalErrorException',
      new InternalErrorException({ message: 'Internal error', ...meta(500) }),
      'retryable',
      'InternalErrorException: Internal error',
    ],
    [
      'InvalidParameterException, its echo of the number masked',
      new InvalidParameterException({
        message: 'Invalid parameter: PhoneNumber Reason: +34612345678 is not valid to publish to',
        ...meta(400),
      }),
      'permanent',
      'InvalidParameterException: Invalid parameter: PhoneNumber Reason: +34•••••••78 is not valid to publish to',
    ],
    [
      'AuthorizationErrorException',
      new AuthorizationErrorException({ message: 'not authorized', ...meta(403) }),
      'permanent',
      'AuthorizationErrorException: not authorized',
    ],
  ])('classifies a Publish %s', async (_, error, kind, reason) => {
    sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: false });
    sns.on(PublishCommand).rejects(error);
    const provider = createSmsProvider({ client: client() });

    const failed = await failure(provider.send(message(), live()));

    expect(failed).toMatchObject({ kind, reason });
  });

  it('a throttled opt-out check is retryable and nothing is published', async () => {
    sns
      .on(CheckIfPhoneNumberIsOptedOutCommand)
      .rejects(new ThrottledException({ message: 'slow down', ...meta(429) }));
    const provider = createSmsProvider({ client: client() });

    expect(await failure(provider.send(message(), live()))).toMatchObject({ kind: 'retryable' });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('an abort while Publish is in flight leaves the outcome unknown', async () => {
    sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: false });
    let published!: () => void;
    const started = new Promise<void>((resolve) => {
      published = resolve;
    });
    sns.on(PublishCommand).callsFake(() => {
      published();
      return new Promise(() => {});
    });
    const controller = new AbortController();
    const provider = createSmsProvider({ client: client() });

    const sending = failure(provider.send(message(), controller.signal));
    await started;
    controller.abort(new DOMException('deadline', 'TimeoutError'));

    expect(await sending).toMatchObject({ kind: 'unknown-outcome' });
  });

  it('an abort during the opt-out check is retryable: nothing was published', async () => {
    sns.on(CheckIfPhoneNumberIsOptedOutCommand).callsFake(() => new Promise(() => {}));
    const controller = new AbortController();
    const provider = createSmsProvider({ client: client() });

    const sending = failure(provider.send(message(), controller.signal));
    setTimeout(() => controller.abort(new DOMException('deadline', 'TimeoutError')), 5);

    expect(await sending).toMatchObject({ kind: 'retryable' });
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 0);
  });

  it('a dropped connection after Publish was sent leaves the outcome unknown', async () => {
    sns.on(PublishCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    const provider = createSmsProvider({ client: client(), checkOptOut: false });

    expect(await failure(provider.send(message(), live()))).toMatchObject({ kind: 'unknown-outcome' });
  });
});

describe('classifySnsError', () => {
  it('passes a ProviderError through', () => {
    const error = new ProviderError('permanent', 'already classified');
    expect(classifySnsError(error, true)).toBe(error);
  });

  it('treats an unrecognised server fault as retryable and an unrecognised client fault as permanent', () => {
    expect(
      classifySnsError(
        new SNSServiceException({ name: 'Odd', $fault: 'server', message: '', ...meta(502) }),
        true,
      ).kind,
    ).toBe('retryable');
    expect(
      classifySnsError(
        new SNSServiceException({ name: 'Odd', $fault: 'client', message: '', ...meta(400) }),
        true,
      ).kind,
    ).toBe('permanent');
  });
});
