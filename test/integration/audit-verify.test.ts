/**
 * GET /v1/audit/verify through createRouter against DynamoStore on dynalite, with the heads kept in files as the
 * embedded mode keeps them: an alert written, updated, approved and cancelled, a tip, a subscriber added and removed
 * leave chains that verify; an entry edited, one deleted, a tail cut off, a version's text edited, each directly in the
 * table with the DynamoDB client, are found and named.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { FileAuditHeadStore } from '../../functions/adapters/audit-heads/file';
import { DynamoStore } from '../../functions/adapters/dynamo/store';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamo/subscriber-store';
import { AUDITOR, apiHarness, draft, OFFICER, SERGEANT, SUPERVISOR } from '../helpers/api';
import { type DynaliteStore, startDynaliteStore } from '../helpers/dynalite';
import { RecordingLogger } from '../helpers/fakes';
import { residentsDeps } from '../helpers/residents';

const open: DynaliteStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((db) => db.close()));
});

interface Verification {
  ok: boolean;
  checked: number;
  broken: { alertId?: string; entry: string; reason: string }[];
}

/** A table with a history: an alert held, approved, updated and cancelled; a tip read; a subscriber added and removed. */
async function world(options: { heads?: boolean } = {}) {
  const db = await startDynaliteStore();
  open.push(db);
  const auditHeads =
    options.heads === false
      ? undefined
      : new FileAuditHeadStore(await mkdtemp(join(tmpdir(), 'herald-heads-')), new RecordingLogger());
  const store = new DynamoStore({ client: db.client, tableName: db.tableName, auditHeads });
  const subscribers = new DynamoSubscriberStore(
    { client: db.client, tableName: db.tableName },
    store.auditLog,
  );
  const residents = { ...(await residentsDeps(db)), subscribers };
  const h = apiHarness(db, residents, '2030-09-01T08:00:00.000Z', store);

  const alertId = await h.create(draft({ severity: 'Extreme' }), SERGEANT);
  h.clock.advance(60_000);
  const approved = await h.call({
    method: 'POST',
    path: `/v1/alerts/${alertId}/approve`,
    body: {},
    claims: SUPERVISOR,
  });
  expect(approved.status).toBe(200);
  h.clock.advance(60_000);
  const updated = await h.call({
    method: 'POST',
    path: `/v1/alerts/${alertId}/updates`,
    body: { headline: 'Found near the station' },
    headers: { 'if-match': '"1"' },
    claims: OFFICER,
  });
  expect(updated.status).toBe(201);
  h.clock.advance(60_000);
  const cancelled = await h.call({ method: 'POST', path: `/v1/alerts/${alertId}/cancel`, claims: OFFICER });
  expect(cancelled.status).toBe(201);

  const tip = await h.call({
    method: 'POST',
    path: '/v1/tips',
    claims: null,
    body: { alertId, text: 'Seen at the bus stop at nine' },
  });
  expect(tip.status).toBe(202);
  const tipId = tip.body.id as string;
  expect((await h.call({ method: 'GET', path: `/v1/tips/${tipId}`, claims: OFFICER })).status).toBe(200);

  const subscriber = await h.call({
    method: 'POST',
    path: '/v1/subscribers',
    claims: OFFICER,
    body: {
      channel: 'email',
      address: 'redaccio@example.org',
      zones: ['*'],
      name: 'Diari',
      consent: 'Signed form 2030-08-30',
    },
  });
  expect(subscriber.status).toBe(201);
  const subscriberId = subscriber.body.id as string;
  const removed = await h.call({
    method: 'DELETE',
    path: `/v1/subscribers/${subscriberId}`,
    claims: OFFICER,
  });
  expect(removed.status).toBe(204);

  const items = async () =>
    ((await db.client.send(new ScanCommand({ TableName: db.tableName }))).Items ?? []) as Record<
      string,
      unknown
    >[];
  const chainItems = async (pk: string) =>
    (await items()).filter((item) => item.PK === pk).sort((a, b) => String(a.SK).localeCompare(String(b.SK)));
  const verify = async (query = '', claims = AUDITOR) => {
    const res = await h.call({ method: 'GET', path: `/v1/audit/verify${query}`, claims });
    return { status: res.status, body: res.body as unknown as Verification };
  };
  return { db, h, alertId, tipId, subscriberId, items, chainItems, verify };
}

