// Runtime: load a compiled model with onnxruntime-node, run it once per call, and hand back the
// model's outputs and the script's saves by name. onnxruntime-node is loaded by `Runtime.load`
// (ort.ts), not when this module is imported: it is an optional peer dependency.
//
// The manifest stored in the model's metadata says which graph outputs are saves (and their
// names in the script) and which graph inputs are params. A model without a manifest runs as a
// plain model: every graph output is an output, every graph input an input.

import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import type { InferenceSession, Tensor as OrtTensor } from "onnxruntime-node";
import { MANIFEST_KEY, PROMPT_LENGTH_INPUT, isElemName, parseManifest, type Manifest, type Tensor } from "../common/index.js";
import { OnnxFormatError } from "../compiler/model.js";
import { detachInitializers } from "./defaults.js";
import { withOnlyOutputs } from "./prune.js";
import { planGeneration, runGeneration, type GenerateOptions, type GenerationEngine, type GenerationStep, type OrtModule } from "./generate.js";
import { ModelLoadError, RuntimeDiagnosticError, RuntimeInputError, cleanOrtMessage, diagnoseRunError } from "./errors.js";
import { prepareInputs, type InputSpec, type InputValue } from "./inputs.js";
import { readModelInfo, readModelInfoFromFile, type ModelInfo, type ValueInfo } from "./model-info.js";
import { loadOnnxRuntime, type OnnxRuntime } from "./ort.js";

/**
 * An onnxruntime execution provider: a name (`"cpu"`, `"cuda"`) or a name with its options
 * (`{ name: "cuda", deviceId: 1 }`), as onnxruntime-node takes them. Declared here so that intv's
 * types do not need onnxruntime-node installed.
 */
export type ExecutionProvider = string | { readonly name: string; readonly [option: string]: unknown };

export interface RuntimeOptions {
  /** Threads used inside one operator (onnxruntime's default when absent). */
  intraOpNumThreads?: number;
  /** Threads used across operators. */
  interOpNumThreads?: number;
  /** Execution providers in order of preference, e.g. `["cpu"]`. */
  executionProviders?: readonly ExecutionProvider[];
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "layout" | "all";
  /** onnxruntime's log level for this session: 0 verbose … 4 fatal. Default 4 (failures are reported as errors). */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** Extra session config entries, passed to onnxruntime as is (`{ "session.use_env_allocators": "1" }`). */
  extra?: Record<string, unknown>;
  /** For a model given as bytes: the folder its external data files are in (paths are relative to it). */
  externalDataDir?: string;
  /** Script sources (file → text); lets a run-time failure point at the exact script text. */
  sources?: ReadonlyMap<string, string>;
  /**
   * Load the model without its own outputs, so that onnxruntime skips what only they need; `run`
   * then returns the saves alone. For a model with a manifest.
   */
  savesOnly?: boolean;
}

export interface RunOptions {
  /** onnxruntime's log level for this run: 0 verbose … 4 fatal. */
  logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
  /** A tag for onnxruntime's logs. */
  tag?: string;
  /** False: fetch only the saves (the model's outputs are not copied out of onnxruntime). Default true. */
  outputs?: boolean;
}

export interface RunResult {
  /** The model's own outputs, by graph output name, in graph order. */
  outputs: Map<string, Tensor>;
  /** The script's saves, by the name used in the script (`attn[3]`, `first.mlp8`), in manifest order. */
  saves: Map<string, Tensor>;
}

const RUNTIME_OPTION_KEYS = [
  "intraOpNumThreads", "interOpNumThreads", "executionProviders", "graphOptimizationLevel",
  "logSeverityLevel", "extra", "externalDataDir", "sources", "savesOnly",
] as const;
/** onnxruntime's session config key for where a model loaded from bytes finds its external data. */
const EXTERNAL_DATA_FOLDER = "session.model_external_initializers_file_folder_path";

const RUN_OPTION_KEYS = ["logSeverityLevel", "tag", "outputs"] as const;

