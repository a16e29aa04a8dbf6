/**
 * The console's compose form types CAP's times on the agency's clock: a `datetime-local` value becomes an ISO
 * date-time with that clock's offset for that day (daylight saving included), whatever zone the browser is in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readTimes, wallClockToIso } from '../../web/src/wall-clock';

describe('wallClockToIso', () => {
  const savedTz = process.env.TZ;
  afterEach(() => {
    process.env.TZ = savedTz;
  });

  it("gives the agency's offset for the day: winter and summer in Madrid, New York, UTC", () => {
    expect(wallClockToIso('2026-12-06T08:00', 'Europe/Madrid')).toBe('2026-12-06T08:00:00+01:00');
    expect(wallClockToIso('2026-07-06T08:00', 'Europe/Madrid')).toBe('2026-07-06T08:00:00+02:00');
    expect(wallClockToIso('2026-12-06T08:00', 'America/New_York')).toBe('2026-12-06T08:00:00-05:00');
    expect(wallClockToIso('2026-12-06T08:00:30', 'UTC')).toBe('2026-12-06T08:00:30+00:00');
    expect(wallClockToIso('2026-12-06T08:00', 'Asia/Kolkata')).toBe('2026-12-06T08:00:00+05:30');
  });

  it('reads the same on either side of a clock change, and moves a time the change skips an hour on', () => {
    // Madrid: 29 March 2026 at 02:00 becomes 03:00; 25 October 2026 at 03:00 becomes 02:00.
    expect(wallClockToIso('2026-03-29T01:30', 'Europe/Madrid')).toBe('2026-03-29T01:30:00+01:00');
    expect(wallClockToIso('2026-03-29T03:30', 'Europe/Madrid')).toBe('2026-03-29T03:30:00+02:00');
    expect(wallClockToIso('2026-03-29T02:30', 'Europe/Madrid')).toBe('2026-03-29T03:30:00+02:00');
    expect(wallClockToIso('2026-10-25T12:00', 'Europe/Madrid')).toBe('2026-10-25T12:00:00+01:00');
  });

  it("does not depend on the browser's own zone", () => {
    process.env.TZ = 'Pacific/Auckland';
    expect(wallClockToIso('2026-12-06T08:00', 'Europe/Madrid')).toBe('2026-12-06T08:00:00+01:00');
    process.env.TZ = 'America/Los_Angeles';
    expect(wallClockToIso('2026-12-06T08:00', 'Europe/Madrid')).toBe('2026-12-06T08:00:00+01:00');
  });

  it('gives nothing for what is not a date and time, or a zone the browser does not know', () => {
    expect(wallClockToIso('2026-12-06', 'Europe/Madrid')).toBeUndefined();
    expect(wallClockToIso('tomorrow 8am', 'Europe/Madrid')).toBeUndefined();
    expect(wallClockToIso('2026-12-06T08:00', 'Mars/Olympus_Mons')).toBeUndefined();
  });
});

describe('readTimes', () => {
  it('sends each time given with its offset, leaves out the empty ones, and passes on what it cannot read', () => {
    const form: Record<string, string> = {
      'f-effective': '',
      'f-onset': '2026-12-06T08:00',
      'f-expires': 'soon',
    };
    expect(readTimes((id) => form[id] ?? '', 'Europe/Madrid')).toEqual({
      onset: '2026-12-06T08:00:00+01:00',
      expires: 'soon',
    });
  });
});
