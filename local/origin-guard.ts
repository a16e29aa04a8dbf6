/**
 * The embedded server cannot be driven by a web page. It listens on this machine, usually on loopback, with
 * routes that take no token (the sandbox, the console's sign-in), so a page on another site opened in the same
 * browser is the caller to keep out. Two attacks:
 *
 * - DNS rebinding: a page at http://evil.example:3000 makes evil.example resolve to 127.0.0.1; its requests
 *   then reach this server as same-origin requests, so the page can read the answers. The browser still sends
 *   `Host: evil.example:3000`, so every request, reads included, must name this server in Host.
 * - Cross-site requests: a page on another site cannot read the answers, but it can make a state-changing
 *   request (a form post, a `no-cors` fetch with a text/plain body). Browsers name the page in `Origin` on every
 *   such request and say `Sec-Fetch-Site: cross-site`; a request that says so is refused before any route runs.
 *
 * Programs (curl, a CAD system, SNS calling POST /v1/inbound/sms, the tests) send neither Origin nor
 * Sec-Fetch-Site and are not affected; a browser always sends Host, so a request without one is not a page's.
 *
 * Public reads meant for other sites (feeds, CAP, zones: `Access-Control-Allow-Origin: *`) are GETs and stay
 * readable from anywhere that names this server in Host. No state-changing route is meant to be called from
 * another site's page: the API sends no CORS headers on them, so a page elsewhere could not send JSON nor read
 * the answer anyway, and the residents' sign-up (POST /v1/subscriptions, /confirm) comes from a page on this
 * origin. Routes behind the JWT authorizer are also safe by construction (a page cannot add an Authorization
 * header to a cross-site form), but they get the same rules, so no route depends on that alone.
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

export interface OriginGuardOptions {
  /** The address the server listens on (HOST). A name given there is one of this server's names. */
  listenHost: string;
  /**
   * HERALD_PUBLIC_BASE_URL when the agency set it: where people reach this server through a proxy or a port
   * mapping. Its host is accepted in Host whatever the port the connection arrived on, and its origin in Origin.
   */
  publicBaseUrl?: string | undefined;
}

export interface Refusal {
  status: 403 | 421;
  title: string;
  detail: string;
}

/** The methods a page could use to change something here; GET, HEAD and OPTIONS change nothing. */
const STATE_CHANGING: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Returns the refusal for a request a web page on another site (or a rebound name) made, or undefined. */
export function originGuard(options: OriginGuardOptions): (req: IncomingMessage) => Refusal | undefined {
  const listenHost = options.listenHost.toLowerCase().replace(/^\[|\]$/g, '');
  const publicBase = parsePublicBase(options.publicBaseUrl);

  /**
   * Whether `host` (a Host header, or the host part of an http origin) names this server as reached on `req`'s
   * connection: the port it arrived on with localhost, a loopback address, the address it arrived on, or HOST.
   */
  function names(host: string, req: IncomingMessage): boolean {
    const parsed = parseHost(host, 'http:');
    if (!parsed) return false;
    if (Number(parsed.port || 80) !== req.socket.localPort) return false;
    const name = parsed.hostname.replace(/^\[|\]$/g, '');
    const arrivedOn = (req.socket.localAddress ?? '').replace(/^::ffff:/, '');
    // localhost and loopback addresses are this machine only for a connection that came over loopback: for one
    // from elsewhere, they are the caller's own machine (a page at the caller's http://localhost:3000).
    if (name === 'localhost' || (isIP(name) !== 0 && isLoopback(name))) return isLoopback(arrivedOn);
    // An address is this server's when the connection arrived on it. A name cannot be rebound to an address
    // literal, so any address this server answers on is safe, which covers HOST=0.0.0.0 reached over the LAN.
    if (isIP(name) !== 0) return name === arrivedOn;
    return name === listenHost;
  }

  /** Whether a Host header is HERALD_PUBLIC_BASE_URL's host (the port is the proxy's, not this socket's). */
  function isPublicHost(host: string): boolean {
    return publicBase !== undefined && parseHost(host, publicBase.protocol)?.host === publicBase.host;
  }

  return (req) => {
    const host = req.headers.host;
    if (host !== undefined && !isPublicHost(host) && !names(host, req))
      return {
        status: 421,
        title: 'Misdirected Request',
        detail:
          'The Host header does not name this server. If it is reached through a proxy or another port, set ' +
          'HERALD_PUBLIC_BASE_URL to that address.',
      };
    if (!STATE_CHANGING.has((req.method ?? 'GET').toUpperCase())) return undefined;

    // `same-site` is refused too: it is another origin on the same site, such as another port of localhost.
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none')
      return {
        status: 403,
        title: 'Forbidden',
        detail:
          'A page on another site may not change anything here: Sec-Fetch-Site says it is not this origin.',
      };
    const origin = req.headers.origin;
    if (origin !== undefined && !isOurOrigin(origin, req))
      return {
        status: 403,
        title: 'Forbidden',
        detail:
          'A page from another origin may not change anything here: the Origin header is not this server.',
      };
    return undefined;
  };

  function isOurOrigin(origin: string, req: IncomingMessage): boolean {
    // `null` (a sandboxed frame, a file:// page, a redirect from elsewhere) is never ours.
    if (publicBase && origin === publicBase.origin) return true;
    // The embedded server speaks plain HTTP: an https origin is ours only as HERALD_PUBLIC_BASE_URL's.
    const match = /^http:\/\/([^/?#]+)$/.exec(origin);
    return match !== null && names(match[1]!, req);
  }
}

/** A Host header (or an origin's host part) as a URL would read it, or undefined when it is not one. */
function parseHost(host: string, protocol: string): URL | undefined {
  // Anything besides a host and a port (a path, credentials, a backslash) is not a Host header.
  if (host === '' || /[/?#@\\\s]/.test(host)) return undefined;
  try {
    return new URL(`${protocol}//${host}`);
  } catch {
    return undefined;
  }
}

function parsePublicBase(url: string | undefined): URL | undefined {
  if (!url) return undefined;
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

function isLoopback(address: string): boolean {
  return address === '::1' || (isIP(address) === 4 && address.startsWith('127.'));
}
