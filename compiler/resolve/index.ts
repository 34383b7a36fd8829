// Resolution: the script evaluated at compile time against the model, lowering as it goes.
export { Interpreter, DEFAULT_LIMITS, sliceList, type Limits, type LoadedFile, type ReadRecord, type SaveRecord, type ParamRecord, type InterpreterInput } from "./interpreter.js";
export { BUILTIN_NAMES } from "./builtins.js";
