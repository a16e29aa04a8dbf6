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
    ["API Gateway's bracketed string", '[officer supervisor]', ['officer', 'supervisor']],
    ["API Gateway's bracketed string with one group", '[auditor]', ['auditor']],
    ['a single plain string', 'officer', ['officer']],
    // Cognito group names may hold commas, brackets and quotes (never whitespace): each is one whole name.
    ['a plain string holding a comma', 'readers,officer', []],
    ['an array holding one name with a comma', ['readers,officer'], []],
    ['a JSON array string holding one name with a comma', '["readers,officer"]', []],
    ["API Gateway's string for one group whose name has a comma", '[readers,officer]', []],
    ["API Gateway's string for a comma group beside a role", '[readers,officer auditor]', ['auditor']],
    ["API Gateway's string for a group named with quotes", '["officer"]', []],
    ["API Gateway's string for a group named with brackets", '[[officer]]', []],
    ['an array holding a name with spaces around a role', [' officer', 'supervisor '], []],
    ['a plain string with spaces', 'officer supervisor', []],
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
      fc.property(fc.subarray([...ROLES]), fc.constantFrom('array', 'gateway'), (roles, shape) => {
        const groups =
          shape === 'array' ? roles : flattenClaims({ 'cognito:groups': roles })['cognito:groups'];
        expect(rolesFromGroups(groups)).toEqual(roles);
      }),
    );
  });

  it('never reads a role out of a group name that is not exactly that role, in either shape', () => {
    // Cognito group names (no whitespace, punctuation allowed) that are not a role, most of them a role with
    // separators or quotes around it, such as `readers,officer`, `"officer"` or `[officer]`.
    const punctuation = fc.stringMatching(/^[,;|"'[\](){}]{1,3}$/);
    const role = fc.constantFrom(...ROLES);
    const nearRole = fc.oneof(
      fc.tuple(fc.constantFrom('', 'readers', ...ROLES), punctuation, role).map((p) => p.join('')),
      fc.tuple(role, punctuation).map((p) => p.join('')),
      fc.tuple(punctuation, role, punctuation).map((p) => p.join('')),
    );
    const name = fc
      .oneof(nearRole, fc.stringMatching(/^[\p{L}\p{N}\p{P}\p{S}]{1,40}$/u))
      .filter((n) => !(ROLES as readonly string[]).includes(n));
    fc.assert(
      fc.property(fc.array(name, { maxLength: 5 }), (names) => {
        expect(rolesFromGroups(names)).toEqual([]);
        expect(rolesFromGroups(flattenClaims({ 'cognito:groups': names })['cognito:groups'])).toEqual([]);
      }),
    );
  });
});
