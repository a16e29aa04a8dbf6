/**
 * Every HTTP route Herald answers, in one table: the api handler's router, the embedded server's
 * authorizer and the CDK stack's API Gateway routes are all built from it.
 */
import type { Role } from '../functions/core/model';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteSpec {
  operationId: string;
  method: HttpMethod;
  /** API Gateway path syntax: `{id}` is one segment. */
  path: string;
  /** `public`: no token; `jwt`: a valid token whose groups include one of `roles`. */
  auth: 'public' | 'jwt';
  roles: readonly Role[];
  /** Routes that exist only in the embedded mode (the sandbox); CDK does not deploy them. */
  embeddedOnly?: boolean;
  summary: string;
}

const ALL: readonly Role[] = ['officer', 'supervisor', 'auditor'];

export const ROUTES = [
  { operationId: 'health', method: 'GET', path: '/healthz', auth: 'public', roles: [], summary: 'Liveness' },
  {
    operationId: 'openapi',
    method: 'GET',
    path: '/v1/openapi.json',
    auth: 'public',
    roles: [],
    summary: 'This API as OpenAPI 3.1',
  },
  {
    operationId: 'createAlert',
    method: 'POST',
    path: '/v1/alerts',
    auth: 'jwt',
    roles: ['officer'],
    summary: 'Create an alert',
  },
  {
    operationId: 'listAlerts',
    method: 'GET',
    path: '/v1/alerts',
    auth: 'jwt',
    roles: ALL,
    summary: 'List alerts, newest first',
  },
  {
    operationId: 'previewAlert',
    method: 'POST',
    path: '/v1/alerts/preview',
    auth: 'jwt',
    roles: ['officer'],
    summary: 'Render a draft for every channel without storing it',
  },
  {
    operationId: 'getAlert',
    method: 'GET',
    path: '/v1/alerts/{id}',
    auth: 'jwt',
    roles: ALL,
    summary: 'An alert with its current version',
  },
  {
    operationId: 'getVersion',
    method: 'GET',
    path: '/v1/alerts/{id}/versions/{n}',
    auth: 'jwt',
    roles: ALL,
    summary: 'One immutable version',
  },
  {
    operationId: 'updateAlert',
    method: 'POST',
    path: '/v1/alerts/{id}/updates',
    auth: 'jwt',
    roles: ['officer'],
    summary: 'Issue an update (new version, msgType Update)',
  },
  {
    operationId: 'cancelAlert',
    method: 'POST',
    path: '/v1/alerts/{id}/cancel',
    auth: 'jwt',
    roles: ['officer', 'supervisor'],
    summary: 'Cancel (new version, msgType Cancel)',
  },
  {
    operationId: 'approveAlert',
    method: 'POST',
    path: '/v1/alerts/{id}/approve',
    auth: 'jwt',
    roles: ['supervisor'],
    summary: 'Release a version held for approval',
  },
  {
    operationId: 'listDeliveries',
    method: 'GET',
    path: '/v1/alerts/{id}/deliveries',
    auth: 'jwt',
    roles: ALL,
    summary: 'Delivery receipts with totals; ?format=csv',
  },
  {
    operationId: 'getAudit',
    method: 'GET',
    path: '/v1/alerts/{id}/audit',
    auth: 'jwt',
    roles: ['supervisor', 'auditor'],
    summary: 'Every change to the alert: who, when, what',
  },
  {
    operationId: 'alertPage',
    method: 'GET',
    path: '/alerts/{id}',
    auth: 'public',
    roles: [],
    summary: "An Actual alert's current version as a public HTML page; ?lang= picks a translation",
  },
  // CAP and feeds (public). API Gateway takes a path variable only as a whole segment, so the contract's
  // /v1/alerts/{id}.cap and …/versions/{n}.cap are served here and mapped by capPathAlias (functions/api/cap.ts).
  {
    operationId: 'getAlertCap',
    method: 'GET',
    path: '/v1/alerts/{id}/cap',
    auth: 'public',
    roles: [],
    summary: "CAP 1.2 XML of an Actual alert's current version (also at /v1/alerts/{id}.cap)",
  },
  {
    operationId: 'getVersionCap',
    method: 'GET',
    path: '/v1/alerts/{id}/versions/{n}/cap',
    auth: 'public',
    roles: [],
    summary: 'CAP 1.2 XML of one released version (also at /v1/alerts/{id}/versions/{n}.cap)',
  },
  {
    operationId: 'feedAtom',
    method: 'GET',
    path: '/v1/feed.atom',
    auth: 'public',
    roles: [],
    summary: 'Public alerts as an Atom CAP index feed',
  },
  {
    operationId: 'feedRss',
    method: 'GET',
    path: '/v1/feed.rss',
    auth: 'public',
    roles: [],
    summary: 'Public alerts as RSS 2.0',
  },
  {
    operationId: 'feedJson',
    method: 'GET',
    path: '/v1/feed.json',
    auth: 'public',
    roles: [],
    summary: 'Public alerts as JSON Feed 1.1',
  },
  {
    operationId: 'listZones',
    method: 'GET',
    path: '/v1/zones',
    auth: 'public',
    roles: [],
    summary: "The agency's zones residents subscribe to",
  },
  {
    operationId: 'requestSubscription',
    method: 'POST',
    path: '/v1/subscriptions',
    auth: 'public',
    roles: [],
    summary: 'Sign up for alerts by SMS or email: a confirmation code is sent',
  },
  {
    operationId: 'confirmSubscription',
    method: 'POST',
    path: '/v1/subscriptions/confirm',
    auth: 'public',
    roles: [],
    summary: 'Confirm a sign-up with the code that was sent',
  },
  {
    operationId: 'importSubscriptions',
    method: 'POST',
    path: '/v1/subscriptions/import',
    auth: 'jwt',
    roles: ['officer'],
    summary: 'Import subscribers from CSV (channel,address,zones,language,consent): a report per row',
  },
  {
    operationId: 'inboundSms',
    method: 'POST',
    path: '/v1/inbound/sms',
    auth: 'public',
    roles: [],
    summary: 'Texts residents send to the agency (SNS notifications from two-way SMS, signature verified)',
  },
  {
    operationId: 'listSubscribers',
    method: 'GET',
    path: '/v1/subscribers',
    auth: 'jwt',
    roles: ALL,
    summary: 'Subscribers (addresses masked); ?channel=',
  },
  {
    operationId: 'createSubscriber',
    method: 'POST',
    path: '/v1/subscribers',
    auth: 'jwt',
    roles: ['officer', 'supervisor'],
    summary: 'Add a media email or SMS subscriber, with the consent they gave',
  },
  {
    operationId: 'deleteSubscriber',
    method: 'DELETE',
    path: '/v1/subscribers/{id}',
    auth: 'jwt',
    roles: ['officer', 'supervisor'],
    summary: 'Remove a subscriber and their personal data (receipts stay, anonymous)',
  },
  {
    operationId: 'getSubscriberAudit',
    method: 'GET',
    path: '/v1/subscribers/{id}/audit',
    auth: 'jwt',
    roles: ['supervisor', 'auditor'],
    summary: "One subscriber's changes, oldest first: who, how, when (kept after the subscriber is deleted)",
  },
  {
    operationId: 'listSubscriptionAudit',
    method: 'GET',
    path: '/v1/subscriptions/audit',
    auth: 'jwt',
    roles: ['supervisor', 'auditor'],
    summary: 'Every subscription change, newest first; ?limit=&cursor=',
  },
  {
    operationId: 'listWebhooks',
    method: 'GET',
    path: '/v1/webhooks',
    auth: 'jwt',
    roles: ALL,
    summary: 'Media webhooks (URLs masked)',
  },
  {
    operationId: 'createWebhook',
    method: 'POST',
    path: '/v1/webhooks',
    auth: 'jwt',
    roles: ['officer', 'supervisor'],
    summary: 'Add a media webhook; the answer shows its signing secret, once',
  },
  {
    operationId: 'deleteWebhook',
    method: 'DELETE',
    path: '/v1/webhooks/{id}',
    auth: 'jwt',
    roles: ['officer', 'supervisor'],
    summary: 'Remove a media webhook',
  },
  {
    operationId: 'sandboxOutbox',
    method: 'GET',
    path: '/v1/sandbox/outbox',
    auth: 'public',
    roles: [],
    embeddedOnly: true,
    summary: 'What the sandbox providers accepted, newest first',
  },
  {
    operationId: 'sandboxFaults',
    method: 'PUT',
    path: '/v1/sandbox/faults',
    auth: 'public',
    roles: [],
    embeddedOnly: true,
    summary: 'Make sandbox providers fail their next calls',
  },
  {
    operationId: 'sandboxInboundSms',
    method: 'POST',
    path: '/v1/sandbox/inbound/sms',
    auth: 'public',
    roles: [],
    embeddedOnly: true,
    summary: "Act as a resident texting the agency's number; replies go to the outbox",
  },
  {
    operationId: 'sandboxToken',
    method: 'POST',
    path: '/v1/sandbox/token',
    auth: 'public',
    roles: [],
    embeddedOnly: true,
    summary:
      "The console's sign-in in the embedded mode: a token for a role, to this machine only (Cognito on AWS)",
  },
] as const satisfies readonly RouteSpec[];

export type OperationId = (typeof ROUTES)[number]['operationId'];
