/**
 * Officers importing subscribers from another provider: POST /v1/subscriptions/import (CSV), a report per row. Kept
 * apart from the residents' own sign-up (subscriptions.ts), which it shares only the store and the audit with.
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { LanguageTag } from '../../schemas/alert';
import { type ImportReport, ZoneId } from '../../schemas/subscriptions';
import { normaliseAddress } from '../core/addresses';
import {
  HttpProblem,
  payloadTooLarge,
  unprocessable,
  unsupportedMediaType,
  validationFailed,
} from '../core/errors';
import { ALL_ZONES, type Consent, type Subscriber } from '../core/model';
import { maskRecipient } from '../shared/mask';
import type { ApiDeps, OperationInput } from './alerts';
import { type ApiResult, header, json, MAX_BODY_BYTES } from './http';
import { audit, unionZones, updateSubscriber } from './residents';

/** Rows one import may hold: larger lists go in several files (each answer stays readable, each request short). */
export const MAX_IMPORT_ROWS = 5000;
const IMPORT_COLUMNS = ['channel', 'address', 'zones', 'language', 'consent'] as const;
/** Rows written at once: parallel enough to be quick, few enough to stay under the table's burst capacity. */
const IMPORT_CONCURRENCY = 8;

type ImportRow = Record<(typeof IMPORT_COLUMNS)[number], string>;
type RowError = ImportReport['errors'][number];

interface GoodRow {
  row: number;
  channel: 'sms' | 'email';
  address: string;
  zones: string[];
  language: string;
  consent: string;
}

function readCsvBody(event: OperationInput['event']): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
  const type = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'text/csv') throw unsupportedMediaType('text/csv');
  if (bytes.length === 0)
    throw validationFailed([{ path: '', message: 'a CSV body is required' }], 'The request has no body.');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw validationFailed([{ path: '', message: 'is not valid UTF-8' }], 'The body is not valid UTF-8.');
  }
}

function checkRow(deps: ApiDeps, row: number, record: ImportRow): { good?: GoodRow; errors: RowError[] } {
  const errors: RowError[] = [];
  const fail = (field: string, message: string) => errors.push({ row, field, message });
  const channel = record.channel.trim().toLowerCase();
  if (channel !== 'sms' && channel !== 'email') fail('channel', 'must be sms or email');
  let address = '';
  if (channel === 'sms' || channel === 'email') {
    const n = normaliseAddress(channel, record.address);
    if (n.ok) address = n.address;
    else fail('address', n.message);
  }
  const zones = record.zones
    .split(/[;\s]+/)
    .map((z) => z.trim().toLowerCase())
    .filter(Boolean);
  if (zones.length === 0) fail('zones', 'must name at least one zone (separate several with ";")');
  for (const zone of zones)
    if (zone !== ALL_ZONES && (!ZoneId.safeParse(zone).success || !deps.zones.has(zone)))
      fail('zones', `"${zone.slice(0, 64)}" is not one of the agency's zones`);
  const language = record.language.trim() || 'en';
  if (!LanguageTag.safeParse(language).success)
    fail('language', 'must be a language tag such as en, es or ca');
  const consent = record.consent.trim();
  if (consent.length === 0)
    fail('consent', 'is required: the consent the subscriber gave, as the old provider recorded it');
  else if (consent.length > 1000) fail('consent', 'must be at most 1000 characters');
  if (errors.length > 0) return { errors };
  return {
    good: {
      row,
      channel: channel as 'sms' | 'email',
      address,
      zones: [...new Set(zones)],
      language,
      consent,
    },
    errors,
  };
}

