/**
 * Residents and media outlets in the single table (layout in table.ts). Dynalite has no transactions, so every
 * operation is a sequence of single-item writes ordered so that a crash between any two of them leaves the table in
 * a state the next reader or the next attempt copes with:
 *
 * - The address lock (`ADDR#…`) is written before the profile and removed before it: a lock without a profile is a
 *   crashed create (a later create of that address completes it), a profile is always findable by id, so deleting
 *   again finishes a crashed delete.
 * - Rosters may hold an id too many (after a crash: a stopped, moved or deleted subscriber), never one too few: a
 *   confirmed subscriber missing from a roster would silently miss alerts, an extra id costs one read. The sender
 *   reads every recipient back (getSubscribers, strongly consistent) and checks its status, audience and zones
 *   (subscriberReaches) before it sends, which is also how a STOP stored a moment ago wins over an alert already
 *   being planned; a deleted subscriber's leftover id finds no profile and gets nothing.
 * - The quiet-hours index (subscriber-index.ts) is kept exactly as the rosters are, in the same writes: it only feeds
 *   the preview's count of who would wait, and the sender decides from the profile it reads back.
 *
 * Audit (invariant 6): every create, save and delete appends one SubscriptionEvent (SUBAUDIT#<id>) right after the
 * write that decided it succeeded: the event never claims a change that did not happen. A crash between the two
 * loses that one event (a known gap: the API's `subscription.<action>` log line is written after both, so it is
 * lost too, and the subscriber's own item still shows the state and its consent). Writing it first, as "intended",
 * would instead leave events for changes that lost their race or never happened, which an auditor cannot tell apart.
 *
 * Pending sign-ups expire: a pending profile and its address lock carry the table's TTL (`expiresAt`, 24 h after
 * the last sign-up request), removed from the lock before the profile is saved confirmed (so a crash between them never leaves
 * a confirmed subscriber whose lock expires). When TTL removes the profile first, the lock left behind is one
 * whose profile is gone, which createSubscriber takes over; TTL then removes the lock too.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Audience, Challenge, Subscriber, SubscriberChannel } from '../../core/model';
import type { QuietWindow } from '../../core/quiet-hours';
import type { SubscriberZoneChange } from '../../core/reports';
import type {
  Page,
  SubscriberStore,
  SubscriptionChange,
  SubscriptionEvent,
  SubscriptionMethod,
} from '../../ports';
import { DynamoAuditLog } from './audit-log';
import {
  batchGetAll,
  batchWriteAll,
  conditionalWrite,
  type DynamoContext,
  type Item,
  inParallel,
  isConditionFailure,
  queryAll,
} from './context';
import {
  ADDRESS_LOCK_SK,
  addressLockPk,
  CHALLENGE_SK,
  challengePk,
  decodeCursor,
  GSI1,
  GSI2,
  pageOf,
  RATE_PREFIX,
  rosterPk,
  SUBSCRIBER_PREFIX,
  SUBSCRIBER_PROFILE_SK,
  SUBSCRIBERS_INDEX_PK,
  SUBSCRIPTION_AUDIT_INDEX_PK,
  SUBSCRIPTION_AUDIT_PREFIX,
  stripKeys,
  subscriberIndexSk,
  subscriberPk,
  subscribersByChannelIndexPk,
  subscriptionAuditIndexSk,
  subscriptionAuditPk,
  subscriptionAuditSk,
} from './keys';
import {
  entriesByKey,
  entryKey,
  INDEX_SET,
  type IndexEntry,
  indexEntries,
  readQuietMembers,
} from './subscriber-index';

/** Batch requests in flight at once during a bulk load. */
const BULK_CONCURRENCY = 4;
const RETRY_BASE_DELAY_MS = 20;
const RETRY_MAX_DELAY_MS = 500;
/**
 * A lock whose profile is still missing after this long belongs to a create that crashed between its two writes
 * (a live one writes the profile in the very next request); younger, it may be a create still under way.
 */
const LOCK_TAKEOVER_MS = 3_000;
const CREATE_MAX_ROUNDS = 20;
const DELETE_MAX_ROUNDS = 5;
/** A challenge outlives its expiry by this much, so a late answer hears "expired" rather than "no code". */
const CHALLENGE_KEPT_AFTER_EXPIRY_SECONDS = 3_600;
/** A rate counter outlives its window by this much (TTL deletion is lazy anyway). */
const RATE_KEPT_AFTER_WINDOW_SECONDS = 60;
/** A web sign-up never confirmed is removed (profile and lock) this long after it was made. */
export const PENDING_SIGNUP_TTL_SECONDS = 24 * 3600;
/** The actor of an event whose caller did not say who made the change (bulk loads, tests). */
const UNATTRIBUTED = 'unattributed';

