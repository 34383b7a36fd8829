// References to the model: module paths, ports, parameters, graph inputs/outputs and raw tensors,
// resolved against the module tree. Port semantics are in docs/language.md ("Port semantics").

import { fail, suggest, type Span } from "../../common/index.js";
import type { Graph, IrModel, Node, Use, Value } from "../ir/index.js";
import { bodyScopes, foldedConvOf, frozenEdges, homeScope, modulePorts, moduleParams, primaryPort, type Edges, type Module, type ModuleTree, type ParamInfo, type Port, type PortChoice, type Refusal } from "../modules/index.js";
import type { PortInstance, PortRef } from "../splice/index.js";

const PORT_WORDS = ["input", "inputs", "output", "outputs", "calls"];

export class References {
  private readonly cache = new Map<string, PortRef>();
  /** Where the reference being resolved is written (for errors raised while caching it). */
  currentSpan: Span | null = null;
  private readonly portsCache = new Map<Module, ReturnType<typeof modulePorts>>();
  private readonly primaryCache = new Map<string, PortChoice>();
  private readonly paramsCache = new Map<Module, ParamInfo[]>();

  /**
   * The graph's edges before the script changed anything (modules/edges.ts): ports, parameters
   * and consumer slots are the model's own, computed when a script first names them.
   */
  private readonly edges: Edges;

  constructor(
    readonly model: IrModel,
    readonly tree: ModuleTree,
  ) {
    this.edges = frozenEdges(model.graph);
  }

  /** A node's inputs before the script changed anything (a patch of a pass in place rewires them). */
  originalInputs(n: Node): readonly (Value | null)[] {
    return this.edges.inputs(n);
  }

  /** A value's consumers before the script changed anything. */
  originalUses(v: Value): readonly Use[] {
    return this.edges.uses(v);
  }

  private uses(v: Value): Use[] {
    return [...this.edges.uses(v)];
  }

  /** The module's ports in the model as given. */
  ports(m: Module) {
    let p = this.portsCache.get(m);
    if (!p) this.portsCache.set(m, (p = modulePorts(m, homeScope(m), this.edges)));
    return p;
  }

  /** `M.input` / `M.output` in the model as given, or the refusal. */
  primaryOf(m: Module, kind: "input" | "output"): PortChoice {
    const key = `${kind}:${m.path}`;
    let c = this.primaryCache.get(key);
    if (!c) this.primaryCache.set(key, (c = primaryPort(m, kind, homeScope(m), this.ports(m), this.edges)));
    return c;
  }

  /** Parameters found by role are found in the unpatched graph: a patch rewires the node they are read from. */
  private params(m: Module): ParamInfo[] {
    let p = this.paramsCache.get(m);
    if (!p) this.paramsCache.set(m, (p = moduleParams(m, this.edges)));
    return p;
  }

  private remember(ref: PortRef): PortRef {
    const found = this.cache.get(ref.key);
    if (found) return found;
    if (ref.value.graph !== this.model.graph && !ref.instances) {
      // Values inside If/Loop/Scan bodies exist once per iteration or branch; a save or patch
      // there needs splicing into the body itself, which intv does not do yet. Say so.
      const owner = ref.value.graph.owner;
      fail("E0212", `\`${ref.display}\` is computed inside a control-flow body (the \`${owner?.opType ?? "?"}\` node \`${owner?.name ?? ""}\`)`, this.currentSpan ?? undefined,
        `intv cannot save or patch a value inside a \`${owner?.opType ?? "control-flow"}\` body yet (only modules inside the branches of an If of the main graph); use the value where it enters or leaves the node instead: \`tensor("NAME")\` of one of its inputs or outputs, or a module that contains the whole node`);
    }
    this.cache.set(ref.key, ref);
    return ref;
  }

  requireNodes(m: Module, span: Span): void {
    if (m.hasNodes() || m.inferred) return;
    const lower = m.name.toLowerCase();
    const why = /drop/.test(lower)
      ? "dropout does nothing in eval mode, so the exporter removes it"
      : /bn|batchnorm|norm/.test(lower)
        ? "a BatchNorm after a Conv is folded into the Conv's weights by the exporter"
        : "the exporter used its weights directly or removed it";
    const prev = m.parent?.childList().filter((c) => c.hasNodes() && c.rank() >= 0);
    fail("E0106", `\`${m.displayPath}\` has no nodes in the exported graph`, span,
      prev && prev.length > 0 ? `read a neighbouring module instead, such as \`${prev[prev.length - 1]!.displayPath}.output\`` : undefined,
      { notes: [`${why}; the module existed (the model names it) but computes nothing of its own in the graph`] });
  }

