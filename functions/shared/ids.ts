/**
 * Ids for alerts, leases and sandbox posts: ULIDs (26 characters of Crockford base32; 48 bits of milliseconds,
 * then 80 random bits), so ids sort by creation time. Randomness is drawn from a pooled crypto buffer rather
 * than a call per character, which is where a general-purpose ULID library spends its time.
 */
import { randomBytes } from 'node:crypto';

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const RANDOM_BYTES = 10;
const POOL_SIZE = 4096;

let pool = randomBytes(POOL_SIZE);
let offset = 0;

function randomSlice(): Buffer {
  if (offset + RANDOM_BYTES > pool.length) {
    pool = randomBytes(POOL_SIZE);
    offset = 0;
  }
  const slice = pool.subarray(offset, offset + RANDOM_BYTES);
  offset += RANDOM_BYTES;
  return slice;
}

export function newId(now: number = Date.now()): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  // 80 random bits as 16 five-bit characters: read the 10 bytes as two 40-bit halves.
  const bytes = randomSlice();
  let random = '';
  for (const start of [0, 5]) {
    let half = 0;
    for (let i = 0; i < 5; i++) half = half * 256 + (bytes[start + i] ?? 0);
    let chunk = '';
    for (let i = 0; i < 8; i++) {
      chunk = CROCKFORD[half % 32] + chunk;
      half = Math.floor(half / 32);
    }
    random += chunk;
  }
  return time + random;
}
