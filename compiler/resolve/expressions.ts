// Expressions, evaluated at compile time: numbers, strings and lists stay compile-time values;
// names resolve against the scope, the passes, the built-ins and the module tree; references to
// the model become ports, read in the pass the expression runs in; tensor operations are lowered
// to nodes as they are reached.

import { AlreadyReported, CompileError, fail, suggest, type Span } from "../../common/index.js";
import type { Expr } from "../../grammar/index.js";
import type { Value } from "../ir/index.js";
import { binary, indexTensor, INT64, isStatic, literalFor, shapeOf, type Bound, type IndexItem } from "../lower/index.js";
import { readBranchPort, type PortRef } from "../splice/index.js";
import { BUILTIN_NAMES, callBuiltin, isBuiltin, shapeList, sizeArg, type BuiltinContext } from "./builtins/index.js";
import type { Context } from "./context.js";
import { callModule } from "./calls.js";
import { callImported } from "./imports.js";
import { materialize } from "./lazy.js";
import { indexStack, listItem, sliceList } from "./lists.js";
import { Scope } from "./scope.js";
import { describe, tensorVal, type Arg, type CVal, type Env, type Pass } from "./values.js";

type IndexExpr = Extract<Expr, { kind: "Index" }>;
/** Members of a PyTorch tensor that only exist with autograd. */
const GRADIENT_MEMBERS = new Set(["grad", "backward", "grad_fn", "requires_grad"]);
/** Functions of autograd (torch.autograd, torch.func) a user may reach for: refused with the reason, not "unknown". */
const GRADIENT_FUNCTIONS = new Set(["grad", "backward", "jacobian", "hessian", "vjp", "jvp"]);
const NO_GRADIENTS_HELP = "compute gradients and gradient-based attributions in PyTorch; intv saves and patches forward values (docs/language.md, Gradients)";
type CallExpr = Extract<Expr, { kind: "Call" }>;

export class Expressions {
  constructor(private readonly ctx: Context) {}

  /** The value of `expr`; a port is read (in `pass`, recorded as a read). */
  eval(expr: Expr, scope: Env, pass: Pass): CVal {
    const v = this.settle(this.evalRaw(expr, scope, pass), expr.span);
    if (v.k === "port") return tensorVal(this.readPort(v.ref, pass, expr.span, true));
    return v;
  }

  /**
   * A reference used as a value (read, patched, indexed as a tensor): a module named `output` or
   * `input` that stands for its parent's port becomes the port, and a path that still reads two
   * ways is an error.
   */
  settle(v: CVal, span: Span): CVal {
    if (v.k === "fork") this.ambiguousPath(span);
    if (v.k === "module" && v.asPort) return { k: "port", ref: this.ctx.refs.primary(v.asPort.m, v.asPort.kind, span) };
    return v;
  }

  private ambiguousPath(span: Span): never {
    const text = this.ctx.input.script.source.slice(span.offset, span.offset + span.length);
    const rest = text.startsWith("model") ? text.slice("model".length) : `.${text}`;
    fail("E0113", `\`${text}\` reads two ways in this model: as a path from the whole model, and from its child \`model\``, span,
      `write \`model.model${rest}\` for the one inside the child \`model\`; the whole model's own inputs and outputs are also \`model.inputs["NAME"]\` and \`model.outputs["NAME"]\``,
      { notes: ["the model has a child named `model` (as Hugging Face's `LlamaForCausalLM` does), so a path that starts with `model.` means either; intv uses the reading that resolves, and here both do"] });
  }

  /** Apply one member or index step to both readings of a forked path, keeping those that resolve. */
  private stepFork(v: Extract<CVal, { k: "fork" }>, step: (x: CVal) => CVal): CVal {
    const attempt = (x: CVal): { v?: CVal; e?: unknown } => {
      try {
        return { v: step(x) };
      } catch (e) {
        if (e instanceof CompileError) return { e };
        throw e;
      }
    };
    const a = attempt(v.whole);
    const b = attempt(v.child);
    if (a.v && b.v) return { k: "fork", whole: a.v, child: b.v };
    if (a.v) return a.v;
    if (b.v) return b.v;
    throw a.e;
  }

