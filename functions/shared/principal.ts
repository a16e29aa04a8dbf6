/**
 * Who is calling, read from what API Gateway's JWT authorizer put in the event. The authorizer has
 * already checked the signature, issuer, audience and expiry; this only reads the claims, and is the
 * same code on AWS and in the embedded gateway.
 */
import { type Actor, ROLES, type Role } from '../core/model';

/** The part of an HTTP API v2 event this reads; any v2 event (with or without an authorizer) fits. */
export interface EventWithClaims {
  requestContext: {
    authorizer?: { jwt?: { claims?: Record<string, unknown> | null } | null } | null;
  };
}

export function actorFromEvent(event: EventWithClaims): Actor | undefined {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  if (!claims) return undefined;
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub === '') return undefined;
  return { id: sub, roles: rolesFromGroups(claims['cognito:groups']) };
}

/**
 * `cognito:groups` arrives in several shapes: a JSON array when the token is read directly, the
 * string `[officer supervisor]` when API Gateway's JWT authorizer has flattened it, a JSON array
 * string from tools that serialise claims themselves, or one plain group name. Anything that is not
 * one of Herald's roles is dropped rather than trusted.
 */
export function rolesFromGroups(groups: unknown): Role[] {
  return [...new Set(groupNames(groups))].filter(isRole);
}

function groupNames(groups: unknown): string[] {
  if (Array.isArray(groups))
    return groups.filter((g): g is string => typeof g === 'string').map((g) => g.trim());
  if (typeof groups !== 'string') return [];
  const text = groups.trim();
  if (text.startsWith('[') && text.endsWith(']')) {
    // API Gateway's `[a b]` has no quotes; only a quoted list can be JSON. (Trying JSON.parse first made every
    // request throw and catch an error, a measurable share of the API's time.)
    if (!text.includes('"')) return splitList(text.slice(1, -1));
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return groupNames(parsed);
    } catch {
      // Not JSON: API Gateway's `[a b]` form.
    }
    return splitList(text.slice(1, -1));
  }
  return splitList(text);
}

/** Group names cannot hold spaces or commas among Herald's roles, so either separator is safe to split on. */
function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}
