/** Lambda entry point of the sweeper, run every minute by a schedule. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type DispatchDeps, sweep } from '../dispatch/plan';
import { awsServices } from '../shared/aws';
import { logger } from '../shared/logger';

export const createSweeperHandler = (deps: DispatchDeps) =>
  middy<unknown, { swept: number }, Error, Context>(async () => ({ swept: await sweep(deps) })).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );

let wired: ReturnType<typeof createSweeperHandler> | undefined;

export const handler = (event: unknown, context: Context) => {
  wired ??= createSweeperHandler(awsServices());
  return wired(event, context);
};
