// The model half of the compiler's public surface: reading and writing ONNX, and a model made
// ready for the compiler (imported to IR, checked for a cycle, typed, its module tree recovered).
// A surface of its own beside compiler/index.ts because that one includes the script parser,
// whose grammar analysis runs when it is loaded (a quarter of a second): `intv inspect` and the
// runtime's static imports come here, so `intv --help` and `intv inspect` never load the parser.

import { importModel, inferTypes, predecessorValues, toposort, type IrModel, type Node } from "./ir/index.js";
import { buildModuleTree, type ModuleTree } from "./modules/index.js";
import { readModelFile, decodeModel, OnnxFormatError, type ModelProto } from "./onnx/index.js";

export {
  encodeModel, decodeModel, readModelFile, writeModelFile, writeModelReference, OnnxFormatError,
  skimModel, skimModelFile, withoutInitializers, tensorRawData,
  type ModelProto, type ModelSkim, type TensorProto, type ValueInfoProto,
} from "./onnx/index.js";
export { formatTree, moduleToJson, moduleTensors, formatTensors, type Module, type ModuleTree, type ModuleJson, type ModuleTensorsJson, type TensorJson } from "./modules/index.js";

/** A model ready for the compiler: IR with types, and its module tree. */
export interface LoadedModel {
  ir: IrModel;
  tree: ModuleTree;
}

/**
 * The model as `compile` takes it: a path to an .onnx file, its bytes, or a decoded ModelProto.
 * Read from a file, its nodes keep their encoding (onnx/keptEncoding.ts) as `keep` says: the
 * compiled model's unchanged nodes are written as they were read (frozen, unless "unfrozen"). Not
 * from bytes: the kept bytes would be views into the caller's buffer, which the caller may reuse.
 */
export async function loadModel(model: string | Uint8Array | ModelProto, keep: boolean | "unfrozen" = true): Promise<ModelProto> {
  if (typeof model === "string") return (await readModelFile(model, { keepNodeEncodings: keep })).model;
  if (model instanceof Uint8Array) return decodeModel(model);
  return model;
}

export function prepareModel(proto: ModelProto): LoadedModel {
  const ir = importModel(proto);
  // A graph that is cyclic already is not a valid model: say so here, or the cycle check blamed
  // the script's patches for it (found by test/reliability-models.test.ts).
  // One topological order for the cycle check, type inference and module recovery.
  const { order, cyclic } = toposort(ir.graph);
  if (cyclic.length > 0) {
    const node = nodeOnCycle(cyclic);
    throw new OnnxFormatError(`the graph has a cycle: node \`${node.proto.name || node.proto.op_type}\` depends on its own output; a valid ONNX graph has none`);
  }
  inferTypes(ir.graph, order);
  return { ir, tree: buildModuleTree(ir, order) };
}

/** A node on a cycle, given the nodes a topological sort left over (on or behind a cycle). */
function nodeOnCycle(cyclic: Node[]): Node {
  const left = new Set(cyclic);
  const seen = new Set<Node>();
  let node = cyclic[0]!;
  while (!seen.has(node)) {
    seen.add(node);
    const from = [...predecessorValues(node)].map((v) => v.producer).find((p): p is Node => !!p && left.has(p));
    if (!from) break;
    node = from;
  }
  return node;
}
