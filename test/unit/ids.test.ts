import { decodeTime } from 'ulid';
import { describe, expect, it } from 'vitest';
import { newId } from '../../functions/shared/ids';

describe('newId', () => {
  it('makes ULIDs: 26 Crockford base32 characters that a ULID library reads the time back from', () => {
    const at = Date.UTC(2026, 10, 21, 7, 0, 0, 123);
    const id = newId(at);
    expect(id).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(decodeTime(id)).toBe(at);
  });

  it('sorts by time', () => {
    const earlier = newId(Date.UTC(2026, 0, 1));
    const later = newId(Date.UTC(2026, 0, 1, 0, 0, 0, 1));
    expect(earlier < later).toBe(true);
  });

  it('does not repeat over many ids made in the same millisecond, and spreads the random part', () => {
    const at = Date.now();
    const ids = Array.from({ length: 50_000 }, () => newId(at));
    expect(new Set(ids).size).toBe(ids.length);
    // Every random position takes many values: no stuck bits from the pooled buffer.
    for (let position = 10; position < 26; position++)
      expect(new Set(ids.map((id) => id[position])).size).toBe(32);
  });
});