export class Runtime {
  private constructor(
    private readonly ort: OnnxRuntime,
    private readonly session: InferenceSession,
    /** The manifest stored in the model; null for a plain model. */
    readonly manifest: Manifest | null,
    /** Everything the model takes, in graph order (model inputs and params). */
    readonly inputs: readonly InputSpec[],
    /** The model's own outputs (graph outputs that are not saves). */
    readonly outputs: readonly ValueInfo[],
    private readonly sources: ReadonlyMap<string, string> | undefined,
    /** Defaults of params, fed when the caller gives none (by graph input name). */
    private readonly defaults: ReadonlyMap<string, Tensor>,
    /** Inputs backed by an initializer that onnxruntime-node does not let a caller feed. */
    private readonly fixed: ReadonlySet<string>,
  ) {}

  /**
   * Load a compiled model from a path (external data is then found next to it) or from bytes.
   * Throws ModelLoadError when the model cannot be read or loaded.
   */
  static async load(model: string | Uint8Array, options: RuntimeOptions = {}): Promise<Runtime> {
    checkOptions("runtime option", options, RUNTIME_OPTION_KEYS);
    const ort = await loadOnnxRuntime();
    const what = typeof model === "string" ? `\`${model}\`` : "from bytes";
    let info: ModelInfo;
    try {
      info = typeof model === "string" ? readModelInfoFromFile(model) : readModelInfo(model);
    } catch (e) {
      throw new ModelLoadError(`cannot read model ${what}: ${describeLoadError(e)}`);
    }
    let manifest: Manifest | null = null;
    const manifestJson = info.metadata.get(MANIFEST_KEY);
    if (manifestJson !== undefined) {
      try {
        manifest = parseManifest(manifestJson);
      } catch (e) {
        throw new ModelLoadError(`model ${what} has a bad \`${MANIFEST_KEY}\` entry: ${(e as Error).message}`);
      }
    }
    for (const o of info.outputs) {
      if (o.elemType !== null && !isElemName(o.elemType)) {
        throw new ModelLoadError(`model ${what}: output \`${o.name}\` has element type ${o.elemType}, which intv's runtime does not support`);
      }
    }
    const graphOutputs = new Set(info.outputs.map((o) => o.name));
    for (const save of manifest?.saves ?? []) {
      if (!graphOutputs.has(save.output)) {
        throw new ModelLoadError(`model ${what}: its manifest lists save \`${save.name}\` as graph output \`${save.output}\`, which the graph does not have`);
      }
    }

    // Params with a default are initializers onnxruntime-node will not let us feed: take them out.
    const defaulted = new Set((manifest?.params ?? []).filter((p) => p.hasDefault && info.initializers.has(p.input)).map((p) => p.input));
    // So is the prompt length generation feeds (docs/language.md, Generation), an input with a default.
    if (info.initializers.has(PROMPT_LENGTH_INPUT) && info.inputs.some((i) => i.name === PROMPT_LENGTH_INPUT)) defaulted.add(PROMPT_LENGTH_INPUT);
    let defaults = new Map<string, Tensor>();
    let load: string | Uint8Array = model;
    let loadOptions = options;
    if (defaulted.size > 0) {
      try {
        const bytes = typeof model === "string" ? await readFile(model) : model;
        const detached = detachInitializers(bytes, defaulted);
        load = detached.model;
        defaults = detached.values;
      } catch (e) {
        throw new ModelLoadError(`cannot read model ${what}: ${describeLoadError(e)}`);
      }
      if (typeof model === "string" && options.externalDataDir === undefined) {
        loadOptions = { ...options, externalDataDir: dirname(model) };
      }
    }
    const fixed = new Set([...info.initializers].filter((name) => !defaulted.has(name)));
    const saveOutputs = new Set((manifest?.saves ?? []).map((s) => s.output));
    const savesOnly = options.savesOnly === true && manifest !== null;
    if (savesOnly) {
      try {
        load = withOnlyOutputs(typeof load === "string" ? await readFile(load) : load, saveOutputs);
      } catch (e) {
        throw new ModelLoadError(`cannot read model ${what}: ${describeLoadError(e)}`);
      }
      if (typeof model === "string" && loadOptions.externalDataDir === undefined) loadOptions = { ...loadOptions, externalDataDir: dirname(model) };
    }

    let session: InferenceSession;
    try {
      session = typeof load === "string"
        ? await ort.InferenceSession.create(load, sessionOptions(loadOptions))
        : await ort.InferenceSession.create(load, sessionOptions(loadOptions));
    } catch (e) {
      // Without onnxruntime's source location and C++ signature (a model with a newer IR version
      // printed 300 characters of them before the reason; found by test/reliability-models.test.ts).
      throw new ModelLoadError(`cannot load model ${what} in onnxruntime: ${cleanOrtMessage((e as Error).message ?? String(e))}`);
    }
    // The model's own outputs: those the manifest lists, plus any graph output that carries no save.
    const modelOutputs = new Set((manifest?.modelOutputs ?? []).map((o) => o.name));
    return new Runtime(
      ort,
      session,
      manifest,
      inputSpecs(info, manifest),
      savesOnly ? [] : info.outputs.filter((o) => modelOutputs.has(o.name) || !saveOutputs.has(o.name)),
      options.sources,
      defaults,
      fixed,
    );
  }

