/**
 * Wall-clock arithmetic on an IANA time zone with Intl alone, shared by the server (residents' quiet hours,
 * functions/core/quiet-hours.ts) and the console (times typed on the agency's clock, web/src/wall-clock.ts).
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The wall-clock reading of an instant in `timeZone`, to the second, as milliseconds of that same reading taken as if
 * it were UTC: its difference from the instant is the zone's offset then. Throws a RangeError for an unknown zone.
 */
export function wallClockAsUtc(instantMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instantMs))
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
}
