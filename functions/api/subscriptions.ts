/**
 * Residents signing up on the web, with double opt-in: POST /v1/subscriptions sends a 6-digit code to the
 * address, POST /v1/subscriptions/confirm takes it back. And officers importing subscribers from another
 * provider: POST /v1/subscriptions/import (CSV).
 *
 * The sign-up answers the same whether or not the address is already subscribed (nobody learns who is), stores
 * only a keyed hash of the code, and is rate limited per address and per client so it cannot be used to flood a
 * stranger's phone or to guess codes.
 */
import { randomInt, timingSafeEqual } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { LanguageTag } from '../../schemas/alert';
import { ConfirmRequest, type ImportReport, SubscriptionRequest, ZoneId } from '../../schemas/subscriptions';
import { channelOfAddress, normaliseAddress } from '../core/addresses';
import {
  HttpProblem,
  payloadTooLarge,
  unprocessable,
  unsupportedMediaType,
  validationFailed,
} from '../core/errors';
import { codeSubject, codeText, replyLanguageOf } from '../core/keywords';
import { ALL_ZONES, type Challenge, type Consent, type Subscriber } from '../core/model';
import { maskRecipient } from '../shared/mask';
import type { ApiDeps, OperationInput } from './alerts';
import {
  type ApiResult,
  header,
  json,
  MAX_BODY_BYTES,
  parseWith,
  problemResult,
  readBodyObject,
} from './http';
import { idempotencyKeyOf, idempotent } from './idempotency';
import {
  audit,
  clientKey,
  secondsLeftInWindow,
  tooManyRequests,
  toSubscriberView,
  unionZones,
  updateSubscriber,
} from './residents';

export const CODE_TTL_MINUTES = 15;
export const CODE_TRIES = 5;
const HOUR = 3600;
/** Codes one address may be sent per hour: enough for a typo and a lost SMS, not enough to harass anyone. */
export const CODES_PER_ADDRESS_PER_HOUR = 3;
/** Sign-ups one client (IP address) may ask for per hour: a household or an office, not a script. */
export const SIGNUPS_PER_CLIENT_PER_HOUR = 20;
/** Confirmation attempts per client per hour, across addresses: 5 tries per code bound one address already. */
export const CONFIRMS_PER_CLIENT_PER_HOUR = 60;

/**
 * The sentence the sign-up page shows beside its button, recorded as the consent. Versioned: when the wording
 * changes, the version changes, and each subscriber's consent says which one they agreed to.
 */
export const WEB_CONSENT_TEXT =
  'web-consent-v1: I agree to receive public safety alerts for the zones I chose, by the channel I chose, ' +
  'until I unsubscribe (reply STOP or follow the link in any email).';

const ACTOR = 'resident';
const WEB_REQUEST = { action: 'requested', actor: ACTOR, method: 'web' } as const;

function invalidAddress(channel: string, message: string): HttpProblem {
  return validationFailed(
    [{ path: '/address', message }],
    `The ${channel} address is not valid: ${message}.`,
  );
}

function unknownZones(deps: ApiDeps, zones: readonly string[], allowAll: boolean) {
  return zones.flatMap((zone, i) =>
    (allowAll && zone === ALL_ZONES) || deps.zones.has(zone)
      ? []
      : [{ path: `/zones/${i}`, message: "is not one of the agency's zones (see GET /v1/zones)" }],
  );
}

/** The code's keyed hash: bound to the address, so a code sent to one address is no good for another. */
const codeHashOf = (deps: ApiDeps, addressHash: string, code: string) =>
  deps.pii.hash(`code:${addressHash}:${code}`);

// ---------------------------------------------------------------- sign-up

