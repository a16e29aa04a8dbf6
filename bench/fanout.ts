/**
 * Fan-out at scale: one SMS alert to every confirmed subscriber of one zone, in the embedded mode, with the sandbox
 * SMS provider answering at once. Measured in one embedded Herald per run:
 * - planning: subscribers expanded into send jobs per second, from the dispatcher's first roster read to the version
 *   marked planned (rosters read, job items written, jobs queued);
 * - end to end: recipients per second from the POST to the last `sent` receipt written;
 * - AWS requests counted at the adapters (DynamoDB through the SDK middleware, SQS at the queue port), per 1,000
 *   recipients, less the sandbox's own outbox write per message (it stands in for the SNS Publish, which is the
 *   one request per message any design pays);
 * - the process's peak resident memory (every thread: the handlers, the queues, dynalite).
 * The naive design is the same code with one recipient per job (HERALD_RECIPIENTS_PER_JOB=1): one SQS message,
 * one claim, one subscriber read, one receipt write, one settled count and one job update per recipient.
 *
 * Quiet hours (`quietShare`): that share of the residents, spread evenly, have quiet hours holding the moment the
 * alert goes out, and the alert is not urgent (Moderate, Expected): they are deferred (a `deferred` receipt, listed
 * in a deferral item) rather than sent, and a recipient counts as handled at its first receipt either way.
 */

import { performance } from 'node:perf_hooks';
import type { Receipt } from '../functions/core/model';
import type { QuietWindow } from '../functions/core/quiet-hours';
import { newId } from '../functions/shared/ids';
import { startHerald } from '../local/runtime';
import { withTempDir } from './harness';
import { makeSmsSubscribers, repairRosters, seedSubscribers } from './seed-subscribers';
import { sleep } from './stats';
import { measureTipBurst, type TipBurst } from './tips';

export interface FanoutRun {
  recipients: number;
  /** Roster ids dynalite lost while seeding, written again before the alert (see repairRosters). */
  rosterRepaired: number;
  /** Residents in quiet hours, and those the fan-out deferred (they have a `deferred` receipt, nothing sent). */
  quietResidents: number;
  deferred: number;
  recipientsPerJob: number;
  senders: number;
  seedSeconds: number;
  planningSeconds: number;
  plannedPerSecond: number;
  endToEndSeconds: number;
  recipientsPerSecond: number;
  /** Requests besides the per-message provider call, per 1,000 recipients. */
  requestsPer1000: number;
  byCommandPer1000: Record<string, number>;
  outboxWrites: number;
  duplicates: number;
  /** The process's peak resident memory once seeding was done, before the alert (maxRSS never goes down). */
  maxRssAfterSeedMb: number;
  /** The process's peak once every message is sent, before any reply burst. */
  maxRssAfterFanoutMb: number;
  /** The residents' replies afterwards, when asked for: arriving over a minute, then all at once. */
  tips?: { overAMinute: TipBurst; atOnce: TipBurst };
}

const ZONE = 'eixample';
const SEED_CHUNK = 5_000;

