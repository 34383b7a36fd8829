// Every diagnostic code intv can emit, in one typed table: code → severity, title, where it is
// documented, and the help it gets when the place raising it gives none. `Diagnostic.code` is a
// key of this table, so a code that is not here does not compile.
//
// Codes are written as their literal keys where they are raised (`fail("E0206", ...)`), not as
// named constants: the literal is what docs, tests and users search for, and TypeScript checks it
// against this table all the same.
//
// To add a diagnostic: add its row here (keep the numbering by group); raise it with
// `fail(code, ...)` while compiling a statement (raise.ts) or `diagnostic(code, ...)` elsewhere
// (diagnostic.ts); add a row to docs/errors.md under the heading `docs` names and to the table in
// docs/language.md#diagnostics; and pin a broken script for it in
// test/fixtures/diagnostics/CODE.intv. test/reliability-docs.test.ts checks the docs against this
// table, as TypeScript's `diagnosticMessages.json` and esbuild's message ids are checked.

export interface CodeInfo {
  readonly severity: "error" | "warning";
  /** What the code means, as docs/language.md's table of diagnostics says it. */
  readonly title: string;
  /** The heading of docs/errors.md it is listed under (its anchor: `docs/errors.md#ANCHOR`). */
  readonly docs: string;
  /** The help a diagnostic of this code gets when it is raised without one. */
  readonly help?: string;
}

