/**
 * The tamper-evident audit log's ports (functions/core/audit-chain.ts holds the chain's logic): the chained entries in
 * the table, and every head of every stream kept where an insider with table access cannot rewrite it.
 */
import type { AuditContent, AuditHead, AuditStream, AuditStreamKind, ChainEntry } from '../core/audit-chain';
import type { Page } from './store';

export interface AuditLog {
  /** Appends one entry at the end of the stream's chain (and hands its head to the head store). */
  append(stream: AuditStream, content: AuditContent, options?: { newStream?: boolean }): Promise<ChainEntry>;
  /** A stream's entries in order, read strongly consistently. */
  readStream(stream: AuditStream): Promise<ChainEntry[]>;
  /**
   * Every entry of one kind of stream, a page at a time, in stream then sequence order (a stream may go on in the
   * next page). Eventually consistent: a stream found broken is read again with readStream before it is reported.
   */
  listEntries(kind: AuditStreamKind, cursor?: string | undefined): Promise<Page<ChainEntry>>;
}

/**
 * Each stream's heads outside the table: on AWS an S3 bucket with Object Lock, in the embedded mode files in the data
 * directory, or nothing. `put` never throws: the entry is already in the table, and a head that could not be written
 * only leaves that entry unguarded until the next one's head is.
 */
export interface AuditHeadStore {
  /** False when heads are kept nowhere (verify then checks the table's chains alone). */
  readonly configured: boolean;
  put(head: AuditHead): Promise<void>;
  /** Every head locked, of every stream (of one stream, when given), in no particular order. */
  locked(stream?: AuditStream | undefined): Promise<AuditHead[]>;
}
