// Lexical scopes: the script's top level, a pass body, a loop iteration, a function call. Generic
// in what a name is bound to (values.ts binds compile-time values), so this file imports nothing.

import type { Span } from "../../common/index.js";

export interface Binding<V> {
  value: V;
  span: Span;
}

export class Scope<V> {
  private readonly vars = new Map<string, Binding<V>>();
  constructor(readonly parent: Scope<V> | null) {}

  lookup(name: string): Binding<V> | undefined {
    return this.vars.get(name) ?? this.parent?.lookup(name);
  }

  define(name: string, value: V, span: Span): void {
    this.vars.set(name, { value, span });
  }

  /** Rebind an existing name where it was defined; false when it is not bound anywhere. */
  assign(name: string, value: V): boolean {
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

  ownEntries(): [string, Binding<V>][] {
    return [...this.vars.entries()];
  }
}
