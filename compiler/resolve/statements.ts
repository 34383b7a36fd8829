// Statements, run in order: `let`, `save`, patches and rebinding, `for` (unrolled), `param`, `def`,
// `import`, and `pass` blocks. Each statement is counted against the limits, and a failing one is
// reported and skipped (report.ts) so the rest of the script still runs. The graph surgery they
// ask for (saves, params, patches, passes) is splice/'s; the tensor operations are lower/'s.

import { AlreadyReported, diagnostic, elemTypeCode, fail, SCRIPT_ELEM_TYPE_NAMES, suggest, type Span } from "../../common/index.js";
import { printExpr, type Stmt } from "../../grammar/index.js";
import { Node, type Dim, type Use, type Value } from "../ir/index.js";
import { MAX_DEFAULT_ELEMENTS } from "../limits.js";
import { binary, elemName, INT64, makeTensor, patchTensor, type Builder, type IndexItem, type PatchOp } from "../lower/index.js";
import type { TensorProto } from "../onnx/index.js";
import { paramInput, spliceParam, spliceSave, type PortRef } from "../splice/index.js";
import type { Context, PassStmt } from "./context.js";
import type { Expressions } from "./expressions.js";
import { loadImported } from "./imports.js";
import { failedDefinition, poison } from "./report.js";
import { Scope } from "./scope.js";
import { sequenceWindow } from "./window.js";
import { describe, tensorVal, type Arg, type CVal, type Env, type Pass } from "./values.js";

type StmtOf<K extends Stmt["kind"]> = Extract<Stmt, { kind: K }>;

export class Statements {
  constructor(
    private readonly ctx: Context,
    private readonly ev: Expressions,
  ) {}

  /** Run one statement: counted against the limits, its failure reported, its name poisoned. */
  exec(stmt: Stmt, scope: Env, pass: Pass): void {
    const { ctx } = this;
    if (!ctx.budget.statement(stmt.span, ctx.reporter)) return;
    ctx.seq++;
    ctx.b.span = stmt.span;
    ctx.b.sourceLine = this.lineOf(stmt.span);
    const before = ctx.reporter.count;
    ctx.reporter.guard(stmt.span, () => this.execInner(stmt, scope, pass));
    if (ctx.reporter.count > before || failedDefinition(stmt, scope)) poison(stmt, scope);
  }

  /**
   * A `pass` block: its overridden inputs (evaluated where the pass is written, as the default
   * pass reads them), then its body.
   */
  runPass(stmt: PassStmt, outer: Env): void {
    const { ctx } = this;
    let name = stmt.name;
    let family: { name: string; index: number } | undefined;
    if (stmt.index) {
      const indexExpr = stmt.index;
      const found: number[] = [];
      ctx.reporter.guard(indexExpr.span, () => {
        const i = this.ev.eval(indexExpr, outer, ctx.outerPass());
        if (i.k !== "num" || !Number.isInteger(i.v) || i.v < 0) fail("E0209", `a pass index must be a non-negative integer, not ${describe(i)}`, indexExpr.span);
        found.push(i.v);
      });
      const index = found[0];
      if (index === undefined) return;
      name = `${stmt.name}[${index}]`;
      family = { name: stmt.name, index };
    }
    const clash = family ? ctx.passByName.has(stmt.name) : ctx.passFamilies.has(stmt.name);
    if (ctx.passByName.has(name) || clash) {
      const help = clash ? (family ? `\`${stmt.name}\` is a pass without an index; give the passes in the loop another name` : `\`${stmt.name}[i]\` are passes of a loop; give this pass another name`) : family ? "index each pass of a loop by the loop variable: `pass name[l] { ... }`" : "give each pass its own name";
      ctx.reporter.report(diagnostic("E0108", `a pass named \`${name}\` already exists`, { span: stmt.nameSpan, help }));
      return;
    }
    if (!ctx.budget.pass(stmt.nameSpan, ctx.reporter)) return;
    const inputs: { input: Value; value: Value; from: string }[] = [];
    for (const o of stmt.overrides) {
      ctx.reporter.guard(o.span, () => {
        const input = ctx.refs.graphInput(o.name, o.span);
        const value = this.ev.tensorOf({ value: this.ev.eval(o.value, outer, ctx.outerPass()), span: o.value.span }, input.value);
        const want = input.value.type?.elemType ?? 0;
        const got = value.resolve().type?.elemType ?? 0;
        if (want && got && want !== got) fail("E0204", `model input \`${o.name}\` is ${elemName(want)}, but the value given is ${elemName(got)}`, o.value.span);
        inputs.push({ input: input.value, value, from: printExpr(o.value) });
      });
    }
    const pass = ctx.newPass(name, stmt.nameSpan, inputs, family);
    const scope: Env = new Scope(outer);
    ctx.budget.enterPass();
    for (const s of stmt.body) this.exec(s, scope, pass);
    ctx.budget.leave();
    this.finishPass(pass, scope);
  }

