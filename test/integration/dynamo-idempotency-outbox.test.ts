import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../functions/adapters/dynamo/store';
import { countRequests } from '../../functions/adapters/request-counter';
import type { IdempotencyRecord } from '../../functions/core/model';
import type { OutboxItem } from '../../functions/ports';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';

let db: DynaliteStore;
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

const NOW = '2030-05-01T10:00:00.000Z';
const NOW_S = Date.parse(NOW) / 1000;

const idem = (overrides: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
  scope: 'officer-1:POST /v1/alerts',
  key: randomUUID(),
  requestHash: 'sha256:aaa',
  alertId: 'alert-1',
  state: 'started',
  lockedUntil: '2030-05-01T10:00:30.000Z',
  expiresAt: NOW_S + 86_400,
  ...overrides,
});

describe('idempotency', () => {
  it('starts a new key, then answers the stored record to a replay', async () => {
    const first = idem({ targetVersion: 1 });
    expect(await db.store.begin(first, NOW)).toEqual({ kind: 'started', record: first });
    const replay = await db.store.begin({ ...first, requestHash: 'sha256:bbb', alertId: 'alert-2' }, NOW);
    expect(replay).toEqual({ kind: 'existing', record: first });
  });

  it('keeps scopes apart', async () => {
    const a = idem();
    await db.store.begin(a, NOW);
    expect((await db.store.begin({ ...a, scope: 'officer-2:POST /v1/alerts' }, NOW)).kind).toBe('started');
  });

  it('returns the response once complete', async () => {
    const rec = idem();
    await db.store.begin(rec, NOW);
    const response = {
      statusCode: 201,
      headers: { etag: '"1"', location: '/v1/alerts/alert-1' },
      body: '{"id":"alert-1"}',
    };
    await db.store.complete(rec.scope, rec.key, response);
    expect(await db.store.begin(rec, NOW)).toEqual({
      kind: 'existing',
      record: { ...rec, state: 'done', response },
    });
  });

  it('treats a record past expiresAt as absent, though TTL has not deleted it yet', async () => {
    const old = idem({ expiresAt: NOW_S - 1 });
    await db.store.begin(old, '2030-04-30T10:00:00.000Z');
    const fresh = { ...old, requestHash: 'sha256:new', expiresAt: NOW_S + 100 };
    expect(await db.store.begin(fresh, NOW)).toEqual({ kind: 'started', record: fresh });
    expect(await db.store.begin({ ...fresh, requestHash: 'x' }, NOW)).toEqual({
      kind: 'existing',
      record: fresh,
    });
    // expiresAt equal to now is not yet expired.
    const edge = idem({ expiresAt: NOW_S });
    await db.store.begin(edge, '2030-04-30T10:00:00.000Z');
    expect((await db.store.begin(edge, NOW)).kind).toBe('existing');
  });

  it('does not complete a record that is not there', async () => {
    const rec = idem();
    await db.store.complete(rec.scope, rec.key, { statusCode: 201, headers: {}, body: '' });
    expect((await db.store.begin(rec, NOW)).kind).toBe('started');
  });
});

