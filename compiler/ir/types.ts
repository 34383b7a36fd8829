// Element types and shapes as the IR sees them.

/** A dimension: a number when static, a symbolic name (`batch`) when named, null when unknown. */
export type Dim = number | string | null;

export interface ValueType {
  /** ONNX TensorProto.DataType code (1 = FLOAT, 7 = INT64, ...); 0 when unknown. */
  elemType: number;
  /** null when the rank is unknown. */
  shape: Dim[] | null;
}

export function sameDim(a: Dim, b: Dim): boolean {
  return a !== null && b !== null && a === b;
}

export function formatShape(shape: Dim[] | null): string {
  if (shape === null) return "[?...]";
  return `[${shape.map((d) => (d === null ? "?" : String(d))).join(", ")}]`;
}
