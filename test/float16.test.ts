// float16 conversion (common/formats/float16.ts) against NumPy's own bits: ties to even in the
// normal and subnormal ranges, the doubles either side of each tie, overflow to infinity, signed
// zeros, NaN and random values. The reference is test/fixtures/float16/numpy.json, made by
// tools/fixtures/float16_reference.py.

import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { halfToNumber, numberToHalf } from "../common/index.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const reference = JSON.parse(readFileSync(path.join(ROOT, "test/fixtures/float16/numpy.json"), "utf8")) as { values: [string, number][] };

function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

test("numberToHalf rounds every reference value as NumPy does", () => {
  assert.ok(reference.values.length > 3000);
  let wrong = 0;
  const first: string[] = [];
  for (const [hex, want] of reference.values) {
    const x = double(hex);
    const got = numberToHalf(x);
    if (got !== want) {
      wrong++;
      if (first.length < 5) first.push(`${x} (0x${hex}): got 0x${got.toString(16)}, NumPy 0x${want.toString(16)}`);
    }
  }
  assert.equal(wrong, 0, first.join("\n"));
});

test("halfToNumber inverts numberToHalf on every half", () => {
  for (let bits = 0; bits < 0x10000; bits++) {
    const x = halfToNumber(bits);
    if (Number.isNaN(x)) assert.equal(numberToHalf(x), 0x7e00);
    else assert.equal(numberToHalf(x), bits, `bits 0x${bits.toString(16)} (${x})`);
  }
});
