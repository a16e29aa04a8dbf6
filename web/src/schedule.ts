/**
 * Scheduling, without the DOM (the fields are ./when-fields.ts): times said on the agency's clock ("Sunday 6 December
 * at 08:00") whatever zone the officer's browser is in, a step's time read back into the `datetime-local` form it was
 * typed in, what a draft says about when it goes out, and the order of an alert's timeline. The agency's zone is the
 * one GET /v1/zones names (HERALD_TIME_ZONE), as the compose form reads it for CAP's times.
 */
import { wallClockAsUtc } from '../../schemas/wall-clock';
import { call, type FieldError } from './api';
import type { Alert, VersionSummary } from './types';
import { browserTimeZone } from './wall-clock';

let zone: Promise<string> | undefined;

/**
 * The agency's time zone, read once per page load. If the API cannot say, the browser's own, so the console still
 * works; every time shown names the zone it is on, so a wrong clock cannot pass unnoticed.
 */
export function agencyTimeZone(): Promise<string> {
  zone ??= call<{ timeZone?: string }>('GET', '/v1/zones').then(
    ({ body }) => body.timeZone ?? browserTimeZone(),
    () => {
      // Asked again next time: one failed read must not pin the browser's zone for the whole session.
      zone = undefined;
      return browserTimeZone();
    },
  );
  return zone;
}

function parts(iso: string, timeZone: string, options: Intl.DateTimeFormatOptions) {
  return new Intl.DateTimeFormat('en-GB', { timeZone, ...options }).formatToParts(new Date(iso));
}

const valid = (iso: string) => !Number.isNaN(Date.parse(iso));
const yearOf = (instant: string, timeZone: string) =>
  parts(instant, timeZone, { year: 'numeric' }).find((p) => p.type === 'year')?.value;

/** "Sunday 6 December" on the agency's clock; the year too when it is not this year's (a step late in December). */
export function dayOf(iso: string, timeZone: string): string {
  if (!valid(iso)) return iso;
  const otherYear = yearOf(iso, timeZone) !== yearOf(new Date().toISOString(), timeZone);
  // From the parts, so the words read the same with a year as without ("Monday, 4 January 2027" otherwise).
  const p = parts(iso, timeZone, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(otherYear ? { year: 'numeric' } : {}),
  });
  return ['weekday', 'day', 'month', 'year']
    .map((type) => p.find((x) => x.type === type)?.value)
    .filter(Boolean)
    .join(' ');
}

/** "08:00" on the agency's clock. */
export function clockOf(iso: string, timeZone: string): string {
  if (!valid(iso)) return iso;
  return new Intl.DateTimeFormat('en-GB', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(new Date(iso));
}

/** "Sunday 6 December at 08:00". */
export const whenOf = (iso: string, timeZone: string): string =>
  `${dayOf(iso, timeZone)} at ${clockOf(iso, timeZone)}`;

/** An instant as a `datetime-local` value on the agency's clock, to prefill a step being edited. */
export function wallClockOf(iso: string, timeZone: string): string {
  if (!valid(iso)) return '';
  return new Date(wallClockAsUtc(Date.parse(iso), timeZone)).toISOString().slice(0, 16);
}

/**
 * "Schedule for" with no time: said beside the field before anything is sent, in words an officer uses (the API
 * would name the field too, but in terms of ISO 8601).
 */
export const MISSING_TIME: FieldError = {
  path: '/publishAt',
  message: 'give the date and time it goes out, or choose “Send now”',
};

/** A draft to preview: a time not given yet is left out, so the preview shows the rest rather than an error. */
export function forPreview<T extends { publishAt?: string }>(draft: T): T {
  if (draft.publishAt !== '') return draft;
  const { publishAt: _missing, ...rest } = draft;
  return rest as T;
}

/** What a preview or a confirmation says about when the version goes out. */
export function goesOutText(publishAt: string | undefined, timeZone: string): string {
  if (publishAt === undefined) return 'Goes out as soon as it is sent.';
  if (!valid(publishAt)) return 'Scheduled: give the date and time it goes out.';
  return `Scheduled: goes out on ${whenOf(publishAt, timeZone)} (${timeZone} time). Until then it is sent nowhere and is in no feed.`;
}

// ---------------------------------------------------------------- an alert's timeline

const WAITING: ReadonlySet<string> = new Set(['scheduled', 'pending-approval']);
const OUT: ReadonlySet<string> = new Set(['sent', 'dispatching']);

export const isWaiting = (v: VersionSummary): boolean => WAITING.has(v.state);

/** When a version goes (or went) out: its publishAt, else when it was sent. */
export const timeOf = (v: VersionSummary) => v.publishAt ?? v.sent;
export const inTimeOrder = (a: VersionSummary, b: VersionSummary) =>
  Date.parse(timeOf(a)) - Date.parse(timeOf(b)) || a.version - b.version;

/**
 * The version the public reads now: the last one out; before anything is out, the first to go. The alert's own
 * fields are its newest version's, which may be a step that waits.
 */
export function publicVersion(a: Alert): number {
  const steps = [...a.versions].sort(inTimeOrder);
  return (steps.filter((v) => OUT.has(v.state)).at(-1) ?? steps.find(isWaiting))?.version ?? a.version;
}

/** The timeline in one string: unchanged, nothing is redrawn, so a form being filled in stays as it is. */
export const timelineSignature = (a: Alert): string =>
  a.versions.map((v) => `${v.version}:${v.state}:${timeOf(v)}`).join(' ');
