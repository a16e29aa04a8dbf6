/**
 * Connection errors that prove a request never reached the network (refused, no such host, no route, no local
 * address), so nothing can have been posted: a retry cannot post twice. Anything else after a request left may have
 * reached it, and is an unknown outcome for the clients that cannot ask afterwards.
 */
export const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
]);
