import fc from 'fast-check';
import {
  append,
  consistencyProof,
  EMPTY_ROOT,
  frontierRefs,
  inclusionProof,
  leafHash,
  nodeHash,
  plan,
  rootOf,
  rootOfFrontier,
  verifyConsistency,
  verifyInclusion,
  type NodeSource,
} from './merkle-tree.js';

/** RFC 9162 §2.1 written as plainly as it reads, over the whole list of leaf hashes. */
function mth(d: Buffer[]): Buffer {
  if (d.length === 0) return EMPTY_ROOT;
  if (d.length === 1) return d[0];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
}
function naivePath(m: number, d: Buffer[]): Buffer[] {
  if (d.length === 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k ? [...naivePath(m, d.slice(0, k)), mth(d.slice(k))] : [...naivePath(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function naiveSubproof(m: number, d: Buffer[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m <= k ? [...naiveSubproof(m, d.slice(0, k), b), mth(d.slice(k))] : [...naiveSubproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

/** A tree built by `append` in chunks, its nodes kept as the service stores them. */
function build(leaves: Buffer[], chunks: number[] = [leaves.length]): { node: NodeSource; frontier: Buffer[] } {
  const stored = new Map<string, Buffer>();
  let size = 0;
  let frontier: Buffer[] = [];
  let at = 0;
  for (const c of [...chunks, leaves.length]) {
    const next = leaves.slice(at, Math.min(leaves.length, at + c));
    at += next.length;
    const r = append(size, frontier, next);
    for (const n of r.nodes) stored.set(`${n.level}:${n.index}`, n.hash);
    ({ size, frontier } = r);
    if (at >= leaves.length) break;
  }
  return {
    frontier,
    node: (ref) => {
      const h = stored.get(`${ref.level}:${ref.index}`);
      if (!h) throw new Error(`node ${ref.level}:${ref.index} not stored`);
      return h;
    },
  };
}

const leavesOf = (n: number) => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`event ${i}`)));

describe('RFC 9162 Merkle tree', () => {
  // The test vectors of RFC 6962's reference implementation (the same hashing as RFC 9162).
  const inputs = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => leafHash(Buffer.from(h, 'hex')));
  const roots = [
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
    'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
    'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
    '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
    '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
    'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
    '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
  ];

  it.each(roots.map((r, i) => [i + 1, r]))('the root of the first %i reference leaves is %s', (size, root) => {
    const t = build(inputs.slice(0, size as number));
    expect(rootOf(size as number, t.node).toString('hex')).toBe(root);
    expect(rootOfFrontier(t.frontier).toString('hex')).toBe(root);
  });

  it('the empty tree has the hash of nothing as its root', () => {
    expect(rootOf(0, () => Buffer.alloc(0)).toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('roots, inclusion and consistency proofs from stored subtrees equal the definition, and verify', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 140 }), fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 6 }), fc.nat(), fc.nat(), (n, chunks, a, b) => {
        const leaves = leavesOf(n);
        const t = build(leaves, chunks);
        const root = mth(leaves);
        expect(rootOf(n, t.node)).toEqual(root);
        expect(rootOfFrontier(t.frontier)).toEqual(root);
        expect(frontierRefs(n).map((r) => t.node(r))).toEqual(t.frontier);

        const m = a % n;
        const proof = inclusionProof(m, n, t.node);
        expect(proof).toEqual(naivePath(m, leaves));
        expect(proof.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyInclusion(leaves[m], m, n, proof, root)).toBe(true);
        expect(verifyInclusion(leafHash(Buffer.from('another')), m, n, proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion(leaves[m], (m + 1) % n, n, proof, root)).toBe(false);

        const from = 1 + (b % n);
        const c = consistencyProof(from, n, t.node);
        expect(c).toEqual(from === n ? [] : naiveSubproof(from, leaves, true));
        expect(verifyConsistency(from, n, mth(leaves.slice(0, from)), root, c)).toBe(true);
        if (from < n) expect(verifyConsistency(from, n, mth([...leaves.slice(0, from - 1), leafHash(Buffer.from('x'))]), root, c)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('plans exactly the stored nodes a proof reads, O(log n) of them', () => {
    const refs = plan((node) => inclusionProof(123_456, 1_000_000, node));
    expect(refs.length).toBeLessThanOrEqual(2 * 20); // the proof's 20 hashes, the right edge's from its subtrees
    const fetched = new Set(refs.map((r) => `${r.level}:${r.index}`));
    const t = build(leavesOf(300));
    const used: string[] = [];
    inclusionProof(17, 300, (r) => (used.push(`${r.level}:${r.index}`), t.node(r)));
    expect(new Set(plan((node) => inclusionProof(17, 300, node)).map((r) => `${r.level}:${r.index}`))).toEqual(new Set(used));
    expect(fetched.size).toBe(refs.length);
  });
});
