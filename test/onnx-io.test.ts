// ONNX codec tests: the schema, lossless decode/encode of every post-1.10 field, byte-exact round
// trips of real exports, strictness on bad input, determinism and zero-copy weights.
//
// Wire bytes are built here by hand, field number by field number (the `msg`/`str`/... builder
// below), so the decoder is checked against bytes our encoder had no part in.

import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  DataType,
  ELEM_TYPES,
  MAX_DEPTH,
  OnnxEncodeError,
  OnnxFormatError,
  decodeMessage,
  decodeModel,
  elemBits,
  elemTypeCode,
  elemTypeName,
  encodeMessage,
  encodeModel,
  encodeModelChunks,
  type AttributeProto,
  type DeviceConfigurationProto,
  type FunctionProto,
  type GraphProto,
  type IntIntListEntryProto,
  type ModelProto,
  type NodeDeviceConfigurationProto,
  type NodeProto,
  type OperatorSetIdProto,
  type ShardedDimProto,
  type ShardingSpecProto,
  type SimpleShardedDimProto,
  type SparseTensorProto,
  type StringStringEntryProto,
  type TensorAnnotation,
  type TensorProto,
  type TensorProto_Segment,
  type TensorShapeProto,
  type TensorShapeProto_Dimension,
  type TrainingInfoProto,
  type TypeProto,
  type TypeProto_Map,
  type TypeProto_Opaque,
  type TypeProto_Optional,
  type TypeProto_Sequence,
  type TypeProto_SparseTensor,
  type TypeProto_Tensor,
  type ValueInfoProto,
} from "../compiler/onnx/index.js";
import { onnxProtoText } from "../compiler/onnx/onnxProtoText.js";
import { buildSchemaTable, onnxRoot, schemaTableSource } from "../compiler/onnx/reflection.js";
import { schemaTable } from "../compiler/onnx/schemaTable.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures");

// ---- a hand-written protobuf byte builder -------------------------------------------------------

interface Built {
  bytes: Uint8Array;
  value: unknown;
}
interface Field extends Built {
  name: string;
}

const utf8 = new TextEncoder();

function cat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Unsigned LEB128 of the value's 64-bit two's complement (what protobuf does for int32/int64). */
function vint(v: bigint | number): Uint8Array {
  let u = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (u > 0x7fn) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Uint8Array.from(out);
}

const key = (no: number, wt: number): Uint8Array => vint((no << 3) | wt);
const ld = (no: number, body: Uint8Array): Uint8Array => cat([key(no, 2), vint(body.length), body]);
function le(bytesPer: number, write: (v: DataView, x: number) => void, xs: readonly number[]): Uint8Array {
  const out = new Uint8Array(bytesPer * xs.length);
  const view = new DataView(out.buffer);
  xs.forEach((x, i) => write(new DataView(view.buffer, i * bytesPer), x));
  return out;
}
const f32le = (xs: readonly number[]) => le(4, (v, x) => v.setFloat32(0, x, true), xs);
const f64le = (xs: readonly number[]) => le(8, (v, x) => v.setFloat64(0, x, true), xs);

const field = (name: string, bytes: Uint8Array, value: unknown): Field => ({ name, bytes, value });
const str = (no: number, name: string, s: string) => field(name, ld(no, utf8.encode(s)), s);
const strs = (no: number, name: string, ss: string[]) => field(name, cat(ss.map((s) => ld(no, utf8.encode(s)))), ss);
const byt = (no: number, name: string, b: Uint8Array) => field(name, ld(no, b), b);
const byts = (no: number, name: string, bs: Uint8Array[]) => field(name, cat(bs.map((b) => ld(no, b))), bs);
const i64 = (no: number, name: string, v: bigint) => field(name, cat([key(no, 0), vint(v)]), v);
const i32 = (no: number, name: string, v: number) => field(name, cat([key(no, 0), vint(v)]), v);
const f32 = (no: number, name: string, x: number) => field(name, cat([key(no, 5), f32le([x])]), Math.fround(x));
const i64s = (no: number, name: string, vs: bigint[], packed = false) =>
  field(name, packed ? ld(no, cat(vs.map((v) => vint(v)))) : cat(vs.map((v) => cat([key(no, 0), vint(v)]))), vs);
const i32s = (no: number, name: string, vs: number[]) => field(name, ld(no, cat(vs.map((v) => vint(v)))), vs);
const f32s = (no: number, name: string, xs: number[], packed = false) =>
  field(name, packed ? ld(no, f32le(xs)) : cat(xs.map((x) => cat([key(no, 5), f32le([x])]))), xs.map(Math.fround));
const f64s = (no: number, name: string, xs: number[]) => field(name, ld(no, f64le(xs)), xs);
const sub = (no: number, name: string, m: Built) => field(name, ld(no, m.bytes), m.value);
const subs = (no: number, name: string, ms: Built[]) => field(name, cat(ms.map((m) => ld(no, m.bytes))), ms.map((m) => m.value));

/**
 * A message: the fields' bytes in the order given, and the object the decoder should produce (an
 * empty repeated field puts nothing on the wire, so it is absent from the object too).
 */
function msg(...fields: Field[]): Built {
  const present = fields.filter((f) => !(Array.isArray(f.value) && f.value.length === 0));
  return { bytes: cat(fields.map((f) => f.bytes)), value: Object.fromEntries(present.map((f) => [f.name, f.value])) };
}

const kv = (k: string, v: string) => msg(str(1, "key", k), str(2, "value", v));
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

// ---- the model with every post-1.10 field --------------------------------------------------------

