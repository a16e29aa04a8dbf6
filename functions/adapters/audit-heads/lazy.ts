/**
 * A head store made on first use: the S3 adapter (and the S3 client under it) is loaded only when a function first
 * appends or verifies, so the functions that never do pay nothing for it at start (module initialisation is measured:
 * README, Benchmarks).
 */
import type { AuditHeadStore } from '../../ports/audit';

export function lazyHeadStore(load: () => Promise<AuditHeadStore>): AuditHeadStore {
  let loaded: Promise<AuditHeadStore> | undefined;
  const store = () => {
    loaded ??= load();
    return loaded;
  };
  return {
    configured: true,
    put: async (head) => (await store()).put(head),
    locked: async (stream) => (await store()).locked(stream),
  };
}
