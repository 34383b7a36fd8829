// After splicing, the graph must be acyclic. A patch whose new value depends on something the
// model computes downstream of the patched place closes a cycle; it is reported with the patch,
// the later place it needs, the chain of modules between them, and the two-pass fix.

import { diagnostic, type Diagnostic } from "../../common/index.js";
import { toposort, type Graph, type Node, type Value } from "../ir/index.js";
import type { ModuleTree } from "../modules/index.js";
import type { PatchRecord } from "../splice/index.js";
import type { ReadRecord } from "../resolve/index.js";

export function checkCycles(graph: Graph, patches: readonly PatchRecord[], reads: readonly ReadRecord[], tree: ModuleTree, originals: ReadonlyMap<Node, Node>): Diagnostic[] {
  if (toposort(graph).cyclic.length === 0) return [];
  const out: Diagnostic[] = [];
  const readsByValue = new Map<Value, ReadRecord>();
  for (const r of reads) if (!readsByValue.has(r.value)) readsByValue.set(r.value, r);
  for (const p of patches) {
    const found = findCycle(p, readsByValue);
    if (!found) continue;
    out.push(cycleDiagnostic(p, found.read, found.path, tree, originals));
  }
  if (out.length === 0) {
    out.push(diagnostic("E0301", "the patches together form a cycle in the graph", { help: "split the script into passes: read values in a first pass and patch in a second" }));
  }
  return out;
}

/** Forward search from the rewired consumers; a cycle exists when it reaches the patch value's inputs. */
function findCycle(p: PatchRecord, readsByValue: Map<Value, ReadRecord>): { read: ReadRecord | null; path: Node[] } | null {
  // Nodes the new value depends on (its backward cone), stopping at nothing: exact.
  const cone = new Set<Node>();
  const stack: Value[] = [p.value];
  const coneValues = new Set<Value>();
  while (stack.length > 0) {
    const v = stack.pop()!.resolve();
    if (coneValues.has(v)) continue;
    coneValues.add(v);
    const n = v.producer;
    if (!n || cone.has(n)) continue;
    cone.add(n);
    for (const i of n.inputs) if (i) stack.push(i);
    for (const i of n.implicitInputs()) stack.push(i);
  }
  // BFS forward from the rewired consumers, remembering parents for the chain.
  const parent = new Map<Node, Node | null>();
  const queue: Node[] = [];
  for (const u of p.rewired) {
    if (!parent.has(u.node)) {
      parent.set(u.node, null);
      queue.push(u.node);
    }
  }
  let closes = false;
  for (let qi = 0; qi < queue.length; qi++) {
    const n = queue[qi]!;
    if (cone.has(n)) closes = true;
    for (const o of n.outputs) {
      if (!o) continue;
      for (const u of o.uses) {
        if (!parent.has(u.node)) {
          parent.set(u.node, n);
          queue.push(u.node);
        }
      }
    }
  }
  if (!closes) return null;
  // The script's read that the patch needs and that runs after the patched place.
  let read: ReadRecord | null = null;
  for (const v of coneValues) {
    const r = readsByValue.get(v);
    if (r && v.producer && parent.has(v.producer) && (!read || r.seq < read.seq)) read = r;
  }
  let end: Node | null = read?.value.producer ?? null;
  if (!end) for (const n of queue) if (cone.has(n)) { end = n; break; }
  const path: Node[] = [];
  for (let c: Node | null = end; c; c = parent.get(c) ?? null) path.unshift(c);
  return { read, path };
}

function cycleDiagnostic(p: PatchRecord, read: ReadRecord | null, path: Node[], tree: ModuleTree, originals: ReadonlyMap<Node, Node>): Diagnostic {
  const patched = p.port.module;
  const depth = patched ? patched.path.split(".").length : 2;
  const chain: string[] = [];
  for (const n of path) {
    const m = tree.moduleOf.get(originals.get(n) ?? n);
    if (!m || m.path === "") continue;
    const parts = m.path.split(".");
    const label = displayShort(parts.slice(0, Math.max(depth, 1)).join("."), parts.slice(0, depth).length < parts.length);
    if (chain[chain.length - 1] !== label) chain.push(label);
  }
  const shown = chain.length > 6 ? [...chain.slice(0, 3), "…", ...chain.slice(-2)] : chain;
  const needs = read ? `\`${read.display}\`` : "a value";
  const where = patched ? `\`${patched.displayPath}\`` : `\`${p.display}\``;
  const d = diagnostic("E0301", `patch of \`${p.display}\` needs ${needs}, which the model computes later`, {
    span: p.span,
    help: `compute it in a first pass and patch in a second:\n    pass first { save x = ${read ? read.display : "..."} }\n    pass second { ${p.display} = first.x }`,
  });
  if (read) d.labels = [{ span: read.span, message: `this runs after ${where}, so its value would depend on the patch itself` }];
  if (shown.length > 1) d.notes = [`the model computes ${shown.join(" → ")}`];
  return d;
}

function displayShort(path: string, _truncated: boolean): string {
  const parts = path.split(".");
  // `transformer.h.2.mlp` → `h[2].mlp` (drop the first segment when it is a container like `transformer`).
  const shown = parts.length > 2 ? parts.slice(1) : parts;
  return shown.map((s, i) => (/^\d+$/.test(s) ? `[${s}]` : i === 0 ? s : `.${s}`)).join("");
}
