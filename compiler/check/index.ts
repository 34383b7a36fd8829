// Checks after splicing: cycles (errors), dead code removal, and warnings.
export { checkCycles } from "./cycles.js";
export { removeDead, liveNodes } from "./dead.js";
export { laterPatchWarnings, unreachedPatchWarnings, unusedParamWarnings } from "./warnings.js";
