/**
 * CAP 1.2 over HTTP. Out: the public CAP XML of an alert's current version, or of one version. In: POST
 * /v1/alerts and POST /v1/alerts/preview with `application/cap+xml`, read strictly (functions/core/xml), checked
 * against the OASIS XSD and the rules it cannot express, then turned into the JSON request the JSON path
 * already handles (create, update or cancel), so both paths share idempotency, approval and dispatch.
 *
 * Paths: API Gateway HTTP APIs accept a path variable only as a whole segment (`/v1/alerts/{id}.cap` is refused
 * as an invalid route key), and `GET /v1/alerts/{id}` is behind the JWT authorizer, so the routes are
 * `/v1/alerts/{id}/cap` and `/v1/alerts/{id}/versions/{n}/cap`; the contract's `.cap` URLs are mapped onto
 * them by `capPathAlias`, which the embedded gateway applies and a CDN in front of the API applies likewise.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { CHANNELS, type Channel } from '../../schemas/alert';
import { capSchemaErrors } from '../adapters/cap-schema';
import { CAP_MEDIA_TYPE, toCapXml, zoneNamesFrom } from '../core/cap';
import { capAlertId, importCap, referencedAlerts, updatePatchFrom } from '../core/cap-import';
import { CapRefused, parseCap, pathAtLine } from '../core/cap-parse';
import { capRuleProblems } from '../core/cap-rules';
import {
  badRequest,
  type HttpProblem,
  notFound,
  payloadTooLarge,
  unprocessable,
  validationFailed,
} from '../core/errors';
import type { StoredVersion } from '../core/model';
import { publishedVersions } from '../core/schedule';
import { decodeXml } from '../core/xml';
import { type ApiDeps, cancelAlertOp, createAlert, type OperationInput, updateAlertOp } from './alerts';
import { CAP_PATH_ALIAS } from './cap-path';
import { type ApiResult, header, MAX_BODY_BYTES, publicRead } from './http';
import { previewAlert } from './preview';

const ALERT_ID = /^[0-9A-HJKMNP-TV-Z]{26}$/;
/** Only CAP's own media type: a plain application/xml body stays a 415, as before CAP was accepted. */
const CAP_BODY_TYPES = new Set([CAP_MEDIA_TYPE]);

/** `/v1/alerts/{id}.cap` → `/v1/alerts/{id}/cap`, `/v1/alerts/{id}/versions/{n}.cap` → `…/versions/{n}/cap`. */
export function capPathAlias(path: string): string {
  return path.replace(CAP_PATH_ALIAS.pattern, CAP_PATH_ALIAS.replacement);
}

export const capUrl = (baseUrl: string, alertId: string, version?: number) =>
  `${baseUrl}/v1/alerts/${alertId}${version === undefined ? '' : `/versions/${version}`}.cap`;

// ---------------------------------------------------------------- out

const capOptions = (deps: ApiDeps) => ({
  agencyName: deps.config.agencyName,
  zoneName: zoneNamesFrom(deps.zones),
});

function capResult(
  event: APIGatewayProxyEventV2,
  version: StoredVersion,
  deps: ApiDeps,
  immutable: boolean,
): ApiResult {
  return publicRead(event, {
    body: toCapXml(version, capOptions(deps)),
    etag: `"${version.alertId}-${version.version}"`,
    contentType: `${CAP_MEDIA_TYPE}; charset=utf-8`,
    // A version never changes: its CAP can be cached for good; the current one changes with the next version.
    cacheControl: immutable ? 'public, max-age=31536000, immutable' : 'public, max-age=60',
  });
}

/** The released versions of a public (Actual) alert; anything else is not there for the public. */
async function publicVersions(deps: ApiDeps, id: string | undefined): Promise<StoredVersion[]> {
  const missing = () => notFound(`There is no public alert ${JSON.stringify(id ?? '')}.`);
  if (!id || !ALERT_ID.test(id)) throw missing();
  const found = await deps.store.getAlert(id);
  // In the order they went out: the last is what the public is reading (a timeline's steps go out by time).
  const versions = publishedVersions(found?.versions ?? []);
  if (versions.at(-1)?.content.status !== 'Actual') throw missing();
  return versions;
}

