/**
 * Scheduled versions in the DynamoDB adapter, against dynalite: the SCHEDULED index a waiting version is kept in, the
 * conditional transitions out of it (approve, release, withdraw, supersede) and their races, and findScheduled's pages
 * and strict cursors. Listing tests get a table of their own: the SCHEDULED index is one partition per table.
 */
import { randomUUID } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../functions/adapters/dynamo/keys';
import { DynamoStore, InvalidCursorError } from '../../functions/adapters/dynamo/store';
import type { StoredVersion } from '../../functions/core/model';
import { ensureTable } from '../../local/dynalite';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { newAlertId, version } from '../helpers/dynamo-fixtures';

let db: DynaliteStore;
beforeAll(async () => {
  db = await startDynaliteStore();
});
afterAll(async () => {
  await db?.close();
});

/** A store on a table of its own on the same dynalite. */
async function freshStore(): Promise<DynamoStore> {
  const tableName = `herald-scheduled-${randomUUID()}`;
  await ensureTable(db.client, tableName);
  return new DynamoStore({ client: db.client, tableName });
}

const raw = async (alertId: string, n: number, tableName = db.tableName) =>
  (
    await db.client.send(
      new GetCommand({
        TableName: tableName,
        Key: { PK: `ALERT#${alertId}`, SK: `V#${String(n).padStart(10, '0')}` },
      }),
    )
  ).Item;

/** A version waiting for its time: scheduled (or held, with `dispatchStatus`), never released. */
function waiting(alertId: string, n: number, publishAt: string, changes: Partial<StoredVersion> = {}) {
  const { releasedAt: _none, ...v } = version(alertId, n, {
    dispatchStatus: 'scheduled',
    publishAt,
    ...changes,
  });
  return v as StoredVersion;
}

const T = '2030-05-01T14:00:00.000Z';
const LATER = '2030-05-01T15:00:00.000Z';
const NOW = '2030-05-01T14:00:30.000Z';
const approval = { required: true, approvedBy: 'supervisor-1', approvedAt: NOW };

describe('putVersion and the SCHEDULED index', () => {
  it.each<[string, Partial<StoredVersion>]>([
    ['scheduled', { dispatchStatus: 'scheduled' }],
    ['held for approval with a publishAt', { dispatchStatus: 'held', approval: { required: true } }],
  ])('indexes a %s version under SCHEDULED by its time', async (_name, changes) => {
    // Arrange
    const id = newAlertId();

    // Act
    await db.store.putVersion(waiting(id, 1, T, changes));

    // Assess
    expect(await raw(id, 1)).toMatchObject({ GSI2PK: 'SCHEDULED', GSI2SK: `${T}#${id}#0000000001` });
  });

  it.each<[string, Partial<StoredVersion>]>([
    ['held without a publishAt', { dispatchStatus: 'held', publishAt: undefined }],
    ['superseded', { dispatchStatus: 'superseded' }],
  ])('keeps a %s version out of every index', async (_name, changes) => {
    // Arrange
    const id = newAlertId();

    // Act
    await db.store.putVersion(waiting(id, 1, T, changes));

    // Assess
    expect(await raw(id, 1)).not.toHaveProperty('GSI2PK');
  });

  it('indexes a pending version with a publishAt as unplanned, not scheduled', async () => {
    // Arrange
    const id = newAlertId();

    // Act
    await db.store.putVersion(version(id, 1, { publishAt: T, releasedAt: NOW }));

    // Assess
    expect(await raw(id, 1)).toMatchObject({ GSI2PK: 'UNPLANNED', GSI2SK: `${NOW}#${id}#0000000001` });
  });

  it('reads a scheduled version back as it was written', async () => {
    // Arrange
    const id = newAlertId();
    const v = waiting(id, 2, T, { replaces: [1] });
    await db.store.putVersion(v);

    // Act
    const stored = await db.store.getVersion(id, 2);

    // Assess
    expect(stored).toEqual(JSON.parse(JSON.stringify(v)));
  });
});

