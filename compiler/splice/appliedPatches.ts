// The patches a pass has applied, per value, in the order the forward pass applies them
// (passes.ts `patch`): what a read of a place sees, and where a new patch goes among them.
//
// Places on one value (a module's output and the output of the module around it are one tensor)
// apply in the order their hooks run, whatever order the script writes them in: a module's output
// hook before the hook of the module around it, an outer module's input pre-hook before an inner
// one's. A patch of a place upstream of one patched earlier (one that covers it, and that it does
// not cover: ports.ts `covers`) goes in before it: it leaves the earlier patch's slots to it, and
// the earlier patch's reads of the value both read now read the new patch's value.

import { readsValue, type Graph, type Use, type Value } from "../ir/index.js";
import { covers, type PortRef } from "./ports.js";

/** A patch as its pass keeps it: the slots it rewired (as SlotIds keys), and its reads of what it replaced. */
export interface AppliedPatch {
  slots: Set<string>;
  port: PortRef;
  value: Value;
  /** The uses of the value the patch read at its place that its own computation made. */
  reads: readonly Use[];
}

export class AppliedPatches {
  /** By the value patched (the imported model's, or an If branch's), in the forward pass's order. */
  private readonly byValue = new Map<Value, AppliedPatch[]>();

  /** The latest patch of `v` that covers `port` (whose slots are `mine`): what a read of it sees. */
  latest(v: Value, port: PortRef, mine: Set<string>): AppliedPatch | undefined {
    const list = this.byValue.get(v) ?? [];
    for (let i = list.length - 1; i >= 0; i--) {
      const p = list[i]!;
      if (covers(p.port, port, p.slots, mine)) return p;
    }
    return undefined;
  }

  /** The patches of `v` made earlier that a patch of `port` goes in before (downstream of it). */
  downstreamOf(v: Value, port: PortRef, mine: Set<string>): AppliedPatch[] {
    return (this.byValue.get(v) ?? []).filter((e) => covers(port, e.port, mine, e.slots) && !covers(e.port, port, e.slots, mine));
  }

  /** Records `applied`, a patch of `v`, before the first of `downstream` (at the end without any). */
  add(v: Value, applied: AppliedPatch, downstream: readonly AppliedPatch[]): void {
    const list = this.byValue.get(v) ?? [];
    const at = downstream.length > 0 ? list.indexOf(downstream[0]!) : list.length;
    list.splice(at, 0, applied);
    this.byValue.set(v, list);
  }
}

/** The slots the patches `downstream` keep (a patch going in before them leaves them alone). */
export function slotsOf(downstream: readonly AppliedPatch[]): Set<string> {
  const out = new Set<string>();
  for (const e of downstream) for (const k of e.slots) out.add(k);
  return out;
}

/**
 * Re-points the reads of `current` made by the patches `downstream` at `value`, the patch going in
 * before them; returns those uses (slots of the new patch's too: the warnings and the cycle check
 * follow them).
 */
export function feedDownstream(graph: Graph, downstream: readonly AppliedPatch[], current: Value, value: Value): Use[] {
  const fed: Use[] = [];
  for (const e of downstream) {
    for (const u of e.reads) {
      if (!readsValue(u, current)) continue;
      graph.rewire(u, value);
      fed.push(u);
    }
  }
  return fed;
}
