// Generation: one forward pass of the (compiled) model per new token, the script's patches applying
// in every pass, the next token chosen from the last position's logits (greedy or sampled, see
// sampling.ts). With a KV cache (generate-layout.ts) the first pass computes the prompt and each
// later one the new token only, the cache going from the `present.*` outputs of one pass to the
// `past_key_values.*` inputs of the next as onnxruntime's own tensors: onnxruntime-node hands an
// output's buffer to JavaScript without copying it and wraps an input's buffer without copying it,
// so the cache is never copied between passes. Without a cache every pass computes the whole
// sequence.
//
// Everything that can be checked is checked before the first pass: the layout, the prompt against
// the context and the vocabulary, the stop tokens, the sampling options, the params.

import { RuntimeDiagnosticError, RuntimeInputError, diagnoseRunError } from "./errors.js";
import { detectLayout, type DecoderLayout } from "./generate-layout.js";
import { fromNested, prepareInputs, isTensor, type InputSpec, type InputValue } from "./inputs.js";
import type { ValueInfo } from "./model-info.js";
import { checkSampling, chooseToken, isSampling, Xoshiro128, type SamplingOptions } from "./sampling.js";
import { halfToNumber, type Tensor } from "../common/index.js";

export interface GenerateOptions extends SamplingOptions {
  /** How many tokens to add to each row (at most; fewer when every row has stopped). */
  maxNewTokens: number;
  /** Tokens that end a row: it is finished once it has produced one (the token is kept). */
  stopTokens?: readonly number[];
  /** The model's context length: the prompt and the new tokens must fit in it. Unchecked when absent. */
  context?: number;
  /** Return the script's saves of every step (default true). */
  saves?: boolean;
}

/** One new token per row. */
export interface GenerationStep {
  /** 0 for the first new token. */
  step: number;
  /** The token chosen for each row; a row that has stopped repeats its stop token. */
  tokens: number[];
  /** The rows that have produced a stop token, at this step or before. */
  finished: boolean[];
  /** Every token so far, the prompt's included: int64 [batch, prompt + step + 1]. */
  sequence: Tensor<"int64">;
  /** The script's saves of this step's forward pass, by name (the positions this pass computed). */
  saves: Map<string, Tensor>;
  /** The forward pass's wall time, in milliseconds. */
  ms: number;
}

/**
 * What generation uses of onnxruntime-node's Tensor and module, declared here so that intv's
 * published types do not need onnxruntime-node installed (it is an optional peer dependency).
 */
export interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}
export interface OrtModule {
  Tensor: new (type: string, data: unknown, dims: readonly number[]) => OrtTensor;
}

/** What generation needs of a loaded runtime (Runtime.generate provides it). */
export interface GenerationEngine {
  ort: OrtModule;
  inputs: readonly InputSpec[];
  outputs: readonly ValueInfo[];
  saves: readonly { name: string; output: string }[];
  /** Param values stored in the model, fed when the caller gives none (by graph input name). */
  defaults: ReadonlyMap<string, Tensor>;
  /** One forward pass; rejects with onnxruntime's error. */
  run(feeds: Record<string, OrtTensor>, fetches: readonly string[]): Promise<Record<string, OrtTensor>>;
  sources?: ReadonlyMap<string, string> | undefined;
}

const OPTION_KEYS = ["maxNewTokens", "stopTokens", "context", "saves", "temperature", "topK", "topP", "seed"];

/** A checked plan: everything the loop needs. */
export interface GenerationPlan {
  layout: DecoderLayout;
  prompt: Tensor<"int64">;
  batch: number;
  promptLength: number;
  options: GenerateOptions;
  /** Params and other fixed feeds, by graph input name. */
  fixed: Map<string, Tensor>;
  seed: number | null;
}

/** The decoder layout of a runtime's model, or a ModelLoadError-worthy list of problems. */
export function layoutOf(engine: Pick<GenerationEngine, "inputs" | "outputs">): ReturnType<typeof detectLayout> {
  return detectLayout(engine.inputs, engine.outputs);
}

/**
 * Check the inputs and options against the model; throws RuntimeInputError listing every problem.
 * `inputs` holds `input_ids` (the prompt, [batch, prompt]) and the script's params.
 */
