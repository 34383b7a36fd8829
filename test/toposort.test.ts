// toposort (compiler/ir/toposort.ts) on random graphs, against what it promises rather than
// against itself: every node comes after the producers it waits for; among the nodes ready at each
// step, one with the smallest `order` goes first (an unmodified model keeps its order); and the
// nodes left out, `cyclic`, are exactly those that can never be ready (on or behind a cycle, or
// waiting for a node of the graph that is not sorted). With `only`, just those nodes, edges from
// other nodes taken as met. Graphs with forward edges, cycles, tied orders, subgraphs reading outer
// values, removed nodes and dangling edges.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Graph, toposort, type Node } from "../compiler/ir/index.js";

/** A small deterministic generator (tests must not depend on Math.random's seed). */
function generator(seed: number): { next: () => number; below: (n: number) => number } {
  let s = seed;
  const next = (): number => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
  return { next, below: (n) => Math.floor(next() * n) };
}

function randomGraph(seed: number): { g: Graph; nodes: Node[]; only: Set<Node> | undefined } {
  const { next, below } = generator(seed);
  const g = new Graph(null);
  const values = [g.addValue("x", "input", null)];
  const nodes: Node[] = [];
  const n = 1 + below(14);
  for (let i = 0; i < n; i++) {
    const inputs = Array.from({ length: below(3) }, () => (next() < 0.1 ? null : values[below(values.length)]!));
    const node = g.addNode({ op_type: "Op" }, inputs, [`v${i}`, ...(next() < 0.3 ? [`w${i}`] : [])]);
    nodes.push(node);
    for (const o of node.outputs) if (o) values.push(o);
  }
  // Rewired inputs: forward edges, and cycles.
  for (let r = below(4); r > 0; r--) {
    const node = nodes[below(n)]!;
    if (node.inputs.length > 0) g.setInput(node, below(node.inputs.length), values[below(values.length)]!);
  }
  // Orders out of the list's order, with ties.
  if (next() < 0.5) for (const node of nodes) node.order = below(n);
  // A subgraph reading values of the graph (implicit inputs of its owner).
  if (next() < 0.3) {
    const owner = nodes[below(n)]!;
    const sub = new Graph(g);
    sub.owner = owner;
    owner.setSubgraph("body", sub);
    sub.outerRef(values[below(values.length)]!);
    if (next() < 0.5) sub.outerRef(values[below(values.length)]!);
  }
  // A node dropped from the graph with its edges left (dangling), or removed properly.
  if (next() < 0.2) g.nodes.delete(nodes[below(n)]!);
  if (next() < 0.1) g.removeNode(nodes[below(n)]!);
  const only = next() < 0.5 ? new Set(nodes.filter(() => next() < 0.6)) : undefined;
  return { g, nodes, only };
}

/** Checks `toposort(g, only)` against its promises (see above). */
function checkSort(g: Graph, only: Set<Node> | undefined, label: string): { cyclic: number } {
  const sorted = only ? [...only].filter((node) => node.graph === g && g.nodes.has(node)) : [...g.nodes];
  const inSort = new Set(sorted);
  const counted = (p: Node | null): p is Node => p !== null && (inSort.has(p) || (p.graph === g && (!only || only.has(p))));
  const waitsFor = (node: Node): Node[] => {
    const producers = node.inputs.map((v) => v?.producer ?? null);
    if (node.subgraphs.size > 0) producers.push(...node.implicitInputs().map((v) => v.producer));
    return producers.filter(counted);
  };
  const { order, cyclic } = toposort(g, only);
  const placed = new Set<Node>();
  const ready = (node: Node): boolean => !placed.has(node) && waitsFor(node).every((p) => placed.has(p));
  for (const node of order) {
    assert.ok(inSort.has(node), `${label}: a node not sorted`);
    assert.ok(ready(node), `${label}: ${node.name || node.proto.op_type} before a producer it waits for`);
    const least = Math.min(...sorted.filter(ready).map((n) => n.order));
    assert.equal(node.order, least, `${label}: not the earliest ready node`);
    placed.add(node);
  }
  assert.equal(sorted.filter(ready).length, 0, `${label}: a node that could be placed was left out`);
  assert.deepEqual(new Set(cyclic), new Set(sorted.filter((node) => !placed.has(node))), `${label}: cyclic is not what is left`);
  assert.equal(order.length + cyclic.length, sorted.length, label);
  return { cyclic: cyclic.length };
}

describe("toposort", () => {
  test("on 3,000 random graphs: producers first, the earliest ready node first, cyclic exactly what is left", () => {
    let withCycles = 0;
    let withOnly = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const { g, only } = randomGraph(seed);
      if (checkSort(g, undefined, `seed ${seed}`).cyclic > 0) withCycles++;
      if (only) {
        withOnly++;
        checkSort(g, only, `seed ${seed}, only`);
      }
    }
    // The generator made the cases it is meant to.
    assert.ok(withCycles > 100, `${withCycles} graphs with a cycle`);
    assert.ok(withOnly > 1000, `${withOnly} sorts of a subset`);
  });

  test("a graph already in order comes back as it is held, and a sort inside a sort's use is independent", () => {
    const g = new Graph(null);
    let v = g.addValue("x", "input", null);
    const nodes: Node[] = [];
    for (let i = 0; i < 50; i++) {
      const node = g.addNode({ op_type: "Op" }, [v], [`v${i}`]);
      nodes.push(node);
      v = node.outputs[0]!;
    }
    const first = toposort(g);
    assert.deepEqual(first.order, nodes);
    // A second sort (new marks) while the first's result is in use, then a subset.
    const second = toposort(g, new Set(nodes.slice(10, 20)));
    assert.deepEqual(second.order, nodes.slice(10, 20));
    assert.deepEqual(first.order, nodes);
  });

  // Graph.addNode orders a new node just after what it reads, so that a graph a script spliced (a
  // patch feeding the model's later nodes) is still in `order` and sorts in one pass.
  test("a new node's order: after the latest node it reads, before the model's next, distinct", () => {
    const g = new Graph(null);
    const x = g.addValue("x", "input", null);
    const model: Node[] = [];
    for (let i = 0; i < 3; i++) {
      const node = g.addNode({ op_type: "Op" }, [model[i - 1]?.outputs[0] ?? x], [`m${i}`]);
      node.order = i; // as imported
      model.push(node);
    }
    g.bumpOrder(model.length);
    const [m0, m1] = model;
    const patch = g.addNode({ op_type: "Mul" }, [m0!.outputs[0]!], ["p"]);
    const save = g.addNode({ op_type: "Identity" }, [m0!.outputs[0]!], ["s"]);
    const onPatch = g.addNode({ op_type: "Add" }, [patch.outputs[0]!], ["q"]);
    const constant = g.addNode({ op_type: "Constant" }, [], ["c"]);
    g.setInput(m1!, 0, onPatch.outputs[0]!); // the patch rewires the model's consumer
    assert.ok(m0!.order < patch.order && patch.order < save.order && save.order < onPatch.order && onPatch.order < m1!.order);
    assert.ok(constant.order < m0!.order, "reads no node: before the model's first");
    const byOrder = [...g.nodes].sort((a, b) => a.order - b.order);
    assert.deepEqual(toposort(g).order, byOrder);
  });
});
