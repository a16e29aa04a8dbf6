/**
 * Which zone rosters a subscriber belongs on: the one rule the store keeps its rosters by and the sender re-checks
 * before it sends (a roster may hold a stale id after a crash or a lost race, never miss a confirmed subscriber).
 */
import { ALL_ZONES, type Audience, type Subscriber, type SubscriberChannel } from './model';

export interface RosterPlace {
  channel: SubscriberChannel;
  audience: Audience;
  /** A zone id, or `*` for the roster of those who follow every zone. */
  zone: string;
}

/** On every roster of its zones while confirmed, on none otherwise. */
export function rosterPlaces(
  subscriber: Pick<Subscriber, 'channel' | 'audience' | 'status' | 'zones'>,
): RosterPlace[] {
  if (subscriber.status !== 'confirmed') return [];
  return [...new Set(subscriber.zones)].map((zone) => ({
    channel: subscriber.channel,
    audience: subscriber.audience,
    zone,
  }));
}

/**
 * Whether an alert to `zones` for `audience` reaches this subscriber now: what the sender asks of the subscriber it
 * just read (consistently), so a stale roster entry (stopped since, moved zone, deleted) sends nothing.
 */
export function subscriberReaches(
  subscriber: Pick<Subscriber, 'audience' | 'status' | 'zones'>,
  alert: { audience: Audience; zones: readonly string[] },
): boolean {
  if (subscriber.status !== 'confirmed' || subscriber.audience !== alert.audience) return false;
  return subscriber.zones.some((zone) => zone === ALL_ZONES || alert.zones.includes(zone));
}
