/**
 * The embedded API Gateway: a Node HTTP server that builds the HTTP API payload-format-2.0 event API
 * Gateway would build, runs the JWT authorizer on `jwt` routes, invokes the Lambda-style handler and
 * maps its result back the way API Gateway does. The handler cannot tell it is not on AWS, so what
 * works here works there.
 *
 * Where AWS documents the behaviour it is followed; where it does not, the choice follows what others
 * measured against real API Gateway, noted beside the code.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { capPathAlias } from '../functions/api/cap';
import type { RouteSpec } from '../schemas/routes';
import { TokenRejectedError } from './auth';
import { answerClientError } from './http-replies';
import { originGuard } from './origin-guard';

export interface GatewayOptions {
  port: number;
  host?: string;
  routes: readonly RouteSpec[];
  identity: { verify(token: string): Promise<Record<string, unknown>> };
  invoke: (
    event: APIGatewayProxyEventV2WithJWTAuthorizer,
    context: Context,
  ) => Promise<APIGatewayProxyResultV2>;
  /**
   * Answers what the embedded server serves itself (sandbox, static files); true = handled. Runs first, after
   * the Host and Origin checks.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;
  maxBodyBytes?: number;
  /** HERALD_PUBLIC_BASE_URL when set: a name and origin of this server besides the ones it listens on. */
  publicBaseUrl?: string | undefined;
}

export interface Gateway {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** API Gateway's own payload limit; the api handler enforces the contract's smaller one. */
const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** A body this far past the limit is not drained to the end: the connection is closed instead. */
const DRAIN_FACTOR = 4;
/** The api Lambda gets API Gateway's 30 s integration timeout, less a second to answer in. */
const FUNCTION_TIMEOUT_MS = 29_000;
const ACCOUNT_ID = '000000000000';
const API_ID = 'embedded';
const FUNCTION_NAME = 'api';

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const host = options.host ?? '127.0.0.1';
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const table = compileRoutes(options.routes);
  const guard = originGuard({ listenHost: host, publicBaseUrl: options.publicBaseUrl });

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('gateway: request failed', error);
      if (!res.headersSent) sendProblem(res, newRequestId(), 500, 'Internal Server Error', INTERNAL_DETAIL);
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://gateway.invalid');
    // Before intercept, so the sandbox, the console and /media/ are covered too (local/origin-guard.ts says why).
    const refusal = guard(req);
    if (refusal) {
      sendProblem(res, newRequestId(), refusal.status, refusal.title, refusal.detail);
      return;
    }
    if (options.intercept && (await options.intercept(req, res, url))) return;

    const requestId = newRequestId();
    const body = await readBody(req, maxBodyBytes);
    if (body === 'too-large') {
      sendProblem(
        res,
        requestId,
        413,
        'Content Too Large',
        `The request body is larger than ${maxBodyBytes} bytes.`,
        req.complete ? {} : { connection: 'close' },
      );
      return;
    }

    const rawTarget = req.url ?? '/';
    const queryAt = rawTarget.indexOf('?');
    // As the CDN in front of API Gateway does: the contract's …/{id}.cap URLs go to the whole-segment CAP routes.
    const encodedPath = capPathAlias(queryAt === -1 ? rawTarget : rawTarget.slice(0, queryAt));
    const rawQueryString = queryAt === -1 ? '' : rawTarget.slice(queryAt + 1);
    const method = (req.method ?? 'GET').toUpperCase();
    const match = matchRoute(table, method, encodedPath);

    let authorizer: APIGatewayProxyEventV2WithJWTAuthorizer['requestContext']['authorizer'] | undefined;
    if (match?.route.auth === 'jwt') {
      const outcome = await authorize(options.identity, req.headers.authorization);
      if ('rejected' in outcome) {
        // API Gateway answers `{"message":"Unauthorized"}`; the API contract promises problem+json for
        // every error, so the embedded gateway answers that, keeping API Gateway's www-authenticate.
        sendProblem(res, requestId, 401, 'Unauthorized', outcome.rejected, {
          'www-authenticate': outcome.challenge,
        });
        return;
      }
      authorizer = { jwt: { claims: outcome.claims, scopes: outcome.scopes } };
    }