export async function getAlertCap(deps: ApiDeps, { event, params }: OperationInput): Promise<ApiResult> {
  const versions = await publicVersions(deps, params.id);
  return capResult(event, versions.at(-1)!, deps, false);
}

export async function getVersionCap(deps: ApiDeps, { event, params }: OperationInput): Promise<ApiResult> {
  const versions = await publicVersions(deps, params.id);
  const n = /^\d{1,7}$/.test(params.n ?? '') ? Number(params.n) : Number.NaN;
  const found = versions.find((v) => v.version === n);
  if (!found) throw notFound(`Alert ${params.id} has no public version ${JSON.stringify(params.n ?? '')}.`);
  return capResult(event, found, deps, true);
}

// ---------------------------------------------------------------- in

export function isCapRequest(event: APIGatewayProxyEventV2): boolean {
  const type = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  return type !== undefined && CAP_BODY_TYPES.has(type);
}

function problemFor(refused: CapRefused): HttpProblem {
  if (refused.kind === 'unsupported')
    return unprocessable(`${refused.problems.map((p) => p.message).join('; ')}.`, refused.problems);
  return validationFailed(
    refused.problems,
    refused.kind === 'malformed'
      ? `The CAP document was refused: ${refused.problems.map((p) => p.message).join('; ')}.`
      : `The CAP message is not valid: ${refused.problems.map((p) => p.path).join(', ')}.`,
  );
}

/**
 * Reads and checks a CAP body: size (413), strict XML (400: no DTD, no entities, bounded), CAP 1.2 only (422 for
 * CAP 1.1, refused rather than upgraded), the OASIS XSD and the CAP rules (400, each problem naming its element).
 */
export async function readCapBody(event: APIGatewayProxyEventV2) {
  const bytes =
    event.body === undefined || event.body === null
      ? Buffer.alloc(0)
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64')
        : Buffer.from(event.body, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
  if (bytes.length === 0)
    throw badRequest('The request has no body.', [{ path: '', message: 'a CAP document is required' }]);
  try {
    const message = parseCap(bytes);
    const schema = await capSchemaErrors(decodeXml(bytes));
    const problems = [
      ...schema.map((e) => ({ path: pathAtLine(message, e.line, e.element), message: e.message })),
      ...capRuleProblems(message),
    ];
    if (problems.length) throw new CapRefused(problems, 'invalid');
    return message;
  } catch (error) {
    if (error instanceof CapRefused) throw problemFor(error);
    throw error;
  }
}

/** `?channels=x,sms` chooses the channels of an alert created from CAP; every channel otherwise. */
function channelsOf(event: APIGatewayProxyEventV2): Channel[] {
  const raw = event.queryStringParameters?.channels;
  if (raw === undefined) return [...CHANNELS];
  const list = raw.split(',').map((c) => c.trim());
  const unknown = list.filter((c) => !(CHANNELS as readonly string[]).includes(c));
  if (unknown.length || list.length === 0)
    throw validationFailed([
      { path: '/query/channels', message: `must be a comma-separated list of ${CHANNELS.join(', ')}` },
    ]);
  return list as Channel[];
}

async function importBody(deps: ApiDeps, event: APIGatewayProxyEventV2) {
  const message = await readCapBody(event);
  try {
    return importCap(message, {
      now: deps.clock.now(),
      channels: channelsOf(event),
      zoneName: zoneNamesFrom(deps.zones),
    });
  } catch (error) {
    if (error instanceof CapRefused) throw problemFor(error);
    throw error;
  }
}

/** The alert an Update or Cancel refers to, or a 422 saying that its references name nothing Herald knows. */
async function referencedAlert(deps: ApiDeps, imported: Awaited<ReturnType<typeof importBody>>) {
  for (const candidate of referencedAlerts(imported.references, deps.config.sender)) {
    const found = await deps.store.getAlert(candidate.alertId);
    if (found?.versions.length) return { alertId: candidate.alertId, versions: found.versions };
  }
  return undefined;
}

/** The same request as JSON, so the JSON operations do the rest. */
const asJson = (
  event: APIGatewayProxyEventV2,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): APIGatewayProxyEventV2 => {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.headers ?? {}))
    if (v !== undefined && k.toLowerCase() !== 'content-type' && k.toLowerCase() !== 'content-length')
      headers[k] = v;
  return {
    ...event,
    headers: { ...headers, 'content-type': 'application/json', ...extraHeaders },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  };
};

