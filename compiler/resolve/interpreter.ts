// The script, run at compile time: loops unrolled, `def`s inlined, names bound, lists evaluated,
// references resolved against the module tree — and every tensor operation lowered to ONNX nodes
// as it is reached, so a read of the model sees the graph exactly as the statements before it
// left it (reads before a patch see the original value, reads after see the patched one).

import { printExpr, type Expr, type Script, type Stmt } from "../../grammar/index.js";
import { SCRIPT_ELEM_TYPE_NAMES, suggest, type Diagnostic, type Span } from "../../common/index.js";
import type { Graph, IrModel, Node, Value } from "../ir/index.js";
import type { ModelProto, TensorProto } from "../onnx/index.js";
import { elemTypeCode } from "../onnx/index.js";
import { modulePorts, type ModuleTree } from "../modules/index.js";
import { Builder, INT64, makeTensor } from "../lower/builder.js";
import { AlreadyReported, CompileError, fail } from "../lower/errors.js";
import { indexTensor, scatterTensor, type IndexItem } from "../lower/indexing.js";
import { binary, elemName, literalFor, shapeOf } from "../lower/ops.js";
import { PassState, SlotIds, type PatchRecord, type PortRef } from "../splice/index.js";
import { BUILTIN_NAMES, callBuiltin, isBuiltin, type Arg, type BuiltinContext } from "./builtins.js";
import { callImported, loadImported, type ImportedModel } from "./imports.js";
import { materialize, stackAxis } from "./lazy.js";
import { References } from "./references.js";
import { Scope } from "./scope.js";
import { describe, tensorVal, type CVal, type Lazy } from "./values.js";

export interface Limits {
  /** Statements executed after unrolling loops and inlining functions. */
  maxStatements: number;
  /** Nesting of loops, passes and function calls. */
  maxDepth: number;
  /** Nodes the compiler may add (each costs about 3 KB of memory while compiling). */
  maxNodes: number;
  /** Size of the script in bytes (UTF-8), checked before it is parsed. */
  maxSourceBytes: number;
}

// maxNodes was 2,000,000, which needed about 6 GB: a runaway script ran out of memory (a crash)
// long before the limit could say so. 250,000 is about 750 MB and 15 s. maxSourceBytes: 1 MiB
// parses in a few seconds and holds ~100,000 statements, the statement limit.
export const DEFAULT_LIMITS: Limits = { maxStatements: 100_000, maxDepth: 64, maxNodes: 250_000, maxSourceBytes: 1 << 20 };

/** Elements a `param`'s number default may fill (64 MiB of float32). */
export const MAX_DEFAULT_ELEMENTS = 1 << 24;

/** Files the script names (`load`, `import`), read before interpretation starts. */
export type LoadedFile = { kind: "npy"; tensor: TensorProto } | { kind: "onnx"; model: ModelProto } | { kind: "error" };

export interface ReadRecord {
  seq: number;
  span: Span;
  display: string;
  value: Value;
  pass: PassState;
}

export interface SaveRecord {
  name: string;
  pass: PassState;
  value: Value;
  output: Value;
  span: Span;
  seq: number;
}

export interface ParamRecord {
  name: string;
  input: Value;
  hasDefault: boolean;
  span: Span;
}

export interface InterpreterInput {
  script: Script;
  model: IrModel;
  tree: ModuleTree;
  /** Files by the path written in the script. */
  files: Map<string, LoadedFile>;
  limits: Limits;
}

export class Interpreter {
  readonly diagnostics: Diagnostic[] = [];
  readonly reads: ReadRecord[] = [];
  readonly patches: PatchRecord[] = [];
  readonly saves: SaveRecord[] = [];
  readonly params: ParamRecord[] = [];
  readonly passes: PassState[] = [];
  readonly b: Builder;
  readonly refs: References;
  /** The model's own nodes, before any copy or insertion. */
  readonly originalNodes: Set<Node>;
  private readonly slotIds = new SlotIds();
  private readonly imports = new Map<string, ImportedModel | "failed">();
  /** Diagnostics reported, repeats included; and the ones kept, by code, place and message. */
  private reports = 0;
  private readonly reported = new Set<string>();
  private readonly passByName = new Map<string, PassState>();
  private readonly saveNames = new Map<string, Span>();
  private readonly model: IrModel;
  private seq = 0;
  private depth = 0;
  private executed = 0;
  private readonly startNodes: number;
  private defaultPass: PassState | null = null;
  private readonly namedPasses: Extract<Stmt, { kind: "Pass" }>[];
  private currentLine = "";

  constructor(private readonly input: InterpreterInput) {
    this.model = input.model;
    this.b = new Builder(input.model, input.model.graph);
    this.originalNodes = new Set(input.model.graph.nodes);
    this.refs = new References(input.model, input.tree);
    this.namedPasses = input.script.statements.filter((s): s is Extract<Stmt, { kind: "Pass" }> => s.kind === "Pass");
    this.startNodes = input.model.graph.nodes.size;
    this.b.limitNodes(input.limits.maxNodes);
  }

  run(): void {
    const global = new Scope(null);
    const lastPass = this.namedPasses[this.namedPasses.length - 1];
    const touchesModel = this.input.script.statements.some((s) => s.kind === "Save" || s.kind === "Assign" || s.kind === "For" || s.kind === "Let");
    if (!lastPass || touchesModel) {
      // The default pass: the model's own graph when there are no named passes, else a copy.
      this.defaultPass = this.newPass("main", lastPass !== undefined, null);
    }
    for (const stmt of this.input.script.statements) {
      if (stmt.kind === "Pass") this.runPass(stmt, global, stmt === lastPass);
      else this.exec(stmt, global, this.defaultPass!);
    }
    if (this.defaultPass) this.finishPass(this.defaultPass, global);
  }

