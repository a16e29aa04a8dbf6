/**
 * Invariant 7 over time: after HERALD_TIP_RETENTION_DAYS the sweeper erases a tipster's contact and the tip keeps
 * its alias; until then an officer can answer. Driven by a manual clock against the real store on dynalite.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { tipStoreOf } from '../../functions/api/tips';
import { eraseExpiredTipContacts } from '../../functions/core/tips';
import { loadConfig } from '../../functions/shared/config';
import { createSweeperHandler } from '../../functions/sweeper/handler';
import { AUDITOR, apiHarness, OFFICER } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { lambdaContext } from '../helpers/events';
import { residentsDeps } from '../helpers/residents';

const DAY = 86_400_000;
const open: DynaliteStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

async function setup() {
  const db = await startDynaliteStore();
  open.push(db);
  const h = apiHarness(db, await residentsDeps(db), '2030-01-01T12:00:00.000Z');
  const tip = async (body: Record<string, unknown>) => {
    const res = await h.call({ method: 'POST', path: '/v1/tips', body, claims: null });
    expect(res.status).toBe(202);
    return res.body.id as string;
  };
  const read = async (id: string) =>
    (await h.call({ method: 'GET', path: `/v1/tips/${id}`, claims: OFFICER })).body;
  const contactItem = async (id: string) =>
    (
      await db.client.send(
        new GetCommand({ TableName: db.tableName, Key: { PK: `TIP#${id}`, SK: 'CONTACT' } }),
      )
    ).Item;
  return { db, h, tip, read, contactItem, tips: tipStoreOf(db.store) };
}

describe('tip retention', () => {
  it('reads HERALD_TIP_RETENTION_DAYS, 90 by default, and refuses a value that is not a whole number of days', () => {
    expect(loadConfig({}).tipRetentionDays).toBe(90);
    expect(loadConfig({ HERALD_TIP_RETENTION_DAYS: '30' }).tipRetentionDays).toBe(30);
    expect(() => loadConfig({ HERALD_TIP_RETENTION_DAYS: '1.5' })).toThrow(/HERALD_TIP_RETENTION_DAYS/);
  });

  it('erases the contact after the retention period and keeps the alias; the tip can no longer be answered', async () => {
    // Prepare
    const { h, tip, read, contactItem, tips } = await setup();
    const bySms = await tip({ text: 'old one', contact: { channel: 'sms', address: '+34611223344' } });
    const byEmail = await tip({ text: 'old two', contact: { channel: 'email', address: 'w@example.org' } });
    const before = await read(bySms);
    h.clock.advance(89 * DAY);
    const recent = await tip({ text: 'recent', contact: { channel: 'sms', address: '+34611223344' } });
    const deps = { tips, clock: h.clock, config: h.deps.config, logger: h.logger };

    // Act
    const tooEarly = await eraseExpiredTipContacts(deps);
    h.clock.advance(DAY + 1000);
    const erased = await eraseExpiredTipContacts(deps);
    const again = await eraseExpiredTipContacts(deps);

    // Assess
    expect(tooEarly).toBe(0);
    expect(erased).toBe(2);
    expect(again).toBe(0);
    const after = await read(bySms);
    expect(after).toMatchObject({ from: before.from, contactErased: true, text: 'old one' });
    expect(after.replyBy).toBeUndefined();
    expect(before.replyBy).toBe('sms');
    for (const id of [bySms, byEmail]) {
      const item = await contactItem(id);
      expect(item).not.toHaveProperty('cipher');
      expect(item).not.toHaveProperty('GSI1PK');
      expect(await tips.getContact(id)).toBeUndefined();
    }
    expect(await tips.getContact(recent)).toBeDefined();
    const refused = await h.call({
      method: 'POST',
      path: `/v1/tips/${bySms}/replies`,
      body: { text: 'Are you still there?' },
      claims: OFFICER,
    });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toMatch(/erased at the end of the retention period/);
    const recentAnswer = await h.call({
      method: 'POST',
      path: `/v1/tips/${recent}/replies`,
      body: { text: 'Thanks' },
      claims: OFFICER,
    });
    expect(recentAnswer.status).toBe(201);
    const audit = await h.call({ method: 'GET', path: `/v1/tips/${bySms}/audit`, claims: AUDITOR });
    expect(audit.body.entries).toContainEqual(
      expect.objectContaining({
        actor: 'system:sweeper',
        action: 'tip.contact-erased',
        detail: 'retention of 90 days',
      }),
    );
    const recentRead = await read(recent);
    expect(recentRead.from).toBe(before.from);
  });

  it('does a bounded amount of work per run, oldest first, and the scheduled sweeper runs it', async () => {
    // Prepare
    const { h, tip, tips } = await setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await tip({ text: `tip ${i}`, contact: { channel: 'sms', address: `+3461122330${i}` } }));
      h.clock.advance(1000);
    }
    h.clock.advance(91 * DAY);
    const deps = { tips, clock: h.clock, config: h.deps.config, logger: h.logger };

    // Act
    const one = await eraseExpiredTipContacts(deps, 1);
    const remaining = await tips.contactsReceivedBefore(h.clock.now().toISOString(), 10);
    const swept = await createSweeperHandler({ ...h.deps, store: h.deps.store })(
      { source: 'aws.scheduler' },
      lambdaContext('herald-sweeper'),
    );

    // Assess
    expect(one).toBe(1);
    expect(await tips.getContact(ids[0]!)).toBeUndefined();
    expect(remaining).toEqual([ids[1], ids[2]]);
    expect(swept.tipContactsErased).toBe(2);
    expect(await tips.contactsReceivedBefore(h.clock.now().toISOString(), 10)).toEqual([]);
  });
});
