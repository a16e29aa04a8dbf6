/** Lambda entry point of the HTTP API (API Gateway HTTP API, payload format 2.0). */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { awsSecrets, awsServices } from '../shared/aws';
import { logger } from '../shared/logger';
import { awsNotifier } from '../shared/notifier';
import type { ApiDeps } from './alerts';
import { compileRoutes, createRouter, type RouterOptions } from './router';
import { tipIntakeFor } from './tips';

export const createApiHandler = (deps: ApiDeps, options: RouterOptions = {}) =>
  middy<APIGatewayProxyEventV2, Awaited<ReturnType<ReturnType<typeof createRouter>>>, Error, Context>(
    createRouter(deps, compileRoutes(), options),
  ).use(injectLambdaContext(logger, { resetKeys: true }));

let wired: ReturnType<typeof createApiHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2, context: Context) => {
  // Codes and keyword replies go out through SNS and SES, built on the first notice (most requests send none).
  wired ??= createApiHandler(
    { ...awsServices(), notifier: awsNotifier() },
    // The Meta secrets are read on Meta's first delivery, not when a container starts for any other route.
    {
      metaWebhook: {
        secrets: { get: (name, options) => awsSecrets().get(name, options) },
        intake: tipIntakeFor(awsServices()),
      },
    },
  );
  return wired(event, context);
};