  private newPass(name: string, isCopy: boolean, span: Span | null): PassState {
    const p = new PassState(name, this.model, this.slotIds, isCopy, span, this.originalNodes);
    this.passes.push(p);
    this.passByName.set(name, p);
    return p;
  }

  private runPass(stmt: Extract<Stmt, { kind: "Pass" }>, outer: Scope, last: boolean): void {
    if (this.passByName.has(stmt.name)) {
      this.report({ code: "E0108", severity: "error", message: `a pass named \`${stmt.name}\` already exists`, span: stmt.nameSpan, help: "give each pass its own name" });
      return;
    }
    // Each pass but the last is a copy of the model: thousands of passes would copy it thousands of
    // times before any statement checked the node limit (found by test/fuzz.test.ts).
    if (this.model.graph.nodes.size - this.startNodes > this.input.limits.maxNodes) {
      this.report({ code: "E0404", severity: "error", message: `the script adds more than ${this.input.limits.maxNodes} nodes`, span: stmt.nameSpan, help: "raise the limit with `--max-nodes N` if this is intended" });
      return;
    }
    const pass = this.newPass(stmt.name, !last, stmt.nameSpan);
    const scope = new Scope(outer);
    for (const o of stmt.overrides) {
      this.guard(o.span, () => {
        const input = this.refs.graphInput(o.name, o.span);
        const value = this.tensorOf({ value: this.eval(o.value, outer, pass), span: o.value.span }, input.value);
        const want = input.value.type?.elemType ?? 0;
        const got = value.resolve().type?.elemType ?? 0;
        if (want && got && want !== got) fail("E0204", `model input \`${o.name}\` is ${elemName(want)}, but the value given is ${elemName(got)}`, o.value.span);
        pass.overrideInput(input.value, value, printExpr(o.value));
      });
    }
    this.depth++;
    for (const s of stmt.body) this.exec(s, scope, pass);
    this.depth--;
    this.finishPass(pass, scope);
  }

  private finishPass(pass: PassState, scope: Scope): void {
    for (const [name, binding] of scope.ownEntries()) if (!pass.exports.has(name)) pass.exports.set(name, binding.value);
    pass.finished = true;
  }

