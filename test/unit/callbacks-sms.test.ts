/**
 * The SMS delivery-status callback fed CloudWatch Logs subscription events as AWS sends them (the SNS log
 * lines gzipped and base64-encoded into `awslogs.data`), against the real store on dynalite.
 */
import { gzipSync } from 'node:zlib';
import type { CloudWatchLogsEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackDeps } from '../../functions/callbacks/confirm';
import { createSmsStatusHandler, handleSmsStatus } from '../../functions/callbacks/sms-status/handler';
import type { ReceiptKey } from '../../functions/core/model';
import deliveryFixture from '../fixtures/cloudwatch-logs-sns-sms-delivery.json';
import failureFixture from '../fixtures/cloudwatch-logs-sns-sms-failure.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { newAlertId } from '../helpers/dynamo-fixtures';
import { lambdaContext } from '../helpers/events';
import { ManualClock, RecordingLogger } from '../helpers/fakes';

let db: DynaliteStore;
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

const T0 = '2030-05-01T10:00:00.000Z';
type LogBatch = typeof deliveryFixture;

/** What CloudWatch Logs hands the subscribed function: the batch, gzipped, in base64. */
function cloudWatchEvent(batch: unknown): CloudWatchLogsEvent {
  return { awslogs: { data: gzipSync(Buffer.from(JSON.stringify(batch), 'utf8')).toString('base64') } };
}

/** The fixture's batch with its log lines replaced by these SNS delivery logs. */
function batchOf(fixture: LogBatch, ...logs: Record<string, unknown>[]): LogBatch {
  const batch = structuredClone(fixture);
  const template = batch.logEvents[0]!;
  batch.logEvents = logs.map((log, i) => ({
    id: `${template.id.slice(0, -2)}${String(i).padStart(2, '0')}`,
    timestamp: template.timestamp + i,
    message: JSON.stringify(log),
  }));
  return batch;
}

/** The fixture's first SNS log line, with another message id (and whatever else the test changes). */
function snsLog(fixture: LogBatch, messageId: string, patch: { providerResponse?: string } = {}) {
  const log = JSON.parse(fixture.logEvents[0]!.message) as {
    notification: { messageId: string };
    delivery: Record<string, unknown>;
  };
  log.notification.messageId = messageId;
  if (patch.providerResponse) log.delivery.providerResponse = patch.providerResponse;
  return log;
}

/** A receipt that was sent with this SNS message id, through the store's own operations. */
async function sentReceipt(messageId: string, recipient = '+34612345678'): Promise<ReceiptKey> {
  const key: ReceiptKey = { alertId: newAlertId(), version: 1, channel: 'sms', recipient };
  await db.store.createReceipts([key], T0);
  const claim = await db.store.claim(key, {
    leaseId: 'l',
    leaseUntil: '2030-05-01T10:01:00.000Z',
    now: T0,
    actor: 'channel:sms',
  });
  expect(claim.kind).toBe('claimed');
  await db.store.record(key, 'l', {
    status: 'sent',
    at: '2030-05-01T10:00:00.400Z',
    actor: 'channel:sms',
    attempt: 1,
    providerMessageId: messageId,
  });
  return key;
}

function deps(now = '2030-05-01T10:00:05.000Z') {
  const logger = new RecordingLogger();
  const d: CallbackDeps = { store: db.store, clock: new ManualClock(now), logger };
  return { deps: d, logger };
}

const uid = () => crypto.randomUUID();

