import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError, ROSTER_BUCKETS } from '../../functions/adapters/dynamo/keys';
import type { DynamoSubscriberStore } from '../../functions/adapters/dynamo/subscriber-store';
import { LocalKeyCipher } from '../../functions/adapters/pii/local-key';
import { countRequests } from '../../functions/adapters/request-counter';
import type { Challenge, Subscriber } from '../../functions/core/model';
import { maskPhone } from '../../functions/shared/mask';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';

let db: DynaliteStore;
let store: DynamoSubscriberStore;
let pii: LocalKeyCipher;
beforeAll(async () => {
  db = await startDynaliteStore();
  store = db.subscribers;
  pii = await LocalKeyCipher.open(await mkdtemp(join(tmpdir(), 'herald-pii-')));
});
afterAll(async () => {
  await db?.close();
});

const T0 = '2030-05-01T10:00:00.000Z';
const T1 = '2030-05-01T10:01:00.000Z';
const T2 = '2030-05-01T10:02:00.000Z';

let phoneCounter = 0;
/** A resident with a real encrypted address: each call a new phone number. */
async function resident(overrides: Partial<Subscriber> = {}): Promise<Subscriber> {
  const phone = `+3461${String(1_000_000 + ++phoneCounter).padStart(7, '0')}`;
  return {
    id: randomUUID(),
    channel: 'sms',
    addressHash: await pii.hash(phone),
    addressCipher: await pii.encrypt(phone),
    addressMasked: maskPhone(phone),
    zones: ['downtown'],
    language: 'en',
    status: 'pending',
    audience: 'public',
    consent: { at: T0, method: 'web', text: 'Yes, send me alerts', actor: 'resident' },
    createdAt: T0,
    updatedAt: T0,
    ...overrides,
  };
}

/** A zone name of its own per test, so rosters do not mix across tests sharing the table. */
const zone = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

async function scanTable(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.client.send(new ScanCommand({ TableName: db.tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

describe('creating and finding subscribers', () => {
  it('creates a subscriber once per address and hands back the existing one after that', async () => {
    // Arrange
    const first = await resident();
    const again = {
      ...(await resident()),
      addressHash: first.addressHash,
      addressCipher: first.addressCipher,
    };

    // Act
    const created = await store.createSubscriber(first);
    const duplicate = await store.createSubscriber(again);

    // Assert
    expect(created).toEqual({ kind: 'created' });
    expect(duplicate).toEqual({ kind: 'exists', subscriber: first });
    expect(await store.getSubscriber(again.id)).toBeUndefined();
  });

  it('finds a subscriber by channel and address hash, and by id', async () => {
    const subscriber = await resident();
    await store.createSubscriber(subscriber);

    expect(await store.findSubscriber('sms', subscriber.addressHash)).toEqual(subscriber);
    expect(await store.findSubscriber('email', subscriber.addressHash)).toBeUndefined();
    expect(await store.getSubscriber(subscriber.id)).toEqual(subscriber);
  });

  it('lets exactly one of two simultaneous sign-ups for one address create it', async () => {
    const a = await resident();
    const b = { ...(await resident()), addressHash: a.addressHash };

    const results = await Promise.all([store.createSubscriber(a), store.createSubscriber(b)]);

    const created = results.filter((r) => r.kind === 'created');
    const existing = results.flatMap((r) => (r.kind === 'exists' ? [r.subscriber.id] : []));
    expect(created).toHaveLength(1);
    expect(existing).toHaveLength(1);
    const winner = (await store.findSubscriber('sms', a.addressHash))?.id;
    expect(existing[0]).toBe(winner);
    expect([await store.getSubscriber(a.id), await store.getSubscriber(b.id)].filter(Boolean)).toHaveLength(
      1,
    );
  });

  it('completes a sign-up whose earlier attempt crashed between the address lock and the profile', async () => {
    // Arrange: the lock of a create that never wrote its profile, long ago.
    const subscriber = await resident();
    await db.client.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          PK: `ADDR#sms#${subscriber.addressHash}`,
          SK: 'SUB',
          subscriberId: randomUUID(),
          lockedAt: 0,
        },
      }),
    );
    expect(await store.findSubscriber('sms', subscriber.addressHash)).toBeUndefined();

    // Act
    const result = await store.createSubscriber(subscriber);

    // Assert
    expect(result).toEqual({ kind: 'created' });
    expect(await store.findSubscriber('sms', subscriber.addressHash)).toEqual(subscriber);
  });
  it('waits for a sign-up still under way rather than taking its address over', async () => {
    // Arrange: another create has just locked the address and not yet written its profile.
    const first = await resident();
    const second = { ...(await resident()), addressHash: first.addressHash };
    await db.client.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          PK: `ADDR#sms#${first.addressHash}`,
          SK: 'SUB',
          subscriberId: first.id,
          lockedAt: Date.now(),
        },
      }),
    );

    // Act: the second sign-up arrives, then the first finishes (a retry of its create, same id).
    const racing = store.createSubscriber(second);
    await new Promise((resolve) => setTimeout(resolve, 150));
    const finished = await store.createSubscriber(first);

    // Assert
    expect(finished).toEqual({ kind: 'created' });
    expect(await racing).toEqual({ kind: 'exists', subscriber: first });
    expect(await store.getSubscriber(second.id)).toBeUndefined();
  });
});

