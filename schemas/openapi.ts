/**
 * The OpenAPI 3.1 document, generated from the zod schemas and the route table — never written by hand,
 * so it cannot drift from what the API validates. Served at GET /v1/openapi.json.
 */
import * as z from 'zod';
import { AlertDraft, ApproveBody, CancelBody, UpdatePatch } from './alert';
import './audit';
import './delivery';
import './problem';
import './replies';
import { impactOperations } from './impact';
import { reportOperations } from './reports';
import './responses';
import { type OperationId, ROUTES, type RouteSpec } from './routes';
import { SandboxFaults, SandboxTokenRequest } from './sandbox';
import { siteOperations } from './site-openapi';
import {
  ConfirmRequest,
  NewSubscriber,
  NewWebhook,
  SandboxInboundSms,
  SubscriptionRequest,
} from './subscriptions';
import {
  SandboxInboundSocial,
  TipAssignRequest,
  TipNoteRequest,
  TipReplyRequest,
  TipRequest,
  tipOperations,
} from './tips';

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
      SandboxTokenRequest,
      SandboxFaults,
      TipRequest,
      TipReplyRequest,
      TipAssignRequest,
      TipNoteRequest,
      SandboxInboundSocial,
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

const ifNoneMatch = {
  name: 'If-None-Match',
  in: 'header',
  required: false,
  description: 'An ETag this answer gave before: 304 with no body while it still holds',
  schema: { type: 'string' },
};
const cacheHeaders = (cacheControl: string) => ({
  ETag: { description: 'Strong ETag of this answer', schema: { type: 'string' } },
  'Cache-Control': { description: cacheControl, schema: { type: 'string' } },
});
/** A public, cacheable read: 200 with the body in `mediaType`, or 304 to a matching If-None-Match. */
const cachedRead = (mediaType: string, schema: Json, description: string, cacheControl: string) => ({
  parameters: [ifNoneMatch],
  responses: {
    '200': { description, headers: cacheHeaders(cacheControl), content: { [mediaType]: { schema } } },
    '304': {
      description: 'Not modified: If-None-Match named the current ETag',
      headers: cacheHeaders(cacheControl),
    },
  },
});
const capXml = {
  type: 'string',
  description: 'An OASIS CAP 1.2 <alert> (urn:oasis:names:tc:emergency:cap:1.2), one <info> per language',
};
const FEED_CACHE = 'public, max-age=30, stale-while-revalidate=30';
/** POST /v1/alerts and /preview take JSON, or a CAP 1.2 message checked against the OASIS XSD. */
const draftOrCap = (capDescription: string) => ({
  required: true,
  content: {
    'application/json': { schema: ref('AlertDraft') },
    'application/cap+xml': { schema: { ...capXml, description: capDescription } },
  },
});
const capChannels = {
  name: 'channels',
  in: 'query',
  required: false,
  description:
    'CAP bodies only: the channels of an alert created from CAP, comma-separated (every channel otherwise)',
  schema: { type: 'string' },
};