  /** What a later pass can read of this one: its saves, and its own names. */
  finishPass(pass: Pass, scope: Env): void {
    for (const [name, binding] of scope.ownEntries()) if (!pass.exports.has(name)) pass.exports.set(name, binding.value);
    pass.finished = true;
  }

  private lineOf(span: Span): string {
    const src = this.ctx.input.script.source;
    const start = src.lastIndexOf("\n", span.offset - 1) + 1;
    const end = src.indexOf("\n", span.offset);
    return src.slice(start, end < 0 ? src.length : end);
  }

  private execInner(stmt: Stmt, scope: Env, pass: Pass): void {
    switch (stmt.kind) {
      case "Let":
        scope.define(stmt.name, this.ev.eval(stmt.value, scope, pass), stmt.nameSpan);
        return;
      case "Save":
        return this.execSave(stmt, scope, pass);
      case "Assign":
        return this.execAssign(stmt, scope, pass);
      case "For":
        return this.execFor(stmt, scope, pass);
      case "Param":
        return this.execParam(stmt, scope);
      case "Def":
        scope.define(stmt.name, { k: "func", def: stmt, closure: scope }, stmt.nameSpan);
        return;
      case "Import":
        return this.execImport(stmt, scope);
      case "Pass":
        // A pass inside a loop of the script's top level runs at each iteration; inside a pass it cannot.
        if (pass !== this.ctx.outerPass()) fail("E0108", "a `pass` block cannot be nested inside another pass", stmt.span, "write passes at the top level of the script, or in a `for` loop at the top level");
        return this.runPass(stmt, scope);
      default: {
        const never: never = stmt;
        return never;
      }
    }
  }

  private execImport(stmt: StmtOf<"Import">, scope: Env): void {
    const { ctx } = this;
    const file = ctx.input.files.get(stmt.path);
    if (!file || file.kind === "error") return; // reported when the file was read
    if (file.kind !== "onnx") fail("E0402", `\`${stmt.path}\` is not an ONNX model`, stmt.pathSpan);
    // Imported once per file, however often the statement runs: each import decodes and
    // types the whole model, and one in a loop of 1,000 took minutes (found by test/fuzz.test.ts).
    let imported = ctx.imports.get(stmt.path);
    if (imported === "failed") throw new AlreadyReported();
    if (!imported) {
      try {
        imported = loadImported(file.model, stmt.path, ctx.model.opset, stmt.pathSpan);
      } catch (e) {
        ctx.imports.set(stmt.path, "failed");
        throw e;
      }
      ctx.imports.set(stmt.path, imported);
    }
    scope.define(stmt.alias, { k: "import", model: imported, alias: stmt.alias }, stmt.aliasSpan);
  }

  private execSave(stmt: StmtOf<"Save">, scope: Env, pass: Pass): void {
    const { ctx } = this;
    let name = stmt.name;
    let index: number | null = null;
    if (stmt.index) {
      const i = this.ev.eval(stmt.index, scope, pass);
      if (i.k !== "num" || !Number.isInteger(i.v) || i.v < 0) fail("E0209", `a save index must be a non-negative integer, not ${describe(i)}`, stmt.index.span);
      index = i.v;
      name = `${stmt.name}[${index}]`;
    }
    const full = pass.name === "main" ? name : `${pass.name}.${name}`;
    const earlier = ctx.saveNames.get(full);
    if (earlier) {
      fail("E0105", `\`${full}\` is saved twice`, stmt.nameSpan, "give each save its own name, or index it inside a loop: `save name[l] = ...`", { labels: [{ span: earlier, message: "first saved here" }] });
    }
    const value = this.ev.tensorOf({ value: this.ev.eval(stmt.value, scope, pass), span: stmt.value.span });
    ctx.saveNames.set(full, stmt.nameSpan);
    const output = spliceSave(ctx.b, value, full);
    ctx.saves.push({ name: full, pass: pass.state, value, output, span: stmt.nameSpan, seq: ctx.seq });
    const exported: CVal = tensorVal(value);
    // `save x = e` also binds `x` for the statements after it, like `let`.
    if (index === null && !scope.assign(stmt.name, exported)) scope.define(stmt.name, exported, stmt.nameSpan);
    if (index === null) pass.exports.set(stmt.name, exported);
    else {
      const list = pass.exports.get(stmt.name);
      const items = list && list.k === "list" ? list.items : [];
      items[index] = exported;
      pass.exports.set(stmt.name, { k: "list", items });
    }
  }

