/**
 * The OpenAPI 3.1 document, generated from the zod schemas and the route table — never written by hand,
 * so it cannot drift from what the API validates. Served at GET /v1/openapi.json.
 */
import * as z from 'zod';
import { AlertDraft, ApproveBody, CancelBody, UpdatePatch } from './alert';
import './delivery';
import './problem';
import { type OperationId, ROUTES, type RouteSpec } from './routes';
import {
  ConfirmRequest,
  NewSubscriber,
  NewWebhook,
  SandboxInboundSms,
  SubscriptionRequest,
} from './subscriptions';

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

type Json = Record<string, unknown>;

/** Request bodies are described as accepted (input); responses as produced (output). */
function components(): Record<string, Json> {
  const options = {
    target: 'draft-2020-12' as const,
    unrepresentable: 'any' as const,
    uri: (id: string) => `#/components/schemas/${id}`,
  };
  const input = z.toJSONSchema(z.globalRegistry, { ...options, io: 'input' }).schemas;
  const output = z.toJSONSchema(z.globalRegistry, { ...options, io: 'output' }).schemas;
  const requestIds = new Set(
    [
      AlertDraft,
      UpdatePatch,
      CancelBody,
      ApproveBody,
      SubscriptionRequest,
      ConfirmRequest,
      NewSubscriber,
      NewWebhook,
      SandboxInboundSms,
    ].map((s) => z.globalRegistry.get(s)?.id),
  );
  const all: Record<string, Json> = {};
  for (const [id, schema] of Object.entries(output))
    all[id] = requestIds.has(id) ? (input[id] as Json) : (schema as Json);
  for (const schema of Object.values(all)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return all;
}

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ref('Problem') } },
});

const jsonBody = (id: string, description: string) => ({
  description,
  content: { 'application/json': { schema: ref(id) } },
});

const idempotencyKey = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Replays with the same key and body return the first response; another body under the same key is refused with 422.',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};
const ifMatch = (required: boolean) => ({
  name: 'If-Match',
  in: 'header',
  required,
  description: 'The ETag of the version you are changing, e.g. "3".',
  schema: { type: 'string' },
});

