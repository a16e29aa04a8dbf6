/**
 * The embedded mode: the whole of Herald in one Node process, with no cloud account and no Docker.
 * The same Lambda handlers run here, invoked with the same event shapes; DynamoDB is dynalite through the
 * same adapter; the queues keep SQS's semantics and live on disk. Start order follows the data flow
 * (store → queues → consumers → HTTP), and stop order is the reverse.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { FileAuditHeadStore } from '../functions/adapters/audit-heads/file';
import { createDocumentClient } from '../functions/adapters/dynamo/client';
import { DynamoStore } from '../functions/adapters/dynamo/store';
import { DynamoSubscriberStore } from '../functions/adapters/dynamo/subscriber-store';
import { LocalKeyCipher } from '../functions/adapters/pii/local-key';
import { InMemoryFaults, SandboxProvider } from '../functions/adapters/providers/sandbox';
import { createApiHandler } from '../functions/api/handler';
import { handleInboundSms } from '../functions/api/inbound-sms';
import { tipIntakeFor } from '../functions/api/tips';
import { cardImageMaker } from '../functions/channel/card-image';
import { createChannelHandler } from '../functions/channel/handler';
import { CHANNEL } from '../functions/channels/list';
import type { ProviderBaseUrls } from '../functions/channels/provider-options';
import { RENDERERS } from '../functions/channels/renderers';
import { isSubscriberChannel } from '../functions/core/fanout';
import { seededZones, type ZoneCatalog } from '../functions/core/zones';
import { createDispatchHandler } from '../functions/dispatch/handler';
import { composeEngagementPoller } from '../functions/impact/handler';
import {
  type ChannelProvider,
  type Clock,
  channelQueue,
  type Notifier,
  type PiiCipher,
  type QueueName,
  systemClock,
} from '../functions/ports';
import { composeAnswerPoster, composeRepliesPollers } from '../functions/replies/handler';
import { REQUIRED_SECRET_KEYS, realProviderFactories } from '../functions/shared/channel-providers';
import { ENV, type HeraldConfig, loadConfig, loopbackAllowedBy } from '../functions/shared/config';
import { newId } from '../functions/shared/ids';
import { logger } from '../functions/shared/logger';
import { providerNotifier } from '../functions/shared/notifier';
import { type ProviderChoice, selectProviders } from '../functions/shared/providers';
import { createSweeperHandler } from '../functions/sweeper/handler';
import { CHANNELS, type Channel } from '../schemas/alert';
import { ROUTES } from '../schemas/routes';
import { EmbeddedIdentity } from './auth';
import { consoleRoutes } from './console';
import { ensureTable, startDynalite } from './dynalite';
import { startGateway } from './gateway';
import { LocalImageStore, mediaRoute } from './images';
import { LocalPublishTimer } from './publish-timer';
import { EmbeddedQueues } from './queues/engine';
import { type EventSourceMapping, startEventSource } from './queues/event-source';
import { createLambdaContext } from './queues/lambda-context';
import { createHeraldQueues, EmbeddedQueuePort } from './queues/queue-port';
import { createRequestCounter, type RequestCounter } from './request-counting';
import { sandboxRoutes } from './sandbox-routes';
import { embeddedSecretSource } from './secrets';

export const TABLE_NAME = 'herald';

export interface EmbeddedOptions {
  /** Where all state lives: the table, the queues, the signing key. */
  dataDir: string;
  /** 0 picks a free port. */
  port: number;
  host?: string;
  /** Overrides of the environment for this instance's configuration (HERALD_* variables). */
  env?: NodeJS.ProcessEnv;
  /** Each function's timeout; queue visibility is six times this, as the CDK stack sets it on AWS. */
  functionTimeoutSeconds?: number;
  /** How often the X replies poller runs (on AWS: every two minutes). */
  replyPollIntervalMs?: number;
  /** How often the sweeper runs (on AWS: every minute). */
  sweepIntervalMs?: number;
  /** Provider API origins, for tests of real providers against local fakes. */
  providerBaseUrls?: ProviderBaseUrls;
  /** Simulated latency of the sandbox providers. */
  sandboxDelayMs?: number;
  /** Count AWS requests at the adapters (benchmarks). */
  countRequests?: boolean;
  /** The handlers' clock (tests that must be at 07:00 without waiting for it); the system's by default. */
  clock?: Clock;
}

