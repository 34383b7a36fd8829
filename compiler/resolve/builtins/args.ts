// Binding a built-in's arguments to its parameters, and reading them as numbers, integer lists,
// booleans and strings, each failing with a message that names what was expected.

import { fail, suggest, type Span } from "../../../common/index.js";
import { describe, type Arg, type CVal } from "../values.js";

/** Bind positional and keyword arguments to `params`; wrong arity and unknown keywords are errors. */
export function bind(name: string, params: readonly string[], required: number, args: Arg[], kwargs: Map<string, Arg>, span: Span): Map<string, Arg> {
  const out = new Map<string, Arg>();
  if (args.length > params.length) {
    fail("E0201", `\`${name}\` takes at most ${params.length} argument${params.length === 1 ? "" : "s"} (${params.join(", ")}), got ${args.length}`, span);
  }
  args.forEach((a, i) => out.set(params[i]!, a));
  for (const [k, a] of kwargs) {
    if (!params.includes(k)) {
      const hint = suggest(k, params);
      fail("E0202", `\`${name}\` has no keyword argument \`${k}\``, a.span, hint ? `did you mean \`${hint}\`?` : `its arguments are ${params.map((p) => `\`${p}\``).join(", ")}`);
    }
    if (out.has(k)) fail("E0201", `\`${name}\` got \`${k}\` twice`, a.span);
    out.set(k, a);
  }
  for (const p of params.slice(0, required)) {
    if (!out.has(p)) fail("E0201", `\`${name}\` is missing its argument \`${p}\``, span, `\`${name}(${params.slice(0, required).join(", ")})\``);
  }
  return out;
}

export function num(a: Arg | undefined, what: string): number | null {
  if (!a) return null;
  if (a.value.k === "num") return a.value.v;
  fail("E0209", `${what} must be a number, not ${describe(a.value)}`, a.span);
}

export function intList(a: Arg | undefined, what: string): number[] | null {
  if (!a) return null;
  if (a.value.k === "num") return [checkInt(a.value.v, a.span, what)];
  if (a.value.k === "list") {
    return a.value.items.map((x) => {
      if (x.k !== "num") fail("E0209", `${what} must be a list of integers, not a list holding ${describe(x)}`, a.span);
      return checkInt(x.v, a.span, what);
    });
  }
  fail("E0209", `${what} must be an integer or a list of integers, not ${describe(a.value)}`, a.span);
}

function checkInt(v: number, span: Span, what: string): number {
  if (!Number.isInteger(v)) fail("E0209", `${what} must be an integer, not \`${v}\``, span);
  return v;
}

export function bool(a: Arg | undefined, what: string): boolean {
  if (!a) return false;
  if (a.value.k === "bool") return a.value.v;
  fail("E0209", `${what} must be \`true\` or \`false\`, not ${describe(a.value)}`, a.span);
}

export function str(a: Arg | undefined, what: string): string | null {
  if (!a) return null;
  if (a.value.k === "str") return a.value.v;
  fail("E0209", `${what} must be a string, not ${describe(a.value)}`, a.span);
}

export function listItems(a: Arg, name: string): CVal[] {
  if (a.value.k === "list") return a.value.items;
  fail("E0209", `\`${name}\` takes a list of tensors, not ${describe(a.value)}`, a.span, `\`${name}([a, b, c])\``);
}
