/** Lambda entry point of the HTTP API (API Gateway HTTP API, payload format 2.0). */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { SecretsManagerSource } from '../adapters/secrets/secrets-manager';
import type { SecretSource } from '../ports';
import { awsSecrets, awsServices } from '../shared/aws';
import { lockAuditHeadsInS3 } from '../shared/aws-audit-heads';
import { ENV } from '../shared/config';
import { logger } from '../shared/logger';
import { awsNotifier } from '../shared/notifier';
import type { ApiDeps } from './alerts';
import { EDGE_SECRET_KEY } from './residents';
import { compileRoutes, createRouter, type RouterOptions } from './router';
import { tipIntakeFor } from './tips';

export const createApiHandler = (deps: ApiDeps, options: RouterOptions = {}) =>
  middy<APIGatewayProxyEventV2, Awaited<ReturnType<ReturnType<typeof createRouter>>>, Error, Context>(
    createRouter(deps, compileRoutes(), options),
  ).use(injectLambdaContext(logger, { resetKeys: true }));

/**
 * The edge secret's value (ENV.edgeSecretArn), read on the first request that claims to come through CloudFront and
 * kept by the secrets adapter for its few minutes, so a value redeployed to CloudFront is taken up without a cold start;
 * a failed read is not kept. Unset (no CloudFront in front): undefined, and no viewer address is ever believed.
 */
export function edgeSecretFrom(
  secretArn: string | undefined,
  source: () => SecretSource = () =>
    new SecretsManagerSource({ client: new SecretsManagerClient({}), prefix: '' }),
): (() => Promise<string>) | undefined {
  if (!secretArn) return undefined;
  let secrets: SecretSource | undefined;
  return async () => {
    secrets ??= source();
    const value = (await secrets.get(secretArn))?.[EDGE_SECRET_KEY];
    if (!value) throw new Error(`the edge secret ${secretArn} holds no "${EDGE_SECRET_KEY}"`);
    return value;
  };
}

// Appends audit entries and verifies them: each chain's head is locked in S3 as it is appended (lib/audit-heads.ts).
lockAuditHeadsInS3();

let wired: ReturnType<typeof createApiHandler> | undefined;

export const handler = (event: APIGatewayProxyEventV2, context: Context) => {
  // Codes and keyword replies go out through SNS and SES, built on the first notice (most requests send none).
  wired ??= createApiHandler(
    { ...awsServices(), notifier: awsNotifier(), edgeSecret: edgeSecretFrom(process.env[ENV.edgeSecretArn]) },
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
