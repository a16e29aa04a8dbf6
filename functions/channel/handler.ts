/** Lambda entry point of a channel: one function per channel, told which by HERALD_CHANNEL. */
import type { Context, SQSEvent } from 'aws-lambda';
import { Channel } from '../../schemas/alert';
import { ChannelJob } from '../../schemas/messages';
import { awsProviders, awsServices } from '../shared/aws';
import { sqsBatchHandler } from '../shared/batch';
import { ENV } from '../shared/config';
import { type ChannelDeps, deliverJob } from './deliver';

export const createChannelHandler = (deps: ChannelDeps) =>
  sqsBatchHandler(ChannelJob, async (job, record) => {
    if (job.channel !== deps.provider.channel)
      throw new Error(`a ${job.channel} job reached the ${deps.provider.channel} channel`);
    await deliverJob(deps, job, record);
  });

let wired: ReturnType<typeof createChannelHandler> | undefined;

export const handler = (event: SQSEvent, context: Context) => {
  if (!wired) {
    const channel = Channel.parse(process.env[ENV.channel]);
    wired = createChannelHandler({ ...awsServices(), ...awsProviders(channel) });
  }
  return wired(event, context);
};