function shape(...dims: (bigint | string)[]): Built {
  return msg(subs(1, "dim", dims.map((d) => (typeof d === "bigint" ? msg(i64(1, "dim_value", d)) : msg(str(2, "dim_param", d), str(3, "denotation", "DATA_BATCH"))))));
}
const tensorType = (elem: number, ...dims: (bigint | string)[]) => msg(sub(1, "tensor_type", msg(i32(1, "elem_type", elem), sub(2, "shape", shape(...dims)))));

function rawTensor(name: string, dataType: number, dims: bigint[], raw: number[], meta = false): Built {
  return msg(
    i64s(1, "dims", dims),
    i32(2, "data_type", dataType),
    str(8, "name", name),
    byt(9, "raw_data", Uint8Array.from(raw)),
    ...(meta ? [subs(16, "metadata_props", [kv("origin", name)])] : []),
  );
}

const everyTensor = msg(
  i64s(1, "dims", [2n, 3n]),
  i32(2, "data_type", DataType.FLOAT),
  sub(3, "segment", msg(i64(1, "begin", 0n), i64(2, "end", 6n))),
  f32s(4, "float_data", [1, -2.5, 3.25, 0, Infinity, -0], true),
  str(8, "name", "every"),
  str(12, "doc_string", "segment + float_data"),
  subs(16, "metadata_props", [kv("quant", "none")]),
);
const typedTensors = [
  rawTensor("f8e4m3fn", DataType.FLOAT8E4M3FN, [2n], [0x38, 0xb8], true),
  rawTensor("f8e4m3fnuz", DataType.FLOAT8E4M3FNUZ, [2n], [0x40, 0xc0]),
  rawTensor("f8e5m2", DataType.FLOAT8E5M2, [2n], [0x3c, 0xbc]),
  rawTensor("f8e5m2fnuz", DataType.FLOAT8E5M2FNUZ, [2n], [0x40, 0xc0]),
  rawTensor("u4", DataType.UINT4, [3n], [0x21, 0x03]),
  rawTensor("f4e2m1", DataType.FLOAT4E2M1, [2n], [0x72]),
  rawTensor("f8e8m0", DataType.FLOAT8E8M0, [1n], [0x7f]),
  rawTensor("u2", DataType.UINT2, [4n], [0b11100100]),
  rawTensor("i2", DataType.INT2, [5n], [0b01001110, 0b10]),
  msg(i64s(1, "dims", [2n]), i32(2, "data_type", DataType.INT4), i32s(5, "int32_data", [0x7f]), str(8, "name", "i4")),
  msg(i64s(1, "dims", [2n]), i32(2, "data_type", DataType.INT64), i64s(7, "int64_data", [INT64_MAX, -1n], true), str(8, "name", "i64")),
  msg(i64s(1, "dims", [1n]), i32(2, "data_type", DataType.DOUBLE), str(8, "name", "f64"), f64s(10, "double_data", [Math.PI])),
  msg(i64s(1, "dims", [1n]), i32(2, "data_type", DataType.UINT64), str(8, "name", "u64"), i64s(11, "uint64_data", [2n ** 64n - 1n], true)),
  msg(i64s(1, "dims", [2n]), i32(2, "data_type", DataType.STRING), byts(6, "string_data", [utf8.encode("a"), utf8.encode("\u00e9\u2713")]), str(8, "name", "strs")),
  msg(
    i64s(1, "dims", [4n]),
    i32(2, "data_type", DataType.FLOAT),
    str(8, "name", "ext"),
    subs(13, "external_data", [kv("location", "weights.bin"), kv("offset", "4096"), kv("length", "16"), kv("checksum", "da39a3ee")]),
    i32(14, "data_location", 1),
  ),
];
const sparse = msg(
  sub(1, "values", msg(i64s(1, "dims", [2n]), i32(2, "data_type", DataType.FLOAT), str(8, "name", "sp"), byt(9, "raw_data", f32le([5, 6])))),
  sub(2, "indices", msg(i64s(1, "dims", [2n]), i32(2, "data_type", DataType.INT64), i64s(7, "int64_data", [1n, 7n], true))),
  i64s(3, "dims", [2n, 4n]),
);
const typeProtos = [
  tensorType(DataType.FLOAT16, 1n, "batch"),
  msg(sub(4, "sequence_type", msg(sub(1, "elem_type", tensorType(DataType.INT4, 3n)))), str(6, "denotation", "TENSOR")),
  msg(sub(5, "map_type", msg(i32(1, "key_type", DataType.INT64), sub(2, "value_type", tensorType(DataType.FLOAT))))),
  msg(sub(7, "opaque_type", msg(str(1, "domain", "com.example"), str(2, "name", "Blob")))),
  msg(sub(8, "sparse_tensor_type", msg(i32(1, "elem_type", DataType.FLOAT), sub(2, "shape", shape(2n, 4n))))),
  msg(sub(9, "optional_type", msg(sub(1, "elem_type", tensorType(DataType.UINT2))))),
];
const subgraph = (name: string) =>
  msg(subs(1, "node", [msg(strs(1, "input", ["x"]), strs(2, "output", ["y"]), str(4, "op_type", "Identity"))]), str(2, "name", name));