    const now = new Date();
    const routeKey = match ? `${match.route.method} ${match.route.path}` : '$default';
    const headers = eventHeaders(req);
    const domainName = headers.host ?? `${host}:${(server.address() as AddressInfo).port}`;
    const rawPath = decodePath(encodedPath);
    const event = {
      version: '2.0',
      routeKey,
      rawPath,
      rawQueryString,
      ...cookiesOf(req),
      headers,
      ...queryParametersOf(rawQueryString),
      requestContext: {
        accountId: ACCOUNT_ID,
        apiId: API_ID,
        domainName,
        domainPrefix: domainName.replace(/:\d+$/, '').split('.')[0] ?? domainName,
        http: {
          method,
          path: rawPath,
          protocol: `HTTP/${req.httpVersion}`,
          sourceIp: sourceIpOf(req),
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey,
        stage: '$default',
        time: clfTime(now),
        timeEpoch: now.getTime(),
        ...(authorizer ? { authorizer } : {}),
      },
      ...(match && Object.keys(match.params).length > 0 ? { pathParameters: match.params } : {}),
      ...bodyFields(body, headers['content-type']),
    };

    let result: APIGatewayProxyResultV2;
    try {
      // Public routes carry no authorizer, as on AWS; the type only describes the jwt case.
      result = await options.invoke(event as APIGatewayProxyEventV2WithJWTAuthorizer, lambdaContext(now));
    } catch (error) {
      console.error(`gateway: handler threw on ${routeKey} (request ${requestId})`, error);
      sendProblem(res, requestId, 500, 'Internal Server Error', INTERNAL_DETAIL);
      return;
    }
    sendResult(res, requestId, result, routeKey);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Node answers an oversized or malformed request head itself, with an empty body; the contract promises
    // problem+json for every error.
    server.on('clientError', answerClientError);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------- routes

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

interface CompiledRoute {
  route: RouteSpec;
  segments: Segment[];
}

function compileRoutes(routes: readonly RouteSpec[]): CompiledRoute[] {
  return routes.map((route) => ({
    route,
    segments: route.path
      .split('/')
      .slice(1)
      .map((part): Segment => {
        const param = /^\{([^{}+]+)(\+)?\}$/.exec(part);
        if (!param) return { kind: 'literal', value: part };
        return param[2] ? { kind: 'greedy', name: param[1]! } : { kind: 'param', name: param[1]! };
      }),
  }));
}

/**
 * API Gateway prefers the most specific route: a literal segment beats `{param}`, which beats
 * `{proxy+}`, comparing from the left. Matching runs on the still-encoded path so an encoded `/`
 * inside an id stays inside that parameter.
 */
function matchRoute(
  table: CompiledRoute[],
  method: string,
  encodedPath: string,
): { route: RouteSpec; params: Record<string, string> } | undefined {
  const parts = encodedPath.split('/').slice(1);
  let best: { route: RouteSpec; params: Record<string, string>; rank: number[] } | undefined;
  for (const { route, segments } of table) {
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    const rank: number[] = [];
    let ok = true;
    for (let i = 0; i < segments.length && ok; i++) {
      const segment = segments[i]!;
      const part = parts[i];
      if (segment.kind === 'greedy') {
        const rest = parts.slice(i).join('/');
        if (rest === '') ok = false;
        else params[segment.name] = decodeSegment(rest);
        rank.push(0);
        break;
      }
      if (part === undefined) ok = false;
      else if (segment.kind === 'literal') {
        ok = part === segment.value;
        rank.push(2);
      } else {
        ok = part !== '';
        params[segment.name] = decodeSegment(part);
        rank.push(1);
      }
    }
    const greedy = segments.at(-1)?.kind === 'greedy';
    if (!ok || (!greedy && parts.length !== segments.length)) continue;
    if (!best || compareRank(rank, best.rank) > 0) best = { route, params, rank };
  }
  return best && { route: best.route, params: best.params };
}

function compareRank(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function decodeSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * HTTP APIs hand the Lambda a percent-decoded `rawPath` (unlike REST APIs and function URLs). AWS's
 * documentation does not say; live captures cited in middleapi/standard-server#93 show it.
 */
function decodePath(encodedPath: string): string {
  return encodedPath.split('/').map(decodeSegment).join('/');
}

// ---------------------------------------------------------------- authorizer

type AuthOutcome =
  | { claims: Record<string, string>; scopes: string[] | null }
  | { rejected: string; challenge: string };

async function authorize(
  identity: GatewayOptions['identity'],
  authorization: string | undefined,
): Promise<AuthOutcome> {
  // The identity source may hold the bare token or `Bearer <token>`, as API Gateway accepts both.
  const token = authorization
    ?.trim()
    .replace(/^bearer\s+/i, '')
    .trim();
  if (!token) {
    return { rejected: 'An Authorization header with a bearer token is required.', challenge: 'Bearer' };
  }
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) {
    return invalid('the token is not a JWT');
  }
  try {
    const claims = await identity.verify(token);
    return { claims: flattenClaims(claims), scopes: scopesOf(claims) };
  } catch (error) {
    return invalid(error instanceof TokenRejectedError ? error.message : 'the token is not valid');
  }
}

function invalid(description: string): AuthOutcome {
  return {
    rejected: `The bearer token was refused: ${description}.`,
    challenge: `Bearer scope="" error="invalid_token" error_description="${description.replace(/["\\]/g, '')}"`,
  };
}

/**
 * API Gateway hands claims to the integration as strings: numbers and booleans are printed, and an
 * array claim such as `cognito:groups: ["officer", "supervisor"]` becomes `[officer supervisor]`.
 * AWS's documentation (http-api-jwt-authorizer) only says the claims are passed on, and a search of
 * it found no page stating the array form; the bracketed, space-separated string is what people
 * report from live HTTP APIs (aws-solutions-library-samples/guidance-for-claude-code-with-amazon-bedrock#803,
 * floci-io/floci#2011, where a reviewer also found no AWS page for it). Nested objects are in no
 * report; they are passed as JSON here.
 */
export function flattenClaims(claims: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(claims)) {
    if (value === undefined || value === null) continue;
    if (Array.isArray(value))
      flat[name] = `[${value.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ')}]`;
    else if (typeof value === 'object') flat[name] = JSON.stringify(value);
    else flat[name] = String(value);
  }
  return flat;
}

/** An access token's `scope` (space-separated) or `scp`; an ID token has neither and gets null. */
function scopesOf(claims: Record<string, unknown>): string[] | null {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.filter((s): s is string => typeof s === 'string');
  return null;
}

// ---------------------------------------------------------------- request

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | 'too-large'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max * DRAIN_FACTOR) return 'too-large';
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = Number.isFinite(declared) && declared > max;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) tooLarge = true;
    // Keep reading, without keeping, so the client sees the 413 instead of a reset connection;
    // past a few times the limit it is not worth it.
    if (tooLarge) {
      if (size > max * DRAIN_FACTOR) break;
      continue;
    }
    chunks.push(chunk);
  }
  return tooLarge ? 'too-large' : Buffer.concat(chunks);
}