export async function importSubscriptions(
  deps: ApiDeps,
  { event, actor }: OperationInput,
): Promise<ApiResult> {
  const text = readCsvBody(event);
  let records: string[][];
  try {
    records = parseCsv(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: false,
      max_record_size: 4096,
      to: MAX_IMPORT_ROWS + 2,
    }) as string[][];
  } catch (error) {
    const where =
      error && typeof error === 'object' && 'lines' in error ? ` near line ${String(error.lines)}` : '';
    throw validationFailed(
      [{ path: '', message: `is not valid CSV${where}` }],
      `The body is not valid CSV${where}.`,
    );
  }
  const headerRow = (records[0] ?? []).map((h) => h.trim().toLowerCase());
  const missing = IMPORT_COLUMNS.filter((c) => !headerRow.includes(c));
  const unknown = headerRow.filter((h) => !(IMPORT_COLUMNS as readonly string[]).includes(h));
  if (missing.length > 0 || unknown.length > 0)
    throw unprocessable(`The first row must be the header ${IMPORT_COLUMNS.join(',')}.`, [
      ...missing.map((c) => ({ path: `/header/${c}`, message: 'is missing' })),
      ...unknown.map((c) => ({ path: `/header/${c.slice(0, 40)}`, message: 'is not a known column' })),
    ]);
  const dataRows = records.slice(1);
  if (dataRows.length > MAX_IMPORT_ROWS)
    throw new HttpProblem(
      413,
      'too-many-rows',
      'Too many rows',
      `An import takes at most ${MAX_IMPORT_ROWS} rows; split the file.`,
    );

  const errors: RowError[] = [];
  const good: GoodRow[] = [];
  dataRows.forEach((cells, i) => {
    const row = i + 2;
    if (cells.length !== headerRow.length) {
      errors.push({
        row,
        field: 'row',
        message: `has ${cells.length} fields, the header ${headerRow.length}`,
      });
      return;
    }
    const record = Object.fromEntries(headerRow.map((h, k) => [h, cells[k] ?? ''])) as ImportRow;
    const checked = checkRow(deps, row, record);
    errors.push(...checked.errors);
    if (checked.good) good.push(checked.good);
  });

  // Rows for the same address run in file order; different addresses run side by side.
  const byAddress = new Map<string, { hash: string; rows: GoodRow[] }>();
  for (const row of good) {
    const hash = await deps.pii.hash(row.address);
    const key = `${row.channel}:${hash}`;
    const entry = byAddress.get(key) ?? { hash, rows: [] };
    entry.rows.push(row);
    byAddress.set(key, entry);
  }
  let imported = 0;
  let updated = 0;
  const groups = [...byAddress.values()];
  const at = deps.clock.now().toISOString();
  const work = async (group: { hash: string; rows: GoodRow[] }) => {
    for (const row of group.rows) {
      const outcome = await importRow(deps, actor.id, group.hash, row, at);
      if (outcome === 'imported') imported++;
      else if (outcome === 'updated') updated++;
      else errors.push({ row: row.row, field: 'address', message: outcome.stopped });
    }
  };
  for (let i = 0; i < groups.length; i += IMPORT_CONCURRENCY)
    await Promise.all(groups.slice(i, i + IMPORT_CONCURRENCY).map(work));

  errors.sort((a, b) => a.row - b.row);
  const report: ImportReport = {
    rows: dataRows.length,
    imported,
    updated,
    skipped: dataRows.length - imported - updated,
    errors,
  };
  deps.logger.info('subscription.import', {
    audit: { action: 'subscription.import', actor: actor.id, ...report, errors: errors.length },
  });
  return json(200, report);
}

async function importRow(
  deps: ApiDeps,
  actorId: string,
  addressHash: string,
  row: GoodRow,
  at: string,
): Promise<'imported' | 'updated' | { stopped: string }> {
  const consent: Consent = {
    at,
    method: 'import',
    text: row.consent,
    actor: actorId,
    evidence: `import:row ${row.row}`,
  };
  let existing = await deps.subscribers.findSubscriber(row.channel, addressHash);
  if (!existing) {
    const fresh: Subscriber = {
      id: deps.newId(),
      channel: row.channel,
      addressHash,
      addressCipher: await deps.pii.encrypt(row.address),
      addressMasked: maskRecipient(row.channel, row.address),
      zones: row.zones,
      language: row.language,
      status: 'confirmed',
      audience: 'public',
      consent,
      createdAt: at,
      updatedAt: at,
      confirmedAt: at,
    };
    const created = await deps.subscribers.createSubscriber(fresh, {
      action: 'imported',
      actor: actorId,
      method: 'import',
    });
    if (created.kind === 'created') {
      audit(deps, 'subscription.imported', { actor: actorId, subscriber: fresh, row: row.row });
      return 'imported';
    }
    existing = created.subscriber;
  }
  // Someone who texted STOP said so to this agency: another provider's list does not override them.
  if (existing.status === 'stopped')
    return {
      stopped: 'unsubscribed (STOP) here: not re-subscribed by an import; they can text START or JOIN',
    };
  const next = await updateSubscriber(
    deps,
    existing,
    (s) => ({
      ...s,
      zones: unionZones(s.zones, row.zones),
      status: 'confirmed',
      confirmedAt: s.confirmedAt ?? at,
      consent: s.consent ?? consent,
      updatedAt: at,
    }),
    (base) => ({
      action: base.status === 'confirmed' ? 'changed' : 'imported',
      actor: actorId,
      method: 'import',
    }),
  );
  audit(deps, 'subscription.updated', { actor: actorId, subscriber: next, row: row.row });
  return 'updated';
}