export async function requestSubscription(
  deps: ApiDeps,
  { event, actor }: OperationInput,
): Promise<ApiResult> {
  const body = readBodyObject(event);
  const request = parseWith(SubscriptionRequest, body);
  const zoneErrors = unknownZones(deps, request.zones, false);
  const normalised = normaliseAddress(request.channel, request.address);
  const errors = [
    ...(normalised.ok ? [] : [{ path: '/address', message: normalised.message }]),
    ...zoneErrors,
  ];
  if (errors.length > 0) throw validationFailed(errors);
  const address = (normalised as { address: string }).address;
  const addressHash = await deps.pii.hash(address);
  const client = await clientKey(deps, event);
  const now = deps.clock.now();

  // Idempotency is scoped per client, and the fingerprint holds the address's keyed hash, never the address.
  return idempotent(
    deps.store,
    idempotencyKeyOf(event),
    {
      actor: { ...actor, id: `anonymous:${client}` },
      operation: 'requestSubscription',
      path: '/v1/subscriptions',
      body: { ...request, address: addressHash },
      now,
      newAlertId: deps.newId,
    },
    async (newId) => {
      if (
        !(await deps.subscribers.rateLimitHit(
          `signup:client:${client}`,
          HOUR,
          SIGNUPS_PER_CLIENT_PER_HOUR,
          now,
        ))
      )
        throw tooManyRequests(
          'Too many sign-ups from this network in the last hour; try again later.',
          secondsLeftInWindow(now, HOUR),
        );
      if (
        !(await deps.subscribers.rateLimitHit(
          `signup:address:${request.channel}:${addressHash}`,
          HOUR,
          CODES_PER_ADDRESS_PER_HOUR,
          now,
        ))
      )
        throw tooManyRequests(
          `At most ${CODES_PER_ADDRESS_PER_HOUR} codes an hour go to one address; use the last code sent, or try again later.`,
          secondsLeftInWindow(now, HOUR),
        );

      const at = now.toISOString();
      const language = request.language;
      let subscriber = await deps.subscribers.findSubscriber(request.channel, addressHash);
      let justCreated = false;
      if (!subscriber) {
        const pending: Subscriber = {
          id: newId,
          channel: request.channel,
          addressHash,
          addressCipher: await deps.pii.encrypt(address),
          addressMasked: maskRecipient(request.channel, address),
          zones: [...new Set(request.zones)],
          language,
          status: 'pending',
          audience: 'public',
          createdAt: at,
          updatedAt: at,
        };
        const created = await deps.subscribers.createSubscriber(pending, WEB_REQUEST);
        justCreated = created.kind === 'created';
        subscriber = created.kind === 'created' ? pending : created.subscriber;
      }
      // A pending sign-up takes the latest request; a subscribed address changes only once the code comes back.
      if (subscriber.status === 'pending' && !justCreated)
        subscriber = await updateSubscriber(
          deps,
          subscriber,
          (s) => ({
            ...s,
            zones: [...new Set(request.zones)],
            language,
            updatedAt: at,
          }),
          WEB_REQUEST,
        );

      const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const expiresAt = new Date(now.getTime() + CODE_TTL_MINUTES * 60_000).toISOString();
      const challenge: Challenge = {
        channel: request.channel,
        addressHash,
        subscriberId: subscriber.id,
        codeHash: await codeHashOf(deps, addressHash, code),
        expiresAt,
        triesLeft: CODE_TRIES,
        createdAt: at,
        request: { zones: [...new Set(request.zones)], language },
      };
      await deps.subscribers.putChallenge(challenge);
      const ctx = { agency: deps.config.agencyName, language: replyLanguageOf(language) };
      await deps.notifier.send({
        channel: request.channel,
        address,
        kind: 'code',
        text: codeText(ctx, code, CODE_TTL_MINUTES),
        ...(request.channel === 'email' ? { subject: codeSubject(ctx) } : {}),
      });
      audit(deps, 'subscription.requested', { actor: ACTOR, subscriber, evidence: `web:${client}` });
      return json(202, {
        status: 'confirmation-sent',
        channel: request.channel,
        address: maskRecipient(request.channel, address),
        expiresAt,
      });
    },
  );
}

// ---------------------------------------------------------------- confirmation

const codeGone = () =>
  new HttpProblem(
    410,
    'code-expired',
    'Code expired',
    'There is no code waiting for this address: it expired, its tries are used up, or none was asked for. Ask for a new code with POST /v1/subscriptions.',
    [{ path: '/code', message: 'has expired or has no tries left; ask for a new code' }],
  );

