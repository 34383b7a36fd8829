// Diagnostics → text, in the style of rustc and Elm:
//
//   script.intv:3:1: error[E0301]: patch of `transformer.h[2].mlp.output` needs a value computed later in the model
//     |
//   3 | transformer.h[2].mlp.output = transformer.h[8].mlp.output
//     | ^^^^^^^^^^^^^^^^^^^^^^^^^^^
//     |
//   3 | transformer.h[2].mlp.output = transformer.h[8].mlp.output
//     |                               --------------------------- `transformer.h[8].mlp` runs after `transformer.h[2].mlp`
//     = note: h[2].mlp → h[3] → … → h[8].mlp
//     = help: read it in a first pass and patch in a second
//
// - First line: `FILE:LINE:COL: SEVERITY[CODE]: message` (just `SEVERITY[CODE]: message` without
//   a span).
// - The primary span: its source line under a line-number gutter, `^` under the span (at least
//   one; a span running past the end of its line is cut at the line's end).
// - Each label: its own snippet, `-` under its span, then its message. A label in another file
//   than the primary span gets a `--> FILE:LINE:COL` line first.
// - Then `= note:` lines, then one `= help:` line. No trailing spaces on any line.
// - Tabs in source lines become 4 spaces, control characters their Unicode "control picture"
//   (U+2400…), so the underline stays under the right characters.
// - No colour unless `{ color: true }`.

import type { Diagnostic, Severity, Span } from "./diagnostic.js";

/** Source text by file name: a map, or a function (returning `undefined` when unknown). */
export type SourceLookup = Map<string, string> | ((file: string) => string | undefined);

export interface RenderOptions {
  /** ANSI colours (for a terminal). Default false. */
  color?: boolean;
}

const TAB = "    ";
const knownOptions = new Set(["color"]);

function checkOptions(options: RenderOptions): void {
  for (const key of Object.keys(options)) {
    if (!knownOptions.has(key)) throw new TypeError(`unknown render option \`${key}\``);
  }
}

interface Paint {
  severity(severity: Severity, text: string): string;
  gutter(text: string): string;
  label(text: string): string;
  bold(text: string): string;
}

const plain: Paint = {
  severity: (_s, t) => t,
  gutter: (t) => t,
  label: (t) => t,
  bold: (t) => t,
};

const ansi = (code: string) => (text: string) => `\u001b[${code}m${text}\u001b[0m`;
const severityCodes: Record<Severity, string> = { error: "1;31", warning: "1;33", note: "1;36" };
const colored: Paint = {
  severity: (s, t) => ansi(severityCodes[s])(t),
  gutter: ansi("1;34"),
  label: ansi("1;34"),
  bold: ansi("1"),
};

/** Splits source text into lines the way the lexer counts them (`\n`, `\r\n`, `\r`). */
function splitLines(source: string): string[] {
  return source.split(/\r\n|\r|\n/);
}

class Sources {
  private readonly lines = new Map<string, string[] | undefined>();
  constructor(private readonly lookup: SourceLookup) {}

  line(file: string, line: number): string | undefined {
    if (!this.lines.has(file)) {
      const text = typeof this.lookup === "function" ? this.lookup(file) : this.lookup.get(file);
      this.lines.set(file, text === undefined ? undefined : splitLines(text));
    }
    return this.lines.get(file)?.[line - 1];
  }
}

/**
 * A source line as displayed, and the display column of each UTF-16 index in it (one entry
 * more than the line is long, for the position just past its end).
 */
function displayLine(text: string): { shown: string; columns: number[] } {
  let shown = "";
  const columns: number[] = [];
  let col = 0;
  for (let i = 0; i < text.length; i++) {
    columns.push(col);
    const code = text.charCodeAt(i);
    if (code === 0x09) {
      shown += TAB;
      col += TAB.length;
    } else if (code < 0x20) {
      shown += String.fromCharCode(0x2400 + code);
      col += 1;
    } else if (code === 0x7f) {
      shown += "\u2421";
      col += 1;
    } else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      // A surrogate pair is one character on screen.
      shown += text.slice(i, i + 2);
      columns.push(col);
      i++;
      col += 1;
    } else {
      shown += text[i];
      col += 1;
    }
  }
  columns.push(col);
  return { shown, columns };
}

