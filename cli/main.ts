#!/usr/bin/env node
// The `intv` executable as tsc's modules (dist/cli/main.js: what the tests run). The installed
// `intv` is the bundle (cli/launch.ts). All the work is in app.ts; process.ts connects it to the
// process.

import { main } from "./process.js";

main(process.argv.slice(2));