  private execAssign(stmt: StmtOf<"Assign">, scope: Env, pass: Pass): void {
    const { ctx } = this;
    const target = stmt.target;
    // Rebinding a name bound by `let`, a loop or a parameter.
    if (target.kind === "Name" && scope.lookup(target.name)) {
      const binding = scope.lookup(target.name)!;
      if (binding.value.k === "poison") throw new AlreadyReported();
      if (binding.value.k === "func" || binding.value.k === "import") fail("E0211", `\`${target.name}\` is a function and cannot be rebound`, target.span);
      let value = this.ev.eval(stmt.value, scope, pass);
      if (stmt.op !== "=") value = this.ev.arith(stmt.op[0]!, { value: binding.value, span: target.span }, { value, span: stmt.value.span }, stmt.span);
      scope.assign(target.name, value);
      return;
    }
    // Otherwise a patch: `REF = e` or `REF[idx] = e`, with `op=` reading the value before the patch.
    let items: IndexItem[] | null = null;
    let refExpr = target;
    if (target.kind === "Index") {
      const base = this.ev.settle(this.ev.evalRaw(target.object, scope, pass), target.object.span);
      if (base.k === "port") {
        refExpr = target.object;
        items = target.items.map((it) => this.ev.indexItem(it, scope, pass));
      }
    }
    const place = this.ev.settle(this.ev.evalRaw(refExpr, scope, pass), refExpr.span);
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
        ctx.b.within(pass.state.ownBody(inst), () => {
          const current = pass.state.readInstance(port, inst);
          this.applyPatch(port, pass, target.span, current, () => this.patchValue(stmt, scope, pass, port, current, items, target.span), (value, reads) => ({
            rewired: pass.state.patchInstance(port, inst, value, current, reads),
            outputs: [],
          }));
        });
      }
      return;
    }
    const current = this.ev.readPort(port, pass, target.span, false);
    this.applyPatch(port, pass, target.span, current, () => this.patchValue(stmt, scope, pass, port, current, items, target.span), (value, reads) =>
      pass.state.patch(port, value, current, reads),
    );
  }

  /**
   * Computes a patch's value from `current`, the value at its place, applies it with `apply`, and
   * records it with what the checks need: what its computation read of `current` (`*=`, `+=`, a
   * read of the place on the right), whether it made its value, and the uses the value had before.
   */
  private applyPatch(
    port: PortRef,
    pass: Pass,
    span: Span,
    current: Value,
    compute: () => Value,
    apply: (value: Value, reads: Use[]) => { rewired: Use[]; outputs: number[] },
  ): void {
    const currentUses = new Set(current.uses);
    const nodesBefore = Node.made;
    const value = compute();
    const reads = current.uses.filter((u) => !currentUses.has(u));
    const made = value.producer !== null && value.producer.serial >= nodesBefore;
    const usesBefore = new Set(value.uses);
    const { rewired, outputs } = apply(value, reads);
    this.ctx.patches.push({ seq: this.ctx.seq, span, display: port.display, port, pass: pass.state, value, made, rewired, usesBefore, outputs });
  }

  /** The new value of a patched port: `=`, `op=`, whole or partial (`REF[items]`). */
  private patchValue(stmt: StmtOf<"Assign">, scope: Env, pass: Pass, port: PortRef, current: Value, items: IndexItem[] | null, targetSpan: Span): Value {
    const { b } = this.ctx;
    const rhs: Arg = { value: this.ev.eval(stmt.value, scope, pass), span: stmt.value.span };
    let value: Value;
    if (items) {
      // A partial patch (patching.ts); along the sequence axis, with generation's window (window.ts).
      const op = (stmt.op === "=" ? "=" : stmt.op[0]) as PatchOp;
      value = patchTensor(b, current, items, op, this.ev.tensorOf(rhs, current), targetSpan, sequenceWindow(this.ctx, current));
    } else {
      let v = this.ev.tensorOf(rhs, current);
      if (stmt.op !== "=") v = binary(b, stmt.op[0]!, current, v, stmt.span);
      else v = fitPatch(b, current, v, port, stmt.value.span);
      value = v;
    }
    // A patch needs a value of its own in the patched scope (an Identity when it is the same tensor).
    if (value === current || value.graph !== b.graph) value = b.op1("Identity", [value]);
    return value;
  }

  private execFor(stmt: StmtOf<"For">, scope: Env, pass: Pass): void {
    const { budget } = this.ctx;
    let values: CVal[];
    if (stmt.iterable.kind === "Range") {
      const start = this.ev.eval(stmt.iterable.start, scope, pass);
      const end = this.ev.eval(stmt.iterable.end, scope, pass);
      if (start.k !== "num" || !Number.isInteger(start.v)) fail("E0209", `a range starts at an integer, not ${describe(start)}`, stmt.iterable.start.span);
      if (end.k !== "num" || !Number.isInteger(end.v)) fail("E0209", `a range ends at an integer, not ${describe(end)}`, stmt.iterable.end.span);
      const count = Math.max(0, end.v - start.v);
      budget.loop(count, stmt.body.length, stmt.iterable.span);
      values = Array.from({ length: count }, (_, i) => ({ k: "num", v: start.v + i }));
    } else {
      const it = this.ev.eval(stmt.iterable.expr, scope, pass);
      if (it.k !== "list") fail("E0209", `a loop runs over a range \`a..b\` or a list, not ${describe(it)}`, stmt.iterable.span);
      values = it.items;
    }
    budget.enterLoop(stmt.span);
    try {
      for (const v of values) {
        const inner: Env = new Scope(scope);
        inner.define(stmt.variable, v, stmt.variableSpan);
        for (const s of stmt.body) this.exec(s, inner, pass);
        if (budget.exhausted) break;
      }
    } finally {
      budget.leave();
    }
  }

  private execParam(stmt: StmtOf<"Param">, scope: Env): void {
    const { ctx } = this;
    const code = elemTypeCode(stmt.elemType);
    if (code === undefined) {
      const hint = suggest(stmt.elemType, SCRIPT_ELEM_TYPE_NAMES);
      fail("E0501", `unknown element type \`${stmt.elemType}\``, stmt.elemTypeSpan, hint ? `did you mean \`${hint}\`?` : `element types are ${SCRIPT_ELEM_TYPE_NAMES.join(", ")}`);
    }
    const shape = stmt.dims === null ? [] : stmt.dims.map((d) => (d.kind === "Fixed" ? d.value : d.kind === "Named" ? d.name : null));
    const input = paramInput(ctx.b, stmt.name, { elemType: code, shape });
    let defaultValue: TensorProto | null = null;
    if (stmt.default) {
      const d = this.ev.eval(stmt.default, scope, ctx.firstPass);
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
        defaultValue = makeTensor(code, fill, shape as number[]);
      } else {
        const v = this.ev.tensorOf({ value: d, span: stmt.default.span });
        const t = v.resolve().initializer;
        if (!t || v.resolve().kind !== "initializer") fail("E0501", "a parameter's default must be a number or `load(...)`", stmt.default.span);
        if (t.data_type !== code) fail("E0204", `the default is ${elemName(t.data_type ?? 0)}, but \`${stmt.name}\` is ${stmt.elemType}`, stmt.default.span);
        defaultValue = t;
      }
    }
    spliceParam(ctx.b, input, defaultValue);
    ctx.params.push({ name: stmt.name, input, hasDefault: defaultValue !== null, span: stmt.nameSpan });
    scope.define(stmt.name, tensorVal(input), stmt.nameSpan);
  }
}