  private report(d: Diagnostic): void {
    this.reports++;
    // Each error is said once: a loop body repeats its errors in every iteration (a loop of
    // 100,000 printed 100,000 copies of five errors; found by test/fuzz.test.ts), and a limit is
    // hit again by each later statement or call, wherever it is.
    const where = d.code === "E0401" || d.code === "E0404" ? "" : `${d.span?.file}:${d.span?.offset}:${d.span?.length}`;
    const key = `${d.code} ${where} ${d.message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.push(d);
  }

  /**
   * Spend one statement of the budget on a `def` call and check the node budget. A call is
   * inlined, so it counts as a statement: without this, `def f1(x) = f0(x) + f0(x)` chained 60
   * deep expanded 2^60 times inside one statement, past every limit (found by test/fuzz.test.ts).
   */
  private spend(span: Span): void {
    const { maxStatements, maxNodes } = this.input.limits;
    if (++this.executed > maxStatements) {
      fail("E0401", `the script unrolls to more than ${maxStatements} statements`, span, "each call of a `def` counts as a statement; raise the limit with `--max-statements N` if this is intended");
    }
    if (this.model.graph.nodes.size - this.startNodes > maxNodes) {
      fail("E0404", `the script adds more than ${maxNodes} nodes`, span, "raise the limit with `--max-nodes N` if this is intended");
    }
  }

  /** Run `fn`; a CompileError becomes a diagnostic and the script goes on. */
  private guard(span: Span, fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (e instanceof AlreadyReported) return;
      if (e instanceof CompileError) this.report(e.diagnostic);
      else if (e instanceof RangeError && /call stack/.test(e.message)) {
        this.report({ code: "E0404", severity: "error", message: "the script nests too deeply to compile", span, help: "a `def` that calls itself never ends; loops unroll at compile time" });
      } else throw e;
    }
  }

  private exec(stmt: Stmt, scope: Scope, pass: PassState): void {
    this.executed++;
    if (this.executed > this.input.limits.maxStatements) {
      if (this.executed === this.input.limits.maxStatements + 1) {
        this.report({ code: "E0401", severity: "error", message: `the script unrolls to more than ${this.input.limits.maxStatements} statements`, span: stmt.span, help: "raise the limit with `--max-statements N` if this is intended" });
      }
      return;
    }
    if (this.model.graph.nodes.size - this.startNodes > this.input.limits.maxNodes) {
      if (this.executed > 0 && !this.diagnostics.some((d) => d.code === "E0404")) {
        this.report({ code: "E0404", severity: "error", message: `the script adds more than ${this.input.limits.maxNodes} nodes`, span: stmt.span, help: "raise the limit with `--max-nodes N` if this is intended" });
      }
      return;
    }
    this.seq++;
    this.b.span = stmt.span;
    this.currentLine = this.lineOf(stmt.span);
    this.b.sourceLine = this.currentLine;
    const before = this.reports;
    this.guard(stmt.span, () => this.execInner(stmt, scope, pass));
    if (this.reports > before || this.failedDefinition(stmt, scope)) this.poison(stmt, scope);
  }

  /** A definition that did not happen (its file failed, say) without a new diagnostic. */
  private failedDefinition(stmt: Stmt, scope: Scope): boolean {
    const name = stmt.kind === "Let" || stmt.kind === "Param" ? stmt.name : stmt.kind === "Import" ? stmt.alias : null;
    return name !== null && !scope.lookup(name);
  }

  /** After a failed `let`, `param` or `import`, its name still exists, so uses are not reported again. */
  private poison(stmt: Stmt, scope: Scope): void {
    const name = stmt.kind === "Let" || stmt.kind === "Param" ? stmt.name : stmt.kind === "Import" ? stmt.alias : null;
    const span = stmt.kind === "Let" || stmt.kind === "Param" ? stmt.nameSpan : stmt.kind === "Import" ? stmt.aliasSpan : null;
    if (name !== null && span !== null) scope.define(name, { k: "poison" }, span);
  }

  private lineOf(span: Span): string {
    const src = this.input.script.source;
    const start = src.lastIndexOf("\n", span.offset - 1) + 1;
    const end = src.indexOf("\n", span.offset);
    return src.slice(start, end < 0 ? src.length : end);
  }

  private execInner(stmt: Stmt, scope: Scope, pass: PassState): void {
    switch (stmt.kind) {
      case "Let":
        scope.define(stmt.name, this.settle(this.eval(stmt.value, scope, pass)), stmt.nameSpan);
        return;
      case "Save":
        this.execSave(stmt, scope, pass);
        return;
      case "Assign":
        this.execAssign(stmt, scope, pass);
        return;
      case "For":
        this.execFor(stmt, scope, pass);
        return;
      case "Param":
        this.execParam(stmt, scope);
        return;
      case "Def":
        scope.define(stmt.name, { k: "func", def: stmt, closure: scope }, stmt.nameSpan);
        return;
      case "Import": {
        const file = this.input.files.get(stmt.path);
        if (!file || file.kind === "error") return; // reported when the file was read
        if (file.kind !== "onnx") fail("E0402", `\`${stmt.path}\` is not an ONNX model`, stmt.pathSpan);
        // Imported once per file, however often the statement runs: each import decodes and
        // types the whole model, and one in a loop of 1,000 took minutes (found by test/fuzz.test.ts).
        let imported = this.imports.get(stmt.path);
        if (imported === "failed") throw new AlreadyReported();
        if (!imported) {
          try {
            imported = loadImported(file.model, stmt.path, this.model.opset, stmt.pathSpan);
          } catch (e) {
            this.imports.set(stmt.path, "failed");
            throw e;
          }
          this.imports.set(stmt.path, imported);
        }
        scope.define(stmt.alias, { k: "import", model: imported, alias: stmt.alias }, stmt.aliasSpan);
        return;
      }
      case "Pass":
        return fail("E0108", "a `pass` block cannot be nested inside another block", stmt.span, "write passes at the top level of the script");
      default: {
        const never: never = stmt;
        return never;
      }
    }
  }

  /** Ports read into a `let` are read now (program order), not when the name is used. */
  private settle(v: CVal): CVal {
    return v;
  }

  private execSave(stmt: Extract<Stmt, { kind: "Save" }>, scope: Scope, pass: PassState): void {
    let name = stmt.name;
    let index: number | null = null;
    if (stmt.index) {
      const i = this.eval(stmt.index, scope, pass);
      if (i.k !== "num" || !Number.isInteger(i.v) || i.v < 0) fail("E0209", `a save index must be a non-negative integer, not ${describe(i)}`, stmt.index.span);
      index = i.v;
      name = `${stmt.name}[${index}]`;
    }
    const full = pass.name === "main" ? name : `${pass.name}.${name}`;
    const earlier = this.saveNames.get(full);
    if (earlier) {
      fail("E0105", `\`${full}\` is saved twice`, stmt.nameSpan, "give each save its own name, or index it inside a loop: `save name[l] = ...`", { labels: [{ span: earlier, message: "first saved here" }] });
    }
    const value = this.tensorOf({ value: this.eval(stmt.value, scope, pass), span: stmt.value.span });
    this.saveNames.set(full, stmt.nameSpan);
    const output = this.b.op1("Identity", [value]);
    this.model.graph.rename(output, this.b.freshName(`intv.save.${full}`));
    this.model.graph.outputs.push(output);
    this.model.graph.outputInfos.push(null);
    this.saves.push({ name: full, pass, value, output, span: stmt.nameSpan, seq: this.seq });
    const exported: CVal = tensorVal(value);
    if (index === null) pass.exports.set(stmt.name, exported);
    else {
      const list = pass.exports.get(stmt.name);
      const items = list && list.k === "list" ? list.items : [];
      items[index] = exported;
      pass.exports.set(stmt.name, { k: "list", items });
    }
  }

  private execAssign(stmt: Extract<Stmt, { kind: "Assign" }>, scope: Scope, pass: PassState): void {
    const target = stmt.target;
    // Rebinding a name bound by `let`, a loop or a parameter.
    if (target.kind === "Name" && scope.lookup(target.name)) {
      const binding = scope.lookup(target.name)!;
      if (binding.value.k === "poison") throw new AlreadyReported();
      if (binding.value.k === "func" || binding.value.k === "import") fail("E0211", `\`${target.name}\` is a function and cannot be rebound`, target.span);
      let value = this.eval(stmt.value, scope, pass);
      if (stmt.op !== "=") value = this.arith(stmt.op[0]!, { value: binding.value, span: target.span }, { value, span: stmt.value.span }, stmt.span);
      scope.assign(target.name, value);
      return;
    }
    // Otherwise a patch: `REF = e` or `REF[idx] = e`, with `op=` reading the value before the patch.
    let items: IndexItem[] | null = null;
    let refExpr = target;
    if (target.kind === "Index") {
      const base = this.evalRaw(target.object, scope, pass);
      if (base.k === "port") {
        refExpr = target.object;
        items = target.items.map((it) => this.indexItem(it, scope, pass));
      }
    }
    const place = this.evalRaw(refExpr, scope, pass);
    if (place.k !== "port") {
      if (target.kind === "Name") {
        const hint = suggest(target.name, scope.names());
        fail("E0101", `\`${target.name}\` is not defined`, target.span, hint ? `did you mean \`${hint}\`? (new names are bound with \`let\`)` : "bind a new name with `let name = ...`");
      }
      fail("E0211", `cannot assign to ${describe(place)}`, target.span, "patch a port such as `M.output`, `M.input` or a parameter, or bind a name with `let`");
    }
    const port = place.ref;
    if (port.instances) {
      // A module inside If branches: the patch is lowered into each branch it appears in, where
      // its value (and the right-hand side's reads of it) are the branch's own.
      for (const inst of port.instances) {
        this.inBranch(pass.graphOf(inst), () => {
          const current = pass.readInstance(port, inst);
          const value = this.patchValue(stmt, scope, pass, port, current, items, target.span);
          const rewired = pass.patchInstance(port, inst, value);
          this.patches.push({ seq: this.seq, span: target.span, display: port.display, port, pass, value, rewired, outputs: [] });
        });
      }
      return;
    }
    const current = this.readPort(port, pass, target.span, false);
    const value = this.patchValue(stmt, scope, pass, port, current, items, target.span);
    const { rewired, outputs } = pass.patch(port, value);
    this.patches.push({ seq: this.seq, span: target.span, display: port.display, port, pass, value, rewired, outputs });
  }

  /** The new value of a patched port: `=`, `op=`, whole or partial (`REF[items]`). */
  private patchValue(stmt: Extract<Stmt, { kind: "Assign" }>, scope: Scope, pass: PassState, port: PortRef, current: Value, items: IndexItem[] | null, targetSpan: Span): Value {
    const rhs: Arg = { value: this.eval(stmt.value, scope, pass), span: stmt.value.span };
    let value: Value;
    if (items) {
      const region = indexTensor(this.b, current, items, targetSpan);
      let v = this.tensorOf(rhs, region);
      if (stmt.op !== "=") v = binary(this.b, stmt.op[0]!, region, v, stmt.span);
      value = scatterTensor(this.b, current, items, v, stmt.span);
    } else {
      let v = this.tensorOf(rhs, current);
      if (stmt.op !== "=") v = binary(this.b, stmt.op[0]!, current, v, stmt.span);
      else this.checkPatchType(current, v, port, stmt.value.span);
      value = v;
    }
    // A patch needs a value of its own in the patched scope (an Identity when it is the same tensor).
    if (value === current || value.graph !== this.b.graph) value = this.b.op1("Identity", [value]);
    return value;
  }

  /** Lower what `fn` creates into an If branch instead of the main graph. */
  private inBranch(graph: Graph, fn: () => void): void {
    const outer = this.b.graph;
    this.b.graph = graph;
    try {
      fn();
    } finally {
      this.b.graph = outer;
    }
  }

  private checkPatchType(current: Value, v: Value, port: PortRef, span: Span): void {
    const a = current.resolve().type;
    const b = v.resolve().type;
    if (a?.elemType && b?.elemType && a.elemType !== b.elemType) {
      fail("E0204", `\`${port.display}\` is ${elemName(a.elemType)}, but the new value is ${elemName(b.elemType)}`, span, `convert it: \`cast(..., "${elemName(a.elemType)}")\``);
    }
    if (a?.shape && b?.shape) {
      const ok = a.shape.length === b.shape.length && a.shape.every((d, i) => typeof d !== "number" || typeof b.shape![i] !== "number" || d === b.shape![i]);
      if (!ok) {
        fail("E0203", `\`${port.display}\` has shape ${fmt(a.shape)}, but the new value has shape ${fmt(b.shape)}`, span, "a patch must keep the tensor's shape; a partial patch `REF[...] = v` replaces a part");
      }
    }
  }

  private execFor(stmt: Extract<Stmt, { kind: "For" }>, scope: Scope, pass: PassState): void {
    let values: CVal[];
    if (stmt.iterable.kind === "Range") {
      const start = this.eval(stmt.iterable.start, scope, pass);
      const end = this.eval(stmt.iterable.end, scope, pass);
      if (start.k !== "num" || !Number.isInteger(start.v)) fail("E0209", `a range starts at an integer, not ${describe(start)}`, stmt.iterable.start.span);
      if (end.k !== "num" || !Number.isInteger(end.v)) fail("E0209", `a range ends at an integer, not ${describe(end)}`, stmt.iterable.end.span);
      const count = Math.max(0, end.v - start.v);
      if (count * Math.max(1, stmt.body.length) > this.input.limits.maxStatements) {
        fail("E0401", `the loop would unroll to ${count * Math.max(1, stmt.body.length)} statements, more than the limit of ${this.input.limits.maxStatements}`, stmt.iterable.span, "raise the limit with `--max-statements N` if this is intended");
      }
      values = Array.from({ length: count }, (_, i) => ({ k: "num", v: start.v + i }));
    } else {
      const it = this.eval(stmt.iterable.expr, scope, pass);
      if (it.k !== "list") fail("E0209", `a loop runs over a range \`a..b\` or a list, not ${describe(it)}`, stmt.iterable.span);
      values = it.items;
    }
    if (++this.depth > this.input.limits.maxDepth) {
      this.depth--;
      fail("E0404", `loops, passes and calls nest deeper than ${this.input.limits.maxDepth}`, stmt.span, "raise the limit with `--max-depth N` if this is intended");
    }
    try {
      for (const v of values) {
        const inner = new Scope(scope);
        inner.define(stmt.variable, v, stmt.variableSpan);
        for (const s of stmt.body) this.exec(s, inner, pass);
        if (this.executed > this.input.limits.maxStatements) break;
      }
    } finally {
      this.depth--;
    }
  }

  private execParam(stmt: Extract<Stmt, { kind: "Param" }>, scope: Scope): void {
    const code = elemTypeCode(stmt.elemType);
    if (code === undefined) {
      const names = SCRIPT_ELEM_TYPE_NAMES;
      const hint = suggest(stmt.elemType, names);
      fail("E0501", `unknown element type \`${stmt.elemType}\``, stmt.elemTypeSpan, hint ? `did you mean \`${hint}\`?` : `element types are ${names.join(", ")}`);
    }
    const shape = stmt.dims === null ? [] : stmt.dims.map((d) => (d.kind === "Fixed" ? d.value : d.kind === "Named" ? d.name : null));
    const g = this.model.graph;
    const name = this.model.names.has(stmt.name) ? this.b.freshName(`param.${stmt.name}`) : this.b.freshName(stmt.name);
    const input = g.addValue(name, "input", { elemType: code, shape });
    let hasDefault = false;
    if (stmt.default) {
      const d = this.eval(stmt.default, scope, this.defaultPass ?? this.passes[0]!);
      let tensor: TensorProto;
      if (d.k === "num" || d.k === "bool") {
        const v = d.k === "num" ? d.v : d.v ? 1 : 0;
        if (!shape.every((x): x is number => typeof x === "number")) fail("E0501", "a number as default needs a parameter with static dimensions", stmt.default.span);
        const count = (shape as number[]).reduce((x, y) => x * y, 1);
        // The default is written out element by element: `float32[1000000000] = 1.5` would
        // allocate gigabytes (and crashed the process; found by test/fuzz.test.ts).
        if (count > MAX_DEFAULT_ELEMENTS) {
          fail("E0501", `a number as default would fill ${count} elements, more than ${MAX_DEFAULT_ELEMENTS}`, stmt.default.span, "give a large parameter its value at run time (`--param NAME=FILE.npy`)");
        }
        const fill = new Array(count).fill(code === INT64 ? BigInt(v) : v);
        tensor = makeTensor(code, fill, shape as number[]);
      } else {
        const v = this.tensorOf({ value: d, span: stmt.default.span });
        const t = v.resolve().initializer;
        if (!t || v.resolve().kind !== "initializer") fail("E0501", "a parameter's default must be a number or `load(...)`", stmt.default.span);
        if (t.data_type !== code) fail("E0204", `the default is ${elemName(t.data_type ?? 0)}, but \`${stmt.name}\` is ${stmt.elemType}`, stmt.default.span);
        tensor = t;
      }
      input.initializer = { ...tensor, name };
      hasDefault = true;
    }
    g.inputs.push(input);
    this.params.push({ name: stmt.name, input, hasDefault, span: stmt.nameSpan });
    scope.define(stmt.name, tensorVal(input), stmt.nameSpan);
  }

  // ---- expressions ----

  eval(expr: Expr, scope: Scope, pass: PassState): CVal {
    const v = this.evalRaw(expr, scope, pass);
    if (v.k === "port") return tensorVal(this.readPort(v.ref, pass, expr.span, true));
    return v;
  }

  private readPort(ref: PortRef, pass: PassState, span: Span, record: boolean): Value {
    const value = ref.instances ? this.readBranchPort(ref, pass, span) : pass.read(ref);
    if (record) this.reads.push({ seq: this.seq, span, display: ref.display, value, pass });
    return value;
  }

  /**
   * A port of a module inside If branches. Inside one of its branches it is that branch's value;
   * elsewhere it is the value of whichever branch ran: each branch's value becomes an extra
   * output of its branch, and the If node gets the matching extra output.
   */
  private readBranchPort(ref: PortRef, pass: PassState, span: Span): Value {
    const instances = ref.instances!;
    const here = instances.find((i) => pass.graphOf(i) === this.b.graph);
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
      this.inBranch(g, () => g.outputs.push(this.b.op1("Identity", [values[i]!])));
      g.outputInfos.push(null);
    });
    const main = this.model.graph;
    const out = main.addValue(this.b.freshName(`${owner.name || "If"}/intv.${ref.display}`), "node", values[0]!.resolve().type);
    out.producer = owner;
    out.producerIndex = owner.outputs.length;
    owner.outputs.push(out);
    pass.merged.set(ref.key, { values, out });
    return out;
  }

  private evalRaw(expr: Expr, scope: Scope, pass: PassState): CVal {
    switch (expr.kind) {
      case "Number":
        return { k: "num", v: expr.value };
      case "String":
        return { k: "str", v: expr.value };
      case "Bool":
        return { k: "bool", v: expr.value };
      case "Name":
        return this.evalName(expr.name, expr.span, scope);
      case "List":
        return { k: "list", items: expr.elements.map((e) => this.eval(e, scope, pass)) };
      case "Member":
        return this.evalMember(this.evalRaw(expr.object, scope, pass), expr.property, expr.propertySpan, expr, pass);
      case "Index":
        return this.evalIndex(expr, scope, pass);
      case "Call":
        return this.evalCall(expr, scope, pass);
      case "Unary": {
        const v = this.eval(expr.operand, scope, pass);
        if (v.k === "num") return { k: "num", v: -v.v };
        return tensorVal(this.b.op1("Neg", [this.tensorOf({ value: v, span: expr.operand.span })]));
      }
      case "Binary":
        return this.arith(expr.op, { value: this.eval(expr.left, scope, pass), span: expr.left.span }, { value: this.eval(expr.right, scope, pass), span: expr.right.span }, expr.span);
      case "Error":
        throw new CompileError({ code: "E0002", severity: "error", message: "this expression could not be parsed", span: expr.span });
      default: {
        const never: never = expr;
        return never;
      }
    }
  }

  private evalName(name: string, span: Span, scope: Scope): CVal {
    const bound = scope.lookup(name);
    if (bound?.value.k === "poison") throw new AlreadyReported();
    if (bound) return bound.value;
    const pass = this.passByName.get(name);
    if (pass) return { k: "pass", pass };
    if (this.namedPasses.some((p) => p.name === name)) {
      fail("E0108", `the pass \`${name}\` is read before it runs`, span, "a pass can read only the passes written before it");
    }
    if (isBuiltin(name)) return { k: "builtin", name };
    const tree = this.input.tree;
    if (name === "model") return { k: "module", m: tree.root };
    const child = tree.root.child(name);
    if (child) return { k: "module", m: child };
    const candidates = [...scope.names(), ...this.passByName.keys(), ...BUILTIN_NAMES, ...tree.root.children.keys(), "model"];
    const hint = suggest(name, candidates);
    const roots = [...tree.root.childList().map((c) => c.name)];
    fail("E0101", `\`${name}\` is not defined`, span, hint ? `did you mean \`${hint}\`?` : roots.length > 0 ? `the model's top-level modules are ${roots.slice(0, 6).map((r) => `\`${r}\``).join(", ")}` : undefined);
  }

  private evalMember(obj: CVal, prop: string, span: Span, expr: Expr, _pass: PassState): CVal {
    switch (obj.k) {
      case "module": {
        const m = obj.m;
        if (m.parent === null) {
          if (prop === "output") return { k: "port", ref: this.refs.graphOutput(0, span) };
          if (prop === "input") return { k: "port", ref: this.refs.graphInput(0, span) };
          if (prop === "outputs") return { k: "model-ports", kind: "output" };
          if (prop === "inputs") return { k: "model-ports", kind: "input" };
        }
        if (prop === "output" || prop === "input") return { k: "port", ref: this.refs.modulePort(m, prop, 0, expr.span) };
        if (prop === "outputs" || prop === "inputs") {
          this.refs.requireNodes(m, expr.span);
          return { k: "ports", m, kind: prop === "outputs" ? "output" : "input" };
        }
        if (prop === "calls") return { k: "calls", m };
        const param = this.refs.param(m, prop, span);
        if (param) return { k: "port", ref: param };
        return { k: "module", m: this.refs.child(m, prop, span) };
      }
      case "pass": {
        const p = obj.pass;
        if (!p.finished) fail("E0108", `\`${p.name}.${prop}\` is read inside the pass \`${p.name}\` itself`, span, `inside the pass, write \`${prop}\``);
        const v = p.exports.get(prop);
        if (!v) {
          const hint = suggest(prop, [...p.exports.keys()]);
          fail("E0108", `the pass \`${p.name}\` has no save or \`let\` named \`${prop}\``, span, hint ? `did you mean \`${hint}\`?` : undefined);
        }
        return v;
      }
      default:
        fail("E0103", `${describe(obj)} has no member \`${prop}\``, span);
    }
  }

  private indexItem(it: Extract<Expr, { kind: "Index" }>["items"][number], scope: Scope, pass: PassState): IndexItem {
    if (it.kind === "Ellipsis") return { kind: "ellipsis", span: it.span };
    const int = (e: Expr | undefined, what: string): number | null => {
      if (!e) return null;
      const v = this.eval(e, scope, pass);
      if (v.k !== "num" || !Number.isInteger(v.v)) fail("E0206", `${what} must be a compile-time integer, not ${describe(v)}`, e.span);
      return v.v;
    };
    if (it.kind === "Slice") return { kind: "slice", start: int(it.start, "a slice start"), stop: int(it.stop, "a slice end"), step: int(it.step, "a slice step"), span: it.span };
    const v = this.eval(it.expr, scope, pass);
    if (v.k === "num") {
      if (!Number.isInteger(v.v)) fail("E0206", `an index must be an integer, not \`${v.v}\``, it.span);
      return { kind: "int", value: v.v, span: it.span };
    }
    if (v.k === "tensor") return { kind: "tensor", value: materialize(this.b, v.t), span: it.span };
    fail("E0206", `an index must be an integer, a slice or a tensor, not ${describe(v)}`, it.span);
  }

  private evalIndex(expr: Extract<Expr, { kind: "Index" }>, scope: Scope, pass: PassState): CVal {
    const obj = this.evalRaw(expr.object, scope, pass);
    const single = expr.items.length === 1 && expr.items[0]!.kind === "Expr" ? expr.items[0]!.expr : null;
    const key = single ? this.eval(single, scope, pass) : null;
    const intKey = (what: string): number => {
      if (!key || key.k !== "num" || !Number.isInteger(key.v)) fail("E0206", `${what} takes one integer index`, expr.span);
      return key.v;
    };
    switch (obj.k) {
      case "module":
        if (key?.k === "str") return { k: "module", m: this.refs.child(obj.m, key.v, expr.span) };
        return { k: "module", m: this.refs.childAt(obj.m, intKey(`\`${obj.m.displayPath}\``), expr.span) };
      case "ports":
        return { k: "port", ref: this.refs.modulePort(obj.m, obj.kind, intKey(`\`${obj.kind}s\``), expr.span) };
      case "model-ports":
        if (key?.k === "str") return { k: "port", ref: obj.kind === "input" ? this.refs.graphInput(key.v, expr.span) : this.refs.graphOutput(key.v, expr.span) };
        return { k: "port", ref: obj.kind === "input" ? this.refs.graphInput(intKey("`model.inputs`"), expr.span) : this.refs.graphOutput(intKey("`model.outputs`"), expr.span) };
      case "calls": {
        const k = intKey("`calls`");
        const calls = obj.m.calls.length > 0 ? obj.m.calls : [obj.m];
        const c = calls[k < 0 ? k + calls.length : k];
        if (!c) fail("E0104", `\`${obj.m.displayPath}\` is called ${calls.length} time${calls.length === 1 ? "" : "s"} in the exported graph, so \`calls[${k}]\` does not exist`, expr.span, `call indices go from 0 to ${calls.length - 1}`);
        return { k: "module", m: c };
      }
      case "list":
        return this.indexList(obj.items, expr, scope, pass);
      case "tensor":
      case "port": {
        const items = expr.items.map((it) => this.indexItem(it, scope, pass));
        if (obj.k === "tensor" && obj.t.kind === "stack") {
          const picked = this.indexStack(obj.t, items, expr.span);
          if (picked) return picked;
        }
        const x = obj.k === "port" ? this.readPort(obj.ref, pass, expr.object.span, true) : materialize(this.b, obj.t);
        return tensorVal(indexTensor(this.b, x, items, expr.span));
      }
      default:
        fail("E0206", `${describe(obj)} cannot be indexed`, expr.span);
    }
  }

  /** `stack(xs)[i]` is `xs[i]` and `stack(xs)[a:b]` is `stack(xs[a:b])`: exact dependencies. */
  private indexStack(t: Extract<Lazy, { kind: "stack" }>, items: IndexItem[], span: Span): CVal | null {
    if (stackAxis(t) !== 0 || items.length === 0) return null;
    const first = items[0]!;
    const rest = items.slice(1);
    const n = t.items.length;
    let picked: CVal;
    if (first.kind === "int") {
      const i = first.value < 0 ? first.value + n : first.value;
      if (i < 0 || i >= n) fail("E0206", `index ${first.value} is out of range for a stack of ${n}`, first.span);
      picked = { k: "tensor", t: t.items[i]! };
    } else if (first.kind === "slice") {
      const sel = sliceList(t.items, first.start, first.stop, first.step);
      if (sel.length === 0) fail("E0206", "this slice selects nothing from the stack", first.span);
      picked = { k: "tensor", t: { kind: "stack", items: sel, axis: 0, span: t.span } };
    } else return null;
    if (rest.length === 0) return picked;
    const x = materialize(this.b, (picked as { t: Lazy }).t);
    const restItems = first.kind === "slice" ? [{ kind: "slice" as const, start: null, stop: null, step: null, span }, ...rest] : rest;
    return tensorVal(indexTensor(this.b, x, restItems, span));
  }

  private indexList(items: CVal[], expr: Extract<Expr, { kind: "Index" }>, scope: Scope, pass: PassState): CVal {
    if (expr.items.length !== 1) fail("E0206", "a list takes one index", expr.span, "to index the tensors inside, `stack(...)` them first");
    const it = expr.items[0]!;
    if (it.kind === "Slice") {
      const item = this.indexItem(it, scope, pass) as Extract<IndexItem, { kind: "slice" }>;
      return { k: "list", items: sliceList(items, item.start, item.stop, item.step) };
    }
    if (it.kind !== "Expr") fail("E0206", "a list cannot be indexed with `...`", it.span);
    const v = this.eval(it.expr, scope, pass);
    if (v.k !== "num" || !Number.isInteger(v.v)) fail("E0206", `a list index must be a compile-time integer, not ${describe(v)}`, it.span);
    const i = v.v < 0 ? v.v + items.length : v.v;
    const item = items[i];
    if (i < 0 || i >= items.length || item === undefined) {
      fail("E0206", `index ${v.v} is out of range for a list of ${items.length}`, it.span, items.length > 0 ? `indices go from 0 to ${items.length - 1}` : "the list is empty");
    }
    return item;
  }

  private evalCall(expr: Extract<Expr, { kind: "Call" }>, scope: Scope, pass: PassState): CVal {
    if (expr.callee.kind === "Name" && scope.lookup(expr.callee.name)?.value.k === "poison") throw new AlreadyReported();
    if (expr.callee.kind === "Name" && !scope.lookup(expr.callee.name) && !isBuiltin(expr.callee.name)) {
      const hint = suggest(expr.callee.name, [...BUILTIN_NAMES, ...scope.names()]);
      fail("E0210", `unknown function \`${expr.callee.name}\``, expr.callee.span, hint ? `did you mean \`${hint}\`?` : "the built-in functions are listed in docs/language.md");
    }
    const callee = this.evalRaw(expr.callee, scope, pass);
    const args: Arg[] = expr.args.map((a) => ({ value: this.eval(a, scope, pass), span: a.span }));
    const kwargs = new Map<string, Arg>();
    for (const kw of expr.kwargs) kwargs.set(kw.name, { value: this.eval(kw.value, scope, pass), span: kw.span });
    switch (callee.k) {
      case "builtin":
        return callBuiltin(this.builtinContext(pass, scope), callee.name, args, kwargs, expr.span);
      case "func": {
        const def = callee.def;
        if (kwargs.size > 0) fail("E0202", `\`${def.name}\` takes positional arguments only`, expr.kwargs[0]!.span);
        if (args.length !== def.params.length) {
          fail("E0201", `\`${def.name}\` takes ${def.params.length} argument${def.params.length === 1 ? "" : "s"}, got ${args.length}`, expr.span, `it is defined as \`def ${def.name}(${def.params.map((p) => p.name).join(", ")})\``, { labels: [{ span: def.nameSpan, message: "defined here" }] });
        }
        if (++this.depth > this.input.limits.maxDepth) {
          this.depth--;
          fail("E0404", `function calls nest deeper than ${this.input.limits.maxDepth}`, expr.span, "a `def` that calls itself never ends; raise the limit with `--max-depth N` if the nesting is intended");
        }
        try {
          this.spend(expr.span);
        } catch (e) {
          this.depth--;
          throw e;
        }
        try {
          const inner = new Scope(callee.closure);
          def.params.forEach((p, i) => inner.define(p.name, args[i]!.value, p.span));
          return this.eval(def.body, inner, pass);
        } finally {
          this.depth--;
        }
      }
      case "import": {
        const inputs = args.map((a) => this.tensorOf(a));
        const outs = callImported(this.b, callee.model, callee.alias, inputs, expr.span);
        return outs.length === 1 ? tensorVal(outs[0]!) : { k: "list", items: outs.map(tensorVal) };
      }
      default:
        if (expr.callee.kind === "Name") {
          const hint = suggest(expr.callee.name, [...BUILTIN_NAMES, ...scope.names()]);
          fail("E0210", `unknown function \`${expr.callee.name}\``, expr.callee.span, hint ? `did you mean \`${hint}\`?` : undefined);
        }
        fail("E0210", `${describe(callee)} is not a function`, expr.callee.span);
    }
  }

  private builtinContext(pass: PassState, _scope: Scope): BuiltinContext {
    return {
      b: this.b,
      tensor: (arg, like) => this.tensorOf(arg, like),
      load: (path, span) => this.loadNpy(path, span),
      len: (arg) => {
        const v = arg.value;
        if (v.k === "list") return v.items.length;
        if (v.k === "module") return v.m.childList().length;
        if (v.k === "ports") return v.kind === "input" ? modulePorts(v.m).inputs.length : modulePorts(v.m).outputs.length;
        if (v.k === "tensor" && v.t.kind === "stack") return v.t.items.length;
        if (v.k === "tensor" || v.k === "port") {
          const x = this.tensorOf(arg);
          const d = shapeOf(x)?.[0];
          if (typeof d === "number") return d;
          fail("E0209", "`len` of a tensor needs a static first dimension", arg.span);
        }
        fail("E0209", `\`len\` takes a list, a module or a tensor, not ${describe(v)}`, arg.span);
      },
      tensorByName: (name, span) => tensorVal(this.readPort(this.refs.tensor(name, span), pass, span, true)),
    };
  }

  private loadNpy(path: string, span: Span): Value {
    const file = this.input.files.get(path);
    if (!file) fail("E0402", `\`load\` takes a string literal path; \`${path}\` was not read`, span);
    if (file.kind === "error") throw new AlreadyReported();
    if (file.kind !== "npy") fail("E0402", `\`${path}\` is not a NumPy file`, span);
    return this.b.initializer(file.tensor, `file:${path}`);
  }

  /** The tensor behind a value; numbers take the element type of `like`. */
  tensorOf(arg: Arg, like?: Value): Value {
    const v = arg.value;
    switch (v.k) {
      case "tensor":
        return materialize(this.b, v.t);
      case "port":
        return this.readPort(v.ref, this.defaultPass ?? this.passes[0]!, arg.span, true);
      case "num":
        if (like) return literalFor(this.b, v.v, like, arg.span);
        return this.b.scalar(1, v.v);
      case "bool":
        return this.b.constant(9, [v.v ? 1 : 0], []);
      case "list":
        return fail("E0208", `a list of ${v.items.length} is used where a tensor is needed`, arg.span, "lists are compile-time sequences: make a tensor with `stack(xs)` or `concat(xs)`");
      default:
        fail("E0209", `${describe(v)} is used where a tensor is needed`, arg.span);
    }
  }

  private arith(op: string, l: Arg, r: Arg, span: Span): CVal {
    const a = l.value;
    const c = r.value;
    if (a.k === "num" && c.k === "num") return numArith(op, a.v, c.v, span);
    if (a.k === "list" || c.k === "list") {
      if (op === "+" && a.k === "list" && c.k === "list") {
        // `a = a + a` doubles a list with each statement: 64 of them would ask for 2^64 items.
        const n = a.items.length + c.items.length;
        const max = this.input.limits.maxNodes;
        if (n > max) fail("E0404", `the list would have ${n} items, more than the limit of ${max}`, span, "lists count against the node limit; raise it with `--max-nodes N` if this is intended");
        return { k: "list", items: [...a.items, ...c.items] };
      }
      const which = a.k === "list" ? l : r;
      fail("E0208", `\`${op}\` of a list`, which.span, op === "+" ? "`+` joins two lists; to append one item write `xs + [x]`" : "lists are compile-time sequences: make a tensor with `stack(xs)` first");
    }
    if (a.k === "str" || c.k === "str") fail("E0209", "strings can only be function arguments", a.k === "str" ? l.span : r.span);
    const left = a.k === "num" ? null : this.tensorOf(l);
    const right = this.tensorOf(r, left ?? undefined);
    return tensorVal(binary(this.b, op, left ?? this.tensorOf(l, right), right, span));
  }
}

