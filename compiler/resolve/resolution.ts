// What resolution takes and gives: the script, the model and the files it names in; the model's
// graph lowered and spliced as the script ran, and the records of what it read, saved, patched
// and declared, out. Plain data: the later stages (splice, check, optimize, emit, the plan) read
// only this.

import type { Diagnostic, Span } from "../../common/index.js";
import type { Script } from "../../grammar/index.js";
import type { IrModel, Node, Value } from "../ir/index.js";
import type { Limits } from "../limits.js";
import type { ModuleTree } from "../modules/index.js";
import type { ModelProto, TensorProto } from "../onnx/index.js";
import type { PassState, PatchRecord } from "../splice/index.js";

/** Files the script names (`load`, `import`), read before resolution starts (compiler/files.ts). */
export type LoadedFile = { kind: "npy"; tensor: TensorProto } | { kind: "onnx"; model: ModelProto } | { kind: "error" };

export interface ResolveInput {
  script: Script;
  model: IrModel;
  tree: ModuleTree;
  /** Files by the path written in the script. */
  files: Map<string, LoadedFile>;
  limits: Limits;
}

/** A place of the model the script read, in program order (`seq`). */
export interface ReadRecord {
  seq: number;
  span: Span;
  display: string;
  value: Value;
  pass: PassState;
}

export interface SaveRecord {
  name: string;
  pass: PassState;
  value: Value;
  /** The graph output that carries it. */
  output: Value;
  span: Span;
  seq: number;
}

export interface ParamRecord {
  name: string;
  /** The graph input that carries it. */
  input: Value;
  hasDefault: boolean;
  span: Span;
}

export interface Resolution {
  /** The model, its graph lowered and spliced as the script ran. */
  model: IrModel;
  tree: ModuleTree;
  /** Every pass, in the order they ran (the default pass `main` first when there is one). */
  passes: PassState[];
  reads: ReadRecord[];
  saves: SaveRecord[];
  patches: PatchRecord[];
  params: ParamRecord[];
  /** The model's own nodes, inputs (without initializers) and outputs, before the script changed anything. */
  original: { nodes: Set<Node>; inputs: Value[]; outputs: Value[] };
  diagnostics: Diagnostic[];
}