  /** Names of the saves, in manifest order. */
  get saveNames(): string[] {
    return (this.manifest?.saves ?? []).map((s) => s.name);
  }

  /**
   * Run the model once. Inputs are keyed by graph input name, params by their name in the script.
   * Throws RuntimeInputError (before running) when inputs are missing, unknown or of the wrong
   * type or shape, and RuntimeDiagnosticError when onnxruntime fails while running.
   */
  async run(inputs: Readonly<Record<string, InputValue>>, options: RunOptions = {}): Promise<RunResult> {
    checkOptions("run option", options, RUN_OPTION_KEYS);
    const { feeds, problems } = prepareInputs(this.inputs, inputs);
    for (const spec of this.inputs) {
      if (feeds.has(spec.input) && this.fixed.has(spec.input)) {
        problems.push(`${spec.kind} \`${spec.name}\` has a value stored in the model (an initializer), which onnxruntime-node does not let a caller override`);
      }
    }
    if (problems.length > 0) throw new RuntimeInputError(problems);
    for (const [input, value] of this.defaults) if (!feeds.has(input)) feeds.set(input, value);
    const ortFeeds: Record<string, OrtTensor> = {};
    for (const [name, t] of feeds) ortFeeds[name] = new this.ort.Tensor(t.type, t.data, t.dims);

    let results: InferenceSession.ReturnType;
    try {
      results = options.outputs === false
        ? await this.session.run(ortFeeds, (this.manifest?.saves ?? []).map((s) => s.output), runOptions(options))
        : await this.session.run(ortFeeds, runOptions(options));
    } catch (e) {
      throw new RuntimeDiagnosticError([diagnoseRunError(e, this.sources)]);
    }
    const outputs = new Map<string, Tensor>();
    if (options.outputs !== false) for (const o of this.outputs) outputs.set(o.name, fromOrt(o.name, results[o.name]));
    const saves = new Map<string, Tensor>();
    for (const s of this.manifest?.saves ?? []) saves.set(s.name, fromOrt(s.output, results[s.output]));
    return { outputs, saves };
  }

  /**
   * Generate tokens: one forward pass per new token, the script's patches applying in every pass
   * (docs/language.md, Generation). `inputs` holds `input_ids` (the prompt, [batch, prompt]) and
   * the script's params. Checks everything it can before running and throws RuntimeInputError
   * (a layout it does not know, a prompt longer than the context, …) when this is called, not
   * when the steps are iterated; RuntimeDiagnosticError when onnxruntime fails at a step.
   *
   *     for await (const step of runtime.generate({ input_ids }, { maxNewTokens: 20 })) …
   */
  generate(inputs: Readonly<Record<string, InputValue>>, options: GenerateOptions): AsyncGenerator<GenerationStep, void, undefined> {
    const engine = this.generationEngine();
    return runGeneration(engine, planGeneration(engine, inputs, options));
  }