describe('GET /v1/audit/verify', () => {
  it('finds every chain whole after an alert, a tip and a subscriber went through their lives', async () => {
    // Prepare
    const w = await world();
    const chained = (await w.items()).filter((item) => String(item.PK).startsWith('AUDITLOG#'));
    const alertChain = await w.chainItems(`AUDITLOG#alert#${w.alertId}`);

    // Act
    const all = await w.verify();
    const one = await w.verify(`?alertId=${w.alertId}`);

    // Assess
    expect(all).toEqual({ status: 200, body: { ok: true, checked: chained.length, broken: [] } });
    expect(one).toEqual({ status: 200, body: { ok: true, checked: alertChain.length, broken: [] } });
    // The update of an Extreme alert is held too, and the cancel replaces it before it went out.
    expect(alertChain.map((item) => (item.content as Record<string, unknown>).action)).toEqual([
      'alert.created',
      'version.held-for-approval',
      'version.approved',
      'alert.updated',
      'version.held-for-approval',
      'alert.cancelled',
      'version.replaced',
    ]);
    expect(alertChain.map((item) => item.SK)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `000000000${n}`));
    expect(
      (await w.chainItems(`AUDITLOG#tip#${w.tipId}`)).map((i) => (i.content as { action: string }).action),
    ).toEqual(['tip.received', 'tip.read']);
    expect(
      (await w.chainItems(`AUDITLOG#subscriber#${w.subscriberId}`)).map(
        (i) => (i.content as { action: string }).action,
      ),
    ).toEqual(['added', 'deleted']);
    // Each entry names the one before it.
    expect(alertChain.slice(1).map((item) => item.prevHash)).toEqual(
      alertChain.slice(0, -1).map((item) => item.hash),
    );
  });

  it('names an entry edited directly in the table: hash mismatch', async () => {
    // Prepare
    const w = await world();
    await w.db.client.send(
      new UpdateCommand({
        TableName: w.db.tableName,
        Key: { PK: `AUDITLOG#alert#${w.alertId}`, SK: '0000000003' },
        UpdateExpression: 'SET content.actor = :someone',
        ExpressionAttributeValues: { ':someone': 'sergeant-1' },
      }),
    );

    // Act
    const { status, body } = await w.verify();

    // Assess
    expect(status).toBe(200);
    expect(body.ok).toBe(false);
    expect(body.broken).toContainEqual({
      alertId: w.alertId,
      entry: `alert:${w.alertId}#3`,
      reason: 'hash mismatch: its content was changed after it was written',
    });
    expect(body.broken.every((b) => b.entry.startsWith(`alert:${w.alertId}`))).toBe(true);
  });

  it('names an entry deleted directly in the table: a sequence gap', async () => {
    // Prepare
    const w = await world();
    await w.db.client.send(
      new DeleteCommand({
        TableName: w.db.tableName,
        Key: { PK: `AUDITLOG#tip#${w.tipId}`, SK: '0000000001' },
      }),
    );

    // Act
    const { body } = await w.verify();

    // Assess
    expect(body.ok).toBe(false);
    expect(body.broken).toContainEqual({
      entry: `tip:${w.tipId}#1`,
      reason: 'sequence gap: entry 1 is missing from the table (deleted)',
    });
  });

  it('finds the last entry deleted, by the locked head and by the trail beside the chain', async () => {
    // Prepare
    const w = await world();
    await w.db.client.send(
      new DeleteCommand({
        TableName: w.db.tableName,
        Key: { PK: `AUDITLOG#subscriber#${w.subscriberId}`, SK: '0000000002' },
      }),
    );

    // Act
    const { body } = await w.verify();

    // Assess
    expect(body.broken).toEqual([
      {
        entry: `subscriber:${w.subscriberId}#2`,
        reason: expect.stringMatching(
          /^head mismatch: entry 2 is locked outside the table, the table's chain ends at 1/,
        ),
      },
      {
        entry: `subscriber:${w.subscriberId}`,
        reason: expect.stringMatching(/^deleted .* is in the subscriber's audit items but not in the chain/),
      },
    ]);
  });

  it("finds a version's text edited in the table, though its chain is untouched", async () => {
    // Prepare
    const w = await world({ heads: false });
    const [version2] = (await w.items()).filter(
      (item) => item.PK === `ALERT#${w.alertId}` && item.SK === 'V#0000000002',
    );
    const content = { ...JSON.parse(String(version2?.content)), headline: 'Nothing happened' };
    await w.db.client.send(
      new UpdateCommand({
        TableName: w.db.tableName,
        Key: { PK: `ALERT#${w.alertId}`, SK: 'V#0000000002' },
        UpdateExpression: 'SET content = :c',
        ExpressionAttributeValues: { ':c': JSON.stringify(content) },
      }),
    );

    // Act
    const { body } = await w.verify(`?alertId=${w.alertId}`);

    // Assess
    expect(body.ok).toBe(false);
    expect(body.broken).toEqual([
      {
        alertId: w.alertId,
        entry: `alert:${w.alertId}`,
        reason: expect.stringMatching(
          /^alert.updated version 2 .* is in the alert's versions but not in the chain/,
        ),
      },
      {
        alertId: w.alertId,
        entry: `alert:${w.alertId}#4`,
        reason: expect.stringMatching(
          /^alert.updated version 2 .* is in the chain but not in the alert's versions/,
        ),
      },
    ]);
  });

  it('finds an alert whose whole chain was deleted', async () => {
    // Prepare
    const w = await world({ heads: false });
    for (const item of await w.chainItems(`AUDITLOG#alert#${w.alertId}`))
      await w.db.client.send(
        new DeleteCommand({ TableName: w.db.tableName, Key: { PK: item.PK, SK: item.SK } }),
      );

    // Act
    const { body } = await w.verify();

    // Assess
    expect(body.ok).toBe(false);
    expect(body.broken).toHaveLength(7);
    expect(body.broken.every((b) => b.alertId === w.alertId && /not in the chain/.test(b.reason))).toBe(true);
  });

  it('verifies the timeline events too: scheduled, withdrawn, replaced, released by the dispatcher at its time', async () => {
    // Prepare
    const w = await world();
    const h = w.h;
    const id = await h.create(draft({ publishAt: '2030-09-01T12:00:00Z' }));
    const later = (after: number, headline: string, publishAt: string, replaces?: number) =>
      h.call({
        method: 'POST',
        path: `/v1/alerts/${id}/updates`,
        body: { headline, publishAt, ...(replaces ? { replaces } : {}) },
        headers: { 'if-match': `"${after}"` },
        claims: OFFICER,
      });
    expect((await later(1, 'Closing soon', '2030-09-01T13:00:00Z')).status).toBe(201);
    expect(
      (await h.call({ method: 'DELETE', path: `/v1/alerts/${id}/versions/2`, claims: OFFICER })).status,
    ).toBe(200);
    expect((await later(2, 'Closing now', '2030-09-01T13:30:00Z')).status).toBe(201);
    expect((await later(3, 'Closing now, road B too', '2030-09-01T13:30:00Z', 3)).status).toBe(201);
    h.clock.set('2030-09-01T12:00:01.000Z');
    await h.dispatch(id, 1);

    // Act
    const { body } = await w.verify(`?alertId=${id}`);
    const actions = (await w.chainItems(`AUDITLOG#alert#${id}`)).map(
      (item) =>
        `${(item.content as { action: string }).action} ${(item.content as { version: number }).version}`,
    );

    // Assess
    expect(body).toEqual({ ok: true, checked: actions.length, broken: [] });
    expect(actions).toEqual([
      'alert.created 1',
      'version.scheduled 1',
      'alert.updated 2',
      'version.scheduled 2',
      'version.withdrawn 2',
      'alert.updated 3',
      'version.scheduled 3',
      'alert.updated 4',
      'version.scheduled 4',
      'version.replaced 3',
      'version.released 1',
    ]);
  });

  it('answers supervisors and auditors only, 404 for an unknown alert, 400 for a malformed id', async () => {
    // Prepare
    const w = await world({ heads: false });

    // Act
    const officer = await w.verify('', OFFICER);
    const supervisor = await w.verify('', SUPERVISOR);
    const unknown = await w.verify('?alertId=01J0000000000000000000000X');
    const malformed = await w.verify('?alertId=a%2Fb');

    // Assess
    expect(officer.status).toBe(403);
    expect(supervisor.status).toBe(200);
    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(400);
  });
});
