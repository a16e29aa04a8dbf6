/**
 * Runtime configuration, read from the environment once. On AWS the CDK stack sets these variables;
 * the embedded mode sets them before it loads the handlers. Names live here only.
 */
import type { Channel, Severity } from '../../schemas/alert';
import { CHANNELS } from '../../schemas/vocabulary';
import { isLoopbackHost, normaliseHost } from '../adapters/net/addresses';
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
  /**
   * AWS only: the S3 bucket (Object Lock) where each audit chain's head is written as it is appended, and which the
   * verifier reads (lib/audit-heads.ts). Unset: heads are kept nowhere outside the table.
   */
  auditHeadBucket: 'HERALD_AUDIT_HEAD_BUCKET',
  imageBucket: 'IMAGE_BUCKET',
  /** The CDN's https origin; an image's public URL is `${base}/${key}`. */
  imageBaseUrl: 'IMAGE_BASE_URL',
  emailFrom: 'HERALD_EMAIL_FROM',
  smsSenderId: 'HERALD_SMS_SENDER_ID',
  smsOriginationNumber: 'HERALD_SMS_ORIGINATION_NUMBER',
  /**
   * Embedded mode only: `true` lets the guarded fetcher reach this machine (127.0.0.0/8, ::1, localhost), over plain
   * http too: a webhook receiver under test, images served by the embedded server or by a test's fake. Functions on
   * AWS never allow it; private, link-local (metadata) and every other non-public range stay refused whatever it
   * says.
   */
  fetchAllowLoopback: 'HERALD_FETCH_ALLOW_LOOPBACK',
  /** The same, by its name from when only webhooks were guarded; still honoured. */
  webhookAllowLoopback: 'HERALD_WEBHOOK_ALLOW_LOOPBACK',
  sesConfigurationSet: 'HERALD_SES_CONFIGURATION_SET',
  smsMaxSegments: 'HERALD_SMS_MAX_SEGMENTS',
  /** The KMS key that wraps the PII data key (AWS only; the embedded mode keeps a key file in its data directory). */
  piiKeyId: 'HERALD_PII_KMS_KEY_ID',
  /** SMS messages per second the account's route allows (SNS / End User Messaging quota), shared by all senders. */
  smsMessagesPerSecond: 'HERALD_SMS_MPS',
  /** How many SMS sender invocations run at once (the SQS event source's maximum concurrency on AWS). */
  smsSenderConcurrency: 'HERALD_SMS_SENDER_CONCURRENCY',
  /** Recipients per subscriber-channel job (one SQS message). */
  recipientsPerJob: 'HERALD_RECIPIENTS_PER_JOB',
  /** The most messages one bulk sender has out before it records their outcomes: the bound on crash duplicates. */
  sendWindow: 'HERALD_SEND_WINDOW',
  /** The SNS topic two-way SMS (End User Messaging) publishes inbound texts to; only it may call /v1/inbound/sms. */
  inboundSmsTopicArn: 'HERALD_INBOUND_SMS_TOPIC_ARN',
  /**
   * AWS only, the api function: the EventBridge Scheduler group its one-time schedules (one per scheduled version) go
   * in, the dispatch queue they put the version's dispatch message on, the role Scheduler sends it with, and the queue
   * for what Scheduler could not deliver. Unset (every other function, the embedded mode): no schedules are made.
   */
  scheduleGroup: 'HERALD_SCHEDULE_GROUP',
  dispatchQueueArn: 'HERALD_DISPATCH_QUEUE_ARN',
  schedulerRoleArn: 'HERALD_SCHEDULER_ROLE_ARN',
  schedulerDeadLetterQueueArn: 'HERALD_SCHEDULER_DLQ_ARN',
  /** Days a tipster's number or address is kept (encrypted) so officers can answer; then it is erased. */
  tipRetentionDays: 'HERALD_TIP_RETENTION_DAYS',
  /** The agency's IANA time zone (Europe/Madrid): how times are shown to officers and residents. */
  timeZone: 'HERALD_TIME_ZONE',
  /** The languages the residents' site speaks, the default first: `en,es,ca` (primary subtags, comma separated). */
  languages: 'HERALD_LANGUAGES',
  /**
   * A raster tile server the residents' maps draw under the zones: a URL template with `{z}`, `{x}` and `{y}`. Unset
   * (the default): the maps need no tile server and the pages load nothing from anyone else.
   */
  mapTiles: 'HERALD_MAP_TILES',
  /** The words the tile provider's licence asks to be shown with its tiles; required with HERALD_MAP_TILES. */
  mapTilesAttribution: 'HERALD_MAP_TILES_ATTRIBUTION',
  /**
   * AWS only, the api function: the Secrets Manager secret whose value CloudFront sends in `x-herald-edge-secret`, which
   * is what lets the api believe the viewer's address CloudFront passes (functions/api/residents.ts, `clientKey`).
   */
  edgeSecretArn: 'HERALD_EDGE_SECRET_ARN',
} as const;

