import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../functions/adapters/dynamo/store';
import { countRequests } from '../../functions/adapters/request-counter';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { head, newAlertId, version } from '../helpers/dynamo-fixtures';

let db: DynaliteStore;
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

const rawVersion = async (alertId: string, n: number) =>
  (
    await db.client.send(
      new GetCommand({
        TableName: db.tableName,
        Key: { PK: `ALERT#${alertId}`, SK: `V#${String(n).padStart(10, '0')}` },
      }),
    )
  ).Item;

describe('versions', () => {
  it('writes a version once and answers exists for the same number', async () => {
    const id = newAlertId();
    expect(await db.store.putVersion(version(id, 1))).toBe('created');
    expect(await db.store.putVersion(version(id, 1, { author: 'someone-else' }))).toBe('exists');
    const stored = await db.store.getVersion(id, 1);
    expect(stored).toEqual(JSON.parse(JSON.stringify(version(id, 1))));
    expect(stored).not.toHaveProperty('PK');
  });

  it('lets exactly one of two concurrent writers of the same number win', async () => {
    const id = newAlertId();
    for (let round = 0; round < 5; round++) {
      const n = round + 1;
      const results = await Promise.all([
        db.store.putVersion(version(id, n, { author: 'a' })),
        db.store.putVersion(version(id, n, { author: 'b' })),
        db.store.putVersion(version(id, n, { author: 'c' })),
      ]);
      expect(results.filter((r) => r === 'created')).toHaveLength(1);
      expect(results.filter((r) => r === 'exists')).toHaveLength(2);
    }
  });

  it('answers undefined for a version that is not there', async () => {
    expect(await db.store.getVersion(newAlertId(), 1)).toBeUndefined();
  });

  it('keeps a pending version in the unplanned index until it is planned', async () => {
    const id = newAlertId();
    await db.store.putVersion(version(id, 1, { releasedAt: '2030-05-01T10:00:00.000Z' }));
    expect(await rawVersion(id, 1)).toMatchObject({
      GSI2PK: 'UNPLANNED',
      GSI2SK: `2030-05-01T10:00:00.000Z#${id}#0000000001`,
    });

    await db.store.markPlanned(id, 1, 12, '2030-05-01T10:00:05.000Z');
    const planned = await db.store.getVersion(id, 1);
    expect(planned).toMatchObject({
      dispatchStatus: 'planned',
      plannedAt: '2030-05-01T10:00:05.000Z',
      receiptsPlanned: 12,
    });
    const raw = await rawVersion(id, 1);
    expect(raw).not.toHaveProperty('GSI2PK');
    expect(raw).not.toHaveProperty('GSI2SK');

    // A re-dispatch after a crash marks it again: still planned, the first time kept, the new count taken.
    await db.store.markPlanned(id, 1, 13, '2030-05-01T10:09:00.000Z');
    expect(await db.store.getVersion(id, 1)).toMatchObject({
      dispatchStatus: 'planned',
      plannedAt: '2030-05-01T10:00:05.000Z',
      receiptsPlanned: 13,
    });
  });

  it('does not index a held version, and approval releases it into the index', async () => {
    const id = newAlertId();
    await db.store.putVersion(
      version(id, 1, { dispatchStatus: 'held', releasedAt: undefined, approval: { required: true } }),
    );
    expect(await rawVersion(id, 1)).not.toHaveProperty('GSI2PK');

    const approval = {
      required: true,
      approvedBy: 'supervisor-1',
      approvedAt: '2030-05-01T10:05:00.000Z',
      note: 'ok',
    };
    expect(await db.store.approveVersion(id, 1, approval, '2030-05-01T10:05:00.000Z')).toBe('approved');
    expect(await db.store.getVersion(id, 1)).toMatchObject({
      dispatchStatus: 'pending',
      approval,
      releasedAt: '2030-05-01T10:05:00.000Z',
    });
    expect(await rawVersion(id, 1)).toMatchObject({
      GSI2PK: 'UNPLANNED',
      GSI2SK: `2030-05-01T10:05:00.000Z#${id}#0000000001`,
    });
    // A second approval (a double click, a second supervisor) finds nothing held.
    expect(await db.store.approveVersion(id, 1, approval, '2030-05-01T10:06:00.000Z')).toBe('not-held');
    expect(await db.store.getVersion(id, 1)).toMatchObject({ releasedAt: '2030-05-01T10:05:00.000Z' });
  });

  it('answers not-held for a missing version and leaves nothing behind', async () => {
    const id = newAlertId();
    expect(await db.store.approveVersion(id, 3, { required: true }, '2030-05-01T10:00:00.000Z')).toBe(
      'not-held',
    );
    expect(await db.store.getAlert(id)).toBeUndefined();
  });

  it('supersedes only a held version', async () => {
    const id = newAlertId();
    await db.store.putVersion(version(id, 1, { dispatchStatus: 'held', releasedAt: undefined }));
    await db.store.putVersion(version(id, 2, { dispatchStatus: 'pending' }));
    await db.store.supersedeVersion(id, 1);
    await db.store.supersedeVersion(id, 2);
    expect((await db.store.getVersion(id, 1))?.dispatchStatus).toBe('superseded');
    expect((await db.store.getVersion(id, 2))?.dispatchStatus).toBe('pending');
    // Superseded is final: approval no longer releases it.
    expect(await db.store.approveVersion(id, 1, { required: true }, '2030-05-01T11:00:00.000Z')).toBe(
      'not-held',
    );
  });

  it('never plans a held or superseded version', async () => {
    const id = newAlertId();
    await db.store.putVersion(version(id, 1, { dispatchStatus: 'held', releasedAt: undefined }));
    await db.store.markPlanned(id, 1, 4, '2030-05-01T10:00:00.000Z');
    expect(await db.store.getVersion(id, 1)).toMatchObject({ dispatchStatus: 'held' });
    expect(await db.store.getVersion(id, 1)).not.toHaveProperty('plannedAt');
    // Nor creates a version that is not there.
    await db.store.markPlanned(id, 9, 4, '2030-05-01T10:00:00.000Z');
    expect(await db.store.getVersion(id, 9)).toBeUndefined();
  });

  it('adds settled receipts up, and does not invent a version to count on', async () => {
    const id = newAlertId();
    await db.store.putVersion(version(id, 1));
    await db.store.countSettled(id, 1, 3);
    await db.store.countSettled(id, 1, 2);
    expect((await db.store.getVersion(id, 1))?.receiptsSettled).toBe(5);
    await db.store.countSettled(id, 2, 1);
    expect(await db.store.getVersion(id, 2)).toBeUndefined();
  });
});