/** POST /v1/alerts with a CAP body: an Alert creates, an Update or Cancel becomes the next version of the alert it refers to. */
export async function createAlertFromCap(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const imported = await importBody(deps, input.event);
  if (imported.expired && imported.msgType !== 'Cancel')
    throw unprocessable(
      `The CAP message expired at ${imported.draft.expires}; an expired message is not published.`,
      [{ path: '/alert/info/0/expires', message: `is in the past (${imported.draft.expires})` }],
    );
  if (imported.msgType === 'Alert') {
    // The id comes from the sender and identifier: later Updates find the alert through their references.
    const id = capAlertId(imported.sender, imported.identifier);
    return createAlert(
      { ...deps, newId: () => id },
      { ...input, event: asJson(input.event, imported.draft) },
    );
  }
  const target = await referencedAlert(deps, imported);
  if (!target)
    throw unprocessable('The references of this CAP message name no alert Herald knows.', [
      { path: '/alert/references', message: 'names no message Herald has received or sent' },
    ]);
  const current = target.versions.at(-1)!;
  const params = { ...input.params, id: target.alertId };
  // The message applies on top of what is there now: If-Match is the current version, so a concurrent change still gets a 412.
  const ifMatch = { 'if-match': `"${current.version}"` };
  if (imported.msgType === 'Cancel') {
    const body = {
      ...(imported.note ? { reason: imported.note.slice(0, 500) } : {}),
      ...(imported.draft.description !== current.content.description
        ? { description: imported.draft.description }
        : {}),
    };
    return cancelAlertOp(deps, { ...input, params, event: asJson(input.event, body, ifMatch) });
  }
  const patch = updatePatchFrom(current.content, imported.draft);
  if (Array.isArray(patch))
    throw unprocessable('This CAP update changes what an update cannot change.', patch);
  return updateAlertOp(deps, { ...input, params, event: asJson(input.event, patch, ifMatch) });
}

/** POST /v1/alerts/preview with a CAP body: the preview of its content, plus what the import made of it. */
export async function previewAlertFromCap(deps: ApiDeps, input: OperationInput): Promise<ApiResult> {
  const imported = await importBody(deps, input.event);
  const result = await previewAlert(deps, { ...input, event: asJson(input.event, imported.draft) });
  const warnings = [...imported.warnings];
  if (imported.expired)
    warnings.push(`the message expired at ${imported.draft.expires}: creating it would be refused (422)`);
  let alertId: string | undefined;
  if (imported.msgType !== 'Alert') {
    alertId = (await referencedAlert(deps, imported))?.alertId;
    if (!alertId)
      warnings.push('its references name no alert Herald knows: creating it would be refused (422)');
  } else alertId = capAlertId(imported.sender, imported.identifier);
  const body = JSON.parse(result.body as string) as Record<string, unknown>;
  body.cap = {
    msgType: imported.msgType,
    identifier: imported.identifier,
    sender: imported.sender,
    sent: imported.sent,
    references: imported.references.map((r) => `${r.sender},${r.identifier},${r.sent}`),
    ...(alertId ? { alertId } : {}),
    expired: imported.expired,
    warnings,
  };
  return { ...result, body: JSON.stringify(body) };
}

/** A stable strong ETag for a body that has no version number of its own (feeds). */
export const bodyEtag = (body: string) =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
