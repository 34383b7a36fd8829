// The diagnostics surface: the table of codes (codes.ts), the data types (diagnostic.ts),
// rendering (render.ts) and "did you mean" (suggest.ts).

export { DIAGNOSTIC_CODES, codeInfo, docsLink, isDiagnosticCode, type CodeInfo, type DiagnosticCode } from "./codes.js";
export {
  diagnostic,
  DiagnosticError,
  hasErrors,
  InternalError,
  type Diagnostic,
  type Label,
  type Severity,
  type Span,
} from "./diagnostic.js";
export { AlreadyReported, CompileError, fail } from "./raise.js";
export { renderDiagnostic, renderDiagnostics, type RenderOptions, type SourceLookup } from "./render.js";
export { didYouMean, editDistance, suggest, type SuggestOptions } from "./suggest.js";
