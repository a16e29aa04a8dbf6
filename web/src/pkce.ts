/**
 * Cognito's hosted UI with the authorization code grant and PKCE (RFC 7636): a public client in the browser keeps
 * no secret, so each sign-in makes a one-time verifier, sends its S256 challenge, and proves it at the token
 * endpoint. `state` ties the answer to the request this tab made.
 */
export interface CognitoSettings {
  domain: string;
  clientId: string;
  redirectUri: string;
}

export interface TokenSet {
  id_token: string;
  access_token: string;
  expires_in: number;
}

export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** 32 random bytes: 43 characters of base64url, inside RFC 7636's 43–128. */
export function randomVerifier(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

export async function challengeOf(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** `auth.example.com` or `https://auth.example.com`: either names the hosted UI. */
export function domainOrigin(domain: string): string {
  return (/^https?:\/\//.test(domain) ? domain : `https://${domain}`).replace(/\/+$/, '');
}

export function authorizeUrl(settings: CognitoSettings, challenge: string, state: string): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: settings.redirectUri,
    scope: 'openid email profile',
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
  });
  return `${domainOrigin(settings.domain)}/oauth2/authorize?${params}`;
}

export async function exchangeCode(
  settings: CognitoSettings,
  code: string,
  verifier: string,
  fetchImpl: typeof fetch = fetch,
): Promise<TokenSet> {
  const res = await fetchImpl(`${domainOrigin(settings.domain)}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: settings.clientId,
      code,
      redirect_uri: settings.redirectUri,
      code_verifier: verifier,
    }),
  });
  if (!res.ok) throw new Error(`Sign-in failed: the token endpoint answered ${res.status}.`);
  const tokens = (await res.json()) as Partial<TokenSet>;
  if (typeof tokens.id_token !== 'string') throw new Error('Sign-in failed: no ID token came back.');
  return tokens as TokenSet;
}

export function logoutUrl(settings: CognitoSettings): string {
  const params = new URLSearchParams({ client_id: settings.clientId, logout_uri: settings.redirectUri });
  return `${domainOrigin(settings.domain)}/logout?${params}`;
}
