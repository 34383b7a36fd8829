// What a decoder model takes and returns, for generation: which input carries the tokens, which
// output the logits, whether the model keeps a KV cache (and in which layout), and what else must be
// fed at each step. Read from the names, element types and shapes of the graph's inputs and outputs,
// before anything runs; a layout intv does not recognise is an error that says what it found.
//
// Recognised (Hugging Face Optimum's decoder exports):
//
//   input_ids                 int64 [batch, sequence]               the tokens this step computes
//   attention_mask            int64 [batch, past + sequence]        all ones (no padding)
//   position_ids              int64 [batch, sequence]               past .. past + sequence - 1
//   past_key_values.N.key     float [batch, heads, past, head_dim]  fed from present.N.key of the step before
//   past_key_values.N.value   (the same)                            fed from present.N.value
//   use_cache_branch          bool [1]                              the merged decoder's If: false at the first step
//   intv.prompt_length        int64 []                              the prompt's length (compiled scripts)
//   logits                    float [batch, sequence, vocab]        (or the model's first output)
//   present.N.key / .value    float [batch, heads, past + sequence, head_dim]

import type { InputSpec } from "./inputs.js";
import type { ValueInfo } from "./model-info.js";

/** The compiled model input that carries the prompt's length (see docs/language.md, Generation). */
export const PROMPT_LENGTH_INPUT = "intv.prompt_length";

export interface CacheEntry {
  layer: number;
  kind: "key" | "value";
  /** The graph input it is fed to, and the graph output it comes from. */
  past: string;
  present: string;
  elemType: "float32" | "float16";
  /** Heads and head size: the static dimensions 1 and 3 of [batch, heads, past, head_dim]. */
  heads: number;
  headDim: number;
}

export interface DecoderLayout {
  inputIds: { name: string; elemType: "int64" | "int32" };
  logits: string;
  /** The vocabulary size when the logits' last dimension is static. */
  vocab: number | null;
  attentionMask: string | null;
  positionIds: string | null;
  useCacheBranch: string | null;
  promptLength: string | null;
  /** Empty for a model without a cache. */
  cache: CacheEntry[];
  /** Params of the script (fed from the caller's values or their defaults). */
  params: InputSpec[];
}

const PAST = /^past_key_values\.(\d+)\.(key|value)$/;
const PRESENT = /^present\.(\d+)\.(key|value)$/;
/** Names that look like a cache but are not in the layout above (an older or other exporter's). */
const CACHE_LIKE = /(^|[._])(past|present|cache|kv)([._]|$)|past_key|key_values/i;

/**
 * The layout of a decoder, or the problems that stop intv from generating with it (each one line).
 * `inputs` are the runtime's input specs (model inputs and params), `outputs` its model outputs.
 */
