// Resolution: the script evaluated at compile time against the model, lowering and splicing as it
// goes (resolve.ts). Statements and expressions are statements.ts and expressions.ts; built-in
// functions are the table in builtins/index.ts.
export { resolve } from "./resolve.js";
export type { LoadedFile, ParamRecord, ReadRecord, ResolveInput, Resolution, SaveRecord } from "./resolution.js";
export { sliceList } from "./lists.js";
export { BUILTINS, BUILTIN_NAMES, type Builtin, type BuiltinCall, type BuiltinContext } from "./builtins/index.js";
