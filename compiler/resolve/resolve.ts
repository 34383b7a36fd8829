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

export function resolve(input: ResolveInput): Resolution {
  const ctx = new Context(input);
  const statements = new Statements(ctx, new Expressions(ctx));
  const script = input.script.statements;
  const global: Env = new Scope(null);
  const lastPass = ctx.namedPasses[ctx.namedPasses.length - 1];
  const touchesModel = script.some((s) => s.kind === "Save" || s.kind === "Assign" || s.kind === "For" || s.kind === "Let");
  if (!lastPass || touchesModel) {
    // The default pass: the model's own graph when there are no named passes, else a copy.
    ctx.defaultPass = ctx.newPass("main", lastPass !== undefined, null);
  }
  for (const stmt of script) {
    if (stmt.kind === "Pass") statements.runPass(stmt, global, stmt === lastPass);
    else statements.exec(stmt, global, ctx.defaultPass!);
  }
  if (ctx.defaultPass) statements.finishPass(ctx.defaultPass, global);
  return ctx.resolution();
}