export function planGeneration(
  engine: Pick<GenerationEngine, "inputs" | "outputs" | "defaults">,
  inputs: Readonly<Record<string, InputValue>>,
  options: GenerateOptions,
): GenerationPlan {
  if (typeof options !== "object" || options === null) throw new TypeError("generate options must be an object");
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new TypeError(`unknown generate option \`${key}\`; known: ${OPTION_KEYS.map((k) => `\`${k}\``).join(", ")}`);
  }
  const { layout, problems } = layoutOf(engine);
  if (!layout) throw new RuntimeInputError(problems);

  // the prompt
  const given = inputs[layout.inputIds.name];
  let prompt: Tensor<"int64"> | null = null;
  if (given === undefined) {
    problems.push(`missing input \`${layout.inputIds.name}\` (the prompt: int64[batch, prompt])`);
  } else {
    try {
      const t = isTensor(given) ? given : fromNested("int64", given as never);
      if (t.type !== "int64" && t.type !== "int32") throw new Error(`expected int64 token ids, got ${t.type}`);
      if (t.dims.length !== 2) throw new Error(`expected [batch, prompt], got rank ${t.dims.length}`);
      if (t.dims[0] === 0 || t.dims[1] === 0) throw new Error(`the prompt is empty ([${t.dims.join(", ")}])`);
      const data = BigInt64Array.from(t.data as ArrayLike<bigint | number>, (v) => BigInt(v));
      prompt = { type: "int64", dims: [...t.dims], data };
    } catch (e) {
      problems.push(`input \`${layout.inputIds.name}\`: ${(e as Error).message}`);
    }
  }
  const [batch, promptLength] = prompt ? [prompt.dims[0]!, prompt.dims[1]!] : [0, 0];

  // the options
  const n = options.maxNewTokens;
  if (!Number.isInteger(n) || n < 1) problems.push(`the number of new tokens must be a positive integer, got ${n}`);
  problems.push(...checkSampling(options));
  if (options.context !== undefined) {
    const c = options.context;
    if (!Number.isInteger(c) || c < 1) problems.push(`the context must be a positive integer, got ${c}`);
    else if (prompt && promptLength > c) problems.push(`the prompt has ${promptLength} tokens, more than the model's context of ${c}`);
    else if (prompt && Number.isInteger(n) && promptLength + n > c) {
      problems.push(`the prompt (${promptLength} tokens) and ${n} new tokens need ${promptLength + n} positions, more than the model's context of ${c}; ask for at most ${c - promptLength} new tokens`);
    }
  }
  const vocab = layout.vocab;
  for (const t of options.stopTokens ?? []) {
    if (!Number.isInteger(t) || t < 0 || (vocab !== null && t >= vocab)) {
      problems.push(`stop token ${t} is outside the vocabulary${vocab !== null ? ` (0 to ${vocab - 1})` : ""}`);
    }
  }
  if (prompt && vocab !== null) {
    const bad = prompt.data.findIndex((v) => v < 0n || v >= BigInt(vocab));
    if (bad >= 0) {
      const [r, c] = [Math.floor(bad / promptLength), bad % promptLength];
      problems.push(`input \`${layout.inputIds.name}\`: token ${prompt.data[bad]} at [${r}, ${c}] is outside the vocabulary (0 to ${vocab - 1})`);
    }
  }

  // params, checked as `run` checks them
  const paramSpecs = layout.params;
  const paramValues: Record<string, InputValue> = {};
  for (const [name, value] of Object.entries(inputs)) {
    if (name === layout.inputIds.name) continue;
    const spec = paramSpecs.find((s) => s.name === name || s.input === name);
    if (!spec) {
      const known = paramSpecs.length ? `; its params are ${paramSpecs.map((s) => `\`${s.name}\``).join(", ")}` : "";
      problems.push(`\`${name}\` is not an input generation takes (it feeds \`${layout.inputIds.name}\` and the script's params itself)${known}`);
      continue;
    }
    paramValues[name] = value;
  }
  const prepared = prepareInputs(paramSpecs, paramValues);
  problems.push(...prepared.problems);
  if (problems.length > 0 || !prompt) throw new RuntimeInputError(problems);
  const fixed = prepared.feeds;
  for (const [input, value] of engine.defaults) if (!fixed.has(input)) fixed.set(input, value);

  const sampling = isSampling(options);
  const seed = sampling ? (options.seed ?? Math.floor(Math.random() * 2 ** 32)) : null;
  return { layout, prompt, batch, promptLength, options, fixed, seed };
}

