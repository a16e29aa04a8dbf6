/**
 * Where a head is kept, for every head store: `heads/<kind>/<id>/<n, 10 digits>-<hash>.json`, one object (or file) per
 * head, never overwritten. The number and hash are in the name, so reading the heads is a listing alone, with no read
 * of any object; the body repeats them with the time, for a person looking at the bucket.
 */
import {
  AUDIT_STREAM_KINDS,
  type AuditHead,
  type AuditStream,
  type AuditStreamKind,
} from '../../core/audit-chain';

export const HEADS_PREFIX = 'heads/';

const N_DIGITS = 10;

export const streamPrefix = (s: AuditStream) => `${HEADS_PREFIX}${s.kind}/${encodeURIComponent(s.id)}/`;

export const headKey = (head: AuditHead) =>
  `${streamPrefix(head.stream)}${String(head.n).padStart(N_DIGITS, '0')}-${head.hash}.json`;

export const headBody = (head: AuditHead) =>
  JSON.stringify({
    stream: `${head.stream.kind}:${head.stream.id}`,
    n: head.n,
    hash: head.hash,
    at: head.at,
  });

const KEY = /^heads\/([a-z]+)\/([^/]+)\/(\d{10})-([0-9a-f]{64})\.json$/;

/** The head a key names; undefined for anything else in the bucket. */
export function parseHeadKey(key: string, at: string): AuditHead | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const [, kind, id, n, hash] = match as unknown as [string, string, string, string, string];
  if (!(AUDIT_STREAM_KINDS as readonly string[]).includes(kind)) return undefined;
  return { stream: { kind: kind as AuditStreamKind, id: decodeURIComponent(id) }, n: Number(n), hash, at };
}