/**
 * Header names lower-cased and repeats joined with `,`, as payload 2.0 specifies. Cookies move to
 * `cookies` and are no longer a header. API Gateway also adds the x-forwarded-* and trace headers.
 */
function eventHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === 'cookie') continue;
    const value = raw[i + 1]!;
    headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  const ip = sourceIpOf(req);
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${ip}` : ip;
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  headers['x-forwarded-proto'] = 'http';
  headers['x-amzn-trace-id'] =
    `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  return headers;
}

function cookiesOf(req: IncomingMessage): { cookies?: string[] } {
  const cookies: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() !== 'cookie') continue;
    for (const cookie of raw[i + 1]!.split(';')) if (cookie.trim()) cookies.push(cookie.trim());
  }
  return cookies.length > 0 ? { cookies } : {};
}

/** Decoded values; a key given twice has its values joined with `,` (payload 2.0 has no multi-value map). */
function queryParametersOf(rawQueryString: string): { queryStringParameters?: Record<string, string> } {
  if (rawQueryString === '') return {};
  const params: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    params[key] = key in params ? `${params[key]},${value}` : value;
  }
  return Object.keys(params).length > 0 ? { queryStringParameters: params } : {};
}

/**
 * API Gateway passes a body as a UTF-8 string only for text/*, application/json, application/xml and
 * application/javascript; anything else, a missing content type and form posts included, arrives
 * base64-encoded. AWS does not list the types; this split is the one measured against live HTTP APIs
 * in ministackorg/ministack#766. Suffix types such as application/merge-patch+json were not in that
 * measurement and are treated as binary, so a handler that forgets isBase64Encoded fails here rather
 * than only on AWS. A text body whose bytes are not UTF-8 is passed base64-encoded too: decoding it would
 * repair the bad bytes to U+FFFD, and the handler must see them to refuse them.
 */
