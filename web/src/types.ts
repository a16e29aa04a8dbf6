/** The API's shapes as the console reads them: the vocabularies are schemas/vocabulary.ts's own lists. */
import {
  ALERT_STATES,
  ALERT_STATUSES,
  type CATEGORIES as CAP_CATEGORIES,
  CERTAINTIES,
  CHANNEL,
  CHANNEL_LIST,
  CHANNELS,
  DELIVERY_STATUSES,
  SEVERITIES,
  URGENCIES,
} from '../../schemas/vocabulary';

export { ALERT_STATES, CERTAINTIES, CHANNEL, CHANNELS, DELIVERY_STATUSES, SEVERITIES, URGENCIES };
export type Channel = (typeof CHANNELS)[number];
/** Each channel's label, from its definition. */
export const CHANNEL_NAMES = Object.fromEntries(CHANNEL_LIST.map((c) => [c.name, c.label])) as Record<
  Channel,
  string
>;
export const STATUSES = ALERT_STATUSES;
/** The form lists the categories a police agency uses most first; `satisfies` keeps them CAP's own. */
export const CATEGORIES = [
  'Safety',
  'Security',
  'Rescue',
  'Fire',
  'Health',
  'Transport',
  'Infra',
  'Met',
  'Geo',
  'Env',
  'CBRNE',
  'Other',
] as const satisfies readonly (typeof CAP_CATEGORIES)[number][];
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export interface Translation {
  language: string;
  event?: string;
  headline: string;
  description: string;
  instruction?: string;
}

export interface Area {
  zone?: string;
  areaDesc?: string;
}

export interface Draft {
  status: string;
  category: string;
  event: string;
  urgency: string;
  severity: string;
  certainty: string;
  headline: string;
  description: string;
  instruction?: string;
  language: string;
  translations?: Translation[];
  areas?: Area[];
  channels: Channel[];
  effective?: string;
  onset?: string;
  expires?: string;
  web?: string;
  contact?: string;
  image?: { url: string; alt?: string };
  /** When it goes out, ISO with the agency's offset; absent: at once. */
  publishAt?: string;
}

export interface VersionSummary {
  version: number;
  msgType: string;
  sent: string;
  author: string;
  headline: string;
  state: string;
  publishAt?: string;
}

export interface AlertVersion extends Draft {
  id: string;
  version: number;
  msgType: 'Alert' | 'Update' | 'Cancel';
  sent: string;
  author: string;
  note?: string;
  approval: { required: boolean; approvedBy?: string; approvedAt?: string; note?: string };
  state: string;
  translations: Translation[];
  areas: Area[];
}

export interface Alert extends AlertVersion {
  createdAt: string;
  updatedAt: string;
  /** When the alert's next waiting step goes out. */
  nextPublishAt?: string;
  versions: VersionSummary[];
}

/** A step still to go out, as GET /v1/alerts?state=scheduled lists it under its alert. */
export interface ScheduledStep {
  version: number;
  msgType: string;
  publishAt: string;
  headline: string;
  author: string;
  state: 'scheduled' | 'pending-approval';
}

export interface Delivery {
  version: number;
  channel: Channel;
  recipient: string;
  /** Subscriber channels: the subscriber's id (a webhook's is also `webhookId`). */
  subscriberId?: string;
  /** A media outlet's name. */
  name?: string;
  webhookId?: string;
  status: DeliveryStatus;
  attempts: number;
  providerMessageId?: string;
  reason?: string;
  nextAttemptAt?: string;
  outcomeUnknown?: boolean;
  possibleDuplicate?: boolean;
  /** Recorded by a sandbox provider: nothing reached the public. */
  sandbox?: boolean;
  attemptLog: { at: string; status: DeliveryStatus; attempt: number; reason?: string }[];
  updatedAt: string;
}

export interface DeliveryReport {
  totals: Partial<Record<DeliveryStatus, number>>;
  deliveries: Delivery[];
  cursor?: string;
}

export interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  version: number;
  channel?: string;
  recipient?: string;
  detail?: string;
}

export interface Zone {
  id: string;
  name: string;
}

/** A resident's tip and its thread (api.md, "Tips and replies"). `from` is an alias or a public handle, never a number. */
export interface TipMessage {
  direction: 'in' | 'out';
  text: string;
  at: string;
  author?: string;
  status?: string;
  /** Why a reply failed. */
  reason?: string;
  /** A public reply under the agency's post. */
  public?: boolean;
}

export interface Tip {
  id: string;
  reference: string;
  alertId?: string;
  source: string;
  from: string;
  text: string;
  receivedAt: string;
  state: 'open' | 'closed';
  assignee?: string;
  closedAt?: string;
  /** How an answer would reach the tipster; absent when the tip cannot be answered. */
  replyBy?: 'sms' | 'email' | 'public-reply';
  /** The contact was erased at the end of the retention period. */
  contactErased?: boolean;
  /** The thread, oldest first, starting with the tip itself (a listing carries only that first message). */
  messages: TipMessage[];
}

export interface TipList {
  items: Tip[];
  cursor?: string;
  /** Open tips in all, should the list ever answer it (today GET /v1/tips/count?state=open does). */
  openCount?: number;
}
