// Import rules, checked by `npm run lint` (dependency-cruiser): no cycles, type-only imports
// included; layers import downward only; a folder is entered through its index.ts.
//
//   common/    diagnostics, formats, atomic writes: imports none of the others
//   grammar/   imports common/
//   compiler/  imports common/ and grammar/; never runtime/ or cli/
//   runtime/   imports common/, and the compiler only through compiler/index.ts
//   cli/       imports the others through their index.ts
/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      severity: "error",
      comment: "Two modules that need each other are one module, or a missing lower layer.",
      from: {},
      to: { circular: true },
    },
    {
      name: "common-is-the-bottom",
      severity: "error",
      comment: "common/ is used by every layer, so it imports none of them.",
      from: { path: "^common/" },
      to: { path: "^(grammar|compiler|runtime|cli|test|tools|bench)/" },
    },
    {
      name: "grammar-above-common-only",
      severity: "error",
      from: { path: "^grammar/" },
      to: { path: "^(compiler|runtime|cli)/" },
    },
    {
      name: "compiler-below-runtime-and-cli",
      severity: "error",
      from: { path: "^compiler/" },
      to: { path: "^(runtime|cli)/" },
    },
    {
      name: "runtime-uses-the-compiler-api",
      severity: "error",
      comment: "The runtime reaches the compiler through its public surface, compiler/index.ts.",
      from: { path: "^runtime/" },
      to: { path: "^(compiler/(?!index\\.ts$)|cli/)" },
    },
    {
      name: "enter-common-by-its-index",
      severity: "error",
      from: { path: "^(grammar|compiler|runtime|cli|index\\.ts)" },
      to: { path: "^common/", pathNot: "^common/index\\.ts$" },
    },
    {
      name: "enter-a-compiler-folder-by-its-index",
      severity: "error",
      comment: "Inside compiler/, one folder uses another's public surface, its index.ts.",
      from: { path: "^compiler/([^/]+)/" },
      to: { path: "^compiler/[^/]+/", pathNot: ["^compiler/$1/", "^compiler/[^/]+/index\\.ts$"] },
    },
    {
      name: "compiler-driver-uses-folder-indexes",
      severity: "error",
      from: { path: "^compiler/[^/]+\\.ts$" },
      to: { path: "^compiler/[^/]+/", pathNot: "^compiler/[^/]+/index\\.ts$" },
    },
    {
      name: "cli-uses-public-surfaces",
      severity: "error",
      from: { path: "^cli/" },
      to: { path: "^(compiler|runtime|grammar)/", pathNot: "^(compiler|runtime|grammar)/index\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules|examples)/" },
    // Type-only imports are dependencies too: a cycle of types is still two modules that need each other.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
