/**
 * Errors the domain raises on purpose. Each carries its HTTP status and problem type so the API can answer
 * RFC 9457 problem details without a lookup table; anything else is a 500 with a fixed message.
 */
import type { FieldError } from '../../schemas/problem';

/** Problem types are URNs: stable identifiers that promise no web page. */
export const PROBLEM_BASE = 'urn:herald:problem:';

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export const validationFailed = (errors: FieldError[], detail?: string) =>
  new HttpProblem(
    400,
    'validation',
    'Invalid request',
    detail ??
      `${errors.length} field${errors.length === 1 ? '' : 's'} failed validation: ${errors.map((e) => e.path || '(body)').join(', ')}`,
    errors,
  );

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new HttpProblem(400, 'bad-request', 'Bad request', detail, errors);

export const unauthorized = (detail = 'A valid bearer token is required.') =>
  new HttpProblem(401, 'unauthorized', 'Unauthorized', detail, undefined, { 'www-authenticate': 'Bearer' });

export const forbidden = (detail: string) => new HttpProblem(403, 'forbidden', 'Forbidden', detail);

export const notFound = (detail: string) => new HttpProblem(404, 'not-found', 'Not found', detail);

export const methodNotAllowed = (allowed: string[]) =>
  new HttpProblem(
    405,
    'method-not-allowed',
    'Method not allowed',
    `Use ${allowed.join(' or ')}.`,
    undefined,
    {
      allow: allowed.join(', '),
    },
  );

export const conflict = (detail: string, headers?: Record<string, string>) =>
  new HttpProblem(409, 'conflict', 'Conflict', detail, undefined, headers);

export const preconditionFailed = (detail: string) =>
  new HttpProblem(412, 'precondition-failed', 'Precondition failed', detail);

export const payloadTooLarge = (limit: number) =>
  new HttpProblem(413, 'payload-too-large', 'Payload too large', `The body must be at most ${limit} bytes.`);

export const unsupportedMediaType = (expected: string) =>
  new HttpProblem(415, 'unsupported-media-type', 'Unsupported media type', `Send the body as ${expected}.`);

export const unprocessable = (detail: string, errors?: FieldError[]) =>
  new HttpProblem(422, 'unprocessable', 'Unprocessable request', detail, errors);

export const preconditionRequired = (detail: string) =>
  new HttpProblem(428, 'precondition-required', 'Precondition required', detail);