/**
 * The new value of a whole-port patch: of the port's element type, and of its shape — a value
 * that broadcasts to the shape without changing it (`REF = 0`, a `[seq, d]` row for every batch
 * entry) is expanded to it.
 */
function fitPatch(b: Builder, current: Value, v: Value, port: PortRef, span: Span): Value {
  const a = current.resolve().type;
  const t = v.resolve().type;
  if (a?.elemType && t?.elemType && a.elemType !== t.elemType) {
    fail("E0204", `\`${port.display}\` is ${elemName(a.elemType)}, but the new value is ${elemName(t.elemType)}`, span, `convert it: \`cast(..., "${elemName(a.elemType)}")\``);
  }
  if (!a?.shape || !t?.shape) return v;
  const fits = (x: Dim, y: Dim) => typeof x !== "number" || typeof y !== "number" || x === y;
  if (a.shape.length === t.shape.length && a.shape.every((d, i) => fits(d, t.shape![i]!))) return v;
  const offset = a.shape.length - t.shape.length;
  const broadcasts = offset >= 0 && t.shape.every((d, i) => d === 1 || fits(a.shape![offset + i]!, d));
  if (!broadcasts) {
    fail("E0203", `\`${port.display}\` has shape ${fmt(a.shape)}, but the new value has shape ${fmt(t.shape)}`, span, "a patch must keep the tensor's shape (a value that broadcasts to it, such as `0`, is expanded); a partial patch `REF[...] = v` replaces a part");
  }
  return b.op1("Expand", [v, b.op1("Shape", [current])]);
}

function fmt(shape: (number | string | null)[]): string {
  return `[${shape.map((d) => (d === null ? "?" : d)).join(", ")}]`;
}
