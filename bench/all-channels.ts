/**
 * Accept → all ten channels sent: the embedded composition with every channel's real client pointed at a local fake
 * of its network (the fakes test/e2e/all-channels.test.ts uses: X, the Graph API, Mastodon, Bluesky, Threads,
 * Telegram, and SNS, SES and a webhook outlet), one resident by SMS, one by email and one media outlet subscribed.
 * Each alert is created through the API, one at a time; its time is from the 201 being read to the moment the last
 * of its receipts was recorded `sent` (the store's record and putReceipts are wrapped, so nothing is polled).
 *
 * The baseline, in the same run and the same process: the same alerts naming the three original social channels
 * only (X, Facebook, Instagram), so the ratio says what the seven other channels add to an alert's way out.
 *
 * Run alone with `npm run bench -- all-channels` (or `npx tsx bench/all-channels.ts [alerts]`); `npm run bench` prints
 * it as section 8.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Receipt } from '../functions/core/model';
import type { Herald } from '../local/runtime';
import { startNetworkFakes } from '../test/fakes/all-networks';
import { DRAFT as BENCH_DRAFT, withTempDir } from './harness';
import { makeSubscribers, seedSubscribers } from './seed-subscribers';
import { fixed, ms, percentile, section, table } from './stats';

const ZONE = 'centre';
const WARMUP = 3;
/** The bench's alert without its image, as test/e2e/all-channels.test.ts sends it: Instagram draws the alert card. */
const { image: _image, ...DRAFT } = BENCH_DRAFT;

interface Summary {
  p50: number;
  p95: number;
  max: number;
}

export interface AllChannelsResult {
  alerts: number;
  channels: readonly string[];
  baselineChannels: readonly string[];
  /** Receipts per alert: one per social channel, one per subscriber of a subscriber channel. */
  receiptsPerAlert: { all: number; baseline: number };
  allMs: Summary;
  baselineMs: Summary;
  ratio: { p50: number; p95: number; max: number };
  /** Receipts recorded with another status than `sent`: there should be none. */
  anomalies: number;
}

const summary = (values: number[]): Summary => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
};

/** Completion, per alert: when each of its receipts was recorded `sent`, and who waits for the last one. */
class SentProbe {
  anomalies = 0;
  private readonly sent = new Map<string, Set<string>>();
  private readonly waiters = new Map<string, { count: number; resolve: (at: number) => void }>();

  constructor(herald: Herald) {
    const { store } = herald;
    const record = store.record.bind(store);
    store.record = async (key, leaseId, outcome) => {
      const ok = await record(key, leaseId, outcome);
      if (ok && outcome.status === 'sent') this.mark(key.alertId, `${key.channel}/${key.recipient}`);
      else if (outcome.status !== 'sent') this.anomalies++;
      return ok;
    };
    const putReceipts = store.putReceipts.bind(store);
    store.putReceipts = async (receipts: readonly Receipt[]) => {
      await putReceipts(receipts);
      for (const r of receipts)
        if (r.status === 'sent') this.mark(r.alertId, `${r.channel}/${r.recipient}`);
        else this.anomalies++;
    };
  }

  /** Resolves (performance.now()) when `count` receipts of the alert are `sent`. */
  allSent(alertId: string, count: number, timeoutMs = 60_000): Promise<number> {
    if ((this.sent.get(alertId)?.size ?? 0) >= count) return Promise.resolve(performance.now());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(alertId);
        reject(new Error(`alert ${alertId}: ${this.sent.get(alertId)?.size ?? 0} of ${count} receipts sent`));
      }, timeoutMs);
      this.waiters.set(alertId, {
        count,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      });
    });
  }

  private mark(alertId: string, receipt: string): void {
    const at = performance.now();
    let set = this.sent.get(alertId);
    if (!set) {
      set = new Set();
      this.sent.set(alertId, set);
    }
    set.add(receipt);
    const waiter = this.waiters.get(alertId);
    if (waiter && set.size >= waiter.count) {
      this.waiters.delete(alertId);
      waiter.resolve(at);
    }
  }
}

