// The intervention plan: what `intv graph` draws when a user asks "what happens under the hood" —
// the model places the script reads and patches, in execution order, and the saves and patches
// with the places their values come from.

import type { Value } from "./ir/index.js";
import { NODE_NAME_PREFIX } from "../common/index.js";
import type { ReadRecord, SaveRecord } from "./resolve/index.js";
import type { ModuleTree } from "./modules/index.js";
import type { PassState, PatchRecord } from "./splice/index.js";

export interface PlanPlace {
  /** As the user writes it: `transformer.h[2].mlp.output`. */
  display: string;
  /** The module, for grouping (`transformer.h[2].mlp`), or `model`. */
  module: string;
  pass: string;
  /** Execution rank of the module (its first node), -1 when unknown. */
  rank: number;
}

/** A place a value is read from: `display` in pass `pass`. */
export interface PlanSource {
  pass: string;
  display: string;
}

export interface PlanSave {
  name: string;
  pass: string;
  line: number;
  from: PlanSource[];
}

export interface PlanPatch {
  target: string;
  pass: string;
  line: number;
  from: PlanSource[];
}

export interface InterventionPlan {
  passes: string[];
  places: PlanPlace[];
  saves: PlanSave[];
  patches: PlanPatch[];
}

/** What the plan is made of: a resolution's records. */
export interface PlanInput {
  tree: ModuleTree;
  passes: readonly PassState[];
  reads: readonly ReadRecord[];
  saves: readonly SaveRecord[];
  patches: readonly PatchRecord[];
}

export function buildPlan(input: PlanInput): InterventionPlan {
  const { tree } = input;
  const readsByValue = new Map<Value, ReadRecord>();
  for (const r of input.reads) if (!readsByValue.has(r.value)) readsByValue.set(r.value, r);
  const places = new Map<string, PlanPlace>();
  const modules = new Map(tree.all().map((m) => [m.displayPath, m]));
  const place = (display: string, pass: string, module: string | null, rank: number) => {
    const key = `${pass}|${display}`;
    if (!places.has(key)) places.set(key, { display, module: module ?? "model", pass, rank });
  };
  /** The model places a value is computed from, following the script's own nodes back. */
  const sources = (v: Value): PlanSource[] => {
    const found = new Map<string, PlanSource>();
    const seen = new Set<Value>();
    const stack = [v];
    while (stack.length > 0) {
      const x = stack.pop()!.resolve();
      if (seen.has(x)) continue;
      seen.add(x);
      const read = readsByValue.get(x);
      if (read) {
        const pass = read.pass.name;
        found.set(`${pass}|${read.display}`, { pass, display: read.display });
        const m = read.display.replace(/\.(input|output|inputs\[\d+\]|outputs\[\d+\])$/, "");
        const mod = modules.get(m);
        place(read.display, pass, mod ? mod.displayPath : null, mod ? mod.rank() : -1);
        continue;
      }
      const p = x.producer;
      if (!p || !p.name.startsWith(NODE_NAME_PREFIX)) continue;
      for (const i of p.inputs) if (i) stack.push(i);
    }
    return [...found.values()];
  };
  const saves = input.saves.map((s) => ({ name: s.name, pass: s.pass.name, line: s.span.line, from: sources(s.value) }));
  const patches = input.patches.map((p) => {
    const mod = p.port.module;
    place(p.display, p.pass.name, mod ? mod.displayPath : null, mod ? mod.rank() : -1);
    return { target: p.display, pass: p.pass.name, line: p.span.line, from: sources(p.value) };
  });
  const ordered = [...places.values()].sort((a, b) => (a.pass === b.pass ? a.rank - b.rank : 0));
  return { passes: input.passes.map((p) => p.name), places: ordered, saves, patches };
}
