/**
 * The tamper-evident audit log's pure half: canonical JSON, the hash chain, and the checks that find an entry edited,
 * deleted, reordered or cut off the end. No I/O: the table adapter (adapters/dynamo/audit-log.ts) stores and reads the
 * entries, the head store (ports/audit.ts) keeps every head of every stream outside the table.
 *
 * One chain per stream, a stream being one alert, one tip or one subscriber, rather than one global chain: appending
 * is a conditional write of the stream's next sequence number, and a global chain would make every audit write in
 * Herald (an import of thousands of subscribers, tips arriving during an incident) race for the same number on one hot
 * key, retrying on every conflict. Per stream, only writes about the same alert, tip or subscriber ever meet, and the
 * order an auditor reads (one alert's story) is the chain's own order. What a per-stream chain cannot see alone, a
 * whole stream deleted, is seen by its locked head (a head with no stream behind it) and, for alerts, tips and
 * subscribers, by the trail the rest of the table shows (an alert's versions, a tip's or subscriber's audit items)
 * with no chain beside it.
 *
 * hash(n) = SHA-256( hash(n-1) + canonicalJson({ stream, n, recordedAt, content }) ), hash(0) = GENESIS_HASH: the
 * stream and sequence number are inside the hash, so an entry cannot be moved to another place or stream unnoticed.
 */
import { createHash } from 'node:crypto';

/** The hash before a stream's first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** Whose story a stream tells: each alert, tip and subscriber has one chain of its own. */
export const AUDIT_STREAM_KINDS = ['alert', 'tip', 'subscriber'] as const;
export type AuditStreamKind = (typeof AUDIT_STREAM_KINDS)[number];

export interface AuditStream {
  kind: AuditStreamKind;
  id: string;
}

/** What an audit entry says: an alert's event, a tip's audit entry, a subscription event (never an address). */
export type AuditContent = Record<string, unknown>;

export interface ChainEntry {
  stream: AuditStream;
  /** 1, 2, 3… in the stream, with no gap. */
  n: number;
  /** When it was chained (the event's own time is in `content.at`). */
  recordedAt: string;
  content: AuditContent;
  prevHash: string;
  hash: string;
}

/** A stream's head after entry n, as the head store keeps it outside the table. */
export interface AuditHead {
  stream: AuditStream;
  n: number;
  hash: string;
  at: string;
}

export interface BrokenEntry {
  alertId?: string | undefined;
  /** `<kind>:<id>#<n>`, or `<kind>:<id>` for something about the whole stream. */
  entry: string;
  reason: string;
}

export const streamName = (s: AuditStream) => `${s.kind}:${s.id}`;
export const entryName = (s: AuditStream, n?: number) =>
  n === undefined ? streamName(s) : `${streamName(s)}#${n}`;

/**
 * JSON with every object's keys sorted and `undefined` members left out, so one content always hashes the same
 * whatever order its fields were written in (DynamoDB returns a map's attributes in no fixed order).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new TypeError('an audit entry cannot hold a number that is not finite');
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const members = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${members.join(',')}}`;
}

export function chainHash(
  prevHash: string,
  entry: Pick<ChainEntry, 'stream' | 'n' | 'recordedAt' | 'content'>,
): string {
  const body = canonicalJson({
    stream: streamName(entry.stream),
    n: entry.n,
    recordedAt: entry.recordedAt,
    content: entry.content,
  });
  return createHash('sha256').update(prevHash).update(body).digest('hex');
}

/** The entry that follows `previous` (undefined: the stream's first). */
export function nextEntry(
  stream: AuditStream,
  previous: Pick<ChainEntry, 'n' | 'hash'> | undefined,
  content: AuditContent,
  recordedAt: string,
): ChainEntry {
  const n = (previous?.n ?? 0) + 1;
  const prevHash = previous?.hash ?? GENESIS_HASH;
  return {
    stream,
    n,
    recordedAt,
    content,
    prevHash,
    hash: chainHash(prevHash, { stream, n, recordedAt, content }),
  };
}

const alertIdOf = (s: AuditStream) => (s.kind === 'alert' ? { alertId: s.id } : {});

/**
 * Checks one stream's entries (any order; they are sorted by n) from its first: an edited entry fails its own hash, a
 * deleted one leaves a gap in the numbers (or, deleted at the start, a first entry that is not 1), a replaced or
 * reordered one breaks the next entry's prevHash. Each problem is named once: after a break the check goes on from
 * the stored hash, so one edited entry is one broken entry, not every entry after it.
 */