describe('approveVersion', () => {
  it('approved before its time: scheduled, approval recorded, still in the SCHEDULED index, not released', async () => {
    // Arrange
    const id = newAlertId();
    await db.store.putVersion(waiting(id, 1, LATER, { dispatchStatus: 'held' }));

    // Act
    const result = await db.store.approveVersion(id, 1, approval, NOW, { publishAt: LATER });

    // Assess
    expect(result).toBe('approved');
    const stored = await db.store.getVersion(id, 1);
    expect(stored).toMatchObject({ dispatchStatus: 'scheduled', approval });
    expect(stored).not.toHaveProperty('releasedAt');
    expect(await raw(id, 1)).toMatchObject({ GSI2PK: 'SCHEDULED', GSI2SK: `${LATER}#${id}#0000000001` });
  });

  it('approved after its time (or without one): pending, released now, in the UNPLANNED index', async () => {
    // Arrange
    const id = newAlertId();
    await db.store.putVersion(waiting(id, 1, T, { dispatchStatus: 'held' }));

    // Act
    const result = await db.store.approveVersion(id, 1, approval, NOW);

    // Assess
    expect(result).toBe('approved');
    expect(await db.store.getVersion(id, 1)).toMatchObject({
      dispatchStatus: 'pending',
      releasedAt: NOW,
      approval,
    });
    expect(await raw(id, 1)).toMatchObject({ GSI2PK: 'UNPLANNED', GSI2SK: `${NOW}#${id}#0000000001` });
    expect(await db.store.findUnplanned('2030-05-01T14:01:00.000Z', 1000)).toContainEqual({
      alertId: id,
      version: 1,
    });
  });

  it.each<StoredVersion['dispatchStatus']>(['scheduled', 'withdrawn', 'superseded', 'pending'])(
    'answers not-held for a %s version and changes nothing',
    async (status) => {
      // Arrange
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, T, { dispatchStatus: status }));
      const before = await raw(id, 1);

      // Act
      const result = await db.store.approveVersion(id, 1, approval, NOW, { publishAt: LATER });

      // Assess
      expect(result).toBe('not-held');
      expect(await raw(id, 1)).toEqual(before);
    },
  );
});

