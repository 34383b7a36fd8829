// A hand-written protobuf byte builder, field number by field number, and an ONNX model built
// with it that has every post-1.10 field: the codec tests (onnx-io.test.ts) check the decoder
// against bytes our encoder had no part in.

import { DataType } from "../compiler/onnx/index.js";

// ---- a hand-written protobuf byte builder -------------------------------------------------------

export interface Built {
  bytes: Uint8Array;
  value: unknown;
}
export interface Field extends Built {
  name: string;
}

export const utf8 = new TextEncoder();

export function cat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Unsigned LEB128 of the value's 64-bit two's complement (what protobuf does for int32/int64). */
export function vint(v: bigint | number): Uint8Array {
  let u = BigInt.asUintN(64, BigInt(v));
  const out: number[] = [];
  while (u > 0x7fn) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return Uint8Array.from(out);
}

export const key = (no: number, wt: number): Uint8Array => vint((no << 3) | wt);
export const ld = (no: number, body: Uint8Array): Uint8Array => cat([key(no, 2), vint(body.length), body]);
export function le(bytesPer: number, write: (v: DataView, x: number) => void, xs: readonly number[]): Uint8Array {
  const out = new Uint8Array(bytesPer * xs.length);
  const view = new DataView(out.buffer);
  xs.forEach((x, i) => write(new DataView(view.buffer, i * bytesPer), x));
  return out;
}
export const f32le = (xs: readonly number[]) => le(4, (v, x) => v.setFloat32(0, x, true), xs);
export const f64le = (xs: readonly number[]) => le(8, (v, x) => v.setFloat64(0, x, true), xs);

export const field = (name: string, bytes: Uint8Array, value: unknown): Field => ({ name, bytes, value });
export const str = (no: number, name: string, s: string) => field(name, ld(no, utf8.encode(s)), s);
export const strs = (no: number, name: string, ss: string[]) => field(name, cat(ss.map((s) => ld(no, utf8.encode(s)))), ss);
export const byt = (no: number, name: string, b: Uint8Array) => field(name, ld(no, b), b);
export const byts = (no: number, name: string, bs: Uint8Array[]) => field(name, cat(bs.map((b) => ld(no, b))), bs);
export const i64 = (no: number, name: string, v: bigint) => field(name, cat([key(no, 0), vint(v)]), v);
export const i32 = (no: number, name: string, v: number) => field(name, cat([key(no, 0), vint(v)]), v);
export const f32 = (no: number, name: string, x: number) => field(name, cat([key(no, 5), f32le([x])]), Math.fround(x));
export const i64s = (no: number, name: string, vs: bigint[], packed = false) =>
  field(name, packed ? ld(no, cat(vs.map((v) => vint(v)))) : cat(vs.map((v) => cat([key(no, 0), vint(v)]))), vs);
export const i32s = (no: number, name: string, vs: number[]) => field(name, ld(no, cat(vs.map((v) => vint(v)))), vs);
export const f32s = (no: number, name: string, xs: number[], packed = false) =>
  field(name, packed ? ld(no, f32le(xs)) : cat(xs.map((x) => cat([key(no, 5), f32le([x])]))), xs.map(Math.fround));
export const f64s = (no: number, name: string, xs: number[]) => field(name, ld(no, f64le(xs)), xs);
export const sub = (no: number, name: string, m: Built) => field(name, ld(no, m.bytes), m.value);
export const subs = (no: number, name: string, ms: Built[]) => field(name, cat(ms.map((m) => ld(no, m.bytes))), ms.map((m) => m.value));

/**
 * A message: the fields' bytes in the order given, and the object the decoder should produce (an
 * empty repeated field puts nothing on the wire, so it is absent from the object too).
 */
export function msg(...fields: Field[]): Built {
  const present = fields.filter((f) => !(Array.isArray(f.value) && f.value.length === 0));
  return { bytes: cat(fields.map((f) => f.bytes)), value: Object.fromEntries(present.map((f) => [f.name, f.value])) };
}

export const kv = (k: string, v: string) => msg(str(1, "key", k), str(2, "value", v));
export const INT64_MAX = 2n ** 63n - 1n;
export const INT64_MIN = -(2n ** 63n);

// ---- the model with every post-1.10 field --------------------------------------------------------

export function shape(...dims: (bigint | string)[]): Built {
  return msg(subs(1, "dim", dims.map((d) => (typeof d === "bigint" ? msg(i64(1, "dim_value", d)) : msg(str(2, "dim_param", d), str(3, "denotation", "DATA_BATCH"))))));
}
export const tensorType = (elem: number, ...dims: (bigint | string)[]) => msg(sub(1, "tensor_type", msg(i32(1, "elem_type", elem), sub(2, "shape", shape(...dims)))));

export function rawTensor(name: string, dataType: number, dims: bigint[], raw: number[], meta = false): Built {
  return msg(
    i64s(1, "dims", dims),
    i32(2, "data_type", dataType),
    str(8, "name", name),
    byt(9, "raw_data", Uint8Array.from(raw)),
    ...(meta ? [subs(16, "metadata_props", [kv("origin", name)])] : []),
  );
}

export const everyTensor = msg(
  i64s(1, "dims", [2n, 3n]),
  i32(2, "data_type", DataType.FLOAT),
  sub(3, "segment", msg(i64(1, "begin", 0n), i64(2, "end", 6n))),
  f32s(4, "float_data", [1, -2.5, 3.25, 0, Infinity, -0], true),
  str(8, "name", "every"),
  str(12, "doc_string", "segment + float_data"),
  subs(16, "metadata_props", [kv("quant", "none")]),
);
export const typedTensors = [
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
export const sparse = msg(
  sub(1, "values", msg(i64s(1, "dims", [2n]), i32(2, "data_type", DataType.FLOAT), str(8, "name", "sp"), byt(9, "raw_data", f32le([5, 6])))),
  sub(2, "indices", msg(i64s(1, "dims", [2n]), i32(2, "data_type", DataType.INT64), i64s(7, "int64_data", [1n, 7n], true))),
  i64s(3, "dims", [2n, 4n]),
);
export const typeProtos = [
  tensorType(DataType.FLOAT16, 1n, "batch"),
  msg(sub(4, "sequence_type", msg(sub(1, "elem_type", tensorType(DataType.INT4, 3n)))), str(6, "denotation", "TENSOR")),
  msg(sub(5, "map_type", msg(i32(1, "key_type", DataType.INT64), sub(2, "value_type", tensorType(DataType.FLOAT))))),
  msg(sub(7, "opaque_type", msg(str(1, "domain", "com.example"), str(2, "name", "Blob")))),
  msg(sub(8, "sparse_tensor_type", msg(i32(1, "elem_type", DataType.FLOAT), sub(2, "shape", shape(2n, 4n))))),
  msg(sub(9, "optional_type", msg(sub(1, "elem_type", tensorType(DataType.UINT2))))),
];
export const subgraph = (name: string) =>
  msg(subs(1, "node", [msg(strs(1, "input", ["x"]), strs(2, "output", ["y"]), str(4, "op_type", "Identity"))]), str(2, "name", name));

export const allAttributes = [
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
export const deviceConfig = msg(
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
export const customNode = msg(
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
export const valueInfo = (name: string, type: Built, meta: boolean) =>
  msg(str(1, "name", name), sub(2, "type", type), str(3, "doc_string", `${name} doc`), ...(meta ? [subs(4, "metadata_props", [kv("role", name)])] : []));
export const graph = msg(
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
export const fn = msg(
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
export const everyFieldModel = msg(
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
