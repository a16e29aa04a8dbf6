/**
 * The alert lifecycle with time (functions/core/alerts.ts): scheduled versions as newAlert, updateAlert and cancelAlert
 * build them, the states a timeline reads as, and the API shape with nextPublishAt and each version's publishAt.
 */
import { describe, expect, it } from 'vitest';
import {
  alertState,
  cancelAlert,
  capReference,
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

const NOW = new Date('2030-06-07T10:00:00.000Z');
const at = (hh: number) => new Date(`2030-06-07T${String(hh).padStart(2, '0')}:00:00.000Z`);

const draft = (changes: Record<string, unknown> = {}) =>
  AlertDraft.parse({ ...structuredClone(draftFixture), ...changes });
const patch = (changes: Record<string, unknown>) => UpdatePatch.parse(changes);

const ctx = (now: Date, changes: Partial<VersionContext> = {}): VersionContext => ({
  alertId: '01JA0000000000000000000042',
  actor: { id: 'officer-1', roles: ['officer'] },
  now,
  sender: 'alerts@police.example',
  approvalSeverities: new Set<Severity>(['Extreme']),
  ...changes,
});

/** As the dispatcher leaves a version once its fan-out is written and settled. */
const sent = (v: StoredVersion, releasedAt = v.publishAt ?? v.createdAt): StoredVersion => ({
  ...v,
  dispatchStatus: 'planned',
  releasedAt,
  receiptsPlanned: 1,
  receiptsSettled: 1,
});

function problemOf(act: () => unknown): HttpProblem {
  try {
    act();
  } catch (error) {
    if (error instanceof HttpProblem) return error;
    throw error;
  }
  throw new Error('expected an HttpProblem');
}

describe('newAlert with publishAt', () => {
  it('builds a scheduled version whose CAP sent is its publishAt, not yet released', () => {
    // Act
    const v1 = newAlert(draft(), ctx(NOW, { publishAt: at(14) }));

    // Assess
    expect(v1).toMatchObject({
      version: 1,
      msgType: 'Alert',
      dispatchStatus: 'scheduled',
      publishAt: '2030-06-07T14:00:00.000Z',
      sent: '2030-06-07T14:00:00-00:00',
      createdAt: NOW.toISOString(),
      references: [],
    });
    expect(v1).not.toHaveProperty('releasedAt');
    expect(v1).not.toHaveProperty('replaces');
    expect(v1.content).not.toHaveProperty('publishAt');
  });

  it('holds a scheduled version that needs approval, keeping its time', () => {
    // Act
    const v1 = newAlert(draft({ severity: 'Extreme' }), ctx(NOW, { publishAt: at(14) }));

    // Assess
    expect(v1).toMatchObject({ dispatchStatus: 'held', publishAt: at(14).toISOString() });
    expect(v1.approval).toEqual({ required: true });
  });

  it('releases at once a version without publishAt', () => {
    // Act
    const v1 = newAlert(draft(), ctx(NOW));

    // Assess
    expect(v1).toMatchObject({ dispatchStatus: 'pending', releasedAt: NOW.toISOString() });
    expect(v1).not.toHaveProperty('publishAt');
  });
});

describe('updateAlert on a timeline', () => {
  const v1 = sent(newAlert(draft(), ctx(at(8))));

  it('adds a scheduled step merged over what the public reads at its time, referencing what is out', () => {
    // Arrange: a step at 14:00 already waits; a new one at 16:00 follows it.
    const v2 = updateAlert(
      [v1],
      patch({ headline: 'Closing now', instruction: null }),
      ctx(at(9), { publishAt: at(14) }),
    );

    // Act
    const v3 = updateAlert([v1, v2], patch({ description: 'Reopened.' }), ctx(at(9), { publishAt: at(16) }));

    // Assess
    expect(v2).toMatchObject({ dispatchStatus: 'scheduled', references: [capReference(v1)] });
    expect(v2.content).not.toHaveProperty('instruction');
    expect(v3).toMatchObject({ version: 3, dispatchStatus: 'scheduled', publishAt: at(16).toISOString() });
    expect(v3).not.toHaveProperty('replaces');
    expect(v3.content.headline).toBe('Closing now');
    expect(v3.content.description).toBe('Reopened.');
    expect(v3.references).toEqual([capReference(v1), capReference(v2)]);
  });

  it('replaces an explicitly named step: merged over it, not referencing it', () => {
    // Arrange
    const v2 = updateAlert([v1], patch({ headline: 'Closing at 14:00' }), ctx(at(9), { publishAt: at(14) }));

    // Act
    const v3 = updateAlert(
      [v1, v2],
      patch({ description: 'Later.', replaces: 2 }),
      ctx(at(9), { publishAt: at(15) }),
    );

    // Assess
    expect(v3.replaces).toEqual([2]);
    expect(v3.content.headline).toBe('Closing at 14:00');
    expect(v3.references).toEqual([capReference(v1)]);
  });

  it('sends now an update replacing a scheduled alert that is not out yet; it references nothing', () => {
    // Arrange
    const s1 = newAlert(draft(), ctx(NOW, { publishAt: at(14) }));

    // Act
    const v2 = updateAlert([s1], patch({ headline: 'Now instead' }), ctx(NOW));

    // Assess
    expect(v2).toMatchObject({ replaces: [1], dispatchStatus: 'pending', references: [] });
    expect(v2.content.description).toBe(s1.content.description);
  });

  it('refuses channels the version it merges over did not have', () => {
    // Arrange
    const v2 = updateAlert([v1], patch({ channels: ['x'] }), ctx(at(9), { publishAt: at(14) }));

    // Act
    const problem = problemOf(() =>
      updateAlert([v1, v2], patch({ channels: ['x', 'sms'] }), ctx(at(9), { publishAt: at(15) })),
    );

    // Assess
    expect(problem.status).toBe(422);
    expect(problem.errors?.map((e) => e.path)).toEqual(['/channels/1']);
  });
});

describe('cancelAlert on a timeline', () => {
  it('replaces every waiting step and cancels what is live, at once even when asked for a time', () => {
    // Arrange
    const v1 = sent(newAlert(draft(), ctx(at(8))));
    const v2 = updateAlert([v1], patch({ headline: 'Closing now' }), ctx(at(9), { publishAt: at(14) }));
    const v3 = updateAlert([v1, v2], patch({ headline: 'Reopened' }), ctx(at(9), { publishAt: at(16) }));

    // Act
    const cancel = cancelAlert([v1, v2, v3], { reason: 'Race called off' }, ctx(NOW, { publishAt: at(12) }));

    // Assess
    expect(cancel).toMatchObject({
      version: 4,
      msgType: 'Cancel',
      replaces: [2, 3],
      dispatchStatus: 'pending',
      note: 'Race called off',
      references: [capReference(v1)],
    });
    expect(cancel).not.toHaveProperty('publishAt');
    expect(cancel.content.headline).toBe(v1.content.headline);
  });

  it('cancels a schedule before anything went out: the cancel replaces it and the alert reads cancelled', () => {
    // Arrange
    const s1 = newAlert(draft(), ctx(NOW, { publishAt: at(14) }));

    // Act
    const cancel = cancelAlert([s1], {}, ctx(NOW));

    // Assess
    expect(cancel.replaces).toEqual([1]);
    expect(cancel.references).toEqual([]);
    expect(alertState([s1, cancel], NOW)).toBe('cancelled');
  });
});

describe('versionState, alertState and toApiAlert with time', () => {
  const v1 = sent(newAlert(draft(), ctx(at(8))));

  it('reads a scheduled version as scheduled, and an alert with nothing out as scheduled', () => {
    // Arrange
    const s1 = newAlert(draft(), ctx(NOW, { publishAt: at(14) }));

    // Act
    const states = [versionState(s1), alertState([s1], NOW)];

    // Assess
    expect(states).toEqual(['scheduled', 'scheduled']);
  });

  it('reads an alert whose every step was withdrawn before anything went out as cancelled: nothing will go out', () => {
    // Arrange
    const s1 = newAlert(draft(), ctx(NOW, { publishAt: at(14) }));
    const withdrawn: StoredVersion = {
      ...s1,
      dispatchStatus: 'withdrawn',
      withdrawn: { by: 'officer-1', at: NOW.toISOString() },
    };

    // Act
    const state = alertState([withdrawn], NOW);

    // Assess
    expect(state).toBe('cancelled');
  });

  it('reads an alert with nothing out and a version held for approval as pending-approval', () => {
    // Arrange
    const h1 = newAlert(draft({ severity: 'Extreme' }), ctx(NOW, { publishAt: at(14) }));

    // Act
    const state = alertState([h1], NOW);

    // Assess
    expect(state).toBe('pending-approval');
  });

  it('reads a live alert as pending-approval while a held step of its timeline waits for a supervisor', () => {
    // Arrange
    const h2 = updateAlert([v1], patch({ severity: 'Extreme' }), ctx(at(9), { publishAt: at(14) }));

    // Act
    const state = alertState([v1, h2], NOW);

    // Assess
    expect(h2.dispatchStatus).toBe('held');
    expect(state).toBe('pending-approval');
  });

  it('reads pending-approval when an update to go out now waits for a supervisor', () => {
    // Arrange
    const h2 = updateAlert([v1], patch({ severity: 'Extreme' }), ctx(at(9)));

    // Act
    const state = alertState([v1, h2], NOW);

    // Assess
    expect(state).toBe('pending-approval');
  });

  it('reads the state of the live version: a step out at its time that is still dispatching', () => {
    // Arrange
    const step = updateAlert([v1], patch({ headline: 'Closing now' }), ctx(at(9), { publishAt: at(9) }));
    const released: StoredVersion = { ...step, dispatchStatus: 'pending', releasedAt: at(9).toISOString() };

    // Act
    const state = alertState([v1, released], NOW);

    // Assess
    expect(state).toBe('dispatching');
  });

  it('shows the next publishAt, each version with its own, and a replaced step as superseded', () => {
    // Arrange: v2 at 14:00 was replaced by v3 at 13:00 (not yet marked); v4 waits for 16:00.
    const v2 = updateAlert([v1], patch({ headline: 'Closing at 14' }), ctx(at(9), { publishAt: at(14) }));
    const v3 = updateAlert(
      [v1, v2],
      patch({ headline: 'Closing at 13', replaces: 2 }),
      ctx(at(9), { publishAt: at(13) }),
    );
    const v4 = updateAlert([v1, v2, v3], patch({ headline: 'Reopened' }), ctx(at(9), { publishAt: at(16) }));

    // Act
    const alert = toApiAlert([v1, v2, v3, v4], NOW);

    // Assess
    expect(alert.state).toBe('sent');
    expect(alert.nextPublishAt).toBe(at(13).toISOString());
    expect(alert.versions).toEqual([
      expect.objectContaining({ version: 1, state: 'sent' }),
      expect.objectContaining({ version: 2, state: 'superseded', publishAt: at(14).toISOString() }),
      expect.objectContaining({ version: 3, state: 'scheduled', publishAt: at(13).toISOString() }),
      expect.objectContaining({ version: 4, state: 'scheduled', publishAt: at(16).toISOString() }),
    ]);
    expect(alert.versions[0]).not.toHaveProperty('publishAt');
  });

  it('has no nextPublishAt once nothing waits', () => {
    // Arrange
    const v2 = updateAlert([v1], patch({ headline: 'Closing now' }), ctx(at(9), { publishAt: at(14) }));
    const withdrawn: StoredVersion = { ...v2, dispatchStatus: 'withdrawn' };

    // Act
    const alert = toApiAlert([v1, withdrawn], NOW);

    // Assess
    expect(alert).not.toHaveProperty('nextPublishAt');
    expect(alert.versions[1]?.state).toBe('withdrawn');
  });
});