/** What each operation takes and answers, beyond the route table. */
const OPERATION_DETAILS: Partial<Record<OperationId, Json>> = {
  createAlert: {
    parameters: [idempotencyKey],
    requestBody: { required: true, content: { 'application/json': { schema: ref('AlertDraft') } } },
    responses: {
      '201': jsonBody('Alert', 'Created; Location and ETag "1" headers'),
      '413': problem('Body over 256 KiB'),
      '422': problem('Idempotency-Key reused with another body'),
    },
  },
  listAlerts: {
    parameters: [
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
    ],
    responses: { '200': jsonBody('AlertList', 'Newest first') },
  },
  previewAlert: {
    requestBody: { required: true, content: { 'application/json': { schema: ref('AlertDraft') } } },
    responses: { '200': { description: 'Each named channel as it would be sent, per language' } },
  },
  getAlert: { responses: { '200': jsonBody('Alert', 'The alert; ETag is its current version') } },
  getVersion: { responses: { '200': jsonBody('AlertVersion', 'One immutable version') } },
  updateAlert: {
    parameters: [idempotencyKey, ifMatch(true)],
    requestBody: {
      required: true,
      content: {
        'application/merge-patch+json': { schema: ref('UpdatePatch') },
        'application/json': { schema: ref('UpdatePatch') },
      },
    },
    responses: {
      '201': jsonBody('Alert', 'New version created'),
      '409': problem('Cancelled'),
      '412': problem('Stale If-Match'),
      '428': problem('If-Match missing'),
    },
  },
  cancelAlert: {
    parameters: [idempotencyKey, ifMatch(false)],
    requestBody: { required: false, content: { 'application/json': { schema: ref('CancelBody') } } },
    responses: {
      '201': jsonBody('Alert', 'Cancel version created'),
      '409': problem('Already cancelled'),
      '412': problem('Stale If-Match'),
    },
  },
  approveAlert: {
    requestBody: { required: false, content: { 'application/json': { schema: ref('ApproveBody') } } },
    responses: {
      '200': jsonBody('Alert', 'Released for fan-out'),
      '409': problem('Nothing waiting for approval'),
    },
  },
  listDeliveries: {
    parameters: [
      { name: 'version', in: 'query', schema: { type: 'integer', minimum: 1 } },
      { name: 'channel', in: 'query', schema: ref('Channel') },
      { name: 'status', in: 'query', schema: ref('DeliveryStatus') },
      { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'csv'] } },
      {
        name: 'limit',
        in: 'query',
        description: 'Receipts per page (JSON only; CSV carries every row)',
        schema: { type: 'integer', minimum: 1, maximum: 5000, default: 1000 },
      },
      {
        name: 'cursor',
        in: 'query',
        description: 'The `cursor` of the previous page',
        schema: { type: 'string' },
      },
    ],
    responses: {
      '200': {
        description:
          'Receipts with totals for the whole alert (recipients not yet sent count as queued), or CSV',
        content: {
          'application/json': { schema: ref('DeliveryReport') },
          'text/csv': { schema: { type: 'string' } },
        },
      },
    },
  },
  listZones: {
    parameters: [{ name: 'If-None-Match', in: 'header', required: false, schema: { type: 'string' } }],
    responses: {
      '200': jsonBody('ZoneList', 'Every zone; ETag and Cache-Control: public, max-age=300'),
      '304': { description: 'Not modified (If-None-Match matched the ETag)' },
    },
  },
  requestSubscription: {
    parameters: [idempotencyKey],
    requestBody: { required: true, content: { 'application/json': { schema: ref('SubscriptionRequest') } } },
    responses: {
      '202': jsonBody(
        'SubscriptionAccepted',
        'A 6-digit code was sent, valid 15 minutes, 5 tries. The same answer whether or not the address is already subscribed.',
      ),
      '429': problem(
        'Too many codes for this address (3 an hour) or sign-ups from this client (20 an hour); see Retry-After',
      ),
    },
  },
  confirmSubscription: {
    requestBody: { required: true, content: { 'application/json': { schema: ref('ConfirmRequest') } } },
    responses: {
      '200': jsonBody('Subscriber', 'Confirmed: the subscriber, address masked'),
      '410': problem(
        'No code is waiting for this address: expired, tries used up, or never asked for (errors name /code); ask for a new one',
      ),
      '422': problem('Wrong code: errors name /code; the problem carries triesLeft'),
      '429': problem('Too many confirmation attempts from this client; see Retry-After'),
    },
  },
  importSubscriptions: {
    requestBody: {
      required: true,
      content: {
        'text/csv': {
          schema: {
            type: 'string',
            description:
              'Header channel,address,zones,language,consent; zones separated by ";" or spaces; consent required; at most 5000 rows',
          },
        },
      },
    },
    responses: {
      '200': jsonBody('ImportReport', 'Good rows kept; each bad row named with its field and why'),
      '413': problem('Body over 256 KiB, or more than 5000 rows'),
      '415': problem('Not text/csv'),
      '422': problem('The header is not channel,address,zones,language,consent'),
    },
  },
  inboundSms: {
    requestBody: {
      required: true,
      content: {
        'text/plain': {
          schema: {
            type: 'string',
            description:
              'An Amazon SNS HTTP(S) message (JSON) from the configured topic; a Notification carries the AWS End User Messaging SMS two-way payload',
          },
        },
      },
    },
    responses: {
      '200': { description: 'Handled (a keyword answered, or the subscription confirmed)' },
      '403': problem('Not a correctly signed SNS message from the configured topic'),
    },
  },
  listSubscribers: {
    parameters: [
      { name: 'channel', in: 'query', schema: { type: 'string', enum: ['sms', 'email', 'webhook'] } },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
    ],
    responses: { '200': jsonBody('SubscriberList', 'Addresses masked') },
  },
  createSubscriber: {
    parameters: [idempotencyKey],
    requestBody: { required: true, content: { 'application/json': { schema: ref('NewSubscriber') } } },
    responses: {
      '201': jsonBody('Subscriber', 'Created, confirmed; Location header'),
      '409': problem('This address is already a subscriber (named in the detail)'),
    },
  },
  deleteSubscriber: { responses: { '204': { description: 'Removed, with their personal data' } } },
  getSubscriberAudit: {
    responses: {
      '200': jsonBody(
        'SubscriptionAuditList',
        'Oldest first, never paged (a trail is short); empty for an unknown id',
      ),
    },
  },
  listSubscriptionAudit: {
    parameters: [
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
    ],
    responses: { '200': jsonBody('SubscriptionAuditList', 'Newest first; no address in any event') },
  },
  listWebhooks: {
    parameters: [
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
    ],
    responses: { '200': jsonBody('SubscriberList', 'URLs masked') },
  },
  createWebhook: {
    requestBody: { required: true, content: { 'application/json': { schema: ref('NewWebhook') } } },
    responses: {
      '201': jsonBody('WebhookCreated', 'Created; the signing secret is in this answer only'),
      '409': problem('This URL is already a webhook (named in the detail)'),
    },
  },
  deleteWebhook: { responses: { '204': { description: 'Removed' } } },
  sandboxInboundSms: {
    requestBody: { required: true, content: { 'application/json': { schema: ref('SandboxInboundSms') } } },
    responses: { '200': { description: 'The keyword understood and the reply sent to the outbox' } },
  },
};

function operation(route: RouteSpec): Json {
  const details = OPERATION_DETAILS[route.operationId as OperationId] ?? {};
  const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: m[1] === 'n' ? { type: 'integer', minimum: 1 } : { type: 'string' },
  }));
  const responses: Json = {
    ...((details.responses as Json | undefined) ?? { '200': { description: 'OK' } }),
    ...(route.method === 'POST' || route.method === 'PUT'
      ? { '400': problem('Invalid request: every bad field named') }
      : {}),
    ...(route.auth === 'jwt'
      ? { '401': problem('No or invalid token'), '403': problem('Role not allowed') }
      : {}),
    ...(route.path.includes('{id}')
      ? { '404': problem(route.path.startsWith('/v1/alerts') ? 'No such alert' : 'Not found') }
      : {}),
  };
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.auth === 'jwt'
      ? { security: [{ bearer: [] }], description: `Roles: ${route.roles.join(', ')}.` }
      : { security: [] }),
    ...(route.embeddedOnly ? { 'x-herald-embedded-only': true } : {}),
    parameters: [...pathParams, ...((details.parameters as Json[] | undefined) ?? [])],
    ...(details.requestBody ? { requestBody: details.requestBody } : {}),
    responses,
  };
}

let cached: Json | undefined;

export function openApiDocument(): Json {
  if (cached) return cached;
  const paths: Record<string, Json> = {};
  for (const route of ROUTES) {
    paths[route.path] ??= {};
    (paths[route.path] as Json)[route.method.toLowerCase()] = operation(route);
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version: '1',
      description: 'Public-alert fan-out: one alert to every channel, with a receipt per recipient.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    components: {
      schemas: components(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
    paths,
  };
  return cached;
}
