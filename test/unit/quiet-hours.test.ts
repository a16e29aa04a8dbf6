/**
 * Quiet hours on the agency's clock, pure: the forms QUIET takes, whether an instant is inside a resident's window and
 * when it ends, with real zones on both of their daylight-saving nights, and what is urgent enough to wake anyone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isUrgent,
  localTimeOf,
  parseQuietArguments,
  type QuietWindow,
  quietUntil,
  windowProblem,
  withQuietHours,
} from '../../functions/core/quiet-hours';
import { loadConfig } from '../../functions/shared/config';

const MADRID = 'Europe/Madrid';
const NEW_YORK = 'America/New_York';
const until = (at: string, window: QuietWindow, zone: string) =>
  quietUntil(new Date(at), window, zone)?.toISOString();

describe('parseQuietArguments', () => {
  it.each([
    ['22-07', '22:00', '07:00'],
    ['22:00-07:30', '22:00', '07:30'],
    ['22.30 - 7', '22:30', '07:00'],
    ['22 07', '22:00', '07:00'],
    ['2200-0700', '22:00', '07:00'],
    ['22h-7h', '22:00', '07:00'],
    ['22h30 - 06h45', '22:30', '06:45'],
    ['10pm to 7am', '22:00', '07:00'],
    ['10:30 pm - 6 am', '22:30', '06:00'],
    ['12am-6am', '00:00', '06:00'],
    ['from 23 to 06', '23:00', '06:00'],
    ['de 22 a 7', '22:00', '07:00'],
    ['13-15', '13:00', '15:00'],
    ['22–07.', '22:00', '07:00'],
  ])('reads %j as %s to %s', (text, from, to) => {
    // Act
    const read = parseQuietArguments(text);

    // Assess
    expect(read).toEqual({ kind: 'set', window: { from, to } });
  });

  it.each(['OFF', 'off', ' Off! ', 'no', 'none'])('reads %j as quiet hours off', (text) => {
    expect(parseQuietArguments(text)).toEqual({ kind: 'off' });
  });

  it.each([
    ['', 'no times were given'],
    ['22', 'not two times'],
    ['22-07-09', 'not two times'],
    ['25-07', 'not a time of day'],
    ['22:61-07', 'not a time of day'],
    ['13pm-7am', 'not a time of day'],
    ['tonight please', 'not two times'],
    ['7-7', 'from and to must differ: the window would be empty, or the whole day'],
    ['22:00-22:00', 'from and to must differ: the window would be empty, or the whole day'],
  ])('refuses %j, saying why', (text, reason) => {
    expect(parseQuietArguments(text)).toEqual({ kind: 'invalid', reason });
  });
});

describe('windowProblem', () => {
  it('accepts HH:MM windows that cross midnight and windows that do not', () => {
    expect(windowProblem({ from: '22:00', to: '07:00' })).toBeUndefined();
    expect(windowProblem({ from: '13:00', to: '15:30' })).toBeUndefined();
  });

  it.each([
    [{ from: '7:00', to: '08:00' }, /from must be a time/],
    [{ from: '07:00', to: '24:00' }, /to must be a time/],
    [{ from: '07:00', to: '07:00' }, /must differ/],
  ])('refuses %j', (window, problem) => {
    expect(windowProblem(window)).toMatch(problem);
  });

  it('refuses a window that starts when it ends at the clock too, instead of guessing', () => {
    expect(() => quietUntil(new Date(), { from: '07:00', to: '07:00' }, MADRID)).toThrow(RangeError);
  });
});

describe('quietUntil: a window across midnight (22:00–07:00)', () => {
  const night = { from: '22:00', to: '07:00' };

  it('is quiet from 22:00 on, until 07:00 the next morning on the agency clock', () => {
    // 2030-06-12 22:30 in Madrid (summer time, UTC+2)
    expect(until('2030-06-12T20:30:00Z', night, MADRID)).toBe('2030-06-13T05:00:00.000Z');
  });

  it('is quiet after midnight, until 07:00 the same morning', () => {
    expect(until('2030-06-13T01:15:00Z', night, MADRID)).toBe('2030-06-13T05:00:00.000Z');
  });

  it('starts at exactly 22:00 and ends at exactly 07:00', () => {
    expect(until('2030-06-12T20:00:00.000Z', night, MADRID)).toBe('2030-06-13T05:00:00.000Z');
    expect(until('2030-06-13T04:59:59.999Z', night, MADRID)).toBe('2030-06-13T05:00:00.000Z');
    expect(until('2030-06-13T05:00:00.000Z', night, MADRID)).toBeUndefined();
    expect(until('2030-06-12T19:59:59.999Z', night, MADRID)).toBeUndefined();
  });

  it('is not quiet in the day', () => {
    expect(until('2030-06-12T10:00:00Z', night, MADRID)).toBeUndefined();
  });

  it('reads the window on the agency clock, not UTC', () => {
    // 22:30 UTC is 00:30 in Madrid and 22:30 in UTC (both quiet, ending at different instants), 18:30 in New York.
    expect(until('2030-06-12T22:30:00Z', night, MADRID)).toBe('2030-06-13T05:00:00.000Z');
    expect(until('2030-06-12T22:30:00Z', night, 'UTC')).toBe('2030-06-13T07:00:00.000Z');
    expect(until('2030-06-12T22:30:00Z', night, NEW_YORK)).toBeUndefined();
  });
});

describe('quietUntil: a window within one day (13:00–15:00)', () => {
  const siesta = { from: '13:00', to: '15:00' };

  it('is quiet between them, until 15:00 that day', () => {
    expect(until('2030-06-12T12:00:00Z', siesta, MADRID)).toBe('2030-06-12T13:00:00.000Z');
  });

  it('is not quiet before, after, or at night', () => {
    expect(until('2030-06-12T10:59:00Z', siesta, MADRID)).toBeUndefined();
    expect(until('2030-06-12T13:00:00Z', siesta, MADRID)).toBeUndefined();
    expect(until('2030-06-12T23:00:00Z', siesta, MADRID)).toBeUndefined();
  });
});

describe('quietUntil across daylight-saving changes', () => {
  it('Madrid, spring forward (2030-03-31, 02:00 → 03:00): 22:00–07:00 ends at 07:00 summer time, after 8 hours', () => {
    // 23:30 CET on the 30th.
    const end = until('2030-03-30T22:30:00Z', { from: '22:00', to: '07:00' }, MADRID);
    expect(end).toBe('2030-03-31T05:00:00.000Z');
    expect(localTimeOf(new Date(end!), MADRID)).toBe('07:00');
  });

  it('Madrid, spring forward: a window ending at 02:30, which does not exist that night, ends when the clocks jump', () => {
    const end = until('2030-03-30T23:30:00Z', { from: '22:00', to: '02:30' }, MADRID);
    expect(end).toBe('2030-03-31T01:00:00.000Z');
    expect(localTimeOf(new Date(end!), MADRID)).toBe('03:00');
  });

  it('Madrid, spring forward: a window starting in the skipped hour starts when the clocks jump', () => {
    const window = { from: '02:15', to: '06:00' };
    expect(until('2030-03-31T00:59:59Z', window, MADRID)).toBeUndefined();
    expect(until('2030-03-31T01:00:00Z', window, MADRID)).toBe('2030-03-31T04:00:00.000Z');
  });

  it('Madrid, fall back (2030-10-27, 03:00 → 02:00): 22:00–07:00 ends at 07:00 winter time, after 10 hours', () => {
    expect(until('2030-10-26T20:00:00Z', { from: '22:00', to: '07:00' }, MADRID)).toBe(
      '2030-10-27T06:00:00.000Z',
    );
  });

  it('Madrid, fall back: a window ending at 02:30, which happens twice, ends at the first', () => {
    const window = { from: '22:00', to: '02:30' };
    expect(until('2030-10-26T22:00:00Z', window, MADRID)).toBe('2030-10-27T00:30:00.000Z');
    // 02:15 the second time round (01:15 UTC): the quiet hours ended at the first 02:30 and do not start again.
    expect(until('2030-10-27T01:15:00Z', window, MADRID)).toBeUndefined();
  });

  it('New York, spring forward (2030-03-10, 02:00 → 03:00): a window ending at 02:15 ends at 03:00 EDT', () => {
    const end = until('2030-03-10T06:30:00Z', { from: '01:00', to: '02:15' }, NEW_YORK);
    expect(end).toBe('2030-03-10T07:00:00.000Z');
    expect(localTimeOf(new Date(end!), NEW_YORK)).toBe('03:00');
  });

  it('New York, spring forward: 22:00–07:00 ends at 07:00 EDT', () => {
    expect(until('2030-03-10T03:00:00Z', { from: '22:00', to: '07:00' }, NEW_YORK)).toBe(
      '2030-03-10T11:00:00.000Z',
    );
  });

  it('New York, fall back (2030-11-03, 02:00 → 01:00): a window ending at 01:30 ends at the first 01:30 (EDT)', () => {
    const window = { from: '22:00', to: '01:30' };
    expect(until('2030-11-03T04:00:00Z', window, NEW_YORK)).toBe('2030-11-03T05:30:00.000Z');
    // 01:15 EST, the repeated hour: over already.
    expect(until('2030-11-03T06:15:00Z', window, NEW_YORK)).toBeUndefined();
  });

  it('New York, fall back: a window starting at 01:30 starts at the first 01:30 and ends at 07:00 EST', () => {
    const window = { from: '01:30', to: '07:00' };
    expect(until('2030-11-03T05:45:00Z', window, NEW_YORK)).toBe('2030-11-03T12:00:00.000Z');
    expect(until('2030-11-03T06:45:00Z', window, NEW_YORK)).toBe('2030-11-03T12:00:00.000Z');
  });
});

describe('quietUntil: properties', () => {
  const zones = fc.constantFrom(MADRID, NEW_YORK, 'UTC', 'Australia/Lord_Howe', 'Asia/Kolkata');
  const time = fc
    .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
    .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
  const window = fc
    .tuple(time, time)
    .filter(([from, to]) => from !== to)
    .map(([from, to]) => ({ from, to }));
  // 2029–2031: every daylight-saving change of the zones above, and plenty of ordinary days.
  const instant = fc
    .integer({ min: Date.UTC(2029, 0, 1), max: Date.UTC(2031, 11, 31) })
    .map((ms) => new Date(ms));

  it('ends after the instant, within a day and an hour, at `to` on the agency clock unless `to` did not exist then', () => {
    fc.assert(
      fc.property(instant, window, zones, (at, w, zone) => {
        const end = quietUntil(at, w, zone);
        if (!end) return;
        expect(end.getTime()).toBeGreaterThan(at.getTime());
        expect(end.getTime() - at.getTime()).toBeLessThanOrEqual(25 * 3600 * 1000);
        const local = localTimeOf(end, zone);
        if (local !== w.to) {
          // `to` fell in the hour the clocks skipped: the end is the jump itself, a moment later the clock reads later.
          const justBefore = localTimeOf(new Date(end.getTime() - 1000), zone);
          expect(justBefore < w.to && w.to < local).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is quiet at every moment up to the end, and not at the end', () => {
    fc.assert(
      fc.property(instant, window, zones, fc.double({ min: 0, max: 1, noNaN: true }), (at, w, zone, f) => {
        const end = quietUntil(at, w, zone);
        if (!end) return;
        const between = new Date(at.getTime() + Math.floor((end.getTime() - at.getTime()) * f * 0.999));
        expect(quietUntil(between, w, zone)?.getTime()).toBe(end.getTime());
        expect(quietUntil(end, w, zone)).toBeUndefined();
      }),
      { numRuns: 200 },
    );
  });

  it('away from a daylight-saving change, a window and its complement split the day: each instant is in one', () => {
    const offsetAt = (ms: number, zone: string) =>
      new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'longOffset' })
        .formatToParts(ms)
        .find((p) => p.type === 'timeZoneName')?.value;
    fc.assert(
      fc.property(instant, window, zones, (at, w, zone) => {
        const day = 26 * 3600 * 1000;
        fc.pre(offsetAt(at.getTime() - day, zone) === offsetAt(at.getTime() + day, zone));
        const inside = quietUntil(at, w, zone) !== undefined;
        const outside = quietUntil(at, { from: w.to, to: w.from }, zone) !== undefined;
        expect(inside).not.toBe(outside);
      }),
      { numRuns: 300 },
    );
  });
});

describe('isUrgent', () => {
  it.each([
    ['Immediate', 'Extreme', true],
    ['Immediate', 'Severe', true],
    ['Immediate', 'Moderate', false],
    ['Immediate', 'Minor', false],
    ['Immediate', 'Unknown', false],
    ['Expected', 'Extreme', false],
    ['Future', 'Severe', false],
    ['Past', 'Extreme', false],
    ['Unknown', 'Extreme', false],
  ] as const)('urgency %s and severity %s: urgent %s', (urgency, severity, urgent) => {
    expect(isUrgent({ urgency, severity })).toBe(urgent);
  });
});

describe('withQuietHours', () => {
  const resident: { id: string; updatedAt: string; quietHours?: QuietWindow } = {
    id: 's1',
    updatedAt: '2030-01-01T00:00:00.000Z',
  };

  it('sets, changes and clears the window, moving updatedAt', () => {
    // Act
    const set = withQuietHours(resident, { from: '22:00', to: '07:00' }, '2030-01-02T00:00:00.000Z');
    const changed = withQuietHours(set!, { from: '23:00', to: '07:00' }, '2030-01-03T00:00:00.000Z');
    const cleared = withQuietHours(changed!, null, '2030-01-04T00:00:00.000Z');

    // Assess
    expect(set).toEqual({
      ...resident,
      quietHours: { from: '22:00', to: '07:00' },
      updatedAt: '2030-01-02T00:00:00.000Z',
    });
    expect(changed?.quietHours).toEqual({ from: '23:00', to: '07:00' });
    expect(cleared).toEqual({ ...resident, updatedAt: '2030-01-04T00:00:00.000Z' });
    expect(cleared).not.toHaveProperty('quietHours');
  });

  it('answers undefined when nothing would change: nothing to write', () => {
    const set = { ...resident, quietHours: { from: '22:00', to: '07:00' } };
    expect(withQuietHours(set, { from: '22:00', to: '07:00' }, '2030-01-05T00:00:00.000Z')).toBeUndefined();
    expect(withQuietHours(resident, null, '2030-01-05T00:00:00.000Z')).toBeUndefined();
    expect(withQuietHours(resident, undefined, '2030-01-05T00:00:00.000Z')).toBeUndefined();
  });
});

describe('HERALD_TIME_ZONE', () => {
  it('is UTC unless set, and an IANA name in its canonical spelling when set', () => {
    expect(loadConfig({}).timeZone).toBe('UTC');
    expect(loadConfig({ HERALD_TIME_ZONE: 'Europe/Madrid' }).timeZone).toBe('Europe/Madrid');
    expect(loadConfig({ HERALD_TIME_ZONE: 'america/new_york' }).timeZone).toBe('America/New_York');
  });

  it.each(['Mars/Olympus_Mons', '+01:00', 'Madrid'])(
    'refuses %j at start-up, naming the variable',
    (zone) => {
      expect(() => loadConfig({ HERALD_TIME_ZONE: zone })).toThrow(
        /HERALD_TIME_ZONE must be an IANA time zone such as Europe\/Madrid/,
      );
    },
  );
});
