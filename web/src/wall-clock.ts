/**
 * CAP's times as the compose form reads them: an officer types a date and time on the agency's clock
 * (`datetime-local` has no zone of its own), and the API gets an ISO date-time with that clock's offset for that
 * day, daylight saving included, whatever zone the officer's own browser is set to. The agency's zone comes from
 * GET /v1/zones. No DOM here: the fields are ./times.ts.
 */

import { wallClockAsUtc } from '../../schemas/wall-clock';

/** CAP's three times, in the order CAP writes them; each is also the form field's id suffix and the API's name. */
export const TIME_FIELDS = [
  {
    name: 'effective',
    label: 'Effective from (optional)',
    hint: 'When the alert starts to apply. Empty: as soon as it goes out.',
  },
  { name: 'onset', label: 'Onset (optional)', hint: 'When the event itself begins, e.g. the road closes.' },
  {
    name: 'expires',
    label: 'Expires (optional)',
    hint: 'After this the alert leaves the public feeds and reads “expired”.',
  },
] as const;
export type TimeField = (typeof TIME_FIELDS)[number]['name'];

const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * `2026-12-06T08:00` on `timeZone`'s clock → `2026-12-06T08:00:00+01:00`; undefined for anything else (the API then
 * names the field). A time that a clock change skips (02:30 on the spring-forward night) becomes the instant an
 * hour later on the clock, as a clock that was never set forward would read it.
 */
export function wallClockToIso(value: string, timeZone: string): string | undefined {
  const m = WALL_CLOCK.exec(value.trim());
  if (!m) return undefined;
  const [y, mo, d, hh, mi, ss] = m.slice(1).map((part) => Number(part ?? 0)) as number[];
  const asUtc = Date.UTC(y!, mo! - 1, d!, hh!, mi!, ss!);
  if (Number.isNaN(asUtc)) return undefined;
  let instant: number;
  try {
    // The offset at a first guess, then at the instant it gives: the second differs only across a clock change.
    const first = asUtc - (wallClockAsUtc(asUtc, timeZone) - asUtc);
    instant = asUtc - (wallClockAsUtc(first, timeZone) - first);
  } catch {
    return undefined;
  }
  const wall = wallClockAsUtc(instant, timeZone);
  const offsetMinutes = Math.round((wall - instant) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const clock = new Date(wall).toISOString().slice(0, 19);
  return `${clock}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** The browser's own zone: used only until (or if never) the API names the agency's. */
export const browserTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

/** The draft's times from the form: ISO with the agency's offset, or the raw text for the API to name. */
export function readTimes(
  value: (id: string) => string,
  timeZone: string,
): Partial<Record<TimeField, string>> {
  const out: Partial<Record<TimeField, string>> = {};
  for (const { name } of TIME_FIELDS) {
    const raw = value(`f-${name}`);
    if (raw) out[name] = wallClockToIso(raw, timeZone) ?? raw;
  }
  return out;
}