export async function confirmSubscription(deps: ApiDeps, { event }: OperationInput): Promise<ApiResult> {
  const request = parseWith(ConfirmRequest, readBodyObject(event));
  const channel = channelOfAddress(request.address);
  const normalised = normaliseAddress(channel, request.address);
  if (!normalised.ok) throw invalidAddress(channel, normalised.message);
  const address = normalised.address;
  const addressHash = await deps.pii.hash(address);
  const client = await clientKey(deps, event);
  const now = deps.clock.now();
  if (
    !(await deps.subscribers.rateLimitHit(
      `confirm:client:${client}`,
      HOUR,
      CONFIRMS_PER_CLIENT_PER_HOUR,
      now,
    ))
  )
    throw tooManyRequests(
      'Too many confirmation attempts from this network in the last hour; try again later.',
      secondsLeftInWindow(now, HOUR),
    );

  const challenge = await deps.subscribers.getChallenge(channel, addressHash);
  if (!challenge) throw codeGone();
  if (Date.parse(challenge.expiresAt) <= now.getTime()) {
    await deps.subscribers.deleteChallenge(channel, addressHash);
    throw codeGone();
  }
  // The try is spent before the code is compared: two guesses racing cannot both use the last try.
  if (!(await deps.subscribers.spendChallengeTry(channel, addressHash))) throw codeGone();
  const expected = Buffer.from(challenge.codeHash);
  const given = Buffer.from(await codeHashOf(deps, addressHash, request.code));
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    const triesLeft = Math.max(0, challenge.triesLeft - 1);
    if (triesLeft === 0) await deps.subscribers.deleteChallenge(channel, addressHash);
    deps.logger.info('subscription.code-failed', {
      audit: {
        action: 'subscription.code-failed',
        actor: ACTOR,
        subscriberId: challenge.subscriberId,
        triesLeft,
      },
    });
    // The problem names the field and, beside the standard members, how many tries are left.
    const problem = problemResult(
      new HttpProblem(
        422,
        'wrong-code',
        'Wrong code',
        triesLeft > 0
          ? `That is not the code that was sent; ${triesLeft} ${triesLeft === 1 ? 'try is' : 'tries are'} left.`
          : 'That is not the code that was sent, and no tries are left: ask for a new code with POST /v1/subscriptions.',
        [{ path: '/code', message: `is not the code that was sent (tries left: ${triesLeft})` }],
      ),
      event.rawPath,
    );
    return { ...problem, body: JSON.stringify({ ...JSON.parse(problem.body ?? '{}'), triesLeft }) };
  }

  const subscriber =
    (await deps.subscribers.getSubscriber(challenge.subscriberId)) ??
    (await deps.subscribers.findSubscriber(channel, addressHash));
  if (!subscriber) {
    await deps.subscribers.deleteChallenge(channel, addressHash);
    throw codeGone();
  }
  const at = now.toISOString();
  const consent: Consent = {
    at,
    method: 'web',
    text: WEB_CONSENT_TEXT,
    actor: ACTOR,
    evidence: `web:${client}`,
  };
  const asked = challenge.request;
  const confirmed = await updateSubscriber(
    deps,
    subscriber,
    (s) => ({
      ...s,
      // A confirmed subscriber adds the zones asked for; a pending or stopped one gets exactly them.
      zones: asked ? (s.status === 'confirmed' ? unionZones(s.zones, asked.zones) : asked.zones) : s.zones,
      language: asked?.language ?? s.language,
      status: 'confirmed',
      confirmedAt: at,
      stoppedAt: undefined,
      consent,
      updatedAt: at,
    }),
    // A confirmed subscriber confirming more zones changes them; anyone else becomes confirmed.
    (base) => ({
      action: base.status === 'confirmed' ? 'changed' : 'confirmed',
      actor: ACTOR,
      method: 'web',
    }),
  );
  await deps.subscribers.deleteChallenge(channel, addressHash);
  audit(deps, 'subscription.confirmed', { actor: ACTOR, subscriber: confirmed, method: 'web' });
  return json(200, toSubscriberView(confirmed));
}

// ---------------------------------------------------------------- import

