import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { CheckIfPhoneNumberIsOptedOutCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SandboxProvider } from '../../functions/adapters/providers/sandbox';
import { systemClock } from '../../functions/ports';
import { awsNotifier, providerNotifier } from '../../functions/shared/notifier';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { newUlid } from '../helpers/fakes';

let db: DynaliteStore;
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

describe('providerNotifier', () => {
  it('files notices in the sandbox outbox under alert "notice", version 0, newest first, recipients masked', async () => {
    // Prepare
    const sandbox = (channel: 'sms' | 'email') =>
      new SandboxProvider({ channel, outbox: db.store, clock: systemClock, newId: newUlid });
    const notifier = providerNotifier({ sms: sandbox('sms'), email: sandbox('email') });

    // Act
    await notifier.send({ channel: 'sms', address: '+34611999001', kind: 'code', text: 'code 123456' });
    await new Promise((r) => setTimeout(r, 5));
    await notifier.send({ channel: 'sms', address: '+34611999002', kind: 'keyword-reply', text: 'bye' });
    await notifier.send({
      channel: 'email',
      address: 'someone@example.org',
      kind: 'code',
      subject: 'Your code',
      text: 'code 654321',
    });
    const sms = await db.store.list({ channel: 'sms', alertId: 'notice', limit: 10 });
    const email = await db.store.list({ channel: 'email', alertId: 'notice', limit: 10 });

    // Assess
    expect(sms.items.map((i) => [i.recipient, i.text, i.version])).toEqual([
      ['+34•••••••02', 'bye', 0],
      ['+34•••••••01', 'code 123456', 0],
    ]);
    expect(sms.items[0]?.idempotencyKey).toMatch(/^notice:keyword-reply:[0-9a-f-]{36}$/);
    expect(sms.items[0]?.idempotencyKey).not.toBe(sms.items[1]?.idempotencyKey);
    expect(email.items[0]).toMatchObject({
      recipient: 's•••@e•••.org',
      text: 'code 654321',
      alertId: 'notice',
    });
  });
});

describe('awsNotifier', () => {
  const sns = mockClient(SNSClient);
  const ses = mockClient(SESv2Client);
  beforeEach(() => {
    sns.reset();
    ses.reset();
  });
  afterAll(() => {
    sns.restore();
    ses.restore();
  });

  it('sends an SMS notice through SNS Publish, with the origination number from the environment', async () => {
    // Prepare
    sns.on(CheckIfPhoneNumberIsOptedOutCommand).resolves({ isOptedOut: false });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const notifier = awsNotifier({ HERALD_SMS_ORIGINATION_NUMBER: '+34900000000' });

    // Act
    await notifier.send({ channel: 'sms', address: '+34611999003', kind: 'keyword-reply', text: 'Welcome' });

    // Assess
    const publish = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(publish).toMatchObject({ PhoneNumber: '+34611999003', Message: 'Welcome' });
    expect(publish?.MessageAttributes?.['AWS.MM.SMS.OriginationNumber']?.StringValue).toBe('+34900000000');
  });

  it('sends an email notice through SES with its subject, and builds each provider once', async () => {
    // Prepare
    ses.on(SendEmailCommand).resolves({ MessageId: 'e-1' });
    const notifier = awsNotifier({
      HERALD_EMAIL_FROM: 'alerts@agency.example',
      HERALD_SES_CONFIGURATION_SET: 'herald',
    });

    // Act
    await notifier.send({
      channel: 'email',
      address: 'a@example.org',
      kind: 'code',
      subject: 'Code',
      text: '123456',
    });
    await notifier.send({
      channel: 'email',
      address: 'b@example.org',
      kind: 'code',
      subject: 'Code',
      text: '654321',
    });

    // Assess
    const calls = ses.commandCalls(SendEmailCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Destination?.ToAddresses)).toEqual([['a@example.org'], ['b@example.org']]);
    const raw = Buffer.from(calls[0]?.Content?.Raw?.Data ?? new Uint8Array()).toString('utf8');
    expect(raw).toContain('Subject: Code');
    // The text part goes out base64-encoded.
    expect(raw).toContain(Buffer.from('123456').toString('base64'));
  });

  it('fails an email notice when email is not configured, and tries again on the next one', async () => {
    // Prepare
    const env: NodeJS.ProcessEnv = {};
    const notifier = awsNotifier(env);

    // Act
    const first = notifier.send({ channel: 'email', address: 'a@example.org', kind: 'code', text: '1' });
    await expect(first).rejects.toThrow(/HERALD_EMAIL_FROM/);
    env.HERALD_EMAIL_FROM = 'alerts@agency.example';
    env.HERALD_SES_CONFIGURATION_SET = 'herald';
    ses.on(SendEmailCommand).resolves({ MessageId: 'e-2' });
    await notifier.send({ channel: 'email', address: 'a@example.org', kind: 'code', text: '1' });

    // Assess
    expect(ses.commandCalls(SendEmailCommand)).toHaveLength(1);
  });
});
