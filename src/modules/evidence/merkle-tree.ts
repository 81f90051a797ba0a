import { createHash, hash } from 'node:crypto';

/**
 * RFC 9162 (Certificate Transparency 2.0) Merkle tree math over SHA-256: leaf hash H(0x00 ‖ data), node hash
 * H(0x01 ‖ left ‖ right), the tree of n leaves split at the largest power of two below n.
 *
 * The tree is kept as the hashes of its complete aligned subtrees: node (level, index) covers the leaves
 * [index·2^level, (index+1)·2^level). Every hash any root or proof needs is one of those (a split at the largest
 * power of two below the size always falls on such a boundary), so a root is O(log n) stored nodes and an append makes
 * one new node per level it completes.
 */

export interface NodeRef {
  level: number;
  index: number;
}

/** Reads the stored node hashes a computation needs (all at once: see `plan`). */
export type NodeSource = (ref: NodeRef) => Buffer;

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(data: Buffer): Buffer {
  return hash('sha256', Buffer.concat([LEAF, data]), 'buffer');
}

export function nodeHash(left: Buffer, right: Buffer): Buffer {
  return hash('sha256', Buffer.concat([NODE, left, right]), 'buffer');
}

/** SHA-256 of nothing: the root of the empty tree. */
export const EMPTY_ROOT = createHash('sha256').digest();

/** The largest power of two strictly below n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPow2(n: number): boolean {
  return n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** MTH of the leaves [start, end), from stored complete subtrees. */
function rangeHash(start: number, end: number, node: NodeSource): Buffer {
  const size = end - start;
  if (isPow2(size) && start % size === 0) return node({ level: Math.log2(size), index: start / size });
  const k = split(size);
  return nodeHash(rangeHash(start, start + k, node), rangeHash(start + k, end, node));
}

/** The root of the first `size` leaves. */
export function rootOf(size: number, node: NodeSource): Buffer {
  return size === 0 ? EMPTY_ROOT : rangeHash(0, size, node);
}

/** RFC 9162 §2.1.3.1 PATH(m, D[start:end]): the audit path of leaf `m`, bottom first. */
function path(m: number, start: number, end: number, node: NodeSource): Buffer[] {
  const n = end - start;
  if (n === 1) return [];
  const k = split(n);
  if (m < k) return [...path(m, start, start + k, node), rangeHash(start + k, end, node)];
  return [...path(m - k, start + k, end, node), rangeHash(start, start + k, node)];
}

/** The inclusion proof of leaf `index` in the tree of `size` leaves. */
export function inclusionProof(index: number, size: number, node: NodeSource): Buffer[] {
  if (index < 0 || index >= size) throw new RangeError(`leaf ${index} is not in a tree of ${size}`);
  return path(index, 0, size, node);
}

/** RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b). */
function subproof(m: number, start: number, end: number, complete: boolean, node: NodeSource): Buffer[] {
  const n = end - start;
  if (m === n) return complete ? [] : [rangeHash(start, end, node)];
  const k = split(n);
  if (m <= k) return [...subproof(m, start, start + k, complete, node), rangeHash(start + k, end, node)];
  return [...subproof(m - k, start + k, end, false, node), rangeHash(start, start + k, node)];
}

/** The consistency proof from the tree of `from` leaves to the tree of `to` (empty when from is 0 or equals to). */
export function consistencyProof(from: number, to: number, node: NodeSource): Buffer[] {
  if (from < 0 || from > to) throw new RangeError(`no consistency proof from ${from} to ${to}`);
  if (from === 0 || from === to) return [];
  return subproof(from, 0, to, true, node);
}

/**
 * Which stored nodes a computation reads: runs it on placeholders (the shape of every computation here depends on
 * sizes and indexes only, never on hash values), so a caller can fetch them in one query and run it again.
 */
export function plan(compute: (node: NodeSource) => unknown): NodeRef[] {
  const refs = new Map<string, NodeRef>();
  const zero = Buffer.alloc(32);
  compute((ref) => {
    refs.set(`${ref.level}:${ref.index}`, ref);
    return zero;
  });
  return [...refs.values()];
}

/** RFC 9162 §2.1.3.2: whether `proof` shows `leaf` at `index` in the tree of `size` leaves with `root`. */
export function verifyInclusion(leaf: Buffer, index: number, size: number, proof: readonly Buffer[], root: Buffer): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 §2.1.4.2: whether `proof` shows the tree (`from`, `fromRoot`) is a prefix of (`to`, `toRoot`). */
export function verifyConsistency(from: number, to: number, fromRoot: Buffer, toRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (from < 0 || from > to) return false;
  if (from === to) return proof.length === 0 && fromRoot.equals(toRoot);
  if (from === 0 || proof.length === 0) return from === 0 && proof.length === 0;
  const path = isPow2(from) ? [fromRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = from - 1;
  let sn = to - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(fromRoot) && sr.equals(toRoot) && sn === 0;
}

/**
 * The right edge of a tree of `size` leaves: the complete subtrees its size's binary digits give, largest (leftmost)
 * first. With these, appending leaves needs nothing else from storage.
 */
export function frontierRefs(size: number): NodeRef[] {
  const refs: NodeRef[] = [];
  let start = 0;
  for (let level = Math.floor(Math.log2(Math.max(size, 1))); level >= 0; level--) {
    const width = 2 ** level;
    if (Math.floor(size / width) % 2 === 1) {
      refs.push({ level, index: start / width });
      start += width;
    }
  }
  return refs;
}

/** Appends leaf hashes to a tree known by its frontier; returns every node (level ≥ 0) the appends complete. */
export function append(size: number, frontier: Buffer[], leaves: readonly Buffer[]): { size: number; frontier: Buffer[]; nodes: Array<NodeRef & { hash: Buffer }> } {
  // frontier[i] pairs with frontierRefs(size)[i]: largest first; as a stack, the top is the smallest (rightmost).
  const stack = [...frontier];
  const nodes: Array<NodeRef & { hash: Buffer }> = [];
  let n = size;
  for (const leaf of leaves) {
    let hash = leaf;
    let level = 0;
    let index = n;
    nodes.push({ level, index, hash });
    // Each trailing 1 bit of n is a complete subtree of that level waiting for a right sibling: this one.
    let bits = n;
    while (bits % 2 === 1) {
      hash = nodeHash(stack.pop()!, hash);
      level += 1;
      index = Math.floor(index / 2);
      nodes.push({ level, index, hash });
      bits = Math.floor(bits / 2);
    }
    stack.push(hash);
    n += 1;
  }
  return { size: n, frontier: stack, nodes };
}

/** The root from the frontier alone (no storage): the right edge folded from the right. */
export function rootOfFrontier(frontier: readonly Buffer[]): Buffer {
  if (frontier.length === 0) return EMPTY_ROOT;
  let r = frontier[frontier.length - 1];
  for (let i = frontier.length - 2; i >= 0; i--) r = nodeHash(frontier[i], r);
  return r;
}