function bodyFields(
  body: Buffer,
  contentType: string | undefined,
): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const text =
    type.startsWith('text/') ||
    type === 'application/json' ||
    type === 'application/xml' ||
    type === 'application/javascript';
  if (text) {
    try {
      // ignoreBOM keeps a leading BOM in the string, as API Gateway passes the body through.
      return {
        body: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body),
        isBase64Encoded: false,
      };
    } catch {
      // not UTF-8: base64 below, the bytes as they came
    }
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

function sourceIpOf(req: IncomingMessage): string {
  return (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `requestContext.time` is in Common Log Format, always UTC: `21/Nov/2026:07:02:40 +0000`. */
function clfTime(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${two(date.getUTCHours())}:${two(
    date.getUTCMinutes(),
  )}:${two(date.getUTCSeconds())} +0000`;
}

/** API Gateway's request ids are 16 characters of base64, such as `JKJaXmPLvHcESHA=`. */
function newRequestId(): string {
  return randomBytes(11).toString('base64');
}

function lambdaContext(start: Date): Context {
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const deadline = start.getTime() + FUNCTION_TIMEOUT_MS;
  const day = start.toISOString().slice(0, 10).replace(/-/g, '/');
  const unsupported = (what: string) => () => {
    throw new Error(`context.${what} is not available: return a result or throw`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${ACCOUNT_ID}:function:${FUNCTION_NAME}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

// ---------------------------------------------------------------- response

const INTERNAL_DETAIL = 'The server could not complete the request. It has been logged.';

function sendProblem(
  res: ServerResponse,
  requestId: string,
  status: number,
  title: string,
  detail: string,
  extraHeaders: Record<string, string> = {},
): void {
  const body = Buffer.from(JSON.stringify({ type: 'about:blank', title, status, detail }));
  res.writeHead(status, {
    ...extraHeaders,
    'content-type': 'application/problem+json',
    'content-length': String(body.length),
    'apigw-requestid': requestId,
  });
  res.end(body);
}

/**
 * A result with a `statusCode` is a structured response; anything else is, as API Gateway infers for
 * payload 2.0, a 200 `application/json` whose body is the result serialised.
 */
function sendResult(
  res: ServerResponse,
  requestId: string,
  result: APIGatewayProxyResultV2,
  routeKey: string,
): void {
  const structured =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : undefined;
  if (!structured) {
    const body = Buffer.from(JSON.stringify(result ?? null));
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'apigw-requestid': requestId,
    });
    res.end(body);
    return;
  }

  const status = structured.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    console.error(`gateway: handler on ${routeKey} returned an invalid statusCode (request ${requestId})`);
    sendProblem(res, requestId, 500, 'Internal Server Error', INTERNAL_DETAIL);
    return;
  }
  const body =
    structured.body === undefined
      ? Buffer.alloc(0)
      : Buffer.from(structured.body, structured.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower === 'content-length' || lower === 'transfer-encoding' || lower === 'connection') continue;
    headers[lower] = String(value);
  }
  if (structured.cookies && structured.cookies.length > 0) headers['set-cookie'] = [...structured.cookies];
  headers['content-length'] = String(body.length);
  headers['apigw-requestid'] = requestId;
  res.writeHead(status, headers);
  res.end(body);
}
