/**
 * Where provider credentials come from: Secrets Manager on AWS (cached, re-read on demand), the environment and
 * a file in the embedded mode. None of them may let a value into an error message.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerSource } from '../../functions/adapters/secrets/secrets-manager';
import {
  EnvironmentSecretSource,
  embeddedSecretSource,
  FileSecretSource,
  secretEnvName,
  secretsFilePath,
} from '../../local/secrets';

const X = {
  appKey: 'app-key-1',
  appSecret: 'app-secret-1',
  accessToken: 'tok-1',
  accessSecret: 'tok-secret-1',
};

describe('Class: SecretsManagerSource', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => {
    sm.reset();
  });

  function source(ttlMs = 60_000) {
    let clock = 1_000_000;
    const secrets = new SecretsManagerSource({
      client: new SecretsManagerClient({ region: 'eu-west-1' }),
      prefix: 'herald/',
      ttlMs,
      now: () => clock,
    });
    return {
      secrets,
      advance: (ms: number) => {
        clock += ms;
      },
    };
  }

  it('reads the prefixed secret as JSON', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'herald/x' }).resolves({ SecretString: JSON.stringify(X) });
    const { secrets } = source();
    expect(await secrets.get('x')).toEqual(X);
    expect(sm).toHaveReceivedCommandWith(GetSecretValueCommand, { SecretId: 'herald/x' });
  });

  it('answers from its cache until the ttl runs out, then reads again', async () => {
    // Prepare
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify(X) })
      .resolves({ SecretString: JSON.stringify({ ...X, accessToken: 'tok-2' }) });
    const { secrets, advance } = source(60_000);

    // Act
    const first = await secrets.get('x');
    advance(59_999);
    const cached = await secrets.get('x');
    advance(1);
    const reread = await secrets.get('x');

    // Assess
    expect(first?.accessToken).toBe('tok-1');
    expect(cached?.accessToken).toBe('tok-1');
    expect(reread?.accessToken).toBe('tok-2');
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('shares one read between concurrent callers', async () => {
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify(X) });
    const { secrets } = source();
    await Promise.all([secrets.get('x'), secrets.get('x'), secrets.get('x')]);
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
  });

  it('re-reads at once when asked to refresh (after a 401), and caches the new value', async () => {
    sm.on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify(X) })
      .resolves({ SecretString: JSON.stringify({ ...X, accessToken: 'rotated' }) });
    const { secrets } = source();
    await secrets.get('x');
    expect((await secrets.get('x', { refresh: true }))?.accessToken).toBe('rotated');
    expect((await secrets.get('x'))?.accessToken).toBe('rotated');
    expect(sm).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('keeps names apart', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'herald/x' }).resolves({ SecretString: JSON.stringify(X) });
    sm.on(GetSecretValueCommand, { SecretId: 'herald/webhook' }).resolves({
      SecretString: '{"signingSecret":"whsec_AAAA"}',
    });
    const { secrets } = source();
    expect(await secrets.get('webhook')).toEqual({ signingSecret: 'whsec_AAAA' });
    expect(await secrets.get('x')).toEqual(X);
  });

  it('answers undefined for a secret that does not exist', async () => {
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: "Secrets Manager can't find the specified secret.",
        $metadata: {},
      }),
    );
    const { secrets } = source();
    expect(await secrets.get('facebook')).toBeUndefined();
  });

  it('does not remember a failed read', async () => {
    sm.on(GetSecretValueCommand)
      .rejectsOnce(new Error('Rate exceeded'))
      .resolves({ SecretString: JSON.stringify(X) });
    const { secrets } = source();
    await expect(secrets.get('x')).rejects.toThrow('Rate exceeded');
    expect(await secrets.get('x')).toEqual(X);
  });

  it('refuses a secret that is not a JSON object of strings, without quoting it', async () => {
    sm.on(GetSecretValueCommand, { SecretId: 'herald/x' }).resolves({ SecretString: 'tok-plain-value' });
    sm.on(GetSecretValueCommand, { SecretId: 'herald/sms' }).resolves({ SecretString: '{"pin":12345678}' });
    const { secrets } = source();
    const plain = await secrets.get('x').catch((e: Error) => e);
    expect(String(plain)).toMatch(/herald\/x is not JSON/);
    expect(String(plain)).not.toContain('tok-plain-value');
    const number = await secrets.get('sms').catch((e: Error) => e);
    expect(String(number)).toMatch(/"pin" that is not a string/);
    expect(String(number)).not.toContain('12345678');
  });
});

describe('Class: EnvironmentSecretSource', () => {
  it('reads one JSON variable per channel', async () => {
    const env = {
      HERALD_SECRET_X: JSON.stringify(X),
      HERALD_SECRET_WEBHOOK: '{"signingSecret":"whsec_AAAA"}',
    };
    const secrets = new EnvironmentSecretSource(env);
    expect(await secrets.get('x')).toEqual(X);
    expect(await secrets.get('webhook')).toEqual({ signingSecret: 'whsec_AAAA' });
    expect(await secrets.get('facebook')).toBeUndefined();
  });

  it('names the variable, not its value, when it is not JSON', async () => {
    const secrets = new EnvironmentSecretSource({ HERALD_SECRET_X: 'tok-plain-value' });
    const error = await secrets.get('x').catch((e: Error) => e);
    expect(String(error)).toContain('HERALD_SECRET_X');
    expect(String(error)).not.toContain('tok-plain-value');
  });

  it('maps names to variable names', () => {
    expect(secretEnvName('x')).toBe('HERALD_SECRET_X');
    expect(secretEnvName('media-email')).toBe('HERALD_SECRET_MEDIA_EMAIL');
  });
});

describe('Class: FileSecretSource', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'herald-secrets-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, content: unknown, mode: number) {
    const path = join(dir, name);
    await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content), { mode });
    return path;
  }

  it('reads each channel from one JSON file readable by its owner only', async () => {
    const path = await file('ok.json', { x: X, webhook: { signingSecret: 'whsec_AAAA' } }, 0o600);
    const secrets = new FileSecretSource(path);
    expect(await secrets.get('x')).toEqual(X);
    expect(await secrets.get('webhook')).toEqual({ signingSecret: 'whsec_AAAA' });
    expect(await secrets.get('facebook')).toBeUndefined();
    expect(await secrets.get('toString')).toBeUndefined();
  });

  it.each([0o644, 0o640, 0o604])('refuses a file with mode %o, without reading it', async (mode) => {
    const path = await file(`open-${mode.toString(8)}.json`, { x: X }, 0o600);
    await chmod(path, mode);
    const error = await new FileSecretSource(path).get('x').catch((e: Error) => e);
    expect(String(error)).toMatch(/can be read by other users.*chmod 600/);
    expect(String(error)).not.toContain('app-secret-1');
  });

  it('answers undefined for every name when there is no file', async () => {
    expect(await new FileSecretSource(join(dir, 'absent.json')).get('x')).toBeUndefined();
  });

  it('re-reads the file on refresh', async () => {
    const path = await file('rotating.json', { x: X }, 0o600);
    const secrets = new FileSecretSource(path);
    await secrets.get('x');
    await writeFile(path, JSON.stringify({ x: { ...X, accessToken: 'rotated' } }));
    expect((await secrets.get('x'))?.accessToken).toBe('tok-1');
    expect((await secrets.get('x', { refresh: true }))?.accessToken).toBe('rotated');
  });

  it('refuses a file that is not an object of objects of strings, quoting no value', async () => {
    const broken = await file('broken.json', '{"x": {"appKey": "app-key-1",', 0o600);
    expect(String(await new FileSecretSource(broken).get('x').catch((e: Error) => e))).toMatch(/is not JSON/);
    const flat = await file('flat.json', { x: 'tok-plain-value' }, 0o600);
    const error = String(await new FileSecretSource(flat).get('x').catch((e: Error) => e));
    expect(error).toMatch(/"x" must be an object/);
    expect(error).not.toContain('tok-plain-value');
  });

  it('combined with the environment, the variable wins for its channel and the file serves the rest', async () => {
    await writeFile(
      secretsFilePath(dir),
      JSON.stringify({ x: X, facebook: { pageId: '123', pageAccessToken: 'page-tok' } }),
      { mode: 0o600 },
    );
    const secrets = embeddedSecretSource(dir, { HERALD_SECRET_X: JSON.stringify({ appKey: 'from-env' }) });
    expect(await secrets.get('x')).toEqual({ appKey: 'from-env' });
    expect(await secrets.get('facebook')).toEqual({ pageId: '123', pageAccessToken: 'page-tok' });
    expect(await secrets.get('sms')).toBeUndefined();
  });
});
