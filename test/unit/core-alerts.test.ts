import { describe, expect, it } from 'vitest';
import {
  alertState,
  approvalFor,
  cancelAlert,
  capDateTime,
  newAlert,
  toApiAlert,
  updateAlert,
  type VersionContext,
  versionState,
} from '../../functions/core/alerts';
import { HttpProblem } from '../../functions/core/errors';
import type { StoredVersion } from '../../functions/core/model';
import { AlertDraft, type Severity, UpdatePatch } from '../../schemas/alert';
import draftFixture from '../fixtures/alert-draft.json';

const T1 = new Date('2030-03-04T05:06:07.890Z');
const T2 = new Date('2030-03-04T06:00:00.000Z');
const T3 = new Date('2030-03-04T07:00:00.000Z');

const draft = (changes: Record<string, unknown> = {}) =>
  AlertDraft.parse({ ...structuredClone(draftFixture), ...changes });

const ctx = (now: Date, changes: Partial<VersionContext> = {}): VersionContext => ({
  alertId: '01JA0000000000000000000001',
  actor: { id: 'officer-1', roles: ['officer'] },
  now,
  sender: 'alerts@police.example',
  approvalSeverities: new Set<Severity>(['Extreme']),
  ...changes,
});

/** The thrown HttpProblem, for asserting its status and field errors. */
function problemOf(act: () => unknown): HttpProblem {
  try {
    act();
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('expected an HttpProblem, nothing was thrown');
}

describe('newAlert', () => {
  it('makes version 1 of a new alert, stamped in CAP form and released for fan-out', () => {
    // Prepare
    const input = draft();

    // Act
    const v1 = newAlert(input, ctx(T1, { idempotencyKey: 'officer-1/k1' }));

    // Assess
    expect(v1).toMatchObject({
      alertId: '01JA0000000000000000000001',
      version: 1,
      msgType: 'Alert',
      identifier: 'herald-01JA0000000000000000000001-v1',
      sent: '2030-03-04T05:06:07-00:00',
      sender: 'alerts@police.example',
      references: [],
      author: 'officer-1',
      createdAt: T1.toISOString(),
      releasedAt: T1.toISOString(),
      idempotencyKey: 'officer-1/k1',
      approval: { required: false },
      dispatchStatus: 'pending',
    });
    expect(v1.content).toEqual(input);
  });

  it('writes CAP `sent` as YYYY-MM-DDTHH:MM:SS-00:00 (CAP 1.2 spells UTC so), without fraction or Z', () => {
    // Act
    const sent = newAlert(draft(), ctx(new Date('2031-12-31T23:59:59.999Z'))).sent;

    // Assess
    expect(sent).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-00:00$/);
    expect(sent).toBe('2031-12-31T23:59:59-00:00');
    expect(capDateTime(new Date('2030-01-02T03:04:05Z'))).toBe('2030-01-02T03:04:05-00:00');
  });

  it('gives a draft without areas, translations or image empty lists and no image', () => {
    // Prepare
    const input = structuredClone(draftFixture) as Record<string, unknown>;
    delete input.areas;
    delete input.translations;

    // Act
    const v1 = newAlert(AlertDraft.parse(input), ctx(T1));

    // Assess
    expect(v1.content.areas).toEqual([]);
    expect(v1.content.translations).toEqual([]);
    expect(v1.content).not.toHaveProperty('image');
  });

  it('keeps an image given as a bare URL as { url }', () => {
    // Act
    const v1 = newAlert(draft({ image: 'https://cdn.police.example/boy.jpg' }), ctx(T1));

    // Assess
    expect(v1.content.image).toEqual({ url: 'https://cdn.police.example/boy.jpg' });
  });
});