describe('outbox', () => {
  let own: DynaliteStore;
  const items: OutboxItem[] = [];
  beforeAll(async () => {
    own = await startDynaliteStore();
    // 30 items over two alerts and three channels, one second apart, appended out of order.
    for (let i = 0; i < 30; i++) {
      const at = new Date(Date.parse(NOW) + i * 1000).toISOString();
      items.push({
        channel: (['x', 'sms', 'email'] as const)[i % 3]!,
        alertId: i % 2 === 0 ? 'alert-even' : 'alert-odd',
        version: 1,
        recipient: i % 3 === 0 ? '@agency' : `r${i}`,
        text: `message ${i}`,
        providerMessageId: `pm-${i}`,
        ...(i === 3 ? { inReplyTo: 'pm-0', image: { url: 'https://img.example/a.png' } } : {}),
        at,
        idempotencyKey: `ik-${i}`,
      });
    }
    for (const item of [...items].reverse()) await own.store.append(item);
  });
  afterAll(async () => {
    await own?.close();
  });

  const newestFirst = (pick: (i: OutboxItem) => boolean) => items.filter(pick).reverse();

  it('lists newest first with the total', async () => {
    const page = await own.store.list({ limit: 5 });
    expect(page.items).toEqual(newestFirst(() => true).slice(0, 5));
    expect(page.total).toBe(30);
    expect(page.cursor).toEqual(expect.any(String));
  });

  it('walks every page with the cursor, without gaps or repeats, and ends without a cursor', async () => {
    const seen: OutboxItem[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await own.store.list({ limit: 7, cursor });
      expect(page.total).toBe(30);
      seen.push(...page.items);
      cursor = page.cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    expect(seen).toEqual(newestFirst(() => true));
  });

  it('filters by channel and alert, filling each page across query pages', async () => {
    const smsOdd = newestFirst((i) => i.channel === 'sms' && i.alertId === 'alert-odd');
    expect(smsOdd).toHaveLength(5);
    const first = await own.store.list({ channel: 'sms', alertId: 'alert-odd', limit: 3 });
    expect(first.items).toEqual(smsOdd.slice(0, 3));
    expect(first.total).toBe(5);
    const second = await own.store.list({
      channel: 'sms',
      alertId: 'alert-odd',
      limit: 3,
      cursor: first.cursor,
    });
    expect(second.items).toEqual(smsOdd.slice(3));
    expect(second.cursor).toBeUndefined();

    const x = await own.store.list({ channel: 'x', limit: 100 });
    expect(x.items).toEqual(newestFirst((i) => i.channel === 'x'));
    expect(x.total).toBe(10);
    expect(x.cursor).toBeUndefined();

    const even = await own.store.list({ alertId: 'alert-even', limit: 4 });
    expect(even.items).toEqual(newestFirst((i) => i.alertId === 'alert-even').slice(0, 4));
    expect(even.total).toBe(15);

    expect(await own.store.list({ alertId: 'nope', limit: 4 })).toEqual({
      items: [],
      total: 0,
      cursor: undefined,
    });
  });

  it('reads further query pages when the filter leaves the first one short', async () => {
    const sparse = await startDynaliteStore();
    try {
      // Two matches 140 items apart: more than one query page of non-matching items lies between them.
      for (let i = 0; i < 150; i++) {
        const at = new Date(Date.parse(NOW) + i * 1000).toISOString();
        const alertId = i === 2 || i === 142 ? 'needle' : 'hay';
        await sparse.store.append({
          ...items[0]!,
          alertId,
          at,
          providerMessageId: `pm-${i}`,
          idempotencyKey: `k${i}`,
        });
      }
      const counter = countRequests(sparse.client);
      const page = await sparse.store.list({ alertId: 'needle', limit: 2 });
      expect(page.items.map((i) => i.providerMessageId)).toEqual(['pm-142', 'pm-2']);
      expect(page.cursor).toBeUndefined();
      expect(page.total).toBe(2);
      // At least two pages for the items, and the count's own pages.
      expect(counter.byCommand().Query).toBeGreaterThanOrEqual(3);
    } finally {
      await sparse.close();
    }
  });

  it('finds an item by its idempotency key', async () => {
    expect(await own.store.findByIdempotencyKey('ik-3')).toEqual(items[3]);
    expect(await own.store.findByIdempotencyKey('ik-missing')).toBeUndefined();
  });

  it('rejects cursors it did not make', async () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    for (const cursor of [
      'garbage!',
      enc({ PK: 'ALERT#x', SK: '2030' }),
      enc({ PK: 'OUTBOX' }),
      enc({ PK: 'OUTBOX', SK: 'a', GSI1PK: 'b' }),
      enc({ PK: 'OUTBOX', SK: 1 }),
    ]) {
      await expect(own.store.list({ limit: 3, cursor }), cursor).rejects.toBeInstanceOf(InvalidCursorError);
    }
  });
});