/** Run the plan: one forward pass per new token. */
export async function* runGeneration(engine: GenerationEngine, plan: GenerationPlan): AsyncGenerator<GenerationStep, void, undefined> {
  const { ort } = engine;
  const { layout, batch, promptLength, options } = plan;
  const rng = plan.seed === null ? null : new Xoshiro128(plan.seed);
  const stop = new Set(options.stopTokens ?? []);
  const wantSaves = options.saves ?? true;
  const fetches = [layout.logits, ...layout.cache.map((c) => c.present), ...(wantSaves ? engine.saves.map((s) => s.output) : [])];

  const fixedFeeds: Record<string, OrtTensor> = {};
  for (const [name, t] of plan.fixed) fixedFeeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  if (layout.promptLength) fixedFeeds[layout.promptLength] = new ort.Tensor("int64", BigInt64Array.of(BigInt(promptLength)), []);

  // the cache: empty at the first step ([batch, heads, 0, head_dim])
  let past: Record<string, OrtTensor> = {};
  for (const c of layout.cache) {
    past[c.past] = new ort.Tensor(c.elemType, c.elemType === "float32" ? new Float32Array(0) : new Uint16Array(0), [batch, c.heads, 0, c.headDim]);
  }
  const cached = layout.cache.length > 0;

  // every token so far, row-major [batch, capacity]
  const capacity = promptLength + options.maxNewTokens;
  const tokens = new BigInt64Array(batch * capacity);
  for (let r = 0; r < batch; r++) tokens.set(plan.prompt.data.subarray(r * promptLength, (r + 1) * promptLength), r * capacity);
  let length = promptLength;
  const finished = new Array<boolean>(batch).fill(false);

  for (let step = 0; step < options.maxNewTokens; step++) {
    const pastLength = cached && step > 0 ? length - 1 : 0;
    const seq = length - pastLength;
    const ids = new BigInt64Array(batch * seq);
    for (let r = 0; r < batch; r++) ids.set(tokens.subarray(r * capacity + pastLength, r * capacity + length), r * seq);
    const feeds: Record<string, OrtTensor> = { ...fixedFeeds, ...past };
    feeds[layout.inputIds.name] = layout.inputIds.elemType === "int64"
      ? new ort.Tensor("int64", ids, [batch, seq])
      : new ort.Tensor("int32", Int32Array.from(ids, Number), [batch, seq]);
    if (layout.attentionMask) feeds[layout.attentionMask] = new ort.Tensor("int64", new BigInt64Array(batch * length).fill(1n), [batch, length]);
    if (layout.positionIds) {
      const pos = new BigInt64Array(batch * seq);
      for (let r = 0; r < batch; r++) for (let k = 0; k < seq; k++) pos[r * seq + k] = BigInt(pastLength + k);
      feeds[layout.positionIds] = new ort.Tensor("int64", pos, [batch, seq]);
    }
    if (layout.useCacheBranch) feeds[layout.useCacheBranch] = new ort.Tensor("bool", Uint8Array.of(step > 0 ? 1 : 0), [1]);

    const start = performance.now();
    let results: Record<string, OrtTensor>;
    try {
      results = await engine.run(feeds, fetches);
    } catch (e) {
      const d = diagnoseRunError(e, engine.sources);
      throw new RuntimeDiagnosticError([{ ...d, notes: [...(d.notes ?? []), `at generation step ${step} (${seq} positions computed, ${pastLength} cached)`] }]);
    }
    const ms = performance.now() - start;

    // the next token of each row, from the logits of its last position
    const logits = results[layout.logits]!;
    const [, lseq, vocab] = logits.dims as [number, number, number];
    const chosen: number[] = [];
    for (let r = 0; r < batch; r++) {
      if (finished[r]) {
        chosen.push(Number(tokens[r * capacity + length - 1]));
        continue;
      }
      const row = logitsRow(logits, (r * lseq + lseq - 1) * vocab, vocab);
      const token = chooseToken(row, options, rng);
      chosen.push(token);
      if (stop.has(token)) finished[r] = true;
    }
    for (let r = 0; r < batch; r++) tokens[r * capacity + length] = BigInt(chosen[r]!);
    length++;

    if (cached) {
      const next: Record<string, OrtTensor> = {};
      for (const c of layout.cache) next[c.past] = results[c.present]!;
      past = next;
    }
    const saves = new Map<string, Tensor>();
    if (wantSaves) for (const s of engine.saves) saves.set(s.name, toTensor(results[s.output]!));
    const sequence = new BigInt64Array(batch * length);
    for (let r = 0; r < batch; r++) sequence.set(tokens.subarray(r * capacity, r * capacity + length), r * length);
    yield { step, tokens: chosen, finished: [...finished], sequence: { type: "int64", dims: [batch, length], data: sequence }, saves, ms };
    if (finished.every(Boolean)) break;
  }
}

function logitsRow(t: OrtTensor, offset: number, vocab: number): ArrayLike<number> {
  if (t.type === "float16") {
    const bits = t.data as Uint16Array;
    return Float64Array.from(bits.subarray(offset, offset + vocab), halfToNumber);
  }
  return (t.data as Float32Array | Float64Array).subarray(offset, offset + vocab);
}

function toTensor(t: OrtTensor): Tensor {
  let data = t.data as Tensor["data"];
  if (t.type === "float16" && !(data instanceof Uint16Array)) {
    const halves = data as unknown as { buffer: ArrayBuffer; byteOffset: number; length: number };
    data = new Uint16Array(halves.buffer, halves.byteOffset, halves.length);
  }
  return { type: t.type, dims: [...t.dims], data } as Tensor;
}
