// Boxes of row-major tensors: concatenating along an axis, padding, and cutting a box out. Every
// operation copies runs along the last axes that are contiguous in both tensors, so a batch of
// activations is split into its lines with a few large copies, not one per element.

import { allocate, sizeOf, type Tensor, type TypedArray } from "../common/index.js";

/**
 * Copy the box of `size` starting at `srcStart` in `src` (shape `srcDims`) to `dstStart` in `dst`
 * (shape `dstDims`). Both arrays hold the same element type.
 */
export function copyBox(
  src: TypedArray, srcDims: readonly number[], srcStart: readonly number[],
  dst: TypedArray, dstDims: readonly number[], dstStart: readonly number[],
  size: readonly number[],
): void {
  const rank = size.length;
  if (sizeOf(size) === 0) return;
  // The last axes copied whole in both tensors merge into one contiguous run.
  let run = 1;
  let k = rank;
  while (k > 0 && size[k - 1] === srcDims[k - 1] && size[k - 1] === dstDims[k - 1]) run *= size[--k]!;
  if (k > 0) run *= size[--k]!; // the innermost partial axis is contiguous too
  const srcStride = strides(srcDims);
  const dstStride = strides(dstDims);
  const s = src as unknown as { subarray(a: number, b: number): TypedArray };
  const d = dst as unknown as { set(a: TypedArray, offset: number): void };
  const index = new Array<number>(k).fill(0);
  for (;;) {
    let from = 0;
    let to = 0;
    for (let j = 0; j < rank; j++) {
      const i = j < k ? index[j]! : 0;
      from += (srcStart[j]! + i) * srcStride[j]!;
      to += (dstStart[j]! + i) * dstStride[j]!;
    }
    d.set(s.subarray(from, from + run), to);
    let j = k - 1;
    for (; j >= 0; j--) {
      if (++index[j]! < size[j]!) break;
      index[j] = 0;
    }
    if (j < 0) return;
  }
}

function strides(dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length);
  let s = 1;
  for (let j = dims.length - 1; j >= 0; j--) {
    out[j] = s;
    s *= dims[j]!;
  }
  return out;
}

/** Concatenate along `axis`, each tensor first padded with zeros to `dims` on the other axes. */
export function concatPadded(parts: readonly Tensor[], axis: number, dims: readonly number[]): Tensor {
  const type = parts[0]!.type;
  const total = parts.reduce((n, t) => n + t.dims[axis]!, 0);
  const outDims = dims.map((d, j) => (j === axis ? total : d));
  const data = allocate(type, sizeOf(outDims));
  let at = 0;
  for (const t of parts) {
    const start = outDims.map((_, j) => (j === axis ? at : 0));
    copyBox(t.data, t.dims, t.dims.map(() => 0), data, outDims, start, t.dims);
    at += t.dims[axis]!;
  }
  return { type, dims: outDims, data } as Tensor;
}

/**
 * The box of `size` at `start`: a view of `t`'s memory when the box is one contiguous run (a
 * batch's lines along its first axis), a copy otherwise.
 */
export function cutBox(t: Tensor, start: readonly number[], size: readonly number[]): Tensor {
  let p = 0;
  while (p < size.length && size[p] === 1) p++;
  if (size.every((d, j) => j <= p || d === t.dims[j])) {
    const stride = strides(t.dims);
    const from = start.reduce((sum, s, j) => sum + s * stride[j]!, 0);
    const data = (t.data as unknown as { subarray(a: number, b: number): TypedArray }).subarray(from, from + sizeOf(size));
    return { type: t.type, dims: [...size], data } as Tensor;
  }
  const data = allocate(t.type, sizeOf(size));
  copyBox(t.data, t.dims, start, data, size, size.map(() => 0), size);
  return { type: t.type, dims: [...size], data } as Tensor;
}

/** Whether two tensors have the same type, shape and bytes. */
export function sameTensor(a: Tensor, b: Tensor): boolean {
  if (a === b) return true;
  if (a.type !== b.type || a.dims.length !== b.dims.length || a.dims.some((d, j) => d !== b.dims[j])) return false;
  const x = new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const y = new Uint8Array(b.data.buffer, b.data.byteOffset, b.data.byteLength);
  return Buffer.compare(x, y) === 0;
}
