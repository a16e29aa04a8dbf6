/**
 * Quiet hours in the real DynamoDB adapter, on dynalite: the quiet-hours index kept beside the rosters through every
 * change of a subscriber, and the deferral items (listed while unclaimed, indexed by when to look at them, off the
 * index once done, released early on request).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyCipher } from '../../functions/adapters/pii/local-key';
import type { Subscriber } from '../../functions/core/model';
import type { SendJobKey } from '../../functions/ports';
import { maskPhone } from '../../functions/shared/mask';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';

let db: DynaliteStore;
let pii: LocalKeyCipher;
beforeAll(async () => {
  db = await startDynaliteStore();
  pii = await LocalKeyCipher.open(await mkdtemp(join(tmpdir(), 'herald-pii-')));
});
afterAll(async () => {
  await db?.close();
});

const T0 = '2030-05-01T10:00:00.000Z';
const later = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();
const NIGHT = { from: '22:00', to: '07:00' };
const EARLY = { from: '21:00', to: '06:30' };

let phoneCounter = 0;
async function resident(zones: string[], overrides: Partial<Subscriber> = {}): Promise<Subscriber> {
  const phone = `+3462${String(3_000_000 + ++phoneCounter).padStart(7, '0')}`;
  return {
    id: randomUUID(),
    channel: 'sms',
    addressHash: await pii.hash(phone),
    addressCipher: await pii.encrypt(phone),
    addressMasked: maskPhone(phone),
    zones,
    language: 'en',
    status: 'confirmed',
    audience: 'public',
    createdAt: T0,
    updatedAt: T0,
    confirmedAt: T0,
    ...overrides,
  };
}

const zone = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

/** The index of a zone as the preview reads it: window label → ids, sorted. */
async function quietIndexOf(z: string, channel: 'sms' | 'email' = 'sms') {
  const entries = await db.subscribers.quietMembers(z, channel, 'public');
  return Object.fromEntries(entries.map((e) => [`${e.window.from}-${e.window.to}`, [...e.ids].sort()]));
}

