/**
 * The contract's `.cap` URLs as a pattern and its replacement, in a module of their own with no imports: the api
 * router applies them (`capPathAlias` in ./cap.ts) and the CDK writes them into the CloudFront Function that maps
 * the same URLs at the edge (lib/public-reads.ts), so both map exactly alike.
 *
 * `/v1/alerts/{id}.cap` → `/v1/alerts/{id}/cap`, `/v1/alerts/{id}/versions/{n}.cap` → `…/versions/{n}/cap`. Written
 * with String.prototype.replace's `$1`/`$2` (an unmatched group gives ''), which CloudFront Functions' JavaScript
 * runtime has too.
 */
export const CAP_PATH_ALIAS = {
  pattern: /^\/v1\/alerts\/([^/]+?)(\/versions\/[^/]+?)?\.cap$/,
  replacement: '/v1/alerts/$1$2/cap',
} as const;
