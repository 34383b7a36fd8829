// Splicing: passes as copies of the model's computation, ports, patches and saves.
export { PassState, type PatchRecord } from "./passes.js";
export { SlotIds, covers, type PortRef, type PortInstance } from "./ports.js";
export { copyMainGraph, type GraphCopy } from "./clone.js";
