// Resolution: the script run at compile time against the model. Loops are unrolled, `def`s
// inlined, names bound, lists evaluated and references resolved against the module tree; every
// tensor operation is lowered and every save, patch and param spliced as it is reached, so a read
// of the model sees the graph exactly as the statements before it left it (reads before a patch
// see the original value, reads after it the patched one).

import { Context } from "./context.js";
import { Expressions } from "./expressions.js";
import type { ResolveInput, Resolution } from "./resolution.js";
import { Scope } from "./scope.js";
import { Statements } from "./statements.js";
import type { Env } from "./values.js";
import type { Stmt } from "../../grammar/index.js";

/** Whether a statement outside `pass` blocks reads or patches the model: a loop of passes alone does not. */
function touchesModel(s: Stmt): boolean {
  if (s.kind === "For") return s.body.some(touchesModel);
  return s.kind === "Save" || s.kind === "Assign" || s.kind === "Let";
}

export function resolve(input: ResolveInput): Resolution {
  const ctx = new Context(input);
  const statements = new Statements(ctx, new Expressions(ctx));
  const script = input.script.statements;
  const global: Env = new Scope(null);
  // The default pass, of the statements outside `pass` blocks (none for a loop of passes alone).
  if (ctx.namedPasses.length === 0 || script.some(touchesModel)) ctx.defaultPass = ctx.newPass("main", null);
  for (const stmt of script) {
    if (stmt.kind === "Pass") statements.runPass(stmt, global);
    else statements.exec(stmt, global, ctx.defaultPass ?? ctx.outerPass());
  }
  if (ctx.defaultPass) statements.finishPass(ctx.defaultPass, global);
  return ctx.resolution();
}
