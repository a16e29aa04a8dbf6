/**
 * Answers of the embedded-only routes that the gateway lets through before the api handler (sandbox, sign-in):
 * JSON and problem+json replies, never cached, and bounded request bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { PROBLEM_BASE } from '../functions/core/errors';
import type { FieldError } from '../schemas/problem';

/** Writes a JSON answer. True, so a route can `return sendJson(…)` to say it answered the request. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  type = 'application/json; charset=utf-8',
): true {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(JSON.stringify(body));
  return true;
}

export function problem(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  errors?: FieldError[],
): true {
  return sendJson(
    res,
    status,
    {
      type: `${PROBLEM_BASE}${status === 400 ? 'validation' : 'sandbox'}`,
      title,
      status,
      detail,
      ...(errors ? { errors } : {}),
    },
    'application/problem+json; charset=utf-8',
  );
}

/** The body as text, or undefined when it is longer than `maxBytes`. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The body parsed as JSON, or the 413 / 400 problem already answered. */
export async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
): Promise<{ body: unknown } | { answered: true }> {
  const raw = await readBody(req, maxBytes);
  if (raw === undefined)
    return {
      answered: problem(res, 413, 'Payload too large', `The body must be at most ${maxBytes} bytes.`),
    };
  try {
    return { body: JSON.parse(raw) };
  } catch {
    return {
      answered: problem(res, 400, 'Invalid request', 'The body is not valid JSON.', [
        { path: '', message: 'is not valid JSON' },
      ]),
    };
  }
}
