/**
 * The edges of the HTTP API: reading a request body safely and writing JSON and problem+json answers.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type * as z from 'zod';
import type { FieldError } from '../../schemas/problem';
import { hasLoneSurrogate } from '../../schemas/text';
import {
  badRequest,
  HttpProblem,
  PROBLEM_BASE,
  payloadTooLarge,
  unsupportedMediaType,
  validationFailed,
} from '../core/errors';

/** api.md: bodies over 256 KiB are refused with 413. */
export const MAX_BODY_BYTES = 256 * 1024;

export type ApiResult = APIGatewayProxyStructuredResultV2 & { headers: Record<string, string> };

const BASE_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return {
    statusCode,
    headers: { ...BASE_HEADERS, 'content-type': 'application/json; charset=utf-8', ...headers },
    body: JSON.stringify(body),
  };
}

/** A CSV download: the body's lines already escaped (csvCell), saved by the browser as `filename`. */
export function csvAttachment(filename: string, body: string): ApiResult {
  return {
    statusCode: 200,
    headers: {
      ...BASE_HEADERS,
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
    },
    body,
  };
}

export function problemResult(problem: HttpProblem, instance?: string): ApiResult {
  return {
    statusCode: problem.status,
    headers: {
      ...BASE_HEADERS,
      'content-type': 'application/problem+json; charset=utf-8',
      ...problem.headers,
    },
    body: JSON.stringify({
      type: `${PROBLEM_BASE}${problem.type}`,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      ...(instance ? { instance } : {}),
      ...(problem.errors ? { errors: problem.errors } : {}),
    }),
  };
}

export const header = (event: APIGatewayProxyEventV2, name: string): string | undefined => {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(event.headers ?? {})) if (k.toLowerCase() === lower) return v;
  return undefined;
};

/**
 * A public read (feeds, CAP, zones): cacheable for `cacheControl`, validated by its ETag (`304` when If-None-Match
 * names it, as CloudFront and feed readers ask), and open to pages on other sites (aggregators, news desks) that
 * fetch it from a browser: it carries nothing private, so `Access-Control-Allow-Origin: *`.
 */