const allAttributes = [
  msg(str(1, "name", "f"), f32(2, "f", 1.5), i32(20, "type", 1)),
  msg(str(1, "name", "i"), i64(3, "i", INT64_MAX), i32(20, "type", 2)),
  msg(str(1, "name", "neg"), i64(3, "i", -1n), i32(20, "type", 2)),
  msg(str(1, "name", "s"), byt(4, "s", utf8.encode("h\u00e9llo")), i32(20, "type", 3)),
  msg(str(1, "name", "t"), sub(5, "t", rawTensor("t", DataType.BFLOAT16, [1n], [0x80, 0x3f])), i32(20, "type", 4)),
  msg(str(1, "name", "g"), sub(6, "g", subgraph("then")), i32(20, "type", 5)),
  msg(str(1, "name", "floats"), f32s(7, "floats", [0.1, -2.5]), i32(20, "type", 6)),
  msg(str(1, "name", "ints"), i64s(8, "ints", [INT64_MIN, 0n, INT64_MAX, -2n]), i32(20, "type", 7)),
  msg(str(1, "name", "strings"), byts(9, "strings", [utf8.encode("a"), new Uint8Array([0xff, 0x00])]), i32(20, "type", 8)),
  msg(str(1, "name", "tensors"), subs(10, "tensors", typedTensors.slice(0, 2)), i32(20, "type", 9)),
  msg(str(1, "name", "graphs"), subs(11, "graphs", [subgraph("a"), subgraph("b")]), i32(20, "type", 10)),
  msg(str(1, "name", "sparse"), i32(20, "type", 11), sub(22, "sparse_tensor", sparse)),
  msg(str(1, "name", "sparses"), i32(20, "type", 12), subs(23, "sparse_tensors", [sparse])),
  msg(str(1, "name", "tp"), sub(14, "tp", typeProtos[1]!), i32(20, "type", 13)),
  msg(str(1, "name", "tps"), subs(15, "type_protos", typeProtos), i32(20, "type", 14)),
  msg(str(1, "name", "alpha"), str(13, "doc_string", "from the caller"), i32(20, "type", 1), str(21, "ref_attr_name", "alpha")),
];
const deviceConfig = msg(
  str(1, "configuration_id", "two_gpus"),
  subs(2, "sharding_spec", [
    msg(
      str(1, "tensor_name", "x"),
      i64s(2, "device", [0n, 1n]),
      subs(3, "index_to_device_group_map", [msg(i64(1, "key", 0n), i64s(2, "value", [0n, 1n]))]),
      subs(4, "sharded_dim", [
        msg(i64(1, "axis", 0n), subs(2, "simple_sharding", [msg(i64(1, "dim_value", 4n), i64(3, "num_shards", 2n)), msg(str(2, "dim_param", "N"), i64(3, "num_shards", 2n))])),
      ]),
    ),
  ]),
  i32(3, "pipeline_stage", 1),
);
const customNode = msg(
  strs(1, "input", ["x", ""]),
  strs(2, "output", ["y"]),
  str(3, "name", "/layer/Custom"),
  str(4, "op_type", "Block"),
  subs(5, "attribute", allAttributes),
  str(6, "doc_string", "calls a local function"),
  str(7, "domain", "local.fn"),
  str(8, "overload", "v2"),
  subs(9, "metadata_props", [kv("pkg.torch.onnx.name_scopes", "['', 'layer', 'custom']")]),
  subs(10, "device_configurations", [deviceConfig]),
);
const valueInfo = (name: string, type: Built, meta: boolean) =>
  msg(str(1, "name", name), sub(2, "type", type), str(3, "doc_string", `${name} doc`), ...(meta ? [subs(4, "metadata_props", [kv("role", name)])] : []));
const graph = msg(
  subs(1, "node", [customNode, msg(strs(1, "input", ["y"]), strs(2, "output", ["z"]), str(4, "op_type", "Relu"))]),
  str(2, "name", "main"),
  subs(5, "initializer", [everyTensor, ...typedTensors]),
  str(10, "doc_string", "the main graph"),
  subs(11, "input", [valueInfo("x", tensorType(DataType.FLOAT, "N", 4n), true)]),
  subs(12, "output", [valueInfo("z", tensorType(DataType.FLOAT, "N", 4n), false)]),
  subs(13, "value_info", typeProtos.map((t, i) => valueInfo(`v${i}`, t, i % 2 === 0))),
  subs(14, "quantization_annotation", [msg(str(1, "tensor_name", "y"), subs(2, "quant_parameter_tensor_names", [kv("SCALE_TENSOR", "y_scale")]))]),
  subs(15, "sparse_initializer", [sparse]),
  subs(16, "metadata_props", [kv("graph.key", "graph value")]),
);
const fn = msg(
  str(1, "name", "Block"),
  strs(4, "input", ["x", "opt"]),
  strs(5, "output", ["y"]),
  strs(6, "attribute", ["beta"]),
  subs(7, "node", [msg(strs(1, "input", ["x"]), strs(2, "output", ["y"]), str(4, "op_type", "LeakyRelu"), subs(5, "attribute", [allAttributes[15]!]))]),
  str(8, "doc_string", "a local function"),
  subs(9, "opset_import", [msg(str(1, "domain", ""), i64(2, "version", 21n))]),
  str(10, "domain", "local.fn"),
  subs(11, "attribute_proto", [msg(str(1, "name", "alpha"), f32(2, "f", 0.25), i32(20, "type", 1))]),
  subs(12, "value_info", [valueInfo("y", tensorType(DataType.FLOAT, "N"), true)]),
  str(13, "overload", "v2"),
  subs(14, "metadata_props", [kv("fn.key", "fn value")]),
);
const everyFieldModel = msg(
  i64(1, "ir_version", 13n),
  str(2, "producer_name", "intv-test"),
  str(3, "producer_version", "0.1"),
  str(4, "domain", "ai.intv.test"),
  i64(5, "model_version", 7n),
  str(6, "doc_string", "\ufeffevery field \u2713"),
  sub(7, "graph", graph),
  subs(8, "opset_import", [msg(str(1, "domain", ""), i64(2, "version", 21n)), msg(str(1, "domain", "local.fn"), i64(2, "version", 1n))]),
  subs(14, "metadata_props", [kv("model.key", "model value")]),
  subs(20, "training_info", [
    msg(sub(1, "initialization", subgraph("init")), sub(2, "algorithm", subgraph("step")), subs(3, "initialization_binding", [kv("w", "w0")]), subs(4, "update_binding", [kv("w", "w1")])),
  ]),
  subs(25, "functions", [fn]),
  subs(26, "configuration", [msg(str(1, "name", "two_gpus"), i32(2, "num_devices", 2), strs(3, "device", ["cuda:0", "cuda:1"]))]),
);