interface Snippet {
  span: Span;
  text: string;
  mark: "^" | "-";
  message?: string;
  /** Print a `--> file:line:col` line first (a label in another file). */
  showLocation: boolean;
}

function location(span: Span): string {
  return `${span.file}:${span.line}:${span.col}`;
}

function indentContinuation(text: string, indent: string): string {
  return text.split("\n").join(`\n${indent}`);
}

function renderSnippet(snippet: Snippet, width: number, severity: Severity, paint: Paint): string[] {
  const pad = " ".repeat(width);
  const bar = paint.gutter(`${pad} |`);
  const { shown, columns } = displayLine(snippet.text);
  const lineLength = snippet.text.length;
  const startIndex = Math.min(Math.max(snippet.span.col - 1, 0), lineLength);
  const endIndex = Math.min(startIndex + Math.max(snippet.span.length, 0), lineLength);
  const start = columns[startIndex]!;
  const count = Math.max(1, columns[endIndex]! - start);
  const marks = snippet.mark.repeat(count);
  const underline = snippet.mark === "^" ? paint.severity(severity, marks) : paint.label(marks);
  let tail = "";
  if (snippet.message !== undefined && snippet.message !== "") {
    const indent = `${pad} | ${" ".repeat(start + count + 1)}`;
    tail = ` ${paint.label(indentContinuation(snippet.message, indent))}`;
  }
  const out: string[] = [];
  if (snippet.showLocation) out.push(`${pad}${paint.gutter("-->")} ${location(snippet.span)}`);
  out.push(bar);
  out.push(`${paint.gutter(`${String(snippet.span.line).padStart(width)} |`)} ${shown}`.trimEnd());
  out.push(`${bar} ${" ".repeat(start)}${underline}${tail}`.trimEnd());
  return out;
}

/** One diagnostic as text (ending with a newline). */
export function renderDiagnostic(d: Diagnostic, sources: SourceLookup, options: RenderOptions = {}): string {
  checkOptions(options);
  return render(d, new Sources(sources), options.color === true ? colored : plain);
}

/** Several diagnostics, in the order given, separated by blank lines ("" for none). */
export function renderDiagnostics(
  diagnostics: readonly Diagnostic[],
  sources: SourceLookup,
  options: RenderOptions = {},
): string {
  checkOptions(options);
  const cache = new Sources(sources);
  const paint = options.color === true ? colored : plain;
  return diagnostics.map((d) => render(d, cache, paint)).join("\n");
}

function render(d: Diagnostic, sources: Sources, paint: Paint): string {
  const kind = paint.severity(d.severity, `${d.severity}[${d.code}]`);
  const header = d.span ? `${location(d.span)}: ${kind}: ${paint.bold(d.message)}` : `${kind}: ${paint.bold(d.message)}`;
  const lines = [header];

  const snippets: Snippet[] = [];
  if (d.span) {
    const text = sources.line(d.span.file, d.span.line);
    if (text !== undefined) snippets.push({ span: d.span, text, mark: "^", showLocation: false });
  }
  for (const label of d.labels ?? []) {
    const text = sources.line(label.span.file, label.span.line);
    const showLocation = label.span.file !== d.span?.file;
    if (text !== undefined) snippets.push({ span: label.span, text, mark: "-", message: label.message, showLocation });
  }
  // Labels whose source is unavailable still say something.
  const orphanLabels = (d.labels ?? []).filter((l) => sources.line(l.span.file, l.span.line) === undefined);

  const width = Math.max(1, ...snippets.map((s) => String(s.span.line).length));
  const pad = " ".repeat(width);
  for (const snippet of snippets) lines.push(...renderSnippet(snippet, width, d.severity, paint));

  const extra = (word: string, text: string) => {
    const prefix = `${pad} ${paint.gutter("=")} ${paint.bold(`${word}:`)} `;
    const indent = `${pad}   ${" ".repeat(word.length + 2)}`;
    lines.push(`${prefix}${indentContinuation(text, indent)}`.trimEnd());
  };
  for (const label of orphanLabels) extra("note", `${location(label.span)}: ${label.message}`);
  for (const note of d.notes ?? []) extra("note", note);
  if (d.help !== undefined && d.help !== "") extra("help", d.help);
  return lines.join("\n") + "\n";
}
