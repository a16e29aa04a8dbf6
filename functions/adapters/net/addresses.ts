/**
 * What kind of address an IP is, and how a URL's host is written once normalised: the guarded fetcher
 * (./guarded-fetch.ts) refuses every address that is not public, and the subscription API refuses literal ones
 * up front (functions/core/addresses.ts).
 */
import { isIP } from 'node:net';

export type AddressClass =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'multicast'
  | 'reserved';

const V4_RANGES: [cidr: string, cls: Exclude<AddressClass, 'public'>][] = [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  // Carrier-grade NAT: not reachable from the internet, often is from inside a VPC.
  ['100.64.0.0/10', 'private'],
  ['127.0.0.0/8', 'loopback'],
  // Includes the instance metadata service at 169.254.169.254 (and ECS's 169.254.170.2).
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'reserved'],
  ['198.51.100.0/24', 'reserved'],
  ['203.0.113.0/24', 'reserved'],
  ['224.0.0.0/4', 'multicast'],
  ['240.0.0.0/4', 'reserved'],
];

function parseV4(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

const V4_TABLE = V4_RANGES.map(([cidr, cls]) => {
  const [base, bits] = cidr.split('/') as [string, string];
  const size = 2 ** (32 - Number(bits));
  const start = parseV4(base)!;
  return { start, end: start + size - 1, cls };
});

function classifyV4(value: number): AddressClass {
  for (const range of V4_TABLE) if (value >= range.start && value <= range.end) return range.cls;
  return 'public';
}

/** An IPv6 address as 8 groups of 16 bits; undefined when it is not one. */
function parseV6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  let tail: number[] = [];
  // A dotted IPv4 tail (::ffff:10.0.0.1) is two groups.
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [Math.floor(v4 / 65536), v4 % 65536];
    const head = text.slice(0, lastColon + 1);
    text = head.endsWith('::') ? head : head.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string) => (s === '' ? [] : s.split(':'));
  const head = group(halves[0] ?? '');
  const rest = halves.length === 2 ? group(halves[1] ?? '') : [];
  const explicit = head.length + rest.length + tail.length;
  if (halves.length === 1 ? explicit !== 8 : explicit > 7) return undefined;
  const fill = new Array<string>(8 - explicit).fill('0');
  const groups = [...head, ...(halves.length === 2 ? fill : []), ...rest];
  const out: number[] = [];
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return undefined;
    out.push(Number.parseInt(g, 16));
  }
  return [...out, ...tail];
}

function classifyV6(groups: number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const embeddedV4 = g6 * 65536 + g7;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0) {
    if (g7 === 0) return 'unspecified';
    if (g7 === 1) return 'loopback';
  }
  // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible (::a.b.c.d) reach the IPv4 address inside.
  if (upperZero && (g5 === 0xffff || g5 === 0)) return classifyV4(embeddedV4);
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) also carry an IPv4 address a gateway would reach.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return classifyV4(embeddedV4);
  if (g0 === 0x2002) return classifyV4(g1 * 65536 + g2);
  if ((g0 & 0xfe00) === 0xfc00) return 'private';
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  // Site-local, deprecated but still routed inside some networks.
  if ((g0 & 0xffc0) === 0xfec0) return 'private';
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved';
  return 'public';
}

/** What kind of address this is, for deciding whether Herald may connect to it. Not an IP: `reserved`. */
export function classifyAddress(address: string): AddressClass {
  const family = isIP(address);
  if (family === 4) return classifyV4(parseV4(address)!);
  if (family === 6) {
    const groups = parseV6(address);
    return groups ? classifyV6(groups) : 'reserved';
  }
  return 'reserved';
}

/**
 * The host a URL names, as the resolver and the checks must see it: without the brackets of an IPv6 literal and
 * without the trailing dot of a fully qualified name (`localhost.` is `localhost`). The URL parser has already
 * lower-cased it, mapped IDN to punycode (`ｌｏｃａｌｈｏｓｔ` is `localhost`) and turned `2130706433` or `0x7f.1`
 * into `127.0.0.1`; a check on the raw text would miss each of those spellings.
 */
export function normaliseHost(url: URL): string {
  let host = url.hostname.toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  while (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

/**
 * A name or literal that means this machine whatever DNS says: `localhost` and every `*.localhost` (RFC 6761
 * reserves them for loopback, and resolvers answer them locally), or a loopback address.
 */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  return isIP(host) !== 0 && classifyAddress(host) === 'loopback';
}
