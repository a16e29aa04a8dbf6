/**
 * The one way out for a request to a URL that someone else chose: a subscriber's webhook, an alert's image
 * (typed by an officer or imported from a CAP <resource><uri>), an SNS certificate. Such a URL is a server-side
 * request forgery risk: on AWS, 169.254.169.254 hands out the function's credentials, and what Herald fetches
 * may be posted to the agency's public account.
 *
 * - https only; plain http only to loopback, and only where loopback is allowed (the embedded mode);
 * - no user name or password in the URL;
 * - every address the host resolves to is checked (./addresses.ts), and the connection goes to the addresses
 *   checked and nowhere else: a second lookup could answer differently (DNS rebinding);
 * - redirects are not followed unless the caller allows some, and then each hop is checked like the first;
 * - the answer's size, content type and time are bounded.
 *
 * Hosts Herald fixes itself (the X API, Meta's Graph API, AWS endpoints) keep their own clients.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { maskUrl } from '../../shared/mask';
import { classifyAddress, isLoopbackHost, normaliseHost } from './addresses';

// The loopback setting (HERALD_FETCH_ALLOW_LOOPBACK) is read with the rest of the configuration.
export { loopbackAllowedBy } from '../../shared/config';

// ---------------------------------------------------------------- transport

export interface CheckedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address a host name resolves to. */
export type Resolver = (host: string) => Promise<string[]>;

export interface PinnedRequest {
  url: URL;
  /** The addresses that were checked, in the resolver's order; the connection goes to one of them, nowhere else. */
  addresses: CheckedAddress[];
  method: string;
  headers: Record<string, string>;
  body?: string | Uint8Array | undefined;
  /** The most body bytes read: a Content-Length above it, or more bytes than it, fails with TOO_LARGE. */
  maxBytes: number;
  /** Whether this answer's body is wanted; when it is not, it is drained up to maxBytes and the socket closed. */
  readBody: (status: number, headers: IncomingHttpHeaders) => boolean;
}

export interface PinnedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body?: Buffer | undefined;
}

export type PinnedTransport = (request: PinnedRequest, signal: AbortSignal) => Promise<PinnedResponse>;

