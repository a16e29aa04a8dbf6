/**
 * The subscriber-channel sender with the real DynamoStore and subscriber store on dynalite, the local PII cipher,
 * jobs planned by the real dispatcher, and a fake SMS provider: who is sent what, exactly once, and what the
 * receipts, the job item and the queue are left saying.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverBulkJob, subscriberSigningSecret } from '../../functions/channel/bulk';
import { RetryLater } from '../../functions/channel/deliver';
import { TokenBucket } from '../../functions/channel/rate';
import { newAlert } from '../../functions/core/alerts';
import type { Subscriber } from '../../functions/core/model';
import { dispatchVersion } from '../../functions/dispatch/plan';
import { type ChannelProvider, ProviderError } from '../../functions/ports';
import { AlertDraft } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import draftFixture from '../fixtures/alert-draft.json';
import { BulkRig, newZone, T0 } from '../helpers/bulk';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { sqsRecord } from '../helpers/events';
import { ManualClock, newUlid, RecordingLogger, RecordingQueue, testConfig } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

let db: DynaliteStore;
let residents: Awaited<ReturnType<typeof residentsDeps>>;
beforeAll(async () => {
  db = await startDynaliteStore();
  residents = await residentsDeps(db);
});
afterAll(async () => {
  await db?.close();
});

let rig: BulkRig;
beforeAll(() => {
  rig = new BulkRig(db, residents);
});
const residentsOf = (zone: string, count: number, language?: string) =>
  rig.residentsOf(zone, count, language);
const plannedAlert = (zone: string) => rig.plannedAlert(zone);
const harness = () => rig.harness();
const receiptsOf = (alertId: string) => rig.receiptsOf(alertId);

describe('deliverBulkJob', () => {
  it('sends each subscriber of the job once, in their language, to the decrypted address, and records it', async () => {
    // Prepare
    const zone = newZone();
    const people = await residentsOf(zone, 5);
    const { v1, jobs } = await plannedAlert(zone);
    const { deps, provider } = harness();

    // Act
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0]));

    // Assess
    expect(jobs).toHaveLength(1);
    expect(provider.sent.map((m) => m.recipient).sort()).toEqual(
      (await Promise.all(people.map((p) => residents.pii.decrypt(p.addressCipher)))).sort(),
    );
    const spanish = provider.sent.filter((m) => m.text.includes('Aviso en español'));
    expect(spanish).toHaveLength(1);
    const receipts = await receiptsOf(v1.alertId);
    for (const person of people) {
      const receipt = receipts.get(person.id);
      expect(receipt).toMatchObject({ status: 'sent', attempts: 1, recipientMasked: person.addressMasked });
      // Delivery callbacks find the receipt by the provider's id.
      expect(await db.store.findByProviderMessageId('sms', receipt!.providerMessageId!)).toMatchObject({
        alertId: v1.alertId,
        recipient: person.id,
      });
    }
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job).toMatchObject({ status: 'done', attempts: 1 });
    expect(new Set(job!.sent)).toEqual(new Set(people.map((p) => p.id)));
    expect((await db.store.getVersion(v1.alertId, 1))?.receiptsSettled).toBe(5);
  });

  it('lets a STOP stored after planning win over the planned send: nothing goes out, the receipt says opted-out', async () => {
    // Prepare
    const zone = newZone();
    const [stopper, ...others] = await residentsOf(zone, 3);
    const { v1, jobs } = await plannedAlert(zone);
    const stopped: Subscriber = {
      ...stopper!,
      status: 'stopped',
      stoppedAt: T0,
      updatedAt: '2030-11-02T09:00:01.000Z',
    };
    expect(await residents.subscribers.saveSubscriber(stopped, stopper!.updatedAt)).toBe(true);
    const { deps, provider } = harness();

    // Act
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0]));

    // Assess
    const stopperAddress = await residents.pii.decrypt(stopper!.addressCipher);
    expect(provider.sent.map((m) => m.recipient)).not.toContain(stopperAddress);
    expect(provider.sent).toHaveLength(others.length);
    const receipts = await receiptsOf(v1.alertId);
    expect(receipts.get(stopper!.id)).toMatchObject({
      status: 'failed',
      reason: 'opted-out',
      recipientMasked: stopper!.addressMasked,
    });
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job!.sent).not.toContain(stopper!.id);
  });

  it('sends nothing to a subscriber deleted after planning, and keeps an anonymous failed receipt', async () => {
    // Prepare
    const zone = newZone();
    const [gone] = await residentsOf(zone, 2);
    const { v1, jobs } = await plannedAlert(zone);
    expect(await residents.subscribers.deleteSubscriber(gone!.id)).toBe(true);
    const { deps, provider } = harness();

    // Act
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0]));

    // Assess
    expect(provider.sent).toHaveLength(1);
    expect((await receiptsOf(v1.alertId)).get(gone!.id)).toMatchObject({
      status: 'failed',
      reason: 'unsubscribed',
      recipientMasked: 'deleted subscriber',
    });
  });

  it('sends nothing more when the same job is delivered again after it was done', async () => {
    // Prepare
    const zone = newZone();
    await residentsOf(zone, 3);
    const { v1, jobs } = await plannedAlert(zone);
    const { deps, provider } = harness();
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0]));

    // Act
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 2 }));

    // Assess
    expect(provider.sent).toHaveLength(3);
    expect((await db.store.getVersion(v1.alertId, 1))?.receiptsSettled).toBe(3);
  });

  it('after a worker died mid-job, re-claims once its lease is over and sends only to whom nothing reached', async () => {
    // Prepare: a worker claimed the job, wrote one receipt, posted to a second recipient and died before recording it.
    const zone = newZone();
    const people = await residentsOf(zone, 4);
    const { v1, jobs } = await plannedAlert(zone);
    const { deps, provider, clock, logger } = harness();
    const key = { alertId: v1.alertId, version: 1, channel: 'sms' as const, index: 0 };
    const crashed = await db.store.claimJob(
      key,
      { leaseId: 'dead-worker', leaseUntil: '2030-11-02T09:00:30.000Z', now: T0 },
      // As deliverBulkJob claims: with the window it is about to send to.
      { recipients: jobs[0]!.recipients, at: T0 },
    );
    expect(crashed.kind).toBe('claimed');
    const [recorded, postedUnrecorded] = people;
    await db.store.putReceipts([
      {
        alertId: v1.alertId,
        version: 1,
        channel: 'sms',
        recipient: recorded!.id,
        recipientMasked: recorded!.addressMasked,
        status: 'sent',
        attempts: 1,
        providerMessageId: 'sns-before-crash-1',
        createdAt: T0,
        updatedAt: T0,
        history: [{ at: T0, actor: 'channel:sms', status: 'sent', attempt: 1 }],
      },
    ]);
    provider.earlier.set(`${v1.alertId}:1:sms:${postedUnrecorded!.id}`, 'sns-before-crash-2');

    // Act: the job comes back while the dead worker's lease still runs, then after it ended.
    const early = deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 2 }));
    await expect(early).rejects.toBeInstanceOf(RetryLater);
    clock.set('2030-11-02T09:00:31.000Z');
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 3 }));

    // Assess
    expect(provider.sent).toHaveLength(2);
    const receipts = await receiptsOf(v1.alertId);
    expect(receipts.get(recorded!.id)).toMatchObject({
      providerMessageId: 'sns-before-crash-1',
      attempts: 1,
    });
    expect(receipts.get(postedUnrecorded!.id)).toMatchObject({
      status: 'sent',
      providerMessageId: 'sns-before-crash-2',
      reason: 'confirmed by the provider after an attempt whose outcome was lost',
    });
    expect([...receipts.values()].every((r) => r.status === 'sent')).toBe(true);
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job).toMatchObject({ status: 'done', attempts: 2 });
    expect(new Set(job!.sent)).toEqual(new Set(people.map((p) => p.id)));
    expect(logger.at('info').some((l) => l.message === 'job delivered')).toBe(true);
  });

  it('tries a retryable failure again in-process, then leaves that recipient alone for the redelivery', async () => {
    // Prepare
    const zone = newZone();
    const [unlucky, ...others] = await residentsOf(zone, 3);
    const { v1, jobs } = await plannedAlert(zone);
    const { deps, provider, queue, clock } = harness();
    const unluckyAddress = await residents.pii.decrypt(unlucky!.addressCipher);
    provider.failures.set(unluckyAddress, {
      times: 3,
      error: new ProviderError('retryable', 'Throttling: rate exceeded'),
    });

    // Act
    const first = deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0]));
    await expect(first).rejects.toBeInstanceOf(RetryLater);
    const afterFirst = await receiptsOf(v1.alertId);
    clock.advance(60_000);
    await deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 2 }));

    // Assess
    expect(afterFirst.get(unlucky!.id)).toMatchObject({ status: 'retrying', attempts: 3 });
    expect(queue.visibility).toHaveLength(1);
    expect(provider.sent.map((m) => m.recipient).filter((r) => r === unluckyAddress)).toHaveLength(1);
    expect(provider.sent).toHaveLength(others.length + 1);
    const receipts = await receiptsOf(v1.alertId);
    expect(receipts.get(unlucky!.id)).toMatchObject({ status: 'sent', attempts: 4 });
    expect((await db.store.getVersion(v1.alertId, 1))?.receiptsSettled).toBe(3);
  });

  it('on the last receive marks the unsent recipients and the job failed (retryable) before dead-lettering', async () => {
    // Prepare
    const zone = newZone();
    const [unlucky] = await residentsOf(zone, 2);
    const { v1, jobs } = await plannedAlert(zone);
    const { deps, provider, queue } = harness();
    provider.failures.set(await residents.pii.decrypt(unlucky!.addressCipher), {
      times: 100,
      error: new ProviderError('retryable', '500 from the provider'),
    });

    // Act
    const last = deliverBulkJob(deps, jobs[0]!, sqsRecord(jobs[0], { receiveCount: 5 }));

    // Assess
    await expect(last).rejects.toBeInstanceOf(RetryLater);
    expect(queue.visibility.map((v) => v.seconds)).toEqual([0]);
    expect((await receiptsOf(v1.alertId)).get(unlucky!.id)).toMatchObject({
      status: 'failed',
      retryable: true,
    });
    const [job] = await db.store.listJobs(v1.alertId, 1, 'sms');
    expect(job).toMatchObject({ status: 'failed', retryable: true });
    // Final: an update waiting for the original does not wait for this job forever.
    expect((await db.store.getVersion(v1.alertId, 1))?.receiptsSettled).toBe(2);
  });
});

describe('deliverBulkJob to webhooks', () => {
  it("hands the webhook provider each outlet's own signing secret, decrypted for that message only", async () => {
    // Prepare
    const zone = newZone();
    const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
    const outlet: Subscriber = {
      id: newUlid(),
      channel: 'webhook',
      addressHash: await residents.pii.hash('https://news.example.org/hooks/herald'),
      addressCipher: await residents.pii.encrypt('https://news.example.org/hooks/herald'),
      addressMasked: 'https://news.example.org/…',
      secretCipher: await residents.pii.encrypt(secret),
      name: 'City News',
      zones: [zone],
      language: 'en',
      status: 'confirmed',
      audience: 'public',
      createdAt: T0,
      updatedAt: T0,
      confirmedAt: T0,
    };
    expect((await residents.subscribers.createSubscriber(outlet)).kind).toBe('created');
    const v1 = newAlert(
      AlertDraft.parse({ ...structuredClone(draftFixture), areas: [{ zone }], channels: ['webhook'] }),
      {
        alertId: newUlid(),
        actor: { id: 'officer-1', roles: ['officer'] },
        now: new Date(T0),
        sender: 'alerts@herald.example',
        approvalSeverities: new Set(['Extreme']),
      },
    );
    expect(await db.store.putVersion(v1)).toBe('created');
    const queue = new RecordingQueue();
    await dispatchVersion(
      {
        store: db.store,
        subscribers: residents.subscribers,
        queue,
        config: testConfig(),
        clock: new ManualClock(T0),
        logger: new RecordingLogger(),
      },
      { alertId: v1.alertId, version: 1 },
    );
    const seen: { recipient: string; secret: string | undefined }[] = [];
    const webhook: ChannelProvider = {
      channel: 'webhook',
      mode: 'real',
      send: async (message) => {
        seen.push({ recipient: message.recipient, secret: subscriberSigningSecret(message) });
        return { providerMessageId: 'msg_1' };
      },
    };
    const { deps } = harness();
    const [job] = queue.bodies<ChannelJob>('channel-webhook');

    // Act
    await deliverBulkJob({ ...deps, provider: webhook }, job!, sqsRecord(job));

    // Assess
    expect(seen).toEqual([{ recipient: 'https://news.example.org/hooks/herald', secret }]);
    expect((await receiptsOf(v1.alertId)).get(outlet.id)).toMatchObject({
      status: 'sent',
      recipientMasked: 'https://news.example.org/…',
    });
  });
});

describe('TokenBucket', () => {
  it('spaces sends at the rate, however many wait at once', async () => {
    // Prepare
    let now = 0;
    const waits: number[] = [];
    const bucket = new TokenBucket(
      10,
      1,
      () => now,
      async (ms) => {
        waits.push(ms);
      },
    );

    // Act
    await Promise.all(Array.from({ length: 5 }, () => bucket.take()));
    now = 1000;
    await bucket.take();

    // Assess
    expect(waits).toEqual([100, 200, 300, 400]);
  });
});
