/**
 * Who is signed in. The token lives in sessionStorage: it ends with the tab, and no other site can read it. The
 * claims are decoded only to choose what to offer; the API checks the signature and the roles on every call.
 */
import type { ConsoleConfig } from './config';
import { authorizeUrl, challengeOf, exchangeCode, logoutUrl, randomVerifier } from './pkce';

export type Role = 'officer' | 'supervisor' | 'auditor';
export const ROLES: readonly Role[] = ['officer', 'supervisor', 'auditor'];

export interface Session {
  token: string;
  sub: string;
  name: string;
  roles: Role[];
  /** Seconds since the epoch. */
  exp: number;
}

const KEY = 'herald.session';
const PKCE_KEY = 'herald.pkce';

export function decodeClaims(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
  const bytes = Uint8Array.from(json, (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function sessionFromToken(token: string): Session {
  const claims = decodeClaims(token);
  const groups = Array.isArray(claims['cognito:groups']) ? (claims['cognito:groups'] as unknown[]) : [];
  const roles = ROLES.filter((r) => groups.includes(r));
  const sub = String(claims.sub ?? '');
  const name = String(claims.name ?? claims['cognito:username'] ?? claims.email ?? sub);
  return { token, sub, name, roles, exp: Number(claims.exp ?? 0) };
}

export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return undefined;
  try {
    const session = sessionFromToken(raw);
    if (session.exp * 1000 <= Date.now()) {
      sessionStorage.removeItem(KEY);
      return undefined;
    }
    return session;
  } catch {
    sessionStorage.removeItem(KEY);
    return undefined;
  }
}

export function startSession(token: string): Session {
  const session = sessionFromToken(token);
  sessionStorage.setItem(KEY, token);
  return session;
}

export function endSession(config: ConsoleConfig): void {
  sessionStorage.removeItem(KEY);
  if (config.mode === 'cognito') location.assign(logoutUrl(config));
}

export const can = {
  compose: (s: Session) => s.roles.includes('officer'),
  update: (s: Session) => s.roles.includes('officer'),
  cancel: (s: Session) => s.roles.includes('officer') || s.roles.includes('supervisor'),
  approve: (s: Session) => s.roles.includes('supervisor'),
  audit: (s: Session) => s.roles.includes('supervisor') || s.roles.includes('auditor'),
  /** GET /v1/reports: supervisors and auditors. */
  report: (s: Session) => s.roles.includes('supervisor') || s.roles.includes('auditor'),
  /** GET /v1/audit/verify: auditors only. */
  verifyAudit: (s: Session) => s.roles.includes('auditor'),
  /** Every role reads residents' tips; auditors only read them. */
  readTips: (s: Session) => s.roles.length > 0,
  answerTips: (s: Session) => s.roles.includes('officer') || s.roles.includes('supervisor'),
};

/** Embedded mode: the server signs a token for the role picked (POST /v1/sandbox/token). */
export async function embeddedSignIn(role: Role, name: string): Promise<Session> {
  const res = await fetch('/v1/sandbox/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(name ? { role, name } : { role }),
  });
  const body = (await res.json().catch(() => ({}))) as { token?: string; detail?: string };
  if (!res.ok || !body.token) throw new Error(body.detail ?? `Sign-in failed (HTTP ${res.status}).`);
  return startSession(body.token);
}

/** Cognito: off to the hosted UI, with this tab's verifier and state kept for the way back. */
export async function cognitoSignIn(config: Extract<ConsoleConfig, { mode: 'cognito' }>): Promise<void> {
  const verifier = randomVerifier();
  const state = randomVerifier();
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  location.assign(authorizeUrl(config, await challengeOf(verifier), state));
}

/** Back from the hosted UI with ?code&state: exchanges the code, or says why not. */
export async function completeCognitoSignIn(
  config: Extract<ConsoleConfig, { mode: 'cognito' }>,
): Promise<Session | undefined> {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!code && !error) return undefined;
  history.replaceState(null, '', location.pathname + location.hash);
  if (error) throw new Error(`Sign-in was refused: ${params.get('error_description') ?? error}.`);
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) ?? 'null') as {
    verifier: string;
    state: string;
  } | null;
  sessionStorage.removeItem(PKCE_KEY);
  if (!saved || saved.state !== params.get('state'))
    throw new Error('Sign-in could not be completed: the answer does not match a sign-in from this tab.');
  const tokens = await exchangeCode(config, code!, saved.verifier);
  return startSession(tokens.id_token);
}