describe('findUnplanned', () => {
  it('finds pending versions released before the bound, oldest first, and forgets them once planned', async () => {
    // Its own table: other tests leave pending versions behind in the shared index.
    const own = await startDynaliteStore();
    try {
      const [a, b, c] = [newAlertId(), newAlertId(), newAlertId()];
      await own.store.putVersion(version(a, 1, { releasedAt: '2030-05-01T10:00:00.000Z' }));
      await own.store.putVersion(version(b, 1, { releasedAt: '2030-05-01T10:01:00.000Z' }));
      await own.store.putVersion(version(b, 2, { releasedAt: '2030-05-01T10:02:00.000Z' }));
      await own.store.putVersion(version(c, 1, { releasedAt: '2030-05-01T10:03:00.000Z' }));
      await own.store.putVersion(
        version(c, 2, {
          dispatchStatus: 'held',
          releasedAt: undefined,
          createdAt: '2030-05-01T09:00:00.000Z',
        }),
      );

      expect(await own.store.findUnplanned('2030-05-01T10:02:00.000Z', 10)).toEqual([
        { alertId: a, version: 1 },
        { alertId: b, version: 1 },
      ]);
      expect(await own.store.findUnplanned('2030-05-01T10:02:00.001Z', 10)).toEqual([
        { alertId: a, version: 1 },
        { alertId: b, version: 1 },
        { alertId: b, version: 2 },
      ]);
      expect(await own.store.findUnplanned('2030-05-01T11:00:00.000Z', 2)).toEqual([
        { alertId: a, version: 1 },
        { alertId: b, version: 1 },
      ]);
      expect(await own.store.findUnplanned('2030-05-01T09:59:59.999Z', 10)).toEqual([]);

      await own.store.markPlanned(a, 1, 1, '2030-05-01T10:04:00.000Z');
      expect(await own.store.findUnplanned('2030-05-01T11:00:00.000Z', 10)).toEqual([
        { alertId: b, version: 1 },
        { alertId: b, version: 2 },
        { alertId: c, version: 1 },
      ]);

      await own.store.approveVersion(c, 2, { required: true, approvedBy: 's' }, '2030-05-01T10:30:00.000Z');
      expect(await own.store.findUnplanned('2030-05-01T11:00:00.000Z', 10)).toContainEqual({
        alertId: c,
        version: 2,
      });
    } finally {
      await own.close();
    }
  });
});

