// Parse benchmark (not a test): generates a 5,000-line script shaped like the seed examples
// (patches, loops, passes, defs, params, comments) and prints how long `parse` takes. The first
// run includes JIT warm-up; the best of five is the steady state.
// Usage: npx tsc -p tsconfig.json && node dist/bench/parse.js [lines]

import { performance } from "node:perf_hooks";
import { parse } from "../grammar/index.js";

/** Blocks of lines; each block is closed, so any number of blocks is a valid script. */
const blocks: ((i: number) => string[])[] = [
  (i) => [`# block ${i}: replace one MLP's output with another's`, `transformer.h[${(i + 6) % 12}].mlp.output = transformer.h[${i % 6}].mlp.output`, ""],
  (i) => [
    `pass first${i}  { save mlp${i} = transformer.h[8].mlp.output }`,
    `pass second${i} { transformer.h[2].mlp.output = first${i}.mlp${i} }`,
  ],
  (i) => [
    `for l in 0..len(transformer.h) {`,
    `  cache${i} = cache${i} + [transformer.h[l].ln_2.input]`,
    `  transformer.h[l].mlp.output = fancy_op(stacked[0:l+1]) * 0.5 + 1e-3`,
    `}`,
  ],
  (i) => [
    `def fancy${i}(xs) = mean(stack(xs), axis=0)`,
    `let stacked${i} = unbind(stack(cache), axis=0)`,
    `param steer${i}: float32[batch, ?, 768] = 4.0`,
  ],
  (i) => [
    `pass corrupt${i}(input_ids = ids) {`,
    `  save logits = model.output[:, -1, :]; save p = softmax(logits, axis=-1)`,
    `  transformer.h[${i % 12}].attn.output[..., 0:10] += alpha * tensor("/transformer/h.${i % 12}/attn/Softmax_output_0")`,
    `}`,
  ],
];

export function generateScript(lines: number): string {
  const out: string[] = [];
  for (let i = 0; out.length < lines; i++) out.push(...blocks[i % blocks.length]!(i));
  // Cut at a block boundary at or after `lines`, so the script stays valid.
  return out.join("\n") + "\n";
}

const lines = Number(process.argv[2] ?? 5000);
const source = generateScript(lines);
const lineCount = source.split("\n").length - 1;
const times: number[] = [];
const cpuTimes: number[] = [];
let statements = 0;
let diagnostics = 0;
for (let run = 0; run < 5; run++) {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const result = parse(source, "bench.intv");
  const cpu = process.cpuUsage(cpuStart);
  times.push(performance.now() - start);
  cpuTimes.push((cpu.user + cpu.system) / 1000);
  statements = result.script.statements.length;
  diagnostics = result.diagnostics.length;
}
// A machine-speed reference for reading the numbers on a busy machine: JSON.parse throughput
// (allocation-heavy like parsing; typically a few hundred MB/s on an idle machine).
const json = JSON.stringify(Array.from({ length: 100_000 }, (_, i) => ({ a: i, b: `x${i}`, c: [i, i + 1] })));
let jsonBest = Infinity;
for (let run = 0; run < 3; run++) {
  const start = performance.now();
  JSON.parse(json);
  jsonBest = Math.min(jsonBest, performance.now() - start);
}
const reference = json.length / 1e6 / (jsonBest / 1000);

console.log(
  `parse: ${lineCount} lines (${(source.length / 1024).toFixed(0)} KiB), ${statements} top-level statements, ` +
    `${diagnostics} diagnostics: first run ${times[0]!.toFixed(0)} ms (CPU ${cpuTimes[0]!.toFixed(0)} ms), ` +
    `best of 5 ${Math.min(...times).toFixed(0)} ms (CPU ${Math.min(...cpuTimes).toFixed(0)} ms); ` +
    `reference: JSON.parse at ${reference.toFixed(0)} MB/s`,
);
