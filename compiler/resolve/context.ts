// The state of a running script, shared by the statements (statements.ts) and the expressions
// (expressions.ts): the model and its names, the builder that lowers into it, the passes, the
// records that become the Resolution, the limit budget and the reporter.

import type { Span } from "../../common/index.js";
import type { Stmt } from "../../grammar/index.js";
import { deadNodes, toposort, type IrModel, type Value } from "../ir/index.js";
import { Budget } from "../limits.js";
import { Builder } from "../lower/index.js";
import type { ModuleTree } from "../modules/index.js";
import { PassState, SlotIds, type Originals, type PatchRecord } from "../splice/index.js";
import type { ImportedModel } from "./imports.js";
import { References } from "./references.js";
import { Reporter } from "./report.js";
import type { ParamRecord, ReadRecord, ResolveInput, Resolution, SaveRecord } from "./resolution.js";
import type { Pass } from "./values.js";

export type PassStmt = Extract<Stmt, { kind: "Pass" }>;

export class Context {
  readonly model: IrModel;
  readonly tree: ModuleTree;
  readonly b: Builder;
  readonly refs: References;
  readonly reporter = new Reporter();
  readonly budget: Budget;
  readonly original: Resolution["original"];

  readonly reads: ReadRecord[] = [];
  readonly saves: SaveRecord[] = [];
  readonly patches: PatchRecord[] = [];
  readonly params: ParamRecord[] = [];

  readonly passes: Pass[] = [];
  /** Computations of the model on overridden inputs, one per set of overrides (passes start from them). */
  private readonly bases = new Map<string, PassState>();
  private readonly originals: Originals;
  /** Passes that only read (see `outerPass`). */
  private readonly readers: PassState[] = [];
  readonly passByName = new Map<string, Pass>();
  /** Passes written with an index (`pass patched[l]`), by name and index, as they ran. */
  readonly passFamilies = new Map<string, Map<number, Pass>>();
  /** The `pass` statements of the script (top level and in loops), run or not yet. */
  readonly namedPasses: PassStmt[];
  /** Whether the model has control-flow bodies (If, Loop): then no pass computes in place. */
  private readonly hasBodies: boolean;
  /** The pass of statements outside `pass` blocks (`main`), when there is one. */
  defaultPass: Pass | null = null;

  /** Imported models, once per file however often the `import` runs. */
  readonly imports = new Map<string, ImportedModel | "failed">();
  /** Full save names (`first.x`) → where first saved. */
  readonly saveNames = new Map<string, Span>();
  /** The statement being run, counted in program order after unrolling (records carry it). */
  seq = 0;
  private readonly slotIds = new SlotIds();
  private readonly valueIds = new ObjectIds();

  constructor(readonly input: ResolveInput) {
    const model = input.model;
    const graph = model.graph;
    this.model = model;
    this.tree = input.tree;
    // The order the module tree was built from: nothing has changed the graph since.
    const order = input.tree.model.graph === graph && input.tree.order.length === graph.nodes.size ? input.tree.order : toposort(graph).order;
    this.originals = { nodes: new Set(graph.nodes), rank: new Map(order.map((n, i) => [n, i])) };
    this.original = { nodes: this.originals.nodes, unused: deadNodes(graph, new Set()), inputs: graph.inputs.filter((v) => !v.initializer), outputs: [...graph.outputs] };
    this.b = new Builder(model, graph);
    this.refs = new References(model, input.tree);
    this.namedPasses = passStatements(input.script.statements);
    this.hasBodies = order.some((n) => n.subgraphs.size > 0);
    this.budget = new Budget(input.limits, () => graph.nodes.size);
    this.b.limitNodes(input.limits.maxNodes);
  }

  /**
   * Start a pass: on the model's own nodes, or on the computation of the model from other inputs
   * (`inputs`), which passes with the same overrides share.
   */
  newPass(name: string, span: Span | null, inputs: { input: Value; value: Value; from: string }[] = [], family?: { name: string; index: number }): Pass {
    const base = inputs.length > 0 ? this.baseFor(inputs) : null;
    // The only pass of the script computes on the model's own nodes (splice/passes.ts).
    const inPlace = this.namedPasses.length === 0 && base === null && this.passes.length === 0 && !this.hasBodies;
    const state = new PassState(name, this.model, this.slotIds, span, this.originals, base, name, inPlace);
    for (const o of inputs) state.overrides.push({ input: o.input.name, from: o.from });
    const pass: Pass = { name, state, exports: new Map(), finished: false };
    this.passes.push(pass);
    this.passByName.set(name, pass);
    if (family) {
      const members = this.passFamilies.get(family.name) ?? new Map<number, Pass>();
      members.set(family.index, pass);
      this.passFamilies.set(family.name, members);
    }
    return pass;
  }

  /** The computation of the model with `inputs` replaced: made once per set of values. */
  private baseFor(inputs: { input: Value; value: Value; from: string }[]): PassState {
    const sorted = [...inputs].sort((a, b) => (a.input.name < b.input.name ? -1 : 1));
    const key = sorted.map((o) => `${o.input.name}=${this.valueIds.id(o.value)}`).join("&");
    let base = this.bases.get(key);
    if (!base) {
      const name = `intv.inputs[${sorted.map((o) => `${o.input.name}=${o.from}`).join(",")}]`;
      base = PassState.onInputs(name, this.model, this.slotIds, this.originals, sorted);
      this.bases.set(key, base);
    }
    return base;
  }

  /**
   * The pass a port is read in when its tensor is needed outside an expression's own pass (a
   * `param`'s default, a port given where a tensor is expected): the default pass, else the first.
   */
  get firstPass(): Pass {
    return this.defaultPass ?? this.passes[0]!;
  }

  private reader: Pass | null = null;

  /**
   * Where the expressions written outside every pass body run (a pass's overridden inputs): the
   * default pass, or, in a script without one, a pass of its own that reads the model as it is.
   */
  outerPass(): Pass {
    if (this.defaultPass) return this.defaultPass;
    if (!this.reader) {
      const state = new PassState("main", this.model, this.slotIds, null, this.originals);
      this.reader = { name: "main", state, exports: new Map(), finished: false };
      this.readers.push(state);
    }
    return this.reader;
  }

  resolution(): Resolution {
    return {
      model: this.model,
      tree: this.tree,
      passes: this.passes.map((p) => p.state),
      bases: [...this.bases.values(), ...this.readers],
      reads: this.reads,
      saves: this.saves,
      patches: this.patches,
      params: this.params,
      original: this.original,
      diagnostics: this.reporter.diagnostics,
    };
  }
}

/** Numbers for objects, in the order they are first asked for (deterministic keys). */
class ObjectIds {
  private readonly ids = new WeakMap<object, number>();
  private next = 0;
  id(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = this.next++));
    return id;
  }
}

/** Every `pass` statement, at the top level or inside loops (a pass inside a pass is an error, not counted). */
function passStatements(statements: readonly Stmt[]): PassStmt[] {
  const out: PassStmt[] = [];
  const stack = [...statements].reverse();
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (s.kind === "Pass") out.push(s);
    else if (s.kind === "For") for (let i = s.body.length - 1; i >= 0; i--) stack.push(s.body[i]!);
  }
  return out;
}