export const loopbackAllowedBy = (env: NodeJS.ProcessEnv): boolean =>
  env[ENV.fetchAllowLoopback] === 'true' || env[ENV.webhookAllowLoopback] === 'true';

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
  /** The agency's account on each social channel: the one recipient of its post (a channel without one gets none). */
  socialAccounts: Partial<Record<Channel, string>>;
  /** Receives before a channel job goes to its dead-letter queue (the SQS redrive policy says the same). */
  maxReceives: number;
  retryBaseMs: number;
  providerTimeoutMs: number;
  /** How long a released version may wait unplanned before the sweeper dispatches it again. */
  sweepAfterSeconds: number;
  /** The most SMS segments one alert may take, its link included: each segment is billed and may arrive late. */
  smsMaxSegments: number;
  /** SMS messages per second across all senders (the account's quota). */
  smsMessagesPerSecond: number;
  /** Concurrent SMS sender invocations; each sends at smsMessagesPerSecond / smsSenderConcurrency. */
  smsSenderConcurrency: number;
  /** Recipients per subscriber-channel job (one SQS message, one claim, a few batch writes). */
  recipientsPerJob: number;
  /**
   * Recipients a bulk sender may be sending to before their outcomes are stored. It writes them down before the
   * first is sent, so after a crash at any instant these (at most this many per sender) are the only ones who may
   * have been sent twice, and their receipts say so.
   */
  sendWindow: number;
  /** The only SNS topic whose signed notifications POST /v1/inbound/sms accepts; unset: the route refuses all. */
  inboundSmsTopicArn?: string | undefined;
  /**
   * Days after a tip arrives that the tipster's number or address (encrypted, never shown) is kept so an officer can
   * answer; after them the sweeper erases it and the tip keeps only its alias (invariant 7).
   */
  tipRetentionDays: number;
  /** The agency's IANA time zone: alert times are shown to officers and residents on its clock. */
  timeZone: string;
  /**
   * The languages the residents' site offers, the agency's default first: primary language subtags (`en`, `es`,
   * `ca`), which is what pages and the CDN's language choice match `Accept-Language` against.
   */
  languages: string[];
  /**
   * The raster tiles drawn under the residents' maps, and the attribution shown on them; unset, the maps are drawn
   * from the zones alone and no page loads anything from a third party.
   */
  mapTiles?: MapTiles | undefined;
  /**
   * Embedded mode only: this process's boot id, written on the leases it takes. The embedded process is the only
   * sender on its data directory, so a lease another owner holds is a dead process's: taken over at once after a
   * restart, instead of waited out. Unset on AWS, where many senders run at once and a lease is waited out.
   */
  soleSenderId?: string | undefined;
  /** Embedded mode only: webhook subscribers may point at this machine (a receiver under test). */
  webhookAllowLoopback?: boolean | undefined;
}

export interface MapTiles {
  /** `https://tiles.example/{z}/{x}/{y}.png`: one origin, the three placeholders in its path or query. */
  url: string;
  attribution: string;
}

/** Longer than this would not fit along the bottom of a map a phone shows. */
const MAX_ATTRIBUTION = 120;
const TILE_PLACEHOLDERS = ['{z}', '{x}', '{y}'] as const;

/**
 * A tile template and its attribution as the maps use them, or undefined when neither is set; anything else stops the
 * start-up (or the synth), since a wrong template would fail quietly in every resident's browser instead. The
 * template must name one origin, which is what the pages' CSP lets images load from: so `{s}` (a subdomain per
 * request) and placeholders in the host are refused. https only, as the pages are; http for this machine alone, so
 * a test can serve tiles itself.
 */
