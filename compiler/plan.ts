// The intervention plan: what `intv graph` draws when a user asks "what happens under the hood" —
// the model places the script reads and patches, in execution order, and the saves and patches
// with the places their values come from.

import type { Value } from "./ir/index.js";
import { NODE_NAME_PREFIX } from "./manifest.js";
import type { Interpreter, ReadRecord } from "./resolve/index.js";
import type { ModuleTree } from "./modules/index.js";

export interface PlanPlace {
  /** As the user writes it: `transformer.h[2].mlp.output`. */
  display: string;
  /** The module, for grouping (`transformer.h[2].mlp`), or `model`. */
  module: string;
  pass: string;
  /** Execution rank of the module (its first node), -1 when unknown. */
  rank: number;
}

export interface PlanSave {
  name: string;
  pass: string;
  line: number;
  from: string[];
}

export interface PlanPatch {
  target: string;
  pass: string;
  line: number;
  from: string[];
}

export interface InterventionPlan {
  passes: string[];
  places: PlanPlace[];
  saves: PlanSave[];
  patches: PlanPatch[];
}

export function buildPlan(interp: Interpreter, tree: ModuleTree): InterventionPlan {
  const readsByValue = new Map<Value, ReadRecord>();
  for (const r of interp.reads) if (!readsByValue.has(r.value)) readsByValue.set(r.value, r);
  const places = new Map<string, PlanPlace>();
  const place = (display: string, pass: string, module: string | null, rank: number) => {
    const key = `${pass}|${display}`;
    if (!places.has(key)) places.set(key, { display, module: module ?? "model", pass, rank });
  };
  const rankOf = (display: string, pass: string) => {
    const r = interp.reads.find((x) => x.display === display && x.pass.name === pass);
    return r;
  };
  void rankOf;
  /** The model places a value is computed from, following the script's own nodes back. */
  const sources = (v: Value, pass: string): string[] => {
    const found = new Set<string>();
    const seen = new Set<Value>();
    const stack = [v];
    while (stack.length > 0) {
      const x = stack.pop()!.resolve();
      if (seen.has(x)) continue;
      seen.add(x);
      const read = readsByValue.get(x);
      if (read) {
        found.add(read.display);
        const m = read.display.replace(/\.(input|output|inputs\[\d+\]|outputs\[\d+\])$/, "");
        const mod = tree.all().find((mm) => mm.displayPath === m);
        place(read.display, pass, mod ? mod.displayPath : null, mod ? mod.rank() : -1);
        continue;
      }
      const p = x.producer;
      if (!p || !p.name.startsWith(NODE_NAME_PREFIX)) continue;
      for (const i of p.inputs) if (i) stack.push(i);
    }
    return [...found];
  };
  const saves = interp.saves.map((s) => ({ name: s.name, pass: s.pass.name, line: s.span.line, from: sources(s.value, s.pass.name) }));
  const patches = interp.patches.map((p) => {
    const mod = p.port.module;
    place(p.display, p.pass.name, mod ? mod.displayPath : null, mod ? mod.rank() : -1);
    return { target: p.display, pass: p.pass.name, line: p.span.line, from: sources(p.value, p.pass.name) };
  });
  const ordered = [...places.values()].sort((a, b) => (a.pass === b.pass ? a.rank - b.rank : 0));
  return { passes: interp.passes.map((p) => p.name), places: ordered, saves, patches };
}
