/**
 * CAP's three times of an alert, and the order they must keep: `effective` (from when the information applies),
 * `onset` (when the event itself begins) and `expires` (when the information stops applying). Pure: the draft schema
 * runs it on a new alert (schemas/alert.ts), and updates run it on the content merged from the patch, since an
 * update may move one time past another that it does not name.
 */
import type { FieldError } from '../../schemas/problem';

export interface CapTimes {
  effective?: string | undefined;
  onset?: string | undefined;
  expires?: string | undefined;
}

/**
 * An ISO date-time as whole seconds since the epoch. CAP carries whole seconds only (functions/core/cap.ts drops
 * the fraction), so times are compared as CAP will write them: two times that differ by less than a second are
 * the same time, and an order that holds here still holds in the CAP a receiver reads back.
 */
const seconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);

/**
 * What is wrong with the order of an alert's times, one entry per field at fault (`/expires`); empty when they are
 * in order or absent. Times that are not date-times are the schema's to refuse, not this check's. An onset before
 * effective is allowed: an event already under way when the alert starts to apply (a fire since 06:00, an alert
 * re-issued at 08:00) is common in real CAP. An alert that stops applying before it starts, or before its event
 * begins, is a mistake.
 */
export function timeProblems(times: CapTimes): FieldError[] {
  const problems: FieldError[] = [];
  const at = (iso: string | undefined) => (iso === undefined ? undefined : seconds(iso));
  const effective = at(times.effective);
  const onset = at(times.onset);
  const expires = at(times.expires);
  const known = (n: number | undefined): n is number => n !== undefined && Number.isFinite(n);
  if (known(expires) && known(effective) && expires <= effective)
    problems.push({ path: '/expires', message: `must be after effective (${times.effective})` });
  if (known(expires) && known(onset) && expires <= onset)
    problems.push({ path: '/expires', message: `must be after onset (${times.onset})` });
  return problems;
}
