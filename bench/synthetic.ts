// Synthetic models for the scaling benchmark, built directly as ModelProto: a chain of blocks
// named the way the TorchScript exporter names a `blocks = nn.ModuleList(...)`
// (`/blocks/blocks.7/Mul_1`), so the module tree has `blocks[0]` … `blocks[n-1]`, each with its
// own `blocks.N.weight` and `blocks.N.bias` initializers. Every block has NODES_PER_BLOCK nodes
// on a float32[1, 16] activation, with a residual connection. The chain can also be split over
// several lists (`part0[..]`, `part1[..]`, …), so that no module holds more than a share of it.

import type { ModelProto, NodeProto, TensorProto, ValueInfoProto } from "../compiler/onnx/index.js";

export const NODES_PER_BLOCK = 10;
const WIDTH = 16;
const FLOAT = 1;

function floatTensor(name: string, values: number[]): TensorProto {
  return { name, dims: [BigInt(values.length)], data_type: FLOAT, raw_data: new Uint8Array(new Float32Array(values).buffer) };
}

function valueInfo(name: string): ValueInfoProto {
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: [{ dim_value: 1n }, { dim_value: BigInt(WIDTH) }] } } } };
}

/** The module list names: `blocks`, or `part0`, `part1`, … when the chain is split into several lists. */
export function listName(list: number, lists: number): string {
  return lists === 1 ? "blocks" : `part${list}`;
}

/** Where global block `b` of `blocks` lives: its list's name and its index in that list. */
export function blockAt(b: number, blocks: number, lists: number): { list: string; index: number } {
  const per = Math.ceil(blocks / lists);
  return { list: listName(Math.floor(b / per), lists), index: b % per };
}

/** A model of `blocks` blocks (NODES_PER_BLOCK nodes each), in `lists` consecutive module lists. */
export function syntheticModel(blocks: number, lists = 1): ModelProto {
  const nodes: NodeProto[] = [];
  const initializers: TensorProto[] = [];
  let x = "x";
  for (let b = 0; b < blocks; b++) {
    const { list, index } = blockAt(b, blocks, lists);
    const scope = `/${list}/${list}.${index}`;
    const w = `${list}.${index}.weight`;
    const bias = `${list}.${index}.bias`;
    initializers.push(floatTensor(w, Array.from({ length: WIDTH }, (_, i) => 1 + ((b * 7 + i) % 13) / 1000)));
    initializers.push(floatTensor(bias, Array.from({ length: WIDTH }, (_, i) => ((b * 3 + i) % 11) / 1000)));
    const counts = new Map<string, number>();
    const add = (op: string, inputs: string[]): string => {
      const k = counts.get(op) ?? 0;
      counts.set(op, k + 1);
      const name = `${scope}/${k === 0 ? op : `${op}_${k}`}`;
      const output = `${name}_output_0`;
      nodes.push({ name, op_type: op, input: inputs, output: [output] });
      return output;
    };
    const t1 = add("Mul", [x, w]);
    const t2 = add("Add", [t1, bias]);
    const t3 = add("Relu", [t2]);
    const t4 = add("Mul", [t3, w]);
    const t5 = add("Add", [t4, bias]);
    const t6 = add("Sigmoid", [t5]);
    const t7 = add("Mul", [t6, t5]);
    const t8 = add("Add", [t7, x]);
    const t9 = add("Mul", [t8, w]);
    x = add("Sub", [t9, bias]);
  }
  // The graph output keeps a stable name, as exported models' outputs do.
  nodes.push({ name: "/Identity", op_type: "Identity", input: [x], output: ["y"] });
  return {
    ir_version: 8n,
    opset_import: [{ domain: "", version: 14n }],
    producer_name: "intv bench/synthetic.ts",
    graph: { name: "synthetic", node: nodes, initializer: initializers, input: [valueInfo("x")], output: [valueInfo("y")] },
  };
}

/** `patches` patches spread evenly over the blocks: `blocks[i].output *= 0.5`. */
export function patchScript(blocks: number, patches: number, lists = 1): string {
  const lines = [`# ${patches} patches over ${blocks} blocks`];
  for (let k = 0; k < patches; k++) {
    const { list, index } = blockAt(Math.floor((k * blocks) / patches), blocks, lists);
    lines.push(`${list}[${index}].output *= 0.5`);
  }
  return lines.join("\n") + "\n";
}
