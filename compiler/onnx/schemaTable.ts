// Generated from onnx.proto by `buildSchemaTable` (reflection.ts). Do not edit: change onnx.proto,
// then run the ONNX I/O tests with INTV_REGEN=1 to rewrite this file (and onnxProtoText.ts).

/** `flags` bits of a field. */
export const REPEATED = 1;
/** Declared `[packed = true]`. */
export const PACKED = 2;

/** A field: name, number, type (a scalar type, or a message or enum by full name), flags, oneof. */
export type TableField = [name: string, id: number, type: string, flags: number, oneof?: string];

export interface SchemaTable {
  messages: Record<string, { fields: TableField[]; reserved: [number, number][] }>;
  /** The values of each enum, ascending. */
  enums: Record<string, number[]>;
}

export const schemaTable: SchemaTable = {
  messages: {
    "onnx.AttributeProto": {
      fields: [
        ["name", 1, "string", 0],
        ["f", 2, "float", 0],
        ["i", 3, "int64", 0],
        ["s", 4, "bytes", 0],
        ["t", 5, "onnx.TensorProto", 0],
        ["g", 6, "onnx.GraphProto", 0],
        ["floats", 7, "float", 1],
        ["ints", 8, "int64", 1],
        ["strings", 9, "bytes", 1],
        ["tensors", 10, "onnx.TensorProto", 1],
        ["graphs", 11, "onnx.GraphProto", 1],
        ["doc_string", 13, "string", 0],
        ["tp", 14, "onnx.TypeProto", 0],
        ["type_protos", 15, "onnx.TypeProto", 1],
        ["type", 20, "onnx.AttributeProto.AttributeType", 0],
        ["ref_attr_name", 21, "string", 0],
        ["sparse_tensor", 22, "onnx.SparseTensorProto", 0],
        ["sparse_tensors", 23, "onnx.SparseTensorProto", 1],
      ],
      reserved: [[12, 12], [16, 19]],
    },
    "onnx.ValueInfoProto": {
      fields: [
        ["name", 1, "string", 0],
        ["type", 2, "onnx.TypeProto", 0],
        ["doc_string", 3, "string", 0],
        ["metadata_props", 4, "onnx.StringStringEntryProto", 1],
      ],
      reserved: [],
    },
    "onnx.NodeProto": {
      fields: [
        ["input", 1, "string", 1],
        ["output", 2, "string", 1],
        ["name", 3, "string", 0],
        ["op_type", 4, "string", 0],
        ["attribute", 5, "onnx.AttributeProto", 1],
        ["doc_string", 6, "string", 0],
        ["domain", 7, "string", 0],
        ["overload", 8, "string", 0],
        ["metadata_props", 9, "onnx.StringStringEntryProto", 1],
        ["device_configurations", 10, "onnx.NodeDeviceConfigurationProto", 1],
      ],
      reserved: [],
    },
    "onnx.IntIntListEntryProto": {
      fields: [
        ["key", 1, "int64", 0],
        ["value", 2, "int64", 1],
      ],
      reserved: [],
    },
    "onnx.NodeDeviceConfigurationProto": {
      fields: [
        ["configuration_id", 1, "string", 0],
        ["sharding_spec", 2, "onnx.ShardingSpecProto", 1],
        ["pipeline_stage", 3, "int32", 0],
      ],
      reserved: [],
    },
    "onnx.ShardingSpecProto": {
      fields: [
        ["tensor_name", 1, "string", 0],
        ["device", 2, "int64", 1],
        ["index_to_device_group_map", 3, "onnx.IntIntListEntryProto", 1],
        ["sharded_dim", 4, "onnx.ShardedDimProto", 1],
      ],
      reserved: [],
    },
    "onnx.ShardedDimProto": {
      fields: [
        ["axis", 1, "int64", 0],
        ["simple_sharding", 2, "onnx.SimpleShardedDimProto", 1],
      ],
      reserved: [],
    },
    "onnx.SimpleShardedDimProto": {
      fields: [
        ["dim_value", 1, "int64", 0, "dim"],
        ["dim_param", 2, "string", 0, "dim"],
        ["num_shards", 3, "int64", 0],
      ],
      reserved: [],
    },
    "onnx.TrainingInfoProto": {
      fields: [
        ["initialization", 1, "onnx.GraphProto", 0],
        ["algorithm", 2, "onnx.GraphProto", 0],
        ["initialization_binding", 3, "onnx.StringStringEntryProto", 1],
        ["update_binding", 4, "onnx.StringStringEntryProto", 1],
      ],
      reserved: [],
    },
    "onnx.ModelProto": {
      fields: [
        ["ir_version", 1, "int64", 0],
        ["producer_name", 2, "string", 0],
        ["producer_version", 3, "string", 0],
        ["domain", 4, "string", 0],
        ["model_version", 5, "int64", 0],
        ["doc_string", 6, "string", 0],
        ["graph", 7, "onnx.GraphProto", 0],
        ["opset_import", 8, "onnx.OperatorSetIdProto", 1],
        ["metadata_props", 14, "onnx.StringStringEntryProto", 1],
        ["training_info", 20, "onnx.TrainingInfoProto", 1],
        ["functions", 25, "onnx.FunctionProto", 1],
        ["configuration", 26, "onnx.DeviceConfigurationProto", 1],
      ],
      reserved: [],
    },
    "onnx.DeviceConfigurationProto": {
      fields: [
        ["name", 1, "string", 0],
        ["num_devices", 2, "int32", 0],
        ["device", 3, "string", 1],
      ],
      reserved: [],
    },
    "onnx.StringStringEntryProto": {
      fields: [
        ["key", 1, "string", 0],
        ["value", 2, "string", 0],
      ],
      reserved: [],
    },
    "onnx.TensorAnnotation": {
      fields: [
        ["tensor_name", 1, "string", 0],
        ["quant_parameter_tensor_names", 2, "onnx.StringStringEntryProto", 1],
      ],
      reserved: [],
    },
    "onnx.GraphProto": {
      fields: [
        ["node", 1, "onnx.NodeProto", 1],
        ["name", 2, "string", 0],
        ["initializer", 5, "onnx.TensorProto", 1],
        ["doc_string", 10, "string", 0],
        ["input", 11, "onnx.ValueInfoProto", 1],
        ["output", 12, "onnx.ValueInfoProto", 1],
        ["value_info", 13, "onnx.ValueInfoProto", 1],
        ["quantization_annotation", 14, "onnx.TensorAnnotation", 1],
        ["sparse_initializer", 15, "onnx.SparseTensorProto", 1],
        ["metadata_props", 16, "onnx.StringStringEntryProto", 1],
      ],
      reserved: [[3, 3], [4, 4], [6, 9]],
    },
    "onnx.TensorProto": {
      fields: [
        ["dims", 1, "int64", 1],
        ["data_type", 2, "int32", 0],
        ["segment", 3, "onnx.TensorProto.Segment", 0],
        ["float_data", 4, "float", 3],
        ["int32_data", 5, "int32", 3],
        ["string_data", 6, "bytes", 1],
        ["int64_data", 7, "int64", 3],
        ["name", 8, "string", 0],
        ["raw_data", 9, "bytes", 0],
        ["double_data", 10, "double", 3],
        ["uint64_data", 11, "uint64", 3],
        ["doc_string", 12, "string", 0],
        ["external_data", 13, "onnx.StringStringEntryProto", 1],
        ["data_location", 14, "onnx.TensorProto.DataLocation", 0],
        ["metadata_props", 16, "onnx.StringStringEntryProto", 1],
      ],
      reserved: [],
    },
    "onnx.TensorProto.Segment": {
      fields: [
        ["begin", 1, "int64", 0],
        ["end", 2, "int64", 0],
      ],
      reserved: [],
    },
    "onnx.SparseTensorProto": {
      fields: [
        ["values", 1, "onnx.TensorProto", 0],
        ["indices", 2, "onnx.TensorProto", 0],
        ["dims", 3, "int64", 1],
      ],
      reserved: [],
    },
    "onnx.TensorShapeProto": {
      fields: [
        ["dim", 1, "onnx.TensorShapeProto.Dimension", 1],
      ],
      reserved: [],
    },
    "onnx.TensorShapeProto.Dimension": {
      fields: [
        ["dim_value", 1, "int64", 0, "value"],
        ["dim_param", 2, "string", 0, "value"],
        ["denotation", 3, "string", 0],
      ],
      reserved: [],
    },
    "onnx.TypeProto": {
      fields: [
        ["tensor_type", 1, "onnx.TypeProto.Tensor", 0, "value"],
        ["sequence_type", 4, "onnx.TypeProto.Sequence", 0, "value"],
        ["map_type", 5, "onnx.TypeProto.Map", 0, "value"],
        ["denotation", 6, "string", 0],
        ["opaque_type", 7, "onnx.TypeProto.Opaque", 0, "value"],
        ["sparse_tensor_type", 8, "onnx.TypeProto.SparseTensor", 0, "value"],
        ["optional_type", 9, "onnx.TypeProto.Optional", 0, "value"],
      ],
      reserved: [],
    },
    "onnx.TypeProto.Tensor": {
      fields: [
        ["elem_type", 1, "int32", 0],
        ["shape", 2, "onnx.TensorShapeProto", 0],
      ],
      reserved: [],
    },
    "onnx.TypeProto.Sequence": {
      fields: [
        ["elem_type", 1, "onnx.TypeProto", 0],
      ],
      reserved: [],
    },
    "onnx.TypeProto.Map": {
      fields: [
        ["key_type", 1, "int32", 0],
        ["value_type", 2, "onnx.TypeProto", 0],
      ],
      reserved: [],
    },
    "onnx.TypeProto.Optional": {
      fields: [
        ["elem_type", 1, "onnx.TypeProto", 0],
      ],
      reserved: [],
    },
    "onnx.TypeProto.SparseTensor": {
      fields: [
        ["elem_type", 1, "int32", 0],
        ["shape", 2, "onnx.TensorShapeProto", 0],
      ],
      reserved: [],
    },
    "onnx.TypeProto.Opaque": {
      fields: [
        ["domain", 1, "string", 0],
        ["name", 2, "string", 0],
      ],
      reserved: [],
    },
    "onnx.OperatorSetIdProto": {
      fields: [
        ["domain", 1, "string", 0],
        ["version", 2, "int64", 0],
      ],
      reserved: [],
    },
    "onnx.FunctionProto": {
      fields: [
        ["name", 1, "string", 0],
        ["input", 4, "string", 1],
        ["output", 5, "string", 1],
        ["attribute", 6, "string", 1],
        ["node", 7, "onnx.NodeProto", 1],
        ["doc_string", 8, "string", 0],
        ["opset_import", 9, "onnx.OperatorSetIdProto", 1],
        ["domain", 10, "string", 0],
        ["attribute_proto", 11, "onnx.AttributeProto", 1],
        ["value_info", 12, "onnx.ValueInfoProto", 1],
        ["overload", 13, "string", 0],
        ["metadata_props", 14, "onnx.StringStringEntryProto", 1],
      ],
      reserved: [[2, 2], [3, 3]],
    },
  },
  enums: {
    "onnx.Version": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    "onnx.AttributeProto.AttributeType": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    "onnx.TensorProto.DataType": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26],
    "onnx.TensorProto.DataLocation": [0, 1],
    "onnx.OperatorStatus": [0, 1],
  },
};
