// ONNX element types: the one table of codes (`TensorProto.DataType`), the lowercase names used in
// manifests, messages and scripts (NumPy/PyTorch style: `float32`, not `FLOAT`), and bit widths.
// The codec, the compiler and the runtime all read it from here.

/** `TensorProto.DataType` (all values of IR version 13). */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, STRING: 8, BOOL: 9,
  FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14, COMPLEX128: 15, BFLOAT16: 16,
  FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19, FLOAT8E5M2FNUZ: 20,
  UINT4: 21, INT4: 22, FLOAT4E2M1: 23, FLOAT8E8M0: 24, UINT2: 25, INT2: 26,
} as const;

export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/**
 * Element types by code: the lowercase name used in manifests and messages (numpy/PyTorch
 * style: `float32`, not `FLOAT`) and the bits one element takes in `raw_data` (`undefined` for
 * `string`, which has no fixed width). Sub-byte types pack several elements into a byte.
 */
export const ELEM_TYPES: readonly { readonly code: number; readonly name: string; readonly bits: number | undefined }[] = [
  { code: 1, name: "float32", bits: 32 },
  { code: 2, name: "uint8", bits: 8 },
  { code: 3, name: "int8", bits: 8 },
  { code: 4, name: "uint16", bits: 16 },
  { code: 5, name: "int16", bits: 16 },
  { code: 6, name: "int32", bits: 32 },
  { code: 7, name: "int64", bits: 64 },
  { code: 8, name: "string", bits: undefined },
  { code: 9, name: "bool", bits: 8 },
  { code: 10, name: "float16", bits: 16 },
  { code: 11, name: "float64", bits: 64 },
  { code: 12, name: "uint32", bits: 32 },
  { code: 13, name: "uint64", bits: 64 },
  { code: 14, name: "complex64", bits: 64 },
  { code: 15, name: "complex128", bits: 128 },
  { code: 16, name: "bfloat16", bits: 16 },
  { code: 17, name: "float8e4m3fn", bits: 8 },
  { code: 18, name: "float8e4m3fnuz", bits: 8 },
  { code: 19, name: "float8e5m2", bits: 8 },
  { code: 20, name: "float8e5m2fnuz", bits: 8 },
  { code: 21, name: "uint4", bits: 4 },
  { code: 22, name: "int4", bits: 4 },
  { code: 23, name: "float4e2m1", bits: 4 },
  { code: 24, name: "float8e8m0", bits: 8 },
  { code: 25, name: "uint2", bits: 2 },
  { code: 26, name: "int2", bits: 2 },
];

const byCode = new Map(ELEM_TYPES.map((e) => [e.code, e]));
const byName = new Map(ELEM_TYPES.map((e) => [e.name, e]));

/** `float32` for 1; `undefined` for UNDEFINED (0) and codes this schema does not know. */
export function elemTypeName(code: number): string | undefined {
  return byCode.get(code)?.name;
}

/** 1 for `float32`; `undefined` for names that are not element types. */
export function elemTypeCode(name: string): number | undefined {
  return byName.get(name)?.code;
}

/** Bits per element (4 for int4, 2 for int2); `undefined` for `string` and unknown codes. */
export function elemBits(code: number): number | undefined {
  return byCode.get(code)?.bits;
}

/** Element types as a script writes them in help texts, in the order they are listed. */
export const SCRIPT_ELEM_TYPE_NAMES: readonly string[] = ["float32", "float16", "float64", "bfloat16", "int64", "int32", "int8", "uint8", "bool"];

/** `float32` for 1, `type 99` for a code this table does not know (for messages). */
export function elemTypeLabel(code: number): string {
  return elemTypeName(code) ?? `type ${code}`;
}