/** What each operation takes and answers, beyond the route table. */
const OPERATION_DETAILS: Partial<Record<OperationId, Json>> = {
  health: { responses: { '200': jsonBody('Health', 'Up') } },
  openapi: {
    responses: {
      '200': {
        description: 'This document; Cache-Control: public, max-age=300',
        content: { 'application/json': { schema: { type: 'object', description: 'OpenAPI 3.1' } } },
      },
    },
  },
  createAlert: {
    parameters: [idempotencyKey, capChannels],
    requestBody: draftOrCap(
      'An Alert creates an alert; an Update or Cancel becomes the next version of the alert its references name',
    ),
    responses: {
      '201': jsonBody('Alert', 'Created; Location and ETag "1" headers'),
      '413': problem('Body over 256 KiB'),
      '415': problem('Neither application/json nor application/cap+xml'),
      '422': problem(
        'Idempotency-Key reused with another body; or a CAP message that is CAP 1.1, expired, or references no alert Herald knows',
      ),
    },
  },
  listAlerts: {
    parameters: [
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 25 } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
      {
        name: 'state',
        in: 'query',
        description:
          '`scheduled`: only alerts with versions still to go out, soonest first, each with its steps',
        schema: { type: 'string', enum: ['scheduled'] },
      },
    ],
    responses: { '200': jsonBody('AlertList', 'Newest first (with ?state=scheduled: soonest step first)') },
  },
  previewAlert: {
    parameters: [capChannels],
    requestBody: draftOrCap(
      'Previewed as it would be imported; the answer adds `cap`, what the import made of it',
    ),
    responses: {
      '200': jsonBody('AlertPreview', 'Each named channel as it would be sent, per language'),
      '415': problem('Neither application/json nor application/cap+xml'),
      '422': problem('A CAP 1.1 message (refused, not upgraded)'),
    },
  },
  getAlert: { responses: { '200': jsonBody('Alert', 'The alert; ETag is its current version') } },
  getVersion: { responses: { '200': jsonBody('AlertVersion', 'One immutable version') } },
  withdrawVersion: {
    parameters: [ifMatch(false)],
    responses: {
      '200': jsonBody('Alert', 'Withdrawn: the version stays on record and never goes out'),
      '409': problem('The version is not waiting: it went out, or was replaced or withdrawn already'),
      '412': problem('Stale If-Match'),
    },
  },
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
  getAudit: { responses: { '200': jsonBody('AuditLog', 'Oldest first; recipients masked') } },
  verifyAuditLog: {
    parameters: [
      { name: 'alertId', in: 'query', required: false, schema: { type: 'string', maxLength: 64 } },
    ],
    responses: {
      '200': jsonBody('AuditVerification', 'ok is false when any entry is broken; never cached'),
      '404': problem('No alert with that id (with ?alertId=)'),
    },
  },
  ...siteOperations(),
  getAlertCap: cachedRead(
    'application/cap+xml',
    capXml,
    'The current version of an Actual alert as CAP 1.2',
    'public, max-age=60 (the current version changes with the next)',
  ),
  getVersionCap: cachedRead(
    'application/cap+xml',
    capXml,
    'One released version as CAP 1.2',
    'public, max-age=31536000, immutable (a version never changes)',
  ),
  feedAtom: cachedRead(
    'application/atom+xml',
    { type: 'string', description: 'Atom (RFC 4287) CAP index: one entry per alert, linking its CAP' },
    'Public alerts in force, newest first',
    FEED_CACHE,
  ),
  feedRss: cachedRead(
    'application/rss+xml',
    { type: 'string', description: 'RSS 2.0: one item per alert, its CAP as an enclosure' },
    'Public alerts in force, newest first',
    FEED_CACHE,
  ),
  feedJson: cachedRead(
    'application/feed+json',
    ref('JsonFeed'),
    'Public alerts in force, newest first',
    FEED_CACHE,
  ),
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
      '200': jsonBody('InboundSmsAck', 'Handled (a keyword answered, or the subscription confirmed)'),
      '403': problem('Not a correctly signed SNS message from the configured topic'),
    },
  },
  metaWebhookVerify: {
    parameters: [
      { name: 'hub.mode', in: 'query', required: true, schema: { type: 'string', enum: ['subscribe'] } },
      { name: 'hub.verify_token', in: 'query', required: true, schema: { type: 'string' } },
      { name: 'hub.challenge', in: 'query', required: true, schema: { type: 'string' } },
    ],
    responses: {
      '200': {
        description: 'The verify token matches: hub.challenge, echoed',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      '403': problem('Not subscribe, or not the configured verify token (webhookVerifyToken)'),
    },
  },
  metaWebhookReceive: {
    parameters: [
      {
        name: 'X-Hub-Signature-256',
        in: 'header',
        required: true,
        description: 'sha256=<hex HMAC-SHA256 of the raw body under the Meta app secret>',
        schema: { type: 'string' },
      },
    ],
    requestBody: { required: true, content: { 'application/json': { schema: ref('MetaWebhookDelivery') } } },
    responses: {
      '200': jsonBody('MetaWebhookAck', 'Accepted: every new comment by others handed over as a tip'),
      '401': problem('No X-Hub-Signature-256'),
      '403': problem('The signature does not verify under the app secret; nothing was stored'),
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
  ...tipOperations({ ref, jsonBody, problem, idempotencyKey }),
  ...reportOperations({ ref, problem }),
  ...impactOperations({ ref, problem }),
  sandboxOutbox: {
    parameters: [
      { name: 'channel', in: 'query', schema: ref('Channel') },
      { name: 'alertId', in: 'query', schema: { type: 'string' } },
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
      { name: 'cursor', in: 'query', schema: { type: 'string' } },
    ],
    responses: { '200': jsonBody('SandboxOutbox', 'Newest first; sms and email recipients masked') },
  },
  sandboxFaults: {
    requestBody: { required: true, content: { 'application/json': { schema: ref('SandboxFaults') } } },
    responses: { '200': jsonBody('SandboxFaults', 'Every fault now waiting') },
  },
  sandboxInboundSms: {
    requestBody: { required: true, content: { 'application/json': { schema: ref('SandboxInboundSms') } } },
    responses: {
      '200': jsonBody('InboundSmsOutcome', 'The keyword understood and the reply sent to the outbox'),
    },
  },
  sandboxToken: {
    requestBody: { required: true, content: { 'application/json': { schema: ref('SandboxTokenRequest') } } },
    responses: {
      '200': jsonBody('SandboxToken', 'A token for that role'),
      '403': problem('Asked from another machine than this one'),
    },
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
    // A site form's refusals are its page again (schemas/site-openapi.ts), not problem+json.
    ...((route.method === 'POST' || route.method === 'PUT') && !('site' in route && route.site)
      ? { '400': problem('Invalid request: every bad field named') }
      : {}),
    ...(route.auth === 'jwt'
      ? { '401': problem('No or invalid token'), '403': problem('Role not allowed') }
      : {}),
    ...(route.path.includes('{id}')
      ? {
          '404':
            'site' in route && route.site
              ? {
                  description: 'No public alert: a page saying so',
                  content: { 'text/html': { schema: { type: 'string' } } },
                }
              : problem(route.path.startsWith('/v1/alerts') ? 'No such alert' : 'Not found'),
        }
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
