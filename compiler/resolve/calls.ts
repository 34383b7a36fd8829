// A module of the model called as a function: `transformer.ln_f(x)`, `lm_head(transformer.ln_f(h))`.
// The call is a new invocation of the module: a copy of its nodes (splice/calls.ts) with the
// arguments in place of what enters it — one argument for `M.input`, several for `M.inputs[0]`,
// `M.inputs[1]`, … — and the pass's values for what is not given. Its weights are the model's as
// the pass has them so far (a weight patched earlier in the pass is patched in the call too);
// activation patches of the module's own places are not part of a new invocation. It returns
// `M.output`, or the list `M.outputs[i]` where the export does not show which one the module
// returned. A module whose computation cannot be taken out of the graph is an error saying why.

import { fail, type Span } from "../../common/index.js";
import { formatShape, type Node, type Value } from "../ir/index.js";
import { elemName, elemOf } from "../lower/index.js";
import type { Module, Port } from "../modules/index.js";
import { spliceCall } from "../splice/index.js";
import type { Context } from "./context.js";
import { tensorVal, type CVal, type Pass } from "./values.js";

/** What a call of a module needs, worked out once per module. */
interface Callable {
  nodes: Node[];
}

const callables = new WeakMap<Module, Callable>();

export function callModule(ctx: Context, pass: Pass, m: Module, args: Value[], argSpans: Span[], span: Span): CVal {
  const how = callable(ctx, m, span);
  const ports = ctx.refs.ports(m);
  // What the arguments replace.
  let given: Port[];
  if (args.length === 0) {
    fail("E0201", `calling \`${m.displayPath}\` takes its input`, span, `give the value that enters it: \`${m.displayPath}(x)\``);
  } else if (args.length === 1) {
    const choice = ctx.refs.primaryOf(m, "input");
    if (choice.refusal?.reason === "ambiguous") {
      fail("E0111", `the export does not show which of ${choice.refusal.candidates.length} values entering \`${m.displayPath}\` is its first argument`, span,
        `give every value that enters it, in the order of \`${m.displayPath}.inputs[i]\`: \`${m.displayPath}(${choice.refusal.candidates.map((_, i) => `x${i}`).join(", ")})\` (\`intv inspect\` lists them)`);
    }
    if (!choice.port) ctx.refs.primary(m, "input", span); // raises the refusal's own error
    given = [choice.port!];
  } else {
    if (args.length > ports.inputs.length) {
      fail("E0201", `\`${m.displayPath}\` reads ${ports.inputs.length} value${ports.inputs.length === 1 ? "" : "s"} from outside (\`${m.displayPath}.inputs[i]\`), but the call gives ${args.length}`, span);
    }
    given = ports.inputs.slice(0, args.length);
  }
  const replace = new Map<Value, Value>();
  given.forEach((p, i) => {
    const want = elemOf(p.value);
    const got = elemOf(args[i]!);
    if (want && got && want !== got) {
      fail("E0204", `\`${m.displayPath}\` reads ${elemName(want)} ${args.length === 1 ? "as its input" : `as \`inputs[${i}]\``}, but the argument is ${elemName(got)}`, argSpans[i] ?? span, `convert it: \`cast(..., "${elemName(want)}")\``);
    }
    checkFeatures(m, p, args[i]!, args.length === 1 ? "as its input" : `as \`inputs[${i}]\``, argSpans[i] ?? span);
    replace.set(p.value, args[i]!);
  });
  const state = pass.state;
  const external = (v: Value, node: Node, index: number): Value => {
    const r = v.resolve();
    const arg = replace.get(r);
    if (arg) return arg;
    // Weights as the pass has them (a patch made earlier in the pass applies).
    if (index >= 0 && (r.kind === "initializer" || ctx.tree.origins.of(r) === "const")) return state.slotValue(node, index) ?? r;
    return state.readValue(r);
  };
  const map = spliceCall(ctx.b, how.nodes, m.path.replace(/\./g, "/"), (n) => ctx.refs.originalInputs(n), external);
  const result = (v: Value): Value => map.values.get(v) ?? replace.get(v) ?? state.readValue(v);
  const out = ctx.refs.primaryOf(m, "output");
  if (out.port) return tensorVal(result(out.port.value));
  if (out.refusal.reason === "ambiguous") return { k: "list", items: ports.outputs.map((p) => tensorVal(result(p.value))) };
  ctx.refs.primary(m, "output", span); // raises the refusal's own error
  return fail("E0110", `\`${m.displayPath}\` returns nothing the call could give`, span);
}

