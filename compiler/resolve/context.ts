// The state of a running script, shared by the statements (statements.ts) and the expressions
// (expressions.ts): the model and its names, the builder that lowers into it, the passes, the
// records that become the Resolution, the limit budget and the reporter.

import type { Span } from "../../common/index.js";
import type { Stmt } from "../../grammar/index.js";
import type { IrModel } from "../ir/index.js";
import { Budget } from "../limits.js";
import { Builder } from "../lower/index.js";
import type { ModuleTree } from "../modules/index.js";
import { PassState, SlotIds, type PatchRecord } from "../splice/index.js";
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
  readonly passByName = new Map<string, Pass>();
  /** The `pass` blocks of the script, run or not yet. */
  readonly namedPasses: PassStmt[];
  /** The pass of statements outside `pass` blocks (`main`), when there is one. */
  defaultPass: Pass | null = null;

  /** Imported models, once per file however often the `import` runs. */
  readonly imports = new Map<string, ImportedModel | "failed">();
  /** Full save names (`first.x`) → where first saved. */
  readonly saveNames = new Map<string, Span>();
  /** The statement being run, counted in program order after unrolling (records carry it). */
  seq = 0;
  private readonly slotIds = new SlotIds();

  constructor(readonly input: ResolveInput) {
    const model = input.model;
    const graph = model.graph;
    this.model = model;
    this.tree = input.tree;
    this.original = { nodes: new Set(graph.nodes), inputs: graph.inputs.filter((v) => !v.initializer), outputs: [...graph.outputs] };
    this.b = new Builder(model, graph);
    this.refs = new References(model, input.tree);
    this.namedPasses = input.script.statements.filter((s): s is PassStmt => s.kind === "Pass");
    this.budget = new Budget(input.limits, () => graph.nodes.size);
    this.b.limitNodes(input.limits.maxNodes);
  }

  /** Start a pass: the model's own graph, or (`isCopy`) a copy of its computation. */
  newPass(name: string, isCopy: boolean, span: Span | null): Pass {
    const state = new PassState(name, this.model, this.slotIds, isCopy, span, this.original.nodes);
    const pass: Pass = { name, state, exports: new Map(), finished: false };
    this.passes.push(pass);
    this.passByName.set(name, pass);
    return pass;
  }

  /**
   * The pass a port is read in when its tensor is needed outside an expression's own pass (a
   * `param`'s default, a port given where a tensor is expected): the default pass, else the first.
   */
  get firstPass(): Pass {
    return this.defaultPass ?? this.passes[0]!;
  }

  resolution(): Resolution {
    return {
      model: this.model,
      tree: this.tree,
      passes: this.passes.map((p) => p.state),
      reads: this.reads,
      saves: this.saves,
      patches: this.patches,
      params: this.params,
      original: this.original,
      diagnostics: this.reporter.diagnostics,
    };
  }
}
