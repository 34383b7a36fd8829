// `intv run`: compile a script against a model (or take a compiled model), run it once, write
// every save and model output as a .npy file, and print a summary.

import type { Command } from "../command.js";
import { COMPILE_OPTIONS } from "../compileOptions.js";
import { DATASET_OPTIONS } from "./datasetOptions.js";

export const runCommand: Command = {
  name: "run",
  summary: "compile and run a script (or run a compiled model); write saves and outputs as .npy",
  usage: [
    "intv run SCRIPT.intv --model MODEL.onnx --input NAME=FILE.npy [--param NAME=FILE.npy] --out DIR",
    "intv run COMPILED.onnx --input NAME=FILE.npy [--param NAME=FILE.npy] --out DIR",
    "intv run ... --inputs FILE.jsonl|[NAME=]FILE.npy|[NAME=]DIR --out DIR [--batch-size N [--pad]] [--resume] [--workers N]",
  ],
  description: [
    "Runs the model once with every pass of the script. Each save is written to DIR/NAME.npy",
    "(`name[3]` as name.3.npy, a save in `pass first` as first.NAME.npy) and each model output to",
    "DIR/output.NAME.npy; a summary table goes to stdout. An input or param value is a .npy file or",
    "inline JSON (`--input input_ids='[[464, 3290]]'`), converted to the type the model declares.",
    "",
    "With --inputs, a dataset run: each line of FILE.jsonl is one JSON object of inputs (values as",
    "JSON or .npy paths relative to the file); NAME=FILE.npy gives input NAME for each entry of the",
    "array's first axis, NAME=DIR one .npy file per line (repeat --inputs for several inputs). The",
    "lines run in batches of --batch-size and each result is written to DIR as it is produced:",
    "DIR/NAME.npy holds the lines' results stacked along a new first axis, or, for results whose",
    "length differs between lines, concatenated along that axis with DIR/NAME.offsets.npy saying",
    "where each line starts. Ctrl-C stops after the running batch; --resume continues.",
  ].join("\n"),
  positionals: [{ name: "SCRIPT.intv or COMPILED.onnx", description: "the script to compile, or a compiled model" }],
  options: [
    // --model, --allow-path and the limits, as for `intv compile` (--model only with a script)
    ...COMPILE_OPTIONS.map((o) => (o.name === "model" ? { ...o, required: false } : o)),
    { name: "input", short: "i", value: "NAME=VALUE", repeat: true, description: "a model input: NAME=FILE.npy or NAME=JSON" },
    { name: "param", short: "p", value: "NAME=VALUE", repeat: true, description: "a script param: NAME=FILE.npy or NAME=JSON" },
    { name: "inputs", value: "DATA", repeat: true, description: "a dataset run: FILE.jsonl, or NAME=FILE.npy / NAME=DIR (one entry per line); see below" },
    { name: "out", short: "o", value: "DIR", required: true, description: "where to write the .npy files (created if needed)" },
    { name: "json", description: "print the summary as JSON instead of a table" },
    { name: "threads", value: "N", description: "threads onnxruntime uses inside an operator" },
    { name: "no-spin", description: "onnxruntime's threads sleep while they wait instead of spinning (for a machine shared with other jobs)" },
    ...DATASET_OPTIONS,
  ],
  // What it does is loaded when it runs (runModel.ts): every command loads this definition, for
  // --help and the options, and the runtime it needs costs the others 12 ms of start-up.
  run: async (args, io) => (await import("./runModel.js")).runModel(args, io),
};
