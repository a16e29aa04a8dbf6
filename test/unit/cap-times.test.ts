/**
 * CAP's times, pure: the order an alert's effective, onset and expires must keep (and the draft and update schemas
 * that refuse a wrong one, naming the field), the line residents read them in on the agency's clock (across a
 * daylight-saving change), the preview's view of them, and a CAP update's times compared as instants.
 */
import { describe, expect, it } from 'vitest';
import { normaliseDraft } from '../../functions/core/alerts';
import { updatePatchFrom } from '../../functions/core/cap-import';
import { timeProblems } from '../../functions/core/cap-times';
import { localTime, timesText, wordsFor } from '../../functions/core/render';
import { previewTimes, SHORT_LIFE_MS } from '../../functions/core/times-preview';
import { AlertDraft, UpdatePatch } from '../../schemas/alert';
import draftFixture from '../fixtures/alert-draft.json';

/** ICU spaces its ranges with thin and narrow spaces: compared here as plain ones. */
const spaced = (s: string | undefined) => s?.replace(/\s/g, ' ');

describe('timeProblems', () => {
  it('accepts times in order, in any offsets, and any of them absent', () => {
    expect(
      timeProblems({
        effective: '2026-12-06T08:00:00+01:00',
        onset: '2026-12-06T07:00:00Z',
        expires: '2026-12-06T09:00:01-05:00',
      }),
    ).toEqual([]);
    expect(timeProblems({})).toEqual([]);
    expect(timeProblems({ onset: '2026-12-06T08:00:00Z' })).toEqual([]);
    expect(timeProblems({ effective: '2026-12-07T00:00:00Z', onset: '2026-12-08T00:00:00Z' })).toEqual([]);
  });

  it('accepts an onset before effective: an event already under way when the alert starts to apply', () => {
    expect(timeProblems({ effective: '2026-12-06T08:00:00+01:00', onset: '2026-12-06T05:00:00Z' })).toEqual(
      [],
    );
  });

  it('names expires when it is not after effective, and again when it is not after onset', () => {
    expect(
      timeProblems({
        effective: '2026-12-06T08:00:00Z',
        onset: '2026-12-06T09:00:00Z',
        expires: '2026-12-06T08:00:00Z',
      }),
    ).toEqual([
      { path: '/expires', message: 'must be after effective (2026-12-06T08:00:00Z)' },
      { path: '/expires', message: 'must be after onset (2026-12-06T09:00:00Z)' },
    ]);
  });

  it('compares whole seconds, as CAP carries them: a fraction later is not later', () => {
    expect(timeProblems({ onset: '2026-12-06T08:00:00.100Z', expires: '2026-12-06T08:00:00.900Z' })).toEqual([
      { path: '/expires', message: expect.stringMatching(/must be after onset/) },
    ]);
    expect(
      timeProblems({ effective: '2026-12-06T08:00:00.900Z', onset: '2026-12-06T08:00:00.100Z' }),
    ).toEqual([]);
  });
});

describe('the draft and update schemas', () => {
  const draft = (times: Record<string, unknown>) => AlertDraft.safeParse({ ...draftFixture, ...times });
  const issuesOf = (result: ReturnType<typeof draft> | ReturnType<typeof UpdatePatch.safeParse>) =>
    result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('/'), message: i.message }));

  it('refuses a draft whose times are out of order, on the field at fault', () => {
    expect(
      issuesOf(draft({ effective: '2026-12-06T10:00:00+01:00', expires: '2026-12-06T08:00:00+01:00' })),
    ).toEqual([{ path: 'expires', message: expect.stringMatching(/must be after effective/) }]);
    expect(issuesOf(draft({ onset: '2026-12-06T08:00:00+01:00', expires: '2026-12-06T07:00:00Z' }))).toEqual([
      { path: 'expires', message: expect.stringMatching(/must be after onset/) },
    ]);
    expect(
      draft({ effective: '2026-12-06T08:00:00+01:00', expires: '2026-12-06T14:00:00+01:00' }).success,
    ).toBe(true);
  });

  it('refuses an update patch whose own times are out of order, and lets null remove a time', () => {
    expect(
      issuesOf(UpdatePatch.safeParse({ effective: '2026-12-06T09:00:00Z', expires: '2026-12-06T08:00:00Z' })),
    ).toEqual([{ path: 'expires', message: expect.stringMatching(/must be after effective/) }]);
    expect(UpdatePatch.safeParse({ onset: null, expires: '2026-12-06T08:00:00Z' }).success).toBe(true);
  });
});

