// ONNX codec tests: the schema, lossless decode/encode of every post-1.10 field, byte-exact round
// trips of real exports, strictness on bad input, determinism and zero-copy weights.
//
// Wire bytes are built by hand, field number by field number (the `msg`/`str`/... builder in
// onnx-wire.ts), so the decoder is checked against bytes our encoder had no part in.

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
import { INT64_MAX, byt, cat, everyFieldModel, i32, i64, i64s, f32s, key, ld, msg, str, sub, subs, tensorType, utf8, vint } from "./onnx-wire.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const FIXTURES = path.join(ROOT, "test", "fixtures");

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
    // onnx/onnx's own backend test models (tools/fixtures/onnx_backend.sh; SOURCE names the commit).
    assert.ok(files.filter((f) => f.includes(path.join("onnx-io", "backend", ""))).length >= 140);
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
    // Encoded surrogates and overlong forms are invalid too (a lenient decoder turns them into U+FFFD).
    for (const bytes of [[0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe0, 0x80, 0xaf]]) {
      const odd = cat([key(3, 2), vint(bytes.length + 1), Uint8Array.from([0x61, ...bytes])]);
      formatError(() => decodeMessage("onnx.NodeProto", odd), /invalid UTF-8 in field `name`/);
    }
  });

  test("a string's own U+FFFD, other non-ASCII text and a byte-order mark are kept as they are", () => {
    for (const name of ["a\uFFFDb", "\uFFFD", "h\u00e9llo w\u00f6rld \u4e16\u754c \u{1F600}", "\uFEFFlead"]) {
      const bytes = utf8.encode(name);
      const node = decodeMessage("onnx.NodeProto", cat([key(3, 2), vint(bytes.length), bytes]));
      assert.equal(node.name, name);
    }
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

  test("fields in any property order, of plain objects or not, give the same bytes", () => {
    const plain: ModelProto = { ir_version: 8n, producer_name: "p", graph: { name: "g", node: [{ input: ["x"], output: ["y"], name: "n", op_type: "Relu" }] } };
    const expected = encodeModel(plain);
    // Out of field order: the schema's order is written all the same.
    assert.deepStrictEqual(encodeModel({ graph: { node: [{ op_type: "Relu", name: "n", output: ["y"], input: ["x"] }], name: "g" }, producer_name: "p", ir_version: 8n }), expected);
    // A class whose fields are getters on its prototype, and an object without a prototype.
    class Node {
      get op_type(): string {
        return "Relu";
      }
      name = "n";
      input = ["x"];
      output = ["y"];
    }
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { name: "g", node: [new Node()] });
    assert.deepStrictEqual(encodeModel({ ir_version: 8n, producer_name: "p", graph: bare }), expected);
    // Something added to Object.prototype is not a field of every message.
    (Object.prototype as Record<string, unknown>).intvPolluted = 1;
    try {
      assert.deepStrictEqual(encodeModel(plain), expected);
    } finally {
      delete (Object.prototype as Record<string, unknown>).intvPolluted;
    }
    // An own property the schema does not have is refused, in a class instance too.
    const typo = Object.assign(new Node(), { opType: "Relu" });
    encodeError({ graph: { node: [typo] } }, /^graph\.node\[0\]\.opType: onnx\.NodeProto has no field `opType`$/);
  });
});
