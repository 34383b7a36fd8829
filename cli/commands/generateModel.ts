// What `intv generate` does (its definition, options and help are in generate.ts): load or
// compile the model, tokenize the prompts, run the generation loop, write the saves and report.

import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  NpyError, Runtime, TokenizerError, isSampling, loadTokenizer, tokenizerNextTo, writeNpy,
  type GenerateOptions, type GenerationStep, type InputValue, type RuntimeOptions, type Tensor, type TextTokenizer,
} from "../../runtime/index.js";
import { requireOnnxRuntime } from "../../runtime/index.js";
import { UsageError, type ParsedArgs } from "../args.js";
import { CliError, EXIT, Progress, type Io } from "../output.js";
import { assignment, checkParams, loadForRun, loadValues, reportFailure, saveFileStem } from "./runModel.js";

export async function generateModel(args: ParsedArgs, io: Io): Promise<number> {
  const target = args.positionals[0];
  const compiled = target !== undefined && /\.onnx$/i.test(target);
  const model = args.string("model");
  if (compiled && model !== undefined) throw new UsageError(`\`${target}\` is already compiled; --model is only for scripts and plain models`);
  if (!compiled && model === undefined) throw new UsageError("missing option `--model MODEL.onnx`");
  const modelFile = compiled ? target : model!;
  const options = generateOptions(args);
  const promptTexts = args.strings("prompt");
  const chat = args.string("chat");
  const system = args.string("system");
  const assignments = [
    ...args.strings("input").map((a) => assignment("input", a)),
    ...args.strings("param").map((a) => assignment("param", a)),
  ];
  const idsGiven = assignments.some((a) => a.flag === "input");
  const sources = [idsGiven && "--input", promptTexts.length > 0 && "--prompt", chat !== undefined && "--chat"].filter(Boolean);
  if (sources.length === 0) throw new UsageError("no prompt: give token ids (--input input_ids=FILE.npy) or text (--prompt TEXT, --chat TEXT)");
  if (sources.length > 1) throw new UsageError(`give the prompt once: ${sources.join(" and ")} both give one`);
  if (system !== undefined && chat === undefined) throw new UsageError("--system goes with --chat");
  const outDir = args.string("out");
  const threads = args.positiveInt("threads");
  const json = args.flag("json");

  const progress = new Progress(io);
  let runtime: Runtime | undefined;
  let scriptSources = new Map<string, string>();
  try {
    await requireOnnxRuntime();
    const values = await loadValues(assignments);

    // the tokenizer: needed for text in, used for text out when there is one
    const tokenizerFile = args.string("tokenizer") ?? tokenizerNextTo(modelFile);
    let tokenizer: TextTokenizer | null = null;
    if (tokenizerFile !== null) tokenizer = await loadTokenizer(tokenizerFile);
    if (!idsGiven) {
      if (!tokenizer) throw new CliError(`${sources[0]} needs a tokenizer: there is no tokenizer.json next to \`${modelFile}\`; give one with --tokenizer FILE`);
      values.input_ids = promptIds(tokenizer, promptTexts, chat, system);
    }
    options.context ??= contextOf(modelFile);

    const runtimeOptions: RuntimeOptions = threads === undefined ? {} : { intraOpNumThreads: threads };
    if (target === undefined) {
      progress.update("loading the model");
      runtime = await Runtime.load(modelFile, runtimeOptions);
    } else {
      const loaded = await loadForRun(io, args, target, compiled, model, runtimeOptions, progress, (s) => (scriptSources = s));
      if (!loaded) return EXIT.rejected;
      runtime = loaded;
    }
    checkParams(runtime.inputs, assignments);
    const steps = runtime.generate(values, options); // checks everything before the first pass
    const cached = runtime.outputs.some((o) => /^present\.\d+\.(key|value)$/.test(o.name));
    if (outDir !== undefined) await makeFolder(outDir);

    progress.done();
    const printer = new TokenPrinter(io, tokenizer, json);
    let last: GenerationStep | undefined;
    let first = 0;
    let writing = 0;
    const start = performance.now();
    for await (const step of steps) {
      if (step.step === 0) first = step.ms;
      last = step;
      printer.step(step);
      if (outDir !== undefined && step.saves.size > 0) {
        const t = performance.now();
        await writeSaves(join(outDir, `step.${step.step}`), step.saves);
        writing += performance.now() - t;
      }
    }
    const seconds = (performance.now() - start - writing) / 1000;
    printer.end();
    if (!last) throw new Error("internal error: generation produced no step (this is a bug in intv)");
    if (outDir !== undefined) await write(join(outDir, "tokens.npy"), last.sequence);
    report(io, { last, seconds, first, cached, outDir, tokenizer, json, live: printer.live, seed: isSampling(options) ? options.seed! : null, promptLength: last.sequence.dims[1]! - last.step - 1 });
    return EXIT.ok;
  } catch (e) {
    progress.done();
    return reportFailure(io, e, scriptSources, [TokenizerError]);
  } finally {
    progress.done();
    await runtime?.release();
  }
}

