import {
  ChangeMessageVisibilityCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  SQSClient,
  SQSServiceException,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { QueueSendError, SqsQueuePort } from '../../functions/adapters/sqs/queue';
import type { OutgoingMessage } from '../../functions/ports';

const sqs = mockClient(SQSClient);
const DISPATCH_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/herald-dispatch';
const X_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/herald-channel-x';

afterEach(() => {
  sqs.reset();
});

function port() {
  const sleeps: number[] = [];
  const queue = new SqsQueuePort(
    new SQSClient({ region: 'eu-west-1' }),
    { dispatch: DISPATCH_URL, 'channel-x': X_URL },
    async (ms) => {
      sleeps.push(ms);
    },
  );
  return { queue, sleeps };
}

const messages = (n: number): OutgoingMessage[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `01JA-1-${i}`,
    body: JSON.stringify({ alertId: '01JA', version: i + 1 }),
  }));

/** The entries of each SendMessageBatch call, in order. */
const batches = () =>
  sqs
    .commandCalls(SendMessageBatchCommand)
    .map((c) => (c.args[0].input as SendMessageBatchCommandInput).Entries ?? []);

describe('SqsQueuePort.send', () => {
  it('sends in batches of ten, in order, with ids SQS accepts', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const { queue } = port();
    const sent = messages(23);

    // Act
    await queue.send('dispatch', sent);

    // Assess
    expect(sqs).toReceiveCommandTimes(SendMessageBatchCommand, 3);
    expect(sqs).toReceiveCommandWith(SendMessageBatchCommand, { QueueUrl: DISPATCH_URL });
    expect(batches().map((b) => b.length)).toEqual([10, 10, 3]);
    expect(
      batches()
        .flat()
        .map((e) => e.MessageBody),
    ).toEqual(sent.map((m) => m.body));
    for (const entry of batches().flat()) expect(entry.Id).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
    for (const batch of batches()) expect(new Set(batch.map((e) => e.Id)).size).toBe(batch.length);
  });

  it('passes a delay only on the messages that ask for one', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
    const { queue } = port();

    // Act
    await queue.send('channel-x', [
      { id: 'a', body: '{"n":1}', delaySeconds: 30 },
      { id: 'b', body: '{"n":2}' },
    ]);

    // Assess
    expect(sqs).toReceiveCommandWith(SendMessageBatchCommand, {
      QueueUrl: X_URL,
      Entries: [
        { Id: 'm0', MessageBody: '{"n":1}', DelaySeconds: 30 },
        { Id: 'm1', MessageBody: '{"n":2}' },
      ],
    });
  });

  it('sends nothing for no messages', async () => {
    // Act
    await port().queue.send('dispatch', []);

    // Assess
    expect(sqs).not.toReceiveCommand(SendMessageBatchCommand);
  });

  it('retries only the entries SQS failed on its side, after a pause', async () => {
    // Prepare
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: 'm0', MessageId: 'x0', MD5OfMessageBody: '' }],
        Failed: [{ Id: 'm1', SenderFault: false, Code: 'InternalError', Message: 'try again' }],
      })
      .resolves({ Successful: [{ Id: 'm0', MessageId: 'x1', MD5OfMessageBody: '' }], Failed: [] });
    const { queue, sleeps } = port();
    const sent = messages(2);

    // Act
    await queue.send('dispatch', sent);

    // Assess
    expect(sqs).toReceiveCommandTimes(SendMessageBatchCommand, 2);
    expect(batches()[1]).toEqual([{ Id: 'm0', MessageBody: sent[1]!.body }]);
    expect(sleeps).toHaveLength(1);
  });

  it("does not retry an entry SQS refused as the sender's fault, and names it", async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [{ Id: 'm0', MessageId: 'x0', MD5OfMessageBody: '' }],
      Failed: [{ Id: 'm1', SenderFault: true, Code: 'InvalidMessageContents', Message: 'bad character' }],
    });
    const { queue } = port();

    // Act
    const error = await queue.send('dispatch', messages(2)).catch((e: unknown) => e);

    // Assess
    expect(sqs).toReceiveCommandTimes(SendMessageBatchCommand, 1);
    expect(error).toBeInstanceOf(QueueSendError);
    expect(error).toMatchObject({
      queue: 'dispatch',
      failures: [{ id: '01JA-1-1', code: 'InvalidMessageContents', message: 'bad character' }],
    });
    expect((error as Error).message).toMatch(/dispatch.*InvalidMessageContents/);
  });

  it('gives up after three tries of an entry that keeps failing, naming it', async () => {
    // Prepare
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: 'm0', SenderFault: false, Code: 'ServiceUnavailable' }],
    });
    const { queue, sleeps } = port();

    // Act
    const error = await queue.send('channel-x', messages(1)).catch((e: unknown) => e);

    // Assess
    expect(sqs).toReceiveCommandTimes(SendMessageBatchCommand, 3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBeGreaterThan(sleeps[0]!);
    expect(error).toBeInstanceOf(QueueSendError);
    expect(error).toMatchObject({
      queue: 'channel-x',
      failures: [{ id: '01JA-1-0', code: 'ServiceUnavailable' }],
    });
  });

  it('lets a throttling error from SQS propagate, so the caller knows nothing was queued', async () => {
    // Prepare
    const throttled = new SQSServiceException({
      name: 'RequestThrottled',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
      message: 'Request is throttled.',
    });
    sqs.on(SendMessageBatchCommand).rejects(throttled);

    // Act
    const act = port().queue.send('dispatch', messages(3));

    // Assess
    await expect(act).rejects.toBe(throttled);
  });

  it('refuses a queue it has no URL for', async () => {
    // Act
    const act = port().queue.send('channel-sms', messages(1));

    // Assess
    await expect(act).rejects.toThrow(/channel-sms/);
    expect(sqs).not.toReceiveAnyCommand();
  });
});

describe('SqsQueuePort.changeVisibility', () => {
  it.each([
    [30, 30],
    [0, 0],
    [-5, 0],
    [12.4, 12],
    [90_000, 43_200],
  ])('asks for %f seconds as VisibilityTimeout %i', async (seconds, timeout) => {
    // Prepare
    sqs.on(ChangeMessageVisibilityCommand).resolves({});

    // Act
    await port().queue.changeVisibility('channel-x', 'AQEBhandle==', seconds);

    // Assess
    expect(sqs).toReceiveCommandExactlyOnceWith(ChangeMessageVisibilityCommand, {
      QueueUrl: X_URL,
      ReceiptHandle: 'AQEBhandle==',
      VisibilityTimeout: timeout,
    });
  });

  it('lets an error propagate', async () => {
    // Prepare
    sqs.on(ChangeMessageVisibilityCommand).rejects(new Error('ReceiptHandleIsInvalid'));

    // Act
    const act = port().queue.changeVisibility('channel-x', 'stale', 10);

    // Assess
    await expect(act).rejects.toThrow('ReceiptHandleIsInvalid');
  });
});
