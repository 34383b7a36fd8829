// The compiler driver: parse → load model → resolve and lower → check → emit.
// Results are data — `{ model, manifest, diagnostics }` — and `compileOrThrow` wraps it.

import { parse } from "../grammar/index.js";
import { diagnostic, DiagnosticError, hasErrors, type Diagnostic, type Manifest } from "../common/index.js";
import { importModel, inferTypes, predecessorValues, toposort, type IrModel, type Node } from "./ir/index.js";
import { buildModuleTree, type ModuleTree } from "./modules/index.js";
import { readModelFile, decodeModel, OnnxFormatError, type ModelProto } from "./onnx/index.js";
import { Interpreter, DEFAULT_LIMITS, type Limits } from "./resolve/index.js";
import { checkCycles, laterPatchWarnings, removeDead, unreachedPatchWarnings, unusedParamWarnings } from "./check/index.js";
import { buildManifest, emitModel, restoreOutputNames } from "./emit.js";
import { readScriptFiles } from "./files.js";
import { buildPlan, type InterventionPlan } from "./plan.js";

export interface CompileOptions {
  /** The script's text. */
  source: string;
  /** The script's path: diagnostics name it, and `load`/`import` paths are relative to it. */
  filename: string;
  /** The model: a path to an .onnx file, its bytes, or a decoded ModelProto. */
  model: string | Uint8Array | ModelProto;
  /** Folders besides the script's own that `load` and `import` may read. */
  allowPaths?: string[];
  limits?: Partial<Limits>;
}

export interface CompileResult {
  model: ModelProto | null;
  manifest: Manifest | null;
  diagnostics: Diagnostic[];
  /** Source texts by file name, for rendering diagnostics. */
  sources: Map<string, string>;
  /** What the script reads, saves and patches, in execution order (for `intv graph`). */
  plan: InterventionPlan | null;
}

const OPTION_NAMES = new Set(["source", "filename", "model", "allowPaths", "limits"]);
const LIMIT_NAMES = new Set(Object.keys(DEFAULT_LIMITS));
export const MIN_OPSET = 13;

function checkOptions(options: CompileOptions): void {
  if (options === null || typeof options !== "object") throw new TypeError("compile: options must be an object");
  for (const key of Object.keys(options)) if (!OPTION_NAMES.has(key)) throw new TypeError(`compile: unknown option \`${key}\``);
  for (const key of Object.keys(options.limits ?? {})) if (!LIMIT_NAMES.has(key)) throw new TypeError(`compile: unknown limit \`${key}\``);
  if (typeof options.source !== "string") throw new TypeError("compile: `source` must be a string");
  if (typeof options.filename !== "string") throw new TypeError("compile: `filename` must be a string");
}

/** A model ready for the compiler: IR with types, and its module tree. */
export interface LoadedModel {
  ir: IrModel;
  tree: ModuleTree;
}

export async function loadModel(model: CompileOptions["model"]): Promise<ModelProto> {
  if (typeof model === "string") return (await readModelFile(model)).model;
  if (model instanceof Uint8Array) return decodeModel(model);
  return model;
}

export function prepareModel(proto: ModelProto): LoadedModel {
  const ir = importModel(proto);
  // A graph that is cyclic already is not a valid model: say so here, or the cycle check blamed
  // the script's patches for it (found by test/reliability-models.test.ts).
  const { cyclic } = toposort(ir.graph);
  if (cyclic.length > 0) {
    const node = nodeOnCycle(cyclic);
    throw new OnnxFormatError(`the graph has a cycle: node \`${node.proto.name || node.proto.op_type}\` depends on its own output; a valid ONNX graph has none`);
  }
  inferTypes(ir.graph);
  return { ir, tree: buildModuleTree(ir) };
}

