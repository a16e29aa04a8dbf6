/**
 * Delivering channel jobs with the real DynamoStore on dynalite and scripted providers: what lands on the
 * receipt, what the queue is told, and what is posted — or, as important, not posted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChannelDeps, deliverJob, RetryLater } from '../../functions/channel/deliver';
import { createChannelHandler } from '../../functions/channel/handler';
import { RENDERERS } from '../../functions/channels/renderers';
import { newAlert, updateAlert } from '../../functions/core/alerts';
import type { ReceiptKey, StoredVersion } from '../../functions/core/model';
import { AlertDraft, type Channel, UpdatePatch } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { lambdaContext, sqsEvent, sqsRecord } from '../helpers/events';
import {
  ManualClock,
  newUlid,
  RecordingLogger,
  RecordingQueue,
  ScriptedProvider,
  testConfig,
} from '../helpers/fakes';

let db: DynaliteStore;
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

const T0 = '2030-10-01T12:00:00.000Z';
const ms = (iso: string) => Date.parse(iso);
const PROVIDER_TIMEOUT_MS = 40;

const ACCOUNTS: Partial<Record<Channel, string>> = {
  x: '@agency',
  facebook: 'agency-page',
  instagram: 'agency',
};

function harness(channel: Channel, options: { lookup?: Map<string, string> } = {}) {
  const provider = new ScriptedProvider(channel, 'real', options.lookup ? { posted: options.lookup } : {});
  const sandbox = new ScriptedProvider(channel, 'sandbox');
  const queue = new RecordingQueue();
  const clock = new ManualClock(T0);
  const logger = new RecordingLogger();
  const deps: ChannelDeps = {
    store: db.store,
    queue,
    provider,
    renderers: RENDERERS,
    sandbox,
    config: testConfig({ providerTimeoutMs: PROVIDER_TIMEOUT_MS, maxReceives: 5, retryBaseMs: 2000 }),
    clock,
    logger,
    newId: newUlid,
  };
  return { deps, provider, sandbox, queue, clock, logger };
}

/** An alert on `channel`, stored and planned as the dispatcher leaves it: one queued receipt per recipient. */
async function plannedAlert(
  channel: Channel,
  options: { recipients?: string[]; status?: 'Actual' | 'Test' | 'Exercise' } = {},
) {
  const alertId = newUlid();
  const v1 = newAlert(
    AlertDraft.parse({
      ...structuredClone(draftFixture),
      channels: [channel],
      status: options.status ?? 'Actual',
    }),
    {
      alertId,
      actor: { id: 'officer-1', roles: ['officer'] },
      now: new Date(T0),
      sender: 'alerts@herald.example',
      approvalSeverities: new Set(['Extreme']),
    },
  );
  // Writing version 1 creates the alert, head included.
  expect(await db.store.putVersion(v1)).toBe('created');
  const recipients = options.recipients ?? [ACCOUNTS[channel]!];
  await db.store.createReceipts(
    recipients.map((recipient) => ({ alertId, version: 1, channel, recipient })),
    T0,
  );
  await db.store.markPlanned(alertId, 1, recipients.length, T0);
  const job: ChannelJob = { alertId, version: 1, channel, recipients };
  const keyFor = (recipient: string): ReceiptKey => ({ alertId, version: 1, channel, recipient });
  return { v1: { ...v1, dispatchStatus: 'planned' as const }, job, key: keyFor(recipients[0]!), keyFor };
}

async function plannedUpdate(v1: StoredVersion, at: string) {
  const v2 = updateAlert([v1], UpdatePatch.parse({ headline: 'Seen at the station' }), {
    alertId: v1.alertId,
    actor: { id: 'officer-1', roles: ['officer'] },
    now: new Date(at),
    sender: 'alerts@herald.example',
    approvalSeverities: new Set(['Extreme']),
  });
  await db.store.putVersion(v2);
  const recipient = ACCOUNTS[v1.content.channels[0]!]!;
  const channel = v1.content.channels[0]!;
  await db.store.createReceipts([{ alertId: v1.alertId, version: 2, channel, recipient }], at);
  await db.store.markPlanned(v1.alertId, 2, 1, at);
  return {
    v2,
    job: { alertId: v1.alertId, version: 2, channel, recipients: [recipient] } satisfies ChannelJob,
  };
}

