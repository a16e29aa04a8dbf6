/**
 * An alert's times as residents read them: on the agency's clock (HERALD_TIME_ZONE), in the alert's language, to
 * the minute ("Sun, Dec 6, 08:00 – 14:00"). The email, the alert's page and the preview all say them this way, so
 * what the officer previews is what residents read.
 *
 * Without a zone name: residents read their own clock, and a name ("GMT+1", "CET") is noise to them; the preview
 * names the zone beside the text for the officer.
 */
import type { AlertContent } from '../../../schemas/alert';
import type { Words } from './marks';

const FORMAT: Intl.DateTimeFormatOptions = {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
};

/** A formatter for the language, falling back to English for a tag the runtime's ICU does not know. */
function formatter(language: string, timeZone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat(language, { ...FORMAT, timeZone });
  } catch {
    return new Intl.DateTimeFormat('en', { ...FORMAT, timeZone });
  }
}

/** One moment on the agency's clock: "Sun, Dec 6, 08:00". */
export function localTime(iso: string, timeZone: string, language: string): string {
  return formatter(language, timeZone).format(new Date(iso));
}

/**
 * When the alert applies, in one line, or undefined when it gives no time: from its onset (else its effective time)
 * until it expires; a range shows the day once when both ends fall on it ("Sun, Dec 6, 08:00 – 14:00").
 */
export function timesText(
  content: Pick<AlertContent, 'effective' | 'onset' | 'expires'>,
  timeZone: string,
  language: string,
  words: Pick<Words, 'from' | 'until'>,
): string | undefined {
  const start = content.onset ?? content.effective;
  const end = content.expires;
  const format = formatter(language, timeZone);
  const from = start ? `${words.from} ${format.format(new Date(start))}` : undefined;
  const until = end ? `${words.until} ${format.format(new Date(end))}` : undefined;
  // The schema keeps expires after the start; a range the other way round would throw, so it is said in two parts.
  if (start && end && Date.parse(start) < Date.parse(end))
    return format.formatRange(new Date(start), new Date(end));
  return [from, until].filter(Boolean).join(' · ') || undefined;
}
