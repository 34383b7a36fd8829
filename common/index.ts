// The bottom layer: what the grammar, the compiler, the runtime and the command line all use, and
// which imports none of them. Diagnostics (data, rendering, "did you mean", the table of codes),
// data formats (element types, float16, tensors, `.npy`, the manifest), atomic file writes and
// copies made in the background.

export * from "./diagnostics/index.js";
export * from "./formats/index.js";
export {
  commitTemporary, removeStaleTemporaries, temporaryPath, writeAtomically, writeTemporary, STALE_TEMPORARY_MS, type FileData, type OpenFile, type WriteOptions,
} from "./atomicWrite.js";
export { nodeChildProcess, nodeCrypto } from "./builtins.js";
export { BACKGROUND_COPY_MIN, BackgroundCopy, beginCopy, startBackgroundCopy, type FileIdentity, type StartedCopy } from "./backgroundCopy.js";
