/** What changed between two versions, field by field, as an auditor reads it. */
import type { AlertVersion } from './types';

export interface FieldChange {
  field: string;
  before: string;
  after: string;
}

const FIELDS = [
  'msgType',
  'status',
  'category',
  'event',
  'urgency',
  'severity',
  'certainty',
  'headline',
  'description',
  'instruction',
  'language',
  'translations',
  'areas',
  'channels',
  'expires',
  'web',
  'contact',
  'image',
  'note',
] as const;

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  if (Array.isArray(value) && value.length === 0) return '';
  return JSON.stringify(value);
}

export function versionChanges(before: AlertVersion | undefined, after: AlertVersion): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of FIELDS) {
    const a = asText(before?.[field]);
    const b = asText(after[field]);
    if (a !== b) changes.push({ field, before: a, after: b });
  }
  return changes;
}
