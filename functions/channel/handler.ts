/** Lambda entry point of a channel: one function per channel, told which by HERALD_CHANNEL. */
import type { Context, SQSEvent } from 'aws-lambda';
import { Channel } from '../../schemas/alert';
import { ChannelJob } from '../../schemas/messages';
import { awsChannelProviders, awsServices } from '../shared/aws';
import { sqsBatchHandler } from '../shared/batch';
import { ENV } from '../shared/config';
import { type ChannelDeps, deliverJob } from './deliver';

export const createChannelHandler = (deps: ChannelDeps) =>
  sqsBatchHandler(ChannelJob, async (job, record) => {
    if (job.channel !== deps.provider.channel)
      throw new Error(`a ${job.channel} job reached the ${deps.provider.channel} channel`);
    await deliverJob(deps, job, record);
  });

let wired: Promise<ReturnType<typeof createChannelHandler>> | undefined;

export const handler = async (event: SQSEvent, context: Context) => {
  wired ??= (async () => {
    const channel = Channel.parse(process.env[ENV.channel]);
    return createChannelHandler({ ...awsServices(), ...(await awsChannelProviders(channel)) });
  })().catch((error: unknown) => {
    // A failed start-up (a secret store outage) must not stick to the container: the next invocation tries again.
    wired = undefined;
    throw error;
  });
  return (await wired)(event, context);
};
