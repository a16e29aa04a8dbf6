/**
 * The S3 head store (functions/adapters/audit-heads/s3.ts) with the real S3 client against a local bucket that speaks
 * S3's wire format and refuses, as Object Lock does, a PUT without an integrity checksum: heads are put one object per
 * entry, and read back from the listing alone across pages, and a PUT that fails is logged, not
 * thrown. Then the verifier, through DynamoAuditLog on dynalite, finds a tail cut off after its head was locked there.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { S3AuditHeadStore } from '../../functions/adapters/audit-heads/s3';
import { DynamoAuditLog } from '../../functions/adapters/dynamo/audit-log';
import { GENESIS_HASH } from '../../functions/core/audit-chain';
import { verifyAlertAudit } from '../../functions/core/audit-verify';
import { startFakeObjectLockBucket } from '../fakes/s3-object-lock';
import { startDynaliteStore } from '../helpers/dynalite';
import { RecordingLogger } from '../helpers/fakes';

const closing: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()));
});

async function headStore(options: { pageSize?: number } = {}) {
  const bucket = await startFakeObjectLockBucket(options);
  closing.push(bucket);
  const client = new S3Client({
    endpoint: bucket.url,
    forcePathStyle: true,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' },
    // One attempt: a retry would hide the failure a test asks for.
    maxAttempts: 1,
  });
  closing.push({ close: async () => client.destroy() });
  const logger = new RecordingLogger();
  return { bucket, logger, store: new S3AuditHeadStore({ client, bucket: bucket.bucket, logger }) };
}

const hash = (c: string) => c.repeat(64);
const at = '2030-09-01T08:00:00.000Z';

describe('Class: S3AuditHeadStore', () => {
  it('puts each head as an object of its own, with a checksum, and reads them back by listing alone, page by page', async () => {
    // Prepare
    const { bucket, store } = await headStore({ pageSize: 2 });
    const alert = { kind: 'alert' as const, id: '01JALERT' };
    const tip = { kind: 'tip' as const, id: '01JTIP' };

    // Act
    for (const n of [1, 2, 3]) await store.put({ stream: alert, n, hash: hash(String(n)), at });
    await store.put({ stream: tip, n: 1, hash: hash('a'), at });
    const all = await store.locked();
    const one = await store.locked(alert);

    // Assess
    expect(bucket.versions.map((v) => v.key)).toEqual([
      `heads/alert/01JALERT/0000000001-${hash('1')}.json`,
      `heads/alert/01JALERT/0000000002-${hash('2')}.json`,
      `heads/alert/01JALERT/0000000003-${hash('3')}.json`,
      `heads/tip/01JTIP/0000000001-${hash('a')}.json`,
    ]);
    expect(bucket.versions.every((v) => v.checksumHeader.startsWith('x-amz-checksum-'))).toBe(true);
    expect(JSON.parse(bucket.versions[0]!.body)).toEqual({
      stream: 'alert:01JALERT',
      n: 1,
      hash: hash('1'),
      at,
    });
    expect(all.map((h) => [h.stream, h.n, h.hash])).toEqual([
      [alert, 1, hash('1')],
      [alert, 2, hash('2')],
      [alert, 3, hash('3')],
      [tip, 1, hash('a')],
    ]);
    expect(one.map((h) => h.n)).toEqual([1, 2, 3]);
  });

  it('logs a head it could not put, without the stream id or hash, and does not throw', async () => {
    // Prepare
    const { bucket, logger, store } = await headStore();
    bucket.failPuts(1);

    // Act
    await store.put({ stream: { kind: 'subscriber', id: '01JSUB' }, n: 4, hash: hash('f'), at });

    // Assess
    expect(bucket.versions).toEqual([]);
    expect(JSON.stringify(logger.lines)).toContain('audit head not locked');
    expect(JSON.stringify(logger.lines)).not.toContain('01JSUB');
    expect(JSON.stringify(logger.lines)).not.toContain(hash('f'));
  });

  it('lets the verifier find a tail cut off the table after its head was locked in the bucket', async () => {
    // Prepare
    const { store: heads, bucket } = await headStore();
    const db = await startDynaliteStore();
    closing.push(db);
    const log = new DynamoAuditLog({ client: db.client, tableName: db.tableName }, heads);
    const stream = { kind: 'alert' as const, id: '01JCUT' };
    const contents = [1, 2, 3].map((version) => ({
      action: 'alert.updated',
      actor: 'officer-1',
      at,
      version,
    }));
    const written = [];
    for (const content of contents) written.push(await log.append(stream, content));
    await db.client.send(
      new DeleteCommand({ TableName: db.tableName, Key: { PK: 'AUDITLOG#alert#01JCUT', SK: '0000000003' } }),
    );
    const deps = {
      log,
      heads,
      trail: async () => undefined,
      alertIds: async function* () {},
    };

    // Act
    const verification = await verifyAlertAudit(deps, '01JCUT');

    // Assess
    expect(written[0]!.prevHash).toBe(GENESIS_HASH);
    expect(bucket.versions).toHaveLength(3);
    expect(verification?.checked).toBe(2);
    expect(verification?.broken).toContainEqual({
      alertId: '01JCUT',
      entry: 'alert:01JCUT#3',
      reason:
        "head mismatch: entry 3 is locked outside the table, the table's chain ends at 2 (its tail was cut off)",
    });
  });
});