describe('zone rosters', () => {
  it('puts a subscriber on its zone roster when confirmed and takes it off on STOP', async () => {
    // Arrange
    const downtown = zone('downtown');
    const subscriber = await resident({ zones: [downtown] });
    await store.createSubscriber(subscriber);
    expect(await store.rosterMembers(downtown, 'sms', 'public')).toEqual([]);

    // Act: confirm
    const confirmed: Subscriber = { ...subscriber, status: 'confirmed', confirmedAt: T1, updatedAt: T1 };
    expect(await store.saveSubscriber(confirmed, T0)).toBe(true);

    // Assert
    expect(await store.rosterMembers(downtown, 'sms', 'public')).toEqual([subscriber.id]);

    // Act: STOP
    const stopped: Subscriber = { ...confirmed, status: 'stopped', stoppedAt: T2, updatedAt: T2 };
    expect(await store.saveSubscriber(stopped, T1)).toBe(true);

    // Assert
    expect(await store.rosterMembers(downtown, 'sms', 'public')).toEqual([]);
    expect((await store.getSubscriber(subscriber.id))?.status).toBe('stopped');
  });

  it('follows a change of zones: off the zone left, on the zone joined, still on the zone kept', async () => {
    const [north, south, east] = [zone('north'), zone('south'), zone('east')];
    const subscriber = await resident({ zones: [north, south], status: 'confirmed' });
    await store.createSubscriber(subscriber);

    const moved = { ...subscriber, zones: [south, east], updatedAt: T1 };
    expect(await store.saveSubscriber(moved, T0)).toBe(true);

    expect(await store.rosterMembers(north, 'sms', 'public')).toEqual([]);
    expect(await store.rosterMembers(south, 'sms', 'public')).toEqual([subscriber.id]);
    expect(await store.rosterMembers(east, 'sms', 'public')).toEqual([subscriber.id]);
  });

  it('keeps the test audience, each channel and the every-zone roster apart', async () => {
    const harbour = zone('harbour');
    const tester = await resident({ zones: [harbour], status: 'confirmed', audience: 'test' });
    const media = await resident({ channel: 'email', zones: ['*'], status: 'confirmed' });
    const local = await resident({ zones: [harbour], status: 'confirmed' });
    for (const s of [tester, media, local]) await store.createSubscriber(s);

    expect(await store.rosterMembers(harbour, 'sms', 'test')).toEqual([tester.id]);
    expect(await store.rosterMembers(harbour, 'sms', 'public')).toEqual([local.id]);
    expect(await store.rosterMembers(harbour, 'email', 'public')).toEqual([]);
    expect(await store.rosterMembers('*', 'email', 'public')).toContain(media.id);
    expect(await store.rosterMembers('*', 'sms', 'public')).not.toContain(local.id);
  });

  it('refuses a save made from a stale version and leaves the stored one and its rosters alone', async () => {
    const park = zone('park');
    const subscriber = await resident({ zones: [park], status: 'confirmed' });
    await store.createSubscriber(subscriber);
    expect(await store.saveSubscriber({ ...subscriber, language: 'es', updatedAt: T1 }, T0)).toBe(true);

    const stale = await store.saveSubscriber({ ...subscriber, status: 'stopped', updatedAt: T2 }, T0);

    expect(stale).toBe(false);
    expect(await store.getSubscriber(subscriber.id)).toMatchObject({ status: 'confirmed', language: 'es' });
    expect(await store.rosterMembers(park, 'sms', 'public')).toEqual([subscriber.id]);
    expect(await store.saveSubscriber({ ...subscriber, updatedAt: T2 }, T0)).toBe(false);
    expect(await store.saveSubscriber({ ...(await resident()), updatedAt: T1 }, T0)).toBe(false);
  });

  it('keeps the rosters of the version stored when two saves race, and none of the zones of the save that lost', async () => {
    // Arrange
    const [home, east, west] = [zone('home'), zone('east'), zone('west')];
    const subscriber = await resident({ zones: [home], status: 'confirmed' });
    await store.createSubscriber(subscriber);

    // Act: two edits of the same version, each moving to another zone.
    const results = await Promise.all([
      store.saveSubscriber({ ...subscriber, zones: [east], updatedAt: T1 }, T0),
      store.saveSubscriber({ ...subscriber, zones: [west], updatedAt: T2 }, T0),
    ]);

    // Assert
    expect(results.filter(Boolean)).toHaveLength(1);
    const stored = await store.getSubscriber(subscriber.id);
    const [won, lost] = stored?.zones[0] === east ? [east, west] : [west, east];
    expect(stored?.zones).toEqual([won]);
    expect(await store.rosterMembers(won, 'sms', 'public')).toEqual([subscriber.id]);
    expect(await store.rosterMembers(lost, 'sms', 'public')).toEqual([]);
    expect(await store.rosterMembers(home, 'sms', 'public')).toEqual([]);
  });

  it('reads a roster of 2,000 subscribers spread over its buckets in one query', async () => {
    // Arrange
    const big = zone('big');
    const all = await Promise.all(
      Array.from({ length: 2_000 }, () => resident({ zones: [big], status: 'confirmed' })),
    );
    const ids = (await store.createSubscribers(all)).created;
    const counter = countRequests(db.client);

    // Act
    const members = await store.rosterMembers(big, 'sms', 'public');

    // Assert
    expect(members).toHaveLength(2_000);
    expect(new Set(members)).toEqual(new Set(ids));
    expect(counter.byCommand()).toEqual({ Query: 1 });
    const buckets = (await scanTable()).filter((item) => item.PK === `ROSTER#sms#public#${big}`);
    expect(buckets).toHaveLength(ROSTER_BUCKETS);
  }, 60_000);
});

