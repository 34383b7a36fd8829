// A model the compiler reads keeps each node's bytes (compiler/onnx/keptEncoding.ts), and the
// compiled model's unchanged nodes are written as those bytes instead of being encoded again.
// Checked here: the compiled model is byte for byte the one written without kept bytes (the
// PyTorch exports are canonical protobuf, so anything else is a node written from stale bytes),
// kept nodes are frozen all the way down, an edit of a node's bytes in place stays in step, a node
// that says something else (renamed, rewired, another attribute) is encoded, and what a decode
// does not keep (bodies, large nodes, a decode with `skip`).

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { compile, compileForWrite } from "../compiler/index.js";
import { DataType, decodeMessage, decodeModel, decodeModelFile, encodeMessage, encodeModel, externalDataRefs, FileRange, writeModelFile, type GraphProto, type ModelProto, type NodeProto } from "../compiler/onnx/index.js";
import { freezeKeptNodes, KEEP_MAX, keptEncoding } from "../compiler/onnx/keptEncoding.js";
import { ROOT } from "./helpers.js";
import { allAttributes, byt, cat, customNode, i32, key, kv, ld, msg, str, strs, sub, subs, vint, type Built } from "./onnx-wire.js";

const KEEP = { keepNodeEncodings: true };

/** Every object and array reachable from `value` that is not frozen, by path. */
function unfrozen(value: unknown, at = "node"): string[] {
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value) || value instanceof FileRange) return [];
  const here = Object.isFrozen(value) ? [] : [at];
  const entries = Array.isArray(value) ? value.map((v, i) => [`${at}[${i}]`, v] as const) : Object.entries(value).map(([k, v]) => [`${at}.${k}`, v] as const);
  return [...here, ...entries.flatMap(([p, v]) => unfrozen(v, p))];
}

const graphOf = (...nodes: Built[]): Uint8Array => msg(subs(1, "node", nodes), str(2, "name", "g")).bytes;

describe("the decoder keeps a node's bytes", () => {
  // Every attribute kind but bodies (a node with a body is not kept), with metadata and devices.
  const withoutBodies = allAttributes.filter((a) => !["g", "graphs"].includes((a.value as { name: string }).name));
  const node = msg(
    strs(1, "input", ["x", ""]),
    strs(2, "output", ["y"]),
    str(3, "name", "/layer/Custom"),
    str(4, "op_type", "Block"),
    subs(5, "attribute", withoutBodies),
  );

  test("as they were in the input, and frozen all the way down", () => {
    const bytes = graphOf(node);
    const g = decodeMessage("onnx.GraphProto", bytes, KEEP) as GraphProto;
    const n = g.node![0]!;
    const kept = keptEncoding(n);
    assert.ok(kept, "kept");
    assert.deepEqual([...kept], [...node.bytes]);
    assert.deepEqual(unfrozen(n), []);
    assert.deepEqual(n, decodeMessage("onnx.NodeProto", node.bytes), "the same node as decoded without keeping");
  });

  test("metadata and device configurations are frozen too", () => {
    const g = decodeMessage("onnx.GraphProto", graphOf(stripBodies(customNode)), KEEP) as GraphProto;
    const n = g.node![0]!;
    assert.ok(keptEncoding(n));
    assert.ok(n.metadata_props && n.device_configurations, "the node has both");
    assert.deepEqual(unfrozen(n), []);
  });

  test("an edit in place is refused, and an edit of a byte field stays in step with the bytes", () => {
    const bytes = graphOf(node);
    const g = decodeMessage("onnx.GraphProto", bytes, KEEP) as GraphProto;
    const n = g.node![0]!;
    assert.throws(() => ((n as { name?: string }).name = "renamed"), TypeError);
    assert.throws(() => n.attribute!.push({ name: "extra" }), TypeError);
    assert.throws(() => ((n.attribute![0] as { f?: number }).f = 2), TypeError);
    const t = n.attribute!.find((a) => a.name === "t")!.t!;
    const raw = t.raw_data as Uint8Array;
    raw[0] = 0x42; // a view into the kept bytes: the written node says 0x42 too
    const again = decodeMessage("onnx.NodeProto", encodeMessage("onnx.NodeProto", n));
    assert.equal((again.attribute!.find((a) => a.name === "t")!.t!.raw_data as Uint8Array)[0], 0x42);
  });

  test("written as they were, even where this encoder would order the fields otherwise", () => {
    // name (3) before input (1): not what protobuf C++ writes, and still a valid node.
    const odd = cat([ld(3, new TextEncoder().encode("n")), ld(1, new TextEncoder().encode("x")), ld(2, new TextEncoder().encode("y")), ld(4, new TextEncoder().encode("Relu"))]);
    const bytes = cat([key(1, 2), vint(odd.length), odd]);
    const kept = decodeMessage("onnx.GraphProto", bytes, KEEP);
    assert.deepEqual([...encodeMessage("onnx.GraphProto", kept)], [...bytes]);
    const plain = decodeMessage("onnx.GraphProto", bytes);
    const canonical = encodeMessage("onnx.GraphProto", plain);
    assert.notDeepEqual([...canonical], [...bytes]);
    assert.deepEqual(decodeMessage("onnx.GraphProto", canonical), plain);
  });

  test("not for a node with a body, a node over KEEP_MAX, a decode with skip, or without the option", () => {
    const withBody = customNode; // has `g` and `graphs` attributes
    const big = msg(str(4, "op_type", "Constant"), strs(2, "output", ["c"]), subs(5, "attribute", [msg(str(1, "name", "value"), sub(5, "t", msg(byt(9, "raw_data", new Uint8Array(KEEP_MAX)))))]));
    const bytes = graphOf(withBody, big, node);
    const g = decodeMessage("onnx.GraphProto", bytes, KEEP) as GraphProto;
    assert.equal(keptEncoding(g.node![0]!), undefined, "a body");
    assert.ok(!Object.isFrozen(g.node![0]!));
    assert.equal(keptEncoding(g.node![1]!), undefined, "over KEEP_MAX");
    assert.ok(keptEncoding(g.node![2]!), "the ordinary node is");
    const skipped = decodeMessage("onnx.GraphProto", bytes, { ...KEEP, skip: ["onnx.TensorProto.raw_data"] }) as GraphProto;
    assert.ok(skipped.node!.every((n) => keptEncoding(n) === undefined), "with skip");
    const plain = decodeMessage("onnx.GraphProto", bytes) as GraphProto;
    assert.ok(plain.node!.every((n) => keptEncoding(n) === undefined && !Object.isFrozen(n)), "without the option");
  });

  // externalDataRefs steps over kept nodes, so none may hold an external reference.
  test("not for a node with a tensor whose data is external, which externalDataRefs still finds", () => {
    const externalTensor = msg(str(8, "name", "w"), subs(13, "external_data", [kv("location", "w.bin"), kv("length", "4")]), i32(14, "data_location", 1));
    const constant = msg(strs(2, "output", ["c"]), str(4, "op_type", "Constant"), subs(5, "attribute", [msg(str(1, "name", "value"), sub(5, "t", externalTensor))]));
    const bytes = cat([ld(7, graphOf(constant, node))]);
    const model = decodeMessage("onnx.ModelProto", bytes, KEEP) as ModelProto;
    const [ext, plain] = model.graph!.node!;
    assert.equal(keptEncoding(ext!), undefined, "the node with external data");
    assert.ok(keptEncoding(plain!), "the other");
    assert.deepEqual(externalDataRefs(model).map((r) => r.location), ["w.bin"]);
  });
});

