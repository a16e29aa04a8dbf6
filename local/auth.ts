/**
 * The embedded mode's identity provider: it stands in for Cognito (issuing ID tokens with
 * `cognito:groups`) and for API Gateway's JWT authorizer (verifying them), so the api handler sees
 * the same claims with or without a cloud account.
 *
 * The signing key lives in the data directory so tokens survive a restart and `npm run token` (a
 * separate process) signs with the key the running server verifies with.
 *
 * RS256, as Cognito signs and as an HTTP API JWT authorizer requires (it accepts RSA-based algorithms
 * only), so the embedded gateway checks exactly what API Gateway checks. The key is the embedded
 * instance's own; nothing here is meant to be trusted by a deployed stack.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  importJWK,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose';
import { ROLES, type Role } from '../functions/core/model';

export const EMBEDDED_ISSUER = 'urn:herald:embedded';
export const EMBEDDED_AUDIENCE = 'herald-console';

const ALG = 'RS256';
const VERIFIED_CACHE_SIZE = 1000;
const KEY_DIR = 'keys';
const KEY_FILE = 'jwt-signing-key.json';
const DEFAULT_TTL_SECONDS = 12 * 60 * 60;
/** Clocks on one machine agree; the slack covers a token minted in one second and checked in the next. */
const CLOCK_TOLERANCE_SECONDS = 5;

export type TokenRejectionReason =
  | 'malformed'
  | 'algorithm'
  | 'unknown-key'
  | 'signature'
  | 'issuer'
  | 'audience'
  | 'expired'
  | 'not-yet-valid'
  | 'claims';

/**
 * Why a token was refused. The message never quotes the token: it ends up in logs and in the
 * `www-authenticate` header.
 */
export class TokenRejectedError extends Error {
  override readonly name = 'TokenRejectedError';
  constructor(
    readonly reason: TokenRejectionReason,
    message: string,
  ) {
    super(message);
  }
}

export interface IssueOptions {
  roles: Role[];
  /** Defaults to `embedded-<role>` so two roles are two different people (the two-person rule needs that). */
  sub?: string;
  name?: string;
  ttlSeconds?: number;
}

/** Where the signing key of a data directory is kept. */
export function signingKeyPath(dataDir: string): string {
  return join(dataDir, KEY_DIR, KEY_FILE);
}