export const DIAGNOSTIC_CODES = {
  // E00xx: reading the script (grammar/)
  E0001: { severity: "error", docs: "script-reading-it-e00xx", title: "a character the language does not use" },
  E0002: { severity: "error", docs: "script-reading-it-e00xx", title: "a syntax error: an unexpected or missing token" },
  E0003: { severity: "error", docs: "script-reading-it-e00xx", title: "brackets or blocks nested too deeply to parse" },
  // E01xx: names and references (compiler/resolve/)
  E0101: { severity: "error", docs: "script-names-and-references-e01xx", title: "an unknown name (with \"did you mean\")" },
  E0102: { severity: "error", docs: "script-names-and-references-e01xx", title: "a module has no child, port or parameter of that name (with \"did you mean\")" },
  E0103: { severity: "error", docs: "script-names-and-references-e01xx", title: "a port index out of range, or a member on something that has none" },
  E0104: { severity: "error", docs: "script-names-and-references-e01xx", title: "a module-list index out of range (\"has 12 layers, indices 0..11\"), or a call index" },
  E0105: { severity: "error", docs: "script-names-and-references-e01xx", title: "a save name used twice" },
  E0106: { severity: "error", docs: "script-names-and-references-e01xx", title: "a module the model shows existed but that left no nodes" },
  E0107: { severity: "error", docs: "script-names-and-references-e01xx", title: "`tensor(\"name\")` of a tensor the model does not have" },
  E0108: { severity: "error", docs: "script-names-and-references-e01xx", title: "a pass read before it runs, read from inside itself, a name it does not define, or a duplicate pass" },
  E0109: { severity: "error", docs: "script-names-and-references-e01xx", title: "a model input or output that does not exist" },
  E0110: { severity: "error", docs: "script-names-and-references-e01xx", title: "a port whose value is not in the exported graph (a Conv with a folded BatchNorm, a constant input)" },
  E0111: { severity: "error", docs: "script-names-and-references-e01xx", title: "the export does not show which value a port is (several candidates; a possible list argument)" },
  E0112: { severity: "error", docs: "script-names-and-references-e01xx", title: "`.output`/`.input` of a container that is never called (`ModuleList`)" },
  E0113: { severity: "error", docs: "script-names-and-references-e01xx", title: "a `model.` path that reads two ways (the whole model and its child `model`)" },
  // E02xx: values and operations (compiler/resolve/, compiler/lower/)
  E0201: { severity: "error", docs: "script-values-and-operations-e02xx", title: "wrong number of arguments" },
  E0202: { severity: "error", docs: "script-values-and-operations-e02xx", title: "unknown keyword argument" },
  E0203: { severity: "error", docs: "script-values-and-operations-e02xx", title: "shapes that do not broadcast, or a patch that changes a tensor's shape" },
  E0204: { severity: "error", docs: "script-values-and-operations-e02xx", title: "element types that differ, or a fractional number with an integer tensor" },
  E0205: { severity: "error", docs: "script-values-and-operations-e02xx", title: "an axis out of range" },
  E0206: { severity: "error", docs: "script-values-and-operations-e02xx", title: "an index or slice out of range, or an index that is not a compile-time integer" },
  E0207: { severity: "error", docs: "script-values-and-operations-e02xx", title: "a partial patch intv cannot build (unknown rank, tensor index)" },
  E0208: { severity: "error", docs: "script-values-and-operations-e02xx", title: "a list used where a tensor is needed (help: `stack(...)`)" },
  E0209: { severity: "error", docs: "script-values-and-operations-e02xx", title: "a value of the wrong kind for an argument or operation" },
  E0210: { severity: "error", docs: "script-values-and-operations-e02xx", title: "an unknown function" },
  E0211: { severity: "error", docs: "script-values-and-operations-e02xx", title: "an assignment to something that is neither a name nor a port" },
  E0212: { severity: "error", docs: "script-values-and-operations-e02xx", title: "a value inside a Loop/Scan body or nested control flow, or one that exists in only some branches of an If, read after it" },
  // E03xx: order (compiler/check/)
  E0301: { severity: "error", docs: "script-order-e03xx", title: "a patch that needs a value the model computes later (a cycle)" },
  // E04xx: limits and files (compiler/resolve/, compiler/files.ts)
  E0401: { severity: "error", docs: "script-limits-and-files-e04xx", title: "a loop that unrolls past the statement limit (`--max-statements`)" },
  E0402: { severity: "error", docs: "script-limits-and-files-e04xx", title: "a file in `load`/`import` that is missing, unreadable or outside the allowed folders" },
  E0403: { severity: "error", docs: "script-limits-and-files-e04xx", title: "an imported model with another opset, or one intv cannot splice" },
  E0404: { severity: "error", docs: "script-limits-and-files-e04xx", title: "nesting deeper than the limit (`--max-depth`), or too many nodes (`--max-nodes`)" },
  E0405: { severity: "error", docs: "script-limits-and-files-e04xx", title: "a script larger than the limit (`--max-source-bytes`, 1 MiB by default)", help: "raise the limit with `--max-source-bytes N` if this is intended" },
  // E05xx: params (compiler/resolve/)
  E0501: { severity: "error", docs: "script-params-e05xx", title: "a `param` with an unknown element type or an unusable default" },
  // E06xx: running (runtime/)
  E0601: { severity: "error", docs: "running-e06xx", title: "a failure inside a node the script inserted, reported at the script line it came from" },
  E0602: { severity: "error", docs: "running-e06xx", title: "a failure inside one of the model's own nodes, naming the node" },
  E0603: { severity: "error", docs: "running-e06xx", title: "any other onnxruntime failure while running" },
  // E07xx: the model (compiler/compile.ts)
  E0701: { severity: "error", docs: "the-model-e07xx", title: "the model cannot be read" },
  E0702: { severity: "error", docs: "the-model-e07xx", title: "the model's opset is older than 13", help: "re-export the model with `opset_version=14` or later" },
  // W00xx: warnings (compiler/check/)
  W0001: { severity: "warning", docs: "warnings-w00xx", title: "a read whose value a later patch changes", help: "to read the unpatched value, save it in a separate pass before the patching pass" },
  W0002: { severity: "warning", docs: "warnings-w00xx", title: "a patch that reaches no output and no save" },
  W0003: { severity: "warning", docs: "warnings-w00xx", title: "a param nothing uses", help: "remove it, or use it in a patch or save" },
} as const satisfies Record<string, CodeInfo>;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

export function isDiagnosticCode(code: string): code is DiagnosticCode {
  return Object.hasOwn(DIAGNOSTIC_CODES, code);
}

export function codeInfo(code: DiagnosticCode): CodeInfo {
  return DIAGNOSTIC_CODES[code];
}

/** Where a code is documented, relative to the repository: `docs/errors.md#script-order-e03xx`. */
export function docsLink(code: DiagnosticCode): string {
  return `docs/errors.md#${DIAGNOSTIC_CODES[code].docs}`;
}