const ROSTER_SET = INDEX_SET;
const LIST_BY_ALL = { index: GSI1, pk: 'GSI1PK', sk: 'GSI1SK' } as const;
const LIST_BY_CHANNEL = { index: GSI2, pk: 'GSI2PK', sk: 'GSI2SK' } as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const backoff = (round: number) => Math.min(RETRY_BASE_DELAY_MS * 2 ** round, RETRY_MAX_DELAY_MS);

export class DynamoSubscriberStore implements SubscriberStore {
  constructor(
    private readonly ctx: DynamoContext,
    /** Each SubscriptionEvent is also chained there, right after its own item (audit-log.ts). */
    private readonly auditLog: DynamoAuditLog = new DynamoAuditLog(ctx),
  ) {}

  async createSubscriber(
    subscriber: Subscriber,
    change?: SubscriptionChange,
  ): Promise<{ kind: 'created' } | { kind: 'exists'; subscriber: Subscriber }> {
    const lockKey = { PK: addressLockPk(subscriber.channel, subscriber.addressHash), SK: ADDRESS_LOCK_SK };
    const lockItem = () => ({ ...lockKey, ...lockAttributes(subscriber), lockedAt: Date.now() });
    const created = await this.lockAndCreate(subscriber, lockKey, lockItem);
    if (created.kind === 'created')
      await this.appendEvent(
        subscriber,
        change ?? changeOfCreate(subscriber),
        subscriber.updatedAt,
        zoneMove(undefined, subscriber),
      );
    return created;
  }

