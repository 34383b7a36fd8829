// The options of a dataset run (`intv run --inputs`), in a module of their own: run.ts's definition
// lists them for --help and the argument parser without loading what runs a dataset (runDataset.ts).

/** The options of `intv run` that only a dataset run (`--inputs`) takes. */
export const DATASET_OPTIONS = [
  { name: "batch-size", short: "b", value: "N", description: "lines per session.run (default 1); lines are grouped by shape, or padded with --pad" },
  { name: "pad", description: "pad lines of different lengths into one batch (needs an `attention_mask` input); the padding is cut from every result" },
  { name: "saves-only", description: "write only the saves, not the model's outputs (which onnxruntime then does not compute, where only they need it)" },
  { name: "resume", description: "continue the interrupted run in --out (or start one if there is none)" },
  { name: "workers", value: "N", description: "onnxruntime sessions in worker threads, each running a batch (threads split between them)" },
  { name: "no-verify", description: "do not check the first batch against per-line runs" },
] as const;
