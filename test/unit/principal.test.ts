import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../functions/core/model';
import { actorFromEvent, type EventWithClaims, rolesFromGroups } from '../../functions/shared/principal';
import { flattenClaims } from '../../local/gateway';

function eventWith(claims: Record<string, unknown> | undefined): EventWithClaims {
  return { requestContext: claims === undefined ? {} : { authorizer: { jwt: { claims } } } };
}

describe('actorFromEvent', () => {
  it.each<[string, unknown, Role[]]>([
    ['a real array', ['officer', 'supervisor'], ['officer', 'supervisor']],
    ['a JSON array string', '["supervisor","auditor"]', ['supervisor', 'auditor']],
    ["API Gateway's bracketed string", '[officer supervisor]', ['officer', 'supervisor']],
    ["API Gateway's bracketed string with one group", '[auditor]', ['auditor']],
    ['a single plain string', 'officer', ['officer']],
    ['a comma-separated string', 'officer,auditor', ['officer', 'auditor']],
    ['an empty array', [], []],
    ["API Gateway's empty list", '[]', []],
    ['unknown groups mixed in', '[admin officer us-east-1_pool_Google]', ['officer']],
    ['repeats', ['officer', 'officer'], ['officer']],
    ['non-strings in an array', ['officer', 7, null, { role: 'supervisor' }], ['officer']],
    ['a number', 42, []],
    ['nothing', undefined, []],
  ])('reads roles from cognito:groups given as %s', (_shape, groups, roles) => {
    const claims: Record<string, unknown> = { sub: 'desk-1' };
    if (groups !== undefined) claims['cognito:groups'] = groups;

    expect(actorFromEvent(eventWith(claims))).toEqual({ id: 'desk-1', roles });
  });

  it.each<[string, EventWithClaims]>([
    ['no authorizer (a public route)', eventWith(undefined)],
    ['claims without sub', eventWith({ 'cognito:groups': '[officer]' })],
    ['an empty sub', eventWith({ sub: '', 'cognito:groups': '[officer]' })],
    ['a sub that is not a string', eventWith({ sub: 12, 'cognito:groups': '[officer]' })],
    ['a null authorizer', { requestContext: { authorizer: null } }],
  ])('is undefined for %s', (_case, event) => {
    expect(actorFromEvent(event)).toBeUndefined();
  });

  it('reads back exactly the roles whatever shape the gateway flattened them into', () => {
    fc.assert(
      fc.property(fc.subarray([...ROLES]), fc.constantFrom('array', 'gateway', 'json'), (roles, shape) => {
        const groups =
          shape === 'array'
            ? roles
            : shape === 'json'
              ? JSON.stringify(roles)
              : flattenClaims({ 'cognito:groups': roles })['cognito:groups'];
        expect(rolesFromGroups(groups)).toEqual(roles);
      }),
    );
  });
});