// ---- tests ---------------------------------------------------------------------------------------

describe("schema", () => {
  test("the embedded schema text equals onnx.proto (INTV_REGEN=1 rewrites it)", () => {
    const file = path.join(ROOT, "compiler", "onnx", "onnx.proto");
    const text = readFileSync(file, "utf8");
    if (process.env.INTV_REGEN === "1" && text !== onnxProtoText) {
      const escaped = text.replace(/\\/g, "\\\\").replace(/`/g, "\\`").replace(/\$\{/g, "\\${");
      const header =
        "// Generated from onnx.proto (the source of truth) so the schema is not read from disk at run time.\n" +
        "// Do not edit: change onnx.proto, then run the ONNX I/O tests with INTV_REGEN=1 to rewrite this file.\n\n";
      writeFileSync(path.join(ROOT, "compiler", "onnx", "onnxProtoText.ts"), `${header}export const onnxProtoText: string = \`${escaped}\`;\n`);
      return;
    }
    assert.equal(onnxProtoText, text, "compiler/onnx/onnxProtoText.ts is stale: rebuild, then run this test with INTV_REGEN=1");
  });

  test("the codec's schema table is onnx.proto's, as protobufjs reads it (INTV_REGEN=1 rewrites it)", () => {
    const table = buildSchemaTable();
    if (process.env.INTV_REGEN === "1") {
      writeFileSync(path.join(ROOT, "compiler", "onnx", "schemaTable.ts"), schemaTableSource(table));
      return;
    }
    assert.deepStrictEqual(schemaTable, table, "compiler/onnx/schemaTable.ts is stale: rebuild, then run this test with INTV_REGEN=1");
    assert.equal(readFileSync(path.join(ROOT, "compiler", "onnx", "schemaTable.ts"), "utf8"), schemaTableSource(table));
  });

  test("covers IR version 13", () => {
    const root = onnxRoot();
    const id = (type: string, name: string) => root.lookupType(type).fields[name]?.id;
    assert.equal(root.lookupEnum("onnx.Version").values.IR_VERSION, 13);
    assert.equal(id("onnx.NodeProto", "overload"), 8);
    assert.equal(id("onnx.NodeProto", "metadata_props"), 9);
    assert.equal(id("onnx.NodeProto", "device_configurations"), 10);
    assert.equal(id("onnx.FunctionProto", "attribute_proto"), 11);
    assert.equal(id("onnx.FunctionProto", "value_info"), 12);
    assert.equal(id("onnx.FunctionProto", "overload"), 13);
    assert.equal(id("onnx.FunctionProto", "metadata_props"), 14);
    assert.equal(id("onnx.GraphProto", "metadata_props"), 16);
    assert.equal(id("onnx.TensorProto", "metadata_props"), 16);
    assert.equal(id("onnx.ValueInfoProto", "metadata_props"), 4);
    assert.equal(id("onnx.ModelProto", "configuration"), 26);
    assert.equal(id("onnx.NodeDeviceConfigurationProto", "pipeline_stage"), 3);
    const dataTypes = root.lookupEnum("onnx.TensorProto.DataType").values;
    assert.deepEqual({ ...dataTypes }, DataType);
  });

  test("types.ts declares exactly the schema's fields for every message", () => {
    // `satisfies Required<T>` makes the compiler check that each list names every property of the
    // interface and nothing else; the test then checks the lists against the parsed schema.
    const u = undefined as never;
    const declared: Record<string, object> = {
      ModelProto: { ir_version: u, opset_import: u, producer_name: u, producer_version: u, domain: u, model_version: u, doc_string: u, graph: u, metadata_props: u, training_info: u, functions: u, configuration: u } satisfies Required<ModelProto>,
      GraphProto: { node: u, name: u, initializer: u, sparse_initializer: u, doc_string: u, input: u, output: u, value_info: u, quantization_annotation: u, metadata_props: u } satisfies Required<GraphProto>,
      NodeProto: { input: u, output: u, name: u, op_type: u, domain: u, overload: u, attribute: u, doc_string: u, metadata_props: u, device_configurations: u } satisfies Required<NodeProto>,
      AttributeProto: {
        name: u, ref_attr_name: u, doc_string: u, type: u, f: u, i: u, s: u, t: u, g: u, sparse_tensor: u, tp: u,
        floats: u, ints: u, strings: u, tensors: u, graphs: u, sparse_tensors: u, type_protos: u,
      } satisfies Required<AttributeProto>,
      ValueInfoProto: { name: u, type: u, doc_string: u, metadata_props: u } satisfies Required<ValueInfoProto>,
      TensorProto: {
        dims: u, data_type: u, segment: u, float_data: u, int32_data: u, string_data: u, int64_data: u, name: u, doc_string: u,
        raw_data: u, external_data: u, data_location: u, double_data: u, uint64_data: u, metadata_props: u,
      } satisfies Required<TensorProto>,
      "TensorProto.Segment": { begin: u, end: u } satisfies Required<TensorProto_Segment>,
      SparseTensorProto: { values: u, indices: u, dims: u } satisfies Required<SparseTensorProto>,
      TensorShapeProto: { dim: u } satisfies Required<TensorShapeProto>,
      "TensorShapeProto.Dimension": { dim_value: u, dim_param: u, denotation: u } satisfies Required<TensorShapeProto_Dimension>,
      TypeProto: { tensor_type: u, sequence_type: u, map_type: u, optional_type: u, sparse_tensor_type: u, opaque_type: u, denotation: u } satisfies Required<TypeProto>,
      "TypeProto.Tensor": { elem_type: u, shape: u } satisfies Required<TypeProto_Tensor>,
      "TypeProto.Sequence": { elem_type: u } satisfies Required<TypeProto_Sequence>,
      "TypeProto.Map": { key_type: u, value_type: u } satisfies Required<TypeProto_Map>,
      "TypeProto.Optional": { elem_type: u } satisfies Required<TypeProto_Optional>,
      "TypeProto.SparseTensor": { elem_type: u, shape: u } satisfies Required<TypeProto_SparseTensor>,
      "TypeProto.Opaque": { domain: u, name: u } satisfies Required<TypeProto_Opaque>,
      StringStringEntryProto: { key: u, value: u } satisfies Required<StringStringEntryProto>,
      OperatorSetIdProto: { domain: u, version: u } satisfies Required<OperatorSetIdProto>,
      TensorAnnotation: { tensor_name: u, quant_parameter_tensor_names: u } satisfies Required<TensorAnnotation>,
      TrainingInfoProto: { initialization: u, algorithm: u, initialization_binding: u, update_binding: u } satisfies Required<TrainingInfoProto>,
      FunctionProto: {
        name: u, input: u, output: u, attribute: u, attribute_proto: u, node: u, doc_string: u, opset_import: u, domain: u, overload: u,
        value_info: u, metadata_props: u,
      } satisfies Required<FunctionProto>,
      DeviceConfigurationProto: { name: u, num_devices: u, device: u } satisfies Required<DeviceConfigurationProto>,
      NodeDeviceConfigurationProto: { configuration_id: u, sharding_spec: u, pipeline_stage: u } satisfies Required<NodeDeviceConfigurationProto>,
      ShardingSpecProto: { tensor_name: u, device: u, index_to_device_group_map: u, sharded_dim: u } satisfies Required<ShardingSpecProto>,
      ShardedDimProto: { axis: u, simple_sharding: u } satisfies Required<ShardedDimProto>,
      SimpleShardedDimProto: { dim_value: u, dim_param: u, num_shards: u } satisfies Required<SimpleShardedDimProto>,
      IntIntListEntryProto: { key: u, value: u } satisfies Required<IntIntListEntryProto>,
    };
    const schemaTypes: string[] = [];
    const collect = (ns: { nestedArray: unknown[] }, prefix: string): void => {
      for (const n of ns.nestedArray as { name: string; fieldsArray?: { name: string }[]; nestedArray?: unknown[] }[]) {
        if (n.fieldsArray === undefined) continue;
        const name = prefix + n.name;
        schemaTypes.push(name);
        const fields = n.fieldsArray.map((f) => f.name).sort();
        assert.deepEqual(Object.keys(declared[name] ?? {}).sort(), fields, `fields of ${name}`);
        if (n.nestedArray) collect(n as { nestedArray: unknown[] }, `${name}.`);
      }
    };
    collect(onnxRoot().lookup("onnx") as unknown as { nestedArray: unknown[] }, "");
    assert.deepEqual(schemaTypes.sort(), Object.keys(declared).sort());
  });

  test("element type tables cover every DataType", () => {
    for (const [name, code] of Object.entries(DataType)) {
      if (code === 0) continue;
      const elem = elemTypeName(code);
      assert.ok(elem !== undefined, `no element name for ${name}`);
      assert.equal(elemTypeCode(elem), code);
    }
    assert.equal(ELEM_TYPES.length, Object.keys(DataType).length - 1);
    assert.equal(elemTypeName(DataType.FLOAT), "float32");
    assert.equal(elemTypeName(DataType.DOUBLE), "float64");
    assert.equal(elemTypeCode("float4e2m1"), 23);
    assert.equal(elemBits(DataType.INT4), 4);
    assert.equal(elemBits(DataType.UINT2), 2);
    assert.equal(elemBits(DataType.COMPLEX128), 128);
    assert.equal(elemBits(DataType.STRING), undefined);
    assert.equal(elemTypeName(0), undefined);
    assert.equal(elemTypeName(99), undefined);
    assert.equal(elemTypeCode("FLOAT"), undefined);
  });
});

describe("every post-1.10 field", () => {
  test("the byte builder writes what protobuf writes", () => {
    assert.deepEqual([...msg(i64(1, "ir_version", 13n)).bytes], [0x08, 0x0d]);
    assert.deepEqual([...msg(i64(3, "i", -1n)).bytes], [0x18, ...Array(9).fill(0xff), 0x01]);
    assert.deepEqual([...msg(str(4, "op_type", "Relu")).bytes], [0x22, 4, 0x52, 0x65, 0x6c, 0x75]);
  });

  test("decodes every value", () => {
    const model = decodeModel(everyFieldModel.bytes);
    assert.deepStrictEqual(model, everyFieldModel.value);
    // Spot checks that do not go through the builder's expected object.
    const node = model.graph!.node![0]!;
    assert.equal(node.overload, "v2");
    assert.equal(node.attribute![1]!.i, 9223372036854775807n);
    assert.equal(node.device_configurations![0]!.sharding_spec![0]!.sharded_dim![0]!.simple_sharding![1]!.dim_param, "N");
    assert.equal(model.functions![0]!.value_info![0]!.metadata_props![0]!.value, "y");
    assert.equal(model.graph!.initializer![1]!.data_type, DataType.FLOAT8E4M3FN);
    assert.equal(model.doc_string!.charCodeAt(0), 0xfeff, "a leading BOM is content, not stripped");
  });

  test("re-encodes to identical bytes", () => {
    const model = decodeModel(everyFieldModel.bytes);
    assert.deepStrictEqual(encodeModel(model), everyFieldModel.bytes);
  });

  test("encodes an object built by hand to the same bytes", () => {
    assert.deepStrictEqual(encodeModel(everyFieldModel.value as ModelProto), everyFieldModel.bytes);
  });
});

function onnxFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return onnxFiles(p);
    // Fixtures that are broken on purpose say so in their name.
    return e.isFile() && e.name.endsWith(".onnx") && !/bad|invalid|corrupt|truncated/i.test(e.name) ? [p] : [];
  });
}