export interface Herald {
  url: string;
  port: number;
  dataDir: string;
  config: HeraldConfig;
  store: DynamoStore;
  /** The table's client, for benchmarks and tests that seed data in bulk (bench/seed-subscribers.ts). */
  table: { client: DynamoDBDocumentClient; tableName: string };
  subscribers: DynamoSubscriberStore;
  pii: PiiCipher;
  zones: ZoneCatalog;
  notifier: Notifier;
  queues: EmbeddedQueues;
  identity: EmbeddedIdentity;
  faults: InMemoryFaults;
  /** Per channel: real or sandbox, and why. */
  providerChoices: Record<Channel, ProviderChoice>;
  requests?: RequestCounter | undefined;
  /** Runs one sweeper pass now (the schedule runs it anyway). */
  sweepNow(): Promise<number>;
  /** Runs one pass of the X replies poller now (the timer runs it anyway). */
  pollRepliesNow(): Promise<unknown>;
  stop(): Promise<void>;
}

/** As the schedule on AWS runs it (lib/replies.ts). */
const REPLY_POLL_INTERVAL_MS = 120_000;
/** As the schedule on AWS runs it (lib/engagement.ts): the engagement schedule's finest step. */
const ENGAGEMENT_POLL_INTERVAL_MS = 600_000;
/**
 * Public answers are posted as soon as an officer sends one (see `postAnswersSoon`); this slower pass takes up what a
 * rate limit or an outage left queued. Listing the queue every few seconds for nothing cost a large embedded
 * instance (100,000 subscribers) hundreds of megabytes over a fan-out, so it is not done.
 */
const ANSWER_RETRY_INTERVAL_MS = 300_000;
const ANSWER_ROUTE = /^\/v1\/tips\/[^/]+\/replies$/;

/** Embedded consumers: a couple of concurrent invocations each, like a small reserved concurrency on AWS. */
const CHANNEL_CONCURRENCY = 2;

function context(functionName: string, timeoutMs: number): Context {
  return createLambdaContext({ functionName, timeoutMs });
}