describe('approval policy (the two-person rule)', () => {
  it.each<[Severity, StoredVersion['msgType'], string[], boolean]>([
    ['Extreme', 'Alert', ['Extreme'], true],
    ['Extreme', 'Update', ['Extreme'], true],
    ['Extreme', 'Cancel', ['Extreme'], false],
    ['Severe', 'Alert', ['Extreme'], false],
    ['Severe', 'Alert', ['Extreme', 'Severe'], true],
    ['Severe', 'Cancel', ['Extreme', 'Severe'], false],
    ['Extreme', 'Alert', [], false],
  ])('a %s %s with approval for [%s] is held: %s', (severity, msgType, severities, held) => {
    // Prepare
    const content = newAlert(draft({ severity }), ctx(T1)).content;

    // Act
    const approval = approvalFor(content, msgType, new Set(severities));

    // Assess
    expect(approval).toEqual({ required: held });
  });

  it('holds a new Extreme alert by default, unreleased', () => {
    // Act
    const v1 = newAlert(draft({ severity: 'Extreme' }), ctx(T1));

    // Assess
    expect(v1.dispatchStatus).toBe('held');
    expect(v1.approval).toEqual({ required: true });
    expect(v1).not.toHaveProperty('releasedAt');
  });

  it('never holds a cancel, even of an Extreme alert', () => {
    // Prepare
    const v1 = { ...newAlert(draft({ severity: 'Extreme' }), ctx(T1)), dispatchStatus: 'planned' as const };

    // Act
    const cancel = cancelAlert([v1], {}, ctx(T2));

    // Assess
    expect(cancel.dispatchStatus).toBe('pending');
    expect(cancel.approval).toEqual({ required: false });
    expect(cancel.releasedAt).toBe(T2.toISOString());
  });
});

const planned = (v: StoredVersion): StoredVersion => ({
  ...v,
  dispatchStatus: 'planned',
  receiptsPlanned: 2,
  receiptsSettled: 2,
});

describe('updateAlert', () => {
  it('makes the next version an Update that carries over everything the patch leaves out', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));
    const patch = UpdatePatch.parse({ headline: 'Missing child: seen at the station', urgency: 'Expected' });

    // Act
    const v2 = updateAlert([v1], patch, ctx(T2, { actor: { id: 'officer-2', roles: ['officer'] } }));

    // Assess
    expect(v2).toMatchObject({
      version: 2,
      msgType: 'Update',
      identifier: 'herald-01JA0000000000000000000001-v2',
      sent: '2030-03-04T06:00:00-00:00',
      author: 'officer-2',
      dispatchStatus: 'pending',
    });
    expect(v2.content).toEqual({
      ...v1.content,
      headline: 'Missing child: seen at the station',
      urgency: 'Expected',
    });
  });

  it.each([
    ['instruction', 'instruction'],
    ['web', 'web'],
    ['contact', 'contact'],
  ])('removes %s when the merge-patch sets it to null', (field) => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));
    expect(v1.content).toHaveProperty(field);

    // Act
    const v2 = updateAlert([v1], UpdatePatch.parse({ [field]: null }), ctx(T2));

    // Assess
    expect(v2.content).not.toHaveProperty(field);
  });

  it('removes expires and image when the merge-patch sets them to null', () => {
    // Prepare
    const v1 = planned(
      newAlert(
        draft({ expires: '2030-03-05T00:00:00+00:00', image: 'https://cdn.police.example/boy.jpg' }),
        ctx(T1),
      ),
    );

    // Act
    const v2 = updateAlert([v1], UpdatePatch.parse({ expires: null, image: null }), ctx(T2));

    // Assess
    expect(v2.content).not.toHaveProperty('expires');
    expect(v2.content).not.toHaveProperty('image');
    expect(v2.content.headline).toBe(v1.content.headline);
  });

  it('empties translations and areas on null, since both are lists', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));

    // Act
    const v2 = updateAlert([v1], UpdatePatch.parse({ translations: null, areas: null }), ctx(T2));

    // Assess
    expect(v2.content.translations).toEqual([]);
    expect(v2.content.areas).toEqual([]);
  });

  it('lets an update narrow the channels', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));

    // Act
    const v2 = updateAlert([v1], UpdatePatch.parse({ channels: ['sms'] }), ctx(T2));

    // Assess
    expect(v2.content.channels).toEqual(['sms']);
  });

  it('refuses to add channels with 422, naming each new one by JSON pointer', () => {
    // Prepare
    const v1 = planned(newAlert(draft({ channels: ['x', 'sms'] }), ctx(T1)));
    const patch = UpdatePatch.parse({ channels: ['x', 'email', 'sms', 'webhook'] });

    // Act
    const problem = problemOf(() => updateAlert([v1], patch, ctx(T2)));

    // Assess
    expect(problem.status).toBe(422);
    expect(problem.errors?.map((e) => e.path)).toEqual(['/channels/1', '/channels/3']);
    expect(problem.errors?.[0]?.message).toMatch(/email/);
  });

  it('refuses to change a cancelled alert with 409', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));
    const v2 = planned(cancelAlert([v1], {}, ctx(T2)));

    // Act
    const problem = problemOf(() => updateAlert([v1, v2], UpdatePatch.parse({ headline: 'Found' }), ctx(T3)));

    // Assess
    expect(problem.status).toBe(409);
  });

  it('references every earlier version that went out, in CAP form, and none that were held or superseded', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));
    const v2 = {
      ...newAlert(draft({ severity: 'Extreme' }), ctx(T2)),
      version: 2,
      identifier: 'herald-01JA0000000000000000000001-v2',
      dispatchStatus: 'superseded' as const,
    };
    const v3 = {
      ...v2,
      version: 3,
      identifier: 'herald-01JA0000000000000000000001-v3',
      dispatchStatus: 'held' as const,
    };

    // Act
    const v4 = updateAlert([v1, v2, v3], UpdatePatch.parse({ severity: 'Severe' }), ctx(T3));

    // Assess
    expect(v4.version).toBe(4);
    expect(v4.references).toEqual([
      'alerts@police.example,herald-01JA0000000000000000000001-v1,2030-03-04T05:06:07-00:00',
    ]);
  });

  it('holds an update that raises the severity to Extreme', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));

    // Act
    const v2 = updateAlert([v1], UpdatePatch.parse({ severity: 'Extreme' }), ctx(T2));

    // Assess
    expect(v2.dispatchStatus).toBe('held');
  });
});

