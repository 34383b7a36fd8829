// Decoded ONNX messages as plain objects. Conventions (other folders rely on them):
// - property names are the proto field names (snake_case);
// - int64/uint64 are `bigint`, int32 and enums are `number`, float/double `number`, bytes a
//   `Uint8Array` view into the decoded buffer (never a copy);
// - singular fields are present iff they were on the wire (proto2 presence), and the encoder writes
//   exactly the singular fields that are not `undefined`;
// - repeated fields are arrays, set by the decoder only when at least one element was on the
//   wire; the encoder treats `undefined` as empty.

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: bigint;
}

export interface AttributeProto {
  name?: string;
  ref_attr_name?: string;
  doc_string?: string;
  /** An `AttributeType` value. */
  type?: number;
  f?: number;
  i?: bigint;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparse_tensor?: SparseTensorProto;
  tp?: TypeProto;
  floats?: number[];
  ints?: bigint[];
  strings?: Uint8Array[];
  tensors?: TensorProto[];
  graphs?: GraphProto[];
  sparse_tensors?: SparseTensorProto[];
  type_protos?: TypeProto[];
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
  doc_string?: string;
  metadata_props?: StringStringEntryProto[];
}

export interface NodeProto {
  input?: string[];
  output?: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  attribute?: AttributeProto[];
  doc_string?: string;
  metadata_props?: StringStringEntryProto[];
  device_configurations?: NodeDeviceConfigurationProto[];
}

export interface IntIntListEntryProto {
  key?: bigint;
  value?: bigint[];
}

export interface NodeDeviceConfigurationProto {
  configuration_id?: string;
  sharding_spec?: ShardingSpecProto[];
  pipeline_stage?: number;
}

export interface ShardingSpecProto {
  tensor_name?: string;
  device?: bigint[];
  index_to_device_group_map?: IntIntListEntryProto[];
  sharded_dim?: ShardedDimProto[];
}

export interface ShardedDimProto {
  axis?: bigint;
  simple_sharding?: SimpleShardedDimProto[];
}

/** `dim_value` and `dim_param` form a oneof: at most one is set. */
export interface SimpleShardedDimProto {
  dim_value?: bigint;
  dim_param?: string;
  num_shards?: bigint;
}

export interface TrainingInfoProto {
  initialization?: GraphProto;
  algorithm?: GraphProto;
  initialization_binding?: StringStringEntryProto[];
  update_binding?: StringStringEntryProto[];
}

export interface ModelProto {
  ir_version?: bigint;
  opset_import?: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: bigint;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props?: StringStringEntryProto[];
  training_info?: TrainingInfoProto[];
  functions?: FunctionProto[];
  configuration?: DeviceConfigurationProto[];
}

export interface DeviceConfigurationProto {
  name?: string;
  num_devices?: number;
  device?: string[];
}

export interface TensorAnnotation {
  tensor_name?: string;
  quant_parameter_tensor_names?: StringStringEntryProto[];
}

export interface GraphProto {
  node?: NodeProto[];
  name?: string;
  initializer?: TensorProto[];
  sparse_initializer?: SparseTensorProto[];
  doc_string?: string;
  input?: ValueInfoProto[];
  output?: ValueInfoProto[];
  value_info?: ValueInfoProto[];
  quantization_annotation?: TensorAnnotation[];
  metadata_props?: StringStringEntryProto[];
}

export interface TensorProto_Segment {
  begin?: bigint;
  end?: bigint;
}

export interface TensorProto {
  dims?: bigint[];
  /** A `DataType` value. */
  data_type?: number;
  segment?: TensorProto_Segment;
  float_data?: number[];
  int32_data?: number[];
  string_data?: Uint8Array[];
  int64_data?: bigint[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data?: StringStringEntryProto[];
  /** A `DataLocation` value. */
  data_location?: number;
  double_data?: number[];
  uint64_data?: bigint[];
  metadata_props?: StringStringEntryProto[];
}

export interface SparseTensorProto {
  values?: TensorProto;
  indices?: TensorProto;
  dims?: bigint[];
}

/** `dim_value` and `dim_param` form a oneof: at most one is set. */
export interface TensorShapeProto_Dimension {
  dim_value?: bigint;
  dim_param?: string;
  denotation?: string;
}

export interface TensorShapeProto {
  dim?: TensorShapeProto_Dimension[];
}

export interface TypeProto_Tensor {
  elem_type?: number;
  shape?: TensorShapeProto;
}

export interface TypeProto_Sequence {
  elem_type?: TypeProto;
}

export interface TypeProto_Map {
  key_type?: number;
  value_type?: TypeProto;
}

export interface TypeProto_Optional {
  elem_type?: TypeProto;
}

export interface TypeProto_SparseTensor {
  elem_type?: number;
  shape?: TensorShapeProto;
}

export interface TypeProto_Opaque {
  domain?: string;
  name?: string;
}

/** The `*_type` members form a oneof: at most one is set. */
export interface TypeProto {
  tensor_type?: TypeProto_Tensor;
  sequence_type?: TypeProto_Sequence;
  map_type?: TypeProto_Map;
  optional_type?: TypeProto_Optional;
  sparse_tensor_type?: TypeProto_SparseTensor;
  opaque_type?: TypeProto_Opaque;
  denotation?: string;
}

export interface FunctionProto {
  name?: string;
  input?: string[];
  output?: string[];
  attribute?: string[];
  attribute_proto?: AttributeProto[];
  node?: NodeProto[];
  doc_string?: string;
  opset_import?: OperatorSetIdProto[];
  domain?: string;
  overload?: string;
  value_info?: ValueInfoProto[];
  metadata_props?: StringStringEntryProto[];
}

/** Protobuf type names of the messages above, for the generic `decodeMessage`/`encodeMessage`. */
export interface OnnxMessages {
  "onnx.ModelProto": ModelProto;
  "onnx.GraphProto": GraphProto;
  "onnx.NodeProto": NodeProto;
  "onnx.AttributeProto": AttributeProto;
  "onnx.TensorProto": TensorProto;
  "onnx.SparseTensorProto": SparseTensorProto;
  "onnx.ValueInfoProto": ValueInfoProto;
  "onnx.TypeProto": TypeProto;
  "onnx.TensorShapeProto": TensorShapeProto;
  "onnx.StringStringEntryProto": StringStringEntryProto;
  "onnx.OperatorSetIdProto": OperatorSetIdProto;
  "onnx.FunctionProto": FunctionProto;
  "onnx.TrainingInfoProto": TrainingInfoProto;
  "onnx.DeviceConfigurationProto": DeviceConfigurationProto;
  "onnx.NodeDeviceConfigurationProto": NodeDeviceConfigurationProto;
}

/** `AttributeProto.AttributeType`. */
export const AttributeType = {
  UNDEFINED: 0, FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, SPARSE_TENSOR: 11, TYPE_PROTO: 13,
  FLOATS: 6, INTS: 7, STRINGS: 8, TENSORS: 9, GRAPHS: 10, SPARSE_TENSORS: 12, TYPE_PROTOS: 14,
} as const;

/** `TensorProto.DataLocation`. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

// The element-type table (`DataType`, names, bit widths) is the bottom layer's
// (common/formats/elemTypes.ts), shared with the runtime; the ONNX surface re-exports it.
export { DataType, ELEM_TYPES, elemBits, elemTypeCode, elemTypeName, type DataTypeCode } from "../../common/index.js";
