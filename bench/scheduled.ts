/**
 * Section 7: punctuality of scheduled versions. Many alerts are scheduled for the same second (a city's hundred races
 * announced for Sunday 08:00 is the extreme); the embedded mode's publish timer wakes at that second and the
 * dispatcher releases and fans them out. Measured per version: how long after its publishAt it was released (the
 * scheduler's own lateness) and how long after it the X post was accepted (what a resident sees). The baseline, in the
 * same run on the same instance: the same number of alerts sent at once, from POST to the post accepted.
 */
import { rm } from 'node:fs/promises';
import { startHerald } from '../local/runtime';
import { DRAFT, tempDir } from '../test/helpers/embedded';
import { pool, type Summary, sleep, summarize } from './stats';

export interface SchedulingRun {
  versions: number;
  /** Seconds it took to create them (all before their time). */
  createSeconds: number;
  /** publishAt → released (scheduled → pending), ms. */
  released: Summary;
  /** publishAt → the post accepted by the (sandbox) provider, ms. */
  posted: Summary;
  /** Baseline: the same number of alerts sent at once, each POST → its post accepted, ms. */
  immediate: Summary;
  /** Baseline: from the first of those POSTs to the last post accepted, ms (the pipeline's time for all of them). */
  immediateSpanMs: number;
  /** Versions posted more than once, or never (both must be 0). */
  duplicates: number;
  missing: number;
}

const CONCURRENCY = 8;

export async function measureScheduling(options: { versions: number }): Promise<SchedulingRun> {
  const dataDir = await tempDir('herald-bench-scheduled-');
  // The sweeper's backstop would release them within its interval anyway: slowed down, what is measured is the timer.
  const herald = await startHerald({
    port: 0,
    dataDir,
    sweepIntervalMs: 600_000,
    env: { POWERTOOLS_LOG_LEVEL: 'ERROR' },
  });
  try {
    const officer = `Bearer ${await herald.identity.issue({ roles: ['officer'] })}`;
    const post = async (body: Record<string, unknown>) => {
      const res = await fetch(`${herald.url}/v1/alerts`, {
        method: 'POST',
        headers: { authorization: officer, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    const alert = (i: number) => ({ ...DRAFT, channels: ['x'], headline: `${DRAFT.headline} (${i})` });
    const indexes = Array.from({ length: options.versions }, (_, i) => i);

    // Baseline: the same number sent at once.
    const createAll = async (body: (i: number) => Record<string, unknown>) => {
      const ids: string[] = [];
      await pool(indexes, CONCURRENCY, async (i) => {
        ids[i] = await post(body(i));
      });
      return ids;
    };
    const immediateIds = await createAll(alert);
    const immediate = await waitForPosts(herald, immediateIds, (v) => Date.parse(v.createdAt));

    // Scheduled: all for one whole second, far enough ahead for every POST to be done before it.
    const createStart = Date.now();
    const publishAt = Math.ceil((Date.now() + 5_000 + options.versions * 15) / 1000) * 1000;
    const scheduledIds = await createAll((i) => ({
      ...alert(i),
      publishAt: new Date(publishAt).toISOString(),
    }));
    const createSeconds = (Date.now() - createStart) / 1000;
    if (Date.now() >= publishAt)
      throw new Error('creating the versions took past their time: raise the margin');
    await sleep(publishAt - Date.now());
    const scheduled = await waitForPosts(herald, scheduledIds, () => publishAt);

    return {
      versions: options.versions,
      createSeconds,
      released: summarize(scheduled.released),
      posted: summarize(scheduled.posted),
      immediate: summarize(immediate.posted),
      immediateSpanMs: immediate.lastPostedAt - immediate.firstOrigin,
      duplicates: scheduled.duplicates + immediate.duplicates,
      missing: scheduled.missing + immediate.missing,
    };
  } finally {
    await herald.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

/** Waits for every alert's X post, then reads, per alert, release and post lateness from the stored records. */
async function waitForPosts(
  herald: Awaited<ReturnType<typeof startHerald>>,
  ids: readonly string[],
  origin: (v: { createdAt: string }) => number,
) {
  const deadline = Date.now() + 300_000;
  const pending = new Set(ids);
  while (pending.size > 0 && Date.now() < deadline) {
    for (const id of [...pending]) {
      const receipts = await herald.store.listForAlert(id);
      if (receipts.length > 0 && receipts.every((r) => r.status === 'sent')) pending.delete(id);
    }
    if (pending.size > 0) await sleep(250);
  }
  const released: number[] = [];
  const posted: number[] = [];
  let duplicates = 0;
  let firstOrigin = Number.POSITIVE_INFINITY;
  let lastPostedAt = 0;
  for (const id of ids) {
    const found = await herald.store.getAlert(id);
    const version = found?.versions[0];
    const receipt = (await herald.store.listForAlert(id))[0];
    const sentAt = receipt?.history.filter((e) => e.status === 'sent');
    if (!version || !sentAt?.length) continue;
    if (sentAt.length > 1) duplicates++;
    const from = origin(version);
    const postedAt = Date.parse(sentAt[0]!.at);
    if (version.releasedAt) released.push(Date.parse(version.releasedAt) - from);
    posted.push(postedAt - from);
    firstOrigin = Math.min(firstOrigin, from);
    lastPostedAt = Math.max(lastPostedAt, postedAt);
  }
  return { released, posted, duplicates, missing: ids.length - posted.length, firstOrigin, lastPostedAt };
}
