/**
 * The API's fixed vocabularies as plain lists, with no zod: the schemas build their enums from them, and the
 * console (web/) imports them without pulling a validation library into a phone's first load.
 */
/**
 * The channels come from their list, where each is defined once (functions/channels/<name>/channel.ts): data only,
 * so the console gets their labels and budgets without any channel's code.
 */
export { CHANNEL, CHANNEL_LIST, CHANNELS } from '../functions/channels/list';
/** CAP `status`, less System and Draft which are not for the public channels Herald feeds. */
export const ALERT_STATUSES = ['Actual', 'Exercise', 'Test'] as const;
/** CAP `category`, in the order of the CAP 1.2 specification. */
export const CATEGORIES = [
  'Geo',
  'Met',
  'Safety',
  'Security',
  'Rescue',
  'Fire',
  'Health',
  'Env',
  'Transport',
  'Infra',
  'CBRNE',
  'Other',
] as const;
export const URGENCIES = ['Immediate', 'Expected', 'Future', 'Past', 'Unknown'] as const;
export const SEVERITIES = ['Extreme', 'Severe', 'Moderate', 'Minor', 'Unknown'] as const;
export const CERTAINTIES = ['Observed', 'Likely', 'Possible', 'Unlikely', 'Unknown'] as const;
export const MSG_TYPES = ['Alert', 'Update', 'Cancel'] as const;
export const ALERT_STATES = [
  'scheduled',
  'pending-approval',
  'dispatching',
  'sent',
  'cancelled',
  'expired',
] as const;
export const DELIVERY_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
  'retrying',
  'unknown',
  /** Waiting for the end of the resident's quiet hours (`nextAttemptAt`); functions/core/quiet-hours.ts. */
  'deferred',
  /** Never sent, on purpose: a newer version or the cancel reached the resident while this one was deferred. */
  'superseded',
] as const;

/** How far ahead a version may be scheduled (`publishAt`), in days: schemas/alert.ts and functions/core/schedule.ts. */
export const PUBLISH_AT_MAX_DAYS = 90;
