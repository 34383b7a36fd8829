// Regenerates grammar/cst.ts (the typed CST) from the grammar in grammar/parser.ts.
// Usage: npx tsc -p tsconfig.json && node dist/tools/gen-cst-dts.js

import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cstTypesSource } from "../grammar/cstTypes.js";

// dist/tools/gen-cst-dts.js → <repo>/grammar/cst.ts
const target = fileURLToPath(new URL("../../grammar/cst.ts", import.meta.url));
writeFileSync(target, cstTypesSource());
console.log(`wrote ${target}`);