  /**
   * The object of `x.name` or `x[i]`. A name that is a top-level module of the model is the
   * module there, even where a built-in has the same name (`relu.output` on a ResNet).
   */
  private evalObject(expr: Expr, scope: Env, pass: Pass): CVal {
    if (expr.kind === "Name" && !scope.lookup(expr.name) && !this.ctx.passByName.has(expr.name) && !this.ctx.passFamilies.has(expr.name)) {
      const child = this.ctx.tree.root.child(expr.name);
      if (child && expr.name !== "model") return { k: "module", m: child };
    }
    return this.evalRaw(expr, scope, pass);
  }

  /** The value `pass` computes at a port now; `record` keeps it as a read of the script. */
  readPort(ref: PortRef, pass: Pass, span: Span, record: boolean): Value {
    const value = ref.instances ? readBranchPort(this.ctx.b, pass.state, ref, span) : pass.state.read(ref);
    if (record) this.ctx.reads.push({ seq: this.ctx.seq, span, display: ref.display, value, pass: pass.state });
    return value;
  }

  /** The tensor behind a value; numbers take the element type of `like`. */
  tensorOf(arg: Arg, like?: Value): Value {
    const { b } = this.ctx;
    const v = arg.value;
    switch (v.k) {
      case "tensor":
        return materialize(b, v.t);
      case "port":
        return this.readPort(v.ref, this.ctx.firstPass, arg.span, true);
      case "num":
        if (like) return literalFor(b, v.v, like, arg.span);
        return b.scalar(1, v.v);
      case "bool":
        return b.constant(9, [v.v ? 1 : 0], []);
      case "list":
        return fail("E0208", `a list of ${v.items.length} is used where a tensor is needed`, arg.span, "lists are compile-time sequences: make a tensor with `stack(xs)` or `concat(xs)`");
      default:
        fail("E0209", `${describe(v)} is used where a tensor is needed`, arg.span);
    }
  }