describe('loading many subscribers at once', () => {
  it('creates them in batches, on their rosters, skipping addresses already taken or repeated', async () => {
    // Arrange
    const crowd = zone('crowd');
    const taken = await resident();
    await store.createSubscriber(taken);
    const fresh = await Promise.all(
      Array.from({ length: 1_500 }, () => resident({ zones: [crowd], status: 'confirmed' })),
    );
    const sameAddressAsTaken = { ...(await resident()), addressHash: taken.addressHash };
    const repeated = { ...(await resident()), addressHash: fresh[0]!.addressHash };
    const counter = countRequests(db.client);

    // Act
    const result = await store.createSubscribers([...fresh, sameAddressAsTaken, repeated]);
    const requests = counter.byCommand();

    // Assert
    expect(result.created).toEqual(fresh.map((s) => s.id));
    expect(result.skipped).toEqual([sameAddressAsTaken.id, repeated.id]);
    expect(new Set(await store.rosterMembers(crowd, 'sms', 'public'))).toEqual(new Set(result.created));
    expect(await store.findSubscriber('sms', fresh[1_499]!.addressHash)).toEqual(fresh[1_499]);
    expect(await store.findSubscriber('sms', taken.addressHash)).toEqual(taken);
    expect(await store.getSubscriber(repeated.id)).toBeUndefined();
    // 16 lock reads, 180 batch writes of 25 (a lock, a profile and an audit event each), one ADD per roster bucket,
    // and each new subscriber's audit chain started (one conditional UpdateItem each: adapters/dynamo/audit-log.ts).
    expect(requests).toEqual({
      BatchGetItem: 16,
      BatchWriteItem: 180,
      UpdateItem: ROSTER_BUCKETS + fresh.length,
    });
  }, 60_000);
});

