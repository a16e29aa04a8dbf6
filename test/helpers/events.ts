/**
 * Events shaped like the ones AWS delivers, built from captured fixtures: API Gateway HTTP API payload 2.0
 * with a JWT authorizer (claims as API Gateway passes them: every value a string, `cognito:groups` flattened
 * to "[officer supervisor]"), and SQS batches. Each builder clones its fixture, so no test sees another's edits.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Role } from '../../functions/core/model';
import { ROUTES } from '../../schemas/routes';
import apiFixture from '../fixtures/apigw-v2-jwt-request.json';
import sqsFixture from '../fixtures/sqs-event.json';

export type Claims = Record<string, string>;

/** The claims of a Cognito access token for a user in `roles`, as the JWT authorizer hands them on. */
export function claimsFor(sub: string, roles: readonly Role[]): Claims {
  const claims = structuredClone(apiFixture.requestContext.authorizer.jwt.claims) as Claims;
  claims.sub = sub;
  claims.username = sub;
  claims['cognito:groups'] = `[${roles.join(' ')}]`;
  return claims;
}

export interface ApiRequest {
  method: string;
  /** The path as the client sent it, with its query string if any. */
  path: string;
  /** An object is sent as JSON; a string is sent as it is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** null: no token (a public route, or a request the test wants without one). */
  claims: Claims | null;
  isBase64Encoded?: boolean;
}

/** API Gateway's routeKey for a path: the route it matched, or `$default`. */
function routeKeyOf(method: string, path: string): string {
  for (const route of ROUTES) {
    const pattern = new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]+').replace(/\./g, '\\.')}$`);
    if (route.method === method && pattern.test(path)) return `${route.method} ${route.path}`;
  }
  return '$default';
}

export function apiEvent(request: ApiRequest): APIGatewayProxyEventV2 {
  const event = structuredClone(apiFixture) as unknown as APIGatewayProxyEventV2 & {
    requestContext: { authorizer?: { jwt: { claims: Claims; scopes: null } } };
  };
  const [rawPath = '', rawQueryString = ''] = request.path.split('?', 2);
  const method = request.method.toUpperCase();
  event.rawPath = rawPath;
  event.rawQueryString = rawQueryString;
  event.routeKey = routeKeyOf(method, rawPath);
  event.requestContext.routeKey = event.routeKey;
  event.requestContext.http.method = method;
  event.requestContext.http.path = rawPath;
  event.requestContext.requestId = randomUUID();
  if (rawQueryString) {
    const query: Record<string, string> = {};
    // API Gateway joins repeated parameters with commas.
    for (const [k, v] of new URLSearchParams(rawQueryString)) query[k] = k in query ? `${query[k]},${v}` : v;
    event.queryStringParameters = query;
  }
  const headers: Record<string, string> = { ...event.headers } as Record<string, string>;
  if (request.claims) event.requestContext.authorizer = { jwt: { claims: request.claims, scopes: null } };
  else {
    delete event.requestContext.authorizer;
    delete headers.authorization;
  }
  if (request.body === undefined) {
    delete event.body;
    delete headers['content-type'];
    delete headers['content-length'];
  } else {
    const body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    event.body = body;
    headers['content-length'] = String(
      request.isBase64Encoded ? Buffer.from(body, 'base64').length : Buffer.byteLength(body),
    );
  }
  event.isBase64Encoded = request.isBase64Encoded ?? false;
  // HTTP API lower-cases header names.
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
  event.headers = headers;
  return event;
}

/** One SQS record carrying `body` (an object is sent as JSON), as the Lambda event source mapping delivers it. */
export function sqsRecord(
  body: unknown,
  overrides: { receiveCount?: number; queue?: string } = {},
): SQSRecord {
  const record = structuredClone(sqsFixture.Records[0]) as SQSRecord;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  record.messageId = randomUUID();
  record.receiptHandle = `AQEB${Buffer.from(randomUUID()).toString('base64')}`;
  record.body = text;
  record.md5OfBody = createHash('md5').update(text).digest('hex');
  record.attributes.ApproximateReceiveCount = String(overrides.receiveCount ?? 1);
  if (overrides.queue)
    record.eventSourceARN = record.eventSourceARN.replace(/[^:]+$/, `herald-${overrides.queue}`);
  return record;
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}

/** A Lambda context as the Node.js runtime passes it: Powertools' logger reads it. */
export function lambdaContext(functionName = 'herald-test'): Context {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:eu-west-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2030/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
