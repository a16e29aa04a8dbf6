import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type CryptoKey, generateKeyPair, importJWK, type JWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  EMBEDDED_AUDIENCE,
  EMBEDDED_ISSUER,
  EmbeddedIdentity,
  signingKeyPath,
  TokenRejectedError,
  type TokenRejectionReason,
} from '../../local/auth';

const run = promisify(execFile);

let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'herald-auth-'));
});

afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dataDir, { recursive: true, force: true });
});

/** The kept private key, to forge tokens the way only someone holding it could. */
async function keptKey(): Promise<{ key: CryptoKey; kid: string }> {
  const jwk = JSON.parse(await readFile(signingKeyPath(dataDir), 'utf8')) as JWK;
  return { key: (await importJWK(jwk, 'RS256')) as CryptoKey, kid: jwk.kid! };
}

const now = () => Math.floor(Date.now() / 1000);

async function rejection(identity: EmbeddedIdentity, token: string): Promise<TokenRejectedError> {
  const error = await identity.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TokenRejectedError);
  if (token !== '') expect((error as Error).message).not.toContain(token);
  return error as TokenRejectedError;
}

describe('EmbeddedIdentity: issue and verify', () => {
  it('issues an ID token that verifies, with the claims Cognito puts in one', async () => {
    // Prepare
    const identity = await EmbeddedIdentity.open(dataDir);

    // Act
    const token = await identity.issue({ roles: ['officer'] });
    const claims = await identity.verify(token);

    // Assess
    expect(claims).toMatchObject({
      sub: 'embedded-officer',
      'cognito:groups': ['officer'],
      token_use: 'id',
      iss: EMBEDDED_ISSUER,
      aud: EMBEDDED_AUDIENCE,
    });
    expect(claims.exp).toBe((claims.iat as number) + 12 * 60 * 60);
    expect(Math.abs((claims.iat as number) - now())).toBeLessThanOrEqual(2);
  });

  it('makes an officer and a supervisor different people by default', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    const officer = await identity.verify(await identity.issue({ roles: ['officer'] }));
    const supervisor = await identity.verify(await identity.issue({ roles: ['supervisor'] }));
    expect(officer.sub).not.toBe(supervisor.sub);
  });

  it('takes several roles, a chosen sub, a name and a lifetime', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    const claims = await identity.verify(
      await identity.issue({
        roles: ['officer', 'supervisor'],
        sub: 'duty-7',
        name: 'Duty desk',
        ttlSeconds: 60,
      }),
    );
    expect(claims).toMatchObject({
      sub: 'duty-7',
      name: 'Duty desk',
      'cognito:groups': ['officer', 'supervisor'],
    });
    expect(claims.exp).toBe((claims.iat as number) + 60);
  });

  it('refuses to issue for a role Herald does not have, or a lifetime that is not positive', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    await expect(identity.issue({ roles: ['admin' as 'officer'] })).rejects.toThrow(/unknown role/);
    await expect(identity.issue({ roles: ['officer'], ttlSeconds: 0 })).rejects.toThrow(/ttlSeconds/);
  });
});

describe('EmbeddedIdentity: remembering verified tokens', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('still refuses a remembered token once it has expired', async () => {
    // Prepare
    const identity = await EmbeddedIdentity.open(dataDir);
    const token = await identity.issue({ roles: ['officer'], ttlSeconds: 60 });
    expect((await identity.verify(token)).sub).toBe('embedded-officer');
    // Act: ten minutes on, well past expiry and the clock tolerance
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 10 * 60 * 1000);
    // Assess
    await expect(identity.verify(token)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('answers a copy, so a caller changing the claims cannot change the next answer', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    const token = await identity.issue({ roles: ['auditor'] });
    const first = await identity.verify(token);
    first['cognito:groups'] = ['supervisor'];
    expect((await identity.verify(token))['cognito:groups']).toEqual(['auditor']);
  });
});

describe('EmbeddedIdentity: the kept key', () => {
  it('writes the key once, mode 0600, and a second instance on the same directory reuses it', async () => {
    // Prepare
    const first = await EmbeddedIdentity.open(dataDir);
    const token = await first.issue({ roles: ['auditor'] });
    const fileBefore = await readFile(signingKeyPath(dataDir), 'utf8');

    // Act
    const second = await EmbeddedIdentity.open(dataDir);

    // Assess
    expect((await stat(signingKeyPath(dataDir))).mode & 0o777).toBe(0o600);
    expect(await readFile(signingKeyPath(dataDir), 'utf8')).toBe(fileBefore);
    expect(second.kid).toBe(first.kid);
    await expect(second.verify(token)).resolves.toMatchObject({ sub: 'embedded-auditor' });
  });

  it('ends up with one key when several callers open a fresh directory at once', async () => {
    const identities = await Promise.all(Array.from({ length: 6 }, () => EmbeddedIdentity.open(dataDir)));
    expect(new Set(identities.map((i) => i.kid)).size).toBe(1);
  });

  it('exports only the public half as a JWKS', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    const { keys } = identity.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: identity.kid });
    expect(keys[0]).not.toHaveProperty('d');
    expect(keys[0]).not.toHaveProperty('d');
  });

  it('tightens a key file others can read', async () => {
    await EmbeddedIdentity.open(dataDir);
    await chmod(signingKeyPath(dataDir), 0o644);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);

    await EmbeddedIdentity.open(dataDir);

    expect((await stat(signingKeyPath(dataDir))).mode & 0o777).toBe(0o600);
    expect(warn).toHaveBeenCalledOnce();
  });
});

