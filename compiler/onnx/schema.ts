// The ONNX schema, loaded once with protobufjs and flattened into plain descriptor tables that the
// decoder and encoder walk. protobufjs gives us the parsed, resolved reflection types; we do the
// wire format ourselves because its generated decoders skip unknown fields silently and turn
// int64 into lossy numbers or `Long`s.

import protobuf from "protobufjs";
import { onnxProtoText } from "./onnxProtoText.js";

export type ScalarType =
  | "double" | "float"
  | "int32" | "uint32" | "sint32" | "fixed32" | "sfixed32"
  | "int64" | "uint64" | "sint64" | "fixed64" | "sfixed64"
  | "bool" | "string" | "bytes";

/** Protobuf wire types. Groups (3, 4) do not occur in ONNX. */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

export interface FieldDesc {
  readonly name: string;
  readonly id: number;
  readonly kind: "scalar" | "enum" | "message";
  /** Wire encoding of one element; enums are `int32`, messages `bytes`-like. */
  readonly scalar: ScalarType;
  readonly repeated: boolean;
  /** Declared `[packed = true]`: how the encoder writes it (the decoder accepts either form). */
  readonly packed: boolean;
  /** Can be packed on the wire: repeated numeric (non-LEN) fields. */
  readonly packable: boolean;
  /** Wire type of one unpacked element. */
  readonly wireType: number;
  /** Varint bytes of the tag for one unpacked element, and for the packed form. */
  readonly tagBytes: Uint8Array;
  readonly packedTagBytes: Uint8Array;
  /** Set for message fields (linked after all messages exist). */
  message: MessageDesc | undefined;
  /** Set for enum fields. */
  readonly enumName: string | undefined;
  readonly enumValues: ReadonlySet<number> | undefined;
  /** Other members of the oneof this field belongs to (setting one clears the others). */
  readonly oneofOthers: readonly string[];
  /**
   * A weight's bytes (`TensorProto.raw_data`): decoded from a file, a large value is left in the
   * file as a FileRange (decode.ts) and the encoder copies it from there.
   */
  readonly lazy: boolean;
}

export interface MessageDesc {
  /** Full name without the leading dot: `onnx.NodeProto`. */
  readonly name: string;
  /** In ascending field-number order, the order protobuf C++ writes them in. */
  readonly fields: readonly FieldDesc[];
  /** Indexed by field number (sparse). */
  readonly byId: readonly (FieldDesc | undefined)[];
  readonly byName: ReadonlyMap<string, FieldDesc>;
  readonly reservedIds: readonly (readonly [number, number])[];
}

const SCALAR_WIRE: Record<ScalarType, number> = {
  double: WireType.I64, fixed64: WireType.I64, sfixed64: WireType.I64,
  float: WireType.I32, fixed32: WireType.I32, sfixed32: WireType.I32,
  int32: WireType.VARINT, uint32: WireType.VARINT, sint32: WireType.VARINT,
  int64: WireType.VARINT, uint64: WireType.VARINT, sint64: WireType.VARINT,
  bool: WireType.VARINT,
  string: WireType.LEN, bytes: WireType.LEN,
};

function varintBytes(n: number): Uint8Array {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Uint8Array.from(out);
}

let cache: { root: protobuf.Root; messages: Map<string, MessageDesc> } | undefined;

function load(): { root: protobuf.Root; messages: Map<string, MessageDesc> } {
  if (cache !== undefined) return cache;
  const root = protobuf.parse(onnxProtoText, { keepCase: true }).root;
  root.resolveAll();

  const types: protobuf.Type[] = [];
  const collect = (ns: protobuf.NamespaceBase): void => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) types.push(nested);
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) collect(nested);
    }
  };
  collect(root);

  const messages = new Map<string, MessageDesc>();
  const links: [FieldDesc, string][] = [];
  for (const type of types) {
    const name = type.fullName.replace(/^\./, "");
    const fields: FieldDesc[] = [];
    for (const field of Object.values(type.fieldsById)) {
      const resolved = field.resolvedType;
      const kind = resolved instanceof protobuf.Type ? "message" : resolved instanceof protobuf.Enum ? "enum" : "scalar";
      const scalar: ScalarType = kind === "scalar" ? (field.type as ScalarType) : kind === "enum" ? "int32" : "bytes";
      if (!(scalar in SCALAR_WIRE)) throw new Error(`onnx.proto: unsupported field type ${field.type} of ${name}.${field.name}`);
      const wireType = SCALAR_WIRE[scalar];
      const packable = field.repeated && wireType !== WireType.LEN;
      const oneof = field.partOf;
      const desc: FieldDesc = {
        name: field.name,
        id: field.id,
        kind,
        scalar,
        repeated: field.repeated,
        packed: packable && field.packed,
        packable,
        wireType,
        tagBytes: varintBytes(((field.id << 3) | wireType) >>> 0),
        packedTagBytes: varintBytes(((field.id << 3) | WireType.LEN) >>> 0),
        message: undefined,
        enumName: resolved instanceof protobuf.Enum ? resolved.fullName.replace(/^\./, "") : undefined,
        enumValues: resolved instanceof protobuf.Enum ? new Set(Object.values(resolved.values)) : undefined,
        oneofOthers: oneof ? oneof.fieldsArray.map((f) => f.name).filter((n) => n !== field.name) : [],
        lazy: name === "onnx.TensorProto" && field.name === "raw_data",
      };
      if (resolved instanceof protobuf.Type) links.push([desc, resolved.fullName.replace(/^\./, "")]);
      fields.push(desc);
    }
    fields.sort((a, b) => a.id - b.id);
    const byId: (FieldDesc | undefined)[] = [];
    for (const f of fields) byId[f.id] = f;
    const reservedIds = (type.reserved ?? []).filter((r): r is number[] => Array.isArray(r)).map((r) => [r[0]!, r[1]!] as const);
    messages.set(name, { name, fields, byId, byName: new Map(fields.map((f) => [f.name, f])), reservedIds });
  }
  for (const [desc, target] of links) desc.message = messages.get(target);
  cache = { root, messages };
  return cache;
}

/** The descriptor of a message type by full name (`onnx.ModelProto`); throws on an unknown name. */
export function messageDesc(name: string): MessageDesc {
  const desc = load().messages.get(name);
  if (desc === undefined) throw new Error(`no message type \`${name}\` in onnx.proto`);
  return desc;
}

/** The parsed protobufjs root, for callers that want reflection (enum names, options). */
export function onnxRoot(): protobuf.Root {
  return load().root;
}

export function isReserved(desc: MessageDesc, id: number): boolean {
  return desc.reservedIds.some(([lo, hi]) => id >= lo && id <= hi);
}
