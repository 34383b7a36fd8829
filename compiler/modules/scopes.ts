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

export interface NodeScope {
  /** Dotted module path (`transformer.h.2.mlp.c_fc`); "" for the root. */
  path: string;
  source: ScopeSource;
}

export function nodeScope(node: Node): NodeScope {
  const meta = node.proto.metadata_props?.find((p) => p.key === NAME_SCOPES_KEY)?.value;
  if (meta !== undefined) {
    const scopes = parsePythonStringList(meta);
    if (scopes && scopes.length >= 2) {
      // Cumulative paths: the deepest module is the entry before the op name.
      return { path: scopes[scopes.length - 2]!, source: "metadata" };
    }
  }
  const name = node.name;
  if (name.startsWith("/")) {
    const segments = name.split("/").slice(1, -1);
    return { path: joinScopeSegments(segments), source: "node-name" };
  }
  return { path: "", source: "none" };
}

/** `['transformer', 'h.2', 'mlp']` → `transformer.h.2.mlp`; `['layer1', 'layer1.0']` → `layer1.0`. */
export function joinScopeSegments(segments: string[]): string {
  let path = "";
  for (const seg of segments) {
    if (seg === "") continue;
    if (path !== "" && seg.startsWith(path + ".")) path = seg;
    else if (path !== "" && lastSegmentPrefix(path, seg)) path = path.slice(0, path.length - lastSegment(path).length) + seg;
    else path = path === "" ? seg : `${path}.${seg}`;
  }
  return path;
}

function lastSegment(path: string): string {
  const i = path.lastIndexOf(".");
  return i < 0 ? path : path.slice(i + 1);
}

/** A called container inside another scope: `/encoder/layer/layer.0` → `encoder.layer.0`. */
function lastSegmentPrefix(path: string, seg: string): boolean {
  const last = lastSegment(path);
  return path.includes(".") && seg.startsWith(last + ".");
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