// Found by review: a node with a body was decoded with its byte fields as views of the file's
// window, which the next read reused: a branch's initializer read as other bytes.
test("a node with a body keeps its own bytes, whatever the decoder reads next", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "intv-kept-"));
  try {
    const f32 = (xs: number[]) => new Uint8Array(new Float32Array(xs).buffer);
    const vector = (name: string) => ({ name, type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_value: 4n }] } } } });
    const branch = (name: string, values: number[]) => ({ name, initializer: [{ name: `${name}_c`, data_type: DataType.FLOAT, dims: [4n], raw_data: f32(values) }], output: [vector(`${name}_c`)] });
    const file = path.join(dir, "if.onnx");
    // The If, then a weight large enough to be read lazily (the window moves past it), then value_info.
    await writeModelFile(file, {
      ir_version: 8n,
      opset_import: [{ domain: "", version: 17n }],
      graph: {
        name: "g",
        node: [{ name: "if", op_type: "If", input: ["cond"], output: ["y"], attribute: [
          { name: "then_branch", type: 5, g: branch("then", [1, 2, 3, 4]) },
          { name: "else_branch", type: 5, g: branch("else", [5, 6, 7, 8]) },
        ] }],
        initializer: [{ name: "W", data_type: DataType.UINT8, dims: [300_000n], raw_data: new Uint8Array(300_000).fill(7) }],
        input: [{ name: "cond", type: { tensor_type: { elem_type: DataType.BOOL, shape: { dim: [] } } } }],
        output: [vector("y")],
        value_info: Array.from({ length: 50 }, (_, i) => vector(`padding_${i}`)),
      },
    });
    const read = decodeModelFile(file, KEEP);
    const then = read.graph!.node![0]!.attribute![0]!.g!.initializer![0]!.raw_data as Uint8Array;
    assert.deepEqual([...new Float32Array(then.slice().buffer)], [1, 2, 3, 4]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A node built with the test's wire helpers, its `g`/`graphs` attributes left out. */
function stripBodies(node: Built): Built {
  const n = decodeMessage("onnx.NodeProto", node.bytes) as NodeProto;
  const attribute = n.attribute!.filter((a) => a.g === undefined && a.graphs === undefined);
  const bytes = encodeMessage("onnx.NodeProto", { ...n, attribute });
  return { bytes, value: decodeMessage("onnx.NodeProto", bytes) };
}

describe("a compiled model's unchanged nodes are written from their kept bytes", () => {
  // PyTorch writes canonical protobuf, which this encoder writes too: a compiled model must be
  // the same bytes with kept nodes as without (a node written from stale bytes would differ).
  const models = [
    { model: "test/fixtures/gpt2/model.onnx", script: "save a = transformer.h[0].mlp.output\ntransformer.h[1].attn.output *= 0.5\ntransformer.h[2].mlp.output = transformer.h[0].mlp.output\n" },
    { model: "test/fixtures/zoo/llama/model.onnx", script: "save q = model.layers[1].self_attn.q_proj.output\nmodel.layers[0].mlp.output *= 2\nmodel.layers[2].mlp.output = model.layers[0].mlp.output\n" },
    { model: "test/fixtures/zoo/resnet18/model.onnx", script: "save f = layer2.output\nlayer1[0].output *= 0\n" },
  ];
  for (const { model, script } of models) {
    test(path.basename(path.dirname(model)), async () => {
      const file = path.join(ROOT, model);
      const fromFile = await compile({ source: script, filename: "k.intv", model: file });
      const errors = fromFile.diagnostics.filter((d) => d.severity === "error");
      assert.deepEqual(errors.map((d) => d.message), []);
      const nodes = fromFile.model!.graph!.node!;
      const reused = nodes.filter((n) => keptEncoding(n) !== undefined).length;
      assert.ok(reused > nodes.length / 2, `most nodes are written from kept bytes (${reused} of ${nodes.length})`);
      assert.ok(reused < nodes.length, "the script's own nodes and the rewired ones are not");
      // The same script on the model decoded without keeping: nothing kept, everything encoded.
      const plain = decodeModel(readFileSync(file));
      const fromObject = await compile({ source: script, filename: "k.intv", model: plain });
      assert.ok(fromObject.model!.graph!.node!.every((n) => keptEncoding(n) === undefined));
      assert.deepEqual(Buffer.from(encodeModel(fromFile.model!)).equals(Buffer.from(encodeModel(fromObject.model!))), true, "the same bytes");
      // compile hands out its kept nodes frozen; compileForWrite (intv compile) leaves them as read.
      assert.deepEqual(nodes.filter((n) => keptEncoding(n) !== undefined && unfrozen(n).length > 0).map((n) => n.name), [], "compile: frozen");
      const forWrite = await compileForWrite({ source: script, filename: "k.intv", model: file });
      const written = forWrite.model!.graph!.node!;
      assert.equal(written.filter((n) => keptEncoding(n) !== undefined).length, reused);
      assert.ok(written.every((n) => !Object.isFrozen(n)), "compileForWrite: not frozen");
      assert.deepEqual(Buffer.from(encodeModel(forWrite.model!)).equals(Buffer.from(encodeModel(fromObject.model!))), true, "the same bytes");
    });
  }
});

describe("a decode with keepNodeEncodings \"unfrozen\"", () => {
  test("keeps bytes without freezing, and freezeKeptNodes freezes kept nodes wherever they are", () => {
    const plainNode = msg(strs(1, "input", ["x"]), strs(2, "output", ["y"]), str(4, "op_type", "Relu"));
    const inBody = msg(strs(1, "input", ["x"]), strs(2, "output", ["z"]), str(4, "op_type", "Neg"));
    const withBody = msg(strs(2, "output", ["w"]), str(4, "op_type", "If"), subs(5, "attribute", [msg(str(1, "name", "then_branch"), sub(6, "g", msg(subs(1, "node", [inBody]))))]));
    const fn = msg(str(1, "name", "f"), subs(7, "node", [plainNode]));
    const bytes = cat([ld(7, graphOf(plainNode, withBody)), ld(25, fn.bytes)]);
    const model = decodeMessage("onnx.ModelProto", bytes, { keepNodeEncodings: "unfrozen" }) as ModelProto;
    const [top, ifNode] = model.graph!.node!;
    const body = ifNode!.attribute![0]!.g!.node![0]!;
    const inFunction = model.functions![0]!.node![0]!;
    const kept = [top!, body, inFunction];
    assert.ok(kept.every((n) => keptEncoding(n) !== undefined), "kept: the plain nodes, in the graph, a body and a function");
    assert.ok([...kept, ifNode!].every((n) => !Object.isFrozen(n)), "none frozen");
    freezeKeptNodes(model);
    assert.deepEqual(kept.flatMap((n) => unfrozen(n)), []);
    assert.ok(!Object.isFrozen(ifNode), "a node with a body keeps nothing and is not frozen");
  });
});
