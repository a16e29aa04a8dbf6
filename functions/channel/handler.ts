/**
 * A channel's Lambda: the same handler for every channel, given its renderer and its provider. Each channel has its
 * own entry point (functions/channels/<name>/entry.ts) so that its bundle carries only its own renderer and provider.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import type { Channel } from '../../schemas/alert';
import { ChannelJob } from '../../schemas/messages';
import type { ChannelRenderer } from '../channels/renderer';
import { isSubscriberChannel } from '../core/fanout';
import type { StoredVersion } from '../core/model';
import type { ChannelProvider, PiiCipher, PublicImage, SecretSource, SubscriberStore } from '../ports';
import { sqsBatchHandler } from '../shared/batch';
import { ENV } from '../shared/config';
import { logger } from '../shared/logger';
import type { ProviderFactory } from '../shared/providers';
import { type ChannelServices, channelSandbox, channelServices } from './aws';
import { deliverBulkJob } from './bulk';
import { type ChannelDeps, deliverJob } from './deliver';

/**
 * Social channels post per recipient (one, the agency's account: deliverJob); subscriber channels send many
 * subscribers per job (deliverBulkJob), which needs the subscriber store and the PII cipher.
 */
export const createChannelHandler = (deps: ChannelDeps) =>
  sqsBatchHandler(ChannelJob, async (job, record) => {
    if (job.channel !== deps.provider.channel)
      throw new Error(`a ${job.channel} job reached the ${deps.provider.channel} channel`);
    if (!deps.renderers[job.channel])
      throw new Error(`the ${job.channel} channel was wired without its renderer`);
    if (!isSubscriberChannel(job.channel)) return deliverJob(deps, job, record);
    const { subscribers, pii } = deps;
    if (!subscribers || !pii) throw new Error(`the ${job.channel} channel was wired without its subscribers`);
    await deliverBulkJob({ ...deps, subscribers, pii }, job, record);
  });

export interface ChannelLambdaOptions {
  /**
   * Where the provider reads its credentials: Secrets Manager (./aws-secrets.ts), for the channels whose credentials
   * are a secret. Left out by those whose function's role is their credential (SMS, email), whose bundles then hold
   * no Secrets Manager client.
   */
  secrets?: () => SecretSource;
  /** A subscriber channel's subscribers and the cipher of their addresses (./aws-subscribers.ts). */
  subscribers?: (services: ChannelServices) => { subscribers: SubscriberStore; pii: PiiCipher };
  /** Extra wiring a channel needs (Instagram's alert cards). */
  cardImage?: (services: ChannelServices) => (version: StoredVersion) => Promise<PublicImage>;
}

/** The secret store of a function whose entry gave it none: its provider must never ask (on AWS, `awsAccess: 'role'`). */
const noSecrets = (channel: Channel): SecretSource => ({
  get: async () => {
    throw new Error(`the ${channel} function reads no secrets: its credentials are its role`);
  },
});

/**
 * The Lambda handler of one channel, given its own renderer and provider factory (and nothing of any other channel's).
 * Its real provider is used whether or not its secret is filled in yet: a channel an agency has not configured fails
 * its deliveries with that reason, never a sandbox `sent`.
 */
export function channelLambda<C extends Channel>(
  channel: C,
  renderer: ChannelRenderer<C>,
  factory: (options: { logger: typeof logger; env: NodeJS.ProcessEnv }) => ProviderFactory,
  options: ChannelLambdaOptions = {},
) {
  let wired: Promise<ReturnType<typeof createChannelHandler>> | undefined;
  const wire = async () => {
    const services = channelServices();
    const secrets = options.secrets?.() ?? noSecrets(channel);
    const provider: ChannelProvider = await factory({ logger, env: process.env })(secrets);
    const cardImage = options.cardImage?.(services);
    const { table: _table, ...deps } = services;
    return createChannelHandler({
      ...deps,
      ...options.subscribers?.(services),
      provider,
      renderers: { [channel]: renderer },
      sandbox: channelSandbox(channel, services),
      ...(cardImage ? { cardImage } : {}),
    });
  };
  return async (event: SQSEvent, context: Context) => {
    if (process.env[ENV.channel] && process.env[ENV.channel] !== channel)
      throw new Error(`the ${channel} function is configured for ${process.env[ENV.channel]}`);
    wired ??= wire().catch((error: unknown) => {
      // A failed start-up (a secret store outage) must not stick to the container: the next invocation tries again.
      wired = undefined;
      throw error;
    });
    return (await wired)(event, context);
  };
}