describe('cancelAlert', () => {
  it('makes a Cancel version with the reason as its note and the new description', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));

    // Act
    const v2 = cancelAlert(
      [v1],
      { reason: 'Found safe', description: 'The boy was found safe at 16:20.' },
      ctx(T2),
    );

    // Assess
    expect(v2).toMatchObject({ version: 2, msgType: 'Cancel', note: 'Found safe' });
    expect(v2.content).toEqual({ ...v1.content, description: 'The boy was found safe at 16:20.' });
    expect(v2.references).toHaveLength(1);
  });

  it('keeps the content as it was when the cancel has no body', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));

    // Act
    const v2 = cancelAlert([v1], {}, ctx(T2));

    // Assess
    expect(v2.content).toEqual(v1.content);
    expect(v2).not.toHaveProperty('note');
  });

  it('refuses to cancel twice with 409', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));
    const v2 = planned(cancelAlert([v1], {}, ctx(T2)));

    // Act
    const problem = problemOf(() => cancelAlert([v1, v2], {}, ctx(T3)));

    // Assess
    expect(problem.status).toBe(409);
  });
});

describe('versionState and alertState', () => {
  const base = newAlert(draft({ expires: '2030-03-04T12:00:00+00:00' }), ctx(T1));
  const with_ = (changes: Partial<StoredVersion>): StoredVersion => ({ ...base, ...changes });

  it.each<[string, Partial<StoredVersion>, string]>([
    ['held', { dispatchStatus: 'held' }, 'pending-approval'],
    ['scheduled', { dispatchStatus: 'scheduled', publishAt: T2.toISOString() }, 'scheduled'],
    ['superseded', { dispatchStatus: 'superseded' }, 'superseded'],
    ['withdrawn', { dispatchStatus: 'withdrawn' }, 'withdrawn'],
    ['pending', { dispatchStatus: 'pending' }, 'dispatching'],
    [
      'planned, 1 of 3 settled',
      { dispatchStatus: 'planned', receiptsPlanned: 3, receiptsSettled: 1 },
      'dispatching',
    ],
    ['planned, none settled yet', { dispatchStatus: 'planned', receiptsPlanned: 3 }, 'dispatching'],
    [
      'planned, 3 of 3 settled',
      { dispatchStatus: 'planned', receiptsPlanned: 3, receiptsSettled: 3 },
      'sent',
    ],
    ['planned with no recipients', { dispatchStatus: 'planned', receiptsPlanned: 0 }, 'sent'],
  ])('a version %s is %s', (_name, changes, expected) => {
    // Act
    const state = versionState(with_(changes));

    // Assess
    expect(state).toBe(expected);
  });

  it.each<[string, Partial<StoredVersion>, Date, string]>([
    ['cancelled', { msgType: 'Cancel', dispatchStatus: 'planned' }, T2, 'cancelled'],
    [
      'cancelled, past its expiry',
      { msgType: 'Cancel', dispatchStatus: 'planned' },
      new Date('2030-03-05T00:00:00Z'),
      'cancelled',
    ],
    ['held for approval', { dispatchStatus: 'held' }, T2, 'pending-approval'],
    ['pending', { dispatchStatus: 'pending' }, T2, 'dispatching'],
    [
      'planned, not all settled',
      { dispatchStatus: 'planned', receiptsPlanned: 2, receiptsSettled: 1 },
      T2,
      'dispatching',
    ],
    [
      'planned, all settled',
      { dispatchStatus: 'planned', receiptsPlanned: 2, receiptsSettled: 2 },
      T2,
      'sent',
    ],
    [
      'at its expiry time',
      { dispatchStatus: 'planned', receiptsPlanned: 2, receiptsSettled: 2 },
      new Date('2030-03-04T12:00:00Z'),
      'expired',
    ],
    [
      'past its expiry while dispatching',
      { dispatchStatus: 'pending' },
      new Date('2030-03-04T12:00:01Z'),
      'expired',
    ],
  ])('an alert %s is %s', (_name, changes, now, expected) => {
    // Act
    const state = alertState([with_(changes)], now);

    // Assess
    expect(state).toBe(expected);
  });

  it('reads expiry with its offset: 13:00+01:00 is noon UTC', () => {
    // Prepare
    const v = {
      ...newAlert(draft({ expires: '2030-03-04T13:00:00+01:00' }), ctx(T1)),
      dispatchStatus: 'pending' as const,
    };

    // Act
    const before = alertState([v], new Date('2030-03-04T11:59:59Z'));
    const after = alertState([v], new Date('2030-03-04T12:00:00Z'));

    // Assess
    expect([before, after]).toEqual(['dispatching', 'expired']);
  });
});

