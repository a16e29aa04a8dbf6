/**
 * Reading an alert's versions for an operation, and answering with the alert: shared by the alert operations
 * (./alerts.ts, ./alert-timeline.ts) and the receipts' listings (./deliveries.ts), which would otherwise import each
 * other.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import * as z from 'zod';
import { toApiAlert } from '../core/alerts';
import { notFound, preconditionFailed, preconditionRequired, validationFailed } from '../core/errors';
import type { StoredVersion } from '../core/model';
import type { AlertStore } from '../ports';
import { type ApiResult, etag, header, ifMatchSatisfied, json } from './http';

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

const VersionNumber = z.coerce.number().int().positive().max(1_000_000);

/** The `{n}` of a version's path, or 404: a path that names no version number names nothing. */
export function versionNumberOf(n: string | undefined): number {
  const parsed = VersionNumber.safeParse(n);
  if (!parsed.success || !/^\d+$/.test(n ?? ''))
    throw notFound(`There is no version ${JSON.stringify(n ?? '')}.`);
  return parsed.data;
}

/** The alert as an answer: its current state and versions, `ETag` its newest version (what If-Match names). */
export function alertResult(
  status: number,
  versions: StoredVersion[],
  now: Date,
  location?: string,
): ApiResult {
  const last = latest(versions);
  return json(status, toApiAlert(versions, now), {
    etag: etag(last.version),
    ...(location ? { location } : {}),
  });
}

export function checkIfMatch(event: APIGatewayProxyEventV2, current: StoredVersion, required: boolean): void {
  const ifMatch = header(event, 'if-match');
  if (ifMatch === undefined) {
    if (required)
      throw preconditionRequired(
        `Send If-Match: "${current.version}" (the ETag of the version you are updating).`,
      );
    return;
  }
  if (!ifMatchSatisfied(ifMatch, current.version))
    throw preconditionFailed(
      `The alert is at version ${current.version}, not ${ifMatch}; read it again and retry.`,
    );
}

/** A cursor this API did not give out → 400 naming it; anything else is not the caller's fault. */
export function invalidCursor(error: unknown): never {
  if (error instanceof Error && error.name === 'InvalidCursorError')
    throw validationFailed([{ path: '/query/cursor', message: 'is not a cursor this API gave out' }]);
  throw error;
}
