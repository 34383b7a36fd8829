// A tensor's sketch: a few numbers that tell two tensors apart without storing either.
//
// The port sweep compares what intv saves at every module port with what PyTorch's hooks saw.
// Storing every hooked tensor of a model zoo would take hundreds of megabytes, so the fixture
// generator (tools/fixtures/zoo/) stores a sketch of each: sums, extremes, the first values, and
// 16 random ±1 projections. The projections of two tensors whose difference has norm d differ by
// about d each, so a wrong tensor (a conv output instead of the BatchNorm after it, the input
// instead of the output) is caught with certainty, while float32 rounding noise is not.
// The signs come from a 32-bit integer hash that tools/fixtures/zoo/sketch.py implements bit for bit.

import { toNumbers, type Tensor } from "../../runtime/index.js";

export interface Sketch {
  shape: number[];
  dtype: string;
  n: number;
  sum: number;
  sumsq: number;
  min: number;
  max: number;
  proj: number[];
  head: number[];
}

export const PROJECTIONS = 16;

/** s(i, j) ∈ {+1, -1}: murmur3's finalizer over the element index mixed with the projection index. */
export function sign(i: number, j: number): 1 | -1 {
  let x = (i ^ Math.imul(j, 0x9e3779b9)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  x = (x ^ (x >>> 16)) >>> 0;
  return x & 1 ? 1 : -1;
}

/** Signs for the first `n` indices, projection-major (`table[j * n + i]`), computed once per size. */
let table = new Int8Array(0);
let tableN = 0;
function signs(n: number): Int8Array {
  if (n <= tableN) return table;
  const size = Math.max(n, tableN * 2);
  table = new Int8Array(size * PROJECTIONS);
  for (let j = 0; j < PROJECTIONS; j++) for (let i = 0; i < size; i++) table[j * size + i] = sign(i, j);
  tableN = size;
  return table;
}

export function sketch(t: Tensor): Sketch {
  const values = Float64Array.from(toNumbers(t), Number);
  const n = values.length;
  const s = signs(n);
  const proj = new Array<number>(PROJECTIONS).fill(0);
  let sum = 0;
  let sumsq = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    sum += x;
    sumsq += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  for (let j = 0; j < PROJECTIONS; j++) {
    let p = 0;
    const base = j * tableN;
    for (let i = 0; i < n; i++) p += s[base + i]! * values[i]!;
    proj[j] = p;
  }
  return { shape: [...t.dims], dtype: t.type === "bool" ? "bool" : t.type, n, sum, sumsq, min, max, proj, head: Array.from(values.slice(0, 8)) };
}

/**
 * Why `actual` is not `expected`, or null when they agree. Tolerances are relative to the
 * expected tensor's norm: float32 noise accumulated through a network is ~1e-5 of it, a wrong
 * tensor is of its order.
 */
export function compareSketch(actual: Sketch, expected: Sketch): string | null {
  if (actual.shape.join(",") !== expected.shape.join(",")) return `shape [${actual.shape}] instead of [${expected.shape}]`;
  if (normType(actual.dtype) !== normType(expected.dtype)) return `element type ${actual.dtype} instead of ${expected.dtype}`;
  const norm = Math.sqrt(expected.sumsq);
  const tol = 2e-3 * norm + 1e-5 * Math.sqrt(expected.n) + 1e-6;
  let worst = 0;
  for (let j = 0; j < PROJECTIONS; j++) worst = Math.max(worst, Math.abs(actual.proj[j]! - expected.proj[j]!));
  const checks: [string, number, number][] = [
    ["projections", worst, tol],
    ["sum", Math.abs(actual.sum - expected.sum), tol],
    ["norm", Math.abs(Math.sqrt(actual.sumsq) - norm), tol],
  ];
  const range = Math.max(Math.abs(expected.min), Math.abs(expected.max));
  checks.push(["min", Math.abs(actual.min - expected.min), 2e-3 * range + 1e-5], ["max", Math.abs(actual.max - expected.max), 2e-3 * range + 1e-5]);
  for (const [what, got, limit] of checks) {
    if (!(got <= limit)) return `${what} differ by ${got.toPrecision(3)} (tolerance ${limit.toPrecision(3)}, norm ${norm.toPrecision(4)}); first values ${fmt(actual.head)} instead of ${fmt(expected.head)}`;
  }
  return null;
}

function normType(t: string): string {
  return t === "bool" ? "bool" : t;
}

function fmt(xs: number[]): string {
  return `[${xs.slice(0, 4).map((x) => Number(x.toPrecision(4))).join(", ")}]`;
}
