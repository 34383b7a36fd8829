// The model's outputs keep their names: a patched output gets an Identity carrying the original
// name (the unpatched value is renamed `NAME.unpatched`), so the compiled model is a drop-in
// replacement for the original.

import type { Graph, Value } from "../ir/index.js";
import type { Builder } from "../lower/index.js";

export function restoreOutputNames(graph: Graph, originals: readonly Value[], b: Builder): void {
  originals.forEach((orig, i) => {
    const now = graph.outputs[i];
    if (!now || now === orig) return;
    const name = orig.name;
    graph.rename(orig, b.freshName(`${name}.unpatched`));
    b.span = null;
    const id = b.op1("Identity", [now]);
    graph.rename(id, name);
    b.model.names.add(name);
    graph.outputs[i] = id;
  });
}