describe('toApiAlert', () => {
  it('shows the current version on top, the alert state, and every version in short', () => {
    // Prepare
    const v1 = planned(newAlert(draft(), ctx(T1)));
    const v2 = {
      ...updateAlert([v1], UpdatePatch.parse({ severity: 'Extreme' }), ctx(T2)),
      dispatchStatus: 'superseded' as const,
    };
    const approvedAt = '2030-03-04T07:30:00.000Z';
    const v3 = {
      ...updateAlert([v1, v2], UpdatePatch.parse({ headline: 'Still missing' }), ctx(T3)),
      approval: { required: true, approvedBy: 'supervisor-1', approvedAt },
      dispatchStatus: 'pending' as const,
    };

    // Act
    const alert = toApiAlert([v1, v2, v3], T3);

    // Assess
    expect(alert).toMatchObject({
      id: v1.alertId,
      version: 3,
      msgType: 'Update',
      headline: 'Still missing',
      state: 'dispatching',
      createdAt: v1.createdAt,
      updatedAt: approvedAt,
      references: [`alerts@police.example,${v1.identifier},${v1.sent}`],
    });
    expect(alert.versions).toEqual([
      {
        version: 1,
        msgType: 'Alert',
        sent: v1.sent,
        author: 'officer-1',
        headline: v1.content.headline,
        state: 'sent',
      },
      {
        version: 2,
        msgType: 'Update',
        sent: v2.sent,
        author: 'officer-1',
        headline: v1.content.headline,
        state: 'superseded',
      },
      {
        version: 3,
        msgType: 'Update',
        sent: v3.sent,
        author: 'officer-1',
        headline: 'Still missing',
        state: 'dispatching',
      },
    ]);
  });
});