export class EmbeddedIdentity {
  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    private readonly publicJwk: JWK,
    readonly kid: string,
  ) {}

  /** Loads the data directory's signing key, creating it on first use. */
  static async open(dataDir: string): Promise<EmbeddedIdentity> {
    const path = signingKeyPath(dataDir);
    const jwk = (await readKey(path)) ?? (await createKey(path));
    const kid = jwk.kid ?? (await calculateJwkThumbprint(jwk));
    const { d: _d, ...publicJwk } = jwk;
    const privateKey = (await importJWK(jwk, ALG)) as CryptoKey;
    const publicKey = (await importJWK(publicJwk, ALG)) as CryptoKey;
    return new EmbeddedIdentity(privateKey, publicKey, { ...publicJwk, kid, alg: ALG, use: 'sig' }, kid);
  }

  /** The public half, as a JWKS document (what Cognito serves at `/.well-known/jwks.json`). */
  jwks(): { keys: JWK[] } {
    return { keys: [{ ...this.publicJwk }] };
  }

  async issue(options: IssueOptions): Promise<string> {
    const roles = [...new Set(options.roles)];
    const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
    if (unknown.length > 0)
      throw new TypeError(`unknown role(s) ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
    const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl <= 0) throw new TypeError('ttlSeconds must be a positive whole number');
    const sub = options.sub ?? `embedded-${roles.length > 0 ? roles.join('-') : 'nobody'}`;
    if (sub === '') throw new TypeError('sub must not be empty');

    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      'cognito:groups': roles,
      'cognito:username': sub,
      token_use: 'id',
      auth_time: now,
    };
    if (options.name !== undefined) claims.name = options.name;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALG, kid: this.kid, typ: 'JWT' })
      .setSubject(sub)
      .setIssuer(EMBEDDED_ISSUER)
      .setAudience(EMBEDDED_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + ttl)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }

  /**
   * Checks what API Gateway's JWT authorizer checks (key id, algorithm, signature, iss, aud, exp, nbf,
   * iat) and returns the claims. Group membership is not checked here, as on AWS: the handler decides
   * per route.
   */
  /**
   * Tokens already verified, until they expire: a token cannot change, so the answer cannot either, and an RS256
   * check is most of what the gateway spends on a request. Bounded; the oldest entry goes first.
   */
  private readonly verified = new Map<string, { claims: Record<string, unknown>; exp: number }>();

  async verify(token: string): Promise<Record<string, unknown>> {
    const known = this.verified.get(token);
    if (known) {
      if (known.exp + CLOCK_TOLERANCE_SECONDS > Date.now() / 1000) return structuredClone(known.claims);
      this.verified.delete(token);
    }
    const claims = await this.verifyAfresh(token);
    if (this.verified.size >= VERIFIED_CACHE_SIZE)
      this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(token, { claims, exp: claims.exp as number });
    return structuredClone(claims);
  }

  private async verifyAfresh(token: string): Promise<Record<string, unknown>> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new TokenRejectedError('malformed', 'the token is not a signed JWT');
    }
    if (header.alg !== ALG) throw new TokenRejectedError('algorithm', `the token's algorithm is not ${ALG}`);
    if (header.kid !== this.kid) {
      throw new TokenRejectedError(
        'unknown-key',
        'the token was signed by a key this instance does not hold',
      );
    }
    try {
      const { payload } = await jwtVerify(token, this.publicKey, {
        algorithms: [ALG],
        issuer: EMBEDDED_ISSUER,
        audience: EMBEDDED_AUDIENCE,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat'],
      });
      const now = Math.floor(Date.now() / 1000);
      if (typeof payload.iat === 'number' && payload.iat > now + CLOCK_TOLERANCE_SECONDS) {
        throw new TokenRejectedError('not-yet-valid', 'the token was issued in the future');
      }
      return payload as Record<string, unknown>;
    } catch (error) {
      throw toRejection(error);
    }
  }
}

function toRejection(error: unknown): TokenRejectedError {
  if (error instanceof TokenRejectedError) return error;
  if (error instanceof errors.JWTExpired) return new TokenRejectedError('expired', 'the token has expired');
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRejectedError('signature', 'the token signature does not verify');
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenRejectedError('algorithm', `the token's algorithm is not ${ALG}`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return new TokenRejectedError('issuer', 'the token was not issued by this instance');
      case 'aud':
        return new TokenRejectedError('audience', 'the token does not have a valid audience');
      case 'nbf':
        return new TokenRejectedError('not-yet-valid', 'the token is not valid yet');
      default:
        return new TokenRejectedError('claims', `the token's "${error.claim}" claim is missing or invalid`);
    }
  }
  return new TokenRejectedError('malformed', 'the token is not a valid JWT');
}

async function readKey(path: string): Promise<JWK | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new Error(`the signing key file ${path} is not JSON; remove it to have a new key made`);
  }
  if (jwk.kty !== 'RSA' || typeof jwk.d !== 'string') {
    throw new Error(
      `the signing key file ${path} does not hold an RSA private key; remove it to have a new key made`,
    );
  }
  // Someone may have copied the data directory with a permissive umask; a readable private key lets
  // any local user mint a supervisor token.
  const { mode } = await stat(path);
  if ((mode & 0o077) !== 0) {
    await chmod(path, 0o600);
    console.warn(`tightened the permissions of ${path} to 0600`);
  }
  return jwk;
}

/**
 * Writes a new key beside the final name, then hard-links it into place: link() fails if the name
 * exists, so when the server and `npm run token` start together exactly one key wins and the other
 * process reads it, never a half-written file.
 */
async function createKey(path: string): Promise<JWK> {
  const keyDir = dirname(path);
  await mkdir(dirname(keyDir), { recursive: true });
  await mkdir(keyDir, { recursive: true, mode: 0o700 });
  const { privateKey } = await generateKeyPair(ALG, { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  jwk.kid = await calculateJwkThumbprint(jwk);
  jwk.alg = ALG;
  const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
    return jwk;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const existing = await readKey(path);
    if (!existing) throw error;
    return existing;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}