describe('reading many subscribers at once', () => {
  it('reads more than 100 subscribers by id, leaving out unknown and repeated ids', async () => {
    const subscribers = await Promise.all(Array.from({ length: 230 }, () => resident()));
    await Promise.all(subscribers.map((s) => store.createSubscriber(s)));
    const unknown = randomUUID();

    const found = await store.getSubscribers([...subscribers.map((s) => s.id), unknown, subscribers[0]!.id]);

    expect(found.size).toBe(230);
    expect(found.has(unknown)).toBe(false);
    expect(found.get(subscribers[229]!.id)).toEqual(subscribers[229]);
    expect((await store.getSubscribers([])).size).toBe(0);
  });
});

describe('deleting a subscriber', () => {
  it('leaves no item holding its address hash, its encrypted address or its id', async () => {
    // Arrange: confirmed on two rosters, with a code waiting.
    const subscriber = await resident({ zones: [zone('a'), '*'], status: 'confirmed' });
    await store.createSubscriber(subscriber);
    await store.putChallenge({
      channel: 'sms',
      addressHash: subscriber.addressHash,
      subscriberId: subscriber.id,
      codeHash: 'code-hash',
      expiresAt: T1,
      triesLeft: 5,
      createdAt: T0,
    });
    const holdsIt = (item: Record<string, unknown>) => {
      const text = JSON.stringify(item, (_key, value) => (value instanceof Set ? [...value] : value));
      return [subscriber.addressHash, subscriber.addressCipher, subscriber.id].some((s) => text.includes(s));
    };
    expect((await scanTable()).filter(holdsIt).length).toBeGreaterThanOrEqual(5);

    // Act
    const deleted = await store.deleteSubscriber(subscriber.id);

    // Assert
    expect(deleted).toBe(true);
    // Only the audit trail still names the id (it holds no address, hash or cipher): it shows the subscriber
    // existed and was deleted.
    const left = (await scanTable()).filter(holdsIt);
    const trail = left.filter((item) => item.PK === `SUBAUDIT#${subscriber.id}`);
    expect(trail.map((item) => item.action).sort()).toEqual(['confirmed', 'deleted']);
    // Besides the trail, only its tamper-evident chain (the same events, hashed: adapters/dynamo/audit-log.ts).
    expect(
      left.every((item) =>
        [`SUBAUDIT#${subscriber.id}`, `AUDITLOG#subscriber#${subscriber.id}`].includes(String(item.PK)),
      ),
    ).toBe(true);
    expect(JSON.stringify(left)).not.toContain(subscriber.addressHash);
    expect(JSON.stringify(left)).not.toContain(subscriber.addressCipher);
    expect(await store.findSubscriber('sms', subscriber.addressHash)).toBeUndefined();
    expect(await store.deleteSubscriber(subscriber.id)).toBe(false);
  });

  it('frees the address for a new sign-up', async () => {
    const subscriber = await resident();
    await store.createSubscriber(subscriber);
    await store.deleteSubscriber(subscriber.id);

    const again = { ...(await resident()), addressHash: subscriber.addressHash };

    expect(await store.createSubscriber(again)).toEqual({ kind: 'created' });
  });
});

