/**
 * The audit chain's pure logic (functions/core/audit-chain.ts): canonical JSON is blind to key order, and an entry
 * edited, deleted, reordered or cut off the end is found, and named, by the checks the verifier runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AuditContent,
  type AuditStream,
  type ChainEntry,
  canonicalJson,
  chainHash,
  compareWithTrail,
  GENESIS_HASH,
  nextEntry,
  verifyAgainstHeads,
  verifyStream,
} from '../../functions/core/audit-chain';

const ALERT: AuditStream = { kind: 'alert', id: 'A1' };

function chainOf(contents: readonly AuditContent[], stream: AuditStream = ALERT): ChainEntry[] {
  const entries: ChainEntry[] = [];
  contents.forEach((content, i) => {
    entries.push(nextEntry(stream, entries.at(-1), content, `2030-01-01T00:00:0${i % 10}.000Z`));
  });
  return entries;
}

const contents: AuditContent[] = [
  { action: 'alert.created', actor: 'officer-1', at: '2030-01-01T00:00:00.000Z', version: 1 },
  { action: 'version.approved', actor: 'supervisor-1', at: '2030-01-01T00:01:00.000Z', version: 1 },
  {
    action: 'alert.updated',
    actor: 'officer-1',
    at: '2030-01-01T00:02:00.000Z',
    version: 2,
    detail: 'found',
  },
  { action: 'alert.cancelled', actor: 'officer-1', at: '2030-01-01T00:03:00.000Z', version: 3 },
];

describe('canonicalJson', () => {
  it('writes the same text whatever order the keys were given in, at every depth', () => {
    // Prepare
    const a = { b: 1, a: { y: [1, { q: 2, p: 1 }], x: 'é' }, c: null };
    const b = { c: null, a: { x: 'é', y: [1, { p: 1, q: 2 }] }, b: 1 };

    // Act / Assess
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"é","y":[1,{"p":1,"q":2}]},"b":1,"c":null}');
  });

  it('leaves out undefined members, as DynamoDB does when it stores them', () => {
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('is order-insensitive for any object (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
        const reversed = Object.fromEntries(Object.entries(object).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(object));
        expect(JSON.parse(canonicalJson(object))).toEqual(JSON.parse(JSON.stringify(object)));
      }),
    );
  });
});

describe('verifyStream', () => {
  it('finds nothing wrong in a chain as it was written', () => {
    expect(verifyStream(ALERT, chainOf(contents))).toEqual([]);
  });

  it('names an edited entry by a hash mismatch, and only that entry', () => {
    // Prepare
    const chain = chainOf(contents);
    const edited = chain.map((e) =>
      e.n === 2 ? { ...e, content: { ...e.content, actor: 'officer-1' } } : e,
    );

    // Act
    const broken = verifyStream(ALERT, edited);

    // Assess
    expect(broken).toEqual([
      { alertId: 'A1', entry: 'alert:A1#2', reason: expect.stringMatching(/^hash mismatch/) },
    ]);
  });

  it('finds an edit whose hash was recomputed by the next entry’s prevHash', () => {
    // Prepare
    const chain = chainOf(contents);
    const forged = { ...chain[1]!, content: { ...chain[1]!.content, actor: 'someone-else' } };
    forged.hash = chainHash(forged.prevHash, forged);
    chain[1] = forged;

    // Act
    const broken = verifyStream(ALERT, chain);

    // Assess
    expect(broken).toEqual([
      { alertId: 'A1', entry: 'alert:A1#3', reason: expect.stringMatching(/^prevHash does not match/) },
    ]);
  });

  it('names a deleted entry by the gap it leaves, in the middle or at the start', () => {
    // Prepare
    const chain = chainOf(contents);

    // Act
    const middle = verifyStream(
      ALERT,
      chain.filter((e) => e.n !== 3),
    );
    const first = verifyStream(
      ALERT,
      chain.filter((e) => e.n !== 1),
    );

    // Assess
    expect(middle).toEqual([
      {
        alertId: 'A1',
        entry: 'alert:A1#3',
        reason: 'sequence gap: entry 3 is missing from the table (deleted)',
      },
    ]);
    expect(first).toEqual([
      {
        alertId: 'A1',
        entry: 'alert:A1#1',
        reason: 'sequence gap: entry 1 is missing from the table (deleted)',
      },
    ]);
  });

  it('finds two entries whose contents were swapped', () => {
    // Prepare
    const chain = chainOf(contents);
    const swapped = chain.map((e) =>
      e.n === 2 ? { ...e, content: chain[2]!.content } : e.n === 3 ? { ...e, content: chain[1]!.content } : e,
    );

    // Act
    const broken = verifyStream(ALERT, swapped);

    // Assess
    expect(broken.map((b) => b.entry)).toEqual(['alert:A1#2', 'alert:A1#3']);
  });

  it('does not take an entry moved from another stream: the stream is inside the hash', () => {
    // Prepare
    const other = chainOf(contents, { kind: 'alert', id: 'A2' });
    const moved = other.map((e) => ({ ...e, stream: ALERT }));

    // Act / Assess
    expect(verifyStream(ALERT, moved).length).toBe(4);
  });

  it('starts every chain from the genesis hash', () => {
    expect(chainOf(contents)[0]!.prevHash).toBe(GENESIS_HASH);
  });

  it('finds any single edit, deletion or swap in any chain (property)', () => {
    const content = fc.record({ action: fc.string(), actor: fc.string(), version: fc.nat() });
    fc.assert(
      fc.property(
        fc.array(content, { minLength: 2, maxLength: 12 }),
        fc.nat(),
        fc.constantFrom('edit', 'delete', 'swap'),
        (list, pick, how) => {
          const chain = chainOf(list);
          const i = pick % chain.length;
          const j = (i + 1) % chain.length;
          const tampered =
            how === 'edit'
              ? chain.map((e, k) =>
                  k === i ? { ...e, content: { ...e.content, actor: `${e.content.actor}!` } } : e,
                )
              : how === 'delete'
                ? chain.filter((_, k) => k !== i || k === chain.length - 1)
                : chain.map((e, k) =>
                    k === i
                      ? { ...e, content: chain[j]!.content }
                      : k === j
                        ? { ...e, content: chain[i]!.content }
                        : e,
                  );
          const unchanged = canonicalJson(tampered) === canonicalJson(chain);
          // A deletion of the last entry is the truncated tail, which only a head can show (next test).
          expect(verifyStream(ALERT, tampered).length > 0).toBe(!unchanged);
        },
      ),
    );
  });
});

describe('verifyAgainstHeads', () => {
  const headsOf = (chain: ChainEntry[]) => chain.map((e) => ({ n: e.n, hash: e.hash }));

  it('finds a truncated tail once its heads are locked outside the table', () => {
    // Prepare
    const chain = chainOf(contents);
    const truncated = chain.slice(0, 3);

    // Act
    const broken = verifyAgainstHeads(ALERT, truncated, headsOf(chain));

    // Assess
    expect(verifyStream(ALERT, truncated)).toEqual([]);
    expect(broken).toEqual([
      {
        alertId: 'A1',
        entry: 'alert:A1#4',
        reason:
          "head mismatch: entry 4 is locked outside the table, the table's chain ends at 3 (its tail was cut off)",
      },
    ]);
    expect(verifyAgainstHeads(ALERT, [], headsOf(chain)).map((b) => b.reason)).toEqual(
      [1, 2, 3, 4].map(
        (n) =>
          `head mismatch: entry ${n} is locked outside the table, and the stream is not in the table (deleted)`,
      ),
    );
  });

  it('finds a chain rewritten, hashes and all, from any entry on', () => {
    // Prepare
    const chain = chainOf(contents);
    const rewritten = [chain[0]!];
    for (const c of contents.slice(1))
      rewritten.push(
        nextEntry(ALERT, rewritten.at(-1), { ...c, actor: 'someone-else' }, '2030-01-02T00:00:00.000Z'),
      );

    // Act
    const broken = verifyAgainstHeads(ALERT, rewritten, headsOf(chain));

    // Assess
    expect(verifyStream(ALERT, rewritten)).toEqual([]);
    expect(broken.map((b) => b.entry)).toEqual(['alert:A1#2', 'alert:A1#3', 'alert:A1#4']);
    expect(broken.every((b) => /rewritten/.test(b.reason))).toBe(true);
  });

  it('finds the last entry deleted and another chained in its place: two heads were locked at one number', () => {
    // Prepare
    const chain = chainOf(contents);
    const replaced = [
      ...chain.slice(0, 3),
      nextEntry(ALERT, chain[2], { action: 'nothing' }, '2030-01-03T00:00:00.000Z'),
    ];

    // Act
    const broken = verifyAgainstHeads(ALERT, replaced, [...headsOf(chain), ...headsOf(replaced.slice(3))]);

    // Assess
    expect(verifyStream(ALERT, replaced)).toEqual([]);
    expect(broken).toEqual([
      { alertId: 'A1', entry: 'alert:A1#4', reason: expect.stringMatching(/^head mismatch: .*rewritten/) },
    ]);
  });

  it('accepts a table ahead of its heads: appended since, or a head’s write failed', () => {
    const chain = chainOf(contents);
    expect(verifyAgainstHeads(ALERT, chain, headsOf(chain.slice(0, 2)))).toEqual([]);
  });
});

describe('compareWithTrail', () => {
  it('matches the chain with its trail whatever their order', () => {
    const chain = chainOf(contents);
    expect(compareWithTrail(ALERT, chain, [...contents].reverse(), 'the versions')).toEqual([]);
  });

  it('names what is in the trail and not the chain, and what is in the chain and not the trail', () => {
    // Prepare
    const chain = chainOf(contents);
    const trail = [...contents.slice(0, 3), { ...contents[3]!, actor: 'someone-else' }];

    // Act
    const broken = compareWithTrail(ALERT, chain, trail, 'the versions');

    // Assess
    expect(broken).toEqual([
      {
        alertId: 'A1',
        entry: 'alert:A1',
        reason: expect.stringMatching(
          /^alert.cancelled version 3 .* is in the versions but not in the chain/,
        ),
      },
      {
        alertId: 'A1',
        entry: 'alert:A1#4',
        reason: expect.stringMatching(/is in the chain but not in the versions: edited or deleted/),
      },
    ]);
  });
});
