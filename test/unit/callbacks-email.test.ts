/**
 * The SES events callback fed SNS events as a configuration set's SNS destination sends them (each record's
 * `Message` the JSON of one SES event), against the real store on dynalite.
 */
import type { SNSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackDeps } from '../../functions/callbacks/confirm';
import { createEmailEventsHandler, handleEmailEvents } from '../../functions/callbacks/email-events/handler';
import type { ReceiptKey } from '../../functions/core/model';
import sesEvents from '../fixtures/ses-events.json';
import snsFixture from '../fixtures/sns-ses-event.json';
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
const RECIPIENT = 'news.desk@media.example';

type EventType = 'Delivery' | 'Bounce' | 'Complaint' | 'Reject' | 'DeliveryDelay';
const SECTION: Record<EventType, keyof typeof sesEvents> = {
  Delivery: 'delivery',
  Bounce: 'bounce',
  Complaint: 'complaint',
  Reject: 'reject',
  DeliveryDelay: 'deliveryDelay',
};

/** One SES event as SES publishes it: the type, the mail, and the section named after the type. */
function sesEvent(type: EventType, messageId: string, patch: Record<string, unknown> = {}) {
  const section = SECTION[type];
  const mail = structuredClone(sesEvents.mail);
  mail.messageId = messageId;
  mail.commonHeaders.messageId = messageId;
  return { eventType: type, mail, [section]: { ...structuredClone(sesEvents[section]), ...patch } };
}

/** The SNS event the topic invokes the function with, one record per SES event. */
function snsEvent(...events: unknown[]): SNSEvent {
  const template = snsFixture.Records[0]!;
  return {
    Records: events.map((e, i) => {
      const record = structuredClone(template);
      record.Sns.MessageId = `${record.Sns.MessageId.slice(0, -2)}${String(i).padStart(2, '0')}`;
      record.Sns.Message = typeof e === 'string' ? e : JSON.stringify(e);
      return record;
    }),
  } as SNSEvent;
}

async function sentReceipt(messageId: string): Promise<ReceiptKey> {
  const key: ReceiptKey = { alertId: newAlertId(), version: 1, channel: 'email', recipient: RECIPIENT };
  await db.store.createReceipts([key], T0);
  const claim = await db.store.claim(key, {
    leaseId: 'l',
    leaseUntil: '2030-05-01T10:01:00.000Z',
    now: T0,
    actor: 'channel:email',
  });
  expect(claim.kind).toBe('claimed');
  await db.store.record(key, 'l', {
    status: 'sent',
    at: '2030-05-01T10:00:01.000Z',
    actor: 'channel:email',
    attempt: 1,
    providerMessageId: messageId,
  });
  return key;
}

function deps(now = '2030-05-01T10:06:00.000Z') {
  const logger = new RecordingLogger();
  const d: CallbackDeps = { store: db.store, clock: new ManualClock(now), logger };
  return { deps: d, logger };
}

const uid = () => `0102018f-${crypto.randomUUID()}-000000`;
const callbackLines = async (key: ReceiptKey) =>
  (await db.store.get(key))!.history.filter((h) => h.actor === 'callback:email');

