// Lexical scopes: the script's top level, a pass body, a loop iteration, a function call.

import type { Span } from "../../common/index.js";
import type { CVal } from "./values.js";

export interface Binding {
  value: CVal;
  span: Span;
}

export class Scope {
  private readonly vars = new Map<string, Binding>();
  constructor(readonly parent: Scope | null) {}

  lookup(name: string): Binding | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }

  define(name: string, value: CVal, span: Span): void {
    this.vars.set(name, { value, span });
  }

  /** Rebind an existing name where it was defined; false when it is not bound anywhere. */
  assign(name: string, value: CVal): boolean {
    const b = this.vars.get(name);
    if (b) {
      b.value = value;
      return true;
    }
    return this.parent?.assign(name, value) ?? false;
  }

  names(): string[] {
    return [...this.vars.keys(), ...(this.parent?.names() ?? [])];
  }

  ownEntries(): [string, Binding][] {
    return [...this.vars.entries()];
  }
}