/** A worker that claimed the receipt and died mid-call: its lease runs out at `leaseUntil`. */
async function abandonedBy(key: ReceiptKey, leaseUntil: string) {
  const claim = await db.store.claim(key, {
    leaseId: 'dead-worker',
    leaseUntil,
    now: T0,
    actor: `channel:${key.channel}`,
  });
  expect(claim.kind).toBe('claimed');
}

const idempotencyKeyOf = (k: ReceiptKey) => `${k.alertId}:${k.version}:${k.channel}:${k.recipient}`;
const settled = async (alertId: string, version = 1) =>
  (await db.store.getVersion(alertId, version))?.receiptsSettled ?? 0;

describe('deliverJob', () => {
  it('posts, and records the receipt sent with the provider id; the version counts it settled', async () => {
    // Prepare
    const { deps, provider, queue } = harness('x');
    provider.script({ ok: '1790000000000000001' });
    const { v1, job, key } = await plannedAlert('x');

    // Act
    await deliverJob(deps, job, sqsRecord(job));

    // Assess
    expect(provider.calls).toHaveLength(1);
    const sent = provider.calls[0]!;
    expect(sent.message).toMatchObject({
      channel: 'x',
      alertId: v1.alertId,
      version: 1,
      recipient: '@agency',
      idempotencyKey: idempotencyKeyOf(key),
      test: false,
    });
    expect(sent.message.text.startsWith(draftFixture.headline)).toBe(true);
    expect(sent.message).not.toHaveProperty('inReplyTo');
    expect(sent.signal).toBeInstanceOf(AbortSignal);
    const receipt = await db.store.get(key);
    expect(receipt).toMatchObject({ status: 'sent', providerMessageId: '1790000000000000001', attempts: 1 });
    expect(receipt?.history.map((h) => [h.status, h.actor, h.attempt])).toEqual([
      ['queued', 'system:dispatcher', 0],
      ['sent', 'channel:x', 1],
    ]);
    expect(receipt).not.toHaveProperty('leaseId');
    // A real provider posted it: nothing says sandbox
    expect(receipt).not.toHaveProperty('sandbox');
    expect(await settled(v1.alertId)).toBe(1);
    expect(queue.visibility).toEqual([]);
  });

  it('marks the receipt and its event sandbox when the channel itself is the sandbox (no credentials)', async () => {
    // Prepare: an Actual alert on a channel whose provider is the sandbox, as in the embedded mode without keys
    const { deps, sandbox } = harness('facebook');
    sandbox.script({ ok: 'sbx-fb-1' });
    const { job, key } = await plannedAlert('facebook');

    // Act
    await deliverJob({ ...deps, provider: sandbox }, job, sqsRecord(job));

    // Assess
    const receipt = await db.store.get(key);
    expect(receipt).toMatchObject({ status: 'sent', sandbox: true });
    expect(receipt?.history.map((h) => [h.status, h.sandbox === true])).toEqual([
      ['queued', false],
      ['sent', true],
    ]);
  });

  it('does not post again when the job comes back after the receipt was sent', async () => {
    // Prepare
    const { deps, provider } = harness('facebook');
    provider.script({ ok: 'fb-1' });
    const { v1, job } = await plannedAlert('facebook');
    await deliverJob(deps, job, sqsRecord(job));

    // Act
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));

    // Assess
    expect(provider.calls).toHaveLength(1);
    expect(await settled(v1.alertId)).toBe(1);
  });

  it("backs off a 429 for at least the provider's retry-after, on the receipt and on the message, and reports the record failed", async () => {
    // Prepare
    const { deps, provider, queue } = harness('x');
    provider.script({ retryable: '429 Too Many Requests', retryAfterMs: 30_000 });
    const { v1, job, key } = await plannedAlert('x');
    const record = sqsRecord(job);

    // Act
    const error = await deliverJob(deps, job, record).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RetryLater);
    const receipt = await db.store.get(key);
    expect(receipt).toMatchObject({ status: 'retrying', reason: '429 Too Many Requests', attempts: 1 });
    expect(receipt).not.toHaveProperty('outcomeUnknown');
    const waitMs = ms(receipt!.nextAttemptAt!) - ms(T0);
    expect(waitMs).toBeGreaterThanOrEqual(30_000);
    expect(queue.visibility).toEqual([
      { queue: 'channel-x', receiptHandle: record.receiptHandle, seconds: Math.ceil(waitMs / 1000) },
    ]);
    expect(await settled(v1.alertId)).toBe(0);
  });

  it('posts on the next delivery once the retry is due', async () => {
    // Prepare
    const { deps, provider, clock } = harness('x');
    provider.script({ retryable: '503', retryAfterMs: 5000 }, { ok: 'x-2' });
    const { v1, job, key } = await plannedAlert('x');
    await deliverJob(deps, job, sqsRecord(job)).catch(() => undefined);
    const early = await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 })).catch((e: unknown) => e);
    clock.set((await db.store.get(key))!.nextAttemptAt!);

    // Act
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 3 }));

    // Assess
    expect(early).toBeInstanceOf(RetryLater);
    expect(provider.calls).toHaveLength(2);
    expect(await db.store.get(key)).toMatchObject({ status: 'sent', providerMessageId: 'x-2', attempts: 2 });
    expect(await settled(v1.alertId)).toBe(1);
  });

  it('records a permanent failure with its reason and does not retry it', async () => {
    // Prepare
    const { deps, provider, queue } = harness('facebook');
    provider.script({ permanent: '(#200) The page is not allowed to publish' });
    const { v1, job, key } = await plannedAlert('facebook');

    // Act
    await deliverJob(deps, job, sqsRecord(job));
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));

    // Assess
    expect(provider.calls).toHaveLength(1);
    expect(await db.store.get(key)).toMatchObject({
      status: 'failed',
      reason: '(#200) The page is not allowed to publish',
      attempts: 1,
    });
    expect((await db.store.get(key))?.retryable).toBeUndefined();
    expect(queue.visibility).toEqual([]);
    expect(await settled(v1.alertId)).toBe(1);
  });

  it('on the last receive records failed-but-retryable and lets the message go to the dead-letter queue at once', async () => {
    // Prepare
    const { deps, provider, queue } = harness('x');
    provider.script({ retryable: '500 Internal Server Error' });
    const { v1, job, key } = await plannedAlert('x');
    const record = sqsRecord(job, { receiveCount: 5 });

    // Act
    const error = await deliverJob(deps, job, record).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(await db.store.get(key)).toMatchObject({ status: 'failed', retryable: true, attempts: 1 });
    expect((await db.store.get(key))?.reason).toMatch(/gave up after 1 attempts: 500 Internal Server Error/);
    expect(queue.visibility).toEqual([
      { queue: 'channel-x', receiptHandle: record.receiptHandle, seconds: 0 },
    ]);
    expect(await settled(v1.alertId)).toBe(1);
  });

  it('reads a plain error from the provider as an unknown outcome to retry', async () => {
    // Prepare
    const { deps, provider } = harness('sms');
    provider.script({ throws: new Error('socket hang up') });
    const { job, key } = await plannedAlert('sms', { recipients: ['+34612345678'] });

    // Act
    const error = await deliverJob(deps, job, sqsRecord(job)).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RetryLater);
    expect(await db.store.get(key)).toMatchObject({
      status: 'retrying',
      outcomeUnknown: true,
      reason: 'the provider call failed: socket hang up',
    });
  });

  it.each([true, false])(
    'gives up on a provider that hangs past the timeout (honours the abort signal: %s)',
    async (honoursSignal) => {
      // Prepare
      const { deps, provider } = harness('sms');
      provider.script({ hang: true, honoursSignal });
      const { job, key } = await plannedAlert('sms', { recipients: ['+34612345679'] });
      const started = Date.now();

      // Act
      const outcome = await Promise.race([
        deliverJob(deps, job, sqsRecord(job)).then(
          () => 'resolved',
          (e: unknown) => e,
        ),
        new Promise((resolve) => setTimeout(() => resolve('still hanging'), PROVIDER_TIMEOUT_MS * 25)),
      ]);

      // Assess
      expect(outcome).toBeInstanceOf(RetryLater);
      expect(Date.now() - started).toBeGreaterThanOrEqual(PROVIDER_TIMEOUT_MS - 5);
      expect(await db.store.get(key)).toMatchObject({
        status: 'retrying',
        outcomeUnknown: true,
        reason: 'the provider did not answer in time',
      });
    },
  );

  it('leaves a receipt another worker is sending alone, and asks for the message again when its lease ends', async () => {
    // Prepare
    const { deps, provider, queue } = harness('x');
    const { job, key } = await plannedAlert('x');
    await abandonedBy(key, '2030-10-01T12:00:20.000Z');
    const record = sqsRecord(job, { receiveCount: 2 });

    // Act
    const error = await deliverJob(deps, job, record).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(RetryLater);
    expect(provider.calls).toEqual([]);
    expect(queue.visibility).toEqual([
      { queue: 'channel-x', receiptHandle: record.receiptHandle, seconds: 20 },
    ]);
    expect(await db.store.get(key)).toMatchObject({ status: 'sending', leaseId: 'dead-worker' });
  });

  it('after a worker died mid-call, finds its post by lookup and records it sent without posting again', async () => {
    // Prepare
    const posted = new Map<string, string>();
    const { deps, provider, clock } = harness('x', { lookup: posted });
    const { v1, job, key } = await plannedAlert('x');
    await abandonedBy(key, '2030-10-01T12:00:20.000Z');
    posted.set(idempotencyKeyOf(key), 'x-posted-by-the-dead-worker');
    clock.set('2030-10-01T12:01:00.000Z');

    // Act
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));

    // Assess
    expect(provider.lookups).toEqual([idempotencyKeyOf(key)]);
    expect(provider.calls).toEqual([]);
    expect(await db.store.get(key)).toMatchObject({
      status: 'sent',
      providerMessageId: 'x-posted-by-the-dead-worker',
      attempts: 2,
    });
    expect(await settled(v1.alertId)).toBe(1);
  });

  it('after a worker died mid-call and the lookup finds nothing, posts', async () => {
    // Prepare
    const { deps, provider, clock } = harness('x', { lookup: new Map() });
    provider.script({ ok: 'x-3' });
    const { job, key } = await plannedAlert('x');
    await abandonedBy(key, '2030-10-01T12:00:20.000Z');
    clock.set('2030-10-01T12:01:00.000Z');

    // Act
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));

    // Assess
    expect(provider.lookups).toHaveLength(1);
    expect(provider.calls).toHaveLength(1);
    expect(await db.store.get(key)).toMatchObject({ status: 'sent', providerMessageId: 'x-3' });
  });

  it.each(['x', 'facebook', 'instagram'] as const)(
    'on %s, without a lookup, marks a receipt a dead worker left `unknown` and does not post',
    async (channel) => {
      // Prepare
      const { deps, provider, clock } = harness(channel);
      const { v1, job, key } = await plannedAlert(channel);
      await abandonedBy(key, '2030-10-01T12:00:20.000Z');
      clock.set('2030-10-01T12:01:00.000Z');

      // Act
      await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));

      // Assess
      expect(provider.calls).toEqual([]);
      expect(await db.store.get(key)).toMatchObject({ status: 'unknown' });
      expect((await db.store.get(key))?.reason).toMatch(/duplicate/);
      expect(await settled(v1.alertId)).toBe(1);
    },
  );

  it('on x, without a lookup, marks unknown after a timed-out attempt instead of posting twice', async () => {
    // Prepare
    const { deps, provider, clock } = harness('x');
    provider.script({ hang: true, honoursSignal: true });
    const { job, key } = await plannedAlert('x');
    await deliverJob(deps, job, sqsRecord(job)).catch(() => undefined);
    clock.set((await db.store.get(key))!.nextAttemptAt!);

    // Act
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));

    // Assess
    expect(provider.calls).toHaveLength(1);
    expect(await db.store.get(key)).toMatchObject({ status: 'unknown', attempts: 2 });
  });

  it('on sms, without a lookup, posts again after a dead worker: a rare duplicate beats a silent gap', async () => {
    // Prepare
    const { deps, provider, clock } = harness('sms');
    provider.script({ ok: 'sms-1' });
    const { job, key } = await plannedAlert('sms', { recipients: ['+34612345670'] });
    await abandonedBy(key, '2030-10-01T12:00:20.000Z');
    clock.set('2030-10-01T12:01:00.000Z');

    // Act
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));

    // Assess
    expect(provider.calls).toHaveLength(1);
    expect(await db.store.get(key)).toMatchObject({ status: 'sent', providerMessageId: 'sms-1' });
  });

  it.each(['Test', 'Exercise'] as const)(
    'sends a %s alert to the sandbox, never to the real provider',
    async (status) => {
      // Prepare
      const { deps, provider, sandbox } = harness('x');
      sandbox.script({ ok: 'sbx-x-1' });
      const { job, key } = await plannedAlert('x', { status });

      // Act
      await deliverJob(deps, job, sqsRecord(job));

      // Assess
      expect(provider.calls).toEqual([]);
      expect(sandbox.calls).toHaveLength(1);
      expect(sandbox.calls[0]?.message.test).toBe(true);
      expect(await db.store.get(key)).toMatchObject({
        status: 'sent',
        providerMessageId: 'sbx-x-1',
        sandbox: true,
      });
    },
  );

  it('holds an update back while the original is still being retried, and then replies to the original', async () => {
    // Prepare
    const { deps, provider, clock, queue } = harness('x');
    provider.script({ retryable: '429', retryAfterMs: 60_000 }, { ok: 'x-original' }, { ok: 'x-update' });
    const { v1, job, key } = await plannedAlert('x');
    await deliverJob(deps, job, sqsRecord(job)).catch(() => undefined);
    const retryAt = (await db.store.get(key))!.nextAttemptAt!;
    const update = await plannedUpdate(v1, '2030-10-01T12:00:10.000Z');
    clock.set('2030-10-01T12:00:10.000Z');
    const updateRecord = sqsRecord(update.job);

    // Act
    const held = await deliverJob(deps, update.job, updateRecord).catch((e: unknown) => e);
    clock.set(retryAt);
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));
    await deliverJob(deps, update.job, sqsRecord(update.job, { receiveCount: 2 }));

    // Assess
    expect(held).toBeInstanceOf(RetryLater);
    expect(queue.visibility).toContainEqual({
      queue: 'channel-x',
      receiptHandle: updateRecord.receiptHandle,
      seconds: Math.ceil((ms(retryAt) - ms('2030-10-01T12:00:10.000Z')) / 1000),
    });
    expect(provider.calls.map((c) => [c.message.version, c.message.inReplyTo])).toEqual([
      [1, undefined],
      [1, undefined],
      [2, 'x-original'],
    ]);
    expect(provider.calls[2]?.message.text.startsWith('UPDATE: Seen at the station')).toBe(true);
    expect(await db.store.get({ ...key, version: 2 })).toMatchObject({
      status: 'sent',
      providerMessageId: 'x-update',
    });
  });

  it('retries only the recipients still to do, and backs off by the soonest of their retries', async () => {
    // Prepare
    const { deps, provider, queue, clock } = harness('sms');
    const recipients = ['+34600000001', '+34600000002', '+34600000003'];
    provider.script({ ok: 's1' }, { retryable: 'throttled', retryAfterMs: 7000 }, { ok: 's3' }, { ok: 's2' });
    const { v1, job, keyFor } = await plannedAlert('sms', { recipients });
    const record = sqsRecord(job);
    await deliverJob(deps, job, record).catch(() => undefined);
    const waitedSeconds = queue.visibility[0]?.seconds;
    clock.advance(10_000);

    // Act
    await deliverJob(deps, job, sqsRecord(job, { receiveCount: 2 }));

    // Assess
    expect(queue.visibility).toHaveLength(1);
    expect(waitedSeconds).toBeGreaterThanOrEqual(7);
    expect(provider.calls.map((c) => c.message.recipient)).toEqual([...recipients, '+34600000002']);
    for (const r of recipients) expect((await db.store.get(keyFor(r)))?.status).toBe('sent');
    expect(await settled(v1.alertId)).toBe(3);
  });
});

