// The manifest describes a compiled model: what the script saves, which params it takes, and
// which passes it runs. It is stored as JSON in the compiled model's `metadata_props` under
// MANIFEST_KEY, so a compiled `.onnx` file is self-describing and the runtime needs nothing else.

export const MANIFEST_KEY = "intv.manifest";
export const MANIFEST_FORMAT = "intv-manifest/1";

/** A dimension: a number when static, a symbolic name when named, null when unknown. */
export type Dim = number | string | null;

export interface TensorSpec {
  /** ONNX element type name in lowercase: float32, float16, int64, bool, ... */
  elemType: string;
  /** null when the rank is unknown. */
  shape: Dim[] | null;
}

export interface SaveEntry extends TensorSpec {
  /** Name as the user sees it: `mlp8`, `attn[3]`, `first.mlp8`. */
  name: string;
  /** The graph output that carries it. */
  output: string;
  /** The pass it belongs to (`main` for the default pass). */
  pass: string;
  /** Where in the script the save is written (1-based). */
  line: number;
  col: number;
}

export interface ParamEntry extends TensorSpec {
  name: string;
  /** The graph input that carries it. */
  input: string;
  /** True when the script gave a default (the input is then optional). */
  hasDefault: boolean;
}

export interface PassEntry {
  name: string;
  /** Model inputs this pass takes from elsewhere: `input_ids` ← param `corrupt_ids`. */
  overrides: { input: string; from: string }[];
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  compilerVersion: string;
  /** The script's file name as given to the compiler. */
  script: string;
  /** sha256 of the script source, hex. */
  sourceHash: string;
  passes: PassEntry[];
  saves: SaveEntry[];
  params: ParamEntry[];
  /** The original model's inputs and outputs; the compiled model keeps their names. */
  modelInputs: (TensorSpec & { name: string })[];
  modelOutputs: (TensorSpec & { name: string })[];
}

/** Node names of inserted nodes start with this and the script location: `intv/s.intv:12:3/Add`. */
export const NODE_NAME_PREFIX = "intv/";

export function parseManifest(json: string): Manifest {
  const value = JSON.parse(json) as Manifest;
  if (value === null || typeof value !== "object" || value.format !== MANIFEST_FORMAT) {
    throw new Error(`not an intv manifest (expected format \`${MANIFEST_FORMAT}\`)`);
  }
  return value;
}
