// `intv generate`: generate tokens with a script's interventions applied at every step (or with a
// compiled model, or a plain model), write the tokens and each step's saves as .npy files, and
// print the tokens (as text when there is a tokenizer) and the speed.

import type { Command } from "../command.js";
import { COMPILE_OPTIONS } from "../compileOptions.js";

export const generateCommand: Command = {
  name: "generate",
  summary: "generate tokens with the script's interventions at every step; write tokens and saves",
  usage: [
    "intv generate SCRIPT.intv --model MODEL.onnx --input input_ids=FILE.npy --max-new-tokens N [--out DIR]",
    "intv generate COMPILED.onnx --input input_ids=FILE.npy --max-new-tokens N [--out DIR]",
    "intv generate --model MODEL.onnx --prompt TEXT --max-new-tokens N",
  ],
  description: [
    "Runs one forward pass of the model per new token, the script's patches applying in every pass",
    "(docs/language.md, Generation), and picks the next token from the last position's logits: the",
    "most likely one, or a draw when --temperature, --top-k, --top-p or --seed is given. A model",
    "with a KV cache (Hugging Face Optimum's past_key_values.N.key/value inputs and present.N.key/value",
    "outputs, or its merged decoder) computes the prompt once and then one token per pass.",
    "",
    "With --out, writes DIR/tokens.npy (int64 [batch, prompt + new]) and each save of step K as",
    "DIR/step.K/NAME.npy. The prompt is token ids (--input input_ids=...) or text (--prompt, --chat)",
    "encoded by the tokenizer.json next to the model or given with --tokenizer; with a tokenizer the",
    "new tokens are printed as text. The context length is --context, or read from the config.json",
    "next to the model (n_positions, max_position_embeddings, n_ctx).",
  ].join("\n"),
  positionals: [{ name: "SCRIPT.intv or COMPILED.onnx", optional: true, description: "the script, or a compiled model; none: --model alone" }],
  options: [
    ...COMPILE_OPTIONS.map((o) => (o.name === "model" ? { ...o, required: false, description: "the model (to compile the script against, or to run alone)" } : o)),
    { name: "input", short: "i", value: "NAME=VALUE", repeat: true, description: "the prompt as token ids: input_ids=FILE.npy or input_ids=JSON" },
    { name: "param", short: "p", value: "NAME=VALUE", repeat: true, description: "a script param: NAME=FILE.npy or NAME=JSON" },
    { name: "prompt", value: "TEXT", repeat: true, description: "the prompt as text (one row each; needs a tokenizer)" },
    { name: "chat", value: "TEXT", description: "a user message, turned into the prompt by the tokenizer's chat template" },
    { name: "system", value: "TEXT", description: "a system message before --chat" },
    { name: "tokenizer", value: "FILE", description: "a Hugging Face tokenizer.json (default: the one next to the model)" },
    { name: "max-new-tokens", short: "n", value: "N", required: true, description: "tokens to add to each row" },
    { name: "temperature", value: "T", description: "sample with this temperature (0: greedy)" },
    { name: "top-k", value: "K", description: "sample from the K most likely tokens" },
    { name: "top-p", value: "P", description: "sample from the most likely tokens making up probability P" },
    { name: "seed", value: "S", description: "seed of the random draws (default: a random seed, printed)" },
    { name: "stop-token", value: "ID", repeat: true, description: "a token id that ends a row" },
    { name: "context", value: "N", description: "the model's context length (default: from config.json next to the model)" },
    { name: "out", short: "o", value: "DIR", description: "write tokens.npy and step.K/NAME.npy here (created if needed)" },
    { name: "json", description: "print the result as JSON" },
    { name: "threads", value: "N", description: "threads onnxruntime uses inside an operator" },
  ],
  // What it does is loaded when it runs (generateModel.ts), with the runtime: see run.ts.
  run: async (args, io) => (await import("./generateModel.js")).generateModel(args, io),
};
