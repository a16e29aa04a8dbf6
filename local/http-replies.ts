/**
 * Answers of the embedded-only routes that the gateway lets through before the api handler (sandbox, sign-in):
 * JSON and problem+json replies, never cached, and bounded request bodies.
 */
import { type IncomingMessage, maxHeaderSize, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
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

/**
 * The body parsed as JSON, or the 415 / 413 / 400 problem already answered. Only `application/json` is read: a
 * page on another site can post text/plain, a form or multipart without asking, but never JSON.
 */
export async function readJsonBody(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
): Promise<{ body: unknown } | { answered: true }> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json')
    return {
      answered: problem(res, 415, 'Unsupported media type', 'The body must be sent as application/json.'),
    };
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

const CLIENT_ERRORS: Record<string, { status: number; reason: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    reason: 'Request Header Fields Too Large',
    detail: `The request's headers are larger than ${maxHeaderSize} bytes in all.`,
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    reason: 'Request Timeout',
    detail: 'The request did not arrive in time.',
  },
};
const BAD_REQUEST = { status: 400, reason: 'Bad Request', detail: 'The request is not valid HTTP/1.1.' };

/**
 * The server's `clientError` listener. Node answers a request it cannot parse (headers over the limit, a
 * malformed head) on its own, with no body; this answers problem+json instead, written straight to the socket
 * since there is no request, then closes the connection, whose state is unknown.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  // As Node does by default: reply only when nothing of a response to an earlier request is on the way.
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const { status, reason, detail } = CLIENT_ERRORS[error.code ?? ''] ?? BAD_REQUEST;
  const body = JSON.stringify({ type: 'about:blank', title: reason, status, detail });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'content-type: application/problem+json\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'cache-control: no-store\r\n' +
      'connection: close\r\n\r\n' +
      body,
  );
}
