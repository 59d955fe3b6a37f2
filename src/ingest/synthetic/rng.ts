/**
 * A small, fast, seeded pseudo-random generator for synthetic data.
 *
 * Generator: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, PractRand
 * clean to multiple terabytes). Its state is set from a 128-bit key; keys are derived by hashing
 * (a cyrb128-style four-lane multiply/xor hash with murmur-style finalisation) the parent key with a
 * label, so that:
 *
 * - the same seed always gives the same stream, on every platform (only 32-bit integer arithmetic);
 * - `fork(label)` depends on the parent's *key* and the label, never on how many values the parent
 *   has drawn, and does not advance the parent. Adding a new attribute under a new fork label leaves
 *   every existing stream unchanged.
 *
 * Not cryptographic. Statistical quality is ample for synthetic records.
 */

/** A table prepared once by {@link weightedPicker}: call it with a generator to draw an index. */
export type WeightedPicker = (rng: Rng) => number;

const TWO_POW_32 = 4294967296;
const SEED_TAG = 0x5eed;
const STRING_TAG = 0x73747201;
const NUMBER_TAG = 0x6e756d02;
const WARMUP_ROUNDS = 12;

// Scratch lanes for key derivation: written and read synchronously, never escape.
const lanes = new Int32Array(4);

function beginHash(k0: number, k1: number, k2: number, k3: number, tag: number): void {
  lanes[0] = k0 ^ tag;
  lanes[1] = k1 ^ Math.imul(tag, 0x9e3779b1);
  lanes[2] = k2 ^ Math.imul(tag, 0x85ebca6b);
  lanes[3] = k3 ^ Math.imul(tag, 0xc2b2ae35);
}

function absorb(w: number): void {
  const h1 = lanes[0]!;
  const h2 = lanes[1]!;
  const h3 = lanes[2]!;
  const h4 = lanes[3]!;
  const n1 = h2 ^ Math.imul(h1 ^ w, 597399067);
  const n2 = h3 ^ Math.imul(h2 ^ w, 2869860233);
  const n3 = h4 ^ Math.imul(h3 ^ w, 951274213);
  lanes[0] = n1;
  lanes[1] = n2;
  lanes[2] = n3;
  lanes[3] = n1 ^ Math.imul(h4 ^ w, 2716044179);
}

function finishHash(length: number): void {
  let h1 = lanes[0]! ^ length;
  let h2 = lanes[1]!;
  let h3 = lanes[2]!;
  let h4 = lanes[3]!;
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  lanes[0] = fmix32(h1);
  lanes[1] = fmix32(h2);
  lanes[2] = fmix32(h3);
  lanes[3] = fmix32(h4);
}

function fmix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return x ^ (x >>> 16);
}

function hashString(s: string): void {
  for (let i = 0; i < s.length; i++) absorb(s.charCodeAt(i));
  finishHash(s.length);
}

function hashNumber(n: number): void {
  if (Number.isSafeInteger(n)) {
    const neg = n < 0;
    const abs = neg ? -n : n;
    absorb(abs >>> 0);
    absorb(Math.floor(abs / TWO_POW_32) | (neg ? 0x80000000 : 0));
    finishHash(2);
  } else {
    hashString(String(n));
  }
}

/** Seeded generator. Create one with {@link createRng}; derive sub-streams with {@link Rng.fork}. */
export class Rng {
  // sfc32 state.
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  // The 128-bit key this stream was created from; forks hash it with their label.
  private readonly k0: number;
  private readonly k1: number;
  private readonly k2: number;
  private readonly k3: number;

  /** Prefer {@link createRng} and {@link Rng.fork}; this takes an already-mixed 128-bit key. */
  constructor(k0: number, k1: number, k2: number, k3: number) {
    this.k0 = k0 | 0;
    this.k1 = k1 | 0;
    this.k2 = k2 | 0;
    this.k3 = k3 | 0;
    this.a = this.k0;
    this.b = this.k1;
    this.c = this.k2;
    this.d = this.k3;
    for (let i = 0; i < WARMUP_ROUNDS; i++) this.nextUint32();
  }

