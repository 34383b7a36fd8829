// Choosing the next token from a row of logits: greedy (argmax) or sampled, with temperature, top-k
// and top-p applied in that order (as Hugging Face's `generate` does), and one documented
// pseudo-random generator so that a seed gives the same draws on every machine.
//
// The generator is xoshiro128** (Blackman and Vigna), seeded by running splitmix32 over the
// seed; each draw is a float in [0, 1) made from 53 bits of two outputs. Every sampled token takes
// exactly one draw, rows in order, so a run with batch 2 draws row 0 then row 1 at each step.

/** How the next token is chosen. */
export interface SamplingOptions {
  /** Divide the logits by this before choosing; 0 means greedy. Default 1 when sampling. */
  temperature?: number;
  /** Keep only the K most likely tokens. */
  topK?: number;
  /** Keep the most likely tokens whose probabilities add up to at least P (nucleus sampling). */
  topP?: number;
  /** Seed of the random draws (an integer); the same seed gives the same tokens. */
  seed?: number;
}

/** Problems with sampling options, in words (empty when they are fine). */
export function checkSampling(o: SamplingOptions): string[] {
  const problems: string[] = [];
  if (o.temperature !== undefined && !(Number.isFinite(o.temperature) && o.temperature >= 0)) {
    problems.push(`temperature must be a number ≥ 0, got ${o.temperature}`);
  }
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 1)) {
    problems.push(`top-k must be a positive integer, got ${o.topK}${o.topK === 0 ? " (to consider every token, leave top-k out)" : ""}`);
  }
  if (o.topP !== undefined && !(Number.isFinite(o.topP) && o.topP > 0 && o.topP <= 1)) {
    problems.push(`top-p must be in (0, 1], got ${o.topP}`);
  }
  if (o.seed !== undefined && !(Number.isSafeInteger(o.seed) && o.seed >= 0)) {
    problems.push(`seed must be a non-negative integer, got ${o.seed}`);
  }
  return problems;
}

/** True when the options ask for sampling rather than greedy choice. */
export function isSampling(o: SamplingOptions): boolean {
  if (o.temperature === 0) return false;
  return o.temperature !== undefined || o.topK !== undefined || o.topP !== undefined || o.seed !== undefined;
}

/** xoshiro128**: four 32-bit words of state, seeded with splitmix32. */
export class Xoshiro128 {
  private s: Uint32Array;

  constructor(seed: number) {
    // splitmix32 over the low and high 32 bits of the seed
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b9);
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([next(), next(), next(), next()]);
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** A generator with the given state (four 32-bit words, not all 0): for checking against the reference. */
  static fromState(words: readonly [number, number, number, number]): Xoshiro128 {
    const g = new Xoshiro128(0);
    g.s = Uint32Array.from(words);
    return g;
  }

  /** The next 32-bit output. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A float in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** The index of the largest value; the first one on ties (as torch.argmax). NaN never wins. */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  let value = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > value) {
      value = v;
      best = i;
    }
  }
  return best;
}

/**
 * Choose a token from `row` (the logits of one sequence position): greedy without `rng`, otherwise
 * one draw from the distribution left after temperature, top-k and top-p.
 */
export function chooseToken(row: ArrayLike<number>, options: SamplingOptions, rng: Xoshiro128 | null): number {
  if (!rng || options.temperature === 0) return argmax(row);
  const temperature = options.temperature ?? 1;
  const n = row.length;
  // candidates sorted by logit, highest first (lower index first on ties)
  let order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => (row[b]! - row[a]!) || a - b);
  if (options.topK !== undefined && options.topK < n) order = order.slice(0, options.topK);
  const top = row[order[0]!]! / temperature;
  const weights = order.map((i) => Math.exp(row[i]! / temperature - top));
  let total = weights.reduce((a, b) => a + b, 0);
  if (options.topP !== undefined && options.topP < 1) {
    let sum = 0;
    let keep = 0;
    while (keep < weights.length) {
      sum += weights[keep]! / total;
      keep++;
      if (sum >= options.topP) break;
    }
    order = order.slice(0, keep);
    weights.length = keep;
    total = weights.reduce((a, b) => a + b, 0);
  }
  const u = rng.nextFloat() * total;
  let acc = 0;
  for (let k = 0; k < order.length; k++) {
    acc += weights[k]!;
    if (u < acc) return order[k]!;
  }
  return order[order.length - 1]!;
}
