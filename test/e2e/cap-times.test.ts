/**
 * An alert whose `expires` passes leaves every public feed and reads `expired`, through the embedded runtime with
 * its real clock: the newest version's expiry decides, so an update that removes or moves `expires` moves the
 * moment it leaves. Each alert expires a few seconds ahead; the test waits for that moment, never a fixed time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../schemas/alert';
import { DRAFT, startTestHerald, type TestHerald, waitFor } from '../helpers/embedded';

let herald: TestHerald;
beforeAll(async () => {
  herald = await startTestHerald();
});
afterAll(async () => {
  await herald?.cleanup();
});

/** Far enough ahead for four alerts and their updates to be written before it, near enough to wait for. */
const SOON_MS = 6_000;
const iso = (ms: number) => new Date(ms).toISOString();

async function create(expires: string): Promise<string> {
  const res = await herald.call('POST', '/v1/alerts', {
    role: 'officer',
    body: { ...DRAFT, channels: ['x'], expires },
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as Alert).id;
}

async function update(id: string, patch: Record<string, unknown>): Promise<void> {
  const res = await herald.call('POST', `/v1/alerts/${id}/updates`, {
    role: 'officer',
    body: patch,
    headers: { 'if-match': '"1"' },
  });
  expect(res.status).toBe(201);
}

/** The alert ids each public feed shows now. */
async function inFeeds(): Promise<{ json: string[]; atom: string; rss: string }> {
  const read = async (file: string) => {
    const res = await herald.call('GET', `/v1/${file}`);
    expect(res.status).toBe(200);
    return res.text();
  };
  const json = JSON.parse(await read('feed.json')) as { items: { id: string }[] };
  return {
    json: json.items.map((i) => i.id.split(':')[3]!),
    atom: await read('feed.atom'),
    rss: await read('feed.rss'),
  };
}

async function stateOf(id: string): Promise<string> {
  const res = await herald.call('GET', `/v1/alerts/${id}`, { role: 'auditor' });
  return ((await res.json()) as Alert).state;
}

describe('An alert whose expires passes', () => {
  it('leaves the Atom, RSS and JSON feeds and reads expired; the newest version decides when', async () => {
    // Prepare
    const soon = Date.now() + SOON_MS;
    const later = Date.now() + 60 * 60_000;
    const [expiring, unexpired, broughtForward, putOff] = await Promise.all([
      create(iso(soon)),
      create(iso(soon)),
      create(iso(later)),
      create(iso(soon)),
    ]);
    await Promise.all([
      update(unexpired, { expires: null }),
      update(broughtForward, { expires: iso(soon) }),
      update(putOff, { expires: iso(later) }),
    ]);
    const all = [expiring, unexpired, broughtForward, putOff];
    const before = await inFeeds();
    expect(before.json).toEqual(expect.arrayContaining(all));

    // Act: wait for the moment they were due to expire
    const after = await waitFor(
      async () => {
        const feeds = await inFeeds();
        return feeds.json.includes(expiring) ? undefined : feeds;
      },
      SOON_MS + 15_000,
      `${expiring} to leave the JSON Feed`,
    );

    // Assess
    expect(Date.now()).toBeGreaterThanOrEqual(soon);
    for (const gone of [expiring, broughtForward]) {
      expect(after.json).not.toContain(gone);
      expect(after.atom).not.toContain(gone);
      expect(after.rss).not.toContain(gone);
      expect(await stateOf(gone)).toBe('expired');
    }
    for (const kept of [unexpired, putOff]) {
      expect(after.json).toContain(kept);
      expect(after.atom).toContain(`urn:herald:alert:${kept}:2`);
      expect(after.rss).toContain(`urn:herald:alert:${kept}:2`);
      expect(await stateOf(kept)).not.toBe('expired');
    }
  });
});