  private async lockAndCreate(
    subscriber: Subscriber,
    lockKey: { PK: string; SK: string },
    lockItem: () => Item,
  ): Promise<{ kind: 'created' } | { kind: 'exists'; subscriber: Subscriber }> {
    for (let round = 0; round < CREATE_MAX_ROUNDS; round++) {
      const locked = await conditionalWrite(
        this.ctx,
        new PutCommand({
          TableName: this.ctx.tableName,
          Item: lockItem(),
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      );
      if (locked) return this.writeNewProfile(subscriber);

      const lock = await this.getItem(lockKey);
      if (!lock) continue; // deleted since the write failed: take it this time
      const holder = await this.getSubscriber(lock.subscriberId as string);
      if (holder) return { kind: 'exists', subscriber: holder };
      // Our own earlier attempt (a retried create with the same id) that crashed before its profile.
      if (lock.subscriberId === subscriber.id) return this.writeNewProfile(subscriber);
      if (Date.now() - Number(lock.lockedAt ?? 0) < LOCK_TAKEOVER_MS) {
        await sleep(backoff(round));
        continue;
      }
      // A crashed create: take its lock over, unless someone else did first (then look again).
      const taken = await conditionalWrite(
        this.ctx,
        new PutCommand({
          TableName: this.ctx.tableName,
          Item: lockItem(),
          ConditionExpression: 'subscriberId = :holder AND lockedAt = :lockedAt',
          ExpressionAttributeValues: { ':holder': lock.subscriberId, ':lockedAt': lock.lockedAt ?? 0 },
        }),
      );
      if (taken) return this.writeNewProfile(subscriber);
    }
    throw new Error(`the address lock of subscriber ${subscriber.id} stayed contended; try again`);
  }

  async getSubscriber(id: string): Promise<Subscriber | undefined> {
    const item = await this.getItem({ PK: subscriberPk(id), SK: SUBSCRIBER_PROFILE_SK });
    return item ? toSubscriber(item) : undefined;
  }

  async findSubscriber(channel: SubscriberChannel, addressHash: string): Promise<Subscriber | undefined> {
    const lock = await this.getItem({ PK: addressLockPk(channel, addressHash), SK: ADDRESS_LOCK_SK });
    if (!lock) return undefined;
    const subscriber = await this.getSubscriber(lock.subscriberId as string);
    // A lock without its profile is a create that crashed half-way: nobody is subscribed yet.
    return subscriber?.channel === channel && subscriber.addressHash === addressHash ? subscriber : undefined;
  }

  async getSubscribers(ids: readonly string[]): Promise<Map<string, Subscriber>> {
    // BatchGetItem refuses a request that names one key twice.
    const keys = [...new Set(ids)].map((id) => ({ PK: subscriberPk(id), SK: SUBSCRIBER_PROFILE_SK }));
    const found = new Map<string, Subscriber>();
    for (const item of await batchGetAll(this.ctx, keys)) {
      const subscriber = toSubscriber(item);
      found.set(subscriber.id, subscriber);
    }
    return found;
  }

  /**
   * The order of writes, and why:
   * 1. ADD to the rosters the new version joins, before the profile says so: a crash after it leaves an extra id
   *    (the sender drops it: it reads every recipient back), never a confirmed subscriber missing.
   * 2. The profile, conditional on `updatedAt`: the decision. A STOP takes effect here, whatever the rosters say,
   *    because the sender reads the profile back before it sends. When the put fails (someone saved first), the
   *    places step 1 added are withdrawn again (see `withdraw`), so a lost race leaves no extra id behind.
   * 3. ADD again: another save may have started from our version and, late, removed a place we need (its removal
   *    computed from a version older than ours). Re-adding after our put closes that window for the writer...
   * 4. ...and DELETE from the rosters the new version left (STOP, a zone removed), only after the put: removing
   *    first would, if the put then failed, take a still-confirmed subscriber off its rosters.
   * A crash between 2 and 4 leaves the id on a roster it has left: for a STOP the sender's status check covers it;
   * for a zone removed the id stays on that roster (an id, no PII), and the sender drops it from an alert to that
   * zone (functions/core/roster.ts, subscriberReaches).
   */
  async saveSubscriber(
    next: Subscriber,
    expectedUpdatedAt: string,
    change?: SubscriptionChange,
  ): Promise<boolean> {
    const previous = await this.getSubscriber(next.id);
    if (!previous || previous.updatedAt !== expectedUpdatedAt) return false;
    if (previous.channel !== next.channel || previous.addressHash !== next.addressHash)
      throw new RangeError(
        `subscriber ${next.id}: the channel and address cannot change; make a new subscriber`,
      );

    // Rosters and, beside them, the quiet-hours index (subscriber-index.ts): the same items in the same order.
    const before = entriesByKey(indexEntries(previous));
    const after = entriesByKey(indexEntries(next));
    const joined = [...after].filter(([key]) => !before.has(key)).map(([, place]) => place);
    const left = [...before].filter(([key]) => !after.has(key)).map(([, place]) => place);

    await this.updateRosters('ADD', next.id, joined);
    // The lock's TTL moves before the profile's: a sign-up leaving `pending` keeps its lock for good, a renewed
    // one keeps it as long as its profile; a lock outliving its profile is harmless (taken over), the reverse not.
    if (previous.status === 'pending') await this.setLockExpiry(next);
    const saved = await conditionalWrite(
      this.ctx,
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: profileItem(next),
        ConditionExpression: 'attribute_exists(PK) AND #updatedAt = :expected',
        ExpressionAttributeNames: { '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: { ':expected': expectedUpdatedAt },
      }),
    );
    if (!saved) {
      await this.withdraw(next.id, joined, undefined);
      return false;
    }
    await this.appendEvent(
      next,
      change ?? changeOfSave(previous, next),
      next.updatedAt,
      zoneMove(previous, next),
    );
    await this.updateRosters('ADD', next.id, joined);
    await this.withdraw(next.id, left, next.updatedAt);
    return true;
  }

  /**
   * Takes an id off rosters, then reads the profile back: when a save other than `ours` is stored by then, the
   * places it needs among those just removed go back (that save may have added them before our DELETE landed). A
   * save stored after this read does its own ADD after its put (step 3 above), which lands after our DELETE.
   */
  private async withdraw(id: string, places: readonly IndexEntry[], ours: string | undefined): Promise<void> {
    if (places.length === 0) return;
    await this.updateRosters('DELETE', id, places);
    const current = await this.getSubscriber(id);
    if (!current || current.updatedAt === ours) return;
    const needed = entriesByKey(indexEntries(current));
    await this.updateRosters(
      'ADD',
      id,
      places.filter((place) => needed.has(entryKey(place))),
    );
  }

  /**
   * Rosters first (so no alert is planned for them), then the challenge and the address lock, the profile last:
   * the profile is what lets a retry find the rest, so a crash part-way is finished by deleting again. The delete of
   * the profile is conditional on the version whose rosters were cleared; a save in between means another round.
   */
  async deleteSubscriber(id: string, change?: SubscriptionChange): Promise<boolean> {
    for (let round = 0; round < DELETE_MAX_ROUNDS; round++) {
      const subscriber = await this.getSubscriber(id);
      if (!subscriber) return round > 0;
      await this.updateRosters('DELETE', id, indexEntries(subscriber));
      if (subscriber.channel !== 'webhook')
        await this.deleteChallenge(subscriber.channel, subscriber.addressHash);
      await conditionalDelete(
        this.ctx,
        new DeleteCommand({
          TableName: this.ctx.tableName,
          Key: { PK: addressLockPk(subscriber.channel, subscriber.addressHash), SK: ADDRESS_LOCK_SK },
          // Not a lock a newer subscriber of the same address holds.
          ConditionExpression: 'subscriberId = :id',
          ExpressionAttributeValues: { ':id': id },
        }),
      );
      const deleted = await conditionalDelete(
        this.ctx,
        new DeleteCommand({
          TableName: this.ctx.tableName,
          Key: { PK: subscriberPk(id), SK: SUBSCRIBER_PROFILE_SK },
          ConditionExpression: '#updatedAt = :seen',
          ExpressionAttributeNames: { '#updatedAt': 'updatedAt' },
          ExpressionAttributeValues: { ':seen': subscriber.updatedAt },
        }),
      );
      if (deleted) {
        await this.appendEvent(
          subscriber,
          change ?? changeOfDelete(subscriber),
          new Date().toISOString(),
          zoneMove(subscriber, undefined),
        );
        return true;
      }
    }
    throw new Error(`subscriber ${id} kept changing while it was being deleted`);
  }

  async listSubscribers(filter: {
    channel?: SubscriberChannel | undefined;
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<Subscriber>> {
    const { limit } = filter;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive whole number, got ${limit}`);
    const listing = filter.channel === undefined ? LIST_BY_ALL : LIST_BY_CHANNEL;
    const partition =
      filter.channel === undefined ? SUBSCRIBERS_INDEX_PK : subscribersByChannelIndexPk(filter.channel);
    const cursorKey = ['PK', 'SK', listing.pk, listing.sk] as const;
    const start =
      filter.cursor === undefined
        ? undefined
        : decodeCursor(filter.cursor, cursorKey, (key) => {
            const id = key.PK?.startsWith(SUBSCRIBER_PREFIX) ? key.PK.slice(SUBSCRIBER_PREFIX.length) : '';
            return (
              id.length > 0 &&
              key.SK === SUBSCRIBER_PROFILE_SK &&
              key[listing.pk] === partition &&
              (key[listing.sk]?.endsWith(`#${id}`) ?? false)
            );
          });
    // One more than asked tells whether another page exists without an empty last page.
    const { Items = [] } = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        IndexName: listing.index,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': listing.pk },
        ExpressionAttributeValues: { ':pk': partition },
        ScanIndexForward: true,
        Limit: limit + 1,
        ExclusiveStartKey: start,
      }),
    );
    return pageOf(Items, limit, cursorKey, toSubscriber);
  }

  /** One query of the roster's partition: its buckets, each a String Set of ids (a few 1 MB pages at most). */
  async rosterMembers(zone: string, channel: SubscriberChannel, audience: Audience): Promise<string[]> {
    const buckets = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': rosterPk(channel, audience, zone) },
      ProjectionExpression: '#ids',
      ExpressionAttributeNames: { '#ids': ROSTER_SET },
      ConsistentRead: true,
    });
    const members: string[] = [];
    for (const bucket of buckets) {
      const ids = bucket[ROSTER_SET] as Set<string> | undefined;
      if (ids) for (const id of ids) members.push(id);
    }
    return members;
  }

  async quietMembers(
    zone: string,
    channel: SubscriberChannel,
    audience: Audience,
  ): Promise<{ window: QuietWindow; ids: string[] }[]> {
    return readQuietMembers(this.ctx, zone, channel, audience);
  }

  async putChallenge(challenge: Challenge): Promise<void> {
    const expiresMs = Date.parse(challenge.expiresAt);
    if (!Number.isFinite(expiresMs))
      throw new RangeError(`expiresAt must be an ISO 8601 date-time, got "${challenge.expiresAt}"`);
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: {
          ...challenge,
          PK: challengePk(challenge.channel, challenge.addressHash),
          SK: CHALLENGE_SK,
          // The table's TTL attribute is epoch seconds; the challenge's own expiry is kept as written.
          expiresAt: Math.floor(expiresMs / 1000) + CHALLENGE_KEPT_AFTER_EXPIRY_SECONDS,
          [CHALLENGE_EXPIRES_AT]: challenge.expiresAt,
        },
      }),
    );
  }

  async getChallenge(channel: Challenge['channel'], addressHash: string): Promise<Challenge | undefined> {
    const item = await this.getItem({ PK: challengePk(channel, addressHash), SK: CHALLENGE_SK });
    if (!item) return undefined;
    return {
      channel: item.channel as Challenge['channel'],
      addressHash: item.addressHash as string,
      subscriberId: item.subscriberId as string,
      codeHash: item.codeHash as string,
      expiresAt: item[CHALLENGE_EXPIRES_AT] as string,
      triesLeft: item.triesLeft as number,
      createdAt: item.createdAt as string,
      ...(item.request ? { request: item.request as Challenge['request'] } : {}),
      ...(item.purpose ? { purpose: item.purpose as Challenge['purpose'] } : {}),
    };
  }

  async spendChallengeTry(channel: Challenge['channel'], addressHash: string): Promise<boolean> {
    return conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: challengePk(channel, addressHash), SK: CHALLENGE_SK },
        UpdateExpression: 'SET triesLeft = triesLeft - :one',
        ConditionExpression: 'attribute_exists(PK) AND triesLeft > :zero',
        ExpressionAttributeValues: { ':one': 1, ':zero': 0 },
      }),
    );
  }

  async deleteChallenge(channel: Challenge['channel'], addressHash: string): Promise<void> {
    await this.ctx.client.send(
      new DeleteCommand({
        TableName: this.ctx.tableName,
        Key: { PK: challengePk(channel, addressHash), SK: CHALLENGE_SK },
      }),
    );
  }

  async rateLimitHit(key: string, windowSeconds: number, limit: number, now: Date): Promise<boolean> {
    if (!Number.isSafeInteger(windowSeconds) || windowSeconds < 1)
      throw new RangeError(`windowSeconds must be a positive whole number, got ${windowSeconds}`);
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new RangeError(`limit must be a whole number, got ${limit}`);
    const nowSeconds = Math.floor(now.getTime() / 1000);
    if (!Number.isFinite(nowSeconds)) throw new RangeError('now must be a valid date');
    const windowStart = nowSeconds - (nowSeconds % windowSeconds);
    const { Attributes } = await this.ctx.client.send(
      new UpdateCommand({
        TableName: this.ctx.tableName,
        // Hashed once more: a key built from an address hash leaves nothing in the table a deletion must find.
        Key: {
          PK: `${RATE_PREFIX}${createHash('sha256').update(key).digest('base64url')}`,
          SK: String(windowStart),
        },
        UpdateExpression: 'ADD #count :one SET expiresAt = :expires',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':expires': windowStart + windowSeconds + RATE_KEPT_AFTER_WINDOW_SECONDS,
        },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes?.count) <= limit;
  }

  /**
   * Loads many new subscribers at once (tests, benchmarks, a migration into a new table): the address locks read
   * 100 at a time, profiles and locks written 25 at a time, and one ADD per roster bucket for all its new ids,
   * instead of three requests or more per subscriber. Addresses already locked (or repeated in the input) are
   * skipped and named, as createSubscriber would answer `exists`. Not for two loads of overlapping addresses
   * at once: between reading the locks and writing them there is no conditional write to stop the second.
   */
  async createSubscribers(
    subscribers: readonly Subscriber[],
  ): Promise<{ created: string[]; skipped: string[] }> {
    const lockKeyOf = (s: Subscriber) => ({
      PK: addressLockPk(s.channel, s.addressHash),
      SK: ADDRESS_LOCK_SK,
    });
    // BatchGetItem refuses a request that names one key twice: an address repeated in the input is read once.
    const lockKeys = [...new Map(subscribers.map((s) => [lockKeyOf(s).PK, lockKeyOf(s)])).values()];
    const locked = new Set((await batchGetAll(this.ctx, lockKeys)).map((item) => item.PK as string));
    const fresh: Subscriber[] = [];
    const skipped: string[] = [];
    for (const subscriber of subscribers) {
      const lock = lockKeyOf(subscriber).PK;
      if (locked.has(lock)) skipped.push(subscriber.id);
      else {
        locked.add(lock);
        fresh.push(subscriber);
      }
    }

    // Rosters first, as for one subscriber: an id ahead of its profile is dropped by the sender, never missed.
    const rosters = new Map<string, { place: IndexEntry; ids: Set<string> }>();
    for (const subscriber of fresh) {
      for (const place of indexEntries(subscriber)) {
        const key = entryKey(place);
        const entry = rosters.get(key) ?? { place, ids: new Set<string>() };
        entry.ids.add(subscriber.id);
        rosters.set(key, entry);
      }
    }
    await inParallel([...rosters.values()], BULK_CONCURRENCY, ({ place, ids }) =>
      this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: { PK: place.PK, SK: place.SK },
          UpdateExpression: 'ADD #ids :ids',
          ExpressionAttributeNames: { '#ids': ROSTER_SET },
          ExpressionAttributeValues: { ':ids': ids },
        }),
      ),
    );

    // Each subscriber's lock, profile and audit event in the same batch: a crash leaves whole triples or a lone lock,
    // which createSubscriber completes (a lone lock and profile may lack their event: the gap named at the top).
    const lockedAt = Date.now();
    const items = fresh.flatMap((s) => [
      { ...lockKeyOf(s), ...lockAttributes(s), lockedAt },
      profileItem(s),
      eventItem(eventOf(s, changeOfCreate(s), s.updatedAt), zoneMove(undefined, s)),
    ]);
    await batchWriteAll(
      this.ctx,
      items.map((item) => ({ PutRequest: { Item: item } })),
      BULK_CONCURRENCY,
    );
    // Chained after the batch that wrote their events: one new stream per subscriber, so the appends never meet.
    await inParallel(fresh, BULK_CONCURRENCY, (s) =>
      this.auditLog.append(
        { kind: 'subscriber', id: s.id },
        { ...eventOf(s, changeOfCreate(s), s.updatedAt) },
        { newStream: true },
      ),
    );
    return { created: fresh.map((s) => s.id), skipped };
  }

  async subscriberAudit(id: string): Promise<SubscriptionEvent[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': subscriptionAuditPk(id) },
      ConsistentRead: true,
    });
    return items.map(toEvent);
  }

  async listSubscriptionAudit(filter: {
    limit: number;
    cursor?: string | undefined;
  }): Promise<Page<SubscriptionEvent>> {
    const { limit } = filter;
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`limit must be a positive whole number, got ${limit}`);
    const cursorKey = ['PK', 'SK', 'GSI1PK', 'GSI1SK'] as const;
    const start =
      filter.cursor === undefined
        ? undefined
        : decodeCursor(
            filter.cursor,
            cursorKey,
            (key) =>
              (key.PK?.startsWith(SUBSCRIPTION_AUDIT_PREFIX) ?? false) &&
              key.GSI1PK === SUBSCRIPTION_AUDIT_INDEX_PK,
          );
    const { Items = [] } = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': SUBSCRIPTION_AUDIT_INDEX_PK },
        ScanIndexForward: false,
        Limit: limit + 1,
        ExclusiveStartKey: start,
      }),
    );
    return pageOf(Items, limit, cursorKey, toEvent);
  }

  // ---------------------------------------------------------------- internals

  /** Written after the change it records succeeded (see the top of this file for the crash gap). */
  private async appendEvent(
    subscriber: Subscriber,
    change: SubscriptionChange,
    at: string,
    zones: ZoneMove,
  ): Promise<void> {
    await this.ctx.client.send(
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: eventItem(eventOf(subscriber, change, at), zones),
      }),
    );
    await this.auditLog.append(
      { kind: 'subscriber', id: subscriber.id },
      { ...eventOf(subscriber, change, at) },
    );
  }

  /** Gives the address lock the profile's TTL, or none once it is not pending (only while it is this one's lock). */
  private async setLockExpiry(subscriber: Subscriber): Promise<void> {
    const expiresAt = pendingExpiry(subscriber);
    await conditionalWrite(
      this.ctx,
      new UpdateCommand({
        TableName: this.ctx.tableName,
        Key: { PK: addressLockPk(subscriber.channel, subscriber.addressHash), SK: ADDRESS_LOCK_SK },
        UpdateExpression: expiresAt === undefined ? 'REMOVE expiresAt' : 'SET expiresAt = :expires',
        ConditionExpression: 'subscriberId = :id',
        ExpressionAttributeValues: {
          ':id': subscriber.id,
          ...(expiresAt === undefined ? {} : { ':expires': expiresAt }),
        },
      }),
    );
  }

  /** Rosters first when confirmed (see saveSubscriber), then the profile, which must be new. */
  private async writeNewProfile(subscriber: Subscriber): Promise<{ kind: 'created' }> {
    await this.updateRosters('ADD', subscriber.id, indexEntries(subscriber));
    const written = await conditionalWrite(
      this.ctx,
      new PutCommand({
        TableName: this.ctx.tableName,
        Item: profileItem(subscriber),
        ConditionExpression: 'attribute_not_exists(PK)',
      }),
    );
    if (!written) throw new Error(`subscriber id ${subscriber.id} is already taken`);
    return { kind: 'created' };
  }

  /**
   * One UpdateItem per roster or quiet-hours bucket (ADD and DELETE on a String Set are atomic per item); a
   * subscriber's places are few.
   */
  private async updateRosters(
    action: 'ADD' | 'DELETE',
    id: string,
    places: readonly IndexEntry[],
  ): Promise<void> {
    await Promise.all(
      places.map((place) =>
        conditionalWrite(
          this.ctx,
          new UpdateCommand({
            TableName: this.ctx.tableName,
            Key: { PK: place.PK, SK: place.SK },
            UpdateExpression: `${action} #ids :ids`,
            // A DELETE from a bucket that does not exist would otherwise create it, empty.
            ...(action === 'DELETE' ? { ConditionExpression: 'attribute_exists(PK)' } : {}),
            ExpressionAttributeNames: { '#ids': ROSTER_SET },
            ExpressionAttributeValues: { ':ids': new Set([id]) },
          }),
        ),
      ),
    );
  }

  private async getItem(key: { PK: string; SK: string }): Promise<Item | undefined> {
    const { Item } = await this.ctx.client.send(
      new GetCommand({ TableName: this.ctx.tableName, Key: key, ConsistentRead: true }),
    );
    return Item;
  }
}

