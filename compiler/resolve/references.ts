// References to the model: module paths, ports, parameters, graph inputs/outputs and raw tensors,
// resolved against the module tree. Port semantics are in docs/language.md ("Port semantics").

import { fail, suggest, type Span } from "../../common/index.js";
import type { IrModel, Use, Value } from "../ir/index.js";
import { modulePorts, modulePortsByScope, moduleParams, type Module, type ModuleTree, type Port } from "../modules/index.js";
import type { PortInstance, PortRef } from "../splice/index.js";

const PORT_WORDS = ["input", "inputs", "output", "outputs", "calls"];

export class References {
  private readonly cache = new Map<string, PortRef>();
  /** Where the reference being resolved is written (for errors raised while caching it). */
  currentSpan: Span | null = null;
  private readonly portsCache = new Map<Module, ReturnType<typeof modulePorts>>();

  /** Consumers of every value before the script changed anything. */
  private readonly baseUses = new Map<Value, Use[]>();

  constructor(
    readonly model: IrModel,
    readonly tree: ModuleTree,
  ) {
    for (const v of model.graph.values.values()) this.baseUses.set(v, [...v.uses]);
    this.snapshotAll();
  }

  private uses(v: Value): Use[] {
    return this.baseUses.get(v) ?? [...v.uses];
  }

  private ports(m: Module) {
    let p = this.portsCache.get(m);
    if (!p) this.portsCache.set(m, (p = modulePorts(m)));
    return p;
  }

  /** Build every port's slot set now, from the unmodified graph (patches change the use lists). */
  private snapshotAll(): void {
    for (const m of this.tree.all()) this.ports(m);
  }

  private remember(ref: PortRef): PortRef {
    const found = this.cache.get(ref.key);
    if (found) return found;
    if (ref.value.graph !== this.model.graph && !ref.instances) {
      // Values inside If/Loop/Scan bodies exist once per iteration or branch; a save or patch
      // there needs splicing into the body itself, which intv does not do yet. Say so.
      const owner = ref.value.graph.owner;
      fail("E0212", `\`${ref.display}\` is computed inside a control-flow body (the \`${owner?.opType ?? "?"}\` node \`${owner?.name ?? ""}\`)`, this.currentSpan ?? undefined,
        "intv cannot save or patch values inside If/Loop/Scan bodies yet; use the control-flow node's output or input instead");
    }
    this.cache.set(ref.key, ref);
    return ref;
  }

  requireNodes(m: Module, span: Span): void {
    if (m.hasNodes()) return;
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
    const word = i === 0 ? kind : `${kind}s[${i}]`;
    const ref: PortRef = { key: `${kind}:${m.path}:${i}`, display: `${m.displayPath}.${word}`, module: m, value: port.value, slots: port.slots, graphOutputs: port.graphOutputs, direction: kind, depth: m.path === "" ? 0 : m.path.split(".").length };
    if (port.value.graph !== this.model.graph && !this.cache.has(ref.key)) ref.instances = this.branchInstances(m, kind, i, ref.display, span);
    return this.remember(ref);
  }

  /**
   * A module inside the branches of an If node of the main graph: its port in every branch it
   * appears in. Deeper nesting (a Loop body, an If inside a branch) is refused (E0212).
   */
  private branchInstances(m: Module, kind: "input" | "output", i: number, display: string, span: Span): PortInstance[] {
    const instances: PortInstance[] = [];
    for (const [graph, ports] of modulePortsByScope(m)) {
      const owner = graph.owner;
      if (!owner || owner.opType !== "If" || owner.graph !== this.model.graph) {
        fail("E0212", `\`${display}\` is computed inside a control-flow body (the \`${owner?.opType ?? "?"}\` node \`${owner?.name ?? ""}\`)`, span,
          "intv saves and patches modules inside the branches of an If node of the main graph; inside Loop/Scan bodies or nested control flow it cannot yet");
      }
      const port = (kind === "input" ? ports.inputs : ports.outputs)[i];
      if (!port) fail("E0103", `\`${m.displayPath}\` has no ${kind} ${i} in one of the branches it appears in`, span);
      instances.push({ graph, value: port.value, slots: port.slots, bodyOutputs: port.graphOutputs });
    }
    return instances;
  }

  param(m: Module, name: string, span: Span): PortRef | null {
    this.currentSpan = span;
    const p = moduleParams(m).find((x) => x.name === name);
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
    const v: Value | undefined = this.model.graph.values.get(name);
    if (!v) {
      const hint = suggest(name, [...this.model.graph.values.keys()]);
      fail("E0107", `the model has no tensor named \`${name}\``, span, hint ? `did you mean \`${hint}\`?` : "`intv inspect --json` lists the ports' tensor names");
    }
    const outputs = this.model.graph.outputs.flatMap((o, j) => (o === v ? [j] : []));
    return this.remember({ key: `tensor:${name}`, display: `tensor("${name}")`, module: null, value: v, slots: this.uses(v), graphOutputs: outputs, direction: "output", depth: Infinity });
  }

  /** `m.name`: a child module, or an error naming what exists. */
  child(m: Module, name: string, span: Span): Module {
    const c = m.child(name);
    if (c) return c;
    const candidates = [...m.children.keys(), ...moduleParams(m).map((p) => p.name), ...PORT_WORDS];
    const hint = suggest(name, candidates);
    const children = m.childList().map((x) => x.name);
    fail("E0102", `\`${m.displayPath}\` has no child, port or parameter \`${name}\``, span,
      hint ? `did you mean \`${hint}\`?` : children.length > 0 ? `its children are ${children.slice(0, 8).map((x) => `\`${x}\``).join(", ")}${children.length > 8 ? ", …" : ""}` : undefined,
      /^(drop|dropout|bn\d*|batchnorm)/i.test(name) ? { notes: ["modules that do nothing in eval mode (dropout) leave no trace in an exported graph"] } : undefined);
  }

  childAt(m: Module, index: number, span: Span): Module {
    const c = m.childAt(index);
    if (c) return c;
    const numbered = m.numberedLength();
    const i = index < 0 ? index + numbered : index;
    if (numbered > 0 && i >= 0 && i < numbered) {
      // A gap in a Sequential's numbering: the module existed but left nothing in the graph.
      fail("E0106", `\`${m.displayPath}[${i}]\` has no nodes in the exported graph`, span,
        `read a neighbouring module instead, such as \`${m.displayPath}[${i - 1 >= 0 && m.child(String(i - 1)) ? i - 1 : i + 1}].output\``,
        { notes: [`\`${m.displayPath}\` has entries around index ${i}, so it existed; a BatchNorm after a Conv is folded into the Conv's weights and dropout is removed in eval-mode exports`] });
    }
    const n = numbered > 0 ? numbered : m.childList().length;
    const what = /^\d+$/.test(m.childList()[0]?.name ?? "") ? "layers" : "children";
    fail("E0104", `\`${m.displayPath}\` has ${n} ${what}, so \`[${index}]\` is out of range`, span,
      n > 0 ? `indices go from 0 to ${n - 1} (or -${n} to -1 from the end)` : undefined);
  }
}