describe("round trip of real exports", () => {
  const files = onnxFiles(FIXTURES);
  test("finds the fixtures", () => {
    assert.ok(files.some((f) => f.endsWith(path.join("onnx-io", "tiny.onnx"))));
    assert.ok(files.some((f) => f.endsWith(path.join("onnx-io", "helper_ext.onnx"))));
  });
  for (const file of files) {
    test(`${path.relative(FIXTURES, file)} round-trips byte for byte`, () => {
      const bytes = new Uint8Array(readFileSync(file));
      const model = decodeModel(bytes);
      assert.ok(model.graph !== undefined);
      const out = encodeModel(model);
      assert.equal(out.length, bytes.length);
      assert.ok(Buffer.compare(out, bytes) === 0, "re-encoded bytes differ");
    });
  }

  test("the INT64_MAX attribute and external reference of helper_ext.onnx survive", () => {
    const model = decodeModel(readFileSync(path.join(FIXTURES, "onnx-io", "helper_ext.onnx")));
    const slice = model.graph!.node!.find((n) => n.op_type === "Slice")!;
    assert.deepEqual(slice.attribute!.find((a) => a.name === "ends")!.ints, [INT64_MAX]);
    assert.deepEqual(slice.attribute!.find((a) => a.name === "axes")!.ints, [-1n]);
    assert.equal(slice.doc_string, "keeps every column \u2014 \u00b5, \u2713");
    const bias = model.graph!.initializer![0]!;
    assert.equal(bias.data_location, 1);
    assert.deepEqual(bias.external_data!.map((e) => e.key), ["location", "offset", "length"]);
  });
});