describe('the quiet-hours index beside the rosters', () => {
  it('lists a confirmed resident with quiet hours under their window, in each of their zones', async () => {
    // Prepare
    const [a, b] = [zone('a'), zone('b')];
    const quiet = await resident([a, b], { quietHours: NIGHT });
    const awake = await resident([a]);

    // Act
    await db.subscribers.createSubscriber(quiet);
    await db.subscribers.createSubscriber(awake);

    // Assess
    expect(await quietIndexOf(a)).toEqual({ '22:00-07:00': [quiet.id] });
    expect(await quietIndexOf(b)).toEqual({ '22:00-07:00': [quiet.id] });
    expect(await db.subscribers.rosterMembers(a, 'sms', 'public')).toEqual(
      expect.arrayContaining([quiet.id, awake.id]),
    );
  });

  it('moves them when the window changes, and takes them off when it is cleared, on STOP and on deletion', async () => {
    // Prepare
    const z = zone('moves');
    const s = await resident([z], { quietHours: NIGHT });
    await db.subscribers.createSubscriber(s);

    // Act & Assess
    const changed = { ...s, quietHours: EARLY, updatedAt: later(1) };
    expect(await db.subscribers.saveSubscriber(changed, s.updatedAt)).toBe(true);
    expect(await quietIndexOf(z)).toEqual({ '21:00-06:30': [s.id] });

    const { quietHours: _q, ...withoutQuiet } = changed;
    const cleared = { ...withoutQuiet, updatedAt: later(2) };
    expect(await db.subscribers.saveSubscriber(cleared, changed.updatedAt)).toBe(true);
    expect(await quietIndexOf(z)).toEqual({});

    const again = { ...cleared, quietHours: NIGHT, updatedAt: later(3) };
    expect(await db.subscribers.saveSubscriber(again, cleared.updatedAt)).toBe(true);
    const stopped = { ...again, status: 'stopped' as const, stoppedAt: later(4), updatedAt: later(4) };
    expect(await db.subscribers.saveSubscriber(stopped, again.updatedAt)).toBe(true);
    expect(await quietIndexOf(z)).toEqual({});

    const resumed = { ...stopped, status: 'confirmed' as const, updatedAt: later(5) };
    expect(await db.subscribers.saveSubscriber(resumed, stopped.updatedAt)).toBe(true);
    expect(await quietIndexOf(z)).toEqual({ '22:00-07:00': [s.id] });
    expect(await db.subscribers.deleteSubscriber(s.id)).toBe(true);
    expect(await quietIndexOf(z)).toEqual({});
  });

  it('leaves out pending sign-ups and webhooks (media outlets have no quiet hours)', async () => {
    // Prepare
    const z = zone('left-out');
    const pending = await resident([z], { status: 'pending', quietHours: NIGHT, confirmedAt: undefined });
    const outlet = await resident([z], { channel: 'webhook', quietHours: NIGHT });

    // Act
    await db.subscribers.createSubscriber(pending);
    await db.subscribers.createSubscriber(outlet);

    // Assess
    expect(await quietIndexOf(z)).toEqual({});
    expect(await db.subscribers.quietMembers(z, 'webhook', 'public')).toEqual([]);
  });

  it('is written by the bulk load as by a single create', async () => {
    // Prepare
    const z = zone('bulk');
    const people = await Promise.all([
      resident([z], { quietHours: NIGHT }),
      resident([z], { quietHours: NIGHT }),
      resident([z], { quietHours: EARLY }),
      resident([z]),
    ]);

    // Act
    await db.subscribers.createSubscribers(people);

    // Assess
    expect(await quietIndexOf(z)).toEqual({
      '22:00-07:00': [people[0]!.id, people[1]!.id].sort(),
      '21:00-06:30': [people[2]!.id],
    });
  });

  it('records the change in the subscription audit, with the window and no personal data', async () => {
    // Prepare
    const s = await resident([zone('audit')]);
    await db.subscribers.createSubscriber(s);

    // Act
    await db.subscribers.saveSubscriber({ ...s, quietHours: NIGHT, updatedAt: later(1) }, s.updatedAt, {
      action: 'quiet-hours-set',
      actor: 'resident',
      method: 'sms-keyword',
      detail: 'quiet hours 22:00-07:00',
    });

    // Assess
    const trail = await db.subscribers.subscriberAudit(s.id);
    expect(trail.at(-1)).toEqual({
      at: later(1),
      action: 'quiet-hours-set',
      actor: 'resident',
      method: 'sms-keyword',
      subscriberId: s.id,
      channel: 'sms',
      detail: 'quiet hours 22:00-07:00',
    });
  });
});

