// Reading a port of a module that sits inside the branches of an If node. Inside one of its
// branches it is that branch's value; elsewhere it is the value of whichever branch ran: each
// branch's value becomes an extra output of its branch, and the If node gets the matching extra
// output.

import { fail, type Span } from "../../common/index.js";
import type { Value } from "../ir/index.js";
import type { Builder } from "../lower/index.js";
import type { PassState } from "./passes.js";
import type { PortRef } from "./ports.js";

export function readBranchPort(b: Builder, pass: PassState, ref: PortRef, span: Span): Value {
  const instances = ref.instances!;
  const here = instances.find((i) => pass.graphOf(i) === b.graph);
  if (here) return pass.readInstance(ref, here);
  const owners = new Set(instances.map((i) => pass.graphOf(i).owner!));
  const owner = [...owners][0]!;
  const branches = [...owner.subgraphs.values()];
  if (owners.size !== 1 || branches.length !== instances.length) {
    fail("E0212", `\`${ref.display}\` is computed in only some branches of the \`If\` node \`${owner.name}\`, so it has no value when another branch runs`, span,
      "patch it (a patch applies in the branches where the module runs), or read a value computed after the If");
  }
  const values = branches.map((g) => pass.readInstance(ref, instances.find((i) => pass.graphOf(i) === g)!));
  const cached = pass.merged.get(ref.key);
  if (cached && cached.values.every((v, i) => v === values[i])) return cached.out;
  // Each branch returns the value through an Identity of its own: a body listing one tensor as
  // two of its outputs made onnxruntime 1.30 return the wrong branch's value for the other.
  branches.forEach((g, i) => {
    b.within(g, () => g.outputs.push(b.op1("Identity", [values[i]!])));
    g.outputInfos.push(null);
  });
  const main = b.model.graph;
  const out = main.addValue(b.freshName(`${owner.name || "If"}/intv.${ref.display}`), "node", values[0]!.resolve().type);
  out.producer = owner;
  out.producerIndex = owner.outputs.length;
  owner.outputs.push(out);
  pass.merged.set(ref.key, { values, out });
  return out;
}
