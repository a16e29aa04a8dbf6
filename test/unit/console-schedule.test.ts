/**
 * The console's scheduling pieces that need no browser: times said on the agency's clock whatever zone the
 * browser is in, a step's time read back into the form it was typed in, and which version the alert page is headed
 * by when the alert's newest version is a step that still waits.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  clockOf,
  dayOf,
  forPreview,
  goesOutText,
  publicVersion,
  wallClockOf,
  whenOf,
} from '../../web/src/schedule';
import type { Alert, VersionSummary } from '../../web/src/types';

import { wallClockToIso } from '../../web/src/wall-clock';

describe("Console: times on the agency's clock", () => {
  const savedTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = savedTz;
  });

  it('names the day and the time in the agency zone, not the browser’s', () => {
    // Arrange: 07:00 UTC is 08:00 in Madrid, and still the evening before in Los Angeles
    process.env.TZ = 'America/Los_Angeles';
    const at = '2026-12-06T07:00:00.000Z';

    // Act
    const said = { day: dayOf(at, 'Europe/Madrid'), clock: clockOf(at, 'Europe/Madrid') };

    // Assess
    expect(said).toEqual({ day: expect.stringMatching(/^Sunday 6 December( 2026)?$/), clock: '08:00' });
  });

  it('says the year only when the day is not in this year', () => {
    const nextYear = new Date().getUTCFullYear() + 1;
    expect(dayOf(`${nextYear}-01-04T12:00:00Z`, 'UTC')).toMatch(
      new RegExp(`^\\w+day 4 January ${nextYear}$`),
    );
    expect(dayOf(new Date().toISOString(), 'UTC')).not.toMatch(/\d{4}$/);
  });

  it('reads a step’s time back as it was typed, on either side of a clock change', () => {
    // Madrid: 29 March 2026 at 02:00 becomes 03:00; 25 October 2026 at 03:00 becomes 02:00.
    for (const typed of ['2026-03-29T01:30', '2026-03-29T03:30', '2026-10-25T12:00', '2026-12-06T08:00'])
      expect(
        wallClockOf(new Date(wallClockToIso(typed, 'Europe/Madrid')!).toISOString(), 'Europe/Madrid'),
      ).toBe(typed);
  });

  it('says when a version goes out: at once, at its time with the zone named, or that a time is missing', () => {
    expect(goesOutText(undefined, 'Europe/Madrid')).toBe('Goes out as soon as it is sent.');
    expect(goesOutText('2026-12-06T08:00:00+01:00', 'Europe/Madrid')).toBe(
      `Scheduled: goes out on ${whenOf('2026-12-06T08:00:00+01:00', 'Europe/Madrid')} (Europe/Madrid time). Until then it is sent nowhere and is in no feed.`,
    );
    expect(whenOf('2026-12-06T08:00:00+01:00', 'Europe/Madrid')).toMatch(
      /^Sunday 6 December( 2026)? at 08:00$/,
    );
    expect(goesOutText('', 'Europe/Madrid')).toBe('Scheduled: give the date and time it goes out.');
  });
});

describe('Console: a draft scheduled without its time yet', () => {
  it('is previewed without the time, and keeps a time given or an unreadable one for the API to name', () => {
    expect(forPreview({ headline: 'Road closed', publishAt: '' })).toEqual({ headline: 'Road closed' });
    expect(forPreview({ headline: 'Road closed', publishAt: '2026-12-06T08:00:00+01:00' })).toEqual({
      headline: 'Road closed',
      publishAt: '2026-12-06T08:00:00+01:00',
    });
    expect(forPreview({ headline: 'Road closed', publishAt: 'Sunday' })).toEqual({
      headline: 'Road closed',
      publishAt: 'Sunday',
    });
  });
});

describe('Console: the version an alert page is headed by', () => {
  const step = (version: number, state: string, sent: string, publishAt?: string): VersionSummary => ({
    version,
    msgType: version === 1 ? 'Alert' : 'Update',
    sent,
    author: 'duty-officer-7',
    headline: `v${version}`,
    state,
    ...(publishAt ? { publishAt } : {}),
  });
  const alertOf = (versions: VersionSummary[]) =>
    ({ version: versions.length, versions }) as unknown as Alert;

  it('is the last version out, not the newest step that still waits', () => {
    const alert = alertOf([
      step(1, 'sent', '2026-12-04T10:00:00Z'),
      step(2, 'sent', '2026-12-05T07:00:00Z', '2026-12-05T07:00:00Z'),
      step(3, 'scheduled', '2026-12-05T13:00:00Z', '2026-12-05T13:00:00Z'),
    ]);
    expect(publicVersion(alert)).toBe(2);
  });

  it('is the first to go out while nothing is out, passing over what was replaced or withdrawn', () => {
    const alert = alertOf([
      step(1, 'superseded', '2026-12-05T06:00:00Z', '2026-12-05T06:00:00Z'),
      step(2, 'withdrawn', '2026-12-05T06:30:00Z', '2026-12-05T06:30:00Z'),
      step(3, 'scheduled', '2026-12-05T13:00:00Z', '2026-12-05T13:00:00Z'),
      step(4, 'pending-approval', '2026-12-05T07:00:00Z', '2026-12-05T07:00:00Z'),
    ]);
    expect(publicVersion(alert)).toBe(4);
  });

  it('is the newest version when every version is out in order (an alert and its updates sent at once)', () => {
    const alert = alertOf([
      step(1, 'sent', '2026-12-04T10:00:00Z'),
      step(2, 'dispatching', '2026-12-04T11:00:00Z'),
    ]);
    expect(publicVersion(alert)).toBe(2);
  });
});
