/**
 * Runtime configuration, read from the environment once. On AWS the CDK stack sets these variables;
 * the embedded mode sets them before it loads the handlers. Names live here only.
 */
import { CHANNELS, type Channel, type Severity } from '../../schemas/alert';
import type { QueueName } from '../ports';

export const ENV = {
  tableName: 'TABLE_NAME',
  /** Per queue: QUEUE_URL_DISPATCH, QUEUE_URL_CHANNEL_X, … */
  queueUrlPrefix: 'QUEUE_URL_',
  channel: 'HERALD_CHANNEL',
  sender: 'HERALD_SENDER',
  agencyName: 'HERALD_AGENCY_NAME',
  publicBaseUrl: 'HERALD_PUBLIC_BASE_URL',
  approvalSeverities: 'HERALD_APPROVAL_SEVERITIES',
  socialAccounts: 'HERALD_SOCIAL_ACCOUNTS',
  maxReceives: 'HERALD_MAX_RECEIVES',
  retryBaseMs: 'HERALD_RETRY_BASE_MS',
  providerTimeoutMs: 'HERALD_PROVIDER_TIMEOUT_MS',
  sweepAfterSeconds: 'HERALD_SWEEP_AFTER_SECONDS',
  /** Secrets Manager names are this prefix plus the channel (`herald/x`, …). */
  secretsPrefix: 'HERALD_SECRETS_PREFIX',
  imageBucket: 'IMAGE_BUCKET',
  /** The CDN's https origin; an image's public URL is `${base}/${key}`. */
  imageBaseUrl: 'IMAGE_BASE_URL',
  emailFrom: 'HERALD_EMAIL_FROM',
  smsSenderId: 'HERALD_SMS_SENDER_ID',
  smsOriginationNumber: 'HERALD_SMS_ORIGINATION_NUMBER',
  /** Embedded mode only: allow webhooks to loopback addresses (a receiver under test on the same machine). */
  webhookAllowLoopback: 'HERALD_WEBHOOK_ALLOW_LOOPBACK',
  sesConfigurationSet: 'HERALD_SES_CONFIGURATION_SET',
  smsMaxSegments: 'HERALD_SMS_MAX_SEGMENTS',
} as const;

export const queueUrlEnv = (queue: QueueName): string =>
  `${ENV.queueUrlPrefix}${queue.toUpperCase().replace(/-/g, '_')}`;

export const ALL_QUEUES: readonly QueueName[] = ['dispatch', ...CHANNELS.map((c) => `channel-${c}` as const)];

export interface HeraldConfig {
  /** CAP `sender`: the agency's identifier, e.g. an email-like id. */
  sender: string;
  agencyName: string;
  /** Where public links (alert pages, CAP files) point. */
  publicBaseUrl: string;
  /** Severities that need a second person's approval; empty for none. */
  approvalSeverities: ReadonlySet<Severity>;
  /** The agency's account on each social channel: the one recipient of x, facebook and instagram. */
  socialAccounts: Partial<Record<Channel, string>>;
  /** Receives before a channel job goes to its dead-letter queue (the SQS redrive policy says the same). */
  maxReceives: number;
  retryBaseMs: number;
  providerTimeoutMs: number;
  /** How long a released version may wait unplanned before the sweeper dispatches it again. */
  sweepAfterSeconds: number;
  /** The most SMS segments one alert may take, its link included: each segment is billed and may arrive late. */
  smsMaxSegments: number;
}

const DEFAULT_ACCOUNTS: Partial<Record<Channel, string>> = {
  x: '@agency',
  facebook: 'agency-page',
  instagram: 'agency',
};

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${name} must be a positive whole number, got "${raw}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): HeraldConfig {
  const severities = (env[ENV.approvalSeverities] ?? 'Extreme')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as Severity[];
  let accounts = DEFAULT_ACCOUNTS;
  const rawAccounts = env[ENV.socialAccounts];
  if (rawAccounts) {
    try {
      accounts = { ...DEFAULT_ACCOUNTS, ...(JSON.parse(rawAccounts) as Partial<Record<Channel, string>>) };
    } catch {
      throw new Error(`${ENV.socialAccounts} must be JSON such as {"x":"@agency"}`);
    }
  }
  return {
    sender: env[ENV.sender] ?? 'alerts@herald.example',
    agencyName: env[ENV.agencyName] ?? 'Herald Police Department',
    publicBaseUrl: (env[ENV.publicBaseUrl] ?? 'http://localhost:3000').replace(/\/$/, ''),
    approvalSeverities: new Set(severities),
    socialAccounts: accounts,
    maxReceives: positiveInt(env, ENV.maxReceives, 5),
    retryBaseMs: positiveInt(env, ENV.retryBaseMs, 2000),
    providerTimeoutMs: positiveInt(env, ENV.providerTimeoutMs, 10_000),
    sweepAfterSeconds: positiveInt(env, ENV.sweepAfterSeconds, 60),
    smsMaxSegments: positiveInt(env, ENV.smsMaxSegments, 2),
  };
}
