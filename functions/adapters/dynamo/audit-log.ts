/**
 * The tamper-evident audit log in the single table (chain logic in core/audit-chain.ts; layout in table.ts):
 *
 *   AUDITLOG#<kind>#<id> / <n, 10 digits>   one chained entry of the stream (an alert, a tip or a subscriber):
 *                                        content, recordedAt, prevHash, hash; GSI1 = AUDITLOG#<kind> / <id>#<n> lists
 *                                        every entry of a kind in stream and sequence order (the verifier's read)
 *
 * Append-only without transactions: an append reads the stream's last entry and writes entry n+1 on condition that
 * the key does not exist yet; when another writer took n+1 first, it reads again and takes the next. Nothing updates or
 * deletes an entry once written. The write is an UpdateItem (with attribute_not_exists) rather than a PutItem, because
 * the sweeper, which appends a tip's `tip.contact-erased`, is granted Query and UpdateItem only.
 *
 * The entry is written right after the existing audit record it mirrors (a version, a tip's or a subscriber's audit
 * item), which is itself written after the change it records: a crash between the two leaves a record with no chain
 * entry, which the verifier reports (the trail holds an event the chain does not), never a chain entry for a change
 * that did not happen. The head goes to the head store after the entry.
 */
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  type AuditContent,
  type AuditStream,
  type AuditStreamKind,
  type ChainEntry,
  nextEntry,
} from '../../core/audit-chain';
import type { Page } from '../../ports';
import type { AuditHeadStore, AuditLog } from '../../ports/audit';
import { NO_AUDIT_HEADS } from '../audit-heads/file';
import { type DynamoContext, type Item, isConditionFailure, queryAll } from './context';
import { decodeCursor, encodeCursor, GSI1, InvalidCursorError } from './keys';

export const AUDIT_LOG_PREFIX = 'AUDITLOG#';
const N_DIGITS = 10;
/** A stream is one alert, tip or subscriber: more writers than this racing for one of them is a fault, not load. */
const MAX_APPEND_ATTEMPTS = 25;
/** Entries per page of the verifier's listing (each about half a kilobyte). */
const LIST_PAGE = 1000;

const pad = (n: number) => String(n).padStart(N_DIGITS, '0');
export const auditLogPk = (s: AuditStream) => `${AUDIT_LOG_PREFIX}${s.kind}#${s.id}`;
export const auditLogSk = (n: number) => pad(n);
export const auditLogIndexPk = (kind: AuditStreamKind) => `${AUDIT_LOG_PREFIX}${kind}`;
const auditLogIndexSk = (s: AuditStream, n: number) => `${s.id}#${pad(n)}`;

function toEntry(item: Item): ChainEntry {
  return {
    stream: { kind: item.kind as AuditStreamKind, id: item.streamId as string },
    n: Number(item.n),
    recordedAt: item.recordedAt as string,
    content: (item.content ?? {}) as AuditContent,
    prevHash: item.prevHash as string,
    hash: item.hash as string,
  };
}

export class DynamoAuditLog implements AuditLog {
  constructor(
    private readonly ctx: DynamoContext,
    readonly heads: AuditHeadStore = NO_AUDIT_HEADS,
  ) {}

  /**
   * `newStream`: the caller has just created the subject (a version 1, a subscriber), so the chain is expected empty
   * and the first attempt skips reading its last entry; a conflict still falls back to reading it.
   */
  async append(
    stream: AuditStream,
    content: AuditContent,
    options: { newStream?: boolean } = {},
  ): Promise<ChainEntry> {
    const [entry] = await this.appendAll(stream, [content], options);
    return entry as ChainEntry;
  }

  /** Several entries of one stream, in order (one change that the trail shows as several events). */
  async appendAll(
    stream: AuditStream,
    contents: readonly AuditContent[],
    options: { newStream?: boolean } = {},
  ): Promise<ChainEntry[]> {
    const written: ChainEntry[] = [];
    let last = options.newStream ? undefined : await this.lastEntry(stream);
    for (const content of contents) {
      last = await this.appendAfter(stream, last, content);
      written.push(last);
    }
    return written;
  }

