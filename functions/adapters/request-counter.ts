/**
 * Counts the requests an AWS SDK v3 client sends, by operation. Benchmarks attach it to the clients the adapters
 * use and divide by the alerts they pushed through: the cost of one alert in AWS requests.
 */

type Handler = (args: unknown) => Promise<unknown>;
type AddMiddleware = (
  middleware: (next: Handler, context: { commandName?: string }) => Handler,
  options: { step: 'deserialize'; name: string; priority: 'low' },
) => void;

/**
 * Any SDK v3 client, or a lib-dynamodb document client (which shares its base client's stack). Typed loosely on
 * purpose: each client's stack is generic over its own commands, and the counter looks at none of them.
 */
export interface MiddlewareClient {
  middlewareStack: { add(middleware: never, options: never): void };
}

export interface RequestCounter {
  /** Requests sent since the start or the last reset, SDK retries included: each is a request AWS bills. */
  total(): number;
  /** The same, by operation name (`PutItem`, `SendMessageBatch`, …). */
  byCommand(): Record<string, number>;
  reset(): void;
}

let attached = 0;

export function countRequests(client: MiddlewareClient): RequestCounter {
  const counts = new Map<string, number>();
  // The deserialize step sits inside the SDK's retry loop, so it runs once per HTTP attempt, not once per send().
  const add = client.middlewareStack.add.bind(client.middlewareStack) as unknown as AddMiddleware;
  add(
    (next, context) => async (args) => {
      const name = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    // Unique per counter: two counters on one client (or on a document client and its base) both count.
    { step: 'deserialize', name: `heraldRequestCounter${++attached}`, priority: 'low' },
  );
  return {
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    byCommand: () => Object.fromEntries(counts),
    reset: () => counts.clear(),
  };
}
