// The diagnostics surface: the data types (diagnostic.ts), rendering (render.ts) and
// "did you mean" (suggest.ts).

export {
  DiagnosticError,
  hasErrors,
  InternalError,
  type Diagnostic,
  type Label,
  type Severity,
  type Span,
} from "./diagnostic.js";
export { renderDiagnostic, renderDiagnostics, type RenderOptions, type SourceLookup } from "./render.js";
export { didYouMean, editDistance, suggest } from "./suggest.js";