describe('heads and getAlert', () => {
  it('makes the first version the head, and moves it forward only', async () => {
    const id = newAlertId();
    expect(await db.store.putVersion(version(id, 1))).toBe('created');
    expect((await db.store.getAlert(id))?.head).toEqual(head(id));

    await db.store.advanceHead(id, 3, '2030-05-01T10:03:00.000Z');
    await db.store.advanceHead(id, 2, '2030-05-01T10:04:00.000Z');
    await db.store.advanceHead(id, 3, '2030-05-01T10:05:00.000Z');
    const alert = await db.store.getAlert(id);
    expect(alert?.head).toEqual(head(id, { latestVersion: 3, updatedAt: '2030-05-01T10:03:00.000Z' }));
    // The head's attributes stay on the item; the version read back is the version as written.
    expect(alert?.versions[0]).toEqual(version(id, 1));
    expect(await db.store.getVersion(id, 1)).toEqual(version(id, 1));
  });

  it('does not create a head by advancing one that is not there', async () => {
    const id = newAlertId();
    await db.store.advanceHead(id, 2, '2030-05-01T10:03:00.000Z');
    expect(await db.store.getAlert(id)).toBeUndefined();
  });

  it('returns the head and every version oldest first, across query pages', async () => {
    const id = newAlertId();
    // ~120 KB per version pushes the partition past DynamoDB's 1 MB page, so the read must follow the pages.
    const description = 'x'.repeat(7_900);
    const padding = Array.from({ length: 15 }, (_, i) => ({ language: `x${i}`, headline: 'h', description }));
    for (const n of [12, 3, 1, 10, 2, 11, 4, 5, 6, 7, 8, 9]) {
      const v = version(id, n);
      await db.store.putVersion({ ...v, content: { ...v.content, translations: padding } });
    }
    await db.store.advanceHead(id, 12, '2030-05-01T10:00:00.000Z');
    const counter = countRequests(db.client);
    const alert = await db.store.getAlert(id);
    expect(counter.byCommand().Query).toBeGreaterThan(1);
    expect(alert?.head?.latestVersion).toBe(12);
    expect(alert?.versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it('has no head where version 1 is missing', async () => {
    const id = newAlertId();
    await db.store.putVersion(version(id, 2));
    const alert = await db.store.getAlert(id);
    expect(alert?.head).toBeUndefined();
    expect(alert?.versions).toHaveLength(1);
  });

  it('answers undefined for an unknown alert', async () => {
    expect(await db.store.getAlert(newAlertId())).toBeUndefined();
  });
});

describe('listAlerts', () => {
  it('pages newest first with a cursor, skipping a head whose latest version is missing', async () => {
    const own = await startDynaliteStore();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const id = `alert-${i}`;
        ids.push(id);
        const createdAt = `2030-05-0${i + 1}T10:00:00.000Z`;
        await own.store.putVersion(version(id, 1, { createdAt }));
        // alert-4's head says version 2, which was never written: the list must not show it.
        if (i === 4) await own.store.advanceHead(id, 2, createdAt);
        if (i === 2) {
          await own.store.putVersion(version(id, 2, { createdAt }));
          await own.store.advanceHead(id, 2, createdAt);
        }
      }

      const first = await own.store.listAlerts({ limit: 3 });
      expect(first.items.map((i) => i.head.alertId)).toEqual(['alert-6', 'alert-5']);
      expect(first.cursor).toEqual(expect.any(String));

      const second = await own.store.listAlerts({ limit: 3, cursor: first.cursor });
      expect(second.items.map((i) => i.head.alertId)).toEqual(['alert-3', 'alert-2', 'alert-1']);
      expect(second.items.map((i) => i.latest.version)).toEqual([1, 2, 1]);
      expect(second.items[1]?.latest.content.headline).toBe('Missing child, version 2');
      expect(second.items[0]?.head).not.toHaveProperty('GSI1PK');

      const third = await own.store.listAlerts({ limit: 3, cursor: second.cursor });
      expect(third.items.map((i) => i.head.alertId)).toEqual(['alert-0']);
      expect(third.cursor).toBeUndefined();

      // A page that ends exactly at the last alert has no cursor: there is no empty page to fetch.
      const all = await own.store.listAlerts({ limit: 7 });
      expect(all.items).toHaveLength(6);
      expect(all.cursor).toBeUndefined();
    } finally {
      await own.close();
    }
  });

  it('answers an empty page when there are no alerts', async () => {
    const own = await startDynaliteStore();
    try {
      expect(await own.store.listAlerts({ limit: 5 })).toEqual({ items: [], cursor: undefined });
    } finally {
      await own.close();
    }
  });

  it('rejects cursors it did not make', async () => {
    const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const good = {
      PK: 'ALERT#a1',
      SK: 'V#0000000001',
      GSI1PK: 'ALERTS',
      GSI1SK: '2030-05-01T10:00:00.000Z#a1',
    };
    // The well-formed one is accepted (and finds nothing after it in this table).
    await expect(db.store.listAlerts({ limit: 2, cursor: enc(good) })).resolves.toBeDefined();
    const bad = [
      'not base64!',
      '',
      enc('just a string'),
      enc([good]),
      enc({ ...good, extra: 'x' }),
      enc({ PK: good.PK, SK: good.SK, GSI1PK: good.GSI1PK }),
      enc({ ...good, PK: 'RCPT#a1' }),
      enc({ ...good, SK: 'V#0000000002' }),
      enc({ ...good, SK: 'HEAD' }),
      enc({ ...good, GSI1PK: 'OUTBOXKEY#k' }),
      enc({ ...good, GSI1SK: '2030-05-01T10:00:00.000Z#other' }),
      enc({ ...good, GSI1SK: 7 }),
      `${enc(good)}$`,
      Buffer.from('{"PK":').toString('base64url'),
    ];
    for (const cursor of bad) {
      await expect(db.store.listAlerts({ limit: 2, cursor }), cursor).rejects.toBeInstanceOf(
        InvalidCursorError,
      );
    }
  });
});
