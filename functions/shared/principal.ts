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
 * `cognito:groups` arrives in two shapes: the token's own JSON array (a verified token read directly), or the
 * string API Gateway's JWT authorizer makes of it, `[officer supervisor]`: the names joined by spaces between
 * brackets, unquoted (local/gateway.ts's flattenClaims makes the same). A Cognito group name is 1 to 128
 * letters, marks, symbols, numbers or punctuation (CreateGroup's pattern `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`): it
 * holds no whitespace, so spaces separate names unambiguously, but it may hold commas, brackets and quotes. So
 * each name is matched whole: `readers,officer` is one group (not the officer role), and `["officer"]` is API
 * Gateway's string for a group named `"officer"` (quotes included), not a JSON array. A string without brackets
 * is one name. Anything that is not exactly one of Herald's roles is dropped rather than trusted.
 */
export function rolesFromGroups(groups: unknown): Role[] {
  return [...new Set(groupNames(groups))].filter(isRole);
}

function groupNames(groups: unknown): string[] {
  if (Array.isArray(groups)) return groups.filter((g): g is string => typeof g === 'string');
  if (typeof groups !== 'string') return [];
  if (groups.startsWith('[') && groups.endsWith(']'))
    return groups
      .slice(1, -1)
      .split(' ')
      .filter((name) => name !== '');
  return [groups];
}

function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}