  /** Writes the entry after `last`; when another writer took that place first, reads the new last and tries again. */
  private async appendAfter(
    stream: AuditStream,
    last: ChainEntry | undefined,
    content: AuditContent,
  ): Promise<ChainEntry> {
    let previous = last;
    for (let attempt = 0; attempt < MAX_APPEND_ATTEMPTS; attempt++) {
      const entry = nextEntry(stream, previous, content, new Date().toISOString());
      if (await this.writeIfAbsent(entry)) {
        await this.heads.put({ stream, n: entry.n, hash: entry.hash, at: entry.recordedAt });
        return entry;
      }
      previous = await this.lastEntry(stream);
    }
    throw new Error(
      `audit chain ${stream.kind}: no free sequence number after ${MAX_APPEND_ATTEMPTS} attempts`,
    );
  }

  async readStream(stream: AuditStream): Promise<ChainEntry[]> {
    const items = await queryAll(this.ctx, {
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': auditLogPk(stream) },
      ConsistentRead: true,
    });
    return items.map(toEntry);
  }

  async listEntries(kind: AuditStreamKind, cursor?: string | undefined): Promise<Page<ChainEntry>> {
    const start =
      cursor === undefined
        ? undefined
        : decodeCursor(
            cursor,
            ['PK', 'SK', 'GSI1PK', 'GSI1SK'],
            (key) => key.GSI1PK === auditLogIndexPk(kind),
          );
    const page = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        IndexName: GSI1,
        KeyConditionExpression: 'GSI1PK = :pk',
        ExpressionAttributeValues: { ':pk': auditLogIndexPk(kind) },
        Limit: LIST_PAGE,
        ExclusiveStartKey: start,
      }),
    );
    const next = page.LastEvaluatedKey;
    if (next && typeof next.GSI1PK !== 'string') throw new InvalidCursorError('unexpected listing key');
    return {
      items: ((page.Items ?? []) as Item[]).map(toEntry),
      cursor: next
        ? encodeCursor({
            PK: String(next.PK),
            SK: String(next.SK),
            GSI1PK: String(next.GSI1PK),
            GSI1SK: String(next.GSI1SK),
          })
        : undefined,
    };
  }

  private async lastEntry(stream: AuditStream): Promise<ChainEntry | undefined> {
    const { Items = [] } = await this.ctx.client.send(
      new QueryCommand({
        TableName: this.ctx.tableName,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': auditLogPk(stream) },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = Items[0] as Item | undefined;
    return item ? toEntry(item) : undefined;
  }

  private async writeIfAbsent(entry: ChainEntry): Promise<boolean> {
    const fields: Item = {
      GSI1PK: auditLogIndexPk(entry.stream.kind),
      GSI1SK: auditLogIndexSk(entry.stream, entry.n),
      kind: entry.stream.kind,
      streamId: entry.stream.id,
      n: entry.n,
      recordedAt: entry.recordedAt,
      content: entry.content,
      prevHash: entry.prevHash,
      hash: entry.hash,
    };
    const names = Object.keys(fields);
    try {
      await this.ctx.client.send(
        new UpdateCommand({
          TableName: this.ctx.tableName,
          Key: { PK: auditLogPk(entry.stream), SK: auditLogSk(entry.n) },
          ConditionExpression: 'attribute_not_exists(PK)',
          UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :a${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#a${i}`, name])),
          ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:a${i}`, fields[name]])),
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }
}

/** The audit log a store carries (DynamoStore.auditLog), as tipStoreOf finds its tips. */
export function auditLogOf(store: object): DynamoAuditLog {
  const log = (store as { auditLog?: DynamoAuditLog }).auditLog;
  if (!log) throw new Error('the store keeps no audit log: compose the handlers with DynamoStore');
  return log;
}
