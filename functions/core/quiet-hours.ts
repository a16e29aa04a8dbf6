/**
 * Residents' quiet hours, pure: reading `QUIET 22-07` and its other spellings, whether an instant falls inside a
 * resident's window on the agency's clock and when that window ends, and which alerts wake people anyway.
 *
 * Times are wall-clock times in the agency's time zone (HERALD_TIME_ZONE), computed with Intl only: an instant's
 * local time is read with Intl.DateTimeFormat, and a local time is turned back into an instant by trying the zone's
 * offsets on either side of it. Daylight saving makes two kinds of local time special:
 * - on a spring-forward night some local times do not exist (Madrid skips 02:00–02:59 in March): a window ending at
 *   02:30 ends at the first instant at or after it, the moment the clocks jump (03:00 local);
 * - on a fall-back night an hour happens twice (New York lives 01:00–01:59 twice in November): a window ending at
 *   01:30 ends at the first 01:30, and the repeated hour does not start the quiet hours over.
 * A window is a period from `from` to `to` starting on some local day: it crosses midnight when `from` is later than
 * `to` (22:00–07:00), and does not otherwise (13:00–15:00). `from` equal to `to` is refused: it is either no window
 * or a whole day, and neither is what anyone meant.
 */
import type { AlertContent } from '../../schemas/alert';
import { wallClockAsUtc } from '../../schemas/wall-clock';

/** A daily window, in 24-hour `HH:MM` on the agency's clock. */
export interface QuietWindow {
  from: string;
  to: string;
}

/**
 * What the policy calls urgent (api.md, "Time"): urgency `Immediate` and severity `Extreme` or `Severe`. Everything
 * else waits for the end of a resident's quiet hours.
 */
export function isUrgent(content: Pick<AlertContent, 'urgency' | 'severity'>): boolean {
  return content.urgency === 'Immediate' && (content.severity === 'Extreme' || content.severity === 'Severe');
}

// ---------------------------------------------------------------- reading windows