function numArith(op: string, a: number, b: number, span: Span): CVal {
  switch (op) {
    case "+": return { k: "num", v: a + b };
    case "-": return { k: "num", v: a - b };
    case "*": return { k: "num", v: a * b };
    case "/":
      if (b === 0) fail("E0209", "division by zero in a compile-time expression", span);
      return { k: "num", v: a / b };
    case "**": return { k: "num", v: a ** b };
    case "<": return { k: "bool", v: a < b };
    case "<=": return { k: "bool", v: a <= b };
    case ">": return { k: "bool", v: a > b };
    case ">=": return { k: "bool", v: a >= b };
    case "==": return { k: "bool", v: a === b };
    case "!=": return { k: "bool", v: a !== b };
    default:
      fail("E0209", `\`${op}\` is not defined for numbers`, span);
  }
}

export function sliceList<T>(items: T[], start: number | null, stop: number | null, step: number | null): T[] {
  const n = items.length;
  const s = step ?? 1;
  const norm = (x: number) => (x < 0 ? Math.max(x + n, s > 0 ? 0 : -1) : Math.min(x, s > 0 ? n : n - 1));
  const a = start === null ? (s > 0 ? 0 : n - 1) : norm(start);
  const b = stop === null ? (s > 0 ? n : -1) : norm(stop);
  const out: T[] = [];
  if (s > 0) for (let i = a; i < b; i += s) out.push(items[i]!);
  else for (let i = a; i > b; i += s) out.push(items[i]!);
  return out;
}

function fmt(shape: (number | string | null)[]): string {
  return `[${shape.map((d) => (d === null ? "?" : d)).join(", ")}]`;
}

export type { ModelProto };
