/**
 * The items a subscriber's id is listed in besides its profile: the rosters of its zones (the fan-out's input) and,
 * for a resident with quiet hours, the quiet-hours index beside them (the preview's input). Both follow one rule and
 * are written together by the subscriber store (subscriber-store.ts), so they are kept in step where rosters are:
 * added before the profile says so, removed after, an id too many after a crash, never one too few.
 */
import type { Audience, Subscriber, SubscriberChannel } from '../../core/model';
import { type QuietWindow, windowLabel } from '../../core/quiet-hours';
import { rosterPlaces } from '../../core/roster';
import { type DynamoContext, queryAll } from './context';
import { quietIndexPk, quietIndexSk, rosterBucketSk, rosterPk } from './keys';

/** One String Set item an id belongs in: a roster bucket, or a quiet-hours index bucket. */
export interface IndexEntry {
  PK: string;
  SK: string;
}

/** The attribute holding the ids, in roster buckets and quiet-hours buckets alike. */
export const INDEX_SET = 'ids';

/** Quiet hours apply to residents by SMS and email; webhooks are media outlets. */
const QUIET_CHANNELS: ReadonlySet<SubscriberChannel> = new Set(['sms', 'email']);

/** Every index item a subscriber belongs in now: none unless confirmed (rosterPlaces says so). */
export function indexEntries(
  subscriber: Pick<Subscriber, 'id' | 'channel' | 'audience' | 'status' | 'zones' | 'quietHours'>,
): IndexEntry[] {
  const places = rosterPlaces(subscriber);
  const entries = places.map((p) => ({
    PK: rosterPk(p.channel, p.audience, p.zone),
    SK: rosterBucketSk(subscriber.id),
  }));
  const quiet = subscriber.quietHours;
  if (quiet && QUIET_CHANNELS.has(subscriber.channel))
    for (const p of places)
      entries.push({
        PK: quietIndexPk(p.channel, p.audience, p.zone),
        SK: quietIndexSk(windowLabel(quiet), subscriber.id),
      });
  return entries;
}

export const entryKey = (entry: IndexEntry): string => `${entry.PK}|${entry.SK}`;

export const entriesByKey = (entries: readonly IndexEntry[]): Map<string, IndexEntry> =>
  new Map(entries.map((e) => [entryKey(e), e]));

/** The window an index item's sort key names (`22:00-07:00#B#17`). */
function windowOfSk(sk: string): QuietWindow | undefined {
  const match = /^(\d{2}:\d{2})-(\d{2}:\d{2})#/.exec(sk);
  return match ? { from: match[1]!, to: match[2]! } : undefined;
}

/** One query of a zone's quiet-hours partition: a few items per window, whatever the zone's size. */
export async function readQuietMembers(
  ctx: DynamoContext,
  zone: string,
  channel: SubscriberChannel,
  audience: Audience,
): Promise<{ window: QuietWindow; ids: string[] }[]> {
  const items = await queryAll(ctx, {
    KeyConditionExpression: 'PK = :pk',
    ExpressionAttributeValues: { ':pk': quietIndexPk(channel, audience, zone) },
    ProjectionExpression: 'SK, #ids',
    ExpressionAttributeNames: { '#ids': INDEX_SET },
    ConsistentRead: true,
  });
  const byWindow = new Map<string, { window: QuietWindow; ids: string[] }>();
  for (const item of items) {
    const window = windowOfSk(String(item.SK));
    const ids = item[INDEX_SET] as Set<string> | undefined;
    if (!window || !ids || ids.size === 0) continue;
    const key = windowLabel(window);
    const entry = byWindow.get(key) ?? { window, ids: [] };
    for (const id of ids) entry.ids.push(id);
    byWindow.set(key, entry);
  }
  return [...byWindow.values()];
}
