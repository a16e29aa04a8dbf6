/**
 * An alert's times as the preview shows them to the officer before sending: each as CAP carries it and as residents
 * will read it, and what is worth a second look. Pure.
 */
import { capTime } from './cap';
import type { CapTimes } from './cap-times';
import { wordsFor } from './render/marks';
import { localTime, timesText } from './render/times';

/** Under this between going out and expiring, followers may never see an alert before it leaves the feeds. */
export const SHORT_LIFE_MS = 15 * 60 * 1000;

export interface PreviewTime {
  /** As CAP and the feeds carry it: UTC, "-00:00", whole seconds. */
  at: string;
  /** As residents read it: on the agency's clock, in the alert's language. */
  local: string;
}

export interface TimesPreview {
  timeZone: string;
  /** When the version goes out: its publishAt, or now. */
  sent: PreviewTime;
  effective?: PreviewTime;
  onset?: PreviewTime;
  expires?: PreviewTime;
  /** The line the email and the alert's page carry, absent when the alert gives no time. */
  text?: string;
}

const minutes = (ms: number) => Math.max(1, Math.round(ms / 60_000));

/**
 * The alert's times as the preview shows them, and what the officer should know about them before sending: an
 * expiry at or before the time it goes out (it would arrive expired, and never be in the feeds), or within
 * SHORT_LIFE_MS of it. The order of the times themselves is not here: the schema refuses a wrong one (400).
 */
export function previewTimes(
  content: CapTimes & { language: string },
  options: { sendsAt: Date; timeZone: string },
): { times: TimesPreview; warnings: string[] } {
  const { timeZone, sendsAt } = options;
  const shown = (iso: string): PreviewTime => ({
    at: capTime(iso),
    local: localTime(iso, timeZone, content.language),
  });
  const text = timesText(content, timeZone, content.language, wordsFor(content.language));
  const times: TimesPreview = {
    timeZone,
    sent: shown(sendsAt.toISOString()),
    ...(content.effective ? { effective: shown(content.effective) } : {}),
    ...(content.onset ? { onset: shown(content.onset) } : {}),
    ...(content.expires ? { expires: shown(content.expires) } : {}),
    ...(text ? { text } : {}),
  };
  const warnings: string[] = [];
  if (content.expires) {
    const life = Date.parse(content.expires) - sendsAt.getTime();
    const when = `${localTime(content.expires, timeZone, 'en')} (${timeZone})`;
    if (life <= 0)
      warnings.push(
        `expires at ${when}, before it goes out: it would arrive expired, and never be in the feeds`,
      );
    else if (life < SHORT_LIFE_MS)
      warnings.push(
        `expires ${minutes(life)} min after it goes out (at ${when}): followers may not see it before it leaves the feeds`,
      );
  }
  return { times, warnings };
}
