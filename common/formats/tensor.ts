// The runtime's tensor: a plain object that onnxruntime-node's own tensors also satisfy.
//
// Element types use the lowercase ONNX names of the manifest (`float32`, `int64`, `bool`, ...).
// float16 data is kept as raw IEEE half bits in a Uint16Array (what onnxruntime-node uses), bool as
// a Uint8Array of 0/1, and 64-bit integers as BigInt64Array / BigUint64Array. `dims` are in C
// (row-major) order; a scalar has `dims: []`.

import { elemBits, elemTypeCode } from "./elemTypes.js";
import { halfToNumber } from "./float16.js";

export interface ElemArrays {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int8: Int8Array;
  int16: Int16Array;
  int32: Int32Array;
  int64: BigInt64Array;
  uint8: Uint8Array;
  uint16: Uint16Array;
  uint32: Uint32Array;
  uint64: BigUint64Array;
  bool: Uint8Array;
}

export type ElemName = keyof ElemArrays;
export type TypedArray = ElemArrays[ElemName];

export interface Tensor<T extends ElemName = ElemName> {
  type: T;
  dims: number[];
  data: ElemArrays[T];
}

export const ELEM_NAMES: readonly ElemName[] = [
  "float32", "float64", "float16", "int8", "int16", "int32", "int64",
  "uint8", "uint16", "uint32", "uint64", "bool",
];

/** Bytes per element (from the element-type table). */
export const ELEM_SIZE = Object.fromEntries(ELEM_NAMES.map((name) => [name, elemBits(elemTypeCode(name)!)! / 8])) as Record<ElemName, number>;

export function isElemName(name: string): name is ElemName {
  return Object.prototype.hasOwnProperty.call(ELEM_SIZE, name);
}

/** A fresh zero-filled array of `length` elements of `type`. */
export function allocate<T extends ElemName>(type: T, length: number): ElemArrays[T] {
  return viewOf(type, new ArrayBuffer(length * ELEM_SIZE[type]), 0, length);
}

/** A typed-array view of `type` over `buffer` (offset must be aligned to the element size). */
export function viewOf<T extends ElemName>(type: T, buffer: ArrayBuffer, byteOffset: number, length: number): ElemArrays[T] {
  const make = (): TypedArray => {
    switch (type as ElemName) {
      case "float32": return new Float32Array(buffer, byteOffset, length);
      case "float64": return new Float64Array(buffer, byteOffset, length);
      case "float16": return new Uint16Array(buffer, byteOffset, length);
      case "int8": return new Int8Array(buffer, byteOffset, length);
      case "int16": return new Int16Array(buffer, byteOffset, length);
      case "int32": return new Int32Array(buffer, byteOffset, length);
      case "int64": return new BigInt64Array(buffer, byteOffset, length);
      case "uint8": return new Uint8Array(buffer, byteOffset, length);
      case "uint16": return new Uint16Array(buffer, byteOffset, length);
      case "uint32": return new Uint32Array(buffer, byteOffset, length);
      case "uint64": return new BigUint64Array(buffer, byteOffset, length);
      case "bool": return new Uint8Array(buffer, byteOffset, length);
    }
  };
  return make() as ElemArrays[T];
}

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** The elements of a tensor as JavaScript numbers (float16 decoded, 64-bit integers rounded). */
export function toNumbers(tensor: Tensor): Float64Array {
  const n = tensor.data.length;
  const out = new Float64Array(n);
  const data = tensor.data;
  if (tensor.type === "float16") {
    for (let i = 0; i < n; i++) out[i] = halfToNumber((data as Uint16Array)[i]!);
  } else if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) out[i] = Number(data[i]!);
  } else {
    out.set(data as Exclude<TypedArray, BigInt64Array | BigUint64Array>);
  }
  return out;
}

/** `float32[2, 3]`, `int64[]`. */
export function describeTensor(tensor: { type: string; dims: readonly number[] }): string {
  return `${tensor.type}[${tensor.dims.join(", ")}]`;
}