/** Rows one import may hold: larger lists go in several files (each answer stays readable, each request short). */
export const MAX_IMPORT_ROWS = 5000;
const IMPORT_COLUMNS = ['channel', 'address', 'zones', 'language', 'consent'] as const;
/** Rows written at once: parallel enough to be quick, few enough to stay under the table's burst capacity. */
const IMPORT_CONCURRENCY = 8;

type ImportRow = Record<(typeof IMPORT_COLUMNS)[number], string>;
type RowError = ImportReport['errors'][number];

interface GoodRow {
  row: number;
  channel: 'sms' | 'email';
  address: string;
  zones: string[];
  language: string;
  consent: string;
}

function readCsvBody(event: OperationInput['event']): string {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
  const type = header(event, 'content-type')?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'text/csv') throw unsupportedMediaType('text/csv');
  if (bytes.length === 0)
    throw validationFailed([{ path: '', message: 'a CSV body is required' }], 'The request has no body.');
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw validationFailed([{ path: '', message: 'is not valid UTF-8' }], 'The body is not valid UTF-8.');
  }
}

function checkRow(deps: ApiDeps, row: number, record: ImportRow): { good?: GoodRow; errors: RowError[] } {
  const errors: RowError[] = [];
  const fail = (field: string, message: string) => errors.push({ row, field, message });
  const channel = record.channel.trim().toLowerCase();
  if (channel !== 'sms' && channel !== 'email') fail('channel', 'must be sms or email');
  let address = '';
  if (channel === 'sms' || channel === 'email') {
    const n = normaliseAddress(channel, record.address);
    if (n.ok) address = n.address;
    else fail('address', n.message);
  }
  const zones = record.zones
    .split(/[;\s]+/)
    .map((z) => z.trim().toLowerCase())
    .filter(Boolean);
  if (zones.length === 0) fail('zones', 'must name at least one zone (separate several with ";")');
  for (const zone of zones)
    if (zone !== ALL_ZONES && (!ZoneId.safeParse(zone).success || !deps.zones.has(zone)))
      fail('zones', `"${zone.slice(0, 64)}" is not one of the agency's zones`);
  const language = record.language.trim() || 'en';
  if (!LanguageTag.safeParse(language).success)
    fail('language', 'must be a language tag such as en, es or ca');
  const consent = record.consent.trim();
  if (consent.length === 0)
    fail('consent', 'is required: the consent the subscriber gave, as the old provider recorded it');
  else if (consent.length > 1000) fail('consent', 'must be at most 1000 characters');
  if (errors.length > 0) return { errors };
  return {
    good: {
      row,
      channel: channel as 'sms' | 'email',
      address,
      zones: [...new Set(zones)],
      language,
      consent,
    },
    errors,
  };
}

