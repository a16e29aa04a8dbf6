/**
 * The console's pieces that need no browser: the PKCE values it sends Cognito (RFC 7636's own example), the
 * version differences an auditor reads, and the embedded sign-in that stands in for Cognito.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subjectOf } from '../../local/console';
import { buildConsole } from '../../web/build';
import { versionChanges } from '../../web/src/diff';
import { authorizeUrl, challengeOf, exchangeCode } from '../../web/src/pkce';
import type { AlertVersion } from '../../web/src/types';
import { startTestHerald, type TestHerald } from '../helpers/embedded';

describe('Console: PKCE for the Cognito hosted UI', () => {
  it('derives the S256 challenge of RFC 7636 appendix B from its verifier', async () => {
    // Act
    const challenge = await challengeOf('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');

    // Assess
    expect(challenge).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it('sends the challenge, the state and the redirect to the authorize endpoint, and the verifier to the token endpoint', async () => {
    // Arrange
    const settings = {
      domain: 'auth.example.com',
      clientId: 'client-1',
      redirectUri: 'https://console.example.com/',
    };
    let sent: { url: string; body: string } | undefined;
    const fakeFetch = (async (url: string, init: RequestInit) => {
      sent = { url, body: String(init.body) };
      return new Response(JSON.stringify({ id_token: 'id', access_token: 'a', expires_in: 3600 }), {
        status: 200,
      });
    }) as unknown as typeof fetch;

    // Act
    const authorize = new URL(authorizeUrl(settings, 'the-challenge', 'the-state'));
    const tokens = await exchangeCode(settings, 'the-code', 'the-verifier', fakeFetch);

    // Assess
    expect(authorize.origin + authorize.pathname).toBe('https://auth.example.com/oauth2/authorize');
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      response_type: 'code',
      client_id: 'client-1',
      redirect_uri: 'https://console.example.com/',
      code_challenge: 'the-challenge',
      code_challenge_method: 'S256',
      state: 'the-state',
    });
    expect(sent?.url).toBe('https://auth.example.com/oauth2/token');
    expect(Object.fromEntries(new URLSearchParams(sent?.body))).toEqual({
      grant_type: 'authorization_code',
      client_id: 'client-1',
      code: 'the-code',
      redirect_uri: 'https://console.example.com/',
      code_verifier: 'the-verifier',
    });
    expect(tokens.id_token).toBe('id');
  });
});

describe('Console: differences between versions', () => {
  it('lists each changed field with its value before and after, and nothing that stayed', () => {
    // Arrange
    const v1 = {
      msgType: 'Alert',
      headline: 'Road closed',
      severity: 'Minor',
      channels: ['x'],
      translations: [],
    };
    const v2 = { ...v1, msgType: 'Update', headline: 'Road reopens at 13:00', channels: ['x', 'facebook'] };

    // Act
    const changes = versionChanges(v1 as unknown as AlertVersion, v2 as unknown as AlertVersion);

    // Assess
    expect(changes).toEqual([
      { field: 'msgType', before: 'Alert', after: 'Update' },
      { field: 'headline', before: 'Road closed', after: 'Road reopens at 13:00' },
      { field: 'channels', before: 'x', after: 'x, facebook' },
    ]);
  });
});

describe('Console: the embedded sign-in', () => {
  let herald: TestHerald;
  beforeAll(async () => {
    herald = await startTestHerald();
  });
  afterAll(async () => {
    await herald?.cleanup();
  });

  it('makes a name into the person id, so one name is one person whatever the role', () => {
    expect(subjectOf('Duty Officer 1')).toBe('duty-officer-1');
    expect(subjectOf('  Agent  Núm-Què 3 ')).toBe('agent-num-que-3');
  });

  it('signs a token for the role and name asked, which the API then accepts as that person', async () => {
    // Act
    const res = await herald.call('POST', '/v1/sandbox/token', {
      body: { role: 'supervisor', name: 'Shift Supervisor 2' },
    });
    const { token } = (await res.json()) as { token: string };
    const claims = await herald.identity.verify(token);
    const list = await fetch(`${herald.url}/v1/alerts`, { headers: { authorization: `Bearer ${token}` } });

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(claims).toMatchObject({
      sub: 'shift-supervisor-2',
      name: 'Shift Supervisor 2',
      'cognito:groups': ['supervisor'],
    });
    expect(list.status).toBe(200);
  });

  it('refuses an unknown role, naming the field, and serves the embedded configuration', async () => {
    // Act
    const bad = await herald.call('POST', '/v1/sandbox/token', { body: { role: 'admin' } });
    const config = await herald.call('GET', '/config.json');

    // Assess
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual([
      '/role',
    ]);
    expect(await config.json()).toEqual({ mode: 'embedded' });
  });
});

describe('Console: the built bundle', () => {
  it('stays small enough to load in about a second on a phone connection (under 40 KiB gzipped, first load)', async () => {
    // Act
    const { size, files } = await buildConsole();

    // Assess
    expect(files.map((f) => f.path)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^\/assets\/main-\w+\.js$/), '/index.html']),
    );
    expect(size.gzip).toBeLessThan(40 * 1024);
  });
});
