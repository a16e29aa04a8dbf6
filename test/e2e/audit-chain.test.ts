/**
 * The embedded mode writes the audit chain and keeps its heads outside the table, as `npm start` runs it: an alert
 * created and cancelled over HTTP is chained, its heads are files under the data directory, and GET /v1/audit/verify
 * finds the chain whole (and answers officers 403).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRAFT, startTestHerald, type TestHerald, tempDir } from '../helpers/embedded';

let herald: TestHerald;
let dataDir: string;
beforeAll(async () => {
  dataDir = await tempDir();
  herald = await startTestHerald({ dataDir });
});
afterAll(async () => {
  await herald?.cleanup();
});

describe('embedded: the tamper-evident audit trail', () => {
  it('chains an alert created and cancelled, locks its heads in the data directory, and verifies it whole', async () => {
    // Prepare
    const created = await herald.call('POST', '/v1/alerts', { role: 'officer', body: DRAFT });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const cancelled = await herald.call('POST', `/v1/alerts/${id}/cancel`, { role: 'officer' });
    expect(cancelled.status).toBe(201);

    // Act
    const all = await herald.call('GET', '/v1/audit/verify', { role: 'auditor' });
    const one = await herald.call('GET', `/v1/audit/verify?alertId=${id}`, { role: 'auditor' });
    const officer = await herald.call('GET', '/v1/audit/verify', { role: 'officer' });
    const heads = await readdir(join(dataDir, 'audit-heads', 'heads', 'alert', id));

    // Assess
    expect(all.status).toBe(200);
    expect(await all.json()).toMatchObject({ ok: true, broken: [] });
    expect(await one.json()).toEqual({ ok: true, checked: 2, broken: [] });
    expect(officer.status).toBe(403);
    expect(heads.sort()).toEqual([
      expect.stringMatching(/^0000000001-[0-9a-f]{64}\.json$/),
      expect.stringMatching(/^0000000002-[0-9a-f]{64}\.json$/),
    ]);
  });
});