export async function importSubscriptions(
  deps: ApiDeps,
  { event, actor }: OperationInput,
): Promise<ApiResult> {
  const text = readCsvBody(event);
  let records: string[][];
  try {
    records = parseCsv(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      trim: false,
      max_record_size: 4096,
      to: MAX_IMPORT_ROWS + 2,
    }) as string[][];
  } catch (error) {
    const where =
      error && typeof error === 'object' && 'lines' in error ? ` near line ${String(error.lines)}` : '';
    throw validationFailed(
      [{ path: '', message: `is not valid CSV${where}` }],
      `The body is not valid CSV${where}.`,
    );
  }
  const headerRow = (records[0] ?? []).map((h) => h.trim().toLowerCase());
  const missing = IMPORT_COLUMNS.filter((c) => !headerRow.includes(c));
  const unknown = headerRow.filter((h) => !(IMPORT_COLUMNS as readonly string[]).includes(h));
  if (missing.length > 0 || unknown.length > 0)
    throw unprocessable(`The first row must be the header ${IMPORT_COLUMNS.join(',')}.`, [
      ...missing.map((c) => ({ path: `/header/${c}`, message: 'is missing' })),
      ...unknown.map((c) => ({ path: `/header/${c.slice(0, 40)}`, message: 'is not a known column' })),
    ]);
  const dataRows = records.slice(1);
  if (dataRows.length > MAX_IMPORT_ROWS)
    throw new HttpProblem(
      413,
      'too-many-rows',
      'Too many rows',
      `An import takes at most ${MAX_IMPORT_ROWS} rows; split the file.`,
    );

  const errors: RowError[] = [];
  const good: GoodRow[] = [];
  dataRows.forEach((cells, i) => {
    const row = i + 2;
    if (cells.length !== headerRow.length) {
      errors.push({
        row,
        field: 'row',
        message: `has ${cells.length} fields, the header ${headerRow.length}`,
      });
      return;
    }
    const record = Object.fromEntries(headerRow.map((h, k) => [h, cells[k] ?? ''])) as ImportRow;
    const checked = checkRow(deps, row, record);
    errors.push(...checked.errors);
    if (checked.good) good.push(checked.good);
  });

  // Rows for the same address run in file order; different addresses run side by side.
  const byAddress = new Map<string, { hash: string; rows: GoodRow[] }>();
  for (const row of good) {
    const hash = await deps.pii.hash(row.address);
    const key = `${row.channel}:${hash}`;
    const entry = byAddress.get(key) ?? { hash, rows: [] };
    entry.rows.push(row);
    byAddress.set(key, entry);
  }
  let imported = 0;
  let updated = 0;
  const groups = [...byAddress.values()];
  const at = deps.clock.now().toISOString();
  const work = async (group: { hash: string; rows: GoodRow[] }) => {
    for (const row of group.rows) {
      const outcome = await importRow(deps, actor.id, group.hash, row, at);
      if (outcome === 'imported') imported++;
      else if (outcome === 'updated') updated++;
      else errors.push({ row: row.row, field: 'address', message: outcome.stopped });
    }
  };
  for (let i = 0; i < groups.length; i += IMPORT_CONCURRENCY)
    await Promise.all(groups.slice(i, i + IMPORT_CONCURRENCY).map(work));

  errors.sort((a, b) => a.row - b.row);
  const report: ImportReport = {
    rows: dataRows.length,
    imported,
    updated,
    skipped: dataRows.length - imported - updated,
    errors,
  };
  deps.logger.info('subscription.import', {
    audit: { action: 'subscription.import', actor: actor.id, ...report, errors: errors.length },
  });
  return json(200, report);
}

async function importRow(
  deps: ApiDeps,
  actorId: string,
  addressHash: string,
  row: GoodRow,
  at: string,
): Promise<'imported' | 'updated' | { stopped: string }> {
  const consent: Consent = {
    at,
    method: 'import',
    text: row.consent,
    actor: actorId,
    evidence: `import:row ${row.row}`,
  };
  let existing = await deps.subscribers.findSubscriber(row.channel, addressHash);
  if (!existing) {
    const fresh: Subscriber = {
      id: deps.newId(),
      channel: row.channel,
      addressHash,
      addressCipher: await deps.pii.encrypt(row.address),
      addressMasked: maskRecipient(row.channel, row.address),
      zones: row.zones,
      language: row.language,
      status: 'confirmed',
      audience: 'public',
      consent,
      createdAt: at,
      updatedAt: at,
      confirmedAt: at,
    };
    const created = await deps.subscribers.createSubscriber(fresh, {
      action: 'imported',
      actor: actorId,
      method: 'import',
    });
    if (created.kind === 'created') {
      audit(deps, 'subscription.imported', { actor: actorId, subscriber: fresh, row: row.row });
      return 'imported';
    }
    existing = created.subscriber;
  }
  // Someone who texted STOP said so to this agency: another provider's list does not override them.
  if (existing.status === 'stopped')
    return {
      stopped: 'unsubscribed (STOP) here: not re-subscribed by an import; they can text START or JOIN',
    };
  const next = await updateSubscriber(
    deps,
    existing,
    (s) => ({
      ...s,
      zones: unionZones(s.zones, row.zones),
      status: 'confirmed',
      confirmedAt: s.confirmedAt ?? at,
      consent: s.consent ?? consent,
      updatedAt: at,
    }),
    (base) => ({
      action: base.status === 'confirmed' ? 'changed' : 'imported',
      actor: actorId,
      method: 'import',
    }),
  );
  audit(deps, 'subscription.updated', { actor: actorId, subscriber: next, row: row.row });
  return 'updated';
}