describe('listing subscribers', () => {
  it('pages through every subscriber of a channel oldest first with an opaque cursor', async () => {
    // Arrange: webhooks only here, so the channel's listing is this test's own.
    const hooks = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        resident({ channel: 'webhook', createdAt: `2030-01-01T00:00:0${i}.000Z`, name: `Outlet ${i}` }),
      ),
    );
    for (const hook of [...hooks].reverse()) await store.createSubscriber(hook);

    // Act
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listSubscribers({ channel: 'webhook', limit: 2, cursor });
      seen.push(...page.items.map((s) => s.id));
      cursor = page.cursor;
      pages++;
    } while (cursor);

    // Assert
    expect(seen).toEqual(hooks.map((h) => h.id));
    expect(pages).toBe(3);
    const everyone = await store.listSubscribers({ limit: 1000 });
    expect(everyone.items.map((s) => s.id)).toEqual(expect.arrayContaining(seen));
    expect(everyone.items.some((s) => s.channel === 'sms')).toBe(true);
  });

  it('refuses a cursor it did not make', async () => {
    const forged = Buffer.from(
      JSON.stringify({ PK: 'ALERT#x', SK: 'V#0000000001', GSI1PK: 'ALERTS', GSI1SK: '2030#x' }),
    ).toString('base64url');
    const otherChannel = (await store.listSubscribers({ channel: 'sms', limit: 1 })).cursor;

    await expect(store.listSubscribers({ limit: 2, cursor: forged })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    await expect(store.listSubscribers({ limit: 2, cursor: 'not a cursor' })).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
    expect(otherChannel).toBeDefined();
    await expect(
      store.listSubscribers({ channel: 'email', limit: 2, cursor: otherChannel }),
    ).rejects.toBeInstanceOf(InvalidCursorError);
  });
});

describe('double opt-in challenges', () => {
  const challenge = (addressHash: string): Challenge => ({
    channel: 'sms',
    addressHash,
    subscriberId: randomUUID(),
    codeHash: 'hash-of-123456',
    expiresAt: '2030-05-01T10:15:00.000Z',
    triesLeft: 5,
    createdAt: T0,
  });

  it('stores a challenge as given, its expiry also as the table TTL', async () => {
    const c = { ...challenge(randomUUID()), request: { zones: ['gracia'], language: 'es' } };

    await store.putChallenge(c);

    expect(await store.getChallenge('sms', c.addressHash)).toEqual(c);
    const { Item: item } = await db.client.send(
      new GetCommand({ TableName: db.tableName, Key: { PK: `CHAL#sms#${c.addressHash}`, SK: 'CODE' } }),
    );
    expect(item?.expiresAt).toBeGreaterThanOrEqual(Date.parse(c.expiresAt) / 1000);
  });

  it('spends tries until none is left, then refuses', async () => {
    const c = { ...challenge(randomUUID()), triesLeft: 3 };
    await store.putChallenge(c);

    const spent = [];
    for (let i = 0; i < 4; i++) spent.push(await store.spendChallengeTry('sms', c.addressHash));

    expect(spent).toEqual([true, true, true, false]);
    expect((await store.getChallenge('sms', c.addressHash))?.triesLeft).toBe(0);
  });

  it('answers false for a try on a challenge that is gone', async () => {
    const c = challenge(randomUUID());
    await store.putChallenge(c);
    await store.deleteChallenge('sms', c.addressHash);

    expect(await store.spendChallengeTry('sms', c.addressHash)).toBe(false);
    expect(await store.getChallenge('sms', c.addressHash)).toBeUndefined();
  });
});

describe('rate limits', () => {
  it('allows `limit` hits in a window, refuses the next, and starts again in the next window', async () => {
    const key = `signup:${randomUUID()}`;
    const start = new Date('2030-05-01T10:00:00.000Z');
    const later = new Date('2030-05-01T10:14:59.000Z');
    const nextWindow = new Date('2030-05-01T10:15:00.000Z');

    const hits = [];
    for (let i = 0; i < 3; i++) hits.push(await store.rateLimitHit(key, 900, 3, start));
    const fourth = await store.rateLimitHit(key, 900, 3, later);
    const afterWindow = await store.rateLimitHit(key, 900, 3, nextWindow);
    const otherKey = await store.rateLimitHit(`${key}-other`, 900, 3, later);

    expect(hits).toEqual([true, true, true]);
    expect(fourth).toBe(false);
    expect(afterWindow).toBe(true);
    expect(otherKey).toBe(true);
    const counters = (await scanTable()).filter((i) => String(i.PK).startsWith('RATE#'));
    expect(counters.some((i) => String(i.PK).includes(key))).toBe(false);
    expect(counters.every((i) => typeof i.expiresAt === 'number')).toBe(true);
  });
});
