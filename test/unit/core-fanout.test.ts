import { describe, expect, it } from 'vitest';
import { newAlert, updateAlert, type VersionContext } from '../../functions/core/alerts';
import {
  type Audience,
  audienceKindOf,
  originalOf,
  planFanout,
  RECIPIENTS_PER_JOB,
  rosterZonesOf,
} from '../../functions/core/fanout';
import type { StoredVersion } from '../../functions/core/model';
import { AlertDraft, type Channel, UpdatePatch } from '../../schemas/alert';
import draftFixture from '../fixtures/alert-draft.json';
import { testConfig } from '../helpers/fakes';

const ALERT_ID = '01JA0000000000000000000002';

const ctx = (iso: string): VersionContext => ({
  alertId: ALERT_ID,
  actor: { id: 'officer-1', roles: ['officer'] },
  now: new Date(iso),
  sender: 'alerts@police.example',
  approvalSeverities: new Set(['Extreme']),
});

const v1Of = (channels: Channel[], changes: Partial<StoredVersion> = {}): StoredVersion => ({
  ...newAlert(AlertDraft.parse({ ...structuredClone(draftFixture), channels }), ctx('2030-03-04T10:00:00Z')),
  ...changes,
});

const nextOf = (
  earlier: StoredVersion[],
  patch: Record<string, unknown>,
  changes: Partial<StoredVersion> = {},
) => ({
  ...updateAlert(earlier, UpdatePatch.parse(patch), ctx('2030-03-04T11:00:00Z')),
  ...changes,
});

const audience: Audience = { socialAccounts: testConfig().socialAccounts };

const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => `01JA00000000000000000${String(i).padStart(5, '0')}`);

