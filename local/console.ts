/**
 * The officer console in the embedded mode: the built app at `/` (web/, built in memory with esbuild at start-up),
 * `/config.json` telling it to sign in here, and the embedded-only sign-in `POST /v1/sandbox/token { role, name? }`
 * that stands in for Cognito's hosted UI. On AWS the console is a static site and Cognito signs people in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SandboxTokenRequest } from '../schemas/sandbox';
import { buildConsole, type ConsoleBuild, type ConsoleFile } from '../web/build';
import { consoleContentSecurityPolicy } from '../web/csp';
import type { EmbeddedIdentity } from './auth';
import { problem, readJsonBody, sendJson } from './http-replies';

const MAX_BODY = 4 * 1024;
const YEAR_SECONDS = 365 * 24 * 60 * 60;

/** The console's policy (web/csp.ts), with this instance's media origin among the image sources. */
export const contentSecurityPolicy = (mediaOrigin?: string): string =>
  consoleContentSecurityPolicy(mediaOrigin ? { img: mediaOrigin } : {});

/** A name becomes the person's id (the token's `sub`): the same name is the same person, whatever the role. */
export function subjectOf(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

function send(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body?: Uint8Array | string,
) {
  res.writeHead(status, { 'x-content-type-options': 'nosniff', ...headers });
  res.end(body);
  return true as const;
}

export interface ConsoleOptions {
  identity: Pick<EmbeddedIdentity, 'issue'>;
  /** Where this instance's media are served from (HERALD_PUBLIC_BASE_URL), allowed as image sources. */
  publicBaseUrl?: string;
  /** A build made beforehand (tests); otherwise the console is built now. */
  build?: ConsoleBuild;
}

export interface ConsoleRoutes {
  build: ConsoleBuild | undefined;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
}

export async function consoleRoutes(options: ConsoleOptions): Promise<ConsoleRoutes> {
  let build = options.build;
  if (!build) {
    try {
      build = await buildConsole();
    } catch (error) {
      // The API runs without the console (say, installed without development dependencies); say why it is missing.
      console.warn(`console: not built, so not served at / (${(error as Error).message})`);
    }
  }
  const files = new Map<string, ConsoleFile>((build?.files ?? []).map((f) => [f.path, f]));
  let mediaOrigin: string | undefined;
  try {
    mediaOrigin = options.publicBaseUrl ? new URL(options.publicBaseUrl).origin : undefined;
  } catch {
    mediaOrigin = undefined;
  }
  const csp = contentSecurityPolicy(mediaOrigin);

  async function signIn(req: IncomingMessage, res: ServerResponse): Promise<true> {
    if (req.method !== 'POST') return problem(res, 405, 'Method not allowed', 'Use POST.');
    // A token here can be a supervisor's: hand them out only to this machine, as `npm run token` is.
    if (!LOOPBACK.has(req.socket.remoteAddress ?? ''))
      return problem(
        res,
        403,
        'Forbidden',
        'Console sign-in tokens are handed out only to this machine. Use npm run token on the server instead.',
      );
    const read = await readJsonBody(req, res, MAX_BODY);
    if ('answered' in read) return read.answered;
    const body = read.body;
    const parsed = SandboxTokenRequest.safeParse(body);
    if (!parsed.success)
      return problem(
        res,
        400,
        'Invalid request',
        'The sign-in failed validation.',
        parsed.error.issues.map((i) => ({ path: `/${i.path.join('/')}`, message: i.message })),
      );
    const { role, name } = parsed.data;
    const sub = name ? subjectOf(name) : '';
    const token = await options.identity.issue({
      roles: [role],
      ...(sub ? { sub } : {}),
      ...(name ? { name } : {}),
    });
    return sendJson(res, 200, { token });
  }

  return {
    build,
    async handle(req, res, url) {
      if (url.pathname === '/v1/sandbox/token') return signIn(req, res);
      if (url.pathname === '/config.json' && (req.method === 'GET' || req.method === 'HEAD'))
        return sendJson(res, 200, { mode: 'embedded' });
      const path = url.pathname === '/' ? '/index.html' : url.pathname;
      const file = files.get(path);
      if (!file || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
      return send(
        res,
        200,
        {
          'content-type': file.contentType,
          'content-length': String(file.body.length),
          'cache-control': file.immutable ? `public, max-age=${YEAR_SECONDS}, immutable` : 'no-cache',
          ...(file.contentType.startsWith('text/html')
            ? {
                'content-security-policy': csp,
                'referrer-policy': 'no-referrer',
                'x-frame-options': 'DENY',
                'cross-origin-opener-policy': 'same-origin',
              }
            : {}),
        },
        req.method === 'HEAD' ? undefined : file.body,
      );
    },
  };
}