/** Operators that fix the size of their input's last axis (the features they multiply or normalize). */
const FEATURE_OPS = new Set(["MatMul", "Gemm", "LayerNormalization", "ReduceMean"]);

/**
 * Where the module first multiplies or normalizes what enters it over the last axis (a Linear, a
 * LayerNorm, the export's LayerNorm pattern starting with a ReduceMean), the argument must not be a
 * scalar and must have the same size along that axis where both are known. Other axes may differ:
 * a LayerNorm or a Linear works on `[batch, d]` as on `[batch, seq, d]`; a convolution's spatial
 * axes are not checked.
 */
function checkFeatures(m: Module, port: Port, arg: Value, what: string, span: Span): void {
  if (!port.slots.some((u) => u.index === 0 && FEATURE_OPS.has(u.node.opType))) return;
  const want = port.value.type?.shape;
  const got = arg.resolve().type?.shape;
  if (!want || !got || want.length === 0) return;
  if (got.length === 0) {
    fail("E0203", `\`${m.displayPath}\` reads a tensor of shape ${formatShape(want)} ${what}, but the argument is a scalar`, span);
  }
  const w = want[want.length - 1];
  const g = got[got.length - 1];
  if (typeof w === "number" && typeof g === "number" && w !== g) {
    fail("E0203", `\`${m.displayPath}\` reads ${formatShape(want)} ${what}, but the argument is ${formatShape(got)}: the last axes differ`, span,
      "the module multiplies or normalizes its input over the last axis, whose size its weights fix; other axes may differ");
  }
}

/** The module's nodes, or an error saying why its computation cannot be called. */
function callable(ctx: Context, m: Module, span: Span): Callable {
  const known = callables.get(m);
  if (known) return known;
  if (m.parent === null) {
    fail("E0209", "the whole model cannot be called", span, "run it on other inputs in a pass of its own: `pass other(input_ids = x) { save y = model.output }`");
  }
  ctx.refs.requireNodes(m, span);
  const nodes = m.nodes();
  if (nodes.length === 0) {
    fail("E0106", `\`${m.displayPath}\` has no nodes of its own in the exported graph, so there is nothing to call`, span,
      "the value flowing through it is the one entering it; read the port of the module before or after it");
  }
  const main = ctx.model.graph;
  const inBody = nodes.find((n) => n.graph !== main);
  if (inBody) {
    const owner = inBody.graph.owner;
    fail("E0212", `\`${m.displayPath}\` runs inside a control-flow body (the \`${owner?.opType ?? "?"}\` node \`${owner?.name ?? ""}\`), so it cannot be called`, span,
      "call a module of the main graph");
  }
  // The model's nodes that depend on the module's results.
  const inside = new Set(nodes);
  const downstream = new Set<Node>();
  const stack: Node[] = [...nodes];
  while (stack.length > 0) {
    const n = stack.pop()!;
    for (const o of n.outputs) {
      if (!o) continue;
      for (const u of ctx.refs.originalUses(o)) {
        const c = u.node;
        if (c.graph !== main || inside.has(c) || downstream.has(c) || !ctx.original.nodes.has(c)) continue;
        downstream.add(c);
        stack.push(c);
      }
    }
  }
  // What the module reads from the rest of the model must not depend on the module's own results,
  // given as an argument or not: such nodes are not one invocation (a module run twice under one
  // name, around another), and a copy of them with an argument in place of that value would
  // compute something no call of the PyTorch module computes.
  for (const n of nodes) {
    for (const v of ctx.refs.originalInputs(n)) {
      const from = v?.resolve().producer;
      if (!v || !from || inside.has(from) || !downstream.has(from)) continue;
      fail("E0209", `\`${m.displayPath}\` cannot be called: it reads \`${v.resolve().name}\`, which the model computes from the module's own results`, span,
        "call a module whose nodes form one computation (a submodule, or the module around it)");
    }
  }
  const how = { nodes };
  callables.set(m, how);
  return how;
}
