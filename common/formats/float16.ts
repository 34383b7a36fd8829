// 16-bit floats as raw bits (a Uint16Array holds them, as onnxruntime-node does): IEEE 754
// half precision (float16) and bfloat16. The one conversion the compiler (constants) and the
// runtime (inputs given as numbers) share, so a literal and an input of the same number get the
// same bits.

/** Decode one IEEE 754 half-precision value from its bits. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Encode a number as IEEE 754 half-precision bits, as NumPy's `np.float16(x)` does: rounded once,
 * from the double, to the nearest half (ties to even), subnormals included; magnitudes from 65520
 * up become infinity; NaN becomes 0x7e00 (checked against NumPy's own bits in
 * test/float16.test.ts).
 */
export function numberToHalf(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const a = Math.abs(value);
  if (a >= 65520) return sign | 0x7c00; // 65520 and above round to infinity
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal (1024 carries into normal)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  const mantissa = roundHalfEven((a / 2 ** e - 1) * 1024); // 1024 carries into the exponent
  return sign | (((e + 15) << 10) + mantissa);
}

/** Exact for the arguments above: multiplying and dividing by powers of two loses nothing. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const rest = x - floor;
  if (rest !== 0.5) return rest < 0.5 ? floor : floor + 1;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** Encode a number as bfloat16 bits: the float32's top half, rounded to nearest even. */
export function numberToBfloat16(value: number): number {
  const u = new Uint32Array(new Float32Array([value]).buffer)[0]!;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}
