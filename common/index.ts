// The bottom layer: what the grammar, the compiler, the runtime and the command line all use, and
// which imports none of them. Diagnostics (data, rendering, "did you mean", the table of codes),
// data formats (element types, float16, tensors, `.npy`, the manifest) and atomic file writes.

export * from "./diagnostics/index.js";
export * from "./formats/index.js";
export { commitTemporary, writeAtomically, writeTemporary, type FileData, type OpenFile, type WriteOptions } from "./atomicWrite.js";
export { nodeChildProcess, nodeCrypto } from "./builtins.js";