describe('releaseScheduled, withdrawVersion, supersedeVersion', () => {
  it('releases a scheduled version once: pending, released at, moved to the UNPLANNED index', async () => {
    // Arrange
    const id = newAlertId();
    await db.store.putVersion(waiting(id, 1, T));

    // Act
    const first = await db.store.releaseScheduled(id, 1, NOW);
    const second = await db.store.releaseScheduled(id, 1, '2030-05-01T14:01:00.000Z');

    // Assess
    expect([first, second]).toEqual(['released', 'not-scheduled']);
    expect(await db.store.getVersion(id, 1)).toMatchObject({ dispatchStatus: 'pending', releasedAt: NOW });
    expect(await raw(id, 1)).toMatchObject({ GSI2PK: 'UNPLANNED', GSI2SK: `${NOW}#${id}#0000000001` });
  });

  it.each<StoredVersion['dispatchStatus']>(['held', 'withdrawn', 'superseded', 'pending', 'planned'])(
    'never releases a %s version',
    async (status) => {
      // Arrange
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, T, { dispatchStatus: status }));

      // Act
      const result = await db.store.releaseScheduled(id, 1, NOW);

      // Assess
      expect(result).toBe('not-scheduled');
      expect((await db.store.getVersion(id, 1))?.dispatchStatus).toBe(status);
    },
  );

  it('answers not-scheduled for a version that was never stored, and stores nothing', async () => {
    // Arrange
    const id = newAlertId();

    // Act
    const result = await db.store.releaseScheduled(id, 3, NOW);

    // Assess
    expect(result).toBe('not-scheduled');
    expect(await raw(id, 3)).toBeUndefined();
  });

  it.each<StoredVersion['dispatchStatus']>(['scheduled', 'held'])(
    'withdraws a %s version: who and when kept, out of the index',
    async (status) => {
      // Arrange
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, T, { dispatchStatus: status }));
      const by = { by: 'officer-2', at: NOW };

      // Act
      const first = await db.store.withdrawVersion(id, 1, by);
      const again = await db.store.withdrawVersion(id, 1, { by: 'officer-3', at: LATER });

      // Assess
      expect([first, again]).toEqual(['withdrawn', 'not-waiting']);
      expect(await db.store.getVersion(id, 1)).toMatchObject({ dispatchStatus: 'withdrawn', withdrawn: by });
      expect(await raw(id, 1)).not.toHaveProperty('GSI2PK');
      expect(await raw(id, 1)).not.toHaveProperty('GSI2SK');
    },
  );

  it('refuses to withdraw a version that went out', async () => {
    // Arrange
    const id = newAlertId();
    await db.store.putVersion(version(id, 1));

    // Act
    const result = await db.store.withdrawVersion(id, 1, { by: 'officer-2', at: NOW });

    // Assess
    expect(result).toBe('not-waiting');
    expect(await db.store.getVersion(id, 1)).toMatchObject({ dispatchStatus: 'pending' });
  });

  it.each<StoredVersion['dispatchStatus']>(['scheduled', 'held'])(
    'supersedes a %s version and takes it out of the index',
    async (status) => {
      // Arrange
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, T, { dispatchStatus: status }));

      // Act
      await db.store.supersedeVersion(id, 1);

      // Assess
      expect((await db.store.getVersion(id, 1))?.dispatchStatus).toBe('superseded');
      expect(await raw(id, 1)).not.toHaveProperty('GSI2PK');
    },
  );

  it.each<StoredVersion['dispatchStatus']>(['pending', 'planned', 'withdrawn'])(
    'leaves a %s version as it is when asked to supersede it',
    async (status) => {
      // Arrange
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, T, { dispatchStatus: status, releasedAt: T }));
      const before = await raw(id, 1);

      // Act
      await db.store.supersedeVersion(id, 1);

      // Assess
      expect(await raw(id, 1)).toEqual(before);
    },
  );
});

describe('races', () => {
  it('release, withdraw and supersede of one scheduled version: exactly one wins, every round', async () => {
    const winners = new Set<string>();
    for (let round = 0; round < 8; round++) {
      // Arrange
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, T));
      const racers = [
        () => db.store.releaseScheduled(id, 1, NOW),
        () => db.store.withdrawVersion(id, 1, { by: 'officer-2', at: NOW }),
        () => db.store.supersedeVersion(id, 1).then(() => 'tried' as const),
      ];
      const order = round % 2 === 0 ? racers : [...racers].reverse();

      // Act
      const results = await Promise.all(order.map((race) => race()));

      // Assess
      const status = (await db.store.getVersion(id, 1))?.dispatchStatus;
      const released = results.includes('released');
      const withdrawn = results.includes('withdrawn');
      expect(Number(released) + Number(withdrawn)).toBeLessThanOrEqual(1);
      expect(status).toBe(released ? 'pending' : withdrawn ? 'withdrawn' : 'superseded');
      if (status !== 'pending') expect(await raw(id, 1)).not.toHaveProperty('GSI2PK');
      winners.add(status ?? 'missing');
    }
    expect([...winners].every((w) => ['pending', 'withdrawn', 'superseded'].includes(w))).toBe(true);
  });

  it('two releasers (the timer and the sweeper) release a version once', async () => {
    for (let round = 0; round < 5; round++) {
      // Arrange
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, T));

      // Act
      const results = await Promise.all([
        db.store.releaseScheduled(id, 1, NOW),
        db.store.releaseScheduled(id, 1, NOW),
        db.store.releaseScheduled(id, 1, NOW),
      ]);

      // Assess
      expect(results.filter((r) => r === 'released')).toHaveLength(1);
    }
  });

  it('approval after its time and withdrawal of one held version: exactly one wins', async () => {
    for (let round = 0; round < 6; round++) {
      // Arrange
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, T, { dispatchStatus: 'held' }));
      const racers = [
        () => db.store.approveVersion(id, 1, approval, NOW),
        () => db.store.withdrawVersion(id, 1, { by: 'officer-2', at: NOW }),
      ];

      // Act
      const results = await Promise.all((round % 2 ? [...racers].reverse() : racers).map((race) => race()));

      // Assess
      const status = (await db.store.getVersion(id, 1))?.dispatchStatus;
      const won = results.filter((r) => r === 'approved' || r === 'withdrawn');
      expect(won).toHaveLength(1);
      expect(status).toBe(won[0] === 'approved' ? 'pending' : 'withdrawn');
    }
  });

  it('approval before its time and withdrawal: the step never stays scheduled once withdrawn', async () => {
    for (let round = 0; round < 6; round++) {
      // Arrange: approved, it still waits, so a withdrawal after it takes it off too.
      const id = newAlertId();
      await db.store.putVersion(waiting(id, 1, LATER, { dispatchStatus: 'held' }));

      // Act
      const [, withdrawn] = await Promise.all([
        db.store.approveVersion(id, 1, approval, NOW, { publishAt: LATER }),
        db.store.withdrawVersion(id, 1, { by: 'officer-2', at: NOW }),
      ]);

      // Assess
      expect(withdrawn).toBe('withdrawn');
      expect((await db.store.getVersion(id, 1))?.dispatchStatus).toBe('withdrawn');
      expect(await raw(id, 1)).not.toHaveProperty('GSI2PK');
    }
  });
});