function generateOptions(args: ParsedArgs): GenerateOptions {
  const options: GenerateOptions = { maxNewTokens: args.positiveInt("max-new-tokens")! };
  const num = (name: string): number | undefined => {
    const v = args.string(name);
    if (v === undefined) return undefined;
    if (!/^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(v.trim())) throw new UsageError(`--${name} expects a number, got \`${v}\``);
    return Number(v);
  };
  const int = (name: string): number | undefined => {
    const v = args.string(name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${name} expects an integer, got \`${v}\``);
    return Number(v);
  };
  const temperature = num("temperature");
  const topK = int("top-k");
  const topP = num("top-p");
  const seed = int("seed");
  const context = int("context");
  if (temperature !== undefined) options.temperature = temperature;
  if (topK !== undefined) options.topK = topK;
  if (topP !== undefined) options.topP = topP;
  if (seed !== undefined) options.seed = seed;
  if (context !== undefined) options.context = context;
  const stops = args.strings("stop-token").map((v) => {
    if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--stop-token expects a token id, got \`${v}\``);
    return Number(v);
  });
  if (stops.length > 0) options.stopTokens = stops;
  // a seed is always known, so that a sampled run can be repeated
  if (isSampling(options) && options.seed === undefined) options.seed = Math.floor(Math.random() * 2 ** 32);
  return options;
}

/** The prompt as ids [rows, tokens]: each --prompt a row (all of one length), or the chat message. */
function promptIds(tokenizer: TextTokenizer, texts: readonly string[], chat: string | undefined, system: string | undefined): InputValue {
  if (chat !== undefined) {
    const messages = [...(system !== undefined ? [{ role: "system", content: system }] : []), { role: "user", content: chat }];
    const text = tokenizer.applyChatTemplate(messages);
    return [tokenizer.encode(text, { addSpecialTokens: false })];
  }
  const rows = texts.map((t) => tokenizer.encode(t));
  const empty = rows.findIndex((r) => r.length === 0);
  if (empty >= 0) throw new CliError(`--prompt ${JSON.stringify(texts[empty])} encodes to no tokens`);
  if (rows.some((r) => r.length !== rows[0]!.length)) {
    throw new CliError(`the prompts encode to different lengths (${rows.map((r) => r.length).join(", ")} tokens); rows of one batch must have the same length (there is no padding)`);
  }
  return rows;
}

/** The context length from the config.json next to the model, if it says. */
function contextOf(model: string): number | undefined {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(join(dirname(model), "config.json"), "utf8")) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  for (const key of ["max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length", "seq_length"]) {
    const v = config[key];
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

async function makeFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw new CliError(`cannot create the output folder \`${dir}\`: ${(e as Error).message}`);
  }
}

async function write(file: string, tensor: Tensor): Promise<void> {
  try {
    await writeNpy(file, tensor);
  } catch (e) {
    if (e instanceof NpyError) throw new CliError(e.message);
    throw e;
  }
}