export function detectLayout(inputs: readonly InputSpec[], outputs: readonly ValueInfo[]): { layout: DecoderLayout | null; problems: string[] } {
  const problems: string[] = [];
  const byName = new Map(inputs.map((s) => [s.input, s]));
  const ids = byName.get("input_ids");
  let inputIds: DecoderLayout["inputIds"] | null = null;
  if (!ids) {
    problems.push(`the model has no \`input_ids\` input (it takes ${list(inputs.map((s) => s.input))}); generation feeds the tokens to \`input_ids\``);
  } else if (ids.elemType !== "int64" && ids.elemType !== "int32") {
    problems.push(`\`input_ids\` is ${ids.elemType ?? "of unknown type"}; generation needs int64 or int32 token ids`);
  } else if (ids.shape !== null && ids.shape.length !== 2) {
    problems.push(`\`input_ids\` has rank ${ids.shape.length}; generation needs [batch, sequence]`);
  } else if (ids.shape !== null && typeof ids.shape[1] === "number") {
    problems.push(`\`input_ids\` has a fixed sequence length of ${ids.shape[1]}; generation needs a model exported with a dynamic sequence axis (dynamic_axes)`);
  } else {
    inputIds = { name: ids.input, elemType: ids.elemType };
  }

  const logitsInfo = outputs.find((o) => o.name === "logits") ?? outputs.find((o) => !PRESENT.test(o.name));
  let vocab: number | null = null;
  if (!logitsInfo) {
    problems.push("the model has no output for the logits (an output named `logits`, or a first output that is not a cache)");
  } else if (logitsInfo.elemType !== null && logitsInfo.elemType !== "float32" && logitsInfo.elemType !== "float16" && logitsInfo.elemType !== "float64") {
    problems.push(`the logits \`${logitsInfo.name}\` are ${logitsInfo.elemType}; generation needs floating-point logits`);
  } else if (logitsInfo.shape !== null && logitsInfo.shape.length !== 3) {
    problems.push(`the logits \`${logitsInfo.name}\` have rank ${logitsInfo.shape.length}; generation needs [batch, sequence, vocabulary]`);
  } else {
    const last = logitsInfo.shape?.[2];
    vocab = typeof last === "number" && last > 0 ? last : null;
  }

  // the cache: every past input with its present output, and nothing cache-like left over
  const cache: CacheEntry[] = [];
  const cacheProblems: string[] = [];
  const presents = new Map(outputs.filter((o) => PRESENT.test(o.name)).map((o) => [o.name, o]));
  const used = new Set<string>();
  for (const spec of inputs) {
    const m = PAST.exec(spec.input);
    if (!m) continue;
    const [layer, kind] = [Number(m[1]), m[2] as "key" | "value"];
    const presentName = `present.${layer}.${kind}`;
    const present = presents.get(presentName);
    if (!present) {
      cacheProblems.push(`unrecognised cache layout: input \`${spec.input}\` has no output \`${presentName}\` to be fed from`);
      continue;
    }
    used.add(presentName);
    const shape = spec.shape;
    const [heads, headDim] = [shape?.[1], shape?.[3]];
    if (shape === null || shape.length !== 4 || typeof heads !== "number" || typeof headDim !== "number") {
      cacheProblems.push(
        `unrecognised cache layout: \`${spec.input}\` is ${describe(spec)}; intv knows [batch, heads, past_sequence, head_dim] ` +
        "with heads and head_dim fixed numbers",
      );
      continue;
    }
    if (typeof shape[2] === "number") {
      cacheProblems.push(`unrecognised cache layout: \`${spec.input}\` is ${describe(spec)}, a cache of fixed length; its past sequence axis (2) must be dynamic (dynamic_axes)`);
      continue;
    }
    if (spec.elemType !== "float32" && spec.elemType !== "float16") {
      cacheProblems.push(`unrecognised cache layout: \`${spec.input}\` is ${spec.elemType ?? "of unknown type"}; intv knows float32 and float16 caches`);
      continue;
    }
    cache.push({ layer, kind, past: spec.input, present: presentName, elemType: spec.elemType, heads, headDim });
  }
  for (const name of presents.keys()) {
    if (!used.has(name) && cache.length > 0) cacheProblems.push(`unrecognised cache layout: output \`${name}\` has no input \`past_key_values.${name.slice("present.".length)}\``);
  }
  if (cache.length > 0) {
    const layers = new Set(cache.map((c) => c.layer));
    for (const l of layers) {
      if (!cache.some((c) => c.layer === l && c.kind === "key") || !cache.some((c) => c.layer === l && c.kind === "value")) {
        cacheProblems.push(`unrecognised cache layout: layer ${l} has ${cache.some((c) => c.layer === l && c.kind === "key") ? "a key" : "a value"} but not ${cache.some((c) => c.layer === l && c.kind === "key") ? "a value" : "a key"}`);
      }
    }
  }
  // one line for a layout: the first problem, and how many inputs share it
  if (cacheProblems.length > 0) {
    const more = cacheProblems.length - 1;
    problems.push(`${cacheProblems[0]}${more > 0 ? ` (and ${more} more cache input${more === 1 ? "" : "s"} or output${more === 1 ? "" : "s"} like it)` : ""}`);
  }
  cache.sort((a, b) => a.layer - b.layer || (a.kind === b.kind ? 0 : a.kind === "key" ? -1 : 1));

  // everything else the model takes
  let attentionMask: string | null = null;
  let positionIds: string | null = null;
  let useCacheBranch: string | null = null;
  let promptLength: string | null = null;
  const params: InputSpec[] = [];
  for (const spec of inputs) {
    if (spec.input === "input_ids" || PAST.test(spec.input)) continue;
    if (spec.input === PROMPT_LENGTH_INPUT) {
      promptLength = spec.input;
    } else if (spec.kind === "param") {
      params.push(spec);
    } else if (spec.input === "attention_mask") {
      attentionMask = spec.input;
    } else if (spec.input === "position_ids") {
      positionIds = spec.input;
    } else if (spec.input === "use_cache_branch") {
      if (spec.elemType !== "bool") problems.push(`\`use_cache_branch\` is ${spec.elemType ?? "of unknown type"}; the merged decoder's is bool [1]`);
      useCacheBranch = spec.input;
    } else if (spec.optional) {
      continue; // an input with a stored value: left to it
    } else if (CACHE_LIKE.test(spec.input)) {
      problems.push(
        `unrecognised cache layout: input \`${spec.input}\` (${describe(spec)}); intv knows Hugging Face Optimum's ` +
        "`past_key_values.N.key` / `.value` inputs fed from `present.N.key` / `.value` outputs",
      );
    } else {
      problems.push(`the model takes \`${spec.input}\` (${describe(spec)}), which generation does not know how to feed; it feeds input_ids, attention_mask, position_ids, past_key_values.N.key/value and use_cache_branch`);
    }
  }
  if (useCacheBranch !== null && cache.length === 0) {
    problems.push("the model takes `use_cache_branch` (a merged decoder) but has no `past_key_values.N.key` / `.value` inputs");
  }
  if (problems.length > 0 || !inputIds || !logitsInfo) return { layout: null, problems };
  return {
    layout: { inputIds, logits: logitsInfo.name, vocab, attentionMask, positionIds, useCacheBranch, promptLength, cache, params },
    problems,
  };
}

function describe(spec: { elemType: string | null; shape: (number | string | null)[] | null }): string {
  const dims = spec.shape === null ? "..." : spec.shape.map((d) => (d === null ? "?" : String(d))).join(", ");
  return `${spec.elemType ?? "?"}[${dims}]`;
}

function list(names: readonly string[]): string {
  return names.length === 0 ? "no inputs" : names.map((n) => `\`${n}\``).join(", ");
}
