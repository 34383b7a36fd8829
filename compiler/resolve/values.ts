// Compile-time values of the interpreter. Numbers, strings, lists and modules exist only while
// compiling; tensors become graph values. `stack` and `concat` stay lazy until something needs
// the tensor, so indexing `stack(xs)[0:l]` depends on the first `l` elements only.

import type { Stmt } from "../../grammar/index.js";

type Def = Extract<Stmt, { kind: "Def" }>;
import type { Value } from "../ir/index.js";
import type { Module } from "../modules/index.js";
import type { Span } from "../../common/index.js";
import type { ImportedModel } from "./imports.js";
import type { PassState, PortRef } from "../splice/index.js";
import type { Scope } from "./scope.js";

export type Lazy =
  | { kind: "value"; value: Value }
  | { kind: "stack"; items: Lazy[]; axis: number; span: Span }
  | { kind: "concat"; items: Lazy[]; axis: number; span: Span };

export type CVal =
  | { k: "num"; v: number }
  | { k: "str"; v: string }
  | { k: "bool"; v: boolean }
  | { k: "list"; items: CVal[] }
  | { k: "tensor"; t: Lazy }
  | { k: "module"; m: Module }
  | { k: "ports"; m: Module; kind: "input" | "output" }
  | { k: "calls"; m: Module }
  | { k: "model-ports"; kind: "input" | "output" }
  | { k: "func"; def: Def; closure: Scope }
  | { k: "builtin"; name: string }
  | { k: "import"; model: ImportedModel; alias: string }
  | { k: "pass"; pass: PassState }
  | { k: "port"; ref: PortRef }
  /** A name whose definition failed (already reported); using it skips the statement quietly. */
  | { k: "poison" };

export function tensorVal(value: Value): CVal {
  return { k: "tensor", t: { kind: "value", value } };
}

export function describe(v: CVal): string {
  switch (v.k) {
    case "num":
      return `the number \`${v.v}\``;
    case "str":
      return "a string";
    case "bool":
      return "a boolean";
    case "list":
      return `a list of ${v.items.length}`;
    case "tensor":
      return "a tensor";
    case "module":
      return `the module \`${v.m.displayPath}\``;
    case "ports":
      return `the ${v.kind}s of \`${v.m.displayPath}\``;
    case "calls":
      return `the calls of \`${v.m.displayPath}\``;
    case "model-ports":
      return `the model's ${v.kind}s`;
    case "func":
      return `the function \`${v.def.name}\``;
    case "builtin":
      return `the built-in \`${v.name}\``;
    case "import":
      return `the imported model \`${v.alias}\``;
    case "pass":
      return `the pass \`${v.pass.name}\``;
    case "port":
      return `\`${v.ref.display}\``;
    case "poison":
      return "a value that could not be computed";
    default: {
      const never: never = v;
      return String(never);
    }
  }
}