describe("weights are not copied", () => {
  test("raw_data is a view into the input", () => {
    const input = new Uint8Array(readFileSync(path.join(FIXTURES, "onnx-io", "tiny.onnx")));
    const model = decodeModel(input);
    const weights = model.graph!.initializer!.filter((t) => t.raw_data !== undefined);
    assert.ok(weights.length > 0);
    for (const t of weights) assert.equal((t.raw_data as Uint8Array).buffer, input.buffer);
  });

  test("a Node Buffer input gives plain Uint8Array views of the same memory", () => {
    const input = readFileSync(path.join(FIXTURES, "onnx-io", "tiny.onnx"));
    const t = decodeModel(input).graph!.initializer!.find((x) => x.raw_data !== undefined)!;
    assert.equal(Object.getPrototypeOf(t.raw_data), Uint8Array.prototype);
    assert.equal((t.raw_data as Uint8Array).buffer, input.buffer);
  });

  test("large bytes pass through the encoder as the same views", () => {
    const big = new Uint8Array(8 << 20);
    big[0] = 1;
    const model: ModelProto = {
      ir_version: 10n,
      graph: { name: "g", initializer: [{ name: "w", data_type: DataType.FLOAT, dims: [2n << 20n], raw_data: big }, { name: "w2", raw_data: big.subarray(4) }] },
    };
    const chunks = encodeModelChunks(model);
    assert.ok(chunks.includes(model.graph!.initializer![0]!.raw_data as Uint8Array));
    assert.ok(chunks.includes(model.graph!.initializer![1]!.raw_data as Uint8Array));
    const decoded = decodeModel(encodeModel(model));
    assert.deepStrictEqual(decoded, model);
  });

  test("a model over 2 GiB is refused before anything is allocated", () => {
    const w = new Uint8Array(256 << 20);
    const model: ModelProto = { graph: { initializer: Array.from({ length: 9 }, (_, i) => ({ name: `w${i}`, raw_data: w })) } };
    assert.throws(() => encodeModelChunks(model), (e: unknown) => e instanceof OnnxEncodeError && /2 GiB/.test(e.message));
  });
});

