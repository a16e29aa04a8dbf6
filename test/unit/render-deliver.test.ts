/**
 * The channel handler sends what the renderers make: each channel's own content, Instagram's image from the
 * alert or the alert card, and a permanent failure when Instagram has neither. Real DynamoStore on dynalite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChannelDeps, deliverJob, RetryLater } from '../../functions/channel/deliver';
import { RENDERERS } from '../../functions/channels/renderers';
import { renderSms } from '../../functions/channels/sms/render';
import { newAlert } from '../../functions/core/alerts';
import type { StoredVersion } from '../../functions/core/model';
import type { PublicImage } from '../../functions/ports';
import { AlertDraft, type Channel } from '../../schemas/alert';
import type { ChannelJob } from '../../schemas/messages';
import draftFixture from '../fixtures/alert-draft.json';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { sqsRecord } from '../helpers/events';
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
const CARD: PublicImage = {
  url: 'https://cdn.example/cards/a.jpg',
  alt: 'Alert card',
  width: 1080,
  height: 1350,
};

function harness(channel: Channel, cardImage?: ChannelDeps['cardImage']) {
  const provider = new ScriptedProvider(channel, 'real');
  const deps: ChannelDeps = {
    store: db.store,
    queue: new RecordingQueue(),
    provider,
    renderers: RENDERERS,
    sandbox: new ScriptedProvider(channel, 'sandbox'),
    config: testConfig({ providerTimeoutMs: 200 }),
    clock: new ManualClock(T0),
    logger: new RecordingLogger(),
    newId: newUlid,
    ...(cardImage ? { cardImage } : {}),
  };
  return { deps, provider };
}

async function planned(channel: Channel, recipient: string, changes: Record<string, unknown> = {}) {
  const alertId = newUlid();
  const v1 = newAlert(
    AlertDraft.parse({ ...structuredClone(draftFixture), channels: [channel], ...changes }),
    {
      alertId,
      actor: { id: 'officer-1', roles: ['officer'] },
      now: new Date(T0),
      sender: 'alerts@herald.example',
      approvalSeverities: new Set(),
    },
  );
  await db.store.putVersion(v1);
  await db.store.createReceipts([{ alertId, version: 1, channel, recipient }], T0);
  await db.store.markPlanned(alertId, 1, 1, T0);
  const job: ChannelJob = { alertId, version: 1, channel, recipients: [recipient] };
  return { v1, job, key: { alertId, version: 1, channel, recipient } };
}

describe('deliverJob, rendering', () => {
  it('fails Instagram permanently when the alert has no image and no card can be made', async () => {
    // Prepare
    const { deps, provider } = harness('instagram');
    const { job, key } = await planned('instagram', 'agency');

    // Act
    await deliverJob(deps, job, sqsRecord(job));

    // Assess
    expect(provider.calls).toEqual([]);
    expect(await db.store.get(key)).toMatchObject({ status: 'failed', reason: 'instagram needs an image' });
  });

  it("posts Instagram with the alert card when the alert has no image, and the alert's own when it has", async () => {
    // Prepare
    const cards: StoredVersion[] = [];
    const { deps, provider } = harness('instagram', async (version) => {
      cards.push(version);
      return CARD;
    });
    provider.script({ ok: 'ig-1' }, { ok: 'ig-2' });
    const bare = await planned('instagram', 'agency');
    const pictured = await planned('instagram', 'agency', { image: 'https://img.example/boy.jpg' });

    // Act
    await deliverJob(deps, bare.job, sqsRecord(bare.job));
    await deliverJob(deps, pictured.job, sqsRecord(pictured.job));

    // Assess
    expect(cards.map((v) => v.alertId)).toEqual([bare.v1.alertId]);
    expect(provider.calls[0]?.message.content).toMatchObject({ channel: 'instagram', image: CARD });
    expect(provider.calls[0]?.message.image).toEqual(CARD);
    expect(provider.calls[1]?.message.content).toMatchObject({
      channel: 'instagram',
      image: { url: 'https://img.example/boy.jpg', alt: draftFixture.headline },
    });
    const caption = (provider.calls[0]!.message.content as { caption: string }).caption;
    expect(provider.calls[0]?.message.text).toBe(caption);
  });

  it('retries when the alert card cannot be made: nothing was posted', async () => {
    // Prepare
    const { deps, provider } = harness('instagram', async () => {
      throw new Error('image store unavailable');
    });
    const { job, key } = await planned('instagram', 'agency');

    // Act
    const outcome = deliverJob(deps, job, sqsRecord(job));

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(RetryLater);
    expect(provider.calls).toEqual([]);
    expect(await db.store.get(key)).toMatchObject({
      status: 'retrying',
      reason: 'could not make the alert card: image store unavailable',
    });
  });

  it('sends SMS within its parts and email with subject, threading id and the CAP XML attached', async () => {
    // Prepare
    const sms = harness('sms');
    const email = harness('email');
    sms.provider.script({ ok: 'sns-1' });
    email.provider.script({ ok: 'ses-1' });
    const s = await planned('sms', '+34600000001');
    const e = await planned('email', 'desk@news.example');

    // Act
    await deliverJob(sms.deps, s.job, sqsRecord(s.job));
    await deliverJob(email.deps, e.job, sqsRecord(e.job));

    // Assess
    const smsContent = sms.provider.calls[0]?.message.content;
    // Rendered for its channel: the SMS carries the SMS's own link (functions/core/links.ts).
    expect(smsContent).toEqual({
      channel: 'sms',
      text: renderSms(s.v1, { ...sms.deps.config, channel: 'sms' }).text,
    });
    const mail = email.provider.calls[0]?.message.content;
    expect(mail).toMatchObject({
      channel: 'email',
      subject: draftFixture.headline,
      messageId: `<herald.${e.v1.alertId}.1@herald.example>`,
      attachments: [{ filename: `${e.v1.alertId}-v1.cap.xml`, contentType: 'application/cap+xml' }],
    });
    expect((mail as { attachments: { content: string }[] }).attachments[0]?.content).toContain(
      '<identifier>herald-',
    );
  });
});