export async function measureFanout(options: {
  recipients: number;
  recipientsPerJob: number;
  senders: number;
  /** Replies from this many residents once every one has the alert (bench/tips.ts); none when 0 or absent. */
  tipBurst?: number;
  /** Share of residents in quiet hours when the alert goes out; the alert is then not urgent. Absent: none, urgent. */
  quietShare?: number;
}): Promise<FanoutRun> {
  return withTempDir(`fanout-${options.recipientsPerJob}`, async (dir) => {
    const herald = await startHerald({
      dataDir: dir,
      port: 0,
      countRequests: true,
      sandboxDelayMs: 0,
      sweepIntervalMs: 3_600_000,
      env: {
        // The route is not what is measured: fast enough that pacing never waits.
        HERALD_SMS_MPS: '1000000',
        HERALD_SMS_SENDER_CONCURRENCY: String(options.senders),
        HERALD_RECIPIENTS_PER_JOB: String(options.recipientsPerJob),
        HERALD_SWEEP_AFTER_SECONDS: '3600',
      },
    });
    try {
      // Quiet hours that hold now on the agency's clock (UTC here): from the hour before to two hours after.
      const hour = new Date().getUTCHours();
      const quiet: QuietWindow = {
        from: `${String((hour + 23) % 24).padStart(2, '0')}:00`,
        to: `${String((hour + 2) % 24).padStart(2, '0')}:00`,
      };
      const share = options.quietShare ?? 0;
      // Evenly spread: resident n is quiet when the running count of quiet ones steps up at n.
      const isQuiet = (n: number) => Math.floor((n + 1) * share) > Math.floor(n * share);
      const quietResidents = Math.floor(options.recipients * share);
      const seedStart = performance.now();
      // In chunks, so the seeding's own objects never add up to the whole population.
      for (let first = 0; first < options.recipients; first += SEED_CHUNK) {
        const count = Math.min(SEED_CHUNK, options.recipients - first);
        await seedSubscribers(
          herald.table,
          await makeSmsSubscribers(herald.pii, {
            count,
            zones: [ZONE],
            firstNumber: first,
            quietHoursOf: (i) => (isQuiet(first + i) ? quiet : undefined),
          }),
        );
      }
      const seedSeconds = (performance.now() - seedStart) / 1000;
      // The roster must hold every resident, or the run would wait for receipts that can never come.
      const rosterOf = async () => new Set(await herald.subscribers.rosterMembers(ZONE, 'sms', 'public'));
      let rostered = await rosterOf();
      const rosterRepaired =
        rostered.size === options.recipients ? 0 : await repairRosters(herald.table, rostered, 'sms');
      if (rosterRepaired > 0) rostered = await rosterOf();
      if (rostered.size !== options.recipients)
        throw new Error(
          `seeded ${options.recipients} residents, but the zone's roster holds ${rostered.size}`,
        );
      const maxRssAfterSeedMb = process.resourceUsage().maxRSS / 1024;

      // Probes on the instances the handlers were given; none changes what they do.
      let planningStart: number | undefined;
      let plannedAt: number | undefined;
      let sent = 0;
      let deferred = 0;
      let lastSentAt = 0;
      let outboxWrites = 0;
      const keys = new Set<string>();
      let duplicates = 0;
      const roster = herald.subscribers.rosterMembers.bind(herald.subscribers);
      herald.subscribers.rosterMembers = (...args) => {
        planningStart ??= performance.now();
        return roster(...args);
      };
      const markPlanned = herald.store.markPlanned.bind(herald.store);
      herald.store.markPlanned = async (...args) => {
        await markPlanned(...args);
        plannedAt = performance.now();
      };
      const putReceipts = herald.store.putReceipts.bind(herald.store);
      herald.store.putReceipts = async (receipts: readonly Receipt[]) => {
        await putReceipts(receipts);
        sent += receipts.filter((r) => r.status === 'sent').length;
        deferred += receipts.filter((r) => r.status === 'deferred').length;
        lastSentAt = performance.now();
      };
      const append = herald.store.append.bind(herald.store);
      herald.store.append = async (item) => {
        await append(item);
        outboxWrites++;
        if (keys.has(item.idempotencyKey)) duplicates++;
        keys.add(item.idempotencyKey);
      };

      const token = await herald.identity.issue({ roles: ['officer'] });
      herald.requests?.reset();
      const t0 = performance.now();
      const response = await fetch(`${herald.url}/v1/alerts`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': newId(),
        },
        body: JSON.stringify(
          options.quietShare === undefined
            ? {
                status: 'Actual',
                category: 'Safety',
                event: 'Gas leak',
                urgency: 'Immediate',
                severity: 'Severe',
                certainty: 'Observed',
                headline: 'Gas leak: stay indoors, close windows',
                description:
                  'A gas leak near Passeig de Gràcia. Stay indoors and close windows until told otherwise.',
                language: 'en',
                areas: [{ zone: ZONE, areaDesc: 'Eixample' }],
                channels: ['sms'],
              }
            : {
                // Not urgent: it waits for the end of a resident's quiet hours.
                status: 'Actual',
                category: 'Transport',
                event: 'Road closure',
                urgency: 'Expected',
                severity: 'Moderate',
                certainty: 'Observed',
                headline: 'Passeig de Gràcia closed tomorrow 08:00-14:00',
                description:
                  'Passeig de Gràcia is closed tomorrow from 08:00 to 14:00 for works. Use Pau Claris.',
                language: 'en',
                areas: [{ zone: ZONE, areaDesc: 'Eixample' }],
                channels: ['sms'],
              },
        ),
      });
      if (response.status !== 201) throw new Error(`POST /v1/alerts answered ${response.status}`);
      const deadline = Date.now() + 15 * 60_000;
      while (sent + deferred < options.recipients) {
        if (Date.now() > deadline)
          throw new Error(`only ${sent} sent and ${deferred} deferred of ${options.recipients}`);
        await sleep(100);
      }
      // The jobs' last updates and counts follow their receipts: let them land before reading the counter.
      await sleep(1000);
      const requests = herald.requests;
      if (!requests) throw new Error('the request counter is off');
      const byCommand = requests.byCommand();
      // The sandbox's outbox write per message stands in for SNS Publish: not the fan-out's cost.
      byCommand['dynamodb:PutItem'] = (byCommand['dynamodb:PutItem'] ?? 0) - outboxWrites;
      const total = Object.values(byCommand).reduce((a, b) => a + b, 0);
      const per1000 = (n: number) => Math.round((n / options.recipients) * 1000 * 100) / 100;
      // Read before the replies, whose acknowledgements go to the outbox too, and whose memory is theirs.
      const fanoutOutbox = { writes: outboxWrites, duplicates };
      const maxRssAfterFanoutMb = process.resourceUsage().maxRSS / 1024;
      let tips: FanoutRun['tips'];
      if (options.tipBurst) {
        // Residents spread over the whole population reply, as replies would be; two bursts, two sets of them.
        const count = options.tipBurst;
        const step = Math.floor(options.recipients / (2 * count));
        const phones = (offset: number) =>
          Array.from({ length: count }, (_, i) => `+3461${String((2 * i + offset) * step).padStart(7, '0')}`);
        tips = {
          overAMinute: await measureTipBurst(herald, {
            phones: phones(0),
            officerToken: token,
            spreadOverMs: 60_000,
          }),
          atOnce: await measureTipBurst(herald, { phones: phones(1), officerToken: token }),
        };
      }
      const planningSeconds = ((plannedAt ?? Number.NaN) - (planningStart ?? Number.NaN)) / 1000;
      const endToEndSeconds = (lastSentAt - t0) / 1000;
      if (deferred !== quietResidents)
        throw new Error(`${quietResidents} residents in quiet hours, but ${deferred} deferred`);
      return {
        recipients: options.recipients,
        rosterRepaired,
        quietResidents,
        deferred,
        recipientsPerJob: options.recipientsPerJob,
        senders: options.senders,
        seedSeconds: Math.round(seedSeconds * 10) / 10,
        planningSeconds: Math.round(planningSeconds * 1000) / 1000,
        plannedPerSecond: Math.round(options.recipients / planningSeconds),
        endToEndSeconds: Math.round(endToEndSeconds * 10) / 10,
        recipientsPerSecond: Math.round(options.recipients / endToEndSeconds),
        requestsPer1000: per1000(total),
        byCommandPer1000: Object.fromEntries(
          Object.entries(byCommand)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => [k, per1000(n)]),
        ),
        outboxWrites: fanoutOutbox.writes,
        duplicates: fanoutOutbox.duplicates,
        maxRssAfterSeedMb: Math.round(maxRssAfterSeedMb),
        maxRssAfterFanoutMb: Math.round(maxRssAfterFanoutMb),
        ...(tips ? { tips } : {}),
      };
    } finally {
      await herald.stop();
    }
  });
}
