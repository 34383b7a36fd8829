// Where a node came from, read off what the exporter left behind, in order of trust:
//   1. dynamo exports: node metadata `pkg.torch.onnx.name_scopes`, a Python-literal list of
//      cumulative dotted scopes, root first (''), last entry the node's own name;
//   2. TorchScript exports (torch >= 1.13): scoped node names, `/transformer/h.2/mlp/c_fc/Gemm`.
//      A scope segment is the module's name relative to the enclosing scope (`h.2` inside
//      `transformer`), except that a called container's children repeat its name
//      (`/layer1/layer1.0/conv1/Conv` is `layer1.0.conv1`);
//   3. calls of ONNX local functions (the exporter's `export_modules_as_functions`), whose node
//      carries the module's scope like any other node.
// Initializer names (`transformer.h.2.mlp.c_fc.weight`) are the fourth source, used in tree.ts.

import type { Node } from "../ir/index.js";

export const NAME_SCOPES_KEY = "pkg.torch.onnx.name_scopes";

export type ScopeSource = "metadata" | "node-name" | "none";

/** Shared by the nodes of one scope (nodeScope returns one object per scope): not to be changed. */
export interface NodeScope {
  /** Dotted module path (`transformer.h.2.mlp.c_fc`); "" for the root. */
  readonly path: string;
  /**
   * Every module on the call stack when the node ran, outermost first, ending with `path`
   * (`transformer`, `transformer.h.2`, `transformer.h.2.mlp`, ...). A module on a stack was
   * called; one that is never on a stack (a `ModuleList`) never ran a forward of its own.
   */
  readonly stack: readonly string[];
  readonly source: ScopeSource;
}

/** Scopes by the scope part of a node name; bounded, for a process that reads many models. */
const scopeCache = new Map<string, NodeScope>();
const SCOPE_CACHE_MAX = 100_000;
const ROOT_SCOPE: NodeScope = { path: "", stack: [], source: "node-name" };
const NO_SCOPE: NodeScope = { path: "", stack: [], source: "none" };

export function nodeScope(node: Node): NodeScope {
  const meta = node.proto.metadata_props?.find((p) => p.key === NAME_SCOPES_KEY)?.value;
  if (meta !== undefined) {
    const scopes = parsePythonStringList(meta);
    if (scopes && scopes.length >= 2) {
      // Cumulative paths: the deepest module is the entry before the op name.
      const stack = scopes.slice(1, -1).filter((s) => s !== "");
      return { path: scopes[scopes.length - 2]!, stack, source: "metadata" };
    }
  }
  const name = node.name;
  // A scoped name is `<prefix>/seg/.../Op`. Inlined bodies of third-party exports carry a prefix
  // before the first `/` (`If_0_then_branch__Inline_0__/encoder/0/Conv`).
  const slash = name.indexOf("/");
  const lastSlash = name.lastIndexOf("/");
  if (slash >= 0 && lastSlash > slash) {
    // Nodes of one module share their scope (`/transformer/h.0/attn/`): work each out once.
    const key = name.slice(slash, lastSlash);
    let scope = scopeCache.get(key);
    if (scope === undefined) {
      if (scopeCache.size >= SCOPE_CACHE_MAX) scopeCache.clear();
      const stack = scopeStack(key.split("/").slice(1));
      scope = { path: stack[stack.length - 1] ?? "", stack, source: "node-name" };
      scopeCache.set(key, scope);
    }
    return scope;
  }
  return slash === 0 ? ROOT_SCOPE : NO_SCOPE;
}

/** `['transformer', 'h.2', 'mlp']` → `transformer.h.2.mlp`; `['layer1', 'layer1.0']` → `layer1.0`. */
export function joinScopeSegments(segments: string[]): string {
  const stack = scopeStack(segments);
  return stack[stack.length - 1] ?? "";
}

/**
 * The qualified names of the modules on a TorchScript scope, outermost first.
 *
 * torch 1.13 names each called module's scope segment by `_unqualified_variable_name` of its
 * qualified name: the name from its last non-numeric atom on (`features.1.block.0.0` gives
 * `block.0.0`, `transformer.h.2` gives `h.2`, `layer1.0` gives `layer1.0`); a name of numeric atoms
 * only (children of a top-level `Sequential`) is kept whole. So a segment `u` under a caller `P`
 * names a module `Q` that extends `P` and whose unqualified name is `u`: `Q` is `P` with its last
 * `j` atoms replaced by `u`, where those atoms equal `u`'s first `j` atoms. Several `j` can fit
 * (`P = features.1.block.0`, `u = block.0.0`: `features.1.block.0.0` or `features.1.block.0.block.0.0`);
 * the largest `j` — the shortest path, a child of `P` rather than a grandchild through a second
 * module named like an ancestor — is the one PyTorch's containers produce.
 */
export function scopeStack(segments: string[]): string[] {
  const stack: string[] = [];
  let atoms: string[] = [];
  for (const seg of segments) {
    if (seg === "") continue;
    const u = seg.split(".");
    let next: string[];
    if (u.every(isNumeric) && atoms.length === 0) next = u;
    else {
      next = [...atoms, ...u];
      for (let j = Math.min(u.length - 1, atoms.length); j > 0; j--) {
        if (u.slice(0, j).every((a, k) => a === atoms[atoms.length - j + k])) {
          next = [...atoms.slice(0, atoms.length - j), ...u];
          break;
        }
      }
    }
    atoms = next;
    stack.push(atoms.join("."));
  }
  return stack;
}

function isNumeric(atom: string): boolean {
  return /^\d+$/.test(atom);
}

/** Parse a Python literal list of strings (`['', 'a', "b"]`); null when it is not one. */
export function parsePythonStringList(text: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  const skip = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  skip();
  if (text[i] !== "[") return null;
  i++;
  skip();
  if (text[i] === "]") return out;
  for (;;) {
    skip();
    const q = text[i];
    if (q !== "'" && q !== '"') return null;
    i++;
    let s = "";
    while (i < text.length && text[i] !== q) {
      if (text[i] === "\\" && i + 1 < text.length) {
        const c = text[i + 1]!;
        s += c === "n" ? "\n" : c === "t" ? "\t" : c;
        i += 2;
      } else s += text[i++];
    }
    if (text[i] !== q) return null;
    i++;
    out.push(s);
    skip();
    if (text[i] === ",") {
      i++;
      skip();
      if (text[i] === "]") return out;
      continue;
    }
    if (text[i] === "]") return out;
    return null;
  }
}
