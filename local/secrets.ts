/**
 * Provider credentials in the embedded mode, in the same shape as on AWS (one JSON object of strings per channel),
 * so a secret moves between Secrets Manager, a variable and the file unchanged:
 *
 * - the environment: one variable per channel, `HERALD_SECRET_<NAME>` holding the JSON
 *   (`HERALD_SECRET_X='{"appKey":"…","appSecret":"…"}'`, `HERALD_SECRET_WEBHOOK='{"signingSecret":"whsec_…"}'`);
 * - a file in the data directory, `secrets.json`: `{ "x": { … }, "facebook": { … } }`, readable by its owner only.
 *
 * Where both name a channel, the variable wins, whole: keys are not merged, so one place holds a channel's set.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSecret } from '../functions/adapters/secrets/secrets-manager';
import type { SecretSource } from '../functions/ports';

export const SECRET_ENV_PREFIX = 'HERALD_SECRET_';
export const SECRETS_FILE = 'secrets.json';

type Secret = Record<string, string> | undefined;

/** `x` → `HERALD_SECRET_X`; anything not a letter or digit becomes `_`. */
export function secretEnvName(name: string): string {
  return `${SECRET_ENV_PREFIX}${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export function secretsFilePath(dataDir: string): string {
  return join(dataDir, SECRETS_FILE);
}

export class EnvironmentSecretSource implements SecretSource {
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async get(name: string): Promise<Secret> {
    const variable = secretEnvName(name);
    const text = this.env[variable];
    if (text === undefined || text.trim() === '') return undefined;
    return parseSecret(`in ${variable}`, text);
  }
}

/**
 * Reads the file once, and again on `refresh` (after a 401), so corrected credentials are picked up without a
 * restart. A missing file means no credentials: every channel runs in the sandbox.
 */
export class FileSecretSource implements SecretSource {
  private loaded: Promise<Record<string, Record<string, string>>> | undefined;

  constructor(private readonly path: string) {}

  async get(name: string, options: { refresh?: boolean } = {}): Promise<Secret> {
    if (!this.loaded || options.refresh) {
      this.loaded = this.load();
      // A failed read is tried again on the next call, not remembered.
      this.loaded.catch(() => {
        this.loaded = undefined;
      });
    }
    const all = await this.loaded;
    return Object.hasOwn(all, name) ? all[name] : undefined;
  }

  private async load(): Promise<Record<string, Record<string, string>>> {
    let mode: number;
    try {
      ({ mode } = await stat(this.path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    // Unlike the signing key (local/auth.ts), which Herald made itself and may tighten, this file is the
    // operator's: a readable one may already have leaked, so say so instead of quietly fixing it.
    if (process.platform !== 'win32' && (mode & 0o077) !== 0)
      throw new Error(
        `${this.path} can be read by other users (mode ${(mode & 0o777).toString(8)}); ` +
          `run chmod 600 on it, and rotate its credentials if others may have read them`,
      );
    const text = await readFile(this.path, 'utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${this.path} is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`${this.path} must hold a JSON object such as {"x": {"appKey": "…"}}`);
    return Object.fromEntries(
      Object.entries(parsed).map(([name, value]) => {
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          throw new Error(`${this.path}: "${name}" must be an object of strings`);
        return [name, parseSecret(`"${name}" in ${this.path}`, JSON.stringify(value))];
      }),
    );
  }
}

/** The first source that has the name answers; `refresh` reaches each source asked. */
export class FirstOfSecretSource implements SecretSource {
  private readonly sources: SecretSource[];
  constructor(...sources: SecretSource[]) {
    this.sources = sources;
  }

  async get(name: string, options?: { refresh?: boolean }): Promise<Secret> {
    for (const source of this.sources) {
      const found = await source.get(name, options);
      if (found) return found;
    }
    return undefined;
  }
}

/** The embedded mode's credentials: the environment first, then the data directory's `secrets.json`. */
export function embeddedSecretSource(dataDir: string, env: NodeJS.ProcessEnv = process.env): SecretSource {
  return new FirstOfSecretSource(
    new EnvironmentSecretSource(env),
    new FileSecretSource(secretsFilePath(dataDir)),
  );
}