export async function startHerald(options: EmbeddedOptions): Promise<Herald> {
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true });
  // The only sender on this data directory (dynalite and the queues hold its lock): a lease another boot took
  // is a dead process's, and a restart takes it over at once.
  const config: HeraldConfig = { ...loadConfig({ ...process.env, ...options.env }), soleSenderId: newId() };
  const timeoutSeconds = options.functionTimeoutSeconds ?? 30;
  const timeoutMs = timeoutSeconds * 1000;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((e: unknown) => console.error('embedded: stop failed', e));
  };

  try {
    // ---- store
    const dynalite = await startDynalite({ path: join(dataDir, 'dynamodb'), thread: true });
    stops.push(() => dynalite.close());
    const client = createDocumentClient({ endpoint: dynalite.endpoint });
    stops.push(async () => client.destroy());
    await ensureTable(client, TABLE_NAME);
    const requests = options.countRequests ? createRequestCounter(client) : undefined;
    // The audit chains' heads outside the table, as the S3 bucket keeps them on AWS (adapters/audit-heads/file.ts).
    const auditHeads = new FileAuditHeadStore(join(dataDir, 'audit-heads'), logger);
    const store = new DynamoStore({ client, tableName: TABLE_NAME, auditHeads });

    // ---- queues
    const queues = await EmbeddedQueues.open(join(dataDir, 'queues'));
    stops.push(() => queues.close());
    const released = queues.releasedAtOpen();
    if (Object.keys(released).length > 0)
      // What the last process had taken and not finished, back in its queues at once: the fan-out resumes now.
      logger.info('resuming messages a stopped process had received', { released });
    await createHeraldQueues(queues, {
      maxReceives: config.maxReceives,
      visibilityTimeoutSeconds: timeoutSeconds * 6,
    });
    const queue = new EmbeddedQueuePort(queues);
    const queuePort = requests ? requests.wrapQueue(queue) : queue;

    // ---- handlers, composed exactly as functions/shared/aws.ts composes them on AWS, with local adapters
    const faults = new InMemoryFaults();
    // Phone numbers and emails are encrypted at rest with a key kept in the data directory (KMS on AWS).
    const subscribers = new DynamoSubscriberStore({ client, tableName: TABLE_NAME }, store.auditLog);
    const pii = await LocalKeyCipher.open(dataDir);
    const zones = seededZones();
    // Scheduled versions wake the dispatcher at their time (EventBridge Scheduler on AWS); read back at start.
    const clock = options.clock ?? systemClock;
    const publishTimer = new LocalPublishTimer({ store, queue: queuePort, clock, logger });
    stops.push(() => publishTimer.stop());
    const services = {
      store,
      subscribers,
      pii,
      zones,
      queue: queuePort,
      config,
      clock,
      logger,
      newId,
      publishTimer,
    };
    const sandboxes = {} as Record<Channel, ChannelProvider>;
    for (const channel of CHANNELS)
      sandboxes[channel] = new SandboxProvider({
        channel,
        outbox: store,
        clock,
        newId,
        faults,
        delayMs: options.sandboxDelayMs ?? 0,
      });
    // A channel with credentials (HERALD_SECRET_<CHANNEL> or <dataDir>/secrets.json) reaches the public; one
    // without posts to the sandbox, and the start-up banner says which and why.
    const env = { ...process.env, ...options.env };
    const providerChoices = await selectProviders({
      channels: CHANNELS,
      secrets: embeddedSecretSource(dataDir, env),
      sandbox: (channel) => sandboxes[channel],
      create: realProviderFactories({
        logger,
        env,
        awsAccess: 'secrets',
        allowLoopback: loopbackAllowedBy(env),
        baseUrls: options.providerBaseUrls,
      }),
      required: REQUIRED_SECRET_KEYS,
    });

    // Instagram posts nothing without an image: an alert without one gets its alert card, served at /media/.
    const mediaDir = join(dataDir, 'media');
    const images = new LocalImageStore({
      directory: mediaDir,
      publicBaseUrl: `${config.publicBaseUrl}/media`,
    });
    const cardImage = cardImageMaker(images, config.agencyName);

    const sources: EventSourceMapping[] = [];
    stops.push(async () => {
      await Promise.all(sources.map((s) => s.stop()));
    });
    const consume = (
      queueName: QueueName,
      functionName: string,
      handler: Parameters<typeof startEventSource>[0]['handler'],
      sizing: { maxConcurrency: number; batchSize?: number } = { maxConcurrency: CHANNEL_CONCURRENCY },
    ) =>
      sources.push(
        startEventSource({
          queues,
          queue: queueName,
          functionName,
          handler,
          timeoutMs,
          ...sizing,
        }),
      );
    consume('dispatch', 'dispatch', createDispatchHandler(services));
    for (const channel of CHANNELS)
      consume(
        channelQueue(channel),
        `channel-${channel}`,
        createChannelHandler({
          ...services,
          provider: providerChoices[channel].provider,
          renderers: RENDERERS,
          sandbox: sandboxes[channel],
          ...(CHANNEL[channel].needsImage ? { cardImage } : {}),
        }),
        // The SMS senders share the account's messages per second, each pacing itself at its share, so there are
        // exactly as many as the configuration says. Every subscriber sender takes one job at a time (as the stack
        // sets it on AWS), so a crash can lose the outcomes of one send window per sender, not of ten.
        channel === 'sms'
          ? { maxConcurrency: config.smsSenderConcurrency, batchSize: 1 }
          : {
              maxConcurrency: CHANNEL_CONCURRENCY,
              ...(isSubscriberChannel(channel) ? { batchSize: 1 } : {}),
            },
      );

    // ---- scheduled versions: due ones (their time passed while the process was down) go out now
    await publishTimer.start();

    // ---- sweeper on a schedule; one pass at a time
    const sweeper = createSweeperHandler(services);
    let sweeping: Promise<number> | undefined;
    const sweepNow = async () => {
      sweeping ??= sweeper({}, context('sweeper', timeoutMs))
        .then((r) => r.swept)
        .finally(() => {
          sweeping = undefined;
        });
      return sweeping;
    };
    const sweepTimer = setInterval(() => {
      sweepNow().catch((e: unknown) => logger.error('sweeper failed', { error: String(e) }));
    }, options.sweepIntervalMs ?? 15_000);
    sweepTimer.unref();
    stops.push(async () => {
      clearInterval(sweepTimer);
      await sweeping?.catch(() => undefined);
    });

    // ---- replies under the agency's posts on X, Mastodon, Bluesky, Threads and Telegram, polled while alerts are
    // live (on AWS: lib/replies.ts's schedule); a channel without credentials (sandboxed) reads nothing
    const secrets = embeddedSecretSource(dataDir, env);
    // Residents' replies under the agency's posts, from every channel, enter here (functions/ports.ts TipIntake).
    const tipIntake = tipIntakeFor(services);
    const replyPoller = composeRepliesPollers({
      store,
      table: { client, tableName: TABLE_NAME },
      secrets,
      intake: tipIntake,
      xBaseUrl: options.providerBaseUrls?.x,
      baseUrls: options.providerBaseUrls,
      env,
    });
    let polling: Promise<unknown> | undefined;
    const pollRepliesNow = () => {
      polling ??= replyPoller.pollOnce().finally(() => {
        polling = undefined;
      });
      return polling;
    };
    const replyTimer = setInterval(() => {
      pollRepliesNow().catch((e: unknown) => logger.error('replies poll failed', { error: String(e) }));
    }, options.replyPollIntervalMs ?? REPLY_POLL_INTERVAL_MS);
    replyTimer.unref();
    stops.push(async () => {
      clearInterval(replyTimer);
      await polling?.catch(() => undefined);
    });

    // ---- likes, reposts, replies and views of the agency's posts for 7 days (on AWS: lib/engagement.ts's schedule);
    // a sandboxed channel has no credentials and no real posts, so nothing is read for it
    const engagementPoller = composeEngagementPoller({
      store,
      table: { client, tableName: TABLE_NAME },
      secrets,
      baseUrls: options.providerBaseUrls,
      logger,
      env,
    });
    let engaging: Promise<unknown> | undefined;
    const engagementTimer = setInterval(() => {
      engaging ??= engagementPoller
        .pollOnce()
        .catch((e: unknown) => logger.error('engagement poll failed', { error: String(e) }))
        .finally(() => {
          engaging = undefined;
        });
    }, ENGAGEMENT_POLL_INTERVAL_MS);
    engagementTimer.unref();
    stops.push(async () => {
      clearInterval(engagementTimer);
      await engaging;
    });

    // ---- officers' public answers under residents' replies: posted soon after they are queued (AWS: with the poll)
    const answerPoster = composeAnswerPoster({
      store,
      table: { client, tableName: TABLE_NAME },
      secrets,
      sandbox: (channel) => sandboxes[channel],
      accounts: config.socialAccounts,
      baseUrls: options.providerBaseUrls,
      logger,
    });
    let answering: Promise<unknown> | undefined;
    let again = false;
    const postAnswersSoon = () => {
      if (answering) {
        // One run at a time; an answer queued during it gets the next.
        again = true;
        return;
      }
      answering = answerPoster
        .postOnce()
        .catch((e: unknown) => logger.error('posting answers failed', { error: String(e) }))
        .finally(() => {
          answering = undefined;
          if (again) {
            again = false;
            postAnswersSoon();
          }
        });
    };
    const answerTimer = setInterval(postAnswersSoon, ANSWER_RETRY_INTERVAL_MS);
    answerTimer.unref();
    stops.push(async () => {
      clearInterval(answerTimer);
      await answering;
    });

    // ---- HTTP
    const identity = await EmbeddedIdentity.open(dataDir);
    const notifier = providerNotifier({
      sms: providerChoices.sms.provider,
      email: providerChoices.email.provider,
    });
    const api = createApiHandler({ ...services, notifier }, { metaWebhook: { secrets, intake: tipIntake } });
    const media = mediaRoute(mediaDir);
    const officerConsole = await consoleRoutes({ identity, publicBaseUrl: config.publicBaseUrl });
    const sandbox = sandboxRoutes({
      store,
      faults,
      // A resident's text in the sandbox takes the same road as one from SNS on AWS.
      inboundSms: (sms) => handleInboundSms({ ...services, notifier }, sms),
      // A public reply in the sandbox enters where the X and Meta reply helpers hand theirs over.
      tipIntake,
    });
    const gateway = await startGateway({
      port: options.port,
      host: options.host ?? '127.0.0.1',
      // Only when the agency set it: the default (http://localhost:3000) names a server on another port as ours.
      publicBaseUrl: env[ENV.publicBaseUrl] || undefined,
      routes: ROUTES,
      identity,
      invoke: async (event, ctx) => {
        const result = await api(event, ctx);
        // An officer answered a tip: a public answer is on the queue, and they are watching the thread.
        if (event.requestContext.http.method === 'POST' && ANSWER_ROUTE.test(event.rawPath))
          postAnswersSoon();
        return result;
      },
      intercept: async (req, res, url) =>
        (await media(req, res, url)) ||
        (await officerConsole.handle(req, res, url)) ||
        sandbox(req, res, url),
    });
    stops.push(() => gateway.close());

    return {
      url: gateway.url,
      port: gateway.port,
      dataDir,
      config,
      store,
      table: { client, tableName: TABLE_NAME },
      subscribers,
      pii,
      zones,
      notifier,
      queues,
      identity,
      faults,
      providerChoices,
      requests,
      sweepNow,
      pollRepliesNow,
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
