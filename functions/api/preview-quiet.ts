/**
 * The preview's count of residents whose quiet hours would hold a draft back (POST /v1/alerts/preview,
 * `quietHours`): at the draft's publishAt if it has one, else now, on the agency's clock.
 *
 * Cheap for a zone of 100,000: the rosters the preview reads anyway (read once for both counts, see RosterReader),
 * and the small quiet-hours index kept beside them (functions/adapters/dynamo/subscriber-index.ts), a few items per
 * window, instead of every subscriber's profile. Like a roster the index may hold an id too many after a crash (a
 * resident who turned quiet hours off a moment before): the count is what the preview promises, an estimate; the
 * sender decides from each profile it reads.
 */
import { audienceKindOf, isSubscriberChannel, rosterZonesOf } from '../core/fanout';
import type { Audience, StoredVersion, SubscriberChannel } from '../core/model';
import { isUrgent, localTimeOf, quietUntil } from '../core/quiet-hours';
import type { SubscriberStore } from '../ports';
import type { HeraldConfig } from '../shared/config';

export interface QuietHoursPreview {
  /** The instant the count is for: the draft's publishAt, or now. */
  at: string;
  timeZone: string;
  /** Urgent (Immediate, and Extreme or Severe): nobody waits. */
  urgent: boolean;
  /** Subscribers of the draft's zones, by SMS and email, who would wait for the end of their quiet hours. */
  deferred: number;
  byChannel: Partial<Record<SubscriberChannel, number>>;
  /** When they would get it: each end of quiet hours (UTC, and on the agency's clock) and how many then. */
  until: { at: string; local: string; count: number }[];
  summary: string;
}

/** Roster reads shared by the preview's counts: each (zone, channel, audience) read once per request. */
export function rosterReader(subscribers: Pick<SubscriberStore, 'rosterMembers'>) {
  const read = new Map<string, Promise<string[]>>();
  return {
    rosterMembers(zone: string, channel: SubscriberChannel, audience: Audience): Promise<string[]> {
      const key = `${zone}#${channel}#${audience}`;
      let members = read.get(key);
      if (!members) {
        members = subscribers.rosterMembers(zone, channel, audience);
        read.set(key, members);
      }
      return members;
    },
  };
}

const QUIET_CHANNELS: readonly SubscriberChannel[] = ['sms', 'email'];

/** Undefined when the draft names neither SMS nor email: quiet hours concern nobody it reaches. */
export async function quietHoursPreview(
  deps: {
    subscribers: Pick<SubscriberStore, 'rosterMembers' | 'quietMembers'>;
    config: Pick<HeraldConfig, 'timeZone'>;
  },
  version: StoredVersion,
  at: Date,
): Promise<QuietHoursPreview | undefined> {
  const channels = version.content.channels.filter(
    (c): c is SubscriberChannel => isSubscriberChannel(c) && QUIET_CHANNELS.includes(c),
  );
  if (channels.length === 0) return undefined;
  const timeZone = deps.config.timeZone;
  const base = { at: at.toISOString(), timeZone };
  if (isUrgent(version.content))
    return {
      ...base,
      urgent: true,
      deferred: 0,
      byChannel: {},
      until: [],
      summary: 'Urgent (Immediate, and Extreme or Severe): it goes out at once, quiet hours or not.',
    };

  const audience = audienceKindOf(version);
  const zones = rosterZonesOf(version);
  const byChannel: Partial<Record<SubscriberChannel, number>> = {};
  const byEnd = new Map<string, number>();
  for (const channel of channels) {
    const members = new Set<string>();
    for (const zone of zones)
      for (const id of await deps.subscribers.rosterMembers(zone, channel, audience)) members.add(id);
    const counted = new Set<string>();
    for (const zone of zones)
      for (const { window, ids } of await deps.subscribers.quietMembers(zone, channel, audience)) {
        const end = quietUntil(at, window, timeZone);
        if (!end) continue;
        for (const id of ids) {
          // Once each, and only those the alert reaches (the roster says who is confirmed in these zones).
          if (counted.has(id) || !members.has(id)) continue;
          counted.add(id);
          byEnd.set(end.toISOString(), (byEnd.get(end.toISOString()) ?? 0) + 1);
        }
      }
    byChannel[channel] = counted.size;
  }
  const until = [...byEnd]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([end, count]) => ({ at: end, local: localTimeOf(new Date(end), timeZone), count }));
  const deferred = until.reduce((n, u) => n + u.count, 0);
  return {
    ...base,
    urgent: false,
    deferred,
    byChannel,
    until,
    summary:
      deferred === 0
        ? 'Nobody it reaches by SMS or email is in quiet hours then: it goes out at once.'
        : `${deferred.toLocaleString('en')} subscriber${deferred === 1 ? ' is' : 's are'} in quiet hours then and would get it when they end: ${until
            .map((u) => `${u.count.toLocaleString('en')} at ${u.local}`)
            .join(', ')} (${timeZone}).`,
  };
}
