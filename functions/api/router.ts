/**
 * The api Lambda's router: matches a request against the route table, authorises it by role, runs the
 * operation and turns every failure into problem+json. A 500 says a fixed sentence and logs the error.
 */

import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { openApiDocument } from '../../schemas/openapi';
import { type OperationId, ROUTES, type RouteSpec } from '../../schemas/routes';
import { forbidden, HttpProblem, methodNotAllowed, notFound, unauthorized } from '../core/errors';
import type { Actor } from '../core/model';
import { actorFromEvent, type EventWithClaims } from '../shared/principal';
import { SITE_OPERATIONS } from '../site/operations';
import { withdrawVersionOp } from './alert-timeline';
import {
  type ApiDeps,
  approveAlertOp,
  cancelAlertOp,
  createAlert,
  getAlert,
  getAudit,
  getVersion,
  listAlerts,
  listDeliveries,
  type OperationInput,
  updateAlertOp,
} from './alerts';
import { verifyAuditLogOp } from './audit-verify';
import {
  capPathAlias,
  createAlertFromCap,
  getAlertCap,
  getVersionCap,
  isCapRequest,
  previewAlertFromCap,
} from './cap';
import { atomFeedOp, jsonFeedOp, rssFeedOp } from './feeds';
import { type ApiResult, json, problemResult } from './http';
import { getImpact } from './impact';
import { confirmByGet, type InboundSmsRouteOptions, inboundSmsOperation } from './inbound-sms';
import { type MetaWebhookOptions, metaWebhookOperations } from './meta-webhook';
import { previewAlert } from './preview';
import { getReports } from './reports';
import { listZones } from './residents';
import { createSnsVerifier } from './sns-signature';
import { getSubscriberAudit, listSubscriptionAudit } from './subscription-audit';
import { confirmSubscription, importSubscriptions, requestSubscription } from './subscriptions';
import {
  assignTip,
  closeTip,
  countTips,
  getTip,
  getTipAudit,
  listTips,
  reopenTip,
  replyToTip,
  submitTip,
} from './tips';
import {
  createSubscriber,
  createWebhook,
  deleteSubscriber,
  deleteWebhook,
  listSubscribers,
  listWebhooks,
} from './webhooks';

type Operation = (deps: ApiDeps, input: OperationInput) => Promise<ApiResult>;

const OPERATIONS: Partial<Record<OperationId, Operation>> = {
  health: async () => json(200, { status: 'ok' }),
  openapi: async () => json(200, openApiDocument(), { 'cache-control': 'public, max-age=300' }),
  // A CAP body (application/cap+xml) takes the CAP path, which ends in the same JSON operations.
  createAlert: (deps, input) =>
    isCapRequest(input.event) ? createAlertFromCap(deps, input) : createAlert(deps, input),
  listAlerts,
  previewAlert: (deps, input) =>
    isCapRequest(input.event) ? previewAlertFromCap(deps, input) : previewAlert(deps, input),
  getAlert,
  getVersion,
  updateAlert: updateAlertOp,
  cancelAlert: cancelAlertOp,
  approveAlert: approveAlertOp,
  withdrawVersion: withdrawVersionOp,
  listDeliveries,
  getAudit,
  getImpact,
  verifyAuditLog: verifyAuditLogOp,
  ...SITE_OPERATIONS,
  getAlertCap,
  getVersionCap,
  feedAtom: atomFeedOp,
  feedRss: rssFeedOp,
  feedJson: jsonFeedOp,
  listZones,
  requestSubscription,
  confirmSubscription,
  importSubscriptions,
  listSubscribers,
  createSubscriber,
  deleteSubscriber,
  getSubscriberAudit,
  listSubscriptionAudit,
  listWebhooks,
  createWebhook,
  deleteWebhook,
  submitTip,
  listTips,
  countTips,
  getTip,
  getTipAudit,
  replyToTip,
  assignTip,
  closeTip,
  reopenTip,
  getReports,
};

export interface RouterOptions {
  /** How POST /v1/inbound/sms checks SNS signatures and confirms its subscription; tests pass their own. */
  inboundSms?: InboundSmsRouteOptions;
  /** Where Meta's webhook deliveries (comments under the agency's posts) are checked and handed over as tips. */
  metaWebhook?: MetaWebhookOptions;
}

