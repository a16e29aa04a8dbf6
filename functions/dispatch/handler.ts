/** Lambda entry point of the dispatcher: consumes the dispatch queue. */
import type { Context, SQSEvent } from 'aws-lambda';
import { DispatchMessage } from '../../schemas/messages';
import { awsServices } from '../shared/aws';
import { sqsBatchHandler } from '../shared/batch';
import { type DispatchDeps, dispatchVersion } from './plan';

export const createDispatchHandler = (deps: DispatchDeps) =>
  sqsBatchHandler(DispatchMessage, (message) => dispatchVersion(deps, message));

let wired: ReturnType<typeof createDispatchHandler> | undefined;

export const handler = (event: SQSEvent, context: Context) => {
  wired ??= createDispatchHandler(awsServices());
  return wired(event, context);
};