describe('SMS delivery-status callback', () => {
  it('moves a sent receipt to delivered, through the Lambda handler, with the callback as actor', async () => {
    // Prepare
    const messageId = JSON.parse(deliveryFixture.logEvents[0]!.message).notification.messageId as string;
    const key = await sentReceipt(messageId);
    const { deps: d, logger } = deps();

    // Act
    await createSmsStatusHandler(d)(cloudWatchEvent(deliveryFixture), lambdaContext('herald-sms-status'));

    // Assess
    const receipt = await db.store.get(key);
    expect(receipt).toMatchObject({
      status: 'delivered',
      providerMessageId: messageId,
      updatedAt: '2030-05-01T10:00:02.000Z',
    });
    expect(receipt!.history.at(-1)).toEqual({
      at: '2030-05-01T10:00:02.000Z',
      actor: 'callback:sms',
      status: 'delivered',
      attempt: 1,
    });
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain('+34612345678');
    expect(logged).toContain('+34•••••••78');
  });

  it('moves a sent receipt to failed with the carrier’s response as the reason', async () => {
    const messageId = JSON.parse(failureFixture.logEvents[0]!.message).notification.messageId as string;
    const key = await sentReceipt(messageId, '+34698765432');

    await handleSmsStatus(deps().deps, cloudWatchEvent(failureFixture));

    expect(await db.store.get(key)).toMatchObject({
      status: 'failed',
      reason: 'Unknown error attempting to reach phone',
    });
  });

  it('says opted-out when the carrier response is an opt-out, as the provider does', async () => {
    const messageId = uid();
    const key = await sentReceipt(messageId);

    await handleSmsStatus(
      deps().deps,
      cloudWatchEvent(
        batchOf(failureFixture, {
          ...snsLog(failureFixture, messageId, { providerResponse: 'Phone is currently opted out' }),
        }),
      ),
    );

    expect(await db.store.get(key)).toMatchObject({ status: 'failed', reason: 'opted-out' });
  });

  it('a repeated log line changes nothing', async () => {
    const messageId = uid();
    const key = await sentReceipt(messageId);
    const event = cloudWatchEvent(batchOf(deliveryFixture, snsLog(deliveryFixture, messageId)));

    await handleSmsStatus(deps().deps, event);
    const once = await db.store.get(key);
    await handleSmsStatus(deps().deps, event);

    expect(await db.store.get(key)).toEqual(once);
    expect(once!.history.filter((h) => h.actor === 'callback:sms')).toHaveLength(1);
  });

  it('throws for a message id no receipt has yet, after confirming the others in the batch', async () => {
    const known = uid();
    const key = await sentReceipt(known);

    await expect(
      handleSmsStatus(
        deps().deps,
        cloudWatchEvent(
          batchOf(deliveryFixture, snsLog(deliveryFixture, uid()), snsLog(deliveryFixture, known)),
        ),
      ),
    ).rejects.toThrow(/no sms receipt has provider message id/);

    expect(await db.store.get(key)).toMatchObject({ status: 'delivered' });
  });

  it('drops, with a warning, a message id still unknown long after its log line', async () => {
    const { deps: d, logger } = deps('2030-05-01T11:00:00.000Z');

    await handleSmsStatus(d, cloudWatchEvent(batchOf(deliveryFixture, snsLog(deliveryFixture, uid()))));

    expect(logger.at('warn').map((l) => l.message)).toEqual([
      'delivery status for a message no receipt knows; dropped',
    ]);
  });

  it('skips a line that is not an SNS delivery log and ignores the subscription’s control message', async () => {
    const { deps: d, logger } = deps();
    const batch = structuredClone(deliveryFixture);
    batch.logEvents[0]!.message = 'START RequestId: 1 Version: $LATEST';

    await handleSmsStatus(d, cloudWatchEvent(batch));
    await handleSmsStatus(
      d,
      cloudWatchEvent({ ...batchOf(deliveryFixture), messageType: 'CONTROL_MESSAGE' }),
    );

    expect(logger.at('warn')).toHaveLength(1);
  });

  it('refuses an event that is not a CloudWatch Logs subscription payload', async () => {
    await expect(handleSmsStatus(deps().deps, {} as CloudWatchLogsEvent)).rejects.toThrow(
      /not a CloudWatch Logs/,
    );
  });
});