describe('createChannelHandler', () => {
  it('delivers the good records and reports each bad or failing one as its own batch item failure', async () => {
    // Prepare
    const { deps, provider } = harness('x');
    provider.script({ ok: 'x-a' }, { retryable: '429', retryAfterMs: 1000 });
    const good = await plannedAlert('x');
    const busy = await plannedAlert('x');
    const handler = createChannelHandler(deps);
    const records = {
      good: sqsRecord(good.job, { queue: 'channel-x' }),
      throttled: sqsRecord(busy.job, { queue: 'channel-x' }),
      notJson: sqsRecord('{"alertId":', { queue: 'channel-x' }),
      noRecipients: sqsRecord({ ...good.job, recipients: [] }, { queue: 'channel-x' }),
      otherChannel: sqsRecord({ ...good.job, channel: 'facebook' }, { queue: 'channel-x' }),
    };

    // Act
    const result = await handler(sqsEvent(...Object.values(records)), lambdaContext('herald-channel-x'));

    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [records.throttled, records.notJson, records.noRecipients, records.otherChannel]
        .map((r) => r.messageId)
        .sort(),
    );
    expect(await db.store.get(good.key)).toMatchObject({ status: 'sent', providerMessageId: 'x-a' });
    expect(await db.store.get(busy.key)).toMatchObject({ status: 'retrying' });
    expect(provider.calls).toHaveLength(2);
  });
});
