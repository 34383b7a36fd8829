// What `intv run` does (its definition, options and help are in run.ts): compile the script or
// take the compiled model, run it once or over a dataset (runDataset.ts), write the .npy files and
// the summary. Also the helpers `intv generate` shares.

import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { DiagnosticError, hasErrors, type Manifest, MANIFEST_KEY, nodeCrypto, parseManifest } from "../../common/index.js";
import type { ModelProto } from "../../compiler/index.js";
import {
  DatasetError, ModelLoadError, NpyError, RuntimeInputError, Runtime, loadCompiled,
  readModelInfoFromFile, readNpy, saveFileStem, writeNpy,
  type InputSpec, type InputValue, type RunResult, type RuntimeOptions, type Tensor,
} from "../../runtime/index.js";
import { requireOnnxRuntime } from "../../runtime/index.js";
import { UsageError, type ParsedArgs } from "../args.js";
import { compileOptionsFrom } from "../compileOptions.js";
import { CliError, EXIT, Progress, fail, printDiagnostics, type Io } from "../output.js";
import { formatSummary, summarize, type TensorSummary } from "../summary.js";
import { datasetOptionGiven, runDatasetCommand, type ModelSource } from "./runDataset.js";

export { saveFileStem };

export interface Assignment {
  flag: "input" | "param";
  name: string;
  value: string;
}

export async function runModel(args: ParsedArgs, io: Io): Promise<number> {
  const target = args.positionals[0]!;
  const compiled = /\.onnx$/i.test(target);
  const model = args.string("model");
  if (compiled && model !== undefined) throw new UsageError(`\`${target}\` is already compiled; --model is only for scripts`);
  if (!compiled && model === undefined) throw new UsageError("missing option `--model MODEL.onnx` (the model to compile the script against)");
  const outDir = args.string("out")!;
  const threads = args.positiveInt("threads");
  const assignments = [
    ...args.strings("input").map((a) => assignment("input", a)),
    ...args.strings("param").map((a) => assignment("param", a)),
  ];
  const dataset = args.strings("inputs").length > 0;
  const datasetOnly = datasetOptionGiven(args);
  if (!dataset && datasetOnly !== undefined) throw new UsageError(`--${datasetOnly} is for dataset runs: give --inputs too`);

  const progress = new Progress(io);
  let runtime: Runtime | undefined;
  let sources = new Map<string, string>();
  try {
    // Before compiling: without onnxruntime-node, say how to install it, and nothing else.
    await requireOnnxRuntime();
    const values = await loadValues(assignments);
    const options: RuntimeOptions = threads === undefined ? {} : { intraOpNumThreads: threads };
    // onnxruntime's intra-op threads spin between operators by default, which on a machine whose
    // cores are busy with other jobs takes their time slices from the work (OMP_WAIT_POLICY=PASSIVE
    // is PyTorch's counterpart).
    if (args.flag("no-spin")) options.extra = { "session.intra_op.allow_spinning": "0" };
    if (dataset) {
      let source: ModelSource;
      if (compiled) {
        const script = compiledScript(target);
        if (script) sources = new Map([script]);
        source = { kind: "file", path: target };
        if (script) Object.assign(options, { sources });
      } else {
        progress.update("compiling");
        const result = await compileScript(io, args);
        if (!result) return EXIT.rejected;
        sources = result.sources;
        // Worker threads each load the model, so it goes to them encoded, as bytes.
        const { encodeModel } = await import("../../compiler/index.js");
        source = { kind: "bytes", bytes: encodeModel(result.model), script: target, externalDataDir: dirname(model!), model: model! };
        options.sources = result.sources;
      }
      return await runDatasetCommand(io, args, source, options, values, progress, (inputs) => checkParams(inputs, assignments));
    }
    const loaded = await loadForRun(io, args, target, compiled, model, options, progress, (s) => (sources = s));
    if (!loaded) return EXIT.rejected;
    runtime = loaded;
    checkParams(runtime.inputs, assignments);

    progress.update("running");
    const result = await runtime.run(values);

    progress.update("writing");
    const summary = await writeResults(outDir, result);
    progress.done();
    if (args.flag("json")) io.stdout.write(`${JSON.stringify({ out: outDir, tensors: summary }, null, 2)}\n`);
    else io.stdout.write(formatSummary(summary));
    return EXIT.ok;
  } catch (e) {
    progress.done();
    return reportFailure(io, e, sources, [DatasetError]);
  } finally {
    progress.done();
    await runtime?.release();
  }
}

export function assignment(flag: Assignment["flag"], text: string): Assignment {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new UsageError(`--${flag} expects NAME=FILE.npy or NAME=JSON, got \`${text}\``);
  return { flag, name: text.slice(0, eq), value: text.slice(eq + 1) };
}