const HHMM = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes after local midnight of an `HH:MM` time. */
export function minutesOf(time: string): number {
  const match = HHMM.exec(time);
  if (!match) throw new RangeError(`a quiet-hours time must be HH:MM (00:00 to 23:59), got "${time}"`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** Why a window cannot be used, or undefined when it can. */
export function windowProblem(window: QuietWindow): string | undefined {
  if (!HHMM.test(window.from)) return 'from must be a time such as 22:00 (24-hour clock)';
  if (!HHMM.test(window.to)) return 'to must be a time such as 07:00 (24-hour clock)';
  if (window.from === window.to)
    return 'from and to must differ: the window would be empty, or the whole day';
  return undefined;
}

/** `22:00-07:00`: how a window is named in keys and replies (a hyphen: an SMS stays GSM-7). */
export const windowLabel = (window: QuietWindow): string => `${window.from}-${window.to}`;

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();

/** `22`, `7`, `07`, `22:30`, `22.30`, `22h`, `22h30`, `2230`, `10pm`, `7am`, `10:30 pm`. */
const TIME = String.raw`\d{1,2}(?:[:.h]?\d{2})?\s*(?:[ap]\.?m\.?|h)?`;
/** What may stand between the two times: a dash, or a word for "to" in the reply languages. */
const BETWEEN = String.raw`(?:\s*[-–—]\s*|\s+(?:to|till|until|a|hasta|fins(?:\s+a)?|al?)\s+|\s+)`;
const RANGE = new RegExp(`^(?:(?:from|de|desde|des\\s+de|entre)\\s+)?(${TIME})${BETWEEN}(${TIME})$`);
const ONE_TIME = /^(\d{1,2})(?:[:.h]?(\d{2}))?\s*([ap])?\.?(?:m\.?)?h?$/;
const OFF_WORDS = new Set([
  'off',
  'no',
  'none',
  'stop',
  'end',
  'desactivar',
  'quitar',
  'apagar',
  'treure',
  'cap',
]);

/** One typed time as `HH:MM`, or undefined when it is no time of day. */
function readTime(typed: string): string | undefined {
  const match = ONE_TIME.exec(typed.replace(/\s+/g, ''));
  if (!match) return undefined;
  let hour = Number(match[1]);
  const minute = match[2] === undefined ? 0 : Number(match[2]);
  const half = match[3];
  if (minute > 59) return undefined;
  if (half) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (half === 'p' ? 12 : 0);
  } else if (hour > 23) return undefined;
  return `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
}

export type QuietArguments =
  | { kind: 'set'; window: QuietWindow }
  | { kind: 'off' }
  /** Not a form QUIET takes: the reply explains the form, and nothing changes. */
  | { kind: 'invalid'; reason: string };

/**
 * What follows the QUIET keyword: two times (`22-07`, `22:00-07:30`, `10pm to 7am`, `de 22 a 7`) or OFF. Hours
 * alone are whole hours; a 24-hour clock unless am/pm says otherwise.
 */
export function parseQuietArguments(text: string): QuietArguments {
  const rest = fold(text).replace(/[\s,;.!?¡¿"'()]+$/u, '');
  if (rest === '') return { kind: 'invalid', reason: 'no times were given' };
  if (OFF_WORDS.has(rest)) return { kind: 'off' };
  const range = RANGE.exec(rest);
  if (!range) return { kind: 'invalid', reason: 'not two times' };
  const from = readTime(range[1]!);
  const to = readTime(range[2]!);
  if (!from || !to) return { kind: 'invalid', reason: 'not a time of day' };
  const window = { from, to };
  const problem = windowProblem(window);
  return problem ? { kind: 'invalid', reason: problem } : { kind: 'set', window };
}

// ---------------------------------------------------------------- the agency's clock

interface LocalDay {
  year: number;
  month: number;
  day: number;
}

const SECOND = 1000;
const DAY = 24 * 3600 * SECOND;

/** The local wall time of an instant, as milliseconds of the same wall time read as if it were UTC (whole seconds). */
const wallOf = wallClockAsUtc;

/** The zone's offset from UTC at an instant, in milliseconds. */
const offsetAt = (instantMs: number, timeZone: string) =>
  wallOf(instantMs, timeZone) - (instantMs - (((instantMs % SECOND) + SECOND) % SECOND));

function localDayOf(instantMs: number, timeZone: string): LocalDay {
  const wall = new Date(wallOf(instantMs, timeZone));
  return { year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() };
}

function addDays(day: LocalDay, days: number): LocalDay {
  const shifted = new Date(Date.UTC(day.year, day.month - 1, day.day + days));
  return { year: shifted.getUTCFullYear(), month: shifted.getUTCMonth() + 1, day: shifted.getUTCDate() };
}

/**
 * The instant a local day reaches `minutes` after its midnight: the first one when that local time happens twice
 * (fall back), the first instant after it when it does not happen at all (spring forward).
 */
function instantAt(day: LocalDay, minutes: number, timeZone: string): number {
  const wall = Date.UTC(day.year, day.month - 1, day.day, Math.floor(minutes / 60), minutes % 60);
  const before = offsetAt(wall - DAY, timeZone);
  const after = offsetAt(wall + DAY, timeZone);
  const candidates = [...new Set([before, offsetAt(wall, timeZone), after])]
    .map((offset) => wall - offset)
    .filter((instant) => wallOf(instant, timeZone) === wall)
    .sort((a, b) => a - b);
  if (candidates.length > 0) return candidates[0]!;
  // A local time the clocks skipped: the transition lies between the instant that reads it on the old offset (still
  // before it) and the one that reads it on the new offset (already past it). The first instant at or after it is the
  // transition itself, found to the second.
  let low = Math.min(wall - before, wall - after);
  let high = Math.max(wall - before, wall - after);
  while (high - low > SECOND) {
    const middle = low + Math.floor((high - low) / (2 * SECOND)) * SECOND;
    if (wallOf(middle, timeZone) >= wall) high = middle;
    else low = middle;
  }
  return high;
}

/**
 * When the quiet hours holding `at` end, or undefined when `at` is not in them. The window is read on the agency's
 * clock (`timeZone`, an IANA name): a period starts on a local day at `from` and ends at the next `to`, and `at` is
 * inside when it is at or after the start and before the end.
 */
export function quietUntil(at: Date, window: QuietWindow, timeZone: string): Date | undefined {
  const from = minutesOf(window.from);
  const to = minutesOf(window.to);
  if (from === to) throw new RangeError(`a quiet-hours window must not start and end at ${window.from}`);
  const instant = at.getTime();
  const today = localDayOf(instant, timeZone);
  // A period that holds `at` started on its local day or the day before (a window across midnight).
  for (const startDay of [addDays(today, -1), today]) {
    const start = instantAt(startDay, from, timeZone);
    const end = instantAt(from < to ? startDay : addDays(startDay, 1), to, timeZone);
    if (start <= instant && instant < end) return new Date(end);
  }
  return undefined;
}

/** `07:00` on the agency's clock: how an instant is named to a resident or an officer. */
export function localTimeOf(at: Date, timeZone: string): string {
  const wall = new Date(wallOf(at.getTime(), timeZone));
  return `${String(wall.getUTCHours()).padStart(2, '0')}:${String(wall.getUTCMinutes()).padStart(2, '0')}`;
}

// ---------------------------------------------------------------- a subscriber's window

/** How a change of quiet hours is named in the subscription audit (no personal data in it). */
export const quietDetail = (window: QuietWindow | null | undefined): string =>
  window ? `quiet hours ${windowLabel(window)}` : 'quiet hours cleared';

/**
 * The subscriber with these quiet hours (`undefined` or `null`: none), or undefined when they already have them:
 * nothing to write.
 */
export function withQuietHours<S extends { quietHours?: QuietWindow | undefined; updatedAt: string }>(
  subscriber: S,
  window: QuietWindow | null | undefined,
  now: string,
): S | undefined {
  const current = subscriber.quietHours;
  const same = window
    ? current?.from === window.from && current.to === window.to
    : current === undefined || current === null;
  if (same) return undefined;
  const { quietHours: _previous, ...rest } = subscriber;
  return (
    window
      ? { ...rest, quietHours: { from: window.from, to: window.to }, updatedAt: now }
      : {
          ...rest,
          updatedAt: now,
        }
  ) as S;
}