/** A node on a cycle, given the nodes a topological sort left over (on or behind a cycle). */
function nodeOnCycle(cyclic: Node[]): Node {
  const left = new Set(cyclic);
  const seen = new Set<Node>();
  let node = cyclic[0]!;
  while (!seen.has(node)) {
    seen.add(node);
    const from = [...predecessorValues(node)].map((v) => v.producer).find((p): p is Node => !!p && left.has(p));
    if (!from) break;
    node = from;
  }
  return node;
}

export async function compile(options: CompileOptions): Promise<CompileResult> {
  checkOptions(options);
  const { source, filename } = options;
  const sources = new Map([[filename, source]]);
  let plan: InterventionPlan | null = null;
  const done = (diagnostics: Diagnostic[], model: ModelProto | null = null, manifest: Manifest | null = null): CompileResult => ({ model, manifest, diagnostics, sources, plan });
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };

  // size: a script past the limit is not parsed at all
  if (Buffer.byteLength(source, "utf8") > limits.maxSourceBytes) {
    return done([diagnostic("E0405", `the script \`${filename}\` is larger than the limit of ${limits.maxSourceBytes} bytes`)]);
  }

  // parse
  const parsed = parse(source, filename);
  const diagnostics = [...parsed.diagnostics];
  if (hasErrors(diagnostics)) return done(diagnostics);

  // load the model and the files the script names
  let proto: ModelProto;
  let loaded: LoadedModel;
  try {
    proto = await loadModel(options.model);
    loaded = prepareModel(proto);
  } catch (e) {
    // Name the file: errors found after decoding (a duplicate name, a cycle) do not.
    const message = (e as Error).message;
    const file = typeof options.model === "string" && !message.startsWith(options.model) ? `${options.model}: ` : "";
    return done([...diagnostics, diagnostic("E0701", `cannot read the model: ${file}${message}`)]);
  }
  if (loaded.ir.opset < MIN_OPSET) {
    return done([...diagnostics, diagnostic("E0702", `the model uses ONNX opset ${loaded.ir.opset}; intv needs opset ${MIN_OPSET} or later`)]);
  }
  const files = await readScriptFiles(parsed.script, filename, options.allowPaths ?? [], diagnostics);

  // resolve and lower
  const { ir, tree } = loaded;
  const modelInputs = ir.graph.inputs.filter((v) => !v.initializer);
  const modelOutputs = [...ir.graph.outputs];
  const interp = new Interpreter({ script: parsed.script, model: ir, tree, files, limits });
  interp.run();
  diagnostics.push(...interp.diagnostics);
  if (hasErrors(diagnostics)) return done(diagnostics);
  plan = buildPlan(interp, tree);
  restoreOutputNames(ir.graph, modelOutputs, interp.b);

  // check
  const copies = new Map<import("./ir/index.js").Node, import("./ir/index.js").Node>();
  for (const p of interp.passes) if (p.copy) for (const [orig, c] of p.copy.nodes) copies.set(c, orig);
  const cycles = checkCycles(ir.graph, interp.patches, interp.reads, tree, copies);
  if (cycles.length > 0) return done([...diagnostics, ...cycles]);
  diagnostics.push(...laterPatchWarnings(ir.graph, interp.patches, interp.reads));
  diagnostics.push(...unreachedPatchWarnings(ir.graph, interp.patches));
  removeDead(ir.graph, interp.originalNodes);
  diagnostics.push(...unusedParamWarnings(interp.params));

  // emit
  const manifest = buildManifest(interp, ir, filename, source, modelInputs, modelOutputs);
  return done(diagnostics, emitModel(ir, manifest), manifest);
}

/** `compile`, throwing a DiagnosticError (carrying every diagnostic) when there are errors. */
export async function compileOrThrow(options: CompileOptions): Promise<CompileResult & { model: ModelProto; manifest: Manifest }> {
  const result = await compile(options);
  if (hasErrors(result.diagnostics) || !result.model || !result.manifest) throw new DiagnosticError(result.diagnostics);
  return result as CompileResult & { model: ModelProto; manifest: Manifest };
}