  /** Next 32-bit unsigned integer, uniform on [0, 2^32). */
  nextUint32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const t = (((a + b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = (((c << 21) | (c >>> 11)) + t) | 0;
    return t >>> 0;
  }

  /** Uniform float on [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /**
   * Uniform integer on [min, maxInclusive]. Both bounds should be integers and the range at most
   * 2^32 wide; the (multiply-shift) bias is below 2^-32 × range, irrelevant for synthetic data.
   */
  int(min: number, maxInclusive: number): number {
    if (maxInclusive < min) throw new RangeError(`int(${min}, ${maxInclusive}): empty range`);
    return min + Math.floor((this.nextUint32() / TWO_POW_32) * (maxInclusive - min + 1));
  }

  /** A uniformly chosen element. Throws on an empty array. */
  pick<T>(items: readonly T[]): T {
    const n = items.length;
    if (n === 0) throw new RangeError('pick() from an empty array');
    return items[Math.floor((this.nextUint32() / TWO_POW_32) * n)]!;
  }

  /** True with probability `p` (p ≤ 0 never, p ≥ 1 always). */
  chance(p: number): boolean {
    return this.nextUint32() / TWO_POW_32 < p;
  }

  /**
   * An independent sub-stream named by `label`. Depends only on this generator's key and the label
   * (not on draws made so far) and does not advance this generator. Numeric labels (e.g. a record
   * index) are hashed without string conversion; `fork(7)` and `fork('7')` are different streams.
   */
  fork(label: string | number): Rng {
    beginHash(this.k0, this.k1, this.k2, this.k3, typeof label === 'number' ? NUMBER_TAG : STRING_TAG);
    if (typeof label === 'number') hashNumber(label);
    else hashString(label);
    return new Rng(lanes[0]!, lanes[1]!, lanes[2]!, lanes[3]!);
  }
}

/**
 * A generator for a seed. A number seed is treated as its decimal string, so `createRng(42)` and
 * `createRng('42')` (as read from a command line) give the same stream.
 */
export function createRng(seed: string | number): Rng {
  if (typeof seed === 'number' && !Number.isFinite(seed)) throw new RangeError(`invalid seed: ${seed}`);
  beginHash(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, SEED_TAG);
  hashString(String(seed));
  return new Rng(lanes[0]!, lanes[1]!, lanes[2]!, lanes[3]!);
}

/**
 * Prepares a weighted choice of an index 0..weights.length-1, with probability proportional to its
 * weight (weights need not sum to 1; zero weights are never chosen). The cumulative table is built
 * once; each draw is one random number and a binary search.
 */
export function weightedPicker(weights: readonly number[]): WeightedPicker {
  const n = weights.length;
  if (n === 0) throw new RangeError('weightedPicker() needs at least one weight');
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (!(w >= 0) || !Number.isFinite(w))
      throw new RangeError(`weightedPicker(): invalid weight ${w} at ${i}`);
    total += w;
    cumulative[i] = total;
  }
  if (!(total > 0)) throw new RangeError('weightedPicker(): weights sum to zero');
  const last = n - 1;
  return (rng: Rng): number => {
    const u = rng.nextFloat() * total;
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > u) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  };
}

/** A weighted choice among `items` (see {@link weightedPicker}); `weights[i]` belongs to `items[i]`. */
export function weightedChoice<T>(items: readonly T[], weights: readonly number[]): (rng: Rng) => T {
  if (items.length !== weights.length) {
    throw new RangeError(`weightedChoice(): ${items.length} items but ${weights.length} weights`);
  }
  const picker = weightedPicker(weights);
  const table = items.slice();
  return (rng: Rng): T => table[picker(rng)]!;
}

/** A weighted choice from `[item, weight]` pairs. */
export function weightedEntries<T>(entries: readonly (readonly [T, number])[]): (rng: Rng) => T {
  return weightedChoice(
    entries.map((e) => e[0]),
    entries.map((e) => e[1]),
  );
}