  /** `M.outputs[i]` / `M.inputs[i]`: the values leaving / entering `M`, as `intv inspect` lists them. */
  modulePort(m: Module, kind: "input" | "output", index: number, span: Span): PortRef {
    this.currentSpan = span;
    this.requireNodes(m, span);
    const list = kind === "input" ? this.ports(m).inputs : this.ports(m).outputs;
    const i = index < 0 ? index + list.length : index;
    const port: Port | undefined = list[i];
    if (!port) {
      fail("E0103", `\`${m.displayPath}\` has ${list.length} ${kind}${list.length === 1 ? "" : "s"}, so \`${kind}s[${index}]\` does not exist`, span,
        list.length > 0 ? `${kind} indices go from 0 to ${list.length - 1}; \`intv inspect\` lists them` : undefined);
    }
    return this.portRef(m, port, `${kind}:${m.path}:${i}`, `${m.displayPath}.${kind}s[${i}]`, span, (g) => {
      const p = (kind === "input" ? modulePorts(m, g, this.edges).inputs : modulePorts(m, g, this.edges).outputs)[i];
      if (!p) fail("E0103", `\`${m.displayPath}\` has no ${kind} ${i} in one of the branches it appears in`, span);
      return p;
    });
  }

  /**
   * `M.output` / `M.input`: what PyTorch's forward hook / pre-hook sees — the value `M`'s forward
   * returned (the first tensor of a tuple), its first tensor argument — or an error saying why
   * the export cannot tell (modules/ports.ts, `primaryPort`).
   */
  primary(m: Module, kind: "input" | "output", span: Span): PortRef {
    this.currentSpan = span;
    const display = `${m.displayPath}.${kind}`;
    const choice = this.primaryOf(m, kind);
    if (choice.refusal) this.refuse(m, kind, display, choice.refusal, span);
    return this.portRef(m, choice.port, `${kind}:${m.path}:primary`, display, span, (g) => {
      const c = primaryPort(m, kind, g, undefined, this.edges);
      if (c.refusal) this.refuse(m, kind, display, c.refusal, span);
      return c.port;
    });
  }

  /** A PortRef for `port`; for a module inside If branches, with its port in each branch (`inBranch` picks it). */
  private portRef(m: Module, port: Port, key: string, display: string, span: Span, inBranch: (g: Graph) => Port): PortRef {
    const kind = port.kind;
    const ref: PortRef = { key, display, module: m, value: port.value, slots: port.slots, graphOutputs: port.graphOutputs, direction: kind, depth: m.path === "" ? 0 : m.path.split(".").length };
    if (port.value.graph !== this.model.graph && !this.cache.has(ref.key)) ref.instances = this.branchInstances(m, display, span, inBranch);
    return this.remember(ref);
  }

