// Module tree recovery: `transformer.h[2].mlp` from what the exporter left in the model.
export { Module, ModuleTree, buildModuleTree, displayPath } from "./tree.js";
export { Origins, type Origin } from "./dataflow.js";
export { bodyScopes, homeScope, modulePorts, modulePortsByScope, nodesIn, moduleParams, primaryPort, type Port, type ModulePorts, type ParamInfo, type PortChoice, type Refusal } from "./ports.js";
export { nodeScope, parsePythonStringList, joinScopeSegments, scopeStack, NAME_SCOPES_KEY } from "./scopes.js";
export { frozenEdges, liveEdges, type Edges } from "./edges.js";
export { foldedConvOf, isParameterName, type FoldedConv } from "./folds.js";
export { formatTree, moduleToJson, typeText, type ModuleJson, type PortJson } from "./print.js";
export { moduleTensors, formatTensors, type ModuleTensorsJson, type TensorJson } from "./tensors.js";