describe('planFanout', () => {
  it("gives each social channel one receipt and one job, for the agency's account from config", () => {
    // Prepare
    const v1 = v1Of(['x', 'facebook', 'instagram']);

    // Act
    const plan = planFanout(v1, [], {
      socialAccounts: { x: '@cityPolice', facebook: 'city-police', instagram: 'citypolice' },
    });

    // Assess
    expect(plan.receipts).toEqual([
      { alertId: ALERT_ID, version: 1, channel: 'x', recipient: '@cityPolice' },
      { alertId: ALERT_ID, version: 1, channel: 'facebook', recipient: 'city-police' },
      { alertId: ALERT_ID, version: 1, channel: 'instagram', recipient: 'citypolice' },
    ]);
    expect(plan.jobs).toEqual([
      { alertId: ALERT_ID, version: 1, channel: 'x', recipients: ['@cityPolice'] },
      { alertId: ALERT_ID, version: 1, channel: 'facebook', recipients: ['city-police'] },
      { alertId: ALERT_ID, version: 1, channel: 'instagram', recipients: ['citypolice'] },
    ]);
  });

  it('plans nothing for a social channel that has no account configured', () => {
    // Act
    const plan = planFanout(v1Of(['x', 'facebook']), [], { socialAccounts: { x: '@cityPolice' } });

    // Assess
    expect(plan.receipts.map((r) => r.channel)).toEqual(['x']);
    expect(plan.jobs.map((j) => j.channel)).toEqual(['x']);
  });

  it('plans nothing for subscriber channels while nobody subscribes', () => {
    // Act
    const plan = planFanout(v1Of(['sms', 'email']), [], audience);

    // Assess
    expect(plan).toEqual({ receipts: [], jobs: [], recipients: {} });
  });

  it.each([
    [1, 100, [1]],
    [100, 100, [100]],
    [101, 100, [100, 1]],
    [250, 100, [100, 100, 50]],
    [120, 50, [50, 50, 20]],
  ])(
    'splits %i SMS subscribers into jobs of at most %i: %j, numbered, with no queued receipt',
    (count, perJob, sizes) => {
      // Prepare
      const subscribers = ids(count);

      // Act
      const plan = planFanout(
        v1Of(['sms']),
        [],
        { ...audience, subscribers: () => subscribers },
        { recipientsPerJob: perJob },
      );

      // Assess
      expect(plan.jobs.map((j) => j.recipients.length)).toEqual(sizes);
      expect(plan.jobs.map((j) => j.job)).toEqual(sizes.map((_, i) => i));
      expect(plan.jobs.flatMap((j) => j.recipients)).toEqual(subscribers);
      expect(plan.recipients).toEqual({ sms: count });
      expect(plan.receipts).toEqual([]);
    },
  );

  it('uses 100 recipients per job when the configuration says nothing', () => {
    // Act
    const plan = planFanout(v1Of(['sms']), [], { ...audience, subscribers: () => ids(201) });

    // Assess
    expect(RECIPIENTS_PER_JOB).toBe(100);
    expect(plan.jobs.map((j) => j.recipients.length)).toEqual([100, 100, 1]);
  });

  it('counts a subscriber reached through two zones once', () => {
    // Act
    const plan = planFanout(v1Of(['sms']), [], {
      ...audience,
      subscribers: () => ['01JA0000000000000000000S01', '01JA0000000000000000000S01'],
    });

    // Assess
    expect(plan.recipients).toEqual({ sms: 1 });
    expect(plan.jobs[0]?.recipients).toEqual(['01JA0000000000000000000S01']);
  });

  it('reads the rosters of every zone the alert names and of * (outlets following every zone)', () => {
    // Prepare
    const v1 = v1Of(['sms'], {});
    v1.content = { ...v1.content, areas: [{ zone: 'eixample' }, { areaDesc: 'Port' }, { zone: 'gracia' }] };

    // Act
    const zones = rosterZonesOf(v1);

    // Assess
    expect(zones).toEqual(['eixample', 'gracia', '*']);
  });

  it.each([
    ['Actual', 'public'],
    ['Exercise', 'test'],
    ['Test', 'test'],
  ] as const)('sends a %s alert to the %s audience', (status, kind) => {
    // Prepare
    const v1 = v1Of(['sms']);
    v1.content = { ...v1.content, status };

    // Act
    const result = audienceKindOf(v1);

    // Assess
    expect(result).toBe(kind);
  });

  it("names the first released version on a channel as an update's original, and none for an alert", () => {
    // Prepare
    const v1 = v1Of(['sms', 'x'], { dispatchStatus: 'planned' });
    const v2 = nextOf([v1], { headline: 'Seen at the station' }, { dispatchStatus: 'planned' });
    const v3 = nextOf([v1, v2], { headline: 'Found' });

    // Act
    const original = originalOf(v3, [v2, v1], 'sms');

    // Assess
    expect(original?.version).toBe(1);
    expect(originalOf(v1, [], 'sms')).toBeUndefined();
  });

  it('sends an update only on the channels an earlier version went out on, not those of a held one', () => {
    // Prepare
    const v1 = v1Of(['x', 'sms'], { dispatchStatus: 'planned' });
    // A held version could name more channels than what went out before it (the store keeps what it was given).
    const v2 = { ...v1Of(['x', 'facebook', 'sms']), version: 2, dispatchStatus: 'superseded' as const };
    const v3 = nextOf([v1, v2], { headline: 'Seen at the station' });

    // Act
    const plan = planFanout(v3, [v1, v2], audience);

    // Assess
    expect(plan.jobs.map((j) => [j.channel, j.version])).toEqual([['x', 3]]);
    expect(plan.receipts.map((r) => r.channel)).toEqual(['x']);
  });

  it('sends an update to the channels it still names, not to those it dropped', () => {
    // Prepare
    const v1 = v1Of(['x', 'facebook'], { dispatchStatus: 'planned' });
    const v2 = nextOf([v1], { channels: ['facebook'] });

    // Act
    const plan = planFanout(v2, [v1], audience);

    // Assess
    expect(plan.receipts.map((r) => r.channel)).toEqual(['facebook']);
  });

  it('sends a cancel where the alert went out', () => {
    // Prepare
    const v1 = v1Of(['x', 'facebook'], { dispatchStatus: 'planned' });
    const v2 = { ...nextOf([v1], { headline: 'Cancelled' }), msgType: 'Cancel' as const };

    // Act
    const plan = planFanout(v2, [v1], audience);

    // Assess
    expect(plan.receipts.map((r) => r.channel)).toEqual(['x', 'facebook']);
  });

  it('sends a cancel nowhere when the alert never went out (it was held and replaced)', () => {
    // Prepare
    const held = v1Of(['x', 'facebook'], { dispatchStatus: 'held' });
    const v2 = { ...nextOf([held], { headline: 'Cancelled' }), msgType: 'Cancel' as const };
    const v1 = { ...held, dispatchStatus: 'superseded' as const };

    // Act
    const plan = planFanout(v2, [v1], audience);

    // Assess
    expect(plan).toEqual({ receipts: [], jobs: [], recipients: {} });
  });

  it('sends an update whose earlier version is released but not planned yet (both in one dispatch batch)', () => {
    // Prepare: v1 was accepted; its dispatch message and the update's are handled side by side.
    const v1 = v1Of(['x', 'facebook'], { dispatchStatus: 'pending' });
    const v2 = nextOf([v1], { headline: 'Seen at the station' });

    // Act
    const plan = planFanout(v2, [v1], audience);

    // Assess
    expect(plan.receipts.map((r) => r.channel)).toEqual(['x', 'facebook']);
  });

  it('sends an update that replaced a held alert on its own channels: it is the first message to go out', () => {
    // Prepare: an Extreme alert was held; the officer lowered the severity before anyone approved it.
    const held = v1Of(['x', 'facebook'], { dispatchStatus: 'held', approval: { required: true } });
    const v2 = nextOf([held], { severity: 'Severe' });
    const v1 = { ...held, dispatchStatus: 'superseded' as const };

    // Act
    const plan = planFanout(v2, [v1], audience);

    // Assess
    expect(v2.dispatchStatus).toBe('pending');
    expect(plan.receipts.map((r) => r.channel)).toEqual(['x', 'facebook']);
  });
});