  private generationEngine(): GenerationEngine {
    return {
      ort: this.ort as unknown as OrtModule,
      inputs: this.inputs,
      outputs: this.outputs,
      saves: this.manifest?.saves ?? [],
      defaults: this.defaults,
      sources: this.sources,
      run: async (feeds, fetches) => {
        const wanted: Record<string, null> = {};
        for (const name of fetches) wanted[name] = null;
        return await this.session.run(feeds as unknown as Record<string, OrtTensor>, wanted, runOptions({}));
      },
    };
  }

  /** Free onnxruntime's session. The runtime cannot run afterwards. */
  async release(): Promise<void> {
    await this.session.release();
  }
}

function inputSpecs(info: ModelInfo, manifest: Manifest | null): InputSpec[] {
  const params = new Map((manifest?.params ?? []).map((p) => [p.input, p]));
  return info.inputs.map((input): InputSpec => {
    const param = params.get(input.name);
    const optional = info.initializers.has(input.name) || (param?.hasDefault ?? false);
    if (param) {
      return { name: param.name, input: input.name, kind: "param", elemType: input.elemType ?? param.elemType, shape: input.shape ?? param.shape, optional };
    }
    return { name: input.name, input: input.name, kind: "input", elemType: input.elemType, shape: input.shape, optional };
  });
}

function fromOrt(name: string, value: unknown): Tensor {
  const t = value as OrtTensor | undefined;
  if (!t) throw new Error(`internal error: onnxruntime returned no value for output \`${name}\` (this is a bug in intv; please report it)`);
  if (!isElemName(t.type)) {
    throw new ModelLoadError(`output \`${name}\` has element type ${t.type}, which intv's runtime does not support`);
  }
  let data = t.data as Tensor["data"];
  // A runtime with a native Float16Array hands float16 out as numbers; keep raw bits as documented.
  if (t.type === "float16" && !(data instanceof Uint16Array)) {
    const halves = data as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number };
    data = new Uint16Array(halves.buffer, halves.byteOffset, halves.length);
  }
  return { type: t.type, dims: [...t.dims], data } as Tensor;
}

function sessionOptions(options: RuntimeOptions): InferenceSession.SessionOptions {
  const o: { -readonly [K in keyof InferenceSession.SessionOptions]: InferenceSession.SessionOptions[K] } = {
    logSeverityLevel: options.logSeverityLevel ?? 4,
  };
  if (options.intraOpNumThreads !== undefined) o.intraOpNumThreads = options.intraOpNumThreads;
  if (options.interOpNumThreads !== undefined) o.interOpNumThreads = options.interOpNumThreads;
  if (options.executionProviders !== undefined) o.executionProviders = options.executionProviders as InferenceSession.SessionOptions["executionProviders"];
  if (options.graphOptimizationLevel !== undefined) o.graphOptimizationLevel = options.graphOptimizationLevel;
  const extra: Record<string, unknown> = { ...options.extra };
  if (options.externalDataDir !== undefined) extra[EXTERNAL_DATA_FOLDER] = options.externalDataDir;
  if (Object.keys(extra).length > 0) o.extra = extra;
  return o;
}

function runOptions(options: RunOptions): InferenceSession.RunOptions {
  const o: { -readonly [K in keyof InferenceSession.RunOptions]: InferenceSession.RunOptions[K] } = {
    logSeverityLevel: options.logSeverityLevel ?? 4,
  };
  if (options.tag !== undefined) o.tag = options.tag;
  return o;
}

function checkOptions(what: string, options: object, known: readonly string[]): void {
  if (typeof options !== "object" || options === null) throw new TypeError(`${what}s must be an object`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`unknown ${what} \`${key}\`; known: ${known.map((k) => `\`${k}\``).join(", ")}`);
  }
}

function describeLoadError(e: unknown): string {
  if (e instanceof OnnxFormatError) return e.message;
  const err = e as NodeJS.ErrnoException;
  if (err.code === "ENOENT") return "no such file";
  if (err.code === "EISDIR") return "it is a directory";
  if (err.code === "EACCES") return "permission denied";
  return err.message ?? String(e);
}
