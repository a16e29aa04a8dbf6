/**
 * Audit heads in the embedded mode: one read-only file per head under the data directory, created exclusively and
 * never overwritten. It is not a lock (whoever owns the directory can delete a file), but it keeps the heads outside
 * the table, so an edit made to the table alone (with a DynamoDB client against dynalite) is still found.
 */
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { AuditHead, AuditStream } from '../../core/audit-chain';
import type { AuditHeadStore } from '../../ports/audit';
import type { LoggerLike } from '../../shared/logger';
import { HEADS_PREFIX, headBody, headKey, parseHeadKey, streamPrefix } from './keys';

export class FileAuditHeadStore implements AuditHeadStore {
  readonly configured = true;

  constructor(
    private readonly dir: string,
    private readonly logger: LoggerLike,
  ) {}

  async put(head: AuditHead): Promise<void> {
    const path = join(this.dir, ...headKey(head).split('/'));
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, headBody(head), { flag: 'wx', mode: 0o444 });
    } catch (error) {
      this.logger.error('audit head not written', {
        stream: head.stream.kind,
        n: head.n,
        error: error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.name) : String(error),
      });
    }
  }

  async locked(stream?: AuditStream | undefined): Promise<AuditHead[]> {
    const root = join(this.dir, ...(stream ? streamPrefix(stream) : HEADS_PREFIX).split('/'));
    let names: string[];
    try {
      names = await readdir(root, { recursive: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const heads: AuditHead[] = [];
    for (const name of names) {
      const path = join(root, name);
      const key = relative(this.dir, path).split(sep).join('/');
      if (!key.endsWith('.json')) continue;
      const head = parseHeadKey(key, (await stat(path)).mtime.toISOString());
      if (head) heads.push(head);
    }
    return heads;
  }
}

/** No heads anywhere: verify checks the table's chains alone. */
export const NO_AUDIT_HEADS: AuditHeadStore = {
  configured: false,
  put: async () => {},
  locked: async () => [],
};
