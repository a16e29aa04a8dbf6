/**
 * A channel's Lambda: the same handler for every channel, given its provider. Each channel has its own entry
 * point (functions/channels/<name>/entry.ts) so that its bundle carries only its own provider's code.
 */
import type { Context, SQSEvent } from 'aws-lambda';
import type { Channel } from '../../schemas/alert';
import { ChannelJob } from '../../schemas/messages';
import { isSubscriberChannel } from '../core/fanout';
import type { StoredVersion } from '../core/model';
import type { ChannelProvider, PublicImage } from '../ports';
import { type AwsServices, awsSandbox, awsSecrets, awsServices } from '../shared/aws';
import { sqsBatchHandler } from '../shared/batch';
import { ENV } from '../shared/config';
import { logger } from '../shared/logger';
import type { ProviderFactory } from '../shared/providers';
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
    if (!isSubscriberChannel(job.channel)) return deliverJob(deps, job, record);
    const { subscribers, pii } = deps;
    if (!subscribers || !pii) throw new Error(`the ${job.channel} channel was wired without its subscribers`);
    await deliverBulkJob({ ...deps, subscribers, pii }, job, record);
  });

export interface ChannelLambdaOptions {
  /** Extra wiring a channel needs (Instagram's alert cards). */
  cardImage?: (services: AwsServices) => (version: StoredVersion) => Promise<PublicImage>;
}

/**
 * The Lambda handler of one channel. Its real provider is used whether or not its secret is filled in yet: a
 * channel an agency has not configured fails its deliveries with that reason, never a sandbox `sent`.
 */
export function channelLambda(
  channel: Channel,
  factory: (options: { logger: typeof logger; env: NodeJS.ProcessEnv }) => ProviderFactory,
  options: ChannelLambdaOptions = {},
) {
  let wired: Promise<ReturnType<typeof createChannelHandler>> | undefined;
  const wire = async () => {
    const services = awsServices();
    const provider: ChannelProvider = await factory({ logger, env: process.env })(awsSecrets());
    const cardImage = options.cardImage?.(services);
    return createChannelHandler({
      ...services,
      provider,
      sandbox: awsSandbox(channel),
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