export async function measureAllChannels(options: { alerts: number }): Promise<AllChannelsResult> {
  // Imported here: the logger reads POWERTOOLS_LOG_LEVEL when its module loads (bench/run.ts sets it first).
  const { startHerald } = await import('../local/runtime');
  const { CHANNELS, CHANNEL } = await import('../functions/channels/list');
  const baselineChannels = ['x', 'facebook', 'instagram'] as const;
  const fakes = await startNetworkFakes();
  try {
    return await withTempDir('all-channels', async (dataDir) => {
      const herald = await startHerald({
        dataDir,
        port: 0,
        functionTimeoutSeconds: 30,
        sweepIntervalMs: 3_600_000,
        sandboxDelayMs: 0,
        env: fakes.env,
        providerBaseUrls: fakes.providerBaseUrls,
      });
      try {
        const sandboxed = CHANNELS.filter((c) => herald.providerChoices[c].mode !== 'real');
        if (sandboxed.length)
          throw new Error(`not every channel has its real client: ${sandboxed.join(', ')}`);
        const one = { count: 1, zones: [ZONE] };
        await seedSubscribers(herald.table, [
          ...(await makeSubscribers(herald.pii, { ...one, channel: 'sms', addressOf: () => '+34650000001' })),
          ...(await makeSubscribers(herald.pii, {
            ...one,
            channel: 'email',
            addressOf: () => 'resident@mail.example',
          })),
          ...(await makeSubscribers(herald.pii, {
            ...one,
            channel: 'webhook',
            addressOf: () => `${fakes.messaging.url}/outlet/news`,
            nameOf: () => 'News desk',
            secretOf: () => `whsec_${randomBytes(32).toString('base64')}`,
          })),
        ]);
        const probe = new SentProbe(herald);
        const token = await herald.identity.issue({ roles: ['officer'] });
        let n = 0;
        // One receipt per channel: one agency account per social channel, one subscriber per subscriber channel.
        const once = async (channels: readonly string[]): Promise<number> => {
          n++;
          const res = await fetch(`${herald.url}/v1/alerts`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            // A headline of its own: networks refuse a post identical to the one before.
            body: JSON.stringify({ ...DRAFT, headline: `${DRAFT.headline} (${n})`, channels }),
          });
          const text = await res.text();
          if (res.status !== 201)
            throw new Error(`POST /v1/alerts answered ${res.status}: ${text.slice(0, 300)}`);
          const accepted = performance.now();
          const { id } = JSON.parse(text) as { id: string };
          return (await probe.allSent(id, channels.length)) - accepted;
        };
        const all: number[] = [];
        const baseline: number[] = [];
        for (let i = 0; i < WARMUP; i++) {
          await once(CHANNELS);
          await once(baselineChannels);
        }
        // Interleaved, so a change in the machine's load touches both alike.
        for (let i = 0; i < options.alerts; i++) {
          all.push(await once(CHANNELS));
          baseline.push(await once(baselineChannels));
        }
        const allMs = summary(all);
        const baselineMs = summary(baseline);
        return {
          alerts: options.alerts,
          channels: CHANNELS,
          baselineChannels,
          receiptsPerAlert: {
            all: CHANNELS.length,
            baseline: baselineChannels.filter((c) => CHANNEL[c].audience === 'social').length,
          },
          allMs,
          baselineMs,
          ratio: {
            p50: allMs.p50 / baselineMs.p50,
            p95: allMs.p95 / baselineMs.p95,
            max: allMs.max / baselineMs.max,
          },
          anomalies: probe.anomalies,
        };
      } finally {
        await herald.stop();
      }
    });
  } finally {
    await fakes.close();
  }
}

export function allChannelsSection(r: AllChannelsResult): string {
  return section(
    '8. Accept → all ten channels sent (embedded, every real client against a local fake of its network)',
    [
      table(
        ['alert names', 'receipts', 'p50', 'p95', 'max'],
        [
          [
            `all ${r.channels.length} channels`,
            String(r.receiptsPerAlert.all),
            ms(r.allMs.p50),
            ms(r.allMs.p95),
            ms(r.allMs.max),
          ],
          [
            `${r.baselineChannels.join(', ')} (baseline)`,
            String(r.receiptsPerAlert.baseline),
            ms(r.baselineMs.p50),
            ms(r.baselineMs.p95),
            ms(r.baselineMs.max),
          ],
          ['ratio', '', `${fixed(r.ratio.p50)}×`, `${fixed(r.ratio.p95)}×`, `${fixed(r.ratio.max)}×`],
        ],
      ),
      `${r.alerts} alerts each, one at a time, interleaved (after ${WARMUP} warm-up alerts each); from the 201 being read to the last receipt recorded \`sent\``,
      'one resident by SMS, one by email and one media outlet subscribed to the zone; no image, so Instagram draws the alert card each time and polls its container as it does on Meta',
      `receipts recorded other than \`sent\`: ${r.anomalies}`,
    ].join('\n'),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const alerts = Number(process.argv[2] ?? 30);
  process.stdout.write(
    `${allChannelsSection(await measureAllChannels({ alerts: alerts > 0 ? alerts : 30 }))}\n`,
  );
  process.exit(0);
}