describe("determinism and canonical form", () => {
  test("encoding twice gives the same bytes", () => {
    const model = decodeModel(everyFieldModel.bytes);
    assert.deepStrictEqual(encodeModel(model), encodeModel(model));
    const tiny = decodeModel(readFileSync(path.join(FIXTURES, "onnx-io", "tiny.onnx")));
    assert.deepStrictEqual(encodeModel(tiny), encodeModel(tiny));
  });

  test("fields are written in field-number order whatever the property order", () => {
    const a = encodeModel({ graph: { name: "g" }, ir_version: 9n, opset_import: [{ version: 1n, domain: "" }] });
    const b = encodeModel({ opset_import: [{ domain: "", version: 1n }], ir_version: 9n, graph: { name: "g" } });
    assert.deepStrictEqual(a, b);
    assert.equal(a[0], 0x08);
  });

  test("packed and unpacked repeated scalars both decode; the schema's form is written", () => {
    const unpackedFloats = msg(f32s(4, "float_data", [1, 2]));
    const packedInts = msg(str(1, "name", "ints"), i64s(8, "ints", [1n, -1n], true));
    assert.deepEqual(decodeMessage("onnx.TensorProto", unpackedFloats.bytes), { float_data: [1, 2] });
    assert.deepStrictEqual(encodeMessage("onnx.TensorProto", { float_data: [1, 2] }), msg(f32s(4, "float_data", [1, 2], true)).bytes);
    assert.deepEqual(decodeMessage("onnx.AttributeProto", packedInts.bytes), { name: "ints", ints: [1n, -1n] });
    assert.deepStrictEqual(encodeMessage("onnx.AttributeProto", { name: "ints", ints: [1n, -1n] }), msg(str(1, "name", "ints"), i64s(8, "ints", [1n, -1n])).bytes);
  });

  test("presence: fields set to their default values are kept; empty repeated fields are not set", () => {
    const m = msg(i64(1, "ir_version", 0n), str(2, "producer_name", ""), sub(7, "graph", msg()));
    const decoded = decodeModel(m.bytes);
    assert.deepStrictEqual(decoded, { ir_version: 0n, producer_name: "", graph: {} });
    assert.deepStrictEqual(encodeModel(decoded), m.bytes);
    assert.deepStrictEqual(encodeModel({ graph: { node: [], initializer: undefined } }), Uint8Array.from([0x3a, 0x00]));
  });

  test("a singular message seen twice is merged; the last scalar wins", () => {
    const bytes = cat([ld(7, str(2, "name", "a").bytes), ld(7, msg(subs(1, "node", [msg(str(4, "op_type", "Relu"))])).bytes), msg(i64(1, "ir_version", 3n)).bytes, msg(i64(1, "ir_version", 4n)).bytes]);
    assert.deepStrictEqual(decodeModel(bytes), { graph: { name: "a", node: [{ op_type: "Relu" }] }, ir_version: 4n });
  });

  test("a later oneof member replaces an earlier one", () => {
    const bytes = msg(i64(1, "dim_value", 3n), str(2, "dim_param", "N")).bytes;
    assert.deepStrictEqual(decodeMessage("onnx.TensorShapeProto.Dimension", bytes), { dim_param: "N" });
  });
});