describe('deferrals', () => {
  const END = '2030-05-02T05:00:00.000Z';
  const keyOf = (alertId: string, index = 0): SendJobKey & { deferredUntil: string } => ({
    alertId,
    version: 1,
    channel: 'sms',
    index,
    deferredUntil: END,
  });
  const lease = (leaseId: string, now: string) => ({ leaseId, leaseUntil: later(600), now });
  const dueOf = async (at: string, alertId: string) => {
    const found = await db.store.findDueDeferrals(at, 100);
    return {
      deferrals: found.deferrals.filter((d) => d.alertId === alertId),
      earlier: found.earlier.filter((e) => e.alertId === alertId),
    };
  };

  it('lists recipients while no release holds them, and refuses once one does', async () => {
    // Prepare
    const key = keyOf(randomUUID());

    // Act
    const first = await db.store.addDeferred(key, ['a', 'b'], T0);
    const again = await db.store.addDeferred(key, ['b', 'c'], later(1));
    const claim = await db.store.claimJob(key, lease('release-1', END));
    const afterClaim = await db.store.addDeferred(key, ['d'], later(2));

    // Assess
    expect([first, again, afterClaim]).toEqual([true, true, false]);
    expect(claim.kind).toBe('claimed');
    expect(claim.kind === 'claimed' && [...claim.previous.recipients].sort()).toEqual(['a', 'b', 'c']);
    expect((await db.store.getDeferral(key))?.recipients.sort()).toEqual(['a', 'b', 'c']);
  });

  it('is due at its end, not before; once queued it is looked at again only at the re-check; done, never again', async () => {
    // Prepare
    const alertId = randomUUID();
    const key = keyOf(alertId);
    await db.store.addDeferred(key, ['a'], T0);

    // Act & Assess
    expect((await dueOf('2030-05-02T04:59:59.999Z', alertId)).deferrals).toEqual([]);
    const due = (await dueOf(END, alertId)).deferrals;
    expect(due).toEqual([
      expect.objectContaining({ ...key, recipients: ['a'], status: 'queued', attempts: 0 }),
    ]);

    await db.store.markReleased(key, '2030-05-02T05:30:00.000Z');
    expect((await dueOf('2030-05-02T05:29:00.000Z', alertId)).deferrals).toEqual([]);
    expect((await dueOf('2030-05-02T05:30:00.000Z', alertId)).deferrals).toHaveLength(1);

    const claim = await db.store.claimJob(key, lease('release-1', END));
    expect(claim.kind).toBe('claimed');
    expect(await db.store.finishJob(key, 'release-1', { status: 'done', at: END, sent: ['a'] })).toBe(true);
    expect((await dueOf('2030-05-03T00:00:00.000Z', alertId)).deferrals).toEqual([]);
    // Marking it released after it is done does not put it back.
    await db.store.markReleased(key, '2030-05-02T06:00:00.000Z');
    expect((await dueOf('2030-05-03T00:00:00.000Z', alertId)).deferrals).toEqual([]);
    expect((await db.store.getDeferral(key))?.sent).toEqual(['a']);
  });

  it('stays on the index while its release is retried, and leaves it when dead-lettered (for a redrive)', async () => {
    // Prepare
    const alertId = randomUUID();
    const key = keyOf(alertId);
    await db.store.addDeferred(key, ['a'], T0);
    await db.store.claimJob(key, lease('release-1', END));

    // Act
    await db.store.finishJob(key, 'release-1', {
      status: 'retrying',
      at: END,
      sent: [],
      nextAttemptAt: later(2000),
    });
    const retrying = (await dueOf('2030-05-03T00:00:00.000Z', alertId)).deferrals;
    await db.store.claimJob(key, lease('release-2', later(2001)));
    await db.store.finishJob(key, 'release-2', {
      status: 'failed',
      at: later(2001),
      sent: [],
      retryable: true,
    });

    // Assess
    expect(retrying).toHaveLength(1);
    expect((await dueOf('2030-05-04T00:00:00.000Z', alertId)).deferrals).toEqual([]);
  });

  it('is released early on request: pending deferrals of earlier versions are listed, the request removed once done', async () => {
    // Prepare: deferrals of versions 1 and 2; version 3 went out
    const alertId = randomUUID();
    await db.store.addDeferred(keyOf(alertId, 0), ['a'], T0);
    await db.store.addDeferred({ ...keyOf(alertId, 0), version: 2 }, ['b'], T0);
    await db.store.addDeferred({ ...keyOf(alertId, 0), version: 3 }, ['c'], T0);

    // Act
    await db.store.releaseEarlierDeferrals(alertId, 3, later(5));
    const found = await dueOf(later(5), alertId);
    const pending = await db.store.pendingDeferrals(alertId, 3);
    await db.store.earlierReleased(alertId, 3, found.earlier[0]!.mark);

    // Assess
    expect(found.deferrals).toEqual([]);
    expect(found.earlier).toEqual([{ alertId, beforeVersion: 3, mark: expect.any(String) }]);
    expect(pending.map((d) => d.version).sort()).toEqual([1, 2]);
    expect((await dueOf(later(6), alertId)).earlier).toEqual([]);
  });

  it('keeps a request written again after it was read', async () => {
    // Prepare
    const alertId = randomUUID();
    await db.store.releaseEarlierDeferrals(alertId, 2, later(5));
    const [read] = (await dueOf(later(5), alertId)).earlier;
    await db.store.releaseEarlierDeferrals(alertId, 2, later(6));

    // Act
    await db.store.earlierReleased(alertId, 2, read!.mark);

    // Assess
    expect((await dueOf(later(6), alertId)).earlier).toHaveLength(1);
  });
});
