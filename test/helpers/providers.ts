/**
 * What the provider and replies tests against the local fakes (../fakes/) share: one fake per file, a secret store
 * that may be stale until a refresh re-reads it, a deadline for calls to a fake, the ProviderError a failing call
 * ends with, and for the pollers a dynalite with a fresh table for every test.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createDocumentClient } from '../../functions/adapters/dynamo/client';
import { DynamoStore } from '../../functions/adapters/dynamo/store';
import { ProviderError, type SecretSource } from '../../functions/ports';
import { ensureTable, startDynalite } from '../../local/dynalite';

/**
 * One fake for the whole file, started before the first test, its recorded requests and scripted faults forgotten
 * after each test, and stopped after the last. `use` gets the fake once it is listening.
 */
export function fakePerFile<Fake extends { reset(): void; close(): Promise<void> }>(
  start: () => Promise<Fake>,
  use: (fake: Fake) => void,
): void {
  let fake: Fake | undefined;
  beforeAll(async () => {
    fake = await start();
    use(fake);
  });
  afterEach(() => fake?.reset());
  afterAll(async () => {
    await fake?.close();
  });
}

/** Long enough for any call to a local fake; a hung call fails the test instead of stalling the run. */
export const signal = () => AbortSignal.timeout(5_000);

/** The ProviderError a call must fail with, for the test to check how it was classified. */
export async function failureOf(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/**
 * A secret store whose cached value may be stale until a refresh re-reads it, as the real one is in a warm function.
 * It holds the one secret `name` (asking for another fails the test), shaped by `toSecret`, and records each read.
 */
export function staleSecrets<T>(
  name: string,
  toSecret: (value: T) => Record<string, string>,
  cached: T | undefined,
  fresh: T | undefined = cached,
) {
  const calls: { refresh: boolean }[] = [];
  const source: SecretSource = {
    get: async (asked, options) => {
      expect(asked).toBe(name);
      calls.push({ refresh: options?.refresh === true });
      const value = options?.refresh ? fresh : cached;
      return value ? toSecret(value) : undefined;
    },
  };
  return { source, calls };
}

export interface TestTable {
  client: DynamoDBDocumentClient;
  tableName: string;
  store: DynamoStore;
}

/**
 * One dynalite for the file and a table of its own for every test, so no test reads another's rows. `use` gets each
 * test's table before the beforeEach hooks registered after this call run.
 */
export function dynaliteTablePerTest(prefix: string, use: (table: TestTable) => void): void {
  let server: Awaited<ReturnType<typeof startDynalite>> | undefined;
  let client: DynamoDBDocumentClient | undefined;
  beforeAll(async () => {
    server = await startDynalite({});
    // One attempt: against a local server a retry only hides the failure a test is looking for.
    client = createDocumentClient({ endpoint: server.endpoint, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await server?.close();
  });
  beforeEach(async () => {
    const tableName = `${prefix}-${randomUUID()}`;
    await ensureTable(client!, tableName);
    use({ client: client!, tableName, store: new DynamoStore({ client: client!, tableName }) });
  });
}