/** Why a request got no (whole) answer, and whether the request had left this process by then. */
export class TransportError extends Error {
  constructor(
    readonly sent: boolean,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/**
 * Node's http(s) client, connecting to the checked addresses: the name stays in the URL, so the Host header, SNI
 * and certificate check still use it, while the lookup the socket performs answers with the pinned addresses
 * (all of them: Node tries each in turn, so `localhost` answering ::1 first still reaches a server on 127.0.0.1).
 * `ca` is for tests and for agencies whose receivers sit behind a private CA.
 */
export function createPinnedTransport(options: { ca?: string | Buffer | undefined } = {}): PinnedTransport {
  return (req, signal) =>
    new Promise<PinnedResponse>((resolve, reject) => {
      const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
        const [first] = req.addresses;
        if (lookupOptions.all) callback(null, req.addresses);
        else if (first) callback(null, first.address, first.family);
        else callback(new Error('no checked address'), '', 4);
      };
      const https = req.url.protocol === 'https:';
      let sent = false;
      let settled = false;
      const fail = (error: NodeJS.ErrnoException | TransportError) => {
        if (settled) return;
        settled = true;
        if (error instanceof TransportError) return reject(error);
        const timedOut = signal.aborted || error.name === 'AbortError';
        reject(
          new TransportError(
            sent,
            timedOut ? 'no answer in time' : (error.code ?? error.name),
            timedOut ? 'TIMEOUT' : error.code,
          ),
        );
      };
      const tooLarge = (what: string) => new TransportError(true, `the answer ${what}`, 'TOO_LARGE');
      const headers = { ...req.headers };
      if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));

      const client = (https ? httpsRequest : httpRequest)(
        req.url,
        {
          method: req.method,
          headers,
          lookup: pinned,
          signal,
          // A fresh connection per request: a pooled socket could belong to an address checked for another URL.
          agent: false,
          ...(https && options.ca ? { ca: options.ca } : {}),
        },
        (res) => {
          const status = res.statusCode ?? 0;
          // Errors after the answer is settled (a drained body cut short) change nothing.
          res.on('error', (error) => fail(error));
          if (!req.readBody(status, res.headers)) {
            settled = true;
            let drained = 0;
            res.on('data', (chunk: Buffer) => {
              drained += chunk.length;
              if (drained > req.maxBytes) res.destroy();
            });
            resolve({ status, headers: res.headers });
            return;
          }
          // Refused before a byte is read: an honest server says how much it will send.
          const declared = Number(res.headers['content-length']);
          if (res.headers['content-length'] !== undefined && declared > req.maxBytes) {
            res.destroy();
            return fail(tooLarge(`is ${declared} bytes, over the limit of ${req.maxBytes}`));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            // A server that streams on past the bound is cut off there, not read to its end.
            if (size > req.maxBytes) {
              res.destroy();
              return fail(tooLarge(`runs past the limit of ${req.maxBytes} bytes`));
            }
            chunks.push(chunk);
          });
          res.on('end', () => {
            if (settled) return;
            settled = true;
            resolve({ status, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on('close', () => {
            if (!res.complete) fail(new TransportError(true, 'the answer was cut off', 'ECONNRESET'));
          });
        },
      );
      client.on('finish', () => {
        sent = true;
      });
      client.on('error', (error: NodeJS.ErrnoException) => fail(error));
      client.end(req.body);
    });
}

// ---------------------------------------------------------------- the guard

export type GuardedFetchFailure =
  /** The URL, an address it resolves to, or a redirect's target may not be reached. */
  'refused' | 'no-such-host' | 'resolver' | 'unreachable' | 'timeout' | 'too-large' | 'content-type';

const RETRYABLE = new Set<GuardedFetchFailure>(['resolver', 'unreachable', 'timeout']);

export class GuardedFetchError extends Error {
  constructor(
    readonly failure: GuardedFetchFailure,
    message: string,
    /** Whether the request had left this process: past that, a lost answer means the request may have acted. */
    readonly sent = false,
    /** The media type of an answer refused for it. */
    readonly contentType?: string,
  ) {
    super(message);
    this.name = 'GuardedFetchError';
  }

  /** A refusal, a name that does not exist, an answer too big or of the wrong type: trying again will not help. */
  get retryable(): boolean {
    return RETRYABLE.has(this.failure);
  }
}

export interface GuardedFetchOptions {
  /** GET unless said; only GET and HEAD follow redirects. */
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** The most body bytes read (default 1 MiB); past it the fetch fails with `too-large` and the socket closes. */
  maxBytes?: number;
  /** Decides on a 2xx answer's media type (lower case, no parameters) before its body is read. */
  accept?: (contentType: string) => boolean;
  /** Only the status and headers matter (a webhook): no body is kept. */
  discardBody?: boolean;
  /** For the whole fetch, redirects included (default 10 s); `signal` may end it sooner. */
  timeoutMs?: number;
  /** Redirects followed, each checked like the first URL (default 0: a 3xx is the answer). */
  maxRedirects?: number;
  /** The embedded mode's allowance (HERALD_FETCH_ALLOW_LOOPBACK); never on AWS. */
  allowLoopback?: boolean;
  signal?: AbortSignal;
  /** Defaults to the system resolver. */
  resolve?: Resolver;
  transport?: PinnedTransport;
}

export interface GuardedResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The media type, lower case, without parameters; '' when the answer has none. */
  contentType: string;
  /** The body of a 2xx answer that was read; empty otherwise. */
  body: Buffer;
  /** The URL that answered, after any redirects. */
  url: URL;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers that belong to the origin they were meant for, not to wherever it redirects. */
const ORIGIN_BOUND = ['authorization', 'cookie', 'proxy-authorization'];

const systemResolve: Resolver = async (host) =>
  (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

let sharedTransport: PinnedTransport | undefined;

export function mediaType(headers: IncomingHttpHeaders): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Waits for `promise` unless `signal` ends first: a resolver that hangs must not outlast the deadline. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The addresses this URL may be connected to, or a GuardedFetchError saying why it may not be reached.
 * `where` names the URL in reasons, without its path or query (they may hold a token).
 */
async function check(
  url: URL,
  where: string,
  options: { allowLoopback: boolean; resolve: Resolver; signal: AbortSignal },
): Promise<CheckedAddress[]> {
  const refuse = (why: string) => new GuardedFetchError('refused', `refused ${where}: ${why}`);
  const host = normaliseHost(url);
  const loopbackHost = isLoopbackHost(host);
  if (url.protocol === 'http:') {
    // Plain http would carry the request in clear; on one machine it goes nowhere else.
    if (!options.allowLoopback || !loopbackHost) throw refuse('must use https');
  } else if (url.protocol !== 'https:') {
    throw refuse('must use https');
  }
  if (url.username || url.password) throw refuse('credentials in the URL');
  // `localhost`, `localhost.` or `x.localhost` mean this machine whatever the resolver says (some answer them
  // from /etc/hosts, some not at all): refused by name, so no resolver can make one pass.
  if (loopbackHost && !options.allowLoopback && !isIP(host))
    throw refuse(`${host} is this machine (loopback)`);

  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await unlessAborted(options.resolve(host), options.signal);
    } catch (error) {
      if (options.signal.aborted) throw new GuardedFetchError('timeout', `${where}: no answer in time`);
      const code = (error as NodeJS.ErrnoException).code;
      // A name that does not exist will not start to; a resolver hiccup may pass.
      if (code === 'ENOTFOUND' || code === 'ENODATA')
        throw new GuardedFetchError('no-such-host', `${where}: no such host`);
      throw new GuardedFetchError('resolver', `${where}: could not resolve the host (${code ?? 'error'})`);
    }
  }
  if (addresses.length === 0) throw new GuardedFetchError('no-such-host', `${where}: no such host`);
  // Every answer is checked, not only the first: a resolver may rotate, and the name's owner chooses the answers.
  for (const address of addresses) {
    const cls = classifyAddress(address);
    if (cls === 'public' || (cls === 'loopback' && options.allowLoopback)) continue;
    throw refuse(`${address} is a ${cls} address`);
  }
  if (url.protocol === 'http:' && addresses.some((a) => classifyAddress(a) !== 'loopback'))
    throw refuse('must use https');
  return addresses.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
}

function failureOf(error: unknown, where: string, signal: AbortSignal): GuardedFetchError {
  if (error instanceof GuardedFetchError) return error;
  if (error instanceof TransportError) {
    if (error.code === 'TOO_LARGE')
      return new GuardedFetchError('too-large', `${where}: ${error.message}`, true);
    if (error.code === 'TIMEOUT' || signal.aborted)
      return new GuardedFetchError('timeout', `${where}: no answer in time`, error.sent);
    return new GuardedFetchError('unreachable', `${where}: ${error.message}`, error.sent);
  }
  // A transport that failed some other way may have sent the request: that is the cautious reading.
  const detail = error instanceof Error ? error.message : String(error);
  return new GuardedFetchError(signal.aborted ? 'timeout' : 'unreachable', `${where}: ${detail}`, true);
}

/**
 * Fetches `url` within the guard. Resolves with the answer whatever its status (a 3xx not followed included);
 * rejects with a GuardedFetchError when the URL may not be reached, no whole answer came, or the answer broke a
 * bound. `error.retryable` tells a refusal (permanent) from a timeout or an unreachable host.
 */
export async function guardedFetch(
  rawUrl: string | URL,
  options: GuardedFetchOptions = {},
): Promise<GuardedResponse> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxRedirects = options.maxRedirects ?? 0;
  const resolve = options.resolve ?? systemResolve;
  sharedTransport ??= createPinnedTransport();
  const transport = options.transport ?? sharedTransport;
  const timeout = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const policy = { allowLoopback: options.allowLoopback === true, resolve, signal };

  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new GuardedFetchError('refused', 'refused: not a URL');
  }
  const first = maskUrl(url.href);
  const method = (options.method ?? 'GET').toUpperCase();
  let headers = { ...options.headers };
  let body = options.body;

  for (let hop = 0; ; hop++) {
    const where = hop === 0 ? first : `${maskUrl(url.href)} (redirected from ${first})`;
    const addresses = await check(url, where, policy);
    const followable = hop < maxRedirects && (method === 'GET' || method === 'HEAD');
    const wanted = (status: number, answer: IncomingHttpHeaders) => {
      if (options.discardBody || status < 200 || status >= 300) return false;
      return options.accept ? options.accept(mediaType(answer)) : true;
    };
    let response: PinnedResponse;
    try {
      if (signal.aborted) throw new GuardedFetchError('timeout', `${where}: no answer in time`);
      response = await transport(
        { url, addresses, method, headers, body, maxBytes, readBody: wanted },
        signal,
      );
    } catch (error) {
      throw failureOf(error, where, signal);
    }
    const { status } = response;
    const location = response.headers.location;
    if (REDIRECTS.has(status) && location && followable) {
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new GuardedFetchError('refused', `refused ${where}: redirected to something that is not a URL`);
      }
      if (next.origin !== url.origin)
        headers = Object.fromEntries(
          Object.entries(headers).filter(([k]) => !ORIGIN_BOUND.includes(k.toLowerCase())),
        );
      body = undefined;
      url = next;
      continue;
    }
    const contentType = mediaType(response.headers);
    if (
      status >= 200 &&
      status < 300 &&
      !options.discardBody &&
      options.accept &&
      !options.accept(contentType)
    )
      throw new GuardedFetchError(
        'content-type',
        `${where}: the answer is ${contentType || 'of no type'}`,
        true,
        contentType,
      );
    return { status, headers: response.headers, contentType, body: response.body ?? Buffer.alloc(0), url };
  }
}