interface CompiledRoute {
  spec: RouteSpec;
  pattern: RegExp;
  names: string[];
  /** Literal segments win over parameters: /v1/alerts/preview is not alert "preview". */
  literalSegments: number;
}

function compile(spec: RouteSpec): CompiledRoute {
  const names: string[] = [];
  const source = spec.path
    .split('/')
    .map((segment) =>
      segment.replace(/\{(\w+)\}|[^{}]+/g, (whole, name?: string) => {
        if (name) {
          names.push(name);
          return '([^/]+)';
        }
        return whole.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      }),
    )
    .join('/');
  return {
    spec,
    pattern: new RegExp(`^${source}$`),
    names,
    literalSegments: spec.path.split('/').filter((s) => s && !s.includes('{')).length,
  };
}

/** Routes the api Lambda serves: the embedded-only sandbox routes are answered by the embedded server. */
export function compileRoutes(
  routes: readonly RouteSpec[] = ROUTES.filter((r) => !('embeddedOnly' in r)),
): CompiledRoute[] {
  return routes.map(compile).sort((a, b) => b.literalSegments - a.literalSegments);
}

function authorise(spec: RouteSpec, event: APIGatewayProxyEventV2): Actor {
  // Routes with the JWT authorizer carry its claims; the plain v2 event type does not declare them.
  const actor = actorFromEvent(event as EventWithClaims);
  if (!actor) throw unauthorized();
  if (!spec.roles.some((role) => actor.roles.includes(role)))
    throw forbidden(`${spec.summary} needs one of the roles ${spec.roles.join(', ')}.`);
  return actor;
}

const ANONYMOUS: Actor = { id: 'anonymous', roles: [] };

export function createRouter(deps: ApiDeps, routes = compileRoutes(), options: RouterOptions = {}) {
  // The SNS certificate cache lives as long as the router: once per container on AWS.
  const operations: Partial<Record<OperationId, Operation>> = {
    ...OPERATIONS,
    inboundSms: inboundSmsOperation(
      options.inboundSms ?? { verifier: createSnsVerifier(), confirmSubscription: confirmByGet },
    ),
    // Without its options (a test of other routes) the route answers 404, as an unknown path would.
    ...(options.metaWebhook ? metaWebhookOperations(options.metaWebhook) : {}),
  };
  return async (event: APIGatewayProxyEventV2): Promise<ApiResult> => {
    const method = event.requestContext.http.method.toUpperCase();
    // The contract's …/{id}.cap URLs, which API Gateway cannot route by themselves (see functions/api/cap.ts).
    const path = capPathAlias(event.rawPath);
    try {
      const matching = routes
        .map((r) => ({ route: r, match: r.pattern.exec(path) }))
        .filter((m): m is { route: CompiledRoute; match: RegExpExecArray } => m.match !== null);
      if (matching.length === 0) throw notFound(`Nothing is at ${path}.`);
      const hit = matching.find((m) => m.route.spec.method === method);
      if (!hit) throw methodNotAllowed([...new Set(matching.map((m) => m.route.spec.method))]);
      const params: Record<string, string> = {};
      hit.route.names.forEach((name, i) => {
        try {
          params[name] = decodeURIComponent(hit.match[i + 1] ?? '');
        } catch {
          // A malformed %-escape names nothing that exists.
          throw notFound(`Nothing is at ${path}.`);
        }
      });
      const actor = hit.route.spec.auth === 'jwt' ? authorise(hit.route.spec, event) : ANONYMOUS;
      const operation = operations[hit.route.spec.operationId as OperationId];
      if (!operation) throw notFound(`Nothing is at ${path}.`);
      return await operation(deps, { event, actor, params });
    } catch (error) {
      if (error instanceof HttpProblem) return problemResult(error, path);
      deps.logger.error('request failed', {
        method,
        path,
        error:
          error instanceof Error
            ? { name: error.name, message: error.message, stack: error.stack }
            : String(error),
      });
      return problemResult(
        new HttpProblem(
          500,
          'internal',
          'Internal error',
          'Something went wrong on our side; the request may be retried with the same Idempotency-Key.',
        ),
        path,
      );
    }
  };
}