/** Whether the request's If-None-Match names `etag` (weakly, as GET allows) or is `*`: the answer is then 304. */
export function ifNoneMatchHits(event: APIGatewayProxyEventV2, etag: string): boolean {
  const ifNoneMatch = header(event, 'if-none-match');
  return (
    ifNoneMatch?.split(',').some((t) => t.trim() === '*' || t.trim().replace(/^W\//, '') === etag) ?? false
  );
}

export function publicRead(
  event: APIGatewayProxyEventV2,
  read: { body: string; etag: string; contentType: string; cacheControl: string },
): ApiResult {
  const headers = {
    'content-type': read.contentType,
    'cache-control': read.cacheControl,
    'x-content-type-options': 'nosniff',
    'access-control-allow-origin': '*',
    etag: read.etag,
  };
  if (ifNoneMatchHits(event, read.etag)) return { statusCode: 304, headers, body: '' };
  return { statusCode: 200, headers, body: read.body };
}

/** RFC 6901 JSON Pointer for a validation issue path. */
export const jsonPointer = (path: readonly PropertyKey[]): string =>
  path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/** One entry per offending field, each naming it by JSON Pointer; unknown keys each get their own entry. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const out: FieldError[] = [];
  // A field can fail several checks at once ("" is both empty and blank); the first one speaks for it.
  const push = (e: FieldError) => {
    if (!out.some((o) => o.path === e.path)) out.push(e);
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        push({ path: jsonPointer([...issue.path, key]), message: 'is not a known field' });
    } else if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      push({ path: jsonPointer(issue.path), message: 'is required' });
    } else {
      push({ path: jsonPointer(issue.path), message: issue.message });
    }
  }
  return out;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationFailed(fieldErrors(result.error));
  return result.data;
}

const NOT_UTF8 = () =>
  badRequest('The body is not valid UTF-8.', [{ path: '', message: 'is not valid UTF-8' }]);

/** The raw bytes of the body as API Gateway hands them over (base64 for binary media types). */
export function bodyBytes(event: APIGatewayProxyEventV2): Buffer {
  if (event.body === undefined || event.body === null) return Buffer.alloc(0);
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The index of the quote that closes the string opened at `open`: the next one not escaped by a backslash. */
function closingQuote(json: string, open: number): number {
  let end = open;
  for (;;) {
    end = json.indexOf('"', end + 1);
    if (end < 0) return json.length;
    let slashes = 0;
    while (json.charCodeAt(end - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return end;
  }
}

/**
 * JSON Pointers to every key that appears twice in one object of `json`, which must be valid JSON (JSON.parse
 * keeps the last of two and says nothing, so a reviewer and the API could read different headlines). One pass,
 * no recursion: the stack holds each open object's keys, or an array's index.
 */
export function duplicateKeys(json: string): string[] {
  type Frame = { keys: Set<string>; key: string } | { index: number };
  const stack: Frame[] = [];
  const found: string[] = [];
  let expectKey = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) {
      const end = closingQuote(json, i);
      const top = stack.at(-1);
      if (expectKey && top && 'keys' in top) {
        const raw = json.slice(i + 1, end);
        // "\u0061" and "a" are one key: decode escapes the way JSON.parse does.
        const key = raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
        top.key = key;
        if (top.keys.has(key)) found.push(jsonPointer(stack.map((f) => ('keys' in f ? f.key : f.index))));
        top.keys.add(key);
        expectKey = false;
      }
      i = end;
    } else if (c === 0x7b /* { */) {
      stack.push({ keys: new Set(), key: '' });
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      stack.push({ index: 0 });
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
    } else if (c === 0x2c /* , */) {
      const top = stack.at(-1);
      if (top && 'index' in top) top.index++;
      else expectKey = true;
    }
  }
  return [...new Set(found)];
}

/**
 * Reads a JSON body: size first (413), then media type (415), then encoding and syntax (400): bytes that are not
 * UTF-8 and keys named twice in one object are refused, never repaired or resolved. An absent body reads as `{}`
 * when `optional`, so `POST …/cancel` with no body works.
 */
export function readJson(event: APIGatewayProxyEventV2, options: { optional?: boolean } = {}): unknown {
  const bytes = bodyBytes(event);
  if (bytes.length > MAX_BODY_BYTES) throw payloadTooLarge(MAX_BODY_BYTES);
  if (bytes.length === 0) {
    if (options.optional) return {};
    throw validationFailed([{ path: '', message: 'a JSON body is required' }], 'The request has no body.');
  }
  const type = header(event, 'content-type');
  const mediaType = type?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json' && !mediaType?.endsWith('+json'))
    throw unsupportedMediaType('application/json');
  // No UTF-8 bytes decode to a lone surrogate, and Buffer.from above quietly made it U+FFFD: look at the string.
  if (!event.isBase64Encoded && hasLoneSurrogate(event.body ?? '')) throw NOT_UTF8();
  const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let decoded: string;
  try {
    decoded = text.decode(bytes);
  } catch {
    throw NOT_UTF8();
  }
  let value: unknown;
  try {
    value = JSON.parse(decoded);
  } catch (e) {
    throw badRequest('The body is not valid JSON.', [
      { path: '', message: `is not valid JSON: ${(e as Error).message}` },
    ]);
  }
  const duplicates = typeof value === 'object' && value !== null ? duplicateKeys(decoded) : [];
  if (duplicates.length > 0)
    throw badRequest(
      `The body names ${duplicates.join(', ')} more than once.`,
      duplicates.map((path) => ({ path, message: 'appears more than once' })),
    );
  return value;
}

export function readBodyObject(event: APIGatewayProxyEventV2, options: { optional?: boolean } = {}): unknown {
  const body = readJson(event, options);
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw validationFailed([{ path: '', message: 'must be a JSON object' }]);
  return body;
}

/** RFC 9110 If-Match: a list of entity tags, or `*`. Answers whether `current` matches. */
export function ifMatchSatisfied(ifMatch: string, current: number): boolean {
  if (ifMatch.trim() === '*') return true;
  return ifMatch
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => tag === `"${current}"`);
}

export const etag = (version: number) => `"${version}"`;

/** Stable JSON: keys sorted, so two bodies that differ only in key order or spacing fingerprint the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

export { HttpProblem };