describe('findScheduled', () => {
  it('lists waiting versions soonest first, with their status and time; with dueBy only those due by then', async () => {
    // Arrange
    const store = await freshStore();
    const [a, b] = [newAlertId(), newAlertId()];
    await store.putVersion(waiting(a, 1, LATER));
    await store.putVersion(waiting(b, 1, T, { dispatchStatus: 'held' }));
    await store.putVersion(waiting(a, 2, '2030-05-01T14:00:00.001Z'));
    await store.putVersion(version(b, 2));

    // Act
    const all = await store.findScheduled({ limit: 10 });
    const dueAtT = await store.findScheduled({ dueBy: T, limit: 10 });

    // Assess
    expect(all).toEqual({
      items: [
        { alertId: b, version: 1, at: T, dispatchStatus: 'held' },
        { alertId: a, version: 2, at: '2030-05-01T14:00:00.001Z', dispatchStatus: 'scheduled' },
        { alertId: a, version: 1, at: LATER, dispatchStatus: 'scheduled' },
      ],
      cursor: undefined,
    });
    expect(dueAtT.items.map((i) => [i.alertId, i.version])).toEqual([[b, 1]]);
  });

  it('drops a version from the listing once it is released, withdrawn or superseded', async () => {
    // Arrange
    const store = await freshStore();
    const id = newAlertId();
    for (let n = 1; n <= 4; n++) await store.putVersion(waiting(id, n, T));
    await store.releaseScheduled(id, 1, NOW);
    await store.withdrawVersion(id, 2, { by: 'officer-2', at: NOW });
    await store.supersedeVersion(id, 3);

    // Act
    const page = await store.findScheduled({ dueBy: NOW, limit: 10 });

    // Assess
    expect(page.items.map((i) => i.version)).toEqual([4]);
  });

  it('pages through every waiting version once, in order, with a small limit', async () => {
    // Arrange: 7 versions of 3 alerts, some sharing a time.
    const store = await freshStore();
    const ids = [newAlertId(), newAlertId(), newAlertId()];
    const times = ['14:05', '14:01', '14:01', '14:09', '14:03', '14:07', '14:05'];
    const written = times.map((hhmm, i) => ({
      alertId: ids[i % 3]!,
      version: Math.floor(i / 3) + 1,
      at: `2030-05-01T${hhmm}:00.000Z`,
    }));
    for (const w of written) await store.putVersion(waiting(w.alertId, w.version, w.at));

    // Act
    const pages: number[] = [];
    const seen: { alertId: string; version: number; at: string }[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.findScheduled({ limit: 3, cursor });
      pages.push(page.items.length);
      seen.push(...page.items.map(({ alertId, version: v, at }) => ({ alertId, version: v, at })));
      cursor = page.cursor;
    } while (cursor);

    // Assess
    const key = (w: { alertId: string; version: number; at: string }) => `${w.at}#${w.alertId}#${w.version}`;
    expect(pages).toEqual([3, 3, 1]);
    expect(seen.map(key)).toEqual(written.map(key).sort());
  });

  it('pages with dueBy as well, and stops at the bound', async () => {
    // Arrange
    const store = await freshStore();
    const id = newAlertId();
    for (let n = 1; n <= 5; n++) await store.putVersion(waiting(id, n, `2030-05-01T14:0${n}:00.000Z`));

    // Act
    const first = await store.findScheduled({ dueBy: '2030-05-01T14:04:00.000Z', limit: 2 });
    const second = await store.findScheduled({
      dueBy: '2030-05-01T14:04:00.000Z',
      limit: 2,
      cursor: first.cursor,
    });

    // Assess
    expect(first.items.map((i) => i.version)).toEqual([1, 2]);
    expect(second.items.map((i) => i.version)).toEqual([3, 4]);
    const third = second.cursor
      ? await store.findScheduled({ dueBy: '2030-05-01T14:04:00.000Z', limit: 2, cursor: second.cursor })
      : { items: [] };
    expect(third.items).toEqual([]);
  });

  it.each([
    ['not base64url', '!!not a cursor!!'],
    ['not JSON', Buffer.from('{"PK":').toString('base64url')],
    ['a JSON array', encodeCursor([] as unknown as Record<string, string>)],
    [
      'another index partition',
      encodeCursor({ PK: 'ALERT#a', SK: 'V#0000000001', GSI2PK: 'UNPLANNED', GSI2SK: `${T}#a#0000000001` }),
    ],
    [
      'an alert id that does not match its sort key',
      encodeCursor({ PK: 'ALERT#a', SK: 'V#0000000001', GSI2PK: 'SCHEDULED', GSI2SK: `${T}#b#0000000001` }),
    ],
    [
      'a key of another partition',
      encodeCursor({ PK: 'SUB#a', SK: 'V#0000000001', GSI2PK: 'SCHEDULED', GSI2SK: `${T}#a#0000000001` }),
    ],
    [
      'an extra attribute',
      encodeCursor({
        PK: 'ALERT#a',
        SK: 'V#0000000001',
        GSI2PK: 'SCHEDULED',
        GSI2SK: `${T}#a#0000000001`,
        X: 'y',
      }),
    ],
    [
      'a listing cursor',
      encodeCursor({ PK: 'ALERT#a', SK: 'V#0000000001', GSI1PK: 'ALERTS', GSI1SK: `${T}#a` }),
    ],
    [
      'a tampered cursor',
      `${encodeCursor({ PK: 'ALERT#a', SK: 'V#0000000001', GSI2PK: 'SCHEDULED', GSI2SK: `${T}#a#0000000001` })}=`,
    ],
  ])('refuses a forged cursor (%s) with InvalidCursorError', async (_name, cursor) => {
    // Act
    const attempt = db.store.findScheduled({ limit: 5, cursor });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidCursorError);
  });

  it('takes a cursor it gave out, and refuses a limit that is not a positive whole number', async () => {
    // Arrange
    const store = await freshStore();
    const id = newAlertId();
    for (let n = 1; n <= 2; n++) await store.putVersion(waiting(id, n, T));
    const { cursor } = await store.findScheduled({ limit: 1 });

    // Act
    const next = await store.findScheduled({ limit: 1, cursor });

    // Assess
    expect(next.items.map((i) => i.version)).toEqual([2]);
    await expect(store.findScheduled({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(store.findScheduled({ limit: 1.5 })).rejects.toBeInstanceOf(RangeError);
  });
});
