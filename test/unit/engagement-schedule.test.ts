/** The engagement poller's decaying schedule (functions/impact/model.ts), whose read count the README's cost uses. */
import { describe, expect, it } from 'vitest';
import {
  addCounts,
  ENGAGEMENT_WINDOW_MS,
  nextPollAt,
  pollIntervalFor,
  readsPerPost,
  SCHEDULE_SLACK_MS,
} from '../../functions/impact/model';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('the engagement schedule', () => {
  it('reads every 10 minutes to 6 hours, hourly to 48 hours, every 6 hours to 7 days, then never', () => {
    expect(pollIntervalFor(0)).toBe(10 * MINUTE);
    expect(pollIntervalFor(6 * HOUR - 1)).toBe(10 * MINUTE);
    expect(pollIntervalFor(6 * HOUR)).toBe(HOUR);
    expect(pollIntervalFor(48 * HOUR - 1)).toBe(HOUR);
    expect(pollIntervalFor(48 * HOUR)).toBe(6 * HOUR);
    expect(pollIntervalFor(ENGAGEMENT_WINDOW_MS - 1)).toBe(6 * HOUR);
    expect(pollIntervalFor(ENGAGEMENT_WINDOW_MS)).toBeUndefined();
  });

  it('makes 99 reads of a post over its 7 days (the README states this figure)', () => {
    expect(readsPerPost()).toBe(1 + 36 + 42 + 20);
  });

  it('reads a post at once when first seen, then after its step (less a minute of drift), never after 7 days', () => {
    const sent = Date.parse('2030-05-01T10:00:00Z');
    expect(nextPollAt(sent, undefined, sent + 5 * MINUTE)).toBe(sent);
    expect(nextPollAt(sent, sent + 5 * MINUTE, sent + 10 * MINUTE)).toBe(
      sent + 15 * MINUTE - SCHEDULE_SLACK_MS,
    );
    expect(nextPollAt(sent, sent + 10 * HOUR, sent + 10 * HOUR + MINUTE)).toBe(
      sent + 11 * HOUR - SCHEDULE_SLACK_MS,
    );
    expect(nextPollAt(sent, sent + HOUR, sent + ENGAGEMENT_WINDOW_MS)).toBeUndefined();
  });

  it('sums counts field by field, leaving out what no post reported', () => {
    expect(addCounts({ likes: 2, reposts: 1 }, { likes: 3, replies: 4 })).toEqual({
      likes: 5,
      reposts: 1,
      replies: 4,
    });
    expect(addCounts({}, {})).toEqual({});
  });
});