export function parseMapTiles(
  rawUrl: string | undefined,
  rawAttribution: string | undefined,
  names: { url: string; attribution: string } = { url: ENV.mapTiles, attribution: ENV.mapTilesAttribution },
): MapTiles | undefined {
  const url = rawUrl?.trim() ?? '';
  const attribution = rawAttribution?.trim() ?? '';
  if (url === '') {
    if (attribution !== '')
      throw new Error(`${names.attribution} is set but ${names.url}, the tiles it credits, is not`);
    return undefined;
  }
  const refuse = (why: string) =>
    new Error(
      `${names.url} must be a tile URL template such as https://tiles.example/{z}/{x}/{y}.png: ${why}; got ${JSON.stringify(url)}`,
    );
  const missing = TILE_PLACEHOLDERS.filter((p) => !url.includes(p));
  if (missing.length) throw refuse(`it has no ${missing.join(', ')}`);
  if (url.includes('{s}')) throw refuse('{s} subdomains are not supported, name one host');
  const rest = TILE_PLACEHOLDERS.reduce((u, p) => u.replaceAll(p, ''), url);
  if (/[{}]/.test(rest)) throw refuse('only {z}, {x} and {y} may be in braces');
  const sample = (n: number) => {
    try {
      return new URL(TILE_PLACEHOLDERS.reduce((u, p) => u.replaceAll(p, String(n)), url));
    } catch {
      throw refuse('it is not a URL');
    }
  };
  const one = sample(1);
  if (one.origin !== sample(2).origin)
    throw refuse('placeholders must be in the path or the query, not the host');
  if (one.username || one.password) throw refuse('it must carry no user name or password');
  const local = one.protocol === 'http:' && isLoopbackHost(normaliseHost(one));
  if (one.protocol !== 'https:' && !local) throw refuse('it must be https (http only for this machine)');
  if (attribution === '')
    throw new Error(
      `${names.attribution} must say whose tiles they are, as their licence asks (such as "© OpenStreetMap contributors") when ${names.url} is set`,
    );
  if (attribution.length > MAX_ATTRIBUTION)
    throw new Error(`${names.attribution} must be at most ${MAX_ATTRIBUTION} characters to fit on a map`);
  return { url, attribution };
}

const DEFAULT_ACCOUNTS: Partial<Record<Channel, string>> = {
  x: '@agency',
  facebook: 'agency-page',
  instagram: 'agency',
  // The receipt's recipient only: the account posted as is the one in the channel's credentials.
  mastodon: '@agency',
  bluesky: 'agency.bsky.social',
  threads: '@agency',
  telegram: '@agency',
};

/** An IANA time zone the runtime knows, in its canonical spelling; a mistyped one stops the start-up. */
function timeZoneOf(env: NodeJS.ProcessEnv): string {
  const raw = env[ENV.timeZone]?.trim() || 'UTC';
  try {
    return new Intl.DateTimeFormat('en', { timeZone: raw }).resolvedOptions().timeZone;
  } catch {
    throw new Error(`${ENV.timeZone} must be an IANA time zone such as Europe/Madrid, got "${raw}"`);
  }
}

/** The site's languages when HERALD_LANGUAGES (context `languages` on AWS) names none. */
export const DEFAULT_LANGUAGES: readonly string[] = ['en', 'es', 'ca'];

/**
 * A comma-separated list of languages as the site and the CDN use it: trimmed, lower-cased, each once, in order. Only
 * primary subtags are taken (`es`, not `es-MX`): languages are matched by primary subtag, so a regional tag would
 * silently never match anyone; it is refused instead, as is an empty list.
 */
export function parseLanguages(raw: string, name: string = ENV.languages): string[] {
  const languages = [
    ...new Set(
      raw
        .split(',')
        .map((l) => l.trim().toLowerCase())
        .filter(Boolean),
    ),
  ];
  const wrong = languages.find((l) => !/^[a-z]{2,3}$/.test(l));
  if (languages.length === 0 || wrong !== undefined)
    throw new Error(
      `${name} must list language subtags separated by commas, such as en,es,ca; got ${JSON.stringify(raw)}`,
    );
  return languages;
}

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
  const rawLanguages = env[ENV.languages]?.trim();
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
    smsMessagesPerSecond: positiveInt(env, ENV.smsMessagesPerSecond, 20),
    smsSenderConcurrency: positiveInt(env, ENV.smsSenderConcurrency, 2),
    recipientsPerJob: positiveInt(env, ENV.recipientsPerJob, 100),
    sendWindow: positiveInt(env, ENV.sendWindow, 50),
    inboundSmsTopicArn: env[ENV.inboundSmsTopicArn] || undefined,
    tipRetentionDays: positiveInt(env, ENV.tipRetentionDays, 90),
    timeZone: timeZoneOf(env),
    languages: rawLanguages ? parseLanguages(rawLanguages) : [...DEFAULT_LANGUAGES],
    mapTiles: parseMapTiles(env[ENV.mapTiles], env[ENV.mapTilesAttribution]),
    webhookAllowLoopback: loopbackAllowedBy(env),
  };
}