/** A value is inline JSON when it looks like a JSON array, number or boolean; otherwise a .npy path. */
function looksLikeJson(value: string): boolean {
  const v = value.trim();
  return !/\.npy$/i.test(v) && /^(\[|-?\.?\d|true$|false$)/.test(v);
}

async function loadValue(what: string, value: string, baseDir = "."): Promise<InputValue> {
  if (looksLikeJson(value)) {
    try {
      return JSON.parse(value) as InputValue;
    } catch (e) {
      throw new CliError(`${what}: \`${value}\` is not valid JSON (${(e as Error).message})`);
    }
  }
  try {
    return await readNpy(resolve(baseDir, value));
  } catch (e) {
    if (e instanceof NpyError) throw new CliError(`${what}: ${e.message.replace(resolve(baseDir, value), value)}`);
    throw e;
  }
}

export async function loadValues(assignments: readonly Assignment[]): Promise<Record<string, InputValue>> {
  const values: Record<string, InputValue> = {};
  for (const a of assignments) {
    if (Object.prototype.hasOwnProperty.call(values, a.name)) throw new UsageError(`\`${a.name}\` is given more than once`);
    values[a.name] = await loadValue(`${a.flag} \`${a.name}\``, a.value);
  }
  return values;
}

/** `--param NAME` must name one of the script's params. */
export function checkParams(inputs: readonly InputSpec[], assignments: readonly Assignment[]): void {
  const params = inputs.filter((s) => s.kind === "param");
  const problems: string[] = [];
  for (const a of assignments) {
    if (a.flag !== "param" || params.some((p) => p.name === a.name || p.input === a.name)) continue;
    const list = params.length ? `; its params are ${params.map((p) => `\`${p.name}\``).join(", ")}` : "; it has no params";
    const isInput = inputs.some((s) => s.name === a.name);
    problems.push(`\`${a.name}\` is not a param of this script${isInput ? " (it is a model input: use --input)" : list}`);
  }
  if (problems.length) throw new RuntimeInputError(problems);
}

/**
 * A failure of a command that runs a model (`run`, `generate`) as the user sees it: diagnostics
 * with their script lines, the errors of bad input in one line (exit status 1); anything else is
 * a bug, and propagates with its stack.
 */
export function reportFailure(io: Io, e: unknown, sources: Map<string, string>, alsoExpected: readonly (new (...args: never[]) => Error)[]): number {
  if (e instanceof DiagnosticError) {
    printDiagnostics(io, e.diagnostics, sources);
    return EXIT.rejected;
  }
  const expected = [CliError, NpyError, ModelLoadError, RuntimeInputError, ...alsoExpected];
  if (e instanceof Error && expected.some((kind) => e instanceof kind)) return fail(io, e.message);
  throw e;
}

/**
 * The runtime of one run (`intv run`, `intv generate`): the compiled model `target` as it is, with
 * its script's text when that is still there unchanged (a run-time failure then shows its line),
 * or the script compiled against `model` and loaded with its weights referenced from the model
 * file. `noteSources` gets the script texts before the model loads, for the report of a failure.
 * Null when the script does not compile (its diagnostics are printed).
 */
export async function loadForRun(
  io: Io, args: ParsedArgs, target: string, compiled: boolean, model: string | undefined, options: RuntimeOptions, progress: Progress,
  noteSources: (sources: Map<string, string>) => void,
): Promise<Runtime | null> {
  if (compiled) {
    progress.update("loading the model");
    const script = compiledScript(target);
    if (!script) return Runtime.load(target, options);
    const sources = new Map([script]);
    noteSources(sources);
    return Runtime.load(target, { ...options, sources });
  }
  progress.update("compiling");
  const result = await compileScript(io, args);
  if (!result) return null;
  noteSources(result.sources);
  progress.update("loading the model");
  // A script is compiled against --model, which compileScript required.
  return loadCompiled(result.model, model!, { ...options, sources: result.sources, externalDataDir: dirname(model!) });
}

export async function compileScript(io: Io, args: ParsedArgs): Promise<{ model: ModelProto; sources: Map<string, string> } | null> {
  const options = await compileOptionsFrom(args);
  // Loaded here so that running a compiled model needs none of the compiler.
  const { compile } = await import("../../compiler/index.js");
  const result = await compile(options);
  printDiagnostics(io, result.diagnostics, result.sources);
  if (hasErrors(result.diagnostics) || !result.model) return null;
  return { model: result.model, sources: result.sources };
}

/**
 * The script a compiled model was made from, as [file name, text], when it is still on disk
 * unchanged (its hash matches the manifest's); looked up as named and next to the model.
 */
export function compiledScript(model: string): [string, string] | undefined {
  let manifest: Manifest;
  try {
    const json = readModelInfoFromFile(model).metadata.get(MANIFEST_KEY);
    if (json === undefined) return undefined;
    manifest = parseManifest(json);
  } catch {
    return undefined; // Runtime.load reports what is wrong with the model
  }
  for (const path of [manifest.script, join(dirname(model), manifest.script)]) {
    try {
      const text = readFileSync(path, "utf8");
      if (nodeCrypto().createHash("sha256").update(text).digest("hex") === manifest.sourceHash) return [manifest.script, text];
    } catch {
      // not there; try the next place
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Writing

async function writeResults(outDir: string, result: RunResult): Promise<TensorSummary[]> {
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create the output folder \`${outDir}\`: ${(e as Error).message}`);
  }
  const used = new Set<string>();
  const unique = (stem: string): string => {
    let name = stem;
    for (let k = 2; used.has(name); k++) name = `${stem}_${k}`;
    used.add(name);
    return `${name}.npy`;
  };
  const rows: TensorSummary[] = [];
  const write = async (kind: TensorSummary["kind"], name: string, stem: string, tensor: Tensor): Promise<void> => {
    const file = join(outDir, unique(stem));
    try {
      await writeNpy(file, tensor);
    } catch (e) {
      if (e instanceof NpyError) throw new CliError(e.message);
      throw e;
    }
    rows.push(summarize(kind, name, file, tensor));
  };
  for (const [name, tensor] of result.saves) await write("save", name, saveFileStem(name), tensor);
  for (const [name, tensor] of result.outputs) await write("output", name, `output.${saveFileStem(name)}`, tensor);
  return rows;
}
