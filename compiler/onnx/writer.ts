// Byte-level protobuf writing for `encode.ts`: varints, fixed-width numbers, strings and bytes,
// into one preallocated buffer. Large `bytes` values are not copied: the writer ends the current
// chunk, hands the caller's view (or the FileRange of a weight still in its file) on as a part of
// its own, and goes on writing after it.

import { FileRange, type Part } from "./fileRange.js";

/** `bytes` values at least this long are passed through as separate chunks, not copied. */
export const BIG_BYTES = 64 * 1024;

const M32 = 0xffffffffn;

// The two 32-bit halves of the last 64-bit value split (module-level to avoid allocations).
let lo = 0;
let hi = 0;

function split64(v: bigint): void {
  if (v >= 0n && v <= M32) {
    lo = Number(v);
    hi = 0;
    return;
  }
  const u = BigInt.asUintN(64, v);
  lo = Number(u & M32);
  hi = Number(u >> 32n);
}

export function varint32Size(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Size of the varint of a 64-bit value (negative values take 10 bytes, as in protobuf). */
export function varint64Size(v: bigint): number {
  split64(v);
  if (hi === 0) return varint32Size(lo);
  return hi < 0x8 ? 5 : hi < 0x400 ? 6 : hi < 0x20000 ? 7 : hi < 0x1000000 ? 8 : hi < 0x80000000 ? 9 : 10;
}

export class Writer {
  readonly buf: Uint8Array;
  /** The same memory as a Node Buffer, for its native string encoding. */
  readonly node: Buffer;
  readonly view: DataView;
  pos = 0;
  /** Index of the next entry of `sizes` (lengths recorded by the sizing pass, in visiting order). */
  cursor = 0;
  private segStart = 0;
  readonly chunks: Part[] = [];

  constructor(
    size: number,
    readonly sizes: readonly number[],
  ) {
    this.buf = new Uint8Array(size);
    this.node = Buffer.from(this.buf.buffer, 0, size);
    this.view = new DataView(this.buf.buffer);
  }

  raw(bytes: Uint8Array): void {
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  varint32(n: number): void {
    const buf = this.buf;
    while (n > 0x7f) {
      buf[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[this.pos++] = n;
  }

  /** An int32 or enum: negative values are sign-extended to 64 bits (10 bytes), as protobuf does. */
  int32(n: number): void {
    if (n >= 0) return this.varint32(n);
    lo = n >>> 0;
    hi = 0xffffffff;
    this.varintLoHi();
  }

  varint64(v: bigint): void {
    split64(v);
    this.varintLoHi();
  }

  private varintLoHi(): void {
    if (hi === 0) return this.varint32(lo);
    const buf = this.buf;
    let l = lo;
    let h = hi;
    while (h > 0 || l > 0x7f) {
      buf[this.pos++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    buf[this.pos++] = l;
  }

  bytes(v: Uint8Array | FileRange): void {
    this.varint32(v.length);
    if (v instanceof Uint8Array && v.length < BIG_BYTES) return this.raw(v);
    // Pass the caller's view through: a 500 MB weight is never copied.
    if (this.pos > this.segStart) this.chunks.push(this.buf.subarray(this.segStart, this.pos));
    this.chunks.push(v);
    this.segStart = this.pos;
  }

  /** A string whose UTF-8 length the sizing pass recorded. */
  string(v: string): void {
    const n = this.sizes[this.cursor++]!;
    this.varint32(n);
    // Short ASCII strings are quicker in JS than through a native call.
    if (n === v.length && n <= 16) {
      const buf = this.buf;
      for (let i = 0; i < n; i++) buf[this.pos + i] = v.charCodeAt(i);
    } else {
      this.node.write(v, this.pos, n, "utf8");
    }
    this.pos += n;
  }

  finish(): Part[] {
    if (this.pos > this.segStart) this.chunks.push(this.buf.subarray(this.segStart, this.pos));
    return this.chunks;
  }
}