describe('timesText: the line residents read', () => {
  const words = wordsFor('en');

  it("says a range on the agency's clock, the day once when both ends fall on it", () => {
    const onset = '2026-12-06T07:00:00Z';
    expect(spaced(timesText({ onset, expires: '2026-12-06T13:00:00Z' }, 'Europe/Madrid', 'en', words))).toBe(
      'Sun, Dec 6, 08:00 – 14:00',
    );
    expect(spaced(timesText({ onset, expires: '2026-12-07T13:00:00Z' }, 'Europe/Madrid', 'en', words))).toBe(
      'Sun, Dec 6, 08:00 – Mon, Dec 7, 14:00',
    );
    expect(
      spaced(timesText({ onset, expires: '2026-12-06T13:00:00Z' }, 'America/New_York', 'en', words)),
    ).toBe('Sun, Dec 6, 02:00 – 08:00');
  });

  it('starts from onset, else effective, and says From or Until when only one end is given', () => {
    const t = (times: Record<string, string>) => spaced(timesText(times, 'UTC', 'es', wordsFor('es')));
    expect(t({ effective: '2026-12-06T07:00:00Z' })).toBe('Desde dom, 6 dic, 07:00');
    expect(t({ effective: '2026-12-05T07:00:00Z', onset: '2026-12-06T07:00:00Z' })).toBe(
      'Desde dom, 6 dic, 07:00',
    );
    expect(t({ expires: '2026-12-06T13:00:00Z' })).toBe('Hasta dom, 6 dic, 13:00');
    expect(t({})).toBeUndefined();
  });

  it('reads 08:00 on both sides of a daylight-saving change, though the offsets differ', () => {
    // Madrid moves from +01:00 to +02:00 on 29 March 2026.
    expect(localTime('2026-03-28T07:00:00Z', 'Europe/Madrid', 'en-GB')).toBe('Sat 28 Mar, 08:00');
    expect(localTime('2026-03-29T06:00:00Z', 'Europe/Madrid', 'en-GB')).toBe('Sun 29 Mar, 08:00');
  });

  it('falls back to English for a language the runtime cannot format', () => {
    expect(localTime('2026-12-06T07:00:00Z', 'UTC', 'x-invalid-!!')).toBe(
      localTime('2026-12-06T07:00:00Z', 'UTC', 'en'),
    );
  });
});

describe('previewTimes', () => {
  const sendsAt = new Date('2026-12-06T07:00:00Z');
  const preview = (times: Record<string, string>, at = sendsAt) =>
    previewTimes({ language: 'en', ...times }, { sendsAt: at, timeZone: 'Europe/Madrid' });

  it('shows each time as CAP carries it and as residents read it, and the line they read', () => {
    const { times, warnings } = preview({
      effective: '2026-12-06T08:00:00+01:00',
      onset: '2026-12-06T08:30:00+01:00',
      expires: '2026-12-06T14:00:00+01:00',
    });
    expect(warnings).toEqual([]);
    expect(times).toMatchObject({
      timeZone: 'Europe/Madrid',
      sent: { at: '2026-12-06T07:00:00-00:00', local: 'Sun, Dec 6, 08:00' },
      effective: { at: '2026-12-06T07:00:00-00:00', local: 'Sun, Dec 6, 08:00' },
      onset: { at: '2026-12-06T07:30:00-00:00', local: 'Sun, Dec 6, 08:30' },
      expires: { at: '2026-12-06T13:00:00-00:00', local: 'Sun, Dec 6, 14:00' },
    });
    expect(spaced(times.text)).toBe('Sun, Dec 6, 08:30 – 14:00');
  });

  it('warns when the alert expires less than 15 minutes after it goes out, and not at 15', () => {
    const soon = new Date(sendsAt.getTime() + SHORT_LIFE_MS - 60_000).toISOString();
    const enough = new Date(sendsAt.getTime() + SHORT_LIFE_MS).toISOString();
    expect(preview({ expires: soon }).warnings).toEqual([
      expect.stringMatching(/^expires 14 min after it goes out \(at Sun, Dec 6, 08:14 \(Europe\/Madrid\)\)/),
    ]);
    expect(preview({ expires: enough }).warnings).toEqual([]);
  });

  it('warns when the alert would expire before it goes out, counting from a scheduled time', () => {
    const publishAt = new Date('2026-12-06T15:00:00Z');
    expect(preview({ expires: '2026-12-06T14:00:00Z' }, publishAt).warnings).toEqual([
      expect.stringMatching(/before it goes out: it would arrive expired, and never be in the feeds/),
    ]);
    expect(preview({}, publishAt).times).toEqual({
      timeZone: 'Europe/Madrid',
      sent: { at: '2026-12-06T15:00:00-00:00', local: 'Sun, Dec 6, 16:00' },
    });
  });
});

describe("a CAP update's times", () => {
  const current = normaliseDraft(
    AlertDraft.parse({
      ...draftFixture,
      onset: '2026-12-06T08:00:00+01:00',
      expires: '2026-12-06T14:00:00+01:00',
    }),
  );
  const imported = (times: Record<string, string | undefined>) =>
    AlertDraft.parse({ ...draftFixture, ...times });

  it('changes nothing when the message says the same instants in UTC, as CAP out writes them', () => {
    const patch = updatePatchFrom(
      current,
      imported({ onset: '2026-12-06T07:00:00-00:00', expires: '2026-12-06T13:00:00-00:00' }),
    );
    expect(patch).toEqual({ headline: draftFixture.headline });
  });

  it('sets a time that moved, adds one that is new, and removes (null) one the message no longer gives', () => {
    const patch = updatePatchFrom(
      current,
      imported({ effective: '2026-12-06T06:00:00-00:00', expires: '2026-12-06T15:00:00-00:00' }),
    );
    expect(patch).toEqual({
      effective: '2026-12-06T06:00:00-00:00',
      onset: null,
      expires: '2026-12-06T15:00:00-00:00',
    });
  });
});