export function verifyStream(stream: AuditStream, entries: readonly ChainEntry[]): BrokenEntry[] {
  const broken: BrokenEntry[] = [];
  const sorted = [...entries].sort((a, b) => a.n - b.n);
  let expectedN = 1;
  let prevHash = GENESIS_HASH;
  for (const e of sorted) {
    const at = { ...alertIdOf(stream), entry: entryName(stream, e.n) };
    if (e.n !== expectedN) {
      const missing =
        expectedN === e.n - 1 ? `entry ${expectedN} is` : `entries ${expectedN} to ${e.n - 1} are`;
      broken.push({
        ...alertIdOf(stream),
        entry: entryName(stream, expectedN),
        reason: `sequence gap: ${missing} missing from the table (deleted)`,
      });
    } else if (e.prevHash !== prevHash) {
      broken.push({
        ...at,
        reason: `prevHash does not match the hash of entry ${e.n - 1}: the entry before it was replaced or reordered`,
      });
    }
    if (chainHash(e.prevHash, e) !== e.hash)
      broken.push({ ...at, reason: 'hash mismatch: its content was changed after it was written' });
    expectedN = e.n + 1;
    prevHash = e.hash;
  }
  return broken;
}

/**
 * Compares a stream's entries with every head locked outside the table for it: each locked (n, hash) must be entry n
 * of the table's chain, with that hash. A locked head with no entry is an entry deleted (the tail cut off, or the whole
 * stream); a different hash is a chain rewritten, hashes and all. Two heads locked at one n are two entries that were
 * both chained there, one of them after the other was deleted: the one that is not in the table is reported. Entries
 * beyond the last head are normal (appended since, or their head's write failed).
 */
export function verifyAgainstHeads(
  stream: AuditStream,
  entries: readonly ChainEntry[],
  heads: readonly Pick<AuditHead, 'n' | 'hash'>[],
): BrokenEntry[] {
  const byN = new Map(entries.map((e) => [e.n, e]));
  const last = entries.reduce((max, e) => Math.max(max, e.n), 0);
  const broken: BrokenEntry[] = [];
  for (const head of [...heads].sort((a, b) => a.n - b.n || a.hash.localeCompare(b.hash))) {
    const entry = byN.get(head.n);
    if (entry?.hash === head.hash) continue;
    broken.push({
      ...alertIdOf(stream),
      entry: entryName(stream, head.n),
      reason: entry
        ? 'head mismatch: its hash is not the one locked outside the table (the chain was rewritten)'
        : last === 0
          ? `head mismatch: entry ${head.n} is locked outside the table, and the stream is not in the table (deleted)`
          : last < head.n
            ? `head mismatch: entry ${head.n} is locked outside the table, the table's chain ends at ${last} (its tail was cut off)`
            : `head mismatch: entry ${head.n} is locked outside the table and missing from it (deleted)`,
    });
  }
  return broken;
}

/**
 * Compares what a stream's chain says with the trail the rest of the table shows for the same subject (an alert's
 * versions, a tip's or subscriber's audit items), as multisets of canonical JSON. Something in the trail and not in the
 * chain was added behind Herald's back, or is the one write a crash cut off between the trail and the chain (the chain
 * entry is written second); something in the chain and not in the trail was edited or deleted in the table.
 */
export function compareWithTrail(
  stream: AuditStream,
  chained: readonly ChainEntry[],
  trail: readonly AuditContent[],
  trailName: string,
): BrokenEntry[] {
  const unmatched = new Map<string, number[]>();
  for (const e of chained) {
    const key = canonicalJson(e.content);
    unmatched.set(key, [...(unmatched.get(key) ?? []), e.n]);
  }
  const broken: BrokenEntry[] = [];
  for (const content of trail) {
    const key = canonicalJson(content);
    const ns = unmatched.get(key);
    if (ns && ns.length > 0) ns.shift();
    else
      broken.push({
        ...alertIdOf(stream),
        entry: entryName(stream),
        reason: `${describe(content)} is in ${trailName} but not in the chain: written behind Herald's back, or its chain entry was lost in a crash`,
      });
  }
  for (const [key, ns] of unmatched)
    for (const n of ns)
      broken.push({
        ...alertIdOf(stream),
        entry: entryName(stream, n),
        reason: `${describe(JSON.parse(key) as AuditContent)} is in the chain but not in ${trailName}: edited or deleted in the table`,
      });
  return broken;
}

const describe = (content: AuditContent) =>
  [content.action, content.version === undefined ? undefined : `version ${content.version}`, content.at]
    .filter((part) => typeof part === 'string' || typeof part === 'number')
    .join(' ') || 'an entry';