describe('SES events callback', () => {
  it('a Delivery moves a sent receipt to delivered, through the Lambda handler', async () => {
    // Prepare
    const key = await sentReceipt(sesEvents.mail.messageId);
    const { deps: d, logger } = deps();
    const event = structuredClone(snsFixture) as unknown as SNSEvent;
    event.Records[0]!.Sns.Message = JSON.stringify(sesEvent('Delivery', sesEvents.mail.messageId));

    // Act
    await createEmailEventsHandler(d)(event, lambdaContext('herald-email-events'));

    // Assess
    const receipt = await db.store.get(key);
    expect(receipt).toMatchObject({ status: 'delivered', updatedAt: '2030-05-01T10:00:02.870Z' });
    expect(receipt!.history.at(-1)).toEqual({
      at: '2030-05-01T10:00:02.870Z',
      actor: 'callback:email',
      status: 'delivered',
      attempt: 1,
    });
    expect(JSON.stringify(logger.lines)).not.toContain(RECIPIENT);
  });

  it('a permanent Bounce fails the receipt with the bounce type and the diagnostic, the address masked', async () => {
    const id = uid();
    const key = await sentReceipt(id);

    await handleEmailEvents(deps().deps, snsEvent(sesEvent('Bounce', id)));

    expect(await db.store.get(key)).toMatchObject({
      status: 'failed',
      reason:
        'bounce Permanent/General: smtp; 550 5.1.1 <n•••@m•••.example>: Recipient address rejected: User unknown',
    });
  });

  it('a Reject fails the receipt with SES’s reason', async () => {
    const id = uid();
    const key = await sentReceipt(id);

    await handleEmailEvents(deps().deps, snsEvent(sesEvent('Reject', id)));

    expect(await db.store.get(key)).toMatchObject({
      status: 'failed',
      reason: 'rejected by SES: Bad content',
    });
  });

  it('a transient Bounce and a DeliveryDelay change nothing', async () => {
    const id = uid();
    const key = await sentReceipt(id);
    const before = await db.store.get(key);

    await handleEmailEvents(
      deps().deps,
      snsEvent(
        sesEvent('Bounce', id, { bounceType: 'Transient', bounceSubType: 'MailboxFull' }),
        sesEvent('DeliveryDelay', id),
      ),
    );

    expect(await db.store.get(key)).toEqual(before);
  });

  it('a Complaint after delivery keeps the receipt delivered and adds the complaint to its history, once', async () => {
    const id = uid();
    const key = await sentReceipt(id);

    await handleEmailEvents(deps().deps, snsEvent(sesEvent('Delivery', id)));
    await handleEmailEvents(deps().deps, snsEvent(sesEvent('Complaint', id)));
    await handleEmailEvents(deps().deps, snsEvent(sesEvent('Complaint', id)));

    expect(await db.store.get(key)).toMatchObject({ status: 'delivered', reason: 'complaint' });
    expect(await callbackLines(key)).toEqual([
      { at: '2030-05-01T10:00:02.870Z', actor: 'callback:email', status: 'delivered', attempt: 1 },
      {
        at: '2030-05-01T10:05:00.000Z',
        actor: 'callback:email',
        status: 'delivered',
        attempt: 1,
        reason: 'complaint',
      },
    ]);
  });

  it('a repeated Delivery or Bounce changes nothing', async () => {
    const delivered = uid();
    const bounced = uid();
    const a = await sentReceipt(delivered);
    const b = await sentReceipt(bounced);
    const event = snsEvent(sesEvent('Delivery', delivered), sesEvent('Bounce', bounced));

    await handleEmailEvents(deps().deps, event);
    const [onceA, onceB] = [await db.store.get(a), await db.store.get(b)];
    await handleEmailEvents(deps().deps, event);

    expect(await db.store.get(a)).toEqual(onceA);
    expect(await db.store.get(b)).toEqual(onceB);
    expect(onceB).toMatchObject({ status: 'failed' });
  });

  it('a Delivery arriving after the bounce does not undo it', async () => {
    const id = uid();
    const key = await sentReceipt(id);

    await handleEmailEvents(deps().deps, snsEvent(sesEvent('Bounce', id)));
    await handleEmailEvents(deps().deps, snsEvent(sesEvent('Delivery', id)));

    expect(await db.store.get(key)).toMatchObject({ status: 'failed' });
  });

  it('throws for a message id no receipt has yet, after confirming the other records', async () => {
    const known = uid();
    const key = await sentReceipt(known);

    await expect(
      handleEmailEvents(deps().deps, snsEvent(sesEvent('Delivery', uid()), sesEvent('Delivery', known))),
    ).rejects.toThrow(/no email receipt has provider message id/);

    expect(await db.store.get(key)).toMatchObject({ status: 'delivered' });
  });

  it('skips, with a warning, a record that is not an SES event', async () => {
    const { deps: d, logger } = deps();

    await handleEmailEvents(d, snsEvent('not json', { eventType: 'Delivery' }));

    expect(logger.at('warn')).toHaveLength(2);
  });
});
