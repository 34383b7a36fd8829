// The compiler driver: parse → load model → resolve → splice → check → optimize → emit, each
// stage a function from data to data (see `compile`). Results are data — `{ model, manifest,
// diagnostics }` — and `compileOrThrow` wraps it.
//
// Unlike STYLE.md's "parse → resolve → lower → splice → check → emit", lowering and splicing are
// not stages after resolution: a statement must see the graph as the statements before it left it
// (a read after a patch reads the patched value), so resolve/ calls lower/ and splice/ as it
// reaches each statement. Their code still lives in those folders; the splice stage here finishes
// what needs the whole script (the model's outputs get their names back).

import { diagnostic, DiagnosticError, hasErrors, type Diagnostic, type Manifest } from "../common/index.js";
import { parse, type Script } from "../grammar/index.js";
import { check } from "./check/index.js";
import { emit } from "./emit.js";
import { readScriptFiles } from "./files.js";
import { checkSourceSize, DEFAULT_LIMITS, type Limits } from "./limits.js";
import { loadModel, prepareModel, type LoadedModel } from "./model.js";
import { freezeKeptNodes, type ModelProto } from "./onnx/index.js";
import { optimize } from "./optimize/index.js";
import { buildPlan, type InterventionPlan } from "./plan.js";
import { resolve, type ResolveInput } from "./resolve/index.js";
import { splice } from "./splice/index.js";

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

/**
 * The pipeline, one line per stage: parse → load the model (and the files the script names) →
 * resolve (runs the script, lowering and splicing as it goes) → splice (finish) → check →
 * optimize → emit. Each stage takes the data the one before gave; a stage that finds errors ends
 * the pipeline with every diagnostic so far.
 */
export async function compile(options: CompileOptions): Promise<CompileResult> {
  const result = await run(options, "emit");
  // The unchanged nodes keep the bytes they were read from: frozen, so that no edit makes them lie.
  if (result.model) freezeKeptNodes(result.model);
  return result;
}

/**
 * `compile`, for a caller that writes the model it returns and edits nothing in it (`intv
 * compile`): the unchanged nodes keep their bytes without being frozen (onnx/keptEncoding.ts;
 * freezing them was 20 ms of a GPT-2 compile). Not in the package's API.
 */
export async function compileForWrite(options: CompileOptions): Promise<CompileResult> {
  return run(options, "emit");
}

/** What `checkScript` returns: `compile`'s diagnostics, sources and plan, without a model. */
export type CheckResult = Omit<CompileResult, "model" | "manifest">;

/**
 * Every diagnostic `compile` would report, without optimizing and emitting the model (`intv
 * check`): those two stages report nothing, and took a fifth of a check of the shipped example.
 */
export async function checkScript(options: CompileOptions): Promise<CheckResult> {
  const { diagnostics, sources, plan } = await run(options, "check");
  return { diagnostics, sources, plan };
}

/** The pipeline through its `last` stage. */
async function run(options: CompileOptions, last: "check" | "emit"): Promise<CompileResult> {
  checkOptions(options);
  const { source, filename } = options;
  const limits: Limits = { ...DEFAULT_LIMITS, ...options.limits };
  const sources = new Map([[filename, source]]);
  const result = (diagnostics: Diagnostic[], done: Partial<Pick<CompileResult, "model" | "manifest" | "plan">> = {}): CompileResult =>
    ({ model: done.model ?? null, manifest: done.manifest ?? null, diagnostics, sources, plan: done.plan ?? null });

  const tooLarge = checkSourceSize(source, filename, limits);
  if (tooLarge) return result([tooLarge]);
  const parsed = parse(source, filename);
  if (hasErrors(parsed.diagnostics)) return result(parsed.diagnostics);
  const loaded = await loadForScript(options, parsed.script, limits, last === "emit");
  const diagnostics = [...parsed.diagnostics, ...loaded.diagnostics];
  if (!loaded.input) return result(diagnostics);
  const resolution = resolve(loaded.input);
  diagnostics.push(...resolution.diagnostics);
  if (hasErrors(diagnostics)) return result(diagnostics);
  const plan = buildPlan(resolution);
  const spliced = splice(resolution);
  diagnostics.push(...check(spliced));
  if (hasErrors(diagnostics) || last === "check") return result(diagnostics, { plan });
  const { model, manifest } = emit(optimize(spliced), { filename, source });
  return result(diagnostics, { model, manifest, plan });
}

/**
 * The model, decoded, typed and checked (E0701, E0702), with its module tree; and the files the
 * script names (E0402). `input` is null when the model cannot be used.
 */
async function loadForScript(options: CompileOptions, script: Script, limits: Limits, writes: boolean): Promise<{ input: ResolveInput | null; diagnostics: Diagnostic[] }> {
  let loaded: LoadedModel;
  try {
    // Nodes keep their bytes only for a model that will be written, unfrozen: compile freezes them.
    loaded = prepareModel(await loadModel(options.model, writes ? "unfrozen" : false));
  } catch (e) {
    // Name the file: errors found after decoding (a duplicate name, a cycle) do not.
    const message = (e as Error).message;
    const file = typeof options.model === "string" && !message.startsWith(options.model) ? `${options.model}: ` : "";
    return { input: null, diagnostics: [diagnostic("E0701", `cannot read the model: ${file}${message}`)] };
  }
  if (loaded.ir.opset < MIN_OPSET) {
    return { input: null, diagnostics: [diagnostic("E0702", `the model uses ONNX opset ${loaded.ir.opset}; intv needs opset ${MIN_OPSET} or later`)] };
  }
  const diagnostics: Diagnostic[] = [];
  const files = await readScriptFiles(script, options.filename, options.allowPaths ?? [], diagnostics);
  return { input: { script, model: loaded.ir, tree: loaded.tree, files, limits }, diagnostics };
}

/** `compile`, throwing a DiagnosticError (carrying every diagnostic) when there are errors. */
export async function compileOrThrow(options: CompileOptions): Promise<CompileResult & { model: ModelProto; manifest: Manifest }> {
  const result = await compile(options);
  if (hasErrors(result.diagnostics) || !result.model || !result.manifest) throw new DiagnosticError(result.diagnostics);
  return result as CompileResult & { model: ModelProto; manifest: Manifest };
}
