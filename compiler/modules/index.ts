// Module tree recovery: `transformer.h[2].mlp` from what the exporter left in the model.
export { Module, ModuleTree, buildModuleTree, displayPath } from "./tree.js";
export { modulePorts, modulePortsByScope, moduleParams, type Port, type ModulePorts, type ParamInfo } from "./ports.js";
export { nodeScope, parsePythonStringList, joinScopeSegments, NAME_SCOPES_KEY } from "./scopes.js";
export { formatTree, moduleToJson, typeText, type ModuleJson, type PortJson } from "./print.js";
