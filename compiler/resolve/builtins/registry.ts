// What a built-in function is: its parameters, and how a call of it is lowered. The table of
// built-ins is index.ts; the lowerings are grouped by kind in the files next to this one.

import type { Span } from "../../../common/index.js";
import type { Value } from "../../ir/index.js";
import type { Builder } from "../../lower/index.js";
import type { Arg, CVal } from "../values.js";

/** What a built-in needs from the resolver. */
export interface BuiltinContext {
  b: Builder;
  /** The tensor behind a value (materializing lazy stacks), or an error saying what it is instead. */
  tensor(arg: Arg, like?: Value): Value;
  load(path: string, span: Span): Value;
  len(arg: Arg): number;
  tensorByName(name: string, span: Span): CVal;
}

/** A call of a built-in, its arguments bound to the parameters by name. */
export interface BuiltinCall {
  readonly name: string;
  readonly args: ReadonlyMap<string, Arg>;
  readonly span: Span;
  readonly ctx: BuiltinContext;
  readonly b: Builder;
}

export interface Builtin {
  readonly name: string;
  /** Parameter names in order: positional arguments bind to them in turn, keywords by name. */
  readonly params: readonly string[];
  /** How many of the first parameters must be given. */
  readonly required: number;
  readonly lower: (call: BuiltinCall) => CVal;
}

/** The tensor of the call's parameter `param` (which must be given). */
export function tensorArg(call: BuiltinCall, param: string, like?: Value): Value {
  return call.ctx.tensor(call.args.get(param)!, like);
}
