// Everything the command line prints goes through here: diagnostics and errors to stderr, tables
// and data to stdout, a progress line on stderr when it is a terminal. Exit statuses live here too.

import { renderDiagnostics, type Diagnostic } from "../common/index.js";

export const EXIT = {
  /** Success. */
  ok: 0,
  /** The script, the model or the inputs were rejected (diagnostics or an error message printed). */
  rejected: 1,
  /** The command line itself is wrong. */
  usage: 2,
  /** Stopped by Ctrl-C (a dataset run: what was done is written and can be resumed). */
  interrupted: 130,
} as const;

export interface Io {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
}

export const processIo: Io = { stdout: process.stdout, stderr: process.stderr };

type Sources = Map<string, string> | ((file: string) => string | undefined);

/** Print diagnostics (errors, warnings, notes) to stderr in the compiler's rendered form. */
export function printDiagnostics(io: Io, diagnostics: Diagnostic[], sources: Sources): void {
  if (diagnostics.length === 0) return;
  const text = renderDiagnostics(diagnostics, sources);
  io.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** Print an error message (each line prefixed `error: `) and return the rejected exit status. */
export function fail(io: Io, message: string): number {
  for (const line of message.split("\n")) io.stderr.write(`error: ${line}\n`);
  return EXIT.rejected;
}

/**
 * A one-line progress indicator on stderr, shown only when stderr is a terminal and the work has
 * taken longer than `delayMs`. onnxruntime blocks the event loop while it runs, so the line is
 * refreshed between steps (each `update`) and by a timer while the loop is free.
 */
export class Progress {
  private readonly start = Date.now();
  private readonly timer: NodeJS.Timeout | undefined;
  private text = "";
  private shown = false;
  private drawnAt = 0;

  constructor(private readonly io: Io, private readonly delayMs = 1000) {
    if (io.stderr.isTTY) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  update(text: string): void {
    this.text = text;
    // A dataset run updates once per line, thousands of times a second: the timer draws the
    // latest text, so a redraw more often than every 100 ms would only flood the terminal.
    if (Date.now() - this.drawnAt >= 100) this.draw();
  }

  done(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.shown) this.io.stderr.write("\r\x1b[K");
    this.shown = false;
  }

  private draw(): void {
    if (!this.io.stderr.isTTY || !this.text) return;
    const elapsed = Date.now() - this.start;
    if (elapsed < this.delayMs) return;
    this.io.stderr.write(`\r\x1b[K${this.text} (${(elapsed / 1000).toFixed(1)} s)`);
    this.shown = true;
    this.drawnAt = Date.now();
  }
}

/** Align columns: `right[i]` right-aligns column i. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** A user-facing failure of a command (a missing file, bad JSON): printed as `error: ...`, exit 1. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}