/** The challenge's own ISO expiry; `expiresAt` on the item is the table's TTL (epoch seconds). */
const CHALLENGE_EXPIRES_AT = 'challengeExpiresAt';

/** conditionalWrite for a DeleteItem: false when its condition did not hold. */
async function conditionalDelete(ctx: DynamoContext, command: DeleteCommand): Promise<boolean> {
  try {
    await ctx.client.send(command);
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Epoch seconds at which a pending sign-up's profile and lock expire (24 h after its last request, so asking for a
 * new code renews it); undefined once it is anything else.
 */
function pendingExpiry(subscriber: Subscriber): number | undefined {
  if (subscriber.status !== 'pending') return undefined;
  const requestedMs = Date.parse(subscriber.updatedAt);
  if (!Number.isFinite(requestedMs))
    throw new RangeError(`updatedAt must be an ISO 8601 date-time, got "${subscriber.updatedAt}"`);
  return Math.floor(requestedMs / 1000) + PENDING_SIGNUP_TTL_SECONDS;
}

function lockAttributes(subscriber: Subscriber): Item {
  const expiresAt = pendingExpiry(subscriber);
  return { subscriberId: subscriber.id, ...(expiresAt === undefined ? {} : { expiresAt }) };
}

function profileItem(subscriber: Subscriber): Item {
  const indexSk = subscriberIndexSk(subscriber.createdAt, subscriber.id);
  const expiresAt = pendingExpiry(subscriber);
  return {
    ...subscriber,
    // A put replaces the whole item: a profile saved confirmed (or stopped) loses the TTL.
    ...(expiresAt === undefined ? {} : { expiresAt }),
    PK: subscriberPk(subscriber.id),
    SK: SUBSCRIBER_PROFILE_SK,
    GSI1PK: SUBSCRIBERS_INDEX_PK,
    GSI1SK: indexSk,
    GSI2PK: subscribersByChannelIndexPk(subscriber.channel),
    GSI2SK: indexSk,
  };
}

function toSubscriber(item: Item): Subscriber {
  const { expiresAt: _ttl, ...rest } = item;
  return stripKeys<Subscriber>(rest);
}

// ---------------------------------------------------------------- audit

const methodOf = (s: Subscriber): SubscriptionMethod => s.consent?.method ?? 'officer';

/** What a create was, when the caller did not say: the subscriber's own consent names how and by whom. */
function changeOfCreate(s: Subscriber): SubscriptionChange {
  const actor = s.consent?.actor ?? UNATTRIBUTED;
  if (s.channel === 'webhook') return { action: 'webhook-created', actor, method: 'officer' };
  if (s.status === 'pending') return { action: 'requested', actor: 'resident', method: 'web' };
  const method = methodOf(s);
  return {
    action: method === 'import' ? 'imported' : method === 'officer' ? 'added' : 'confirmed',
    actor,
    method,
  };
}

function changeOfSave(previous: Subscriber, next: Subscriber): SubscriptionChange {
  const method = methodOf(next);
  const actor = next.consent?.actor ?? UNATTRIBUTED;
  if (next.status === 'stopped' && previous.status !== 'stopped')
    return { action: 'stopped', actor: UNATTRIBUTED, method };
  if (next.status === 'confirmed' && previous.status !== 'confirmed')
    return { action: previous.status === 'stopped' ? 'started' : 'confirmed', actor, method };
  return { action: 'changed', actor: UNATTRIBUTED, method };
}

const changeOfDelete = (s: Subscriber): SubscriptionChange => ({
  action: s.channel === 'webhook' ? 'webhook-deleted' : 'deleted',
  actor: UNATTRIBUTED,
  method: 'officer',
});

/** Only these fields: the event must hold nothing that identifies the person (no address, hash or mask). */
function eventOf(s: Subscriber, change: SubscriptionChange, at: string): SubscriptionEvent {
  return {
    at: change.at ?? at,
    action: change.action,
    actor: change.actor,
    method: change.method,
    subscriberId: s.id,
    channel: s.channel,
    ...(change.detail ? { detail: change.detail } : {}),
  };
}

/** Writes of one container in their order; with the wall clock it orders two events that share their `at`. */
let eventSerial = 0;

/**
 * The zones whose public rosters the subscriber was on before the change and is on after it (confirmed, public
 * audience; `*` for an outlet that follows every zone): what the reports count as subscribers gained and lost per
 * zone (functions/core/reports.ts). Kept on the event item beside the event, not in it: the audit's view of an event
 * stays what it was, and zone ids say nothing about who the person is.
 */
interface ZoneMove {
  zonesBefore: string[];
  zonesAfter: string[];
}

const publicRosterZones = (s: Subscriber | undefined): string[] =>
  s && s.status === 'confirmed' && s.audience === 'public' ? [...new Set(s.zones)].sort() : [];

function zoneMove(before: Subscriber | undefined, after: Subscriber | undefined): ZoneMove {
  return { zonesBefore: publicRosterZones(before), zonesAfter: publicRosterZones(after) };
}

/**
 * A stored event as the reports read it: undefined for one written before events carried their zones (the reports
 * cannot place it in a zone, and say so by leaving it out).
 */
export function zoneChangeOf(item: Item): SubscriberZoneChange | undefined {
  if (!Array.isArray(item.zonesBefore) || !Array.isArray(item.zonesAfter)) return undefined;
  return {
    at: item.at as string,
    subscriberId: item.subscriberId as string,
    channel: item.channel as SubscriberChannel,
    zonesBefore: item.zonesBefore as string[],
    zonesAfter: item.zonesAfter as string[],
  };
}

function eventItem(event: SubscriptionEvent, zones: ZoneMove): Item {
  // Sortable, then unique: events of one `at` (a test clock, one millisecond) list in the order they were written.
  eventSerial = (eventSerial + 1) % 1_000_000;
  const unique = `${String(Date.now()).padStart(15, '0')}.${String(eventSerial).padStart(6, '0')}.${randomUUID().slice(0, 8)}`;
  return {
    PK: subscriptionAuditPk(event.subscriberId),
    SK: subscriptionAuditSk(event.at, unique),
    GSI1PK: SUBSCRIPTION_AUDIT_INDEX_PK,
    GSI1SK: subscriptionAuditIndexSk(event.at, event.subscriberId, unique),
    ...event,
    ...zones,
  };
}

function toEvent(item: Item): SubscriptionEvent {
  return {
    at: item.at as string,
    action: item.action as SubscriptionEvent['action'],
    actor: item.actor as string,
    method: item.method as SubscriptionMethod,
    subscriberId: item.subscriberId as string,
    channel: item.channel as SubscriptionEvent['channel'],
    ...(typeof item.detail === 'string' ? { detail: item.detail } : {}),
  };
}
