/**
 * GET /v1/audit/verify's work: every stream's chain checked from its first entry, against every head of it locked
 * outside the table (when a head store is configured), and against the trail the rest of the table shows for the same subject
 * (an alert's versions, a tip's or a subscriber's audit items). Reports what is broken; fixes nothing.
 *
 * Cost of a whole check: every chained entry read once through GSI1, a page of 1,000 at a time (eventually consistent:
 * about 0.5 KB each, so some 70 read units per 1,000 entries), one strongly consistent Query per stream for its trail
 * (an alert's versions, a tip's or subscriber's audit items), and one S3 LIST per 1,000 heads. A stream the listing
 * shows broken is read again strongly consistently before it is reported (the index may lag a write by a moment). The
 * api's 10 s limit bounds what one request can check; `?alertId=` checks one alert at the cost of three reads.
 */
import {
  AUDIT_STREAM_KINDS,
  type AuditContent,
  type AuditHead,
  type AuditStream,
  type AuditStreamKind,
  type BrokenEntry,
  type ChainEntry,
  compareWithTrail,
  streamName,
  verifyAgainstHeads,
  verifyStream,
} from './audit-chain';
import { ALERT_ACTIONS_NOT_DERIVED } from './audit-events';

export interface AuditVerifyDeps {
  log: {
    readStream(stream: AuditStream): Promise<ChainEntry[]>;
    listEntries(
      kind: AuditStreamKind,
      cursor?: string | undefined,
    ): Promise<{ items: ChainEntry[]; cursor?: string | undefined }>;
  };
  heads: { locked(stream?: AuditStream | undefined): Promise<AuditHead[]> };
  /** What the rest of the table shows happened to the subject; undefined when the table holds nothing of it. */
  trail(stream: AuditStream): Promise<AuditContent[] | undefined>;
  /** Every alert id, so an alert whose whole chain is gone is found too. */
  alertIds(): AsyncIterable<string>;
}

export interface AuditVerification {
  ok: boolean;
  /** Chained entries checked. */
  checked: number;
  broken: BrokenEntry[];
}

const TRAIL_NAME: Record<AuditStreamKind, string> = {
  alert: "the alert's versions",
  tip: "the tip's audit items",
  subscriber: "the subscriber's audit items",
};

/** Every check of one stream, from the entries given. */
async function checkStream(
  deps: AuditVerifyDeps,
  stream: AuditStream,
  entries: readonly ChainEntry[],
  heads: readonly AuditHead[],
): Promise<BrokenEntry[]> {
  const broken = [...verifyStream(stream, entries), ...verifyAgainstHeads(stream, entries, heads)];
  const trail = await deps.trail(stream);
  // The chain's own content is compared only where the trail can say it: an alert's released events are not derived.
  const comparable =
    stream.kind === 'alert'
      ? entries.filter((e) => !ALERT_ACTIONS_NOT_DERIVED.has(String(e.content.action)))
      : entries;
  broken.push(...compareWithTrail(stream, comparable, trail ?? [], TRAIL_NAME[stream.kind]));
  return broken;
}

/** One stream: read strongly consistently, so what is reported is what the table holds now. */
async function verifyOne(
  deps: AuditVerifyDeps,
  stream: AuditStream,
  heads: readonly AuditHead[],
): Promise<{ checked: number; broken: BrokenEntry[] }> {
  const entries = await deps.log.readStream(stream);
  return { checked: entries.length, broken: await checkStream(deps, stream, entries, heads) };
}

const result = (checked: number, broken: BrokenEntry[]): AuditVerification => ({
  ok: broken.length === 0,
  checked,
  broken,
});

/** One alert's chain; undefined when neither the table nor the head store knows the alert. */
export async function verifyAlertAudit(
  deps: AuditVerifyDeps,
  alertId: string,
): Promise<AuditVerification | undefined> {
  const stream: AuditStream = { kind: 'alert', id: alertId };
  const heads = await deps.heads.locked(stream);
  const entries = await deps.log.readStream(stream);
  if (entries.length === 0 && heads.length === 0 && (await deps.trail(stream)) === undefined)
    return undefined;
  return result(entries.length, await checkStream(deps, stream, entries, heads));
}

/** Every chain in the table. */
export async function verifyAuditLog(deps: AuditVerifyDeps): Promise<AuditVerification> {
  const heads = new Map<string, AuditHead[]>();
  for (const head of await deps.heads.locked())
    heads.set(streamName(head.stream), [...(heads.get(streamName(head.stream)) ?? []), head]);
  const headsOf = (stream: AuditStream) => heads.get(streamName(stream)) ?? [];
  const seen = new Set<string>();
  const broken: BrokenEntry[] = [];
  let checked = 0;

  const finish = async (stream: AuditStream, entries: ChainEntry[]) => {
    seen.add(streamName(stream));
    const found = await checkStream(deps, stream, entries, headsOf(stream));
    if (found.length === 0) {
      checked += entries.length;
      return;
    }
    // The index may not hold the newest entries yet: what the listing saw broken is read again before it is said.
    const again = await verifyOne(deps, stream, headsOf(stream));
    checked += again.checked;
    broken.push(...again.broken);
  };

  for (const kind of AUDIT_STREAM_KINDS) {
    let current: { stream: AuditStream; entries: ChainEntry[] } | undefined;
    let cursor: string | undefined;
    do {
      const page = await deps.log.listEntries(kind, cursor);
      for (const entry of page.items) {
        if (current && current.stream.id !== entry.stream.id) {
          await finish(current.stream, current.entries);
          current = undefined;
        }
        current ??= { stream: entry.stream, entries: [] };
        current.entries.push(entry);
      }
      cursor = page.cursor;
    } while (cursor);
    if (current) await finish(current.stream, current.entries);
  }

  // A head whose stream the listing did not show: deleted, or written a moment ago and not yet in the index.
  for (const [name, locked] of heads)
    if (!seen.has(name) && locked[0]) {
      seen.add(name);
      const again = await verifyOne(deps, locked[0].stream, locked);
      checked += again.checked;
      broken.push(...again.broken);
    }

  // An alert with no chain at all: its whole stream deleted (or every append lost, which a crash cannot do alone).
  for await (const alertId of deps.alertIds()) {
    const name = streamName({ kind: 'alert', id: alertId });
    if (seen.has(name)) continue;
    seen.add(name);
    const again = await verifyOne(deps, { kind: 'alert', id: alertId }, []);
    checked += again.checked;
    broken.push(...again.broken);
  }
  return result(checked, broken);
}
