// Shared test helpers.

import assert from "node:assert/strict";
import { toNumbers, type Tensor } from "../runtime/index.js";

/** numpy.allclose, elementwise: |actual - expected| <= atol + rtol * |expected|, with equal shape and type. */
export function assertClose(actual: Tensor, expected: Tensor, atol: number, rtol: number, what: string): void {
  assert.deepEqual(actual.dims, expected.dims, `${what}: shape`);
  assert.equal(actual.type, expected.type, `${what}: element type`);
  const a = toNumbers(actual);
  const e = toNumbers(expected);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const diff = Math.abs(Number(a[i]) - Number(e[i]));
    const excess = diff - (atol + rtol * Math.abs(Number(e[i])));
    if (!(excess <= 0) && (at < 0 || excess > worst)) {
      worst = excess;
      at = i;
    }
  }
  assert.ok(at < 0, `${what}: element ${at} is ${a[at]}, expected ${e[at]} (tolerance ${atol} + ${rtol}·|expected|)`);
}

