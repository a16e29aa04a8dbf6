/** A real DynamoStore on an in-memory dynalite with a table of its own, for integration tests. */
import { randomUUID } from 'node:crypto';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../functions/adapters/dynamo/client';
import { DynamoStore } from '../../functions/adapters/dynamo/store';
import { DynamoSubscriberStore } from '../../functions/adapters/dynamo/subscriber-store';
import { ensureTable, startDynalite } from '../../local/dynalite';

export interface DynaliteStore {
  store: DynamoStore;
  /** Residents and media outlets, on the same table. */
  subscribers: DynamoSubscriberStore;
  client: DynamoDBDocumentClient;
  tableName: string;
  endpoint: string;
  close(): Promise<void>;
}

export async function startDynaliteStore(options: { path?: string } = {}): Promise<DynaliteStore> {
  const server = await startDynalite({ path: options.path });
  // One attempt: against a local server a retry only hides the failure a test is looking for.
  const client = createDocumentClient({ endpoint: server.endpoint, maxAttempts: 1 });
  const tableName = `herald-test-${randomUUID()}`;
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    client.destroy();
    await server.close();
    throw error;
  }
  return {
    store: new DynamoStore({ client, tableName }),
    subscribers: new DynamoSubscriberStore({ client, tableName }),
    client,
    tableName,
    endpoint: server.endpoint,
    close: async () => {
      client.destroy();
      await server.close();
    },
  };
}
