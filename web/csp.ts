/**
 * The console's Content-Security-Policy, one source for the embedded server (local/console.ts) and the CloudFront
 * headers policy (lib/console.ts). Same-origin scripts and stylesheets only, no inline script; inline style
 * *attributes* for the email preview's HTML, which the server writes with them and which the sandboxed srcdoc frame
 * inherits this policy for; images from the alert's own https URL, the preview's card (data:) or the console itself.
 * `img` adds where this instance serves its media; `connect` adds the sign-in service the code is exchanged with.
 */
export function consoleContentSecurityPolicy(extra: { img?: string; connect?: string } = {}): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    `img-src 'self' data: https:${extra.img ? ` ${extra.img}` : ''}`,
    // 'self' covers the API (/v1/* on the console's own origin).
    `connect-src 'self'${extra.connect ? ` ${extra.connect}` : ''}`,
    "font-src 'self'",
    "frame-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