  /** The value of `expr` without reading a port it names (a patch's target, a member's object). */
  evalRaw(expr: Expr, scope: Env, pass: Pass): CVal {
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
      case "Member": {
        const object = this.evalObject(expr.object, scope, pass);
        return this.tensorMember(object, expr.property, expr.propertySpan, pass) ?? this.evalMember(object, expr.property, expr.propertySpan, expr);
      }
      case "Index":
        return this.evalIndex(expr, scope, pass);
      case "Call":
        return this.evalCall(expr, scope, pass);
      case "Unary": {
        const v = this.eval(expr.operand, scope, pass);
        if (v.k === "num") return { k: "num", v: -v.v };
        return tensorVal(this.ctx.b.op1("Neg", [this.tensorOf({ value: v, span: expr.operand.span })]));
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

  private evalName(name: string, span: Span, scope: Env): CVal {
    const bound = scope.lookup(name);
    if (bound?.value.k === "poison") throw new AlreadyReported();
    if (bound) return bound.value;
    const { passByName, passFamilies, namedPasses, tree } = this.ctx;
    const pass = passByName.get(name);
    if (pass) return { k: "pass", pass };
    const members = passFamilies.get(name);
    if (members) return { k: "passes", name, members };
    if (namedPasses.some((p) => p.name === name)) {
      fail("E0108", `the pass \`${name}\` is read before it runs`, span, "a pass can read only the passes written before it");
    }
    if (isBuiltin(name)) return { k: "builtin", name };
    if (name === "model") {
      // A child named `model` (Hugging Face's LlamaForCausalLM): the path reads both ways.
      const inner = tree.root.child("model");
      return inner && !inner.callOf ? { k: "fork", whole: { k: "module", m: tree.root }, child: { k: "module", m: inner } } : { k: "module", m: tree.root };
    }
    const child = tree.root.child(name);
    if (child) return { k: "module", m: child };
    const candidates = [...scope.names(), ...passByName.keys(), ...passFamilies.keys(), ...BUILTIN_NAMES, ...tree.root.children.keys(), "model"];
    const hint = suggest(name, candidates);
    const roots = [...tree.root.childList().map((c) => c.name)];
    const notes = this.ctx.refs.absentChildNotes(tree.root, name, true);
    fail("E0101", `\`${name}\` is not defined`, span, hint ? `did you mean \`${hint}\`?` : roots.length > 0 ? `the model's top-level modules are ${roots.slice(0, 6).map((r) => `\`${r}\``).join(", ")}` : undefined,
      notes.length > 0 ? { notes } : undefined);
  }

  private evalMember(object: CVal, prop: string, span: Span, expr: Expr): CVal {
    const { refs } = this.ctx;
    // `M.output.dense`: `output` is M's child module here, not its port.
    const obj: CVal = object.k === "module" && object.asPort ? { k: "module", m: object.m } : object;
    if (obj.k === "fork") return this.stepFork(obj, (x) => this.evalMember(x, prop, span, expr));
    switch (obj.k) {
      case "module": {
        const m = obj.m;
        if (m.parent === null) {
          if (prop === "output") return { k: "port", ref: refs.graphOutput(0, span) };
          if (prop === "input") return { k: "port", ref: refs.graphInput(0, span) };
          if (prop === "outputs") return { k: "model-ports", kind: "output" };
          if (prop === "inputs") return { k: "model-ports", kind: "input" };
        }
        if (prop === "output" || prop === "input") {
          const named = m.child(prop);
          if (named) return { k: "module", m: named, asPort: { m, kind: prop } };
          return { k: "port", ref: refs.primary(m, prop, expr.span) };
        }
        if (prop === "outputs" || prop === "inputs") {
          refs.requireNodes(m, expr.span);
          return { k: "ports", m, kind: prop === "outputs" ? "output" : "input" };
        }
        if (prop === "calls") return { k: "calls", m };
        const param = refs.param(m, prop, span);
        if (param) return { k: "port", ref: param };
        return { k: "module", m: refs.child(m, prop, span) };
      }
      case "passes":
        return fail("E0108", `\`${obj.name}\` names the passes \`${obj.name}[i]\` of a loop: index it to read one`, span, `write \`${obj.name}[${[...obj.members.keys()][0] ?? 0}].${prop}\``);
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

  /**
   * `x.shape` of a tensor or port: a list of sizes (builtins/sizes.ts). Gradients (`.grad`,
   * `.backward`) are refused with the reason: a compiled model is an inference graph. Null for
   * other members, which `evalMember` resolves.
   */
  private tensorMember(object: CVal, prop: string, span: Span, pass: Pass): CVal | null {
    if (prop !== "shape" && !GRADIENT_MEMBERS.has(prop)) return null;
    const v = object.k === "fork" || (object.k === "module" && object.asPort) ? this.settle(object, span) : object;
    if (v.k !== "tensor" && v.k !== "port") return null;
    if (GRADIENT_MEMBERS.has(prop)) {
      fail("E0103", `\`.${prop}\`: intv compiles inference graphs, which have no gradients`, span, NO_GRADIENTS_HELP);
    }
    const x = v.k === "port" ? this.readPort(v.ref, pass, span, false) : materialize(this.ctx.b, v.t);
    return shapeList(this.ctx.b, x, span);
  }

  /** One item of `x[...]`: an integer, a slice, `...`, or a tensor of indices. */
  indexItem(it: IndexExpr["items"][number], scope: Env, pass: Pass): IndexItem {
    if (it.kind === "Ellipsis") return { kind: "ellipsis", span: it.span };
    const int = (e: Expr | undefined, what: string): number | null => {
      if (!e) return null;
      const v = this.eval(e, scope, pass);
      if (v.k !== "num" || !Number.isInteger(v.v)) fail("E0206", `${what} must be a compile-time integer, not ${describe(v)}`, e.span);
      return v.v;
    };
    // A slice bound may also be a size known at run time (`x[:, 0:x.shape[1] - 1]`, a `param`).
    const bound = (e: Expr | undefined, what: string): Bound => {
      if (!e) return null;
      const v = this.eval(e, scope, pass);
      if (v.k === "tensor") return sizeArg(this.builtinContext(pass), { value: v, span: e.span }, what);
      if (v.k !== "num" || !Number.isInteger(v.v)) fail("E0206", `${what} must be an integer or a size such as \`x.shape[1]\`, not ${describe(v)}`, e.span);
      return v.v;
    };
    if (it.kind === "Slice") return { kind: "slice", start: bound(it.start, "a slice start"), stop: bound(it.stop, "a slice end"), step: int(it.step, "a slice step"), span: it.span };
    const v = this.eval(it.expr, scope, pass);
    if (v.k === "num") {
      if (!Number.isInteger(v.v)) fail("E0206", `an index must be an integer, not \`${v.v}\``, it.span);
      return { kind: "int", value: v.v, span: it.span };
    }
    if (v.k === "tensor") return { kind: "tensor", value: materialize(this.ctx.b, v.t), span: it.span };
    // A (nested) list of integers indexes as the int64 tensor it spells (`x[:, [0, 2]]`), as in NumPy.
    const spelled = v.k === "list" ? integerArray(v) : null;
    if (spelled) return { kind: "tensor", value: this.ctx.b.constant(INT64, spelled.values.map(BigInt), spelled.shape), span: it.span };
    fail("E0206", `an index must be an integer, a slice or a tensor, not ${describe(v)}`, it.span, "a tensor of integer indices (`x[:, idx]`, `x[arange(2), pos]`) or a list of integers (`x[:, [0, 2]]`)");
  }

  private evalIndex(expr: IndexExpr, scope: Env, pass: Pass): CVal {
    const object = this.evalObject(expr.object, scope, pass);
    if (object.k === "fork") return this.stepFork(object, (x) => this.indexValue(x, expr, scope, pass));
    return this.indexValue(object, expr, scope, pass);
  }

  private indexValue(raw: CVal, expr: IndexExpr, scope: Env, pass: Pass): CVal {
    const { refs, b } = this.ctx;
    // `M.output[...]` indexes M's port even where M has a child named `output`.
    const obj = raw.k === "module" && raw.asPort ? this.settle(raw, expr.object.span) : raw;
    const single = expr.items.length === 1 && expr.items[0]!.kind === "Expr" ? expr.items[0]!.expr : null;
    const key = single ? this.eval(single, scope, pass) : null;
    const intKey = (what: string): number => {
      if (!key || key.k !== "num" || !Number.isInteger(key.v)) fail("E0206", `${what} takes one integer index`, expr.span);
      return key.v;
    };
    switch (obj.k) {
      case "module":
        if (key?.k === "str") return { k: "module", m: refs.child(obj.m, key.v, expr.span) };
        return { k: "module", m: refs.childAt(obj.m, intKey(`\`${obj.m.displayPath}\``), expr.span) };
      case "ports":
        return { k: "port", ref: refs.modulePort(obj.m, obj.kind, intKey(`\`${obj.kind}s\``), expr.span) };
      case "model-ports":
        if (key?.k === "str") return { k: "port", ref: obj.kind === "input" ? refs.graphInput(key.v, expr.span) : refs.graphOutput(key.v, expr.span) };
        return { k: "port", ref: obj.kind === "input" ? refs.graphInput(intKey("`model.inputs`"), expr.span) : refs.graphOutput(intKey("`model.outputs`"), expr.span) };
      case "calls": {
        const k = intKey("`calls`");
        const calls = obj.m.calls.length > 0 ? obj.m.calls : [obj.m];
        const c = calls[k < 0 ? k + calls.length : k];
        if (!c) fail("E0104", `\`${obj.m.displayPath}\` is called ${calls.length} time${calls.length === 1 ? "" : "s"} in the exported graph, so \`calls[${k}]\` does not exist`, expr.span, `call indices go from 0 to ${calls.length - 1}`);
        return { k: "module", m: c };
      }
      case "list":
        return this.indexList(obj.items, expr, scope, pass);
      case "passes": {
        const k = intKey(`\`${obj.name}\``);
        const member = obj.members.get(k);
        if (!member) {
          const ran = [...obj.members.keys()];
          const planned = this.ctx.namedPasses.some((p) => p.name === obj.name);
          fail("E0108", `the pass \`${obj.name}[${k}]\` has not run`, expr.span,
            ran.length > 0 ? `the passes \`${obj.name}[i]\` that ran so far are ${ran.map((i) => `\`${obj.name}[${i}]\``).join(", ")}${planned ? "; a pass can read only the passes that ran before it" : ""}` : undefined);
        }
        return { k: "pass", pass: member };
      }
      case "tensor":
      case "port": {
        const items = expr.items.map((it) => this.indexItem(it, scope, pass));
        if (obj.k === "tensor" && obj.t.kind === "stack") {
          const picked = indexStack(b, obj.t, items, expr.span);
          if (picked) return picked;
        }
        const x = obj.k === "port" ? this.readPort(obj.ref, pass, expr.object.span, true) : materialize(b, obj.t);
        return tensorVal(indexTensor(b, x, items, expr.span));
      }
      default:
        fail("E0206", `${describe(obj)} cannot be indexed`, expr.span);
    }
  }

  private indexList(items: CVal[], expr: IndexExpr, scope: Env, pass: Pass): CVal {
    if (expr.items.length !== 1) fail("E0206", "a list takes one index", expr.span, "to index the tensors inside, `stack(...)` them first");
    const it = expr.items[0]!;
    if (it.kind === "Slice") {
      const item = this.indexItem(it, scope, pass) as Extract<IndexItem, { kind: "slice" }>;
      if (!isStatic(item.start) || !isStatic(item.stop)) fail("E0206", "a list is sliced with compile-time integers", it.span);
      return { k: "list", items: sliceList(items, item.start, item.stop, item.step) };
    }
    if (it.kind !== "Expr") fail("E0206", "a list cannot be indexed with `...`", it.span);
    return listItem(items, this.eval(it.expr, scope, pass), it.span);
  }

  private evalCall(expr: CallExpr, scope: Env, pass: Pass): CVal {
    const { tree } = this.ctx;
    if (expr.callee.kind === "Name" && scope.lookup(expr.callee.name)?.value.k === "poison") throw new AlreadyReported();
    // A name that is a built-in is the built-in when called (`relu(x)`, even on a ResNet with a
    // module `relu`); a top-level module of the model is callable (`lm_head(h)`).
    if (expr.callee.kind === "Name" && expr.callee.name === "model" && !scope.lookup("model") && !tree.root.child("model")) {
      fail("E0209", "the whole model cannot be called", expr.callee.span, "run it on other inputs in a pass of its own: `pass other(input_ids = x) { save y = model.output }`");
    }
    if (expr.callee.kind === "Name" && !scope.lookup(expr.callee.name) && !isBuiltin(expr.callee.name) && !(tree.root.child(expr.callee.name) && expr.callee.name !== "model")) {
      if (GRADIENT_FUNCTIONS.has(expr.callee.name)) {
        fail("E0210", `\`${expr.callee.name}\`: intv compiles inference graphs, which have no gradients`, expr.callee.span, NO_GRADIENTS_HELP);
      }
      const hint = suggest(expr.callee.name, [...BUILTIN_NAMES, ...scope.names(), ...tree.root.children.keys()]);
      fail("E0210", `unknown function \`${expr.callee.name}\``, expr.callee.span, hint ? `did you mean \`${hint}\`?` : "the built-in functions are listed in docs/language.md");
    }
    const raw = this.evalRaw(expr.callee, scope, pass);
    const callee = raw.k === "fork" ? this.settle(raw, expr.callee.span) : raw;
    const args: Arg[] = expr.args.map((a) => ({ value: this.eval(a, scope, pass), span: a.span }));
    const kwargs = new Map<string, Arg>();
    for (const kw of expr.kwargs) kwargs.set(kw.name, { value: this.eval(kw.value, scope, pass), span: kw.span });
    // `tensor("NAME")` is a place of the model, read or patched like a port.
    if (callee.k === "builtin" && callee.name === "tensor" && args.length === 1 && kwargs.size === 0 && args[0]!.value.k === "str") {
      return { k: "port", ref: this.ctx.refs.tensor(args[0]!.value.v, args[0]!.span) };
    }
    switch (callee.k) {
      case "builtin":
        return callBuiltin(this.builtinContext(pass), callee.name, args, kwargs, expr.span);
      case "func": {
        const def = callee.def;
        if (kwargs.size > 0) fail("E0202", `\`${def.name}\` takes positional arguments only`, expr.kwargs[0]!.span);
        if (args.length !== def.params.length) {
          fail("E0201", `\`${def.name}\` takes ${def.params.length} argument${def.params.length === 1 ? "" : "s"}, got ${args.length}`, expr.span, `it is defined as \`def ${def.name}(${def.params.map((p) => p.name).join(", ")})\``, { labels: [{ span: def.nameSpan, message: "defined here" }] });
        }
        // A call is inlined: one level deeper and one statement of the budget (limits.ts).
        this.ctx.budget.enterCall(expr.span);
        try {
          const inner: Env = new Scope(callee.closure);
          def.params.forEach((p, i) => inner.define(p.name, args[i]!.value, p.span));
          return this.eval(def.body, inner, pass);
        } finally {
          this.ctx.budget.leave();
        }
      }
      case "module": {
        if (kwargs.size > 0) fail("E0202", `a call of \`${callee.m.displayPath}\` takes positional arguments only`, expr.kwargs[0]!.span, `the arguments are what enters the module: \`${callee.m.displayPath}.inputs[0]\`, \`inputs[1]\`, …`);
        return callModule(this.ctx, pass, callee.m, args.map((a) => this.tensorOf(a)), args.map((a) => a.span), expr.span);
      }
      case "import": {
        const inputs = args.map((a) => this.tensorOf(a));
        const outs = callImported(this.ctx.b, callee.model, callee.alias, inputs, expr.span);
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

  private builtinContext(pass: Pass): BuiltinContext {
    return {
      b: this.ctx.b,
      tensor: (arg, like) => this.tensorOf(arg, like),
      load: (path, span) => this.loadNpy(path, span),
      len: (arg) => {
        const v = arg.value;
        if (v.k === "list") return v.items.length;
        if (v.k === "module") return v.m.childList().length;
        if (v.k === "passes") return v.members.size;
        if (v.k === "ports") return v.kind === "input" ? this.ctx.refs.ports(v.m).inputs.length : this.ctx.refs.ports(v.m).outputs.length;
        if (v.k === "tensor" && v.t.kind === "stack") return v.t.items.length;
        if (v.k === "tensor" || v.k === "port") {
          const x = this.tensorOf(arg);
          const d = shapeOf(x)?.[0];
          if (typeof d === "number") return d;
          fail("E0209", "`len` of a tensor needs a static first dimension", arg.span);
        }
        fail("E0209", `\`len\` takes a list, a module or a tensor, not ${describe(v)}`, arg.span);
      },
      tensorByName: (name, span) => tensorVal(this.readPort(this.ctx.refs.tensor(name, span), pass, span, true)),
    };
  }

  private loadNpy(path: string, span: Span): Value {
    const file = this.ctx.input.files.get(path);
    if (!file) fail("E0402", `\`load\` takes a string literal path; \`${path}\` was not read`, span);
    if (file.kind === "error") throw new AlreadyReported();
    if (file.kind !== "npy") fail("E0402", `\`${path}\` is not a NumPy file`, span);
    return this.ctx.b.initializer(file.tensor, `file:${path}`);
  }

  /** `l op r`: numbers at compile time, lists joined by `+`, tensors lowered. */
  arith(op: string, l: Arg, r: Arg, span: Span): CVal {
    const a = l.value;
    const c = r.value;
    if (a.k === "num" && c.k === "num") return numArith(op, a.v, c.v, span);
    if (a.k === "list" || c.k === "list") {
      if (op === "+" && a.k === "list" && c.k === "list") {
        this.ctx.budget.list(a.items.length + c.items.length, span);
        return { k: "list", items: [...a.items, ...c.items] };
      }
      const which = a.k === "list" ? l : r;
      fail("E0208", `\`${op}\` of a list`, which.span, op === "+" ? "`+` joins two lists; to append one item write `xs + [x]`" : "lists are compile-time sequences: make a tensor with `stack(xs)` first");
    }
    if (a.k === "str" || c.k === "str") fail("E0209", "strings can only be function arguments", a.k === "str" ? l.span : r.span);
    const left = a.k === "num" ? null : this.tensorOf(l);
    const right = this.tensorOf(r, left ?? undefined);
    return tensorVal(binary(this.ctx.b, op, left ?? this.tensorOf(l, right), right, span));
  }
}

/** The integers of a rectangular (nested) list and its shape, or null when it is not one. */
function integerArray(v: CVal): { values: number[]; shape: number[] } | null {
  if (v.k === "num") return Number.isInteger(v.v) ? { values: [v.v], shape: [] } : null;
  if (v.k !== "list" || v.items.length === 0) return null;
  const parts = v.items.map(integerArray);
  const first = parts[0];
  if (!first || parts.some((p) => !p || p.shape.join() !== first.shape.join())) return null;
  return { values: parts.flatMap((p) => p!.values), shape: [parts.length, ...first.shape] };
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
