// Warnings about a script that compiles but may not mean what it says:
//   W0001 a read whose value changes because of a patch written later in the script;
//   W0002 a patch that reaches no model output and no save;
//   W0003 a param that nothing uses.

import { diagnostic, type Diagnostic, type Span } from "../../common/index.js";
import { deadNodes, liveNodes, readsValue, toposort, type Graph, type Node, type Value } from "../ir/index.js";
import type { PatchRecord } from "../splice/index.js";
import type { ParamRecord, ReadRecord } from "../resolve/index.js";

/** `order`: the graph's topological order, when the caller has it (check/index.ts shares one). */
export function laterPatchWarnings(graph: Graph, patches: readonly PatchRecord[], reads: readonly ReadRecord[], order?: readonly Node[]): Diagnostic[] {
  if (patches.length === 0 || reads.length === 0) return [];
  // The latest patch upstream of each value, propagated once in execution order: linear.
  const slotPatch = new Map<Node, Map<number, PatchRecord>>();
  for (const p of patches) {
    for (const u of p.rewired) {
      const m = slotPatch.get(u.node) ?? new Map<number, PatchRecord>();
      const prev = m.get(u.index);
      if (!prev || prev.seq < p.seq) m.set(u.index, p);
      slotPatch.set(u.node, m);
    }
  }
  const latest = new Map<Value, PatchRecord>();
  const later = (a: PatchRecord | undefined, b: PatchRecord | undefined) => (!a ? b : !b ? a : a.seq >= b.seq ? a : b);
  // Plain loops, one lookup of the node's slots: this visits every node of the spliced graph.
  for (const node of order ?? toposort(graph).order) {
    let best: PatchRecord | undefined;
    const slots = slotPatch.get(node);
    const inputs = node.inputs;
    for (let i = 0; i < inputs.length; i++) {
      const v = inputs[i];
      if (v) best = later(best, latest.get(v.resolve()));
      if (slots) best = later(best, slots.get(i));
    }
    if (node.subgraphs.size > 0) for (const v of node.implicitInputs()) best = later(best, latest.get(v.resolve()));
    if (slots) best = later(best, slots.get(-1));
    if (best) for (const o of node.outputs) if (o) latest.set(o, best);
  }
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const r of reads) {
    const p = latest.get(r.value.resolve());
    if (!p || p.seq <= r.seq) continue;
    const key = `${r.span.offset}|${p.span.offset}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(diagnostic("W0001", `\`${r.display}\` is read here, but its value depends on a patch written later`, {
      span: r.span,
      labels: [{ span: p.span, message: `this patch of \`${p.display}\` changes it` }],
      notes: ["the read sees the patched value: the whole script is one forward pass, in the model's order"],
    }));
  }
  return out;
}

export function unreachedPatchWarnings(graph: Graph, patches: readonly PatchRecord[]): Diagnostic[] {
  const live = liveNodes(graph);
  // A patch inside an If branch reaches what its If node reaches.
  const reaches = (n: Node) => {
    let node: Node | null = n;
    while (node && node.graph !== graph) node = node.graph.owner;
    return node !== null && live.has(node);
  };
  const reached = (p: PatchRecord): boolean => {
    const inBranch = p.value.graph !== graph && p.value.graph.owner !== null && reaches(p.value.graph.owner);
    // Through a slot it rewired that still reads its value (a later patch of the place may have
    // rewired the slot again), or through a use a value it made gained after it: a later patch built
    // on it, a save of it, a module call that reads a patched weight.
    const viaSlots = p.rewired.some((u) => readsValue(u, p.value) && reaches(u.node));
    const viaLater = p.made && p.value.uses.some((u) => !p.usesBefore.has(u) && reaches(u.node));
    return inBranch || (p.outputs.length > 0 && p.pass.isLast) || viaSlots || viaLater;
  };
  // One warning per statement, and only when none of its executions reaches anything: in a loop,
  // an iteration whose patch a later one replaces is what the loop means (found by review).
  const out: Diagnostic[] = [];
  for (const ps of byStatement(patches)) {
    if (ps.some(reached)) continue;
    const p = ps[0]!;
    out.push(diagnostic("W0002", `the patch of \`${p.display}\` reaches no model output and no save`, {
      span: p.span,
      help: !p.pass.isLast ? `nothing in pass \`${p.pass.name}\` after it is saved: save a value it changes, or read it from a later pass` : "nothing downstream of it is computed for an output",
    }));
  }
  return out;
}

/** Records by the statement that made them (a statement in a loop or a `def` runs several times), in order. */
function byStatement<R extends { span: Span }>(records: readonly R[]): R[][] {
  const groups = new Map<string, R[]>();
  for (const r of records) {
    const key = `${r.span.file}:${r.span.offset}`;
    const same = groups.get(key);
    if (same) same.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()];
}

/**
 * Params nothing uses once dead code is gone: a use by a node that optimizing will remove (it
 * reaches no output, and is not one of the model's own nodes in `keep`) does not count.
 */
export function unusedParamWarnings(graph: Graph, params: readonly ParamRecord[], keep: ReadonlySet<Node>): Diagnostic[] {
  if (params.length === 0) return [];
  const dead = deadNodes(graph, keep);
  // A `param` in a loop is declared once per iteration: one warning per statement, and only when
  // none of its declarations is used (a loop of three gave three warnings; found by
  // test/fuzz.test.ts).
  return byStatement(params)
    .filter((ps) => ps.every((p) => p.input.uses.every((u) => dead.has(u.node))))
    .map(([p]) => diagnostic("W0003", `the param \`${p!.name}\` is never used`, { span: p!.span }));
}
