/**
 * Reading an alert's versions for an operation: shared by the alert operations (./alerts.ts) and the receipts'
 * listings (./deliveries.ts), which would otherwise import each other.
 */
import { notFound } from '../core/errors';
import type { StoredVersion } from '../core/model';
import type { AlertStore } from '../ports';

const ALERT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;

/** Every version of the alert, oldest first; 404 for an id that is not an alert's (checked before any read). */
export async function loadVersions(
  deps: { store: Pick<AlertStore, 'getAlert'> },
  id: string | undefined,
): Promise<StoredVersion[]> {
  if (!id || !ALERT_ID.test(id)) throw notFound(`There is no alert ${JSON.stringify(id ?? '')}.`);
  const found = await deps.store.getAlert(id);
  if (!found || found.versions.length === 0) throw notFound(`There is no alert ${id}.`);
  return found.versions;
}

export const latest = (versions: StoredVersion[]) => versions[versions.length - 1]!;
