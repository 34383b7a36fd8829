// The intervention scripts the run-time benchmark compiles, each with its PyTorch counterpart
// (tools/bench/torch_worker.py) and how many plain runs it stands for.

import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./paths.js";
import type { TorchScenario } from "./torch.js";

export interface Scenario {
  /** Short id: file names, table rows. */
  id: string;
  label: string;
  /** The .intv source; null for the A/A control (the plain model against itself). */
  source: string | null;
  torch: TorchScenario;
  /** Plain runs that the compiled model replaces (2 for a two-pass script). */
  plainRuns: 1 | 2;
  /** The target for instrumented / plain, when the issue sets one. */
  target?: number;
}

const example = (name: string): string => readFileSync(path.join(ROOT, "examples", name), "utf8");

export const SAVES_12 = `# 12 saves: every MLP's output.
for l in 0..len(transformer.h) {
  save mlp[l] = transformer.h[l].mlp.output
}
`;

export const PATCHES_12 = `# 12 patches: every MLP's output scaled.
for l in 0..len(transformer.h) {
  transformer.h[l].mlp.output *= 0.5
}
`;

export function scenarios(): Scenario[] {
  return [
    { id: "aa", label: "A/A control (plain vs plain)", source: null, torch: "plain", plainRuns: 1 },
    { id: "saves", label: "12 saves (every MLP output)", source: SAVES_12, torch: "saves", plainRuns: 1, target: 1.02 },
    { id: "patches", label: "12 patches (every MLP output × 0.5)", source: PATCHES_12, torch: "patches", plainRuns: 1, target: 1.05 },
    { id: "seed5", label: "seed example 5 (cross-layer, 12 patches from 12 reads)", source: example("seed5_cross_layer.intv"), torch: "seed5", plainRuns: 1 },
    { id: "two_pass", label: "seed example 3: two passes in one model vs 2 plain runs", source: example("seed3_two_pass.intv"), torch: "two_pass", plainRuns: 2, target: 1.0 },
  ];
}
