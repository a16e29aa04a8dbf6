/**
 * Provider credentials from AWS Secrets Manager, one secret per channel (`herald/x`, `herald/facebook`, …) holding
 * a JSON object of strings. Cached per warm container: a channel function would otherwise pay a Secrets Manager
 * call per message. A provider that gets a 401 asks again with `refresh`, so a rotated token is picked up at once.
 */
import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretSource } from '../../ports';

export const DEFAULT_SECRET_TTL_MS = 5 * 60 * 1000;

export interface SecretsManagerSourceOptions {
  client: SecretsManagerClient;
  /** Prepended to each name: `herald/` makes `x` read the secret `herald/x`. */
  prefix: string;
  ttlMs?: number;
  /** Epoch milliseconds; injectable so tests can move time. */
  now?: () => number;
}

type Secret = Record<string, string> | undefined;

/**
 * A secret's JSON, checked to be a flat object of strings. Errors name the secret and the key, never a value:
 * they reach logs.
 */
export function parseSecret(id: string, text: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`the secret ${id} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`the secret ${id} is not a JSON object`);
  const entries = Object.entries(parsed);
  for (const [key, value] of entries)
    if (typeof value !== 'string') throw new Error(`the secret ${id} has a "${key}" that is not a string`);
  // fromEntries defines properties, so a "__proto__" key stays a key instead of replacing the prototype.
  return Object.fromEntries(entries) as Record<string, string>;
}

export class SecretsManagerSource implements SecretSource {
  private readonly cache = new Map<string, { expiresAt: number; value: Promise<Secret> }>();
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: SecretsManagerSourceOptions) {
    this.ttlMs = options.ttlMs ?? DEFAULT_SECRET_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  get(name: string, options: { refresh?: boolean } = {}): Promise<Secret> {
    const cached = this.cache.get(name);
    if (cached && !options.refresh && cached.expiresAt > this.now()) return cached.value;
    // The promise is cached, not its value, so concurrent sends in one container share one read.
    const value = this.read(name);
    const entry = { expiresAt: this.now() + this.ttlMs, value };
    this.cache.set(name, entry);
    // A failed read is not kept: the next call tries again rather than failing for the whole ttl.
    value.catch(() => {
      if (this.cache.get(name) === entry) this.cache.delete(name);
    });
    return value;
  }

  private async read(name: string): Promise<Secret> {
    const id = `${this.options.prefix}${name}`;
    try {
      const answer = await this.options.client.send(new GetSecretValueCommand({ SecretId: id }));
      if (answer.SecretString === undefined) throw new Error(`the secret ${id} holds no string`);
      return parseSecret(id, answer.SecretString);
    } catch (error) {
      // No secret for a channel means "not configured": the caller decides what that channel does.
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  }
}