function formatError(f: () => unknown, pattern: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof OnnxFormatError, `expected an OnnxFormatError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe("strict decoding", () => {
  test("an unknown field names the message, the field number, the wire type and the offset", () => {
    const node = msg(str(4, "op_type", "Relu"), byt(99, "mystery", new Uint8Array([1, 2])));
    const model = msg(i64(1, "ir_version", 13n), sub(7, "graph", msg(subs(1, "node", [node]))));
    // 2 bytes ir_version, 2 graph tag+len, 2 node tag+len, 6 op_type: the field starts at byte 12.
    formatError(() => decodeModel(model.bytes), /^unknown field 99 \(wire type 2\) in onnx\.NodeProto at byte 12$/);
  });

  test("a removed (reserved) field number is unknown too", () => {
    formatError(() => decodeMessage("onnx.FunctionProto", msg(i64(2, "since_version", 1n)).bytes), /unknown field 2 \(wire type 0, a reserved field number\) in onnx\.FunctionProto at byte 0/);
  });

  test("a wrong wire type for a known field", () => {
    formatError(() => decodeModel(msg(str(1, "ir_version", "13")).bytes), /field `ir_version` \(1\) of onnx\.ModelProto has wire type 2, expected 0 at byte 0/);
  });

  test("invalid UTF-8 in a string field", () => {
    const bad = cat([key(3, 2), vint(2), Uint8Array.from([0xc3, 0x28])]);
    formatError(() => decodeMessage("onnx.NodeProto", bad), /invalid UTF-8 in field `name` \(3\) of onnx\.NodeProto at byte 2/);
    const long = cat([key(3, 2), vint(40), utf8.encode("x".repeat(39)), Uint8Array.from([0xff])]);
    formatError(() => decodeMessage("onnx.NodeProto", long), /invalid UTF-8/);
  });

  test("an enum value the schema does not know", () => {
    formatError(() => decodeMessage("onnx.AttributeProto", msg(i32(20, "type", 99)).bytes), /unknown value 99 of enum onnx\.AttributeProto\.AttributeType in field `type` \(20\)/);
  });

  test("a length past the end of its message", () => {
    const graph = ld(7, msg(str(2, "name", "main")).bytes);
    formatError(() => decodeModel(graph.subarray(0, graph.length - 1)), /truncated or corrupt data: field `graph` \(7\) of onnx\.ModelProto claims 6 bytes but only 5 remain in onnx\.ModelProto at byte 0/);
    // A nested length may not run past its parent even when the buffer goes on.
    const inner = cat([key(2, 2), vint(10), utf8.encode("ab")]);
    const outer = cat([key(7, 2), vint(inner.length), inner, new Uint8Array(20)]);
    formatError(() => decodeModel(outer), /field `name` \(2\) of onnx\.GraphProto claims 10 bytes but only 2 remain in onnx\.GraphProto at byte 2/);
  });

  test("truncated and overlong varints", () => {
    formatError(() => decodeModel(Uint8Array.from([0x08, 0x80, 0x80])), /truncated varint at byte 1/);
    formatError(() => decodeModel(Uint8Array.from([0x08, ...Array(10).fill(0xff), 0x01])), /varint longer than 10 bytes at byte 1/);
    formatError(() => decodeModel(Uint8Array.from([0x80])), /truncated varint at byte 0/);
  });

  test("a truncated file fails wherever it is cut inside the graph", () => {
    const bytes = new Uint8Array(readFileSync(path.join(FIXTURES, "onnx-io", "tiny.onnx")));
    let failed = 0;
    for (let cut = 1; cut < bytes.length; cut += 61) {
      try {
        decodeModel(bytes.subarray(0, cut));
      } catch (e) {
        assert.ok(e instanceof OnnxFormatError, `cut at ${cut}: ${String(e)}`);
        failed++;
      }
    }
    assert.ok(failed > (bytes.length / 61) * 0.9, `only ${failed} cuts failed`);
  });

  test("flipped bytes never produce anything but an OnnxFormatError or a model", () => {
    const original = new Uint8Array(readFileSync(path.join(FIXTURES, "onnx-io", "tiny.onnx")));
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    let failures = 0;
    for (let i = 0; i < 400; i++) {
      const bytes = original.slice();
      for (let k = 0; k < 3; k++) bytes[Math.floor(rand() * bytes.length)]! ^= 1 << Math.floor(rand() * 8);
      try {
        decodeModel(bytes);
      } catch (e) {
        assert.ok(e instanceof OnnxFormatError, `flip ${i}: ${String(e)}`);
        failures++;
      }
    }
    assert.ok(failures > 0);
  });

  test("random bytes and other formats are refused", () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) >>> 24);
    const noise = Uint8Array.from({ length: 4096 }, rand);
    formatError(() => decodeModel(noise), /at byte \d+$/);
    formatError(() => decodeModel(utf8.encode("hello, world\n")), /unknown field 13 \(wire type 0\) in onnx\.ModelProto at byte 0/);
    formatError(() => decodeModel(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), /in onnx\.ModelProto at byte 0/);
    formatError(() => decodeModel(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0, 0])), /onnx\.ModelProto/);
  });

  test("deep nesting is refused without exhausting the stack", () => {
    let type: Uint8Array = tensorType(DataType.FLOAT).bytes;
    for (let i = 0; i < 5000; i++) type = ld(4, ld(1, type)); // TypeProto.sequence_type.elem_type...
    const model = ld(7, ld(11, cat([ld(1, utf8.encode("x")), ld(2, type)])));
    formatError(() => decodeModel(model), new RegExp(`nested deeper than ${MAX_DEPTH} levels`));
    let ok: Uint8Array = tensorType(DataType.FLOAT).bytes;
    for (let i = 0; i < 40; i++) ok = ld(4, ld(1, ok));
    assert.ok(decodeMessage("onnx.TypeProto", ok).sequence_type !== undefined);
  });
});

function encodeError(model: unknown, pattern: RegExp): void {
  assert.throws(() => encodeModel(model as ModelProto), (e: unknown) => {
    assert.ok(e instanceof OnnxEncodeError, `expected an OnnxEncodeError, got ${String(e)}`);
    assert.match(e.message, pattern);
    return true;
  });
}

describe("the encoder refuses what it cannot encode, naming the field", () => {
  test("wrong JavaScript types", () => {
    encodeError({ ir_version: 13 }, /^ir_version: expected a int64 bigint, got number 13$/);
    encodeError({ graph: { node: [{ attribute: [{ name: "i", i: 1 }] }] } }, /^graph\.node\[0\]\.attribute\[0\]\.i: expected a int64 bigint/);
    encodeError({ graph: { node: [{}, { input: "x" }] } }, /^graph\.node\[1\]\.input: expected an array, got a string$/);
    encodeError({ graph: { initializer: [{ raw_data: [1, 2] }] } }, /^graph\.initializer\[0\]\.raw_data: expected a Uint8Array, got an array$/);
    encodeError({ graph: null }, /^graph: expected a onnx\.GraphProto object, got null$/);
    encodeError({ graph: { name: 3 } }, /^graph\.name: expected a string/);
    encodeError({ graph: { initializer: [{ data_type: 1.5 }] } }, /^graph\.initializer\[0\]\.data_type: expected a int32 number/);
    encodeError({ graph: { initializer: [{ float_data: [1, "2"] }] } }, /^graph\.initializer\[0\]\.float_data\[1\]: expected a number, got a string$/);
  });

  test("out of range and unknown enum values", () => {
    encodeError({ ir_version: 2n ** 63n }, /^ir_version: expected a int64 bigint/);
    encodeError({ graph: { initializer: [{ uint64_data: [-1n] }] } }, /uint64_data\[0\]: expected a uint64 bigint/);
    encodeError({ graph: { initializer: [{ data_type: 2 ** 31 }] } }, /data_type: expected a int32 number/);
    encodeError({ graph: { initializer: [{ data_location: 7 }] } }, /data_location: 7 is not a value of enum onnx\.TensorProto\.DataLocation/);
  });

  test("unknown properties, oneof clashes, lone surrogates, cycles", () => {
    encodeError({ graph: { node: [{ opType: "Relu" }] } }, /^graph\.node\[0\]\.opType: onnx\.NodeProto has no field `opType`$/);
    encodeError({ graph: { input: [{ type: { tensor_type: {}, sequence_type: {} } }] } }, /^graph\.input\[0\]\.type\.tensor_type: `tensor_type` and `sequence_type` are members of one oneof/);
    encodeError({ producer_name: "bad \ud800" }, /^producer_name: string has a lone surrogate at index 4/);
    const g: Record<string, unknown> = { name: "loop" };
    g.node = [{ attribute: [{ g }] }];
    encodeError({ graph: g }, /nested deeper than 100 levels/);
  });

  test("undefined properties are simply absent", () => {
    assert.deepStrictEqual(encodeModel({ ir_version: 1n, producer_name: undefined, graph: undefined }), Uint8Array.from([0x08, 0x01]));
  });
});
