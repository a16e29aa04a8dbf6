/**
 * Seeding many confirmed subscribers fast, for the fan-out benchmark and the 10,000-resident end-to-end test only.
 * The store's createSubscriber takes three single-item writes per subscriber and an encryption, safe under races
 * and crashes, which is what sign-ups need and what makes 100,000 of them take minutes. This writes the same items
 * (address lock, profile, roster buckets and the quiet-hours index beside them: the layout of
 * functions/adapters/dynamo/subscriber-store.ts, built from the same key functions) in bulk: profiles and locks 25 to
 * a BatchWriteItem, and each roster bucket's ids in one UpdateItem ADD. test/integration/dynamo-bulk.test.ts checks that the store reads them back as its own.
 * Nothing here runs in Herald itself.
 */
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  ADDRESS_LOCK_SK,
  addressLockPk,
  SUBSCRIBER_PROFILE_SK,
  SUBSCRIBERS_INDEX_PK,
  subscriberIndexSk,
  subscriberPk,
  subscribersByChannelIndexPk,
} from '../functions/adapters/dynamo/keys';
import { entryKey, indexEntries } from '../functions/adapters/dynamo/subscriber-index';
import type { Subscriber, SubscriberChannel } from '../functions/core/model';
import type { QuietWindow } from '../functions/core/quiet-hours';
import type { PiiCipher } from '../functions/ports';
import { newId } from '../functions/shared/ids';
import { maskRecipient } from '../functions/shared/mask';

const CONCURRENCY = 8;

async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Confirmed SMS subscribers of `zones`, phone numbers +3461nnnnnnn from `firstNumber`, every fourth in Spanish. */
export function makeSmsSubscribers(
  pii: PiiCipher,
  options: {
    count: number;
    zones: string[];
    firstNumber?: number;
    audience?: Subscriber['audience'];
    quietHoursOf?: (i: number) => QuietWindow | undefined;
  },
): Promise<Subscriber[]> {
  return makeSubscribers(pii, {
    ...options,
    channel: 'sms',
    addressOf: (i) => `+3461${String((options.firstNumber ?? 0) + i).padStart(7, '0')}`,
  });
}

/**
 * Confirmed subscribers of one channel: `addressOf(i)` each, every fourth in Spanish; media outlets (webhooks)
 * with a name and their own signing secret, as POST /v1/webhooks leaves them.
 */
export async function makeSubscribers(
  pii: PiiCipher,
  options: {
    channel: SubscriberChannel;
    count: number;
    zones: string[];
    addressOf: (i: number) => string;
    nameOf?: (i: number) => string;
    secretOf?: (i: number) => string;
    audience?: Subscriber['audience'];
    /** The resident's quiet hours, if any (functions/core/quiet-hours.ts). */
    quietHoursOf?: (i: number) => QuietWindow | undefined;
  },
): Promise<Subscriber[]> {
  const at = new Date().toISOString();
  const made: Subscriber[] = [];
  for (let i = 0; i < options.count; i++) {
    const address = options.addressOf(i);
    const quietHours = options.quietHoursOf?.(i);
    made.push({
      id: newId(),
      channel: options.channel,
      addressHash: await pii.hash(address),
      addressCipher: await pii.encrypt(address),
      addressMasked: maskRecipient(options.channel, address),
      zones: options.zones,
      language: i % 4 === 0 ? 'es' : 'en',
      status: 'confirmed',
      audience: options.audience ?? 'public',
      consent: { at, method: 'import', text: 'seeded for a benchmark', actor: 'bench' },
      ...(options.nameOf ? { name: options.nameOf(i) } : {}),
      ...(options.secretOf ? { secretCipher: await pii.encrypt(options.secretOf(i)) } : {}),
      ...(quietHours ? { quietHours } : {}),
      createdAt: at,
      updatedAt: at,
      confirmedAt: at,
    });
  }
  return made;
}

export async function seedSubscribers(
  db: { client: DynamoDBDocumentClient; tableName: string },
  subscribers: readonly Subscriber[],
): Promise<void> {
  const items = subscribers.flatMap((s) => {
    const indexSk = subscriberIndexSk(s.createdAt, s.id);
    return [
      { PK: addressLockPk(s.channel, s.addressHash), SK: ADDRESS_LOCK_SK, subscriberId: s.id, lockedAt: 0 },
      {
        ...s,
        PK: subscriberPk(s.id),
        SK: SUBSCRIBER_PROFILE_SK,
        GSI1PK: SUBSCRIBERS_INDEX_PK,
        GSI1SK: indexSk,
        GSI2PK: subscribersByChannelIndexPk(s.channel),
        GSI2SK: indexSk,
      },
    ];
  });
  const batches: (typeof items)[] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await inParallel(batches, CONCURRENCY, async (batch) => {
    let pending: unknown[] = batch.map((Item) => ({ PutRequest: { Item } }));
    while (pending.length > 0) {
      const out = await db.client.send(
        new BatchWriteCommand({ RequestItems: { [db.tableName]: pending as never } }),
      );
      pending = out.UnprocessedItems?.[db.tableName] ?? [];
    }
  });
  await writeIndexEntries(db, subscribers);
}

/** Roster buckets, and the quiet-hours index beside them, as the store keeps them (subscriber-index.ts). */
async function writeIndexEntries(
  db: { client: DynamoDBDocumentClient; tableName: string },
  subscribers: readonly Subscriber[],
): Promise<void> {
  const buckets = new Map<string, { PK: string; SK: string; ids: string[] }>();
  for (const s of subscribers)
    for (const entry of indexEntries(s)) {
      const key = entryKey(entry);
      const bucket = buckets.get(key) ?? { ...entry, ids: [] };
      bucket.ids.push(s.id);
      buckets.set(key, bucket);
    }
  await inParallel([...buckets.values()], CONCURRENCY, (bucket) =>
    db.client.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: { PK: bucket.PK, SK: bucket.SK },
        UpdateExpression: 'ADD #ids :ids',
        ExpressionAttributeNames: { '#ids': 'ids' },
        ExpressionAttributeValues: { ':ids': new Set(bucket.ids) },
      }),
    ),
  );
}

/**
 * Makes sure every seeded subscriber of `channel` is on the index items it belongs in, writing again (ADD is
 * idempotent) the entries of any the rosters miss; answers how many were missing. Under the write load of seeding
 * 100,000 at once, dynalite has been seen to drop one roster bucket's ADD now and then (the ids of one chunk in one
 * bucket): a benchmark that went on would wait for recipients its fan-out never planned.
 */
export async function repairRosters(
  db: { client: DynamoDBDocumentClient; tableName: string },
  rostered: ReadonlySet<string>,
  channel: SubscriberChannel,
): Promise<number> {
  const missing: Subscriber[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.client.send(
      new QueryCommand({
        TableName: db.tableName,
        IndexName: 'GSI2',
        KeyConditionExpression: 'GSI2PK = :pk',
        ExpressionAttributeValues: { ':pk': subscribersByChannelIndexPk(channel) },
        ProjectionExpression: 'id, channel, audience, #status, zones, quietHours',
        ExpressionAttributeNames: { '#status': 'status' },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) if (!rostered.has(String(item.id))) missing.push(item as Subscriber);
    start = page.LastEvaluatedKey;
  } while (start);
  await writeIndexEntries(db, missing);
  return missing.length;
}
