// Compile-time values of the resolver. Numbers, strings, lists and modules exist only while
// compiling; tensors become graph values. `stack` and `concat` stay lazy until something needs
// the tensor, so indexing `stack(xs)[0:l]` depends on the first `l` elements only.

import type { Span } from "../../common/index.js";
import type { Stmt } from "../../grammar/index.js";
import type { Value } from "../ir/index.js";
import type { Module } from "../modules/index.js";
import type { PassState, PortRef } from "../splice/index.js";
import type { ImportedModel } from "./imports.js";
import type { Scope } from "./scope.js";

type Def = Extract<Stmt, { kind: "Def" }>;

/** Where names live while the script runs. */
export type Env = Scope<CVal>;

/** A pass as the script sees it: its splice state, and what a later pass can read of it. */
export interface Pass {
  readonly name: string;
  readonly state: PassState;
  /** Names a later pass can read as `name.x` (lets and saves of the pass body). */
  readonly exports: Map<string, CVal>;
  /** Set when its body has run; reading `name.x` before that is an error. */
  finished: boolean;
}

/** A value with the place it was written, for messages. */
export interface Arg {
  value: CVal;
  span: Span;
}

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
  /**
   * A module. `asPort` is set when the module is a child named `output` or `input`, so that
   * `M.output` alone still means `M`'s port (`M.output.dense` is the child).
   */
  | { k: "module"; m: Module; asPort?: { m: Module; kind: "input" | "output" } }
  /**
   * A path that reads two ways: a leading `model` as the whole model (`whole`) and as the
   * model's child named `model` (`child`), as in Hugging Face's `LlamaForCausalLM`. Members and
   * indices apply to both; where only one reading resolves it is used, and a value used while
   * both still resolve is an error showing both spellings.
   */
  | { k: "fork"; whole: CVal; child: CVal }
  | { k: "ports"; m: Module; kind: "input" | "output" }
  | { k: "calls"; m: Module }
  | { k: "model-ports"; kind: "input" | "output" }
  | { k: "func"; def: Def; closure: Env }
  | { k: "builtin"; name: string }
  | { k: "import"; model: ImportedModel; alias: string }
  | { k: "pass"; pass: Pass }
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
    case "fork":
      return describe(v.whole);
    default: {
      const never: never = v;
      return String(never);
    }
  }
}