describe('EmbeddedIdentity: what the authorizer refuses', () => {
  async function forged(
    claims: Record<string, unknown>,
    options: { key?: CryptoKey; kid?: string } = {},
  ): Promise<string> {
    const kept = await keptKey();
    return new SignJWT({ 'cognito:groups': ['supervisor'], token_use: 'id', ...claims })
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? kept.kid })
      .sign(options.key ?? kept.key);
  }

  const valid = () => ({
    sub: 'x',
    iss: EMBEDDED_ISSUER,
    aud: EMBEDDED_AUDIENCE,
    iat: now(),
    exp: now() + 600,
  });

  it('accepts a token forged with the kept key and valid claims (so the cases below fail for one reason)', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    await expect(identity.verify(await forged(valid()))).resolves.toMatchObject({ sub: 'x' });
  });

  it.each<[string, () => Record<string, unknown>, TokenRejectionReason]>([
    ['expired', () => ({ ...valid(), iat: now() - 3600, exp: now() - 60 }), 'expired'],
    [
      'from another issuer',
      () => ({ ...valid(), iss: 'https://cognito-idp.eu-west-1.amazonaws.com/pool' }),
      'issuer',
    ],
    ['for another audience', () => ({ ...valid(), aud: 'someone-else' }), 'audience'],
    ['not valid yet', () => ({ ...valid(), nbf: now() + 600 }), 'not-yet-valid'],
    ['issued in the future', () => ({ ...valid(), iat: now() + 600 }), 'not-yet-valid'],
    ['without an expiry', () => ({ ...valid(), exp: undefined }), 'claims'],
  ])('refuses a token %s', async (_case, claims, reason) => {
    const identity = await EmbeddedIdentity.open(dataDir);
    expect((await rejection(identity, await forged(claims()))).reason).toBe(reason);
  });

  it('refuses a token whose payload was changed after signing', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    const [header, payload, signature] = (await identity.issue({ roles: ['auditor'] })).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims['cognito:groups'] = ['supervisor'];
    const tampered = [header, Buffer.from(JSON.stringify(claims)).toString('base64url'), signature].join('.');

    expect((await rejection(identity, tampered)).reason).toBe('signature');
  });

  it('refuses a token signed by another key, whether or not it borrows the kept key id', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    const other = await EmbeddedIdentity.open(join(dataDir, 'another-instance'));
    const { privateKey } = await generateKeyPair('RS256');

    expect((await rejection(identity, await other.issue({ roles: ['officer'] }))).reason).toBe('unknown-key');
    expect((await rejection(identity, await forged(valid(), { key: privateKey }))).reason).toBe('signature');
  });

  it("refuses ES256: API Gateway's JWT authorizer accepts RSA algorithms only", async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT(valid())
      .setProtectedHeader({ alg: 'ES256', kid: identity.kid })
      .sign(privateKey);
    expect((await rejection(identity, token)).reason).toBe('algorithm');
  });

  it('refuses alg none', async () => {
    const identity = await EmbeddedIdentity.open(dataDir);
    const token = new UnsecuredJWT(valid()).encode();
    expect((await rejection(identity, token)).reason).toBe('algorithm');
  });

  it('refuses HS256, even keyed with the public key and carrying the kept key id', async () => {
    // The classic confusion attack: an HMAC "signed" with bytes of the public key.
    const identity = await EmbeddedIdentity.open(dataDir);
    const publicJwk = identity.jwks().keys[0]!;
    const secret = new TextEncoder().encode(JSON.stringify({ n: publicJwk.n, e: publicJwk.e }));
    const token = await new SignJWT(valid())
      .setProtectedHeader({ alg: 'HS256', kid: identity.kid })
      .sign(secret);

    expect((await rejection(identity, token)).reason).toBe('algorithm');
  });

  it.each(['', 'not-a-jwt', 'a.b.c', 'eyJhbGciOiJFUzI1NiJ9.e30'])(
    'refuses %j as malformed',
    async (token) => {
      const identity = await EmbeddedIdentity.open(dataDir);
      expect((await rejection(identity, token)).reason).toBe('malformed');
    },
  );
});

describe('npm run token', () => {
  async function token(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run('npx', ['tsx', 'local/token.ts', ...args], {
        env: { ...process.env, HERALD_DATA_DIR: dataDir },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it('prints only a token, which the instance on that data directory accepts', async () => {
    const { code, stdout } = await token(['officer']);

    expect(code).toBe(0);
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const identity = await EmbeddedIdentity.open(dataDir);
    await expect(identity.verify(stdout.trim())).resolves.toMatchObject({
      sub: 'embedded-officer',
      'cognito:groups': ['officer'],
    });
  });

  it('takes several roles, --sub and --ttl', async () => {
    const { code, stdout } = await token(['officer,supervisor', '--sub', 'desk-2', '--ttl', '120']);

    expect(code).toBe(0);
    const claims = await (await EmbeddedIdentity.open(dataDir)).verify(stdout.trim());
    expect(claims).toMatchObject({ sub: 'desk-2', 'cognito:groups': ['officer', 'supervisor'] });
    expect(claims.exp).toBe((claims.iat as number) + 120);
  });

  it('exits 2 with a usage message naming the roles for an unknown role', async () => {
    const { code, stdout, stderr } = await token(['admin']);

    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('usage:');
    expect(stderr).toContain('officer, supervisor, auditor');
  });
});