async function writeSaves(dir: string, saves: ReadonlyMap<string, Tensor>): Promise<void> {
  await makeFolder(dir);
  const used = new Set<string>();
  for (const [name, tensor] of saves) {
    let stem = saveFileStem(name);
    for (let k = 2; used.has(stem); k++) stem = `${saveFileStem(name)}_${k}`;
    used.add(stem);
    await write(join(dir, `${stem}.npy`), tensor);
  }
}

/** Prints the new tokens as they come when stdout is a terminal: text with a tokenizer and one row, ids otherwise. */
class TokenPrinter {
  live: boolean;
  private readonly rows: number[][] = [];
  private shown = "";

  constructor(private readonly io: Io, private readonly tokenizer: TextTokenizer | null, json: boolean) {
    this.live = !json && (io.stdout as { isTTY?: boolean }).isTTY === true;
  }

  step(step: GenerationStep): void {
    step.tokens.forEach((t, r) => (this.rows[r] ??= []).push(t));
    if (this.live && this.tokenizer && this.rows.length > 1) this.live = false; // rows of text: printed at the end
    if (!this.live) return;
    if (this.tokenizer && this.rows.length === 1) {
      const text = this.tokenizer.decode(this.rows[0]!);
      // print what was added; a token that completes a multi-byte character can change the tail
      if (text.startsWith(this.shown)) this.io.stdout.write(text.slice(this.shown.length));
      this.shown = text;
    } else {
      this.io.stdout.write(`${step.step === 0 ? "" : " "}${step.tokens.join(this.rows.length > 1 ? "," : "")}`);
    }
  }

  end(): void {
    if (this.live) this.io.stdout.write("\n");
  }
}

interface Report {
  last: GenerationStep;
  seconds: number;
  first: number;
  cached: boolean;
  outDir: string | undefined;
  tokenizer: TextTokenizer | null;
  json: boolean;
  /** The tokens were printed as they came: do not print them again. */
  live: boolean;
  seed: number | null;
  promptLength: number;
}

function report(io: Io, r: Report): void {
  const { last, seconds, first } = r;
  const [batch, length] = last.sequence.dims as [number, number];
  const steps = last.step + 1;
  const rows: { tokens: number[]; text?: string }[] = [];
  for (let b = 0; b < batch; b++) {
    const tokens = Array.from(last.sequence.data.subarray(b * length + r.promptLength, (b + 1) * length), Number);
    rows.push(r.tokenizer ? { tokens, text: r.tokenizer.decode(tokens) } : { tokens });
  }
  const perSecond = (batch * steps) / seconds;
  const later = steps > 1 ? (seconds * 1000 - first) / (steps - 1) : null;
  if (r.json) {
    const data = {
      rows, steps, batch, prompt: r.promptLength, seconds, tokensPerSecond: perSecond, firstPassMs: first, msPerLaterToken: later,
      cache: r.cached, seed: r.seed, out: r.outDir ?? null,
    };
    io.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
    return;
  }
  const lines: string[] = [];
  if (!r.live) rows.forEach((row, b) => lines.push(`${batch > 1 ? `row ${b}: ` : ""}${row.text !== undefined ? JSON.stringify(row.text) : row.tokens.join(" ")}`));
  lines.push(
    `${steps} new token${steps === 1 ? "" : "s"}${batch > 1 ? ` × ${batch} rows` : ""} in ${seconds.toFixed(3)} s: ${perSecond.toFixed(1)} tokens/s ` +
    `(first pass ${first.toFixed(1)} ms${later !== null ? `, then ${later.toFixed(1)} ms per token` : ""}; ${r.cached ? "KV cache" : "no cache: every pass computes the whole sequence"}` +
    `${r.seed !== null ? `; seed ${r.seed}` : ""})`,
  );
  if (r.outDir !== undefined) lines.push(`wrote ${join(r.outDir, "tokens.npy")} (int64 [${batch}, ${length}])${last.saves.size > 0 ? ` and ${last.saves.size} save${last.saves.size === 1 ? "" : "s"} per step in ${join(r.outDir, "step.K")}/` : ""}`);
  io.stdout.write(`${lines.join("\n")}\n`);
}
