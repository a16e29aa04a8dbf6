/**
 * The tip store on dynalite: references and intake locks taken once under contention, listings newest first
 * through the reused indexes (sparse filters included), an alert's tips skipping what a crashed intake left, the
 * open count following closes and reopens, the thread's bounds, and the retention work list.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoTipStore } from '../../functions/adapters/dynamo/tip-store';
import type { StoredTip, TipMessage } from '../../functions/ports';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { newUlid } from '../helpers/fakes';

let db: DynaliteStore;
let tips: DynamoTipStore;
beforeAll(async () => {
  db = await startDynaliteStore();
  tips = db.store.tips;
});
afterAll(async () => {
  await db?.close();
});

let clock = Date.parse('2030-06-01T00:00:00.000Z');
function tipOf(changes: Partial<StoredTip> = {}): StoredTip {
  clock += 1000;
  const receivedAt = new Date(clock).toISOString();
  return {
    id: newUlid(),
    reference: `T-${newUlid().slice(-4)}`,
    source: 'web',
    from: 'Anonymous',
    text: 'a tip',
    receivedAt,
    state: 'open',
    language: 'en',
    updatedAt: receivedAt,
    answerCount: 0,
    ...changes,
  };
}

const answer = (text: string): TipMessage => ({
  id: newUlid(),
  direction: 'out',
  text,
  at: new Date(clock).toISOString(),
  author: 'officer-1',
  status: 'sending',
});

describe('DynamoTipStore: taking things once', () => {
  it('gives a reference to one tip only', async () => {
    // Act
    const first = await tips.reserveReference('T-AAAA', 'tip-1');
    const second = await tips.reserveReference('T-AAAA', 'tip-2');

    // Assess
    expect([first, second]).toEqual([true, false]);
    expect(await tips.findReference('T-AAAA')).toBe('tip-1');
    expect(await tips.findReference('T-ZZZZ')).toBeUndefined();
  });

  it('lets one of ten concurrent intakes of a message take its lock; the others get its claim', async () => {
    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        tips.lockIntake('x#1790', { tipId: `tip-${i}`, reference: `T-000${i}`, receivedAt: 'now' }),
      ),
    );

    // Assess
    const taken = results.filter((r) => r.kind === 'taken');
    expect(taken).toHaveLength(1);
    const held = results.filter((r) => r.kind === 'held');
    expect(new Set(held.map((r) => (r.kind === 'held' ? r.tipId : '')))).toHaveProperty('size', 1);
  });

  it('writes a tip once: a second put of the same id is `exists` and changes nothing', async () => {
    // Prepare
    const tip = tipOf({ text: 'first words' });

    // Act
    const first = await tips.putTip(tip);
    const second = await tips.putTip({ ...tip, text: 'other words' });

    // Assess
    expect([first, second]).toEqual(['created', 'exists']);
    expect((await tips.getTip(tip.id))?.text).toBe('first words');
  });
});

describe('DynamoTipStore: listings', () => {
  it("lists an alert's tips newest first and skips a link whose tip a crashed intake never wrote", async () => {
    // Prepare
    const alertId = newUlid();
    const older = tipOf({ alertId });
    const newer = tipOf({ alertId, state: 'closed' });
    await tips.putTip(older);
    await tips.putTip(newer);
    await db.client.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          PK: `TIPALERT#${alertId}`,
          SK: `9999-01-01T00:00:00.000Z#${newUlid()}`,
          tipId: 'never-written',
        },
      }),
    );

    // Act
    const all = await tips.listTips({ alertId, limit: 10 });
    const open = await tips.listTips({ alertId, state: 'open', limit: 10 });
    const page = await tips.listTips({ alertId, limit: 1 });
    const next = await tips.listTips({ alertId, limit: 1, cursor: page.cursor });

    // Assess
    expect(all.items.map((t) => t.id)).toEqual([newer.id, older.id]);
    expect(all.cursor).toBeUndefined();
    expect(open.items.map((t) => t.id)).toEqual([older.id]);
    expect([...page.items, ...next.items].map((t) => t.id)).toEqual([newer.id, older.id]);
    expect(all.items[0]?.messages).toBeUndefined();
  });

  it('finds the few tips a sparse filter matches among many, a page at a time', async () => {
    // Prepare: 120 web tips and, spread among them, 3 from Instagram
    const instagram: string[] = [];
    for (let i = 0; i < 120; i++) {
      const tip = tipOf(i % 50 === 7 ? { source: 'instagram', from: '@someone' } : {});
      if (tip.source === 'instagram') instagram.unshift(tip.id);
      await tips.putTip(tip);
    }

    // Act
    const first = await tips.listTips({ source: 'instagram', limit: 2 });
    const second = await tips.listTips({ source: 'instagram', limit: 2, cursor: first.cursor });

    // Assess
    expect(first.items.map((t) => t.id)).toEqual(instagram.slice(0, 2));
    expect(second.items.map((t) => t.id)).toEqual(instagram.slice(2));
    expect(second.cursor).toBeUndefined();
  });

  it('counts open tips from the state index, following closes and reopens', async () => {
    // Prepare
    const before = await tips.countOpen();
    const tip = tipOf();
    await tips.putTip(tip);

    // Act
    const afterPut = await tips.countOpen();
    const closed = await tips.setState(tip.id, { from: 'open', to: 'closed', at: 'later' });
    const closedAgain = await tips.setState(tip.id, { from: 'open', to: 'closed', at: 'later' });
    const afterClose = await tips.countOpen();
    await tips.setState(tip.id, { from: 'closed', to: 'open', at: 'later still' });

    // Assess
    expect(afterPut).toBe(before + 1);
    expect(closed).toMatchObject({ state: 'closed', closedAt: 'later' });
    expect(closedAgain).toBe('unchanged');
    expect(afterClose).toBe(before);
    expect(await tips.countOpen()).toBe(before + 1);
    expect(await tips.setState('no-such-tip', { from: 'open', to: 'closed', at: 'x' })).toBe('missing');
  });

  it('refuses a cursor made for another listing', async () => {
    // Prepare
    const page = await tips.listTips({ limit: 1 });

    // Act / Assess
    await expect(tips.listTips({ state: 'open', limit: 1, cursor: page.cursor })).rejects.toThrow(/cursor/);
  });
});

describe('DynamoTipStore: threads, audit and retention', () => {
  it('bounds a thread, keeps its answers in time order, and updates one by id', async () => {
    // Prepare
    const tip = tipOf();
    await tips.putTip(tip);
    const first = answer('one');
    const second = answer('two');

    // Act
    const results = [
      await tips.appendAnswer(tip.id, first, { maxAnswers: 2 }),
      await tips.appendAnswer(tip.id, second, { maxAnswers: 2 }),
      await tips.appendAnswer(tip.id, answer('three'), { maxAnswers: 2 }),
      await tips.appendAnswer('no-such-tip', answer('x'), { maxAnswers: 2 }),
    ];
    const updated = await tips.setAnswerStatus(tip.id, first.id, { status: 'sent', at: 'later' });
    const unknown = await tips.setAnswerStatus(tip.id, 'no-such-message', { status: 'sent', at: 'later' });
    await tips.setState(tip.id, { from: 'open', to: 'closed', at: 'later' });
    const closed = await tips.appendAnswer(tip.id, answer('four'), { maxAnswers: 5 });

    // Assess
    expect(results).toEqual(['appended', 'appended', 'full', 'missing']);
    expect([updated, unknown]).toEqual([true, false]);
    expect(closed).toBe('closed');
    const stored = await tips.getTip(tip.id);
    expect(stored?.answerCount).toBe(2);
    expect(stored?.messages?.map((m) => [m.text, m.status])).toEqual([
      ['one', 'sent'],
      ['two', 'sending'],
    ]);
  });

  it('keeps audit entries of one millisecond in the order they were written', async () => {
    // Act
    for (const action of ['tip.received', 'tip.read', 'tip.assigned', 'tip.closed'] as const)
      await tips.appendAudit({
        tipId: 'audited',
        at: '2030-06-02T00:00:00.000Z',
        actor: 'officer-1',
        action,
      });

    // Assess
    expect((await tips.listAudit('audited')).map((e) => e.action)).toEqual([
      'tip.received',
      'tip.read',
      'tip.assigned',
      'tip.closed',
    ]);
  });

  it('lists contacts to erase oldest first, erases each once, and makes no tip out of an orphan contact', async () => {
    // Prepare
    const tip = tipOf();
    await tips.putTip(tip, { channel: 'sms', cipher: 'v1.secret', eraseBy: 1 });
    await db.client.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          PK: 'TIP#orphan',
          SK: 'CONTACT',
          tipId: 'orphan',
          channel: 'sms',
          cipher: 'v1.orphan',
          GSI1PK: 'TIPCONTACTS',
          GSI1SK: '2000-01-01T00:00:00.000Z#orphan',
        },
      }),
    );

    // Act
    const due = await tips.contactsReceivedBefore('2100-01-01T00:00:00.000Z', 1000);
    const erasedOrphan = await tips.eraseContact('orphan', 'now');
    const erased = await tips.eraseContact(tip.id, 'now');
    const again = await tips.eraseContact(tip.id, 'later');

    // Assess
    expect(due[0]).toBe('orphan');
    expect(due).toContain(tip.id);
    expect([erasedOrphan, erased, again]).toEqual([true, true, false]);
    expect(await tips.getTip('orphan')).toBeUndefined();
    expect(await tips.getTip(tip.id)).toMatchObject({ contactErasedAt: 'now' });
    const item = await db.client.send(
      new GetCommand({ TableName: db.tableName, Key: { PK: `TIP#${tip.id}`, SK: 'CONTACT' } }),
    );
    expect(item.Item).toEqual(expect.not.objectContaining({ cipher: expect.anything() }));
    expect(await tips.contactsReceivedBefore('2100-01-01T00:00:00.000Z', 1000)).not.toContain(tip.id);
  });

  it('queues public answers per channel, oldest first, until each is settled', async () => {
    // Prepare
    const tip = tipOf({ source: 'facebook', externalId: 'c-1' });
    await tips.putTip(tip);
    const early = answer('first');
    const late = { ...answer('second'), at: '2999-01-01T00:00:00.000Z' };
    for (const m of [late, early]) await tips.appendAnswer(tip.id, m, { maxAnswers: 5 });
    const social = (m: TipMessage) =>
      ({
        tipId: tip.id,
        messageId: m.id,
        channel: 'facebook',
        inReplyTo: 'c-1',
        text: m.text,
        at: m.at,
      }) as const;

    // Act
    await tips.enqueue(social(late));
    await tips.enqueue(social(early));
    const queued = await tips.listQueued('facebook', 10);
    await tips.settle(social(early), { status: 'failed', at: 'now', reason: 'comment deleted' });

    // Assess
    expect(queued.map((a) => a.text)).toEqual(['first', 'second']);
    expect((await tips.listQueued('facebook', 10)).map((a) => a.text)).toEqual(['second']);
    expect(await tips.listQueued('x', 10)).toEqual([]);
    const stored = await tips.getTip(tip.id);
    expect(stored?.messages?.find((m) => m.id === early.id)).toMatchObject({
      status: 'failed',
      reason: 'comment deleted',
    });
  });
});