  private refuse(m: Module, kind: "input" | "output", display: string, r: Refusal, span: Span): never {
    const where = (v: Value) => `\`${v.name}\`${v.producer ? ` (from the \`${v.producer.opType}\` node \`${v.producer.name || "?"}\`)` : ""}`;
    const preserve = "or export with `torch.onnx.export(..., training=torch.onnx.TrainingMode.PRESERVE)`, which keeps each BatchNorm as a node of its own";
    switch (r.reason) {
      case "no-nodes":
        this.requireNodes(m, span);
        return fail("E0106", `\`${m.displayPath}\` has no nodes in the exported graph`, span);
      case "no-flow":
        return fail("E0106", `\`${m.displayPath}\` has no nodes in the exported graph, and its neighbours do not show what passed through it`, span,
          "read the output of the entry before it or the input of the entry after it",
          { notes: [`\`${m.parent?.displayPath}\` has entries on both sides of it, so it existed: an eval-mode Dropout or Identity, or a BatchNorm folded into a Conv`] });
      case "not-called":
        return fail("E0112", `\`${m.displayPath}\` is a container that is never called, so it has no ${kind} of its own`, span,
          `read one of its entries, such as \`${m.displayPath}[${kind === "output" ? -1 : 0}].${kind}\``,
          { notes: ["PyTorch runs the entries of a `ModuleList` or `ModuleDict`, never the list itself: forward hooks on it never fire"] });
      case "folded": {
        const conv = r.conv.node;
        const convModule = this.tree.moduleOf.get(conv);
        const own = convModule === m;
        return fail("E0110", own
          ? `\`${display}\` is not in the exported graph: the exporter folded the BatchNorm after this convolution into it`
          : `\`${display}\` is not in the exported graph: it is the output of a convolution the exporter folded a BatchNorm into`, span,
          `the value after the convolution and its BatchNorm is \`tensor("${conv.outputs[0]!.name}")\`; ${preserve}`,
          { notes: [`the \`Conv\` node \`${conv.name}\`${convModule && !own ? ` (in \`${convModule.displayPath}\`)` : ""} has weights computed at export time (\`${r.conv.weight}\`, not a parameter of the module), so it computes the convolution and the BatchNorm in one step; the convolution's own output exists nowhere in the graph${own ? "" : `, and the export does not show whether \`${m.displayPath}\` returns the value before or after that BatchNorm`}`] });
      }
      case "fused-away":
        return fail("E0110", `\`${display}\` is not in the exported graph: it is a value before the BatchNorm the exporter folded into \`${this.tree.moduleOf.get(r.conv.node)?.displayPath ?? r.conv.node.name}\``, span,
          `the value after the convolution and its BatchNorm is \`tensor("${r.conv.node.outputs[0]!.name}")\`; ${preserve}`);
      case "ambiguous": {
        const list = kind === "output" ? this.ports(m).outputs : this.ports(m).inputs;
        const lines = r.candidates.map((p) => `\`${m.displayPath}.${kind}s[${list.findIndex((x) => x.value === p.value)}]\` is ${where(p.value)}`);
        return fail("E0111", kind === "output"
          ? `the export does not show which of ${r.candidates.length} values leaving \`${m.displayPath}\` its forward returned`
          : `the export does not show which of ${r.candidates.length} values entering \`${m.displayPath}\` is its first argument`, span,
          `name the one you mean with \`${m.displayPath}.${kind}s[i]\`, or read it with \`tensor("NAME")\``, { notes: lines });
      }
      case "list-argument":
        return fail("E0111", `the first argument of \`${m.displayPath}\` may be a list: the first thing it does is concatenate what enters it`, span,
          `read the tensor that enters it as \`${m.displayPath}.inputs[${this.ports(m).inputs.findIndex((x) => x.value === r.port.value)}]\``,
          { notes: ["a forward pre-hook sees the list itself, which is not a tensor of the graph"] });
      case "constant-input":
        return fail("E0110", `\`${display}\` is a constant in the exported graph, so it cannot be told from the module's weights`, span,
          "the exporter computed this input when it exported the model; `intv inspect` lists the module's tensors");
      case "no-output":
        return fail("E0110", `nothing computed from the model's inputs leaves \`${m.displayPath}\` in the exported graph`, span,
          "its results may be constants the exporter computed in advance");
      default: {
        const never: never = r;
        return never;
      }
    }
  }

  /**
   * A module inside the branches of an If node of the main graph: its port in every branch it
   * appears in. Deeper nesting (a Loop body, an If inside a branch) is refused (E0212).
   */
  private branchInstances(m: Module, display: string, span: Span, inBranch: (g: Graph) => Port): PortInstance[] {
    const instances: PortInstance[] = [];
    // A module that left no node (an identity entry of a Sequential) runs where its neighbours do.
    let holder: Module | null = m;
    while (holder && !holder.hasNodes()) holder = holder.parent;
    for (const graph of holder ? bodyScopes(holder) : []) {
      const owner = graph.owner;
      if (!owner || owner.opType !== "If" || owner.graph !== this.model.graph) {
        fail("E0212", `\`${display}\` is computed inside a control-flow body (the \`${owner?.opType ?? "?"}\` node \`${owner?.name ?? ""}\`)`, span,
          `intv saves and patches modules inside the branches of an If node of the main graph; inside Loop/Scan bodies or nested control flow it cannot yet: use the value where it enters or leaves the \`${owner?.opType ?? "?"}\` node instead (\`tensor("NAME")\` of one of its inputs or outputs, or a module that contains the whole node)`);
      }
      const port = inBranch(graph);
      instances.push({ graph, value: port.value, slots: port.slots, bodyOutputs: port.graphOutputs });
    }
    return instances;
  }

  param(m: Module, name: string, span: Span): PortRef | null {
    this.currentSpan = span;
    const p = this.params(m).find((x) => x.name === name);
    if (!p) return null;
    return this.remember({ key: `param:${m.path}:${name}`, display: `${m.displayPath}.${name}`, module: m, value: p.value, slots: this.uses(p.value), graphOutputs: [], direction: "output", depth: Infinity });
    void span;
  }

  graphInput(key: number | string, span: Span): PortRef {
    const g = this.model.graph;
    const inputs = g.inputs.filter((v) => !v.initializer);
    const v = typeof key === "number" ? inputs[key < 0 ? key + inputs.length : key] : inputs.find((x) => x.name === key);
    if (!v) {
      const names = inputs.map((x) => x.name);
      const hint = typeof key === "string" ? suggest(key, names) : undefined;
      fail("E0109", `the model has no input ${typeof key === "number" ? `number ${key}` : `\`${key}\``}`, span,
        hint ? `did you mean \`${hint}\`?` : `the model's inputs are ${names.map((n) => `\`${n}\``).join(", ")}`);
    }
    return this.remember({ key: `graph-input:${v.name}`, display: `model.inputs["${v.name}"]`, module: null, value: v, slots: this.uses(v), graphOutputs: [], direction: "output", depth: Infinity });
  }

  graphOutput(key: number | string, span: Span): PortRef {
    const g = this.model.graph;
    const i = typeof key === "number" ? (key < 0 ? key + g.outputs.length : key) : g.outputs.findIndex((v) => v.name === key);
    const v = g.outputs[i];
    if (!v || i < 0) {
      const names = g.outputs.map((x) => x.name);
      const hint = typeof key === "string" ? suggest(key, names) : undefined;
      fail("E0109", `the model has no output ${typeof key === "number" ? `number ${key}` : `\`${key}\``}`, span,
        hint ? `did you mean \`${hint}\`?` : `the model's outputs are ${names.map((n) => `\`${n}\``).join(", ")}`);
    }
    const others = g.outputs.flatMap((o, j) => (o === v ? [j] : []));
    return this.remember({ key: `graph-output:${i}`, display: i === 0 ? "model.output" : `model.outputs[${i}]`, module: null, value: v, slots: [], graphOutputs: others, direction: "output", depth: 0 });
  }

  tensor(name: string, span: Span): PortRef {
    this.currentSpan = span;
    const main = this.model.graph;
    const v: Value | undefined = main.values.get(name);
    if (!v) {
      // A tensor of an If branch (a model whose whole graph sits in one If, as some third-party
      // exports do): a place in that branch, read and patched as modules in branches are.
      const inBody = findInBodies(main, name);
      if (inBody) {
        const display = `tensor("${name}")`;
        const instance: PortInstance = { graph: inBody.graph, value: inBody, slots: this.uses(inBody), bodyOutputs: this.edges.outputs(inBody.graph).flatMap((o, j) => (o === inBody ? [j] : [])) };
        const ref: PortRef = { key: `tensor:${name}`, display, module: null, value: inBody, slots: instance.slots, graphOutputs: [], direction: "output", depth: Infinity };
        const owner = inBody.graph.owner;
        if (owner && owner.opType === "If" && owner.graph === main && !this.cache.has(ref.key)) ref.instances = [instance];
        return this.remember(ref);
      }
      const hint = suggest(name, [...main.values.keys()]);
      fail("E0107", `the model has no tensor named \`${name}\``, span, hint ? `did you mean \`${hint}\`?` : "`intv inspect --json` lists the ports' tensor names");
    }
    const outputs = main.outputs.flatMap((o, j) => (o === v ? [j] : []));
    return this.remember({ key: `tensor:${name}`, display: `tensor("${name}")`, module: null, value: v, slots: this.uses(v), graphOutputs: outputs, direction: "output", depth: Infinity });
  }

  /** `m.name` or `m["name"]`: a child module, or an error naming what exists. */
  child(m: Module, name: string, span: Span): Module {
    const c = m.child(name);
    if (c) return c;
    const candidates = [...m.children.keys(), ...this.params(m).map((p) => p.name), ...PORT_WORDS];
    const hint = suggest(name, candidates);
    const children = m.childList().map((x) => typedName(x.name));
    const notes = this.absentChildNotes(m, name, false);
    fail("E0102", `\`${m.displayPath}\` has no child, port or parameter \`${name}\``, span,
      hint ? `did you mean \`${typedName(hint)}\`?` : children.length > 0 ? `its children are ${children.slice(0, 8).map((x) => `\`${x}\``).join(", ")}${children.length > 8 ? ", …" : ""}` : undefined,
      notes.length > 0 ? { notes } : undefined);
  }

  /**
   * Why a module the user names may be missing from `m`: folded into a convolution, or a module
   * that does nothing in eval mode. With `onlyLikely`, only when the name looks like such a module
   * (a top-level name that is not defined is more often a typo of a variable).
   */
  absentChildNotes(m: Module, name: string, onlyLikely: boolean): string[] {
    const folded = this.foldedConvsIn(m);
    if (folded.length > 0 && (!onlyLikely || /^(bn\d*|batchnorm|norm)/i.test(name))) {
      const names = folded.map((c) => `\`${c.displayPath}\``).join(", ");
      return [`the exporter folded BatchNorm modules into ${names} and removed them from the graph; if \`${name}\` is one of them, the value after it is that convolution's fused output (\`intv inspect\` shows it), and an export with \`training=torch.onnx.TrainingMode.PRESERVE\` keeps it`];
    }
    if (folded.length === 0 && /^(drop|dropout|bn\d*|batchnorm|identity)/i.test(name)) {
      return ["modules that do nothing in eval mode (Dropout, Identity) leave no trace in an exported graph"];
    }
    return [];
  }

  /** `m[i]`: the entry named `i` of a `Sequential` or `ModuleList` — never "the i-th child". */
  childAt(m: Module, index: number, span: Span): Module {
    const c = m.childAt(index);
    if (c) return c;
    const numbered = m.numberedLength();
    if (numbered === 0) {
      const children = m.childList().map((x) => memberSpelling(x.name));
      fail("E0104", `\`${m.displayPath}\` is not a list: \`[${index}]\` names its child \`${index}\`, and it has none`, span,
        children.length > 0 ? `its children are ${children.slice(0, 8).map((x) => `\`${m.displayPath}${x}\``).join(", ")}${children.length > 8 ? ", …" : ""}` : undefined);
    }
    fail("E0104", `\`${m.displayPath}\` has ${numbered} layers, so \`[${index}]\` is out of range`, span,
      `indices go from 0 to ${numbered - 1} (or -${numbered} to -1 from the end)`);
  }

  /** Convolutions in `m` (not its descendants' children) whose weights were folded with a BatchNorm. */
  private foldedConvsIn(m: Module): Module[] {
    const out: Module[] = [];
    for (const c of m.childList()) {
      if (c.nodes().some((n) => n.outputs[0] && foldedConvOf(n.outputs[0], this.edges) && this.tree.moduleOf.get(n) === c)) out.push(c);
    }
    return out;
  }
}

/** A name as the user types it after a `.`, or as a string index when it is not an identifier. */
function typedName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `[${JSON.stringify(name)}]`;
}

/** How a child is written after its parent: `.name`, `[3]`, or `["block1-0"]`. */
export function memberSpelling(name: string): string {
  if (/^\d+$/.test(name)) return `[${name}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `.${name}`;
  return `[${JSON.stringify(name)}]`;
}

/** A value named `name` defined inside a control-flow body of `graph` (depth first). */
function findInBodies(graph: Graph, name: string): Value | undefined {
  for (const node of graph.nodes) {
    for (const body of node.subgraphs.values()) {
      const v = body.values.get(name);
      if (v && v.kind !== "outer") return v;
      const deeper = findInBodies(body, name);
      if (deeper) return deeper;
    }
  }
  return undefined;
}
